"""Small dense linear algebra unrolled into scalar operations, for the symmetry-reduced kernel.

A matrix is a list of rows, each a list of scalars (0-d JAX arrays, one parameter point) or
``None`` for an entry that is zero for every parameter point (a *structural* zero, known when
the program is traced). Every operation skips structural zeros, so the traced program is the
sparse elimination itself. Under ``vmap`` each scalar becomes one contiguous vector over the
batch, and XLA fuses the whole solve into a few elementwise loops: for a few unknowns this runs
much faster than a batched LU, whose per-matrix loops are too short to vectorise
(``benchmarks/bench_sectors.py``).

Two eliminations use it: ``Unrolled``, partial pivoting, for sectors of up to about ten
unknowns (the program grows like ``n³``, and so does its compile time); and
``StaticPivots``, the diagonal as pivots in a fill-reducing order
(``jaxtherm.linalg.ordering``), whose program grows with the fill, refined once a solve and
checked a point. Every value is computed once (``jaxtherm.linalg._fusion.once``: after each pivot
step, each substitution step, and on the norms): without that, XLA's CPU fusion recomputes the
elimination inside every fused loop, and the gain over LU shrinks with ``n``
(``benchmarks/bench_sectors.py``, ``docs/performance.md``).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxtherm._checks import raise_if
from jaxtherm.linalg import ordering
from jaxtherm.linalg._fusion import once
from jaxtherm.linalg._scalars import add, lincomb, matvec, sub_mul
from jaxtherm.linalg.elimination import Elimination, Sparse

__all__ = ["StaticPivots", "Unrolled", "add", "factor", "lincomb", "matvec", "sub_mul", "substitute",
           "substitute_transposed"]


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
    """The unrolled elimination of ``a`` (``factor``), replayed on right-hand sides by
    ``substitute``."""

    steps: list
    """Per pivot ``k``: ``(static_swap, swaps, multipliers)`` — a row index swapped with ``k``
    at trace time (or ``None``), ``[(i, flag)]`` the candidate rows (row ``k`` is exchanged with
    the one whose flag is set, if any), ``[(i, f)]`` eliminations."""
    upper: list
    """The rows of ``U`` (list-of-rows, ``None`` for structural zeros), unit-safe diagonal."""
    singular: object
    """Boolean scalar: smallest pivot ``≤ n ε ×`` the largest, NaN, or a structurally empty column.
    Without pivoting this says only that the static pivots cannot vouch for the matrix (a pivoted
    elimination decides: ``jaxtherm.solvers.Plan`` marks such points unverified)."""
    matrix: list | None = None
    """The matrix itself (list of rows, with its derivatives): the matrix–vector product of the
    implicit derivatives of ``solve`` (``init`` sets it)."""
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
        rows, static_swap, empty = _static_pivot(a, k)
        structurally_singular = structurally_singular or empty
        swaps = []
        if len(rows) > 1 and pivoting:
            a, swaps = _partial_pivot(a, k, rows)
        pivots.append(jnp.abs(a[k][k]))
        steps.append((static_swap, swaps, _eliminate(a, k, rows)))
    return Factors(steps, a, _singular(pivots, n * eps, structurally_singular))


def _static_pivot(a: list, k: int) -> tuple[list[int], int | None, bool]:
    """The candidate pivot rows of column ``k`` (rows ``i ≥ k`` with an entry there), row ``k``
    first: rows are exchanged in place when ``a[k][k]`` is a structural zero (a static swap), and
    a structurally empty column gets a zero pivot.

    Returns:
        ``(rows, static_swap, empty)``: the candidates, the row swapped with ``k`` (or ``None``),
        and whether the column was structurally empty."""
    n = len(a)
    rows = [i for i in range(k, n) if a[i][k] is not None]
    static_swap = None
    empty = not rows
    if empty:
        a[k][k] = jnp.zeros_like(next(v for row in a for v in row if v is not None))
        rows = [k]
    if rows[0] != k:  # a static swap: row k is structurally zero in this column
        static_swap = rows[0]
        a[k], a[rows[0]] = a[rows[0]], a[k]
        rows = [k, *rows[1:]]
    return rows, static_swap, empty


def _partial_pivot(a: list, k: int, rows: list[int]) -> tuple[list, list]:
    """Exchange row ``k`` with the first candidate of largest magnitude in column ``k``, by selects.

    Returns:
        ``(a, swaps)``: the exchanged matrix and ``[(i, flag)]``, ``flag`` set for the one
        candidate ``i`` that became the pivot row (none where row ``k`` stays)."""
    best, index = jnp.abs(a[k][k]), None
    for i in rows[1:]:
        magnitude = jnp.abs(a[i][k])
        better = magnitude > best  # False for NaN: no swap
        best = jnp.where(better, magnitude, best)
        index = jnp.where(better, float(i), float(k) if index is None else index)
    index = once(index)  # the pivot's row, then one compare per select
    swaps = [(i, index == i) for i in rows[1:]]
    return _swap(a, k, swaps, range(k, len(a))), swaps


def _eliminate(a: list, k: int, rows: list[int]) -> list:
    """One pivot step in place: the pivot ``a[k][k]`` (1 where it is 0), and for each candidate
    row ``i`` below it ``f = a_ik / a_kk``, ``a_ij −= f a_kj`` (``j > k``), stored once.

    Returns:
        The multipliers ``[(i, f)]``."""
    n = len(a)
    pivot = a[k][k]
    a[k][k] = jnp.where(pivot == 0, 1.0, pivot)
    inv = 1.0 / a[k][k]
    multipliers = []
    for i in rows[1:]:
        f = a[i][k] * inv
        for j in range(k + 1, n):
            a[i][j] = sub_mul(a[i][j], f, a[k][j])
        multipliers.append((i, f))
        a[i][k + 1:] = once(a[i][k + 1:])  # the updated trailing entries, stored (see jaxtherm.linalg._fusion)
    return multipliers


def _singular(pivots: list, tolerance: float, structurally_singular: bool):
    """The singular flag: ``min |pivot| ≤ tolerance · max |pivot|`` (also for NaN), or a
    structurally empty column."""
    smallest, largest = functools.reduce(jnp.minimum, pivots), functools.reduce(jnp.maximum, pivots)
    smallest, largest = once((smallest, largest))
    singular = ~(smallest > tolerance * largest)  # also True for NaN
    if structurally_singular:
        singular = jnp.ones_like(singular)
    return singular


def substitute(factors: Factors, b) -> list:
    """``x = a⁻¹ b`` by replaying ``factor``'s row operations on ``b`` and back-substituting.

    Args:
        factors: from ``factor``.
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
    return _back_substitute(factors.upper, b)


def _back_substitute(u: list, b: list) -> list:
    """``x = U⁻¹ b``: ``x_i = (b_i − Σ_{j>i} U_ij x_j) / U_ii`` from the last row up, structural
    zeros skipped (a zero like ``U_ii`` where nothing is left)."""
    n = len(b)
    x = [None] * n
    for i in reversed(range(n)):
        x[i] = _divided(_reduced(b[i], [(u[i][j], x[j]) for j in range(i + 1, n)]), u[i][i])
    return x


def _forward_substitute_transposed(u: list, c: list) -> list:
    """``z = U⁻ᵀ c``: ``z_i = (c_i − Σ_{j<i} U_ji z_j) / U_ii`` from the first row down,
    structural zeros skipped."""
    n = len(c)
    z = [None] * n
    for i in range(n):
        z[i] = _divided(_reduced(c[i], [(u[j][i], z[j]) for j in range(i)]), u[i][i])
    return z


def _reduced(acc, terms: list):
    """``acc − Σ u·x`` over the ``(u, x)`` terms in order, those with a ``None`` factor skipped."""
    for u, x in terms:
        if u is not None and x is not None:
            acc = sub_mul(acc, u, x)
    return acc


def _divided(acc, diagonal):
    """``acc / diagonal``, or a zero like ``diagonal`` for a structural zero ``acc``."""
    return jnp.zeros_like(diagonal) if acc is None else acc / diagonal


def substitute_transposed(factors: Factors, c) -> list:
    """``y = a⁻ᵀ c`` with the same factors. ``factor`` computed ``E a = U`` (``E`` its row
    operations in order), so ``aᵀ = Uᵀ E⁻ᵀ`` and ``y = Eᵀ U⁻ᵀ c``: a forward substitution with
    ``Uᵀ``, then the transposed operations in reverse order (a swap is its own transpose; the
    elimination ``b_i −= f b_k`` becomes ``y_k −= f y_i``)."""
    y = _forward_substitute_transposed(factors.upper, c)
    for k in reversed(range(len(factors.steps))):
        static_swap, swaps, multipliers = factors.steps[k]
        for i, f in reversed(multipliers):
            y[k] = sub_mul(y[k], f, y[i])
        y = _swap(y, k, swaps)  # a transposition is its own transpose
        if static_swap is not None:
            y[k], y[static_swap] = y[static_swap], y[k]
    return y


def _stack(values, like):
    """One array of scalars, ``None`` as zero."""
    zero = jnp.zeros((), like.dtype)
    return jnp.stack([zero if v is None else v for v in values])


def _to_rows(matrix, m: int) -> list:
    """A list-of-rows matrix; an ``(m, m)`` array: every entry counts."""
    if isinstance(matrix, list):
        return matrix
    return [[matrix[i, j] for j in range(m)] for i in range(m)]


MAX_UNKNOWNS = 32
"""Largest sector eliminated unrolled: the program, and its compile time, grow like ``n³``."""


def _check_size(n: int) -> None:
    """Check that a sector of ``n`` unknowns is small enough for partial pivoting unrolled.

    Raises:
        ValueError: for more than ``MAX_UNKNOWNS``."""
    raise_if(n > MAX_UNKNOWNS,
             ValueError(f"the unrolled elimination with partial pivoting takes at most {MAX_UNKNOWNS} unknowns; "
                        f"this sector has {n}"))


def _generator_entries(g, m: int):
    """The ``((i, j), value)`` entries of a generator in order: a ``Sparse`` one's static
    pattern, or every entry of an ``(m, m)`` array."""
    if isinstance(g, Sparse):  # a static pattern
        for e, (i, j) in enumerate(zip(g.rows.tolist(), g.cols.tolist())):
            yield (i, j), g.values[e]
    else:
        for i in range(m):
            for j in range(m):
                yield (i, j), g[i, j]


def _trace_eliminated(rows: list, d: int) -> list:
    """``A_ij = R_ij − R_i0 [j < d]`` for ``i, j ≥ 1``: ``R`` with the trace condition
    (``r_0 = 1 − Σ_{0<j<d} r_j``) eliminated."""
    m = len(rows)
    return [[rows[i][j] if j >= d else sub_mul(rows[i][j], 1.0, rows[i][0]) for j in range(1, m)] for i in range(1, m)]


def _permuted(a: list, order: tuple[int, ...] | None) -> list:
    """``a`` with rows and columns in ``order`` (``a`` itself for ``None``)."""
    return a if order is None else [[a[i][j] for j in order] for i in order]


def _constant(rows: list) -> list:
    """A list-of-rows matrix without its derivatives (``stop_gradient``), ``None`` kept."""
    return [[None if v is None else jax.lax.stop_gradient(v) for v in row] for row in rows]


def _abs_sum(row: list):
    """``Σ_j |row_j|`` over the entries that are not structural zeros (``None`` for none)."""
    return functools.reduce(add, [jnp.abs(e) for e in row if e is not None], None)


def _largest(values: list, like):
    """``max values``, or a zero like ``like`` for no values."""
    return functools.reduce(jnp.maximum, values) if values else jnp.zeros_like(like)


@dataclasses.dataclass(frozen=True)
class Unrolled(Elimination):
    """Gaussian elimination with partial pivoting unrolled into scalar operations (module
    docstring): vectors are lists of scalars and ``R`` a list of rows, structural zeros
    skipped, so a small sector's whole solve is elementwise over a batch. For sectors of at most
    ``MAX_UNKNOWNS`` unknowns."""

    name = "unrolled"
    scalars = True

    @property
    def description(self) -> str:
        return "unrolled elimination"

    def cpu_compiler_options(self, differentiated: bool) -> dict[str, object]:
        """With tangents, XLA's elemental emitter instead of its fusion emitters: an unrolled
        program is hundreds of small elementwise fusions, each compiled into a kernel of its own,
        and with tangents the elemental emitter compiles them faster and runs them as fast;
        without tangents it ran the kernels slower, so they keep the default
        (``benchmarks/bench_commits.py``; figures in ``docs/performance.md``)."""
        return {"xla_cpu_use_fusion_emitters": False} if differentiated else {}

    def _order(self) -> tuple[int, ...] | None:
        return None

    def assemble(self, coeffs, supers: np.ndarray, generators, dtype) -> list:
        """``R_ij = Σ_k c_k (S_k)_ij (+ Σ_j G_j[i, j])`` entry by entry as a list of rows, the
        structural zeros skipped (``None`` where every term is zero): those of the constants, and
        those outside the pattern of ``jaxtherm.solvers.Sparse`` generators.

        Entries with a generator's term are computed once (``jaxtherm.linalg._fusion.once``): they
        feed the elimination, the norms and the residual; the constants' few products are cheaper
        to recompute (``benchmarks/bench_models.py``)."""
        m = supers.shape[-1]
        rows = [[lincomb(supers[:, i, j], coeffs) for j in range(m)] for i in range(m)]
        touched = set()
        for g in generators:
            for (i, j), value in _generator_entries(g, m):
                rows[i][j] = add(rows[i][j], value)
                touched.add((i, j))
        stored = once([rows[i][j] for i, j in sorted(touched)])
        for (i, j), v in zip(sorted(touched), stored):
            rows[i][j] = v
        return rows

    def init(self, operator, d: int, eps: float) -> Factors:
        """``factor`` of the trace-eliminated ``A`` (``A_ij = R_ij − R_i0 [j < d]``, i, j ≥ 1):
        with partial pivoting, or with static pivots in the elimination's order.

        The elimination runs on the values of ``A`` without their derivatives
        (``stop_gradient``): ``solve`` differentiates implicitly with ``A`` itself, kept in
        the factors."""
        rows = _to_rows(operator, len(operator))
        order = self._order()
        if order is None:
            _check_size(len(rows) - 1)
        a = _trace_eliminated(rows, d)
        constant = _constant(_permuted(a, order))
        return factor(constant, eps, pivoting=order is None)._replace(matrix=a, order=order)

    def matvec(self, state: Factors, x):
        n = len(state.upper)
        return _stack(matvec(state.matrix, [x[i] for i in range(n)]), x)

    def substitute(self, state: Factors, matvec_, rhs, transpose: bool):
        """Replays the factors (``substitute``, ``substitute_transposed``). Static
        pivots are applied in their order and refined once, ``x₁ = x₀ + S(rhs − A x₀)``
        (``S`` the substitution; transposed likewise with ``Aᵀ``): without pivoting an
        elimination can grow its entries, and one step brings the backward error back to
        ``~ε`` wherever the growth times ``ε`` stays below 1; the residual check says where
        it did not."""
        n = len(state.upper)
        substitution = substitute_transposed if transpose else substitute
        order = state.order
        if order is None:
            return _stack(substitution(state, [rhs[i] for i in range(n)]), rhs)
        back = np.argsort(order)

        def apply(w):
            y = substitution(state, [w[i] for i in order])
            return _stack([y[int(i)] for i in back], rhs)

        x = apply(rhs)
        return x + apply(rhs - matvec_(x))

    def solve(self, state: Factors, rhs):
        """``x = A⁻¹ rhs`` (``Elimination.solve``) in the form of ``rhs``: a list of ``n``
        scalars (``None`` for structural zeros: one array at the solve's boundary, every entry
        linear in it), or an ``(n,)`` array."""
        if isinstance(rhs, list):
            n = len(state.upper)
            x = super().solve(state, _stack(rhs, state.upper[0][0]))
            return [x[i] for i in range(n)]
        return super().solve(state, rhs)

    def trace_rhs(self, operator) -> list:
        rows = _to_rows(operator, len(operator))
        return [None if rows[i][0] is None else -rows[i][0] for i in range(1, len(rows))]

    def restore(self, x: list, d: int) -> list:
        r0 = 1.0
        for xi in x[: d - 1]:
            r0 = r0 - xi
        return [r0 + jnp.zeros_like(x[0]), *x]

    def stacked(self, r: list):
        return jnp.stack(r)

    def norms(self, operator, r: list):
        """``(‖R‖_∞, ‖r‖_∞, ‖R r‖_∞)``, structural zeros skipped, each computed once."""
        rows = _to_rows(operator, len(operator))
        rs = [jax.lax.stop_gradient(v) for v in r]
        rm = _constant(rows)
        row_sums = [_abs_sum(row) for row in rm]
        residuals = [jnp.abs(v) for v in matvec(rm, rs) if v is not None]
        groups = ([v for v in row_sums if v is not None], [jnp.abs(v) for v in rs], residuals)
        return once(tuple(_largest(values, rs[0]) for values in groups))


@dataclasses.dataclass(frozen=True)
class StaticPivots(Unrolled):
    """The unrolled elimination without pivoting, the diagonal as pivots in a fill-reducing
    order (``jaxtherm.linalg.ordering.threshold_order``): the program is the sparse
    elimination of ``A``'s own pattern, so it grows with the fill, not with ``n³``. Each solve
    is refined once and each point checked (``Elimination.steady_state``); a point that
    fails is solved again by ``fallback``, LU with partial pivoting.

    Args:
        order: the elimination order (unknown ``order[k]`` is the ``k``-th pivot); ``None``: the
            threshold order of the sector's pattern, made by ``prepare``.
    """

    order: tuple[int, ...] | None = None
    name = "static_pivots"
    static_pivots = True

    @property
    def description(self) -> str:
        return ("sparse elimination in a fill-reducing order with static pivots (LU with partial pivoting where a "
                "point fails its residual check)")

    def fallback(self) -> Elimination:
        from jaxtherm.linalg.lu import LU

        return LU()

    def prepare(self, pattern: np.ndarray, sample: np.ndarray) -> StaticPivots:
        if self.order is not None:
            return self
        return dataclasses.replace(self, order=ordering.threshold_order(pattern, sample))

    def _order(self) -> tuple[int, ...]:
        raise_if(self.order is None, ValueError("StaticPivots has no elimination order: prepare() it for a sector pattern first"))
        return self.order

    def init(self, operator, d: int, eps: float) -> Factors:
        raise_if(len(_to_rows(operator, len(operator))) - 1 != len(self._order()),
                 ValueError(f"StaticPivots' order has {len(self._order())} unknowns; the matrix has "
                            f"{len(operator) - 1}"))
        return super().init(operator, d, eps)
