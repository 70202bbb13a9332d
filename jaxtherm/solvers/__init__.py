"""The choice of a steady-state solver for a model: solver objects (``Dense``, ``Reduced``,
``Auto``, or a name through ``get``) make a ``Plan`` (the sector's coordinates, the basis and an
elimination) from a model's structure (``solver``); symmetry sectors (``sector``).

For convenience this package also re-exports the eliminations (``LU``, ``Unrolled``,
``StaticPivots``, ``Staged``, from ``jaxtherm.linalg``) and the status codes (from
``jaxtherm.status``), so that ``jaxtherm.solvers.LU()`` names an elimination."""

from jaxtherm.linalg.elimination import Coo, Elimination, Sparse, eliminate_trace, restore_trace
from jaxtherm.linalg.krylov import Krylov
from jaxtherm.linalg.lu import LU
from jaxtherm.linalg.staged import Staged
from jaxtherm.linalg.unrolled import StaticPivots, Unrolled
from jaxtherm.solvers.sector import symmetry_sector
from jaxtherm.solvers.solver import ELIMINATIONS, NAMES, Auto, Dense, Plan, Reduced, Solver, get, identity
from jaxtherm.status import (
    STATUS_DOMAIN,
    STATUS_INACCURATE,
    STATUS_MEANINGS,
    STATUS_NONFINITE,
    STATUS_NOT_POSITIVE,
    STATUS_OK,
    STATUS_SINGULAR,
    STATUS_UNCONVERGED,
    STATUS_UNVERIFIED,
)

__all__ = [
    "ELIMINATIONS",
    "LU",
    "NAMES",
    "STATUS_DOMAIN",
    "STATUS_INACCURATE",
    "STATUS_MEANINGS",
    "STATUS_NONFINITE",
    "STATUS_NOT_POSITIVE",
    "STATUS_OK",
    "STATUS_SINGULAR",
    "STATUS_UNCONVERGED",
    "STATUS_UNVERIFIED",
    "Auto",
    "Coo",
    "Dense",
    "Elimination",
    "Krylov",
    "Plan",
    "Reduced",
    "Solver",
    "Sparse",
    "Staged",
    "StaticPivots",
    "Unrolled",
    "eliminate_trace",
    "get",
    "identity",
    "restore_trace",
    "symmetry_sector",
]
