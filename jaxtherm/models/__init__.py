"""Models: immutable descriptions of open quantum systems built from operators, their metadata,
and the registry of built-in families (``get(name, **options)``, ``available()``)."""

from ._model import Alias, Bath, Davies, Derived, Expectation, Lindblad, Model, Parameter, Term, parameter
from .absorption_refrigerator import absorption_refrigerator
from .oscillators import oscillator_pair
from .qubit_chain import qubit_chain
from .qubit_pair import COUPLINGS, qubit_pair
from .registry import FactoryError, UnknownOption, available, from_factory, get, load_factory, options, register
from .thermalizers import OptionError, local_thermalizer

__all__ = [
    "COUPLINGS",
    "Alias",
    "Bath",
    "Davies",
    "Derived",
    "Expectation",
    "FactoryError",
    "Lindblad",
    "Model",
    "OptionError",
    "Parameter",
    "Term",
    "UnknownOption",
    "absorption_refrigerator",
    "available",
    "from_factory",
    "get",
    "load_factory",
    "local_thermalizer",
    "options",
    "oscillator_pair",
    "parameter",
    "qubit_chain",
    "qubit_pair",
    "register",
]
