"""Steady-state solvers of one parameter point: solver objects (``Dense``, ``Reduced``,
``Auto``) that make a ``Plan`` for a model, the eliminations behind one interface
(``Elimination``: ``LU``, ``Unrolled``, ``StaticPivots``, ``Staged``),
symmetry sectors, and the status codes."""

from .elimination import Coo, Elimination, Sparse, eliminate_trace, restore_trace
from .lu import LU
from .sector import symmetry_sector
from .solver import ELIMINATIONS, NAMES, Auto, Dense, Plan, Reduced, Solver, get
from .staged import Staged
from .status import (
    STATUS_DOMAIN,
    STATUS_INACCURATE,
    STATUS_MEANINGS,
    STATUS_NONFINITE,
    STATUS_OK,
    STATUS_SINGULAR,
    STATUS_UNVERIFIED,
)
from .unrolled import StaticPivots, Unrolled

__all__ = [
    "ELIMINATIONS",
    "LU",
    "NAMES",
    "STATUS_DOMAIN",
    "STATUS_INACCURATE",
    "STATUS_MEANINGS",
    "STATUS_NONFINITE",
    "STATUS_OK",
    "STATUS_SINGULAR",
    "STATUS_UNVERIFIED",
    "Auto",
    "Coo",
    "Dense",
    "Elimination",
    "Plan",
    "Reduced",
    "Solver",
    "Sparse",
    "Staged",
    "StaticPivots",
    "Unrolled",
    "eliminate_trace",
    "get",
    "restore_trace",
    "symmetry_sector",
]
