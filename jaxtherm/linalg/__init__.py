"""Linear algebra of one sector, knowing patterns and values, never physics.

The eliminations behind one interface (``Elimination``: ``LU``, ``Unrolled``,
``StaticPivots``, ``Staged``, ``Krylov``), their orderings, the trace elimination that turns
``R r = 0, Tr ρ = 1`` into a regular system, and the vector operations (``Arrays``,
``Scalars``) through which physics code is written once for stacked arrays and for scalars.
This layer imports nothing from ``physics``, ``models`` or above (import-linter).
"""

from jaxtherm.linalg.elimination import VERIFIED_RESIDUAL, Coo, Elimination, Sparse, eliminate_trace, restore_trace
from jaxtherm.linalg.krylov import Krylov
from jaxtherm.linalg.lu import LU
from jaxtherm.linalg.staged import Staged
from jaxtherm.linalg.unrolled import StaticPivots, Unrolled

__all__ = [
    "LU",
    "Krylov",
    "VERIFIED_RESIDUAL",
    "Coo",
    "Elimination",
    "Sparse",
    "Staged",
    "StaticPivots",
    "Unrolled",
    "eliminate_trace",
    "restore_trace",
]
