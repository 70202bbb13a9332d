"""Sparse elimination with static pivots in stages, the batch innermost: sectors of any size.

The trace-eliminated sector matrix ``A`` (``jaxtherm.linalg.lu``) of a model without Davies
baths has a pattern known when the program is traced. Eliminated with the diagonal as pivots in
a fill-reducing order (``jaxtherm.linalg.ordering.threshold_order``), its factors ``L U``
fill a pattern of ``nnz`` entries, and the elimination is the updates ``a_ij −= l_ik u_kj``
(``l_ik = a_ik / a_kk``) over that pattern: ``jaxtherm.linalg.ordering.fill`` of them.

Pivot ``k`` depends on an earlier pivot ``k'`` when ``k'``'s updates reach row or column ``k``
(``l_kk' ≠ 0`` or ``u_k'k ≠ 0``). The pivots of one *level* (``structure``: one more than
the deepest pivot they depend on) are independent, and one stage eliminates them all at once:

    l[L] = v[L] / v[P];   v[T] −= l[S] * u[U]         (gathers, a product, a scatter-add)

with static index vectors ``L, P, T, S, U`` into the values ``v`` of the filled pattern. The
3-qubit chain's 19 unknowns take 9 levels, the 4-qubit chain's 69 take 18, the 5-qubit
chain's 251 take 54 (60,529 updates). Consecutive levels of similar sizes run as one loop over
padded index vectors (``_grouped``), so the program grows with the number of such runs
(~10), neither with the fill (as the unrolled elimination of ``jaxtherm.linalg.unrolled``
does, and its compile time with it) nor with the levels (``benchmarks/bench_sectors.py``
measures both compile times; figures in ``docs/performance.md``).

Under ``vmap`` (``jax.custom_batching.custom_vmap``) the values of a batch are stored as
``(nnz, B)``, the points innermost, so that every gathered or scattered index moves ``B``
contiguous numbers and the products are long vector operations. On a CPU the batch is
eliminated in blocks of points whose values stay in cache (``cpu_block``: at most
``CPU_BLOCK`` points and ``CPU_BLOCK_BYTES`` of values), which is faster than the whole batch
at once or the points outermost (``benchmarks/bench_sectors.py``, ``docs/performance.md``);
``jaxtherm.kernel.batch.in_blocks`` runs a staged plan's whole kernel in such blocks. On a GPU
the whole batch is one block.

Solves (``solve``) replay the levels on right-hand sides (forward with ``L``, backward with
``U``, and transposed) and take one step of iterative refinement, in one batch-innermost
program (every boundary of one transposes its arrays); the caller checks the
residual, as for ``jaxtherm.linalg.unrolled``'s static pivots.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxtherm._checks import raise_if
from jaxtherm.linalg import ordering
from jaxtherm.linalg.elimination import Elimination, Sparse, target_platform

CPU_BLOCK = 64
"""Points eliminated together on a CPU at most (``cpu_block``)."""

CPU_BLOCK_BYTES = 8 << 20
"""The values a block of points eliminated together on a CPU may hold at most (``cpu_block``):
``nnz × 8`` bytes a point (float64; each forward-mode tangent adds as much again, not counted),
3.2 MB for 64 points of the 5-qubit chain (6,325 values a point), 8.3 MB for 16 of the 6-qubit
chain (64,931). Measured in ``docs/performance.md``: the oscillator pair at cutoff 10 (47,463
values) ran 2.2× faster in blocks of 16 points than of 64 (24 MB); the 6-qubit chain's gain
(blocks of 16 against 64 for 33 MB) is within that machine's noise."""


def cpu_block(nnz: int) -> int:
    """Points eliminated together on a CPU for ``nnz`` values a point: the largest power of two
    ``≤ CPU_BLOCK`` whose values, ``block × nnz × 8`` bytes, fit ``CPU_BLOCK_BYTES``; at least 4
    (one AVX2 vector of float64)."""
    block = CPU_BLOCK
    while block > 4 and block * nnz * 8 > CPU_BLOCK_BYTES:
        block //= 2
    return block


class Stage(NamedTuple):
    """One level of an elimination or a substitution, as static index vectors; or a run of
    levels of similar sizes, each vector ``(count, width)`` (a loop over its rows, padded).

    ``divide``/``by``: ``v[divide] /= w[by]`` (in the elimination a zero pivot divides as 1; it
    is flagged by ``Staged.factorise``); then
    ``v[target] −= w[factor] * v[source]`` (``w`` the factors' values; for the elimination
    ``v`` is ``w`` itself). Padding writes to a scratch row after the last one."""

    divide: np.ndarray
    by: np.ndarray
    target: np.ndarray
    factor: np.ndarray
    source: np.ndarray


MIN_TAIL = 8
"""A dense trailing block of at least this many pivots is substituted by a loop (``Structure``)."""

MIN_RUN = 2
"""At least this many consecutive levels of similar sizes are run as one loop (``_grouped``)."""


@dataclasses.dataclass(frozen=True, eq=False)
class Structure:
    """The static structure of a staged elimination (``structure``), in the pivot order.

    A minimum-degree elimination ends in a dense block (the 5-qubit chain's last 39 pivots, 39
    of its 54 levels): from pivot ``tail`` on every entry is filled. Its values are stored last,
    row-major, and the substitutions run through it in a ``fori_loop`` (a program of constant
    size instead of 4 × 39 stages)."""

    n: int
    """Number of unknowns."""
    order: np.ndarray
    """Unknown ``order[k]`` is the ``k``-th pivot."""
    rows: np.ndarray
    cols: np.ndarray
    """The filled pattern (pivot order): entry ``e`` of the values is ``(rows[e], cols[e])``."""
    a_rows: np.ndarray
    a_cols: np.ndarray
    """``A``'s own pattern in the original order (the matrix–vector product)."""
    a_slots: np.ndarray
    """Where ``A``'s entries (in the order of ``a_rows``, ``a_cols``) sit in the values."""
    diagonal: np.ndarray
    """The pivots' slots, ``(n,)``."""
    tail: int
    """The first pivot of the dense trailing block (``n`` if there is none); its ``(n − tail)²``
    values are the last ones, row-major."""
    factorisation: tuple[Stage, ...]
    lower: tuple[Stage, ...]
    upper: tuple[Stage, ...]
    upper_transposed: tuple[Stage, ...]
    lower_transposed: tuple[Stage, ...]
    """The stages of the elimination (every level) and of the four triangular substitutions
    (the levels before the tail; ``upper`` and ``lower_transposed`` begin with the tail's
    pivots' contributions to the rows before it)."""

    updates: int
    """Multiply–adds of one factorisation (``jaxtherm.linalg.ordering.fill``)."""


def _ints(values) -> np.ndarray:
    return np.asarray(values, np.int32).reshape(-1)


def structure(pattern: np.ndarray, order: tuple[int, ...]) -> Structure:
    """The filled pattern, levels and stages of eliminating ``pattern`` in ``order``.

    Args:
        pattern: boolean ``(n, n)`` structural non-zeros of ``A`` (original order); every pivot
            must be structurally non-zero once the earlier pivots' fill is in.
        order: the elimination order (a permutation of ``range(n)``).

    Raises:
        ValueError: where a pivot is a structural zero (the plan then takes another method).
    """
    a = np.asarray(pattern, bool)
    n = len(a)
    filled = _filled(a, order)
    tail = _tail(filled)
    rows, cols = _storage(filled, tail)
    slot = np.full((n, n), -1)
    slot[rows, cols] = np.arange(len(rows))
    pattern_ = _Pattern(filled, slot, tail)
    factorisation = [pattern_.factorisation(pivots) for pivots in _levels(filled)]
    lower, upper, upper_t, lower_t = pattern_.substitutions(_levels(filled))
    position = np.empty(n, int)
    position[list(order)] = np.arange(n)  # the pivot index of each original unknown
    a_rows, a_cols = np.nonzero(a)
    return Structure(
        n=n, order=_ints(order), rows=_ints(rows), cols=_ints(cols), a_rows=_ints(a_rows), a_cols=_ints(a_cols),
        a_slots=_ints(slot[position[a_rows], position[a_cols]]), diagonal=_ints(slot[np.arange(n), np.arange(n)]),
        tail=tail, updates=sum(len(f.target) for f in factorisation),
        factorisation=_grouped(factorisation, len(rows)), lower=_grouped(lower, n),
        upper=_grouped(upper[::-1], n), upper_transposed=_grouped(upper_t, n), lower_transposed=_grouped(lower_t[::-1], n),
    )


def _filled(a: np.ndarray, order) -> np.ndarray:
    """The pattern of ``L\\U`` (pivot order): ``a`` permuted, with every pivot's fill.

    Raises:
        ValueError: where a pivot is a structural zero."""
    filled = a[np.ix_(order, order)].copy()
    for k in range(len(a)):
        raise_if(not filled[k, k], ValueError(f"pivot {k} is a structural zero in this order"))
        rows = np.flatnonzero(filled[k + 1:, k]) + k + 1
        cols = np.flatnonzero(filled[k, k + 1:]) + k + 1
        filled[np.ix_(rows, cols)] = True
    return filled


def _tail(filled: np.ndarray) -> int:
    """The first pivot of the dense trailing block (``n`` if it has fewer than ``MIN_TAIL`` pivots)."""
    n = len(filled)
    tail = n
    while tail > 0 and filled[tail - 1:, tail - 1:].all():
        tail -= 1
    return n if n - tail < MIN_TAIL else tail


def _storage(filled: np.ndarray, tail: int) -> tuple[np.ndarray, np.ndarray]:
    """The entries' order in the values: the filled entries before the tail, then the tail's
    block row-major."""
    n = len(filled)
    in_tail = np.zeros((n, n), bool)
    in_tail[tail:, tail:] = True
    head_rows, head_cols = np.nonzero(filled & ~in_tail)
    tail_rows, tail_cols = np.nonzero(in_tail)  # row-major
    return np.concatenate([head_rows, tail_rows]), np.concatenate([head_cols, tail_cols])


def _levels(filled: np.ndarray) -> list[np.ndarray]:
    """The pivots of each level: one more than the deepest earlier pivot whose updates reach
    row or column ``k``."""
    n = len(filled)
    level = np.zeros(n, int)
    for k in range(n):
        before = np.flatnonzero(filled[k, :k] | filled[:k, k])
        level[k] = level[before].max() + 1 if len(before) else 0
    return [_ints(np.flatnonzero(level == v)) for v in range(level.max() + 1)]


@dataclasses.dataclass(frozen=True)
class _Pattern:
    """The filled pattern, its slots and its tail: makes the stages of one level."""

    filled: np.ndarray
    slot: np.ndarray
    tail: int

    def below(self, k):  # rows i > k of column k
        return np.flatnonzero(self.filled[k + 1:, k]) + k + 1

    def right(self, k):  # columns j > k of row k
        return np.flatnonzero(self.filled[k, k + 1:]) + k + 1

    def left(self, k):  # columns j < k of row k, before the tail
        return np.flatnonzero(self.filled[k, : min(k, self.tail)])

    def above(self, k):  # rows i < k of column k, before the tail
        return np.flatnonzero(self.filled[: min(k, self.tail), k])

    def factorisation(self, pivots: np.ndarray) -> Stage:
        """``l[L] = v[L] / v[P]; v[T] −= l[S] * u[U]`` for the pivots of one level: for each pivot
        ``k`` in order, the entries ``l_ik`` (``i`` below ``k``) and the updates ``(i, k, j)``,
        ``i`` outer and ``j`` (right of ``k``) inner; index arrays, not Python tuples (the
        6-qubit chain has ~10⁶ updates)."""
        slot = self.slot
        below = [self.below(k) for k in pivots]
        right = [self.right(k) for k in pivots]
        ci = _cat(below)  # (i, k): the entries l_ik
        ck = _cat([np.full(len(b), k) for b, k in zip(below, pivots)])
        ti = _cat([np.repeat(b, len(r)) for b, r in zip(below, right)])  # the updates (i, k, j)
        tk = _cat([np.full(len(b) * len(r), k) for b, r, k in zip(below, right, pivots)])
        tj = _cat([np.tile(r, len(b)) for b, r in zip(below, right)])
        return Stage(_ints(slot[ci, ck]), _ints(slot[ck, ck]), _ints(slot[ti, tj]),
                     _ints(slot[ti, tk]), _ints(slot[tk, tj]))

    @staticmethod
    def _pairs(pivots, neighbours) -> list[tuple[int, int]]:
        """``(i, k)`` for each pivot ``k`` in order and each ``i`` of ``neighbours(k)``."""
        return [(i, k) for k in pivots for i in neighbours(k)]

    def _push(self, pairs, transposed: bool, divide=()) -> Stage:
        """``x[i] −= w[entry] x[k]`` for ``(i, k)`` in ``pairs``, the entry ``(i, k)`` (``(k, i)``
        ``transposed``), after ``x[divide] /= w[diagonal]``."""
        divide = _ints(divide)
        entries = [self.slot[k, i] if transposed else self.slot[i, k] for i, k in pairs]
        return Stage(divide, _ints(self.slot[divide, divide]), _ints([i for i, _ in pairs]), _ints(entries),
                     _ints([k for _, k in pairs]))

    def substitutions(self, levels: list[np.ndarray]) -> tuple[list[Stage], list[Stage], list[Stage], list[Stage]]:
        """The stages of the four triangular substitutions, level by level before the tail (in
        the order of the levels: ``upper`` and ``lower_transposed`` run them backwards), and the
        tail's pivots' contributions to the rows (columns) before it as the last stage."""
        lower, upper, upper_t, lower_t = [], [], [], []
        for head in self._heads(levels):
            # L forward: x[i] −= l_ik x[k];  U backward: x[k] /= u_kk, then x[i] −= u_ik x[k] (i < k)
            lower.append(self._push(self._pairs(head, self.below), False))
            upper.append(self._push(self._pairs(head, self.above), False, head))
            # Uᵀ forward: x[k] /= u_kk, then x[j] −= u_kj x[k];  Lᵀ backward: x[j] −= l_kj x[k] (j < k)
            upper_t.append(self._push(self._pairs(head, self.right), True, head))
            lower_t.append(self._push(self._pairs(head, self.left), True))
        ends = range(self.tail, len(self.filled))
        upper.append(self._push(self._pairs(ends, self.above), False))
        lower_t.append(self._push(self._pairs(ends, self.left), True))
        return lower, upper, upper_t, lower_t

    def _heads(self, levels: list[np.ndarray]):
        """Each level's pivots before the tail, the levels with none skipped."""
        for pivots in levels:
            head = pivots[pivots < self.tail]
            if len(head):
                yield head


def _cat(arrays: list[np.ndarray]) -> np.ndarray:
    """The integer arrays joined (empty where there are none)."""
    return np.concatenate(arrays).astype(np.int64, copy=False) if arrays else np.zeros(0, np.int64)


def _grouped(stages: list[Stage], scratch: int) -> tuple[Stage, ...]:
    """Consecutive stages whose sizes (``len(target)``) lie within a factor 2 of each other
    joined into one looped stage, padded to the largest (padding reads row 0, writes
    ``scratch``): the 5-qubit chain's 54 levels become ~10 runs, and the
    program, and its compile time, shrinks with them (``benchmarks/bench_sectors.py``)."""
    out = []
    for members in _runs(stages):
        if len(members) < MIN_RUN:
            out.extend(members)
        else:
            out.append(_padded(members, scratch))
    return tuple(out)


def _runs(stages: list[Stage]) -> list[list[Stage]]:
    """The non-empty stages in runs whose sizes ``max(len(target), 1)`` stay within a factor 2:
    a stage joins the current run where ``max(size, high) ≤ 2 min(size, low)`` for the run's
    smallest and largest sizes ``low``, ``high``."""
    runs: list[list[Stage]] = []
    bounds: list[tuple[int, int]] = []
    for stage in stages:
        if not any(len(a) for a in stage):
            continue
        size = max(len(stage.target), 1)
        if runs and max(size, bounds[-1][1]) <= 2 * min(size, bounds[-1][0]):
            bounds[-1] = (min(bounds[-1][0], size), max(bounds[-1][1], size))
            runs[-1].append(stage)
        else:
            runs.append([stage])
            bounds.append((size, size))
    return runs


def _padded(members: list[Stage], scratch: int) -> Stage:
    """One looped stage of ``members``: each field ``(len(members), width)``, the shorter ones
    padded (``divide`` and ``target`` with ``scratch``, ``by``, ``factor`` and ``source`` with row
    0)."""
    fills = Stage(divide=scratch, by=0, target=scratch, factor=0, source=0)
    return Stage(*[_padded_field([getattr(m, name) for m in members], getattr(fills, name)) for name in Stage._fields])


def _padded_field(arrays: list[np.ndarray], fill) -> np.ndarray:
    """``arrays`` stacked, each padded to the longest with ``fill``."""
    width = max(len(a) for a in arrays)
    return np.stack([np.concatenate([a, np.full(width - len(a), fill, np.int32)]) for a in arrays]).astype(np.int32)


# --- the stages on a block of points, ``(slots, B)``: the batch innermost


_ROWS = jax.lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,))
_INTO_ROWS = jax.lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
                                             scatter_dims_to_operand_dims=(0,))
_IN_BOUNDS = jax.lax.GatherScatterMode.PROMISE_IN_BOUNDS


def _take(v, index):
    """Rows ``v[index]`` of a ``(·, B)`` block (a plain gather: indices in bounds, no
    normalisation of negative ones, which ``v[index]`` traces as ~3 more operations)."""
    return jax.lax.gather(v, index[:, None], _ROWS, (1, v.shape[1]), mode=_IN_BOUNDS)


def _put(v, index, rows, add: bool):
    """``v[index] += rows`` (``add``; repeated indices sum) or ``v[index] = rows``."""
    scatter = jax.lax.scatter_add if add else jax.lax.scatter
    return scatter(v, index[:, None], rows, _INTO_ROWS, mode=_IN_BOUNDS)


def _apply(s: Stage, v, w):
    """One stage (1-D index vectors) on ``v``."""
    if s.divide.shape[0]:
        by = _nonzero(_take(v, s.by)) if w is None else _take(w, s.by)  # the factors' diagonal is non-zero
        v = _put(v, s.divide, _take(v, s.divide) / by, add=False)
    if s.target.shape[0]:
        v = _put(v, s.target, -(_take(v if w is None else w, s.factor) * _take(v, s.source)), add=True)
    return v


def _nonzero(pivots):
    """The pivots with zeros as 1: finite factors where a pivot vanishes (the point is flagged
    singular by ``Staged.factorise`` and its values discarded)."""
    return jnp.where(pivots == 0, 1.0, pivots)


def _run(stages, v, w=None):
    """Apply ``stages`` to ``v`` (``(rows + 1, B)``, the last row scratch) with the factors ``w``
    (``v`` itself if ``None``).

    Every step reads ``v`` only through gathers that the scatter after it consumes: a loop body
    that also read ``v`` elsewhere (as a reduction over its pivots did) made XLA copy the whole
    ``v`` twice an iteration, which cost the oscillators at cutoff 8 and 10 half their speed."""
    for s in stages:
        if s.target.ndim == 1:
            v = _apply(s, v, w)
            continue

        def body(i, v, s=s):
            return _apply(Stage(*(jax.lax.dynamic_index_in_dim(jnp.asarray(a), i, keepdims=False) for a in s)), v, w)

        v = jax.lax.fori_loop(0, s.target.shape[0], body, v)
    return v


def _factor_block(st: Structure, a_values):
    """``a_values``: ``(E, B)`` entries of ``A`` → ``(values (nnz + 1, B), smallest, largest (B,))``
    (the last row of the values is scratch). A pivot is final once its level is reached (no
    later update writes to it), so the pivots' magnitudes are read from the diagonal at the
    end, and its zeros set to 1 there (the divisions took them as 1)."""
    v = _put(jnp.zeros((len(st.rows) + 1, a_values.shape[1]), a_values.dtype), st.a_slots, a_values, add=False)
    v = _run(st.factorisation, v)
    pivots = _take(v, st.diagonal)
    magnitude = jnp.abs(pivots)
    v = _put(v, st.diagonal, _nonzero(pivots), add=False)
    return v, jnp.min(magnitude, axis=0), jnp.max(magnitude, axis=0)


def _solve_block(st: Structure, values, rhs, transpose: bool):
    """``rhs``: ``(n, B)`` in the original order → ``A⁻¹ rhs`` (or ``A⁻ᵀ rhs``), ``(n, B)``
    (``values``: ``_factor_block``'s, scratch row included)."""
    x = jnp.concatenate([_take(rhs, st.order), jnp.zeros_like(rhs[:1])])  # and a scratch row
    first, second = (st.upper_transposed, st.lower_transposed) if transpose else (st.lower, st.upper)
    x = _run(first, x, values)
    if st.tail < st.n:
        s, end = st.n - st.tail, len(st.rows)
        block = values[end - s * s: end].reshape(s, s, -1)
        if transpose:  # Uᵀ then Lᵀ: through the rows of the block
            block = jnp.swapaxes(block, 0, 1)
        head, t, scratch = x[: st.tail], x[st.tail: st.n], x[st.n:]
        t = _dense_lower(block, t, unit=True) if not transpose else _dense_lower(block, t, unit=False)
        t = _dense_upper(block, t, unit=False) if not transpose else _dense_upper(block, t, unit=True)
        x = jnp.concatenate([head, t, scratch])
    x = _run(second, x, values)
    return _take(x, np.argsort(st.order).astype(np.int32))


def _diagonal_entry(block, k):
    """``block[k, k]`` (``(B,)``) for a traced ``k``."""
    row = jax.lax.dynamic_index_in_dim(block, k, keepdims=False)
    return jax.lax.dynamic_index_in_dim(row, k, keepdims=False)


def _dense_lower(block, x, unit: bool):
    """Forward substitution with the lower triangle of a dense ``(s, s, B)`` block on ``(s, B)``
    (a loop over the pivots: ``x_i −= b_ik x_k`` for ``i > k``, after ``x_k /= b_kk`` unless
    ``unit``)."""
    index = jnp.arange(x.shape[0])[:, None]

    def step(k, x):
        xk = jax.lax.dynamic_index_in_dim(x, k, keepdims=False)
        if not unit:
            xk = xk / _diagonal_entry(block, k)
            x = jax.lax.dynamic_update_index_in_dim(x, xk, k, 0)
        column = jax.lax.dynamic_index_in_dim(block, k, axis=1, keepdims=False)
        return x - jnp.where(index > k, column, 0.0) * xk

    return jax.lax.fori_loop(0, x.shape[0], step, x)


def _dense_upper(block, x, unit: bool):
    """Backward substitution with the upper triangle of a dense ``(s, s, B)`` block (``x_k /=
    b_kk`` unless ``unit``, then ``x_i −= b_ik x_k`` for ``i < k``, ``k`` descending)."""
    s = x.shape[0]
    index = jnp.arange(s)[:, None]

    def step(j, x):
        k = s - 1 - j
        xk = jax.lax.dynamic_index_in_dim(x, k, keepdims=False)
        if not unit:
            xk = xk / _diagonal_entry(block, k)
            x = jax.lax.dynamic_update_index_in_dim(x, xk, k, 0)
        column = jax.lax.dynamic_index_in_dim(block, k, axis=1, keepdims=False)
        return x - jnp.where(index < k, column, 0.0) * xk

    return jax.lax.fori_loop(0, s, step, x)


def _blocked(fn, columns, *arrays):
    """``fn`` on the ``(·, B)`` arrays in blocks of ``columns`` points (all of them if ``None``),
    arrays given and returned with the points first, ``(B, ·)``."""
    size = arrays[0].shape[0]
    points_first = _points_first(fn)
    if columns is None or size <= columns:
        return points_first(*arrays)
    blocks = -(-size // columns)
    out = jax.lax.map(lambda xs: points_first(*xs), _in_blocks(arrays, blocks, columns))
    return tuple(y.reshape(blocks * columns, *y.shape[2:])[:size] for y in out)


def _points_first(fn):
    """``fn`` of ``(·, B)`` arrays as a function of ``(B, ·)`` arrays: its arguments and results
    transposed."""
    return lambda *arrays: tuple(y.T for y in fn(*(x.T for x in arrays)))


def _in_blocks(arrays, blocks: int, columns: int) -> tuple:
    """Each ``(B, ·)`` array as ``(blocks, columns, ·)``, padded to ``blocks · columns`` points
    by repeating its last point."""
    size = arrays[0].shape[0]
    padded = [jnp.concatenate([x, jnp.broadcast_to(x[-1:], (blocks * columns - size, *x.shape[1:]))]) for x in arrays]
    return tuple(x.reshape(blocks, columns, *x.shape[1:]) for x in padded)


def _inner_block(nnz: int) -> int | None:
    """Points eliminated together where a ``vmap`` batches a staged elimination: on a CPU
    ``cpu_block``, elsewhere all, for the platform the kernel is traced for
    (``jaxtherm.linalg.elimination.target_platform``). ``jaxtherm.kernel.batch`` runs its
    kernels in blocks of ``Staged.block_size(platform)`` already, so that this sees one block
    and splits nothing; it splits a batch of a caller's own ``vmap`` (``pointwise`` in an
    optimiser or a fit)."""
    return cpu_block(nnz) if target_platform() == "cpu" else None


def _innermost(block, nnz: int):
    """A function of one point's arrays (first axis the slots) whose ``vmap`` runs ``block`` on
    ``(slots, B)`` arrays, the points innermost, in blocks of ``_inner_block(nnz)`` points
    (``jax.custom_batching.custom_vmap``: the batch is moved innermost at this boundary and back).
    ``block`` returns a tuple of ``(·, B)`` or ``(B,)`` arrays; ``nnz`` is the values a point of
    the elimination holds."""

    @jax.custom_batching.custom_vmap
    def run(*args):
        return tuple(y[..., 0] for y in block(*(x[:, None] for x in args)))

    @run.def_vmap
    def _(axis_size, in_batched, *args):
        args = [x if b else jnp.broadcast_to(x, (axis_size, *x.shape)) for x, b in zip(args, in_batched)]
        out = _blocked(block, _inner_block(nnz), *args)
        return out, tuple(True for _ in out)

    return run


def factor(st: Structure, a_values):
    """Eliminate ``A`` (its entries ``a_values``, ``(E,)`` in the order of ``st.a_rows``,
    ``st.a_cols``) with static pivots in stages.

    Returns:
        ``(values, smallest, largest)``: the factors ``L\\U`` on the filled pattern and a scratch entry (``(nnz + 1,)``,
        unit ``L`` implied, zero pivots replaced by 1) and the smallest and largest pivot
        magnitude (before that replacement).
    """
    return _innermost(lambda a: _factor_block(st, a), len(st.rows))(a_values)


def substitute(st: Structure, values, a_values, rhs, transpose: bool = False):
    """``x = A⁻¹ rhs`` (or ``A⁻ᵀ rhs``) with the factors of ``factor``, refined once:
    ``x₁ = x₀ + S(rhs − A x₀)``, ``S`` the substitution and ``A`` from its entries ``a_values``
    (``(n,)``; one batch-innermost program for all three, not differentiable)."""

    def block(v, a, b):
        rows, cols = (st.a_cols, st.a_rows) if transpose else (st.a_rows, st.a_cols)
        x = _solve_block(st, v, b, transpose)
        residual = b - _put(jnp.zeros_like(b), rows, a * _take(x, cols), add=True)
        return (x + _solve_block(st, v, residual, transpose),)

    return _innermost(block, len(st.rows))(values, a_values, rhs)[0]


def matvec(st: Structure, a_values, x):
    """``A x`` from ``A``'s entries, ``(n,)`` (differentiable: the implicit derivatives' product)."""
    return jnp.zeros_like(x).at[st.a_rows].add(a_values * x[st.a_cols])


def product(rows: np.ndarray, cols: np.ndarray, size: int, values, x):
    """``y_i = Σ_e [rows_e = i] values_e x[cols_e]``, ``(size,)``: a sparse matrix–vector product
    with the batch innermost under ``vmap`` (a scatter with the points outermost cost 6 ns an
    entry, 4-qubit chain). Not differentiable (used on values without derivatives)."""
    rows, cols = _ints(rows), _ints(cols)

    def block(v, xx):
        return (_put(jnp.zeros((size, v.shape[1]), v.dtype), rows, v * _take(xx, cols), add=True),)

    return _innermost(block, len(rows))(values, x)[0]


class StagedState(NamedTuple):
    """A staged factorisation (``Staged.init``)."""

    values: jax.Array
    """``L\\U`` on the filled pattern and a scratch entry, ``(nnz + 1,)``."""
    a: jax.Array
    """``A``'s entries (with their derivatives): the implicit derivatives' matrix–vector product."""
    singular: jax.Array
    """Boolean: smallest pivot ``≤ n ε ×`` the largest, or NaN (the static pivots cannot vouch
    for the matrix: the point is marked unverified)."""


@dataclasses.dataclass(frozen=True)
class Staged(Elimination):
    """The sparse elimination with static pivots in a fill-reducing order, level by level with
    the batch innermost (module docstring): for sectors whose unrolled elimination would be too
    large a program. Refined once a solve and checked a point, as ``StaticPivots``; a
    point that fails is solved again by ``fallback``, LU with partial pivoting.

    ``R`` is stored as its entries at a static pattern (``jaxtherm.solvers.Sparse``).

    Args:
        order: the elimination order; ``None``: the threshold order of the sector's pattern.
        structure: the filled pattern and stages (``structure``), made by ``prepare``.
    """

    order: tuple[int, ...] | None = None
    structure: Structure | None = dataclasses.field(default=None, compare=False, repr=False)
    name = "staged"
    static_pivots = True

    @property
    def description(self) -> str:
        return ("sparse elimination in a fill-reducing order with static pivots, level by level with the batch "
                "innermost (LU with partial pivoting where a point fails its residual check)")

    def fallback(self) -> Elimination:
        from jaxtherm.linalg.lu import LU

        return LU()

    def prepare(self, pattern: np.ndarray, sample: np.ndarray) -> Staged:
        """The order (if not given) and the structure for ``pattern``.

        Raises:
            ValueError: where a pivot is a structural zero in that order."""
        order = self.order if self.order is not None else ordering.threshold_order(pattern, sample)
        return dataclasses.replace(self, order=tuple(order), structure=structure(pattern, order))

    def block_size(self, platform: str) -> int | None:
        """Points whose whole kernel runs together: on a CPU a block whose values stay in the
        caches (``cpu_block`` of the filled pattern's size), elsewhere the whole chunk."""
        return cpu_block(len(self._structure().rows)) if platform == "cpu" else None

    def _structure(self) -> Structure:
        raise_if(self.structure is None, ValueError("Staged has no structure: prepare() it for a sector pattern first"))
        return self.structure

    def assemble(self, coeffs, supers: np.ndarray, generators, dtype) -> Sparse:
        """``R = Σ_k c_k S_k + Σ_j G_j`` at its structural non-zeros only (one ``(K,) @ (K, E)``
        product: the dense ``(m, m)`` contraction would cost ``K m²`` a point, far more than a
        large sector's whole elimination)."""
        m = supers.shape[-1]
        pattern = np.any(supers != 0, axis=0)
        for g in generators:
            if isinstance(g, Sparse):
                pattern[g.rows, g.cols] = True
            else:
                pattern[:] = True
        rows, cols = np.nonzero(pattern)
        slot = np.full((m, m), -1)
        slot[rows, cols] = np.arange(len(rows))
        values = (jnp.stack(coeffs) @ jnp.asarray(supers[:, rows, cols], dtype) if len(coeffs)
                  else jnp.zeros(len(rows), dtype))
        for g in generators:
            values = (values.at[slot[g.rows, g.cols]].add(g.values) if isinstance(g, Sparse)
                      else values + g[rows, cols])
        return Sparse(rows, cols, values)

    def init(self, operator, d: int, eps: float) -> StagedState:
        return self.factorise(self._a_entries(_entries(operator), d), eps)

    def factorise(self, a_values, eps: float) -> StagedState:
        """Factorise ``A`` given by its entries (``(E,)``, at ``structure.a_rows``,
        ``structure.a_cols``) on their values without derivatives (``factor``)."""
        st = self._structure()
        values, smallest, largest = factor(st, jax.lax.stop_gradient(a_values))
        singular = ~(smallest > st.n * eps * largest)  # also True for NaN
        return StagedState(values, a_values, singular)

    def matvec(self, state: StagedState, x):
        return matvec(self._structure(), state.a, x)

    def substitute(self, state: StagedState, matvec_, rhs, transpose: bool):
        """The substitutions and one refinement step in one batch-innermost program (with ``A``
        without derivatives: the solves are never differentiated)."""
        del matvec_
        return substitute(self._structure(), state.values, jax.lax.stop_gradient(state.a), rhs, transpose)

    def trace_rhs(self, operator):
        """``−R_i0`` for ``i ≥ 1``, ``(m − 1,)``."""
        matrix = _entries(operator)
        values = jnp.concatenate([matrix.values, jnp.zeros((1,), matrix.values.dtype)])
        return -values[self._slots(matrix)[1:, 0]]

    def norms(self, operator, r):
        """``(‖R‖_∞, ‖r‖_∞, ‖R r‖_∞)`` from ``R``'s entries, batch innermost (``product``)."""
        matrix = _entries(operator)
        v, rr = jax.lax.stop_gradient(matrix.values), jax.lax.stop_gradient(r)
        m = r.shape[0]
        row_sums = product(matrix.rows, matrix.cols, m, jnp.abs(v), jnp.ones_like(rr))
        residual = product(matrix.rows, matrix.cols, m, v, rr)
        return jnp.max(row_sums), jnp.max(jnp.abs(rr)), jnp.max(jnp.abs(residual))

    def _slots(self, matrix: Sparse) -> np.ndarray:
        """``(m, m)`` positions of ``R``'s entries in ``matrix.values``; ``len(values)`` (a zero
        appended by the callers) where an entry is a structural zero."""
        m = self._structure().n + 1
        slot = np.full((m, m), len(matrix.rows))
        slot[matrix.rows, matrix.cols] = np.arange(len(matrix.rows))
        return slot

    def _a_entries(self, matrix: Sparse, d: int):
        """The entries of the trace-eliminated ``A`` (``A_ij = R_ij − R_i0 [j < d]``, i, j ≥ 1) at
        the structure's pattern, from ``R``'s entries.

        Raises:
            ValueError: where ``R`` has an entry outside that pattern (it would be dropped)."""
        st = self._structure()
        slot = self._slots(matrix)
        outside = np.ones((st.n, st.n), bool)
        outside[st.a_rows, st.a_cols] = False
        inner = slot[1:, 1:] < len(matrix.rows)
        inner[:, : d - 1] |= (slot[1:, :1] < len(matrix.rows))
        raise_if(np.any(inner & outside),
                 ValueError("the assembled sector matrix has entries outside the staged elimination's pattern"))
        values = jnp.concatenate([matrix.values, jnp.zeros((1,), matrix.values.dtype)])
        i, j = st.a_rows + 1, st.a_cols + 1
        return values[slot[i, j]] - values[np.where(j < d, slot[i, 0], len(matrix.rows))]


def _entries(matrix) -> Sparse:
    """``R`` as its entries: ``Staged.assemble``'s form, or every entry of an ``(m, m)`` array."""
    if isinstance(matrix, Sparse):
        return matrix
    m = matrix.shape[0]
    rows, cols = np.divmod(np.arange(m * m), m)
    return Sparse(rows, cols, jnp.asarray(matrix).reshape(-1))
