"""Fill-reducing orders for eliminating a sparse sector without pivoting (static pivots).

A sector's trace-eliminated Liouvillian ``A`` (``jaxtherm.linalg.lu``) is sparse, and its
pattern is known when the program is traced. Eliminated in a fill-reducing order with the
diagonal as pivots, its factors stay sparse: the 3-qubit chain's 19 unknowns take about 150
multiply–adds instead of ``n³/3 ≈ 2,300`` for a dense LU, or ~350 with partial pivoting, whose
row exchanges merge the candidate rows' patterns. ``minimum_degree`` orders the unknowns,
``threshold_order`` does so too but passes over pivots that a sample of the matrix shows to be
small (a leading block singular for every parameter point), and ``fill`` counts what the
elimination will cost.
"""

from __future__ import annotations

import numpy as np


def minimum_degree(pattern: np.ndarray) -> tuple[int, ...]:
    """A minimum-degree order of the symmetrised pattern ``P ∪ Pᵀ``.

    Repeatedly eliminates the unknown with the fewest remaining neighbours (ties: the lowest
    index), joining its neighbours into a clique (the fill its elimination creates).

    Args:
        pattern: boolean ``(n, n)`` structural non-zeros.

    Returns:
        The order, a permutation of ``range(n)``: unknown ``order[k]`` is eliminated ``k``-th.
    """
    graph = np.asarray(pattern, bool)
    graph = graph | graph.T
    np.fill_diagonal(graph, False)
    alive = np.ones(len(graph), bool)
    order = []
    for _ in range(len(graph)):
        degree = np.where(alive, (graph & alive).sum(axis=1), np.iinfo(np.int64).max)
        v = int(np.argmin(degree))
        order.append(v)
        alive[v] = False
        neighbours = np.flatnonzero(graph[v] & alive)
        graph[np.ix_(neighbours, neighbours)] = True
        graph[neighbours, neighbours] = False
    return tuple(order)


def fill(pattern: np.ndarray, order: tuple[int, ...]) -> int:
    """Multiply–adds of eliminating ``pattern`` in ``order`` with diagonal pivots (the updates
    ``a_ij −= l_ik u_kj`` over the filled pattern)."""
    a = np.asarray(pattern, bool)[np.ix_(order, order)].copy()
    total = 0
    for k in range(len(a)):
        rows = np.flatnonzero(a[k + 1:, k]) + k + 1
        cols = np.flatnonzero(a[k, k + 1:]) + k + 1
        total += len(rows) * len(cols)
        a[np.ix_(rows, cols)] = True
    return total


THRESHOLD = 0.1
"""A pivot of ``threshold_order`` is at least this fraction of the largest entry left in its
column of the sample (the multipliers stay below ``1/THRESHOLD``: sparse LU's usual choice)."""


def threshold_order(pattern: np.ndarray, sample: np.ndarray, threshold: float = THRESHOLD) -> tuple[int, ...]:
    """``minimum_degree``, among the diagonal pivots that a sample matrix shows to be large.

    The sample (the matrix at generic parameters) is eliminated along: at each step the
    candidates are the unknowns whose diagonal entry is at least ``threshold`` times the largest
    entry left in its column (the unknown with the largest such ratio if none is), and of those
    the one with the fewest remaining neighbours is eliminated. Where every pivot passes, this is
    ``minimum_degree``'s order. Measured: in minimum-degree order the 5-qubit chain's first 140
    unknowns form a block that is singular at every parameter point (its 140th pivot cancels to
    ~10⁻¹⁷); this order passes that pivot over.

    Args:
        pattern: boolean ``(n, n)`` structural non-zeros.
        sample: ``(n, n)`` values at a generic point, zero outside ``pattern``.
        threshold: the smallest accepted ratio of a pivot to its column's largest entry.

    Returns:
        The order, a permutation of ``range(n)``.
    """
    graph = np.asarray(pattern, bool)
    graph = graph | graph.T
    np.fill_diagonal(graph, False)
    w = np.array(sample, dtype=float)
    alive = np.ones(len(graph), bool)
    # kept up to date instead of recomputed from (live × live) copies at every step: an eliminated
    # unknown's row and column are zeroed (in w and the graph), so that maxima and degrees over
    # all rows are those over the live ones; only the columns and rows an elimination touches
    # are recomputed (the same numbers as before, in O(n · touched) a step, not O(n²))
    column = np.abs(w).max(axis=0)
    degree = graph.sum(axis=1)
    order = []
    for _ in range(len(graph)):
        live = np.flatnonzero(alive)
        ratio = np.abs(w[live, live]) / np.where(column[live] > 0, column[live], 1.0)
        ok = ratio >= threshold
        if not ok.any():
            ok = ratio == ratio.max()
        v = int(live[np.argmin(np.where(ok, degree[live], np.iinfo(np.int64).max))])
        order.append(v)
        alive[v] = False
        rows = np.flatnonzero(alive & (w[:, v] != 0))
        cols = np.flatnonzero(alive & (w[v] != 0))
        if w[v, v] != 0 and rows.size and cols.size:  # a_ij −= (a_iv / a_vv) a_vj where both are non-zero
            w[np.ix_(rows, cols)] -= np.outer(w[rows, v] / w[v, v], w[v, cols])
        w[v] = 0.0
        w[:, v] = 0.0
        if cols.size:  # the columns row v left, and those the update changed (a subset)
            column[cols] = np.abs(w[:, cols]).max(axis=0)
        neighbours = np.flatnonzero(graph[v] & alive)
        graph[v] = False
        graph[:, v] = False
        graph[np.ix_(neighbours, neighbours)] = True
        graph[neighbours, neighbours] = False
        degree[neighbours] = graph[neighbours].sum(axis=1)
    return tuple(order)
