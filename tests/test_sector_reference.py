"""The probe construction of the symmetry sector (``jaxtherm.solvers.sector``) against an
independent, edge-by-edge reference: the construction it replaced, kept here verbatim.

The reference builds every Davies jump operator ``A(ν)`` in the product basis (one dense
``(d, d)`` matrix per Bohr frequency, from a single ``eigh`` of the whole ``H``) and every
Redfield/ULE product as element-basis entries, takes their non-zero entries as edges of the
element graph and closes over the graph breadth first; the package applies the thermalizers to
random probes instead, in the eigenbasis and block by block. Same random points, same tolerance:
the kept coordinates must be identical.
"""

import jax
import numpy as np
import pytest

import jaxtherm
from jaxtherm.physics import liouvillian
from jaxtherm.solvers import symmetry_sector

_PATTERN_TOL = 1e-12
_SAMPLES = 3
_COUPLING_ATOL = 1e-12


def _edges(rows, cols, values, element_of_row, element_of_col):
    nz = np.abs(values) > _PATTERN_TOL * max(1.0, np.abs(values).max(initial=0.0))
    return np.stack([element_of_row[rows[nz]], element_of_col[cols[nz]]])


def _jump_operators(h, coupling, tol):
    """Grouped Davies jump operators ``A(ν)`` in the product basis, one per Bohr frequency."""
    energies, v = np.linalg.eigh(h)
    x = np.conj(v).T @ coupling @ v
    omega = energies[None, :] - energies[:, None]
    n_idx, m_idx = np.nonzero((np.abs(omega) > tol) & (np.abs(x) > 0))
    freqs = omega[n_idx, m_idx]
    order = np.argsort(freqs)
    out, start = [], 0
    for stop in range(1, len(order) + 1):
        if stop == len(order) or freqs[order[stop]] - freqs[order[stop - 1]] > tol:
            sel = order[start:stop]
            a = np.zeros_like(x)
            a[n_idx[sel], m_idx[sel]] = x[n_idx[sel], m_idx[sel]]
            out.append(v @ a @ np.conj(v).T)
            start = stop
    return out


def _round_off(h, tol: float) -> float:
    """The relative size below which an entry of a jump operator built from one ``eigh`` of the
    whole ``H`` is round-off: ``_PATTERN_TOL``, or the eigenvectors' own error
    ``~ε ‖H‖₂ / gap`` (Davis–Kahan) times 10 where two distinct levels (more than ``tol`` apart:
    ``A(ν)`` does not depend on rotations inside a degenerate one) lie close. A sample of the
    oscillator pair at cutoff 5 has levels 1.9×10⁻⁴ apart: its eigenvectors mix the excitation
    blocks at ~10⁻¹¹, which a fixed 10⁻¹² counted as edges (179 coordinates for the 85 of the
    blocks, ``test_davies_sector_is_a_union_of_excitation_blocks``). At most 10⁻⁸."""
    levels = np.linalg.eigvalsh(h)
    gaps = np.diff(levels)
    gap = np.min(gaps[gaps > tol], initial=np.inf)
    bound = 10 * np.finfo(np.float64).eps * np.abs(levels).max() / max(gap, 1e-300)
    return min(max(_PATTERN_TOL, bound), 1e-8)  # never so large that it drops real entries


def _nonsecular_entries(equation, h, coupling, rng):
    """Element-basis entries of a Redfield or ULE dissipator with generic positive rates."""
    _, v = np.linalg.eigh(h)
    x = np.conj(v).T @ coupling @ v
    x = np.where(np.abs(x) > _COUPLING_ATOL * max(np.abs(coupling).max(), 1e-300), x, 0.0)
    g = rng.uniform(0.5, 1.5, x.shape)
    d = h.shape[0]
    if equation == "ule":
        jump = v @ (np.sqrt(g) * x) @ np.conj(v).T
        return [liouvillian.dissipator_entries(jump), liouvillian.jump_entries(jump)]
    lam = v @ (0.5 * g * x) @ np.conj(v).T
    lam_dag = np.conj(lam).T
    return [liouvillian.product_entries(lam, coupling), liouvillian.product_entries(coupling, lam_dag),
            liouvillian.product_entries(coupling @ lam, np.eye(d)),
            liouvillian.product_entries(np.eye(d), lam_dag @ coupling)]


def _thermalizer_edges(model, canonical):
    rng = np.random.default_rng(20261125)
    out = []
    with jax.ensure_compile_time_eval():
        for _ in range(_SAMPLES):
            values = rng.uniform(0.4, 1.6, len(model.parameters))
            p = {name: float(v) for name, v in zip(model.parameters, values)}
            h = sum(complex(t.coefficient(p)) * t.operator for t in model.hamiltonian)
            tol = np.sqrt(np.finfo(np.float64).eps) * (1.0 + np.abs(h).max())
            for k in model.davies:
                if k.equation != "davies":
                    out += [_edges(*e, canonical, canonical) for e in _nonsecular_entries(k.equation, h, k.coupling, rng)]
                    continue
                zero = _round_off(h, tol)
                for a in _jump_operators(h, k.coupling, tol):
                    a = np.where(np.abs(a) > zero * np.abs(a).max(), a, 0.0)
                    out.append(_edges(*liouvillian.dissipator_entries(a), canonical, canonical))
                    out.append(_edges(*liouvillian.jump_entries(a), canonical, canonical))
    return out


def reference_sector(model) -> np.ndarray:
    """Kept real coordinates: the components of the explicit element graph that hold a population."""
    d = model.dim
    element = liouvillian.element_of_coordinate(d)
    i, j = np.divmod(np.arange(d * d), d)
    canonical = np.minimum(i, j) * d + np.maximum(i, j)
    ops = model.real_operators
    edges = [_edges(*e, element, element) for e in [*ops.hamiltonian, *ops.lindblad, *ops.jump]]
    edges = np.concatenate([np.zeros((2, 0), np.int64), *edges, *_thermalizer_edges(model, canonical)], axis=1)
    src, dst = np.concatenate([edges[0], edges[1]]), np.concatenate([edges[1], edges[0]])
    reached = np.zeros(d * d, dtype=bool)
    reached[np.arange(d) * (d + 1)] = True
    while True:
        grown = reached.copy()
        grown[dst[reached[src]]] = True
        if (grown == reached).all():
            return np.flatnonzero(reached[element])
        reached = grown


COUPLINGS = ("global", "redfield", "ule")
CASES = (
    [("qubit_pair", {"coupling": c}) for c in COUPLINGS]
    + [("qubit_chain", {"n": n, "coupling": c}) for n in (3, 4) for c in COUPLINGS]
    + [("absorption_refrigerator", {"coupling": c}) for c in COUPLINGS]
    + [("oscillator_pair", {"cutoff": n, "coupling": c}) for n in (3, 4, 5, 6) for c in COUPLINGS]
)


@pytest.mark.parametrize("name, options", CASES, ids=[f"{n}-{'-'.join(map(str, o.values()))}" for n, o in CASES])
def test_sector_equals_the_edge_by_edge_reference(name, options):
    model = jaxtherm.models.get(name, **options)
    keep = symmetry_sector(model)
    np.testing.assert_array_equal(keep, reference_sector(model))


def test_davies_sector_is_a_union_of_excitation_blocks():
    """Global oscillators: ``N = n_a + n_b`` is a weak symmetry and the Davies thermalizers create
    every coherence inside a block of ``N``: the sector is the blocks' coordinates, ``Σ_N s_N²``
    for block sizes ``s_N = min(N + 1, 2c − 1 − N)``; the size the reference is too slow for."""
    cutoff = 10
    model = jaxtherm.oscillator_pair(cutoff, "global")
    d = model.dim
    na, nb = np.divmod(np.arange(d), cutoff)
    meaning = [(k, k) for k in range(d)] + [(i, j) for i in range(d) for j in range(i + 1, d) for _ in range(2)]
    expected = [k for k, (i, j) in enumerate(meaning) if na[i] + nb[i] == na[j] + nb[j]]
    np.testing.assert_array_equal(symmetry_sector(model), expected)
    sizes = np.minimum(np.arange(2 * cutoff - 1) + 1, 2 * cutoff - 1 - np.arange(2 * cutoff - 1))
    assert len(expected) == (sizes**2).sum()
