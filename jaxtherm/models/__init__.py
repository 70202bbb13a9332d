"""Models: immutable descriptions of open quantum systems built from operators, their metadata,
and the registry of built-in families (``get(name, **options)``, ``available()``)."""

from jaxtherm.models._model import (
    ULE,
    Alias,
    Bath,
    Davies,
    Derived,
    Expectation,
    Lindblad,
    Model,
    Parameter,
    Redfield,
    Term,
    parameter,
    share_observables,
)
from jaxtherm.models.absorption_refrigerator import absorption_refrigerator
from jaxtherm.models.oscillators import oscillator_pair
from jaxtherm.models.qubit_chain import qubit_chain
from jaxtherm.models.qubit_pair import COUPLINGS, qubit_pair
from jaxtherm.models.registry import FactoryError, UnknownOption, available, from_factory, get, load_factory, options, register
from jaxtherm.models.thermalizers import OptionError, local_thermalizer

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
    "Redfield",
    "Term",
    "ULE",
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
    "share_observables",
]
