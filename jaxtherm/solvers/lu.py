"""Dense LU elimination of a steady-state system stored as one ``(n, n)`` array.

The steady state solves ``R r = 0`` with ``Σ_{i<d} r_i = Tr ρ = 1``. Because ``R`` preserves the
trace, the population rows of ``R`` sum to zero, so the first row is redundant: drop it and
substitute ``r_0 = 1 − Σ_{0<i<d} r_i``, leaving ``n − 1`` unknowns ``x = r_{1:}``:

    A x = b,   A_ij = R_ij − R_i0 [j < d],   b_i = −R_i0,   (i, j ≥ 1).

The same ``A`` solves every later system ``L x = y`` with a traceless ``y`` and ``Tr x = 0``
(``x_0 = −Σ_{0<i<d} x_i``, right-hand side ``y_{1:}``): the Drazin inverse that current noise
needs (DESIGN.md §2) reuses the factorisation of :func:`init`.

Solves are differentiated implicitly (``lax.custom_linear_solve``): tangents and cotangents
solve with the same LU factors, ``ẋ = A⁻¹(ḃ − Ȧ x)``, instead of differentiating through the
elimination.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np


def eliminate_trace(r_matrix, d: int):
    """Reduce ``R r = 0, Tr ρ = 1`` to ``A x = b`` (formula in the module docstring).

    Args:
        r_matrix: real ``(n, n)`` Liouvillian in the Hermitian basis (``n = d²``, or the kept
            coordinates of a symmetry sector, populations first).
        d: number of populations (the Hilbert-space dimension).

    Returns:
        ``A`` of shape ``(n−1, n−1)`` and ``b`` of shape ``(n−1,)``.
    """
    n = r_matrix.shape[0]
    is_population = jnp.asarray(np.arange(1, n) < d, dtype=r_matrix.dtype)
    a = r_matrix[1:, 1:] - r_matrix[1:, :1] * is_population[None, :]
    return a, -r_matrix[1:, 0]


def restore_trace(x, d: int, trace: float = 1.0):
    """``r = (trace − Σ_{0<i<d} x_{i−1}, x)``: all ``n`` coordinates from the ``n − 1`` unknowns."""
    return jnp.concatenate([trace - jnp.sum(x[: d - 1], keepdims=True), x])


class Factors(NamedTuple):
    """LU factors of the trace-eliminated ``A`` (:func:`init`)."""

    a: jax.Array
    """``A`` itself, ``(n−1, n−1)``: the matrix–vector product of the implicit derivatives."""
    lu: jax.Array
    """Packed ``L\\U`` (identity where singular), ``(n−1, n−1)``."""
    pivots: jax.Array
    """Row interchanges, ``(n−1,)``."""
    singular: jax.Array
    """Boolean: smallest pivot ``≤ n ε_mach ×`` the largest, or non-finite."""


class Sparse(NamedTuple):
    """Entries ``values`` (traced, ``(E,)``) at static ``rows``, ``cols`` (NumPy) of an ``(m, m)`` matrix."""

    rows: np.ndarray
    cols: np.ndarray
    values: jax.Array


def assemble(coeffs, supers: np.ndarray, generators, dtype):
    """``R = Σ_k c_k S_k + Σ_j G_j`` as one ``(m, m)`` array (one contraction, then each
    generator added: an ``(m, m)`` array or :class:`Sparse` entries)."""
    m = supers.shape[-1]
    total = (jnp.einsum("k,kij->ij", jnp.stack(coeffs), jnp.asarray(supers, dtype)) if len(coeffs)
             else jnp.zeros((m, m), dtype))
    for g in generators:
        total = total.at[g.rows, g.cols].add(g.values) if isinstance(g, Sparse) else total + g
    return total


def init(r_matrix, d: int) -> Factors:
    """Factorise the trace-eliminated ``A`` of ``R`` by LU with partial pivoting.

    A matrix whose smallest pivot is below ``n ε_mach`` times its largest (or non-finite) is
    flagged singular; it is then factorised as the identity so that its (discarded) results
    and derivatives stay finite and cannot poison a batch.
    """
    a, _ = eliminate_trace(r_matrix, d)
    n = a.shape[-1]
    lu, piv = jsl.lu_factor(jax.lax.stop_gradient(a))
    pivots = jnp.abs(jnp.diagonal(lu))
    eps = jnp.finfo(a.dtype).eps
    singular = ~(jnp.min(pivots) > n * eps * jnp.max(pivots))  # also True for NaN
    lu = jnp.where(singular, jnp.eye(n, dtype=a.dtype), lu)
    piv = jnp.where(singular, jnp.arange(n, dtype=piv.dtype), piv)
    return Factors(a, lu, piv, singular)


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


def solve(factors: Factors, rhs):
    """``x = A⁻¹ rhs`` with the factors of :func:`init`, implicitly differentiable; ``(n−1,)``."""
    perm = jax.lax.linalg.lu_pivots_to_permutation(factors.pivots, factors.lu.shape[-1])
    return jax.lax.custom_linear_solve(
        lambda v: factors.a @ v,
        rhs,
        solve=lambda _, v: _lu_solve(factors.lu, perm, v, transpose=False),
        transpose_solve=lambda _, v: _lu_solve(factors.lu, perm, v, transpose=True),
    )


def norms(r_matrix, r):
    """``(‖R‖_∞, ‖r‖_∞, ‖R r‖_∞)`` of the (non-differentiated) solution, for :func:`classify`."""
    rm, rr = jax.lax.stop_gradient(r_matrix), jax.lax.stop_gradient(r)
    return jnp.max(jnp.sum(jnp.abs(rm), axis=1)), jnp.max(jnp.abs(rr)), jnp.max(jnp.abs(rm @ rr))


def steady_state(r_matrix, d: int):
    """``(r, factors)``: the steady state's ``n`` real coordinates and the factors of ``A``."""
    factors = init(r_matrix, d)
    _, b = eliminate_trace(r_matrix, d)
    return restore_trace(solve(factors, b), d), factors
