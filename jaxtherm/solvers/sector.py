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
   few random parameter points (its eigenbasis depends on ``p``; see below, and "Probes" for
   how). The jump parts make the sector invariant under each jump too, which current fluctuations need
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
pattern depends on ``p``. Sampling at generic random points (``jaxtherm.physics.davies.grouped_transitions``)
finds the pattern of every point where no two transitions of different excitation change share
a Bohr frequency; for the qubit pair that would need ``ω_a + ω_b = 0``. A point outside this
assumption is still solved exactly by ``solver="dense"``, which is the reference the tests
compare with.

Probes. The constant superoperators are sparse and give their edges directly (a non-zero entry
is ``|S_ab| > _PATTERN_TOL · max(1, max|S|)``). The thermalizers' superoperators are dense
``(d², d²)`` (and a Davies one is a sum over thousands of Bohr-frequency groups ``ν``), so the
closure of step 2 applies them instead to a *probe*: a random complex ``ρ`` (independent
values, moduli in ``[0.5, 1.5]``) on the elements reached so far, and adds the non-zeros of the
result (same tolerance) and of the adjoint's (the edges are undirected). Each entry of ``S(ρ)``
is a polynomial in the probe's values; the coefficient of ``ρ_ij`` in ``S(ρ)_kl`` is the
superoperator entry ``S_(kl),(ij)``, so the entry is a non-zero polynomial exactly when an
edge leads from a reached element to ``(k, l)``, and a non-zero polynomial vanishes only on a
set of measure zero. Parts whose entries are never added to each other's (the jump part and
the two anticommutator parts of one dissipator, Redfield's four products) are probed one at a
time, so no cancellation between them can hide an edge. A Davies thermalizer's
jump parts are probed all at once, as ``Σ_ν c_ν A(ν) ρ A(ν)†`` with random weights
``c_ν ∈ [0.5, 1.5]`` (its anticommutator parts likewise as ``Σ_ν c_ν A(ν)†A(ν)``): the
coefficient of ``c_ν ρ_ij`` is group ``ν``'s own entry, so the union of the groups' patterns is
found, again up to a set of measure zero. This is evaluated in the eigenbasis of ``H``, where
``A(ν) = Σ_{t∈ν} x_t |n_t⟩⟨m_t|`` pairs only the transitions of one group:
``(Σ_ν c_ν a_ν σ a_ν†)_{n n'} = Σ_{t,t' ∈ same ν} c_ν x_t σ_{m_t m_t'} x̄_t'`` with
``σ = V†ρV``, then ``V · V†`` back: ``O(d³ + Σ_ν |ν|²)`` a probe instead of a product-basis
``(d, d)`` operator (and its ``O(nnz²)`` entries) for every ``ν``. ``H`` is diagonalised block
by block (the components of its terms' non-zeros), so no round-off carries an eigenvector out of
its block (``_eigh_by_blocks``). The tolerance now applies to the probe's image rather than to
each group's operator: the two can disagree only on entries within a few orders of magnitude of
``_PATTERN_TOL`` (relative), which round-off of ``V`` stays far below;
``tests/test_sector_reference.py`` checks the result against the edge-by-edge construction.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from jaxtherm.linalg import graphs
from jaxtherm.models import Model
from jaxtherm.physics import davies, liouvillian, nonsecular, secular

DAVIES_SAMPLES = 3
_PATTERN_TOL = 1e-12


def _edges(rows, cols, values, element_of_row, element_of_col) -> np.ndarray:
    nz = np.abs(values) > _PATTERN_TOL * max(1.0, np.abs(values).max(initial=0.0))
    return np.stack([element_of_row[rows[nz]], element_of_col[cols[nz]]])


def _pattern(out: np.ndarray) -> np.ndarray:
    """Non-zeros of a probe's image ``(d, d)``, symmetrised (``ρ_kl`` and ``ρ_lk`` are one element)."""
    nz = np.abs(out) > _PATTERN_TOL * max(1.0, np.abs(out).max(initial=0.0))
    return nz | nz.T


def _probe(reached: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random complex ``(d, d)`` ``ρ`` on the reached elements: moduli in ``[0.5, 1.5]``, phases uniform."""
    z = rng.uniform(0.5, 1.5, reached.shape) * np.exp(2j * np.pi * rng.uniform(size=reached.shape))
    return np.where(reached, z, 0.0)


def _product_action(a: np.ndarray | None, b: np.ndarray | None):
    """``ρ ↦ (A ρ B, A† ρ B†)``: a superoperator ``ρ ↦ AρB`` and its adjoint on a probe;
    ``None`` for an identity factor (``(G, None)`` is ``ρ ↦ Gρ``)."""
    def product(left, rho, right):
        out = rho if left is None else left @ rho
        return out if right is None else out @ right

    a_dag, b_dag = (None if f is None else np.conj(f).T for f in (a, b))
    return lambda rho: (product(a, rho, b), product(a_dag, rho, b_dag))


def _scatter(flat: np.ndarray, values: np.ndarray, d: int) -> np.ndarray:
    """The ``(d, d)`` matrix with ``values`` summed into the flat positions ``flat`` (``i d + j``)."""
    return (np.bincount(flat, values.real, d * d) + 1j * np.bincount(flat, values.imag, d * d)).reshape(d, d)


def _group_pairs(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs ``(t, t')`` of transitions in the same group: two ``(Σ_ν |ν|²,)`` arrays."""
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    start = np.searchsorted(sorted_group, sorted_group, side="left")
    size = np.searchsorted(sorted_group, sorted_group, side="right") - start
    first = np.repeat(np.arange(len(order)), size)
    offset = np.arange(len(first)) - np.repeat(np.cumsum(size) - size, size)
    return order[first], order[np.repeat(start, size) + offset]


def _eigh_by_blocks(h: np.ndarray, blocks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``eigh`` of ``H = ⊕_b H_b`` block by block (``secular.hamiltonian_blocks`` of the exact
    non-zeros): ``(E, V)``, ``(d,)`` and ``(d, d)``, with ``V`` exactly zero outside the blocks. A single ``eigh`` of the whole
    ``H`` mixes levels of different blocks at ``ε‖H‖/gap``, which near a crossing of two blocks'
    levels reaches the pattern tolerance; block by block, no round-off leaves a block."""
    energies, v = np.zeros(h.shape[0]), np.zeros(h.shape, complex)
    for b in blocks:
        energies[b], v[np.ix_(b, b)] = np.linalg.eigh(h[np.ix_(b, b)])
    return energies, v


def _davies_actions(eigensystem: tuple[np.ndarray, np.ndarray], coupling: np.ndarray, tol: float,
                    rng: np.random.Generator) -> list:
    """Probe actions of one Davies thermalizer at one point (module docstring, "Probes").

    With transitions ``t = (m_t → n_t, x_t)`` grouped by Bohr frequency and pairs ``(t, t')`` of
    one group ``ν``: the jump parts ``ρ ↦ Σ_ν c_ν A(ν) ρ A(ν)†`` (and the adjoint
    ``Σ_ν c_ν A(ν)† ρ A(ν)``) through the eigenbasis, and the anticommutator parts as the
    products ``ρ ↦ Gρ``, ``ρ ↦ ρG`` with ``G = V (Σ_ν c'_ν a_ν†a_ν) V†``,
    ``(a_ν†a_ν)_{m_t m_t'} = Σ_{n_t = n_t'} x̄_t x_t'``. Components below
    ``nonsecular.COUPLING_ATOL · max|X|`` (round-off of selection-rule zeros) are dropped.
    """
    v = eigensystem[1]
    n, m, x, group = davies.grouped_transitions(*eigensystem, coupling, tol)
    real = np.abs(x) > nonsecular.COUPLING_ATOL * max(np.abs(coupling).max(), 1e-300)
    n, m, x, group = n[real], m[real], x[real], group[real]
    d = v.shape[0]
    c = rng.uniform(0.5, 1.5, (2, group.max(initial=-1) + 1))
    p, q = _group_pairs(group)
    w = (c[0, group] * x)[p] * np.conj(x)[q]  # weight of σ_{m_p m_q} in (n_p, n_q)
    nn, mm = (n * d)[p] + n[q], (m * d)[p] + m[q]  # flat eigenbasis elements (n_p, n_q), (m_p, m_q)
    v_dag = np.conj(v).T

    def jump(rho):
        sigma = (v_dag @ rho @ v).ravel()
        return v @ _scatter(nn, w * sigma[mm], d) @ v_dag, v @ _scatter(mm, np.conj(w) * sigma[nn], d) @ v_dag

    p, q = _group_pairs(group * d + n)  # the pairs of one group with the same final level n
    g = v @ _scatter((m * d)[p] + m[q], (c[1, group] * np.conj(x))[p] * x[q], d) @ v_dag
    return [jump, _product_action(g, None), _product_action(None, g)]


def _thermalizer_actions(model: Model) -> list:
    """Probe actions of the model's Davies, Redfield and ULE thermalizers at a few random generic
    points (``DAVIES_SAMPLES``); empty without such thermalizers."""
    if not model.davies:
        return []
    rng = np.random.default_rng(20261125)  # the points and the Redfield/ULE rates
    weights = np.random.default_rng(20261126)  # the Davies groups' weights
    blocks = secular.hamiltonian_blocks(model, 0.0)
    out = []
    with jax.ensure_compile_time_eval():  # concrete values even when first called under jit
        for _ in range(DAVIES_SAMPLES):
            values = rng.uniform(0.4, 1.6, len(model.parameters))
            p = {name: float(v) for name, v in zip(model.parameters, values)}
            h = sum(complex(t.coefficient(p)) * t.operator for t in model.hamiltonian)
            tol = np.sqrt(np.finfo(np.float64).eps) * (1.0 + np.abs(h).max())
            eigensystem = _eigh_by_blocks(h, blocks)
            for k in model.davies:
                if k.equation == "davies":
                    out += _davies_actions(eigensystem, k.coupling, tol, weights)
                else:  # Redfield, ULE: their pattern with generic rates
                    terms = nonsecular.sample_terms(k.equation, eigensystem[1], k.coupling, rng)
                    out += [_product_action(a, b) for a, b in terms]
    return out


def _closure(d: int, label: np.ndarray, actions: list, rng: np.random.Generator) -> np.ndarray:
    """The elements connected to a population: symmetric boolean ``(d, d)``.

    Alternates the closure over the constant superoperators' edges (their components ``label``,
    over the ``d²`` elements ``i d + j``) with one probe of every thermalizer action, until a
    round of probes reaches nothing new.
    """
    reached = np.eye(d, dtype=bool)
    while True:
        hit = np.zeros(d * d, dtype=bool)
        hit[label[reached.ravel()]] = True
        reached = hit[label].reshape(d, d)
        reached |= reached.T
        count = np.count_nonzero(reached)
        for action in actions:
            for out in action(_probe(reached, rng)):
                reached |= _pattern(out)
        if np.count_nonzero(reached) == count:
            return reached


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
    ops = model.real_operators
    edges = [_edges(*e, element, element) for e in [*ops.hamiltonian, *ops.lindblad, *ops.jump]]
    edges = np.concatenate([np.zeros((2, 0), np.int64), *edges], axis=1)
    label = graphs.components(d * d, edges[0], edges[1])
    reached = _closure(d, label, _thermalizer_actions(model), np.random.default_rng(20261127))
    return np.flatnonzero(reached.ravel()[element])
