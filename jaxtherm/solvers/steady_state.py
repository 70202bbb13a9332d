"""Steady state of a real Liouvillian: trace elimination, LU solve, status and residual.

For one parameter point (the kernel vmaps it). The steady state solves ``R r = 0`` with
``Σ_{i<d} r_i = Tr ρ = 1``. Because ``R`` preserves the trace, the population rows of ``R`` sum
to zero, so the first row is redundant: drop it and substitute ``r_0 = 1 − Σ_{0<i<d} r_i``,
leaving ``d² − 1`` real unknowns ``x = r_{1:}``:

    A x = b,   A_ij = R_ij − R_i0 [j < d],   b_i = −R_i0,   (i, j ≥ 1).

The solve is differentiated implicitly (``lax.custom_linear_solve``): tangents and cotangents
solve with the same LU factors, ``ẋ = A⁻¹(ḃ − Ȧ x)``, instead of differentiating through the
elimination.

:func:`steady_state_unrolled` does the same for the small matrix of a symmetry sector
(:mod:`jaxtherm.solvers.sector`), given entry by entry, with the unrolled elimination of
:mod:`jaxtherm.solvers.unrolled` (differentiated straight through, which for a handful of unknowns is
as cheap as reusing factors).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from . import unrolled

STATUS_OK = 0
STATUS_SINGULAR = 1
STATUS_NONFINITE = 2
STATUS_INACCURATE = 3
STATUS_DOMAIN = 4
STATUS_MEANINGS = {
    STATUS_OK: "ok",
    STATUS_SINGULAR: "no unique steady state (singular Liouvillian)",
    STATUS_NONFINITE: "non-finite parameters or results",
    STATUS_INACCURATE: "relative residual above tolerance",
    STATUS_DOMAIN: "parameters outside the model's domain (e.g. a negative rate or temperature)",
}


def eliminate_trace(r_matrix, d: int):
    """Reduce ``R r = 0, Tr ρ = 1`` to ``A x = b`` (formula in the module docstring).

    Args:
        r_matrix: real ``(n, n)`` Liouvillian in the Hermitian basis (``n = d²``, or the kept
            coordinates of a symmetry sector, populations first).
        d: Hilbert-space dimension.

    Returns:
        ``A`` of shape ``(n−1, n−1)`` and ``b`` of shape ``(n−1,)``.
    """
    n = r_matrix.shape[0]  # d², or the size of a symmetry sector (populations first)
    is_population = jnp.asarray(np.arange(1, n) < d, dtype=r_matrix.dtype)
    a = r_matrix[1:, 1:] - r_matrix[1:, :1] * is_population[None, :]
    return a, -r_matrix[1:, 0]


def restore_trace(x, d: int):
    """``r = (1 − Σ_{0<i<d} x_{i−1}, x)``: the full real coordinates, shape ``(d²,)``."""
    return jnp.concatenate([1.0 - jnp.sum(x[: d - 1], keepdims=True), x])


def linear_solve(a, b):
    """Solve ``A x = b`` by LU with partial pivoting, implicitly differentiable.

    A matrix whose smallest pivot is below ``n ε_mach`` times its largest (or non-finite) is
    flagged singular; it is then solved with identity factors so that its (discarded) result
    and derivatives stay finite and cannot poison a batch.

    Args:
        a: ``(n, n)`` real matrix.
        b: ``(n,)`` right-hand side.

    Returns:
        ``(x, singular)``: solution ``(n,)`` and a boolean flag.
    """
    n = a.shape[-1]
    lu, piv = jsl.lu_factor(jax.lax.stop_gradient(a))
    pivots = jnp.abs(jnp.diagonal(lu))
    eps = jnp.finfo(a.dtype).eps
    singular = ~(jnp.min(pivots) > n * eps * jnp.max(pivots))  # also True for NaN
    lu = jnp.where(singular, jnp.eye(n, dtype=a.dtype), lu)
    piv = jnp.where(singular, jnp.arange(n, dtype=piv.dtype), piv)
    x = jax.lax.custom_linear_solve(
        lambda v: a @ v,
        b,
        solve=lambda _, v: jsl.lu_solve((lu, piv), v, trans=0),
        transpose_solve=lambda _, v: jsl.lu_solve((lu, piv), v, trans=1),
    )
    return x, singular


def classify(matrix_norm, r_max, residual_max, singular, eps):
    """Status and relative residual of a solved steady state (shared by both solvers).

    Args:
        matrix_norm: ``‖R‖_∞`` (max absolute row sum; non-finite iff ``R`` has a non-finite entry).
        r_max: ``‖r‖_∞``.
        residual_max: ``‖R r‖_∞``.
        singular: the solver's singularity flag.
        eps: machine epsilon.

    Returns:
        ``(status, residual)``: int8 status (see ``STATUS_MEANINGS``) and
        ``‖R r‖_∞ / (‖R‖_∞ ‖r‖_∞)``, ``inf`` where singular or non-finite.
    """
    scale = matrix_norm * r_max
    residual = residual_max / jnp.where(scale > 0, scale, 1.0)
    matrix_finite = jnp.isfinite(matrix_norm)
    finite = matrix_finite & jnp.isfinite(r_max) & jnp.isfinite(residual_max)
    status = jnp.select(
        [~matrix_finite, singular, ~finite, residual > jnp.sqrt(eps)],
        [STATUS_NONFINITE, STATUS_SINGULAR, STATUS_NONFINITE, STATUS_INACCURATE],
        STATUS_OK,
    ).astype(jnp.int8)
    return status, jnp.where(singular | ~finite, jnp.inf, residual)


def steady_state(r_matrix, d: int):
    """Steady state of the real Liouvillian ``R`` with its status and residual.

    Args:
        r_matrix: real ``(n, n)`` Liouvillian in the Hermitian basis (``n = d²``, or the kept
            coordinates of a symmetry sector, populations first).
        d: Hilbert-space dimension (the first ``d`` coordinates are the populations).

    Returns:
        ``(r, status, residual)``: the real coordinates of ``ρ`` (``(n,)``), an int8 status
        (see ``STATUS_MEANINGS``) and the relative residual
        ``‖R r‖_∞ / (‖R‖_∞ ‖r‖_∞)`` (the backward error of the stationarity condition).
    """
    a, b = eliminate_trace(r_matrix, d)
    x, singular = linear_solve(a, b)
    r = restore_trace(x, d)
    rr = jax.lax.stop_gradient(r)
    rm = jax.lax.stop_gradient(r_matrix)
    status, residual = classify(
        jnp.max(jnp.sum(jnp.abs(rm), axis=1)), jnp.max(jnp.abs(rr)), jnp.max(jnp.abs(rm @ rr)),
        singular, jnp.finfo(r_matrix.dtype).eps,
    )
    return r, status, residual


def steady_state_unrolled(rows, d: int, eps: float):
    """:func:`steady_state` for a small matrix given entry by entry (see :mod:`jaxtherm.solvers.unrolled`).

    Args:
        rows: ``m × m`` list-of-rows real Liouvillian of the kept coordinates (populations
            first), entries scalars or ``None`` (structural zero).
        d: number of populations.
        eps: machine epsilon.

    Returns:
        ``(r, status, residual)`` with ``r`` a list of ``m`` scalars.
    """
    m = len(rows)
    first = [row[0] for row in rows]
    a = [[rows[i][j] if j >= d else unrolled.sub_mul(rows[i][j], 1.0, first[i]) for j in range(1, m)] for i in range(1, m)]
    b = [None if first[i] is None else -first[i] for i in range(1, m)]
    x, singular = unrolled.solve(a, b, eps)
    r0 = 1.0
    for xi in x[: d - 1]:
        r0 = r0 - xi
    r = [r0 + jnp.zeros_like(x[0]), *x]
    rs = [jax.lax.stop_gradient(v) for v in r]
    rm = [[None if v is None else jax.lax.stop_gradient(v) for v in row] for row in rows]
    norm = residual_max = r_max = None
    for row, v in zip(rm, unrolled.matvec(rm, rs)):
        s = None
        for e in row:
            s = unrolled.add(s, None if e is None else jnp.abs(e))
        if s is not None:
            norm = s if norm is None else jnp.maximum(norm, s)
        if v is not None:
            residual_max = jnp.abs(v) if residual_max is None else jnp.maximum(residual_max, jnp.abs(v))
    for v in rs:
        r_max = jnp.abs(v) if r_max is None else jnp.maximum(r_max, jnp.abs(v))
    zero = jnp.zeros_like(r_max)
    status, residual = classify(zero if norm is None else norm, r_max,
                                zero if residual_max is None else residual_max, singular, eps)
    return r, status, residual
