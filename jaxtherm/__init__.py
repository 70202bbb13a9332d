"""jaxtherm: steady states, heat currents, power and entropy production of open quantum systems,
batched and differentiable with JAX.

Units ħ = k_B = 1. ``J_j = Tr(H L_j ρ)`` is the heat from bath j into the system,
``P`` the power from non-thermal channels (``Σ_j J_j + P = 0``), ``σ = −Σ_j β_j J_j``.

Example:
    >>> import jaxtherm
    >>> model = jaxtherm.qubit_pair("incoherent")
    >>> out = jaxtherm.solve(model, omega_a=1.0, omega_b=1.0, T_a=2.0, T_b=1.0,
    ...                      gamma_a=1.0, gamma_b=1.0, epsilon=0.1)
    >>> float(out["J_a"]) > 0   # heat flows out of the hot bath
    True
"""

from . import config as _config  # noqa: F401  (enables float64 before anything is traced)
from .batch import batched_kernel, gradient_name, solve
from .models import COUPLINGS, Bath, Davies, Expectation, Lindblad, Model, Term, local_thermalizer, qubit_pair
from .observables import scalar_observables
from .sector import symmetry_sector
from .steady_state import STATUS_INACCURATE, STATUS_MEANINGS, STATUS_NONFINITE, STATUS_OK, STATUS_SINGULAR

__version__ = "0.1.0"

__all__ = [
    "COUPLINGS",
    "STATUS_INACCURATE",
    "STATUS_MEANINGS",
    "STATUS_NONFINITE",
    "STATUS_OK",
    "STATUS_SINGULAR",
    "Bath",
    "Davies",
    "Expectation",
    "Lindblad",
    "Model",
    "Term",
    "__version__",
    "batched_kernel",
    "gradient_name",
    "local_thermalizer",
    "qubit_pair",
    "scalar_observables",
    "solve",
    "symmetry_sector",
]
