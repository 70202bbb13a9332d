"""LU with partial pivoting of the trace-eliminated system stored as one ``(n, n)`` array.

The reference elimination, and the fallback of the static-pivot ones: LAPACK's factorisation of
``A`` (formula in ``jaxtherm.linalg.elimination``), substitutions in JAX. A matrix whose
smallest pivot is below ``n ε_mach`` times its largest (or non-finite) is flagged singular and
factorised as the identity, so that its (discarded) results and derivatives stay finite and
cannot poison a batch.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from jaxtherm.linalg.elimination import Elimination, Sparse, eliminate_trace, restore_trace

__all__ = ["LU", "LUState", "eliminate_trace", "restore_trace", "Sparse"]


class LUState(NamedTuple):
    """LU factors of the trace-eliminated ``A`` (``LU.init``)."""

    a: jax.Array
    """``A`` itself, ``(n, n)``, with its derivatives: the implicit derivatives' product."""
    lu: jax.Array
    """Packed ``L\\U`` (identity where singular), ``(n, n)``."""
    permutation: jax.Array
    """The row permutation ``P`` of ``P A = L U``, ``(n,)``."""
    singular: jax.Array
    """Boolean: smallest pivot ``≤ n ε_mach ×`` the largest, or non-finite."""


def _substitute(rows, b, reverse: bool, unit: bool):
    """Solve a triangular system by substitution, in pure JAX.

    Row ``i`` of the system is ``Σ_j rows[i, j] x_j = b_i`` over the solved ``j`` only: ``x``
    starts at zero and is filled in order (``i = 0, 1, …``, or backwards with ``reverse``), so
    ``rows[i] @ x`` sums exactly the triangle already solved, and ``rows`` may be the packed
    ``L\\U`` (or its transpose). ``x_i = b_i − rows[i] @ x`` with a unit diagonal, else divided
    by ``rows[i, i]``.
    """
    n = b.shape[0]

    def step(k, x):
        i = n - 1 - k if reverse else k
        r = b[i] - rows[i] @ x
        return x.at[i].set(r if unit else r / rows[i, i])

    return jax.lax.fori_loop(0, n, step, jnp.zeros_like(b))


def _lu_solve(lu, perm, rhs, transpose: bool):
    """``A⁻¹ rhs`` (or ``A⁻ᵀ rhs``) from ``P A = L U``: ``U⁻¹ L⁻¹ P rhs`` (or ``Pᵀ L⁻ᵀ U⁻ᵀ rhs``).

    Substitution in JAX instead of LAPACK's ``trsm``: jaxlib 0.10's CPU LAPACK kernels split a
    batch over XLA's intra-op thread pool and block on it, and two of them running at once (the
    independent solves of several baths' noise, or a tangent beside a primal) can take every
    thread of a small pool and wait forever. The factorisation (one call per steady state,
    nothing beside it) stays with LAPACK.
    """
    if transpose:
        w = _substitute(lu.T, _substitute(lu.T, rhs, reverse=False, unit=False), reverse=True, unit=True)
        return jnp.zeros_like(w).at[perm].set(w)
    return _substitute(lu, _substitute(lu, rhs[perm], reverse=False, unit=True), reverse=True, unit=False)


@dataclasses.dataclass(frozen=True)
class LU(Elimination):
    """LU with partial pivoting of the whole ``(n, n)`` array ``A``: any sector, any model; the
    reference, and the fallback of the static-pivot eliminations."""

    name = "lu"

    @property
    def description(self) -> str:
        return "LU with partial pivoting"

    def assemble(self, coeffs, supers: np.ndarray, generators, dtype):
        """``R`` as one ``(m, m)`` array: one contraction, then each generator added."""
        m = supers.shape[-1]
        total = (jnp.einsum("k,kij->ij", jnp.stack(coeffs), jnp.asarray(supers, dtype)) if len(coeffs)
                 else jnp.zeros((m, m), dtype))
        for g in generators:
            total = total.at[g.rows, g.cols].add(g.values) if isinstance(g, Sparse) else total + g
        return total

    def init(self, operator, d: int, eps: float) -> LUState:
        a, _ = eliminate_trace(operator, d)
        n = a.shape[-1]
        lu, piv = jsl.lu_factor(jax.lax.stop_gradient(a))
        pivots = jnp.abs(jnp.diagonal(lu))
        singular = ~(jnp.min(pivots) > n * eps * jnp.max(pivots))  # also True for NaN
        lu = jnp.where(singular, jnp.eye(n, dtype=a.dtype), lu)
        piv = jnp.where(singular, jnp.arange(n, dtype=piv.dtype), piv)
        return LUState(a, lu, jax.lax.linalg.lu_pivots_to_permutation(piv, n), singular)

    def matvec(self, state: LUState, x):
        return state.a @ x

    def substitute(self, state: LUState, matvec, rhs, transpose: bool):
        del matvec  # partial pivoting: no refinement
        return _lu_solve(state.lu, state.permutation, rhs, transpose)

    def trace_rhs(self, operator):
        return -operator[1:, 0]

    def norms(self, operator, r):
        rm, rr = jax.lax.stop_gradient(operator), jax.lax.stop_gradient(r)
        return jnp.max(jnp.sum(jnp.abs(rm), axis=1)), jnp.max(jnp.abs(rr)), jnp.max(jnp.abs(rm @ rr))
