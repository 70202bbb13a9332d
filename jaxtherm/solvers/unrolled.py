"""Small dense linear algebra unrolled into scalar operations, for the symmetry-reduced kernel.

A matrix is a list of rows, each a list of scalars (0-d JAX arrays, one parameter point) or
``None`` for an entry that is zero for every parameter point (a *structural* zero, known when
the program is traced). Every operation skips structural zeros, so the traced program is the
sparse elimination itself. Under ``vmap`` each scalar becomes one contiguous vector over the
batch, and XLA fuses the whole solve into a few elementwise loops: for 3–5 unknowns this runs
an order of magnitude faster than a batched LU, whose per-matrix loops are too short to
vectorise.

Meant for systems of up to about ten unknowns with partial pivoting (``Reduced(max_unrolled=10)``,
the default): the program grows like ``n³`` and so does its compile time. Larger sparse systems
are eliminated with static pivots in a fill-reducing order (``factor(…, pivoting=False)``,
:mod:`jaxtherm.solvers.ordering`): the program then grows with the fill, and :func:`solve`
refines once. Every value is computed once
(:func:`jaxtherm._fusion.once`: after each pivot step, each substitution step, and on the norms);
without that, XLA's CPU fusion recomputed the elimination inside every fused loop, and the gain
over LU shrank with ``n`` (then: 9 unknowns, the refrigerator, 3.8× LU; 15 unknowns, 1.2×). With
it, on this project's 2-core CPU: the refrigerator's 9 unknowns at 5×10⁶ points/s; the 3-qubit
chain's 19 with partial pivoting (``max_unrolled=19``) at 1.5×10⁶, with static pivots (the
default) at 3×10⁶, against LU's 9×10⁴.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._fusion import once
from .lu import Sparse


def lincomb(weights: np.ndarray, values):
    """``Σ_k w_k v_k`` over the constant weights that are non-zero; ``None`` if all are zero.

    Args:
        weights: constant ``(K,)`` array.
        values: ``K`` scalars (or ``None`` for structural zeros).
    """
    out = None
    for w, v in zip(np.asarray(weights).tolist(), values):
        if w == 0.0 or v is None:
            continue
        term = v if w == 1.0 else (-v if w == -1.0 else w * v)
        out = term if out is None else out + term
    return out


def add(x, y):
    """``x + y`` with ``None`` as zero."""
    if x is None:
        return y
    return x if y is None else x + y


def sub_mul(x, f, y):
    """``x − f y`` with ``None`` as zero."""
    if y is None or f is None:
        return x
    return -(f * y) if x is None else x - f * y


def matvec(a, x):
    """``a @ x`` for a list-of-rows matrix and a list vector; rows that are all zero give ``None``."""
    out = []
    for row in a:
        acc = None
        for aij, xj in zip(row, x):
            if aij is not None and xj is not None:
                acc = add(acc, aij * xj)
        out.append(acc)
    return out


def _select(cond, x, y):
    if x is None and y is None:
        return None
    return jnp.where(cond, 0.0 if x is None else x, 0.0 if y is None else y)


def _swap(a, k: int, swaps, columns=None):
    """Exchange row ``k`` with the one row ``i`` of ``swaps = [(i, flag)]`` whose flag is set (if
    any), by selects. ``a``: a list of rows (``columns``: the entries to move) or of scalars."""
    a = list(a)
    old = a[k]
    if columns is None:
        for i, flag in swaps:
            a[k], a[i] = _select(flag, a[i], a[k]), _select(flag, old, a[i])
        return a
    new, old = list(old), list(old)
    for i, flag in swaps:
        row = list(a[i])
        for j in columns:
            new[j], row[j] = _select(flag, a[i][j], new[j]), _select(flag, old[j], a[i][j])
        a[i] = row
    a[k] = new
    return a


class Factors(NamedTuple):
    """The unrolled elimination of ``a`` (:func:`factor`), replayed on right-hand sides by
    :func:`substitute`."""

    steps: list
    """Per pivot ``k``: ``(static_swap, swaps, multipliers)`` — a row index swapped with ``k``
    at trace time (or ``None``), ``[(i, flag)]`` the candidate rows (row ``k`` is exchanged with
    the one whose flag is set, if any), ``[(i, f)]`` eliminations."""
    upper: list
    """The rows of ``U`` (list-of-rows, ``None`` for structural zeros), unit-safe diagonal."""
    singular: object
    """Boolean scalar: smallest pivot ``≤ n ε ×`` the largest, NaN, or a structurally empty column.
    Without pivoting this says only that the static pivots cannot vouch for the matrix (a pivoted
    elimination decides: :class:`jaxtherm.solvers.Plan` marks such points unverified)."""
    matrix: list | None = None
    """The matrix itself (list of rows, with its derivatives): the matrix–vector product of the
    implicit derivatives of :func:`solve` (:func:`init` sets it)."""
    order: tuple[int, ...] | None = None
    """Static pivots: the elimination order (unknown ``order[k]`` is the ``k``-th pivot) of a
    factorisation without pivoting, whose solves take one step of iterative refinement; ``None``
    for partial pivoting in the natural order."""


def factor(a, eps: float, pivoting: bool = True) -> Factors:
    """Gaussian elimination of ``a`` with partial pivoting, unrolled.

    Pivoting compares the candidate rows of each column one after the other and swaps them
    with selects (no data-dependent control flow). A matrix whose smallest pivot is below
    ``n ε`` times its largest, or that has a structurally empty column, is flagged singular;
    its zero pivots are replaced by 1 so that its (discarded) results stay finite.

    Without ``pivoting`` the diagonal is the pivot (static pivots: the program is the sparse
    elimination of ``a``'s own pattern, no fill from exchanged rows), except where it is a
    structural zero (a row exchange fixed when the program is traced, as with pivoting).

    Args:
        a: ``n × n`` list-of-rows matrix of scalars or ``None``.
        eps: machine epsilon of the dtype.
        pivoting: partial pivoting (default), or static pivots.
    """
    n = len(a)
    a = [list(row) for row in a]
    pivots, steps = [], []
    structurally_singular = False
    for k in range(n):
        rows = [i for i in range(k, n) if a[i][k] is not None]
        static_swap = None
        if not rows:
            structurally_singular = True
            a[k][k] = jnp.zeros_like(next(v for row in a for v in row if v is not None))
            rows = [k]
        if rows[0] != k:  # a static swap: row k is structurally zero in this column
            static_swap = rows[0]
            a[k], a[rows[0]] = a[rows[0]], a[k]
            rows = [k, *rows[1:]]
        swaps = []
        if len(rows) > 1 and pivoting:  # the first candidate of largest magnitude becomes the pivot row
            best, index = jnp.abs(a[k][k]), None
            for i in rows[1:]:
                magnitude = jnp.abs(a[i][k])
                better = magnitude > best  # False for NaN: no swap
                best = jnp.where(better, magnitude, best)
                index = jnp.where(better, float(i), float(k) if index is None else index)
            index = once(index)  # the pivot's row, then one compare per select
            swaps = [(i, index == i) for i in rows[1:]]
            a = _swap(a, k, swaps, range(k, n))
        pivot = a[k][k]
        pivots.append(jnp.abs(pivot))
        a[k][k] = jnp.where(pivot == 0, 1.0, pivot)
        inv = 1.0 / a[k][k]
        multipliers = []
        for i in rows[1:]:
            f = a[i][k] * inv
            for j in range(k + 1, n):
                a[i][j] = sub_mul(a[i][j], f, a[k][j])
            multipliers.append((i, f))
            a[i][k + 1:] = once(a[i][k + 1:])  # the updated trailing entries, stored (see jaxtherm._fusion)
        steps.append((static_swap, swaps, multipliers))
    smallest, largest = functools.reduce(jnp.minimum, pivots), functools.reduce(jnp.maximum, pivots)
    smallest, largest = once((smallest, largest))
    singular = ~(smallest > n * eps * largest)  # also True for NaN
    if structurally_singular:
        singular = jnp.ones_like(singular)
    return Factors(steps, a, singular)


def substitute(factors: Factors, b) -> list:
    """``x = a⁻¹ b`` by replaying :func:`factor`'s row operations on ``b`` and back-substituting.

    Args:
        factors: from :func:`factor`.
        b: ``n`` scalars or ``None``.

    Returns:
        ``n`` scalars.
    """
    b = list(b)
    for k, (static_swap, swaps, multipliers) in enumerate(factors.steps):
        if static_swap is not None:
            b[k], b[static_swap] = b[static_swap], b[k]
        b = _swap(b, k, swaps)
        for i, f in multipliers:
            b[i] = once(sub_mul(b[i], f, b[k]))
    u = factors.upper
    n = len(b)
    x = [None] * n
    for i in reversed(range(n)):
        acc = b[i]
        for j in range(i + 1, n):
            if u[i][j] is not None and x[j] is not None:
                acc = sub_mul(acc, u[i][j], x[j])
        x[i] = jnp.zeros_like(u[i][i]) if acc is None else acc / u[i][i]
    return x


def substitute_transposed(factors: Factors, c) -> list:
    """``y = a⁻ᵀ c`` with the same factors. :func:`factor` computed ``E a = U`` (``E`` its row
    operations in order), so ``aᵀ = Uᵀ E⁻ᵀ`` and ``y = Eᵀ U⁻ᵀ c``: a forward substitution with
    ``Uᵀ``, then the transposed operations in reverse order (a swap is its own transpose; the
    elimination ``b_i −= f b_k`` becomes ``y_k −= f y_i``)."""
    u = factors.upper
    n = len(c)
    z = [None] * n
    for i in range(n):
        acc = c[i]
        for j in range(i):
            if u[j][i] is not None and z[j] is not None:
                acc = sub_mul(acc, u[j][i], z[j])
        z[i] = jnp.zeros_like(u[i][i]) if acc is None else acc / u[i][i]
    y = z
    for k in reversed(range(len(factors.steps))):
        static_swap, swaps, multipliers = factors.steps[k]
        for i, f in reversed(multipliers):
            y[k] = sub_mul(y[k], f, y[i])
        y = _swap(y, k, swaps)  # a transposition is its own transpose
        if static_swap is not None:
            y[k], y[static_swap] = y[static_swap], y[k]
    return y


def solve(factors: Factors, rhs):
    """``x = a⁻¹ rhs``, implicitly differentiated (``lax.custom_linear_solve``): tangents
    ``ẋ = a⁻¹(ṙhs − ȧ x)`` and cotangents replay the same factors (:func:`substitute`,
    :func:`substitute_transposed`) instead of differentiating through the elimination, so a
    program with many tangents stays small.

    Factors with static pivots (``factors.order``) are applied in their order and refined once:
    ``x₁ = x₀ + S(rhs − a x₀)``, ``S`` the substitution (the transposed solve likewise with
    ``aᵀ``). Without pivoting an elimination can grow its entries (measured on the 4-qubit chain:
    10¹⁰ at β = 20), and one step brings the backward error back to ``~ε`` wherever the growth
    times ``ε`` stays below 1; the caller checks that with the residual.

    Args:
        factors: from :func:`init`.
        rhs: ``n`` scalars (a list, ``None`` for structural zeros), or an ``(n,)`` array.

    Returns:
        ``x`` in the form of ``rhs``: a list of ``n`` scalars, or an ``(n,)`` array.
    """
    n = len(factors.upper)
    if isinstance(rhs, list):  # one array at the solve's boundary: every entry linear in it
        like = factors.upper[0][0]
        x = solve(factors, jnp.stack([jnp.zeros_like(like) if v is None else v for v in rhs]))
        return [x[i] for i in range(n)]
    order = factors.order

    def stacked(values):
        zero = jnp.zeros((), rhs.dtype)
        return jnp.stack([zero if v is None else v for v in values])

    def replay(substitution):
        if order is None:
            return lambda _, v: stacked(substitution(factors, [v[i] for i in range(n)]))
        back = np.argsort(order)

        def once_refined(matvec_, v):
            def apply(w):
                y = substitution(factors, [w[i] for i in order])
                return stacked([y[int(i)] for i in back])

            x = apply(v)
            return x + apply(v - matvec_(x))

        return once_refined

    return jax.lax.custom_linear_solve(
        lambda v: stacked(matvec(factors.matrix, [v[i] for i in range(n)])),
        rhs,
        solve=replay(substitute),
        transpose_solve=replay(substitute_transposed),
    )


# --- the steady-state system in this representation (the trace elimination of jaxtherm.solvers.lu)


def assemble(coeffs, supers: np.ndarray, generators, dtype) -> list:
    """``R_ij = Σ_k c_k (S_k)_ij (+ Σ_j G_j[i, j])`` entry by entry as a list of rows, the
    structural zeros skipped (``None`` where every term is zero): those of the constants, and
    those outside the pattern of :class:`~jaxtherm.solvers.lu.Sparse` generators.

    Entries with a generator's term are computed once (:func:`jaxtherm._fusion.once`): they feed
    the elimination, the norms and the residual (global pair 2.65 against 2.15×10⁶ points/s);
    the constants' few products are cheaper to recompute (local refrigerator 4.5 against 4.1×10⁶)."""
    m = supers.shape[-1]
    rows = [[lincomb(supers[:, i, j], coeffs) for j in range(m)] for i in range(m)]
    touched = set()
    for g in generators:
        if isinstance(g, Sparse):  # a static pattern
            for e, (i, j) in enumerate(zip(g.rows.tolist(), g.cols.tolist())):
                rows[i][j] = add(rows[i][j], g.values[e])
                touched.add((i, j))
        else:
            for i in range(m):
                for j in range(m):
                    rows[i][j] = add(rows[i][j], g[i, j])
                    touched.add((i, j))
    stored = once([rows[i][j] for i, j in sorted(touched)])
    for (i, j), v in zip(sorted(touched), stored):
        rows[i][j] = v
    return rows


def init(rows, d: int, eps: float, order: tuple[int, ...] | None = None) -> Factors:
    """:func:`factor` of the trace-eliminated ``A`` (``A_ij = R_ij − R_i0 [j < d]``, i, j ≥ 1):
    with partial pivoting, or with static pivots in ``order`` (:mod:`jaxtherm.solvers.ordering`).

    The elimination runs on the values of ``A`` without their derivatives (``stop_gradient``):
    :func:`solve` differentiates implicitly with ``A`` itself, kept in the factors."""
    m = len(rows)
    a = [[rows[i][j] if j >= d else sub_mul(rows[i][j], 1.0, rows[i][0]) for j in range(1, m)] for i in range(1, m)]
    permuted = a if order is None else [[a[i][j] for j in order] for i in order]
    constant = [[None if v is None else jax.lax.stop_gradient(v) for v in row] for row in permuted]
    return factor(constant, eps, pivoting=order is None)._replace(matrix=a, order=order)


def norms(rows, r: list):
    """``(‖R‖_∞, ‖r‖_∞, ‖R r‖_∞)`` of the (non-differentiated) solution, structural zeros skipped."""
    rs = [jax.lax.stop_gradient(v) for v in r]
    rm = [[None if v is None else jax.lax.stop_gradient(v) for v in row] for row in rows]
    row_sums = [functools.reduce(add, [jnp.abs(e) for e in row if e is not None], None) for row in rm]
    residuals = [jnp.abs(v) for v in matvec(rm, rs) if v is not None]
    out = []
    for values in ([v for v in row_sums if v is not None], [jnp.abs(v) for v in rs], residuals):
        largest = functools.reduce(jnp.maximum, values) if values else jnp.zeros_like(rs[0])
        out.append(largest)
    return once(tuple(out))


def steady_state(rows, d: int, eps: float, order: tuple[int, ...] | None = None):
    """``(r, factors)``: the steady state's coordinates as a list of ``m`` scalars, and the
    factors (static pivots in ``order``, see :func:`init`)."""
    m = len(rows)
    factors = init(rows, d, eps, order)
    x = solve(factors, [None if rows[i][0] is None else -rows[i][0] for i in range(1, m)])
    r0 = 1.0
    for xi in x[: d - 1]:
        r0 = r0 - xi
    return [r0 + jnp.zeros_like(x[0]), *x], factors
