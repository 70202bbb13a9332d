"""Connected components of the small static graphs the solvers are planned from (NumPy, once per
model): the blocks of ``H``, the groups of states the kept pairs ``ρ_ij`` join, the closure of
a symmetry sector."""

from __future__ import annotations

import numpy as np

__all__ = ["components", "groups"]


def components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Connected components of the undirected graph on ``0 … n−1`` with edges ``src[e] — dst[e]``:
    each node's label is the smallest node of its component; ``(n,)``. Hooking of roots and
    pointer jumping, vectorised."""
    src, dst = np.asarray(src, int), np.asarray(dst, int)
    label = np.arange(n)
    while True:
        low = np.minimum(label[src], label[dst])
        new = label.copy()
        np.minimum.at(new, label[src], low)  # labels are roots: hook each to its lowest neighbour
        np.minimum.at(new, label[dst], low)
        while (new[new] != new).any():  # every node straight to its root
            new = new[new]
        if (new == label).all():
            return label
        label = new


def groups(n: int, src: np.ndarray, dst: np.ndarray) -> list[np.ndarray]:
    """The components (``components``) as sorted index arrays, ordered by their smallest node."""
    label = components(n, src, dst)
    order = np.argsort(label, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(label[order])) + 1)
