"""Models: immutable descriptions of open quantum systems built from operators."""

from .base import Bath, Davies, Expectation, Lindblad, Model, Term, parameter
from .qubit_pair import COUPLINGS, qubit_pair
from .thermalizers import local_thermalizer

__all__ = [
    "COUPLINGS",
    "Bath",
    "Davies",
    "Expectation",
    "Lindblad",
    "Model",
    "Term",
    "local_thermalizer",
    "parameter",
    "qubit_pair",
]
