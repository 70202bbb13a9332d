"""Fill-reducing orders for eliminating a sparse sector without pivoting (static pivots).

A sector's trace-eliminated Liouvillian ``A`` (:mod:`jaxtherm.solvers.lu`) is sparse, and its
pattern is known when the program is traced. Eliminated in a fill-reducing order with the
diagonal as pivots, its factors stay sparse: the 3-qubit chain's 19 unknowns take about 150
multiply–adds instead of ``n³/3 ≈ 2,300`` for a dense LU, or ~350 with partial pivoting, whose
row exchanges merge the candidate rows' patterns. :func:`minimum_degree` orders the unknowns,
:func:`fill` counts what the elimination will cost.
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
