"""Symmetry-sector reduction: which real coordinates of ρ the steady state can occupy.

A weak symmetry of the generator (for the qubit pair: the excitation number
``N = n_a + n_b``, conserved by the coupling ``a†b + b†a`` and changed by ±1 by every
thermalizer jump) makes the Liouvillian block-diagonal in the matrix elements ``ρ_ij``:
elements that no term of ``L`` ever connects to a population evolve on their own, and the
(unique) steady state is zero on them. The reduction is found from the operators, with no
per-model code:

1. Build the undirected graph on the ``d²`` elements ``ρ_ij`` with an edge wherever any
   constant superoperator of the model (every ``−i[H_m, ·]`` and every ``D[L_k]``) has a
   non-zero entry, and wherever a Davies thermalizer does at a few random parameter points
   (its eigenbasis depends on ``p``; see below).
2. The sector is the union of the connected components that contain the populations
   ``ρ_ii``; its complement is invariant under ``L`` and under ``L†``, so ``L`` is block
   diagonal and, if the steady state is unique, it lies in the sector.
3. In the real representation (:mod:`jaxtherm.liouvillian`) the sector is the list of kept
   coordinates: every population, and ``Re ρ_ij, Im ρ_ij`` for each kept pair ``i < j``.

For the qubit pair this keeps the populations and ``ρ_{01,10}``: 6 of 16 real coordinates
(5 unknowns after the trace) for the local and global couplings, the 4 populations (3
unknowns) for the incoherent one.

Davies thermalizers: their jump operators group transitions by Bohr frequency, so their
pattern depends on ``p``. Sampling at generic random points finds the pattern of every point
where no two transitions of different excitation change share a Bohr frequency; for the qubit
pair that would need ``ω_a + ω_b = 0``. A point outside this assumption is still solved
exactly by ``solver="dense"``, which is the reference the tests compare with.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from .models.base import Model

DAVIES_SAMPLES = 3
_PATTERN_TOL = 1e-12


def _pair_pattern(real_matrix: np.ndarray, d: int) -> np.ndarray:
    """Boolean ``(d², d²)`` adjacency on the elements ``ρ_ij`` of one real superoperator."""
    element = _element_of_coordinate(d)
    nz = np.abs(real_matrix) > _PATTERN_TOL * max(1.0, np.abs(real_matrix).max(initial=0.0))
    adj = np.zeros((d * d, d * d), dtype=bool)
    rows, cols = np.nonzero(nz)
    for i, j in zip(element[rows], element[cols]):
        adj[i, j] = adj[j, i] = True
    return adj


@functools.cache
def _element_of_coordinate(d: int) -> np.ndarray:
    """Element index ``i d + j`` (``i ≤ j``) of each real coordinate (populations, then pairs)."""
    out = [i * d + i for i in range(d)]
    for i in range(d):
        for j in range(i + 1, d):
            out += [i * d + j, i * d + j]
    return np.asarray(out)


def _davies_samples(model: Model) -> list[np.ndarray]:
    """Real Davies superoperators of ``model`` at a few random generic parameter points."""
    if not model.davies:
        return []
    from .kernel import davies_matrices  # the kernel imports this module

    rng = np.random.default_rng(20261125)
    out = []
    with jax.ensure_compile_time_eval():  # concrete values even when first called under jit
        for _ in range(DAVIES_SAMPLES):
            values = rng.uniform(0.4, 1.6, len(model.parameters))
            p = {name: float(v) for name, v in zip(model.parameters, values)}
            h = np.asarray([t.coefficient(p) for t in model.hamiltonian], dtype=np.float64)
            out += [np.asarray(m) for m in davies_matrices(model, p, h, np.float64)]
    return out


@functools.lru_cache(maxsize=None)
def symmetry_sector(model: Model) -> np.ndarray:
    """Real coordinates (indices into ``r``, ascending) on which the steady state can be non-zero.

    Populations come first (indices ``0 … d−1`` are always kept), so the trace condition
    ``Σ_{i<d} r_i = 1`` reads the same in the sector as in the full space.

    Returns:
        Integer array of shape ``(m,)``, ``d ≤ m ≤ d²``.
    """
    d = model.dim
    ops = model.real_operators
    matrices = [*ops["hamiltonian"], *ops["lindblad"], *_davies_samples(model)]
    adj = np.eye(d * d, dtype=bool)
    for mat in matrices:
        adj |= _pair_pattern(mat, d)
    reached = np.zeros(d * d, dtype=bool)
    reached[[i * d + i for i in range(d)]] = True
    while True:  # breadth-first closure over the element graph
        grown = reached | adj[reached].any(axis=0)
        if (grown == reached).all():
            break
        reached = grown
    element = _element_of_coordinate(d)
    return np.flatnonzero(reached[element])
