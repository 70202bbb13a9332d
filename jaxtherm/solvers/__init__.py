"""Steady-state solvers of one parameter point: solver objects (:class:`Dense`, :class:`Reduced`,
:class:`Auto`), symmetry sectors, the LU and unrolled eliminations, and the status codes."""

from .lu import Sparse
from .sector import symmetry_sector
from .solver import NAMES, Auto, Dense, Plan, Reduced, Solver, get
from .status import (
    STATUS_DOMAIN,
    STATUS_INACCURATE,
    STATUS_MEANINGS,
    STATUS_NONFINITE,
    STATUS_OK,
    STATUS_SINGULAR,
    STATUS_UNVERIFIED,
)

__all__ = [
    "NAMES",
    "STATUS_DOMAIN",
    "STATUS_INACCURATE",
    "STATUS_MEANINGS",
    "STATUS_NONFINITE",
    "STATUS_OK",
    "STATUS_SINGULAR",
    "STATUS_UNVERIFIED",
    "Auto",
    "Dense",
    "Plan",
    "Reduced",
    "Solver",
    "Sparse",
    "get",
    "symmetry_sector",
]
