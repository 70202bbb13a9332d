"""Steady-state solvers of one parameter point: symmetry sectors, the dense LU reference, the
unrolled elimination of small sectors, and the status codes they report."""

from .sector import symmetry_sector
from .steady_state import (
    STATUS_DOMAIN,
    STATUS_INACCURATE,
    STATUS_MEANINGS,
    STATUS_NONFINITE,
    STATUS_OK,
    STATUS_SINGULAR,
)

SOLVERS = ("reduced", "dense")
"""``"reduced"``: the steady state's symmetry sector (unrolled when small); ``"dense"``: all
``d² − 1`` real unknowns by LU, the reference."""

__all__ = [
    "SOLVERS",
    "STATUS_DOMAIN",
    "STATUS_INACCURATE",
    "STATUS_MEANINGS",
    "STATUS_NONFINITE",
    "STATUS_OK",
    "STATUS_SINGULAR",
    "symmetry_sector",
]
