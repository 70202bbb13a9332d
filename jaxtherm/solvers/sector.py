"""Symmetry-sector reduction: which real coordinates of ρ the steady state can occupy.

A weak symmetry of the generator (for the qubit pair: the excitation number
``N = n_a + n_b``, conserved by the coupling ``a†b + b†a`` and changed by ±1 by every
thermalizer jump) makes the Liouvillian block-diagonal in the matrix elements ``ρ_ij``:
elements that no term of ``L`` ever connects to a population evolve on their own, and the
(unique) steady state is zero on them. The reduction is found from the operators, with no
per-model code:

1. Build the undirected graph on the matrix elements ``{ρ_ij, ρ_ji}`` with an edge wherever
   any constant superoperator of the model (every ``−i[H_m, ·]``, every ``D[L_k]`` and its
   jump part ``L_k · L_k†``) has a non-zero entry, and wherever a Davies thermalizer does at a
   few random parameter points (its eigenbasis depends on ``p``; see below). The jump parts
   make the sector invariant under each jump too, which current fluctuations need
   (``jaxtherm.physics.fluctuations``: the counting superoperators act on the steady state); they
   add no edge to a ``D[L_k]`` whose entries do not cancel, so no built-in model's sector grows.
2. The sector is the union of the connected components that contain the populations
   ``ρ_ii``; its complement is invariant under ``L`` and under ``L†`` — and so is the sector
   under each superoperator separately — so ``L`` is block diagonal and, if the steady state
   is unique, it lies in the sector.
3. In the real representation (``jaxtherm.physics.liouvillian``) the sector is the list of kept
   coordinates: every population, and ``Re ρ_ij, Im ρ_ij`` for each kept pair ``i < j``.

For the qubit pair this keeps the populations and ``ρ_{01,10}``: 6 of 16 real coordinates
(5 unknowns after the trace) for the local and global couplings, the 4 populations (3
unknowns) for the incoherent one; for an XX chain of n qubits the blocks of equal excitation
number, ``C(2n, n)`` of ``4ⁿ`` coordinates.

Redfield and ULE thermalizers (``jaxtherm.physics.nonsecular``) pair every two transitions, not
only those of equal Bohr frequency: their pattern, sampled the same way, is larger (for a
coupling ``a + a†`` that changes the excitation number by ±1, the coherences between excitation
numbers of equal parity: for the qubit pair 8 of 16 real coordinates instead of 6).

Davies thermalizers: their jump operators group transitions by Bohr frequency, so their
pattern depends on ``p``. Sampling at generic random points (``jaxtherm.physics.davies.jump_operators``)
finds the pattern of every point where no two transitions of different excitation change share
a Bohr frequency; for the qubit pair that would need ``ω_a + ω_b = 0``. A point outside this
assumption is still solved exactly by ``solver="dense"``, which is the reference the tests
compare with.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from jaxtherm.models import Model
from jaxtherm.physics import davies, liouvillian, nonsecular

DAVIES_SAMPLES = 3
_PATTERN_TOL = 1e-12


def _edges(rows, cols, values, element_of_row, element_of_col) -> np.ndarray:
    nz = np.abs(values) > _PATTERN_TOL * max(1.0, np.abs(values).max(initial=0.0))
    return np.stack([element_of_row[rows[nz]], element_of_col[cols[nz]]])


def _davies_edges(model: Model, canonical: np.ndarray) -> list[np.ndarray]:
    """Element-graph edges of the model's Davies thermalizers at a few random generic points."""
    if not model.davies:
        return []
    rng = np.random.default_rng(20261125)
    out = []
    with jax.ensure_compile_time_eval():  # concrete values even when first called under jit
        for _ in range(DAVIES_SAMPLES):
            values = rng.uniform(0.4, 1.6, len(model.parameters))
            p = {name: float(v) for name, v in zip(model.parameters, values)}
            h = sum(complex(t.coefficient(p)) * t.operator for t in model.hamiltonian)
            tol = np.sqrt(np.finfo(np.float64).eps) * (1.0 + np.abs(h).max())
            for k in model.davies:
                if k.equation != "davies":  # Redfield, ULE: their pattern with generic rates
                    out += [_edges(*e, canonical, canonical) for e in nonsecular.sample_entries(k.equation, h, k.coupling, rng)]
                    continue
                for a in davies.jump_operators(h, k.coupling, tol):
                    a = np.where(np.abs(a) > _PATTERN_TOL * np.abs(a).max(), a, 0.0)
                    out.append(_edges(*liouvillian.dissipator_entries(a), canonical, canonical))
                    out.append(_edges(*liouvillian.jump_entries(a), canonical, canonical))
    return out


@functools.lru_cache(maxsize=256)
def symmetry_sector(model: Model) -> np.ndarray:
    """Real coordinates (indices into ``r``, ascending) on which the steady state can be non-zero.

    Populations come first (indices ``0 … d−1`` are always kept), so the trace condition
    ``Σ_{i<d} r_i = 1`` reads the same in the sector as in the full space.

    Returns:
        Integer array of shape ``(m,)``, ``d ≤ m ≤ d²``.
    """
    d = model.dim
    element = liouvillian.element_of_coordinate(d)  # real coordinate -> element (i ≤ j)
    i, j = np.divmod(np.arange(d * d), d)
    canonical = np.minimum(i, j) * d + np.maximum(i, j)  # element i d + j -> its (i ≤ j) element
    ops = model.real_operators
    edges = [_edges(*e, element, element) for e in [*ops["hamiltonian"], *ops["lindblad"], *ops["jump"]]]
    edges = np.concatenate([np.zeros((2, 0), np.int64), *edges, *_davies_edges(model, canonical)], axis=1)
    src, dst = np.concatenate([edges[0], edges[1]]), np.concatenate([edges[1], edges[0]])
    reached = np.zeros(d * d, dtype=bool)
    reached[np.arange(d) * (d + 1)] = True
    while True:  # breadth-first closure over the element graph
        grown = reached.copy()
        grown[dst[reached[src]]] = True
        if (grown == reached).all():
            break
        reached = grown
    return np.flatnonzero(reached[element])
