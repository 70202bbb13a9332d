"""jaxtherm: steady states, heat currents, power and entropy production of open quantum systems,
batched and differentiable with JAX.

Units ħ = k_B = 1. ``J_j = Tr(H L_j ρ)`` is the heat from bath j into the system,
``P`` the power from non-thermal channels (``Σ_j J_j + P = 0``), ``σ = −Σ_j β_j J_j``.

Example:
    >>> import jaxtherm
    >>> model = jaxtherm.models.get("qubit_pair", coupling="incoherent")
    >>> out = jaxtherm.solve(model, omega_a=1.0, omega_b=1.0, T_a=2.0, T_b=1.0,
    ...                      gamma_a=1.0, gamma_b=1.0, epsilon=0.1)
    >>> float(out["J_a"]) > 0   # heat flows out of the hot bath
    True
"""

from jaxtherm import (
    _config,  # noqa: F401  (enables float64 before anything is traced)
    models,
    solvers,
)
from jaxtherm._config import single_threaded_lapack
from jaxtherm._version import __version__
from jaxtherm.kernel.batch import batched_kernel, gradient_name, scalar_observables, solve
from jaxtherm.models import (
    COUPLINGS,
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
    absorption_refrigerator,
    local_thermalizer,
    oscillator_pair,
    qubit_chain,
    qubit_pair,
)
from jaxtherm.physics import operators, spectra
from jaxtherm.solvers import (
    STATUS_DOMAIN,
    STATUS_INACCURATE,
    STATUS_MEANINGS,
    STATUS_NONFINITE,
    STATUS_NOT_POSITIVE,
    STATUS_OK,
    STATUS_SINGULAR,
    STATUS_UNCONVERGED,
    Auto,
    Dense,
    Reduced,
    symmetry_sector,
)


def __getattr__(name: str):
    """``jaxtherm.open``, ``jaxtherm.info`` (``jaxtherm.io.read``), ``jaxtherm.plot``
    (``jaxtherm.cli.plot``) and ``jaxtherm.optimize`` (``jaxtherm.design.optimize``), imported on
    first use: plotting needs the ``[analysis]`` extra, optimising the ``[optimize]`` one (optax)."""
    if name in ("open", "info"):
        from jaxtherm.io import read as results

        return getattr(results, name)
    if name == "plot":
        from jaxtherm.cli.plot import plot

        return plot
    if name == "optimize":
        from jaxtherm.design.optimize import optimize

        return optimize
    raise AttributeError(f"module 'jaxtherm' has no attribute {name!r}")


__all__ = [
    "COUPLINGS",
    "STATUS_DOMAIN",
    "STATUS_INACCURATE",
    "STATUS_MEANINGS",
    "STATUS_NONFINITE",
    "STATUS_NOT_POSITIVE",
    "STATUS_OK",
    "STATUS_SINGULAR",
    "STATUS_UNCONVERGED",
    "Alias",
    "Auto",
    "Bath",
    "Davies",
    "Dense",
    "Derived",
    "Expectation",
    "Lindblad",
    "Model",
    "Parameter",
    "Redfield",
    "Reduced",
    "Term",
    "ULE",
    "__version__",
    "absorption_refrigerator",
    "batched_kernel",
    "gradient_name",
    "info",
    "local_thermalizer",
    "models",
    "open",
    "operators",
    "optimize",
    "oscillator_pair",
    "plot",
    "qubit_chain",
    "qubit_pair",
    "scalar_observables",
    "single_threaded_lapack",
    "solve",
    "solvers",
    "spectra",
    "symmetry_sector",
]
