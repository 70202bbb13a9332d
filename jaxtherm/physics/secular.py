"""Global (Davies) models solved in the eigenbasis of ``H``, block by block — and, with the same
structure, Bloch–Redfield and ULE models (``jaxtherm.physics.nonsecular``: the same terms with the
pair weights of their equation in place of the secular mask, Redfield's right ``G`` factor read
transposed, ``Structure.g_right``).

A model whose dissipation is all Davies thermalizers (``jaxtherm.models.Davies``) with a
real symmetric ``H(p) = Σ_m h_m(p) H_m`` and real couplings ``X_j`` is solved here without a
per-point eigendecomposition of the whole ``H`` and without a ``d⁴`` complex assembly:

1. **Blocks of H** (static): the connected components of the union of the terms' patterns,
   ``H = ⊕_b H_b``; these are the conserved quantities of ``H`` itself (for the qubit pair the
   excitation number: blocks of 1, 2, 1 states). A block of one state is its own eigenvector,
   a block of two is diagonalised in closed form (below), larger ones by a batched ``eigh``
   with a degeneracy-safe derivative (``jaxtherm.physics.davies.eigh``). ``V = ⊕_b V_b`` is real orthogonal and
   eigenvector ``k`` of block ``b`` takes the place of the block's ``k``-th basis state, so the
   symmetry sector of the product basis (a union of block pairs ``b × b'``) is also the sector
   in the eigenbasis.
2. **The generator on the sector's real coordinates** (per point, only the kept entries): with
   ``x = Vᵀ X V``, ``ω_mn = E_m − E_n`` and ``γ(ω)`` the bath's emission (``ω > 0``) or
   absorption (``ω < 0``) rate (zero for ``|ω| ≤ tol``),

       (D ρ)_{nn'} = Σ_{mm'} K_{nn',mm'} ρ_{mm'} − ½ (G ρ + ρ G)_{nn'},
       K_{nn',mm'} = γ(ω_mn) x_nm x_n'm' [|ω_mn − ω_m'n'| ≤ tol],
       G_{m'm} = Σ_k γ(ω_mk) x_km' x_km [|E_m − E_m'| ≤ tol],

   which is ``jaxtherm.physics.davies.davies_generator`` written entry by entry (degenerate Bohr
   frequencies share one jump operator, so nothing depends on the choice of eigenvectors in a
   degenerate level). ``K`` and ``G`` are real, so the populations and ``Re ρ_nn'`` evolve
   apart from ``Im ρ_nn'`` except through ``−i[H, ρ]``, which in the eigenbasis is
   ``d Re ρ_nn'/dt = (E_n − E_n') Im ρ_nn'``, ``d Im ρ_nn'/dt = −(E_n − E_n') Re ρ_nn'``.
   Each real entry is a fixed sum of such terms (found once per model), evaluated for every
   point as one vector of gathers: no matrix products, no complex numbers.
3. **Heat** ``J_j = Tr(H D_j ρ) = Σ_n E_n (D_j ρ)_nn`` (population rows only), and ``ρ`` in the
   product basis ``V ρ_eig Vᵀ`` for expectations and output.

The grouping tolerance is ``tol = √ε_mach (1 + max|H_ij|)`` (as the general construction):
Bohr frequencies closer than ``tol`` count as equal, levels closer than ``tol`` as degenerate.

The 2 × 2 closed form: ``[[a, c], [c, b]]`` has ``E_± = (a+b)/2 ± R``, ``R = √(((a−b)/2)² + c²)``,
eigenvectors ``(cos θ, sin θ)`` and ``(−sin θ, cos θ)`` with ``θ = ½ atan2(c, (a−b)/2)``; at
``R = 0`` (a degenerate block) ``θ = 0`` with zero derivative instead of ``atan2``'s NaN.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING

import jax.numpy as jnp
import numpy as np

from jaxtherm.linalg import graphs
from jaxtherm.physics import davies, liouvillian, nonsecular

if TYPE_CHECKING:  # physics reads a model's terms; it never imports the models layer
    from jaxtherm.models import Model

_PATTERN_TOL = 1e-14


@dataclasses.dataclass(frozen=True, eq=False)
class Structure:
    """Static index structure of a model's Davies generators on a sector (NumPy, per model)."""

    blocks: tuple[np.ndarray, ...]
    """Basis states of each block of ``H``."""
    rows: np.ndarray
    """Kept-coordinate row of each generator entry, ``(E,)``."""
    cols: np.ndarray
    """Kept-coordinate column of each generator entry, ``(E,)``."""
    k_terms: tuple[np.ndarray, ...]
    """``(entry, n, n', m, m', sign)`` of every ``± K_{nn',mm'}`` term, ``(T,)`` each."""
    g_terms: tuple[np.ndarray, ...]
    """``(entry, a, b, coefficient)`` of every ``c G_ab`` term."""
    g_right: np.ndarray
    """Whether each ``G`` term comes from the right factor of the anticommutator part
    (``(ρ G)_{nn'}``): Redfield's right factor is ``G†``, so it reads ``G_ba`` there
    (``jaxtherm.physics.nonsecular``)."""
    h_terms: tuple[np.ndarray, ...]
    """``(entry, n, n', sign)`` of every ``± (E_n − E_n')`` term of ``−i[H, ·]``."""
    pop_rows: np.ndarray
    """For each entry whose row is a population, ``(entry, n)``; for the heat currents."""


def applies(model: Model) -> bool:
    """Whether ``structure`` applies: Davies thermalizers only (no Lindblad terms), a real
    Hamiltonian and real couplings."""
    return (bool(model.davies) and not model.lindblads
            and all(np.abs(np.imag(t.operator)).max(initial=0) == 0 for t in model.hamiltonian)
            and all(np.abs(np.imag(k.coupling)).max(initial=0) == 0 for k in model.davies))


@functools.lru_cache(maxsize=256)
def hamiltonian_blocks(model: Model, tol: float) -> tuple[np.ndarray, ...]:
    """The blocks of ``H(p) = ⊕_b H_b(p)`` at every ``p``: the connected components of the union of
    the terms' entries above ``tol`` in modulus, as sorted states, ordered by their first.
    ``jaxtherm.solvers.symmetry_sector`` takes the exact non-zeros (``tol = 0``); ``blocks``
    ignores round-off; where the two differ, ``structure`` finds a sector that is not a union
    of block pairs and declines (the general construction solves the model)."""
    d = model.dim
    pattern = np.zeros((d, d), bool)
    for t in model.hamiltonian:
        pattern |= np.abs(np.asarray(t.operator)) > tol
    return tuple(graphs.groups(d, *np.nonzero(pattern)))


def blocks(model: Model) -> tuple[np.ndarray, ...]:
    """The blocks of ``H`` this module solves in (``hamiltonian_blocks`` above round-off,
    ``_PATTERN_TOL``)."""
    return hamiltonian_blocks(model, _PATTERN_TOL)


@functools.lru_cache(maxsize=256)
def structure(model: Model, keep: tuple[int, ...]) -> Structure | None:
    """The static structure of the model's Davies generators on the kept coordinates, or
    ``None`` where the eigenbasis path does not apply (see ``applies``, and the sector
    must be a union of block pairs)."""
    if not in_eigenbasis(model, keep):
        return None
    blocks_ = blocks(model)
    block_of = _block_of(blocks_, model.dim)
    meaning = liouvillian._coordinate_meaning(model.dim)[np.asarray(keep)]  # (i, j, part) of each kept coordinate
    x_nz, g_nz = _coupling_patterns(model, blocks_, block_of)
    return _build(blocks_, meaning, x_nz, g_nz)


@functools.lru_cache(maxsize=256)
def in_eigenbasis(model: Model, keep: tuple[int, ...]) -> bool:
    """Whether the model's sector ``keep`` is solved in the eigenbasis of ``H``: the model
    ``applies``, and the sector is a union of pairs of ``H``'s blocks (then it is the same
    sector in the eigenbasis). Cheap: ``structure`` builds the term tables besides."""
    if not applies(model):
        return False
    blocks_ = blocks(model)
    meaning = liouvillian._coordinate_meaning(model.dim)[np.asarray(keep)]  # (i, j, part) of each kept coordinate
    return _union_of_block_pairs(meaning, blocks_, _block_of(blocks_, model.dim))


def _block_of(blocks_: tuple[np.ndarray, ...], d: int) -> np.ndarray:
    """The block of each state, ``(d,)``."""
    block_of = np.empty(d, int)
    for b, states in enumerate(blocks_):
        block_of[states] = b
    return block_of


def _union_of_block_pairs(meaning: np.ndarray, blocks_: tuple[np.ndarray, ...], block_of: np.ndarray) -> bool:
    """Whether the kept coordinates' pairs ``(i, j)`` are a union of block pairs ``b × b'``: every
    block pair ``b × b'`` (either order) that holds a kept pair is kept whole."""
    d, nb = len(block_of), len(blocks_)
    kept = np.zeros((d, d), bool)
    kept[meaning[:, 0], meaning[:, 1]] = True
    kept |= kept.T
    counts = np.zeros((nb, nb), int)  # kept pairs in each block pair
    np.add.at(counts, (block_of[:, None], block_of[None, :]), kept)
    sizes = np.array([len(b) for b in blocks_])
    return bool(np.all((counts == 0) | (counts == np.outer(sizes, sizes))))


def _coupling_patterns(model: Model, blocks_: tuple[np.ndarray, ...], block_of: np.ndarray):
    """``(x_nz, g_nz)``: the ``(d, d)`` structural patterns of ``x = Vᵀ X V`` (which blocks any
    coupling connects) and of ``G_{m'm} = Σ_k x_km' x_km``."""
    connects = np.zeros((len(blocks_), len(blocks_)), bool)
    for k in model.davies:
        nz = np.abs(k.coupling) > _PATTERN_TOL
        for a, sa in enumerate(blocks_):
            for b, sb in enumerate(blocks_):
                connects[a, b] |= nz[np.ix_(sa, sb)].any()
    x_nz = connects[block_of[:, None], block_of[None, :]]
    return x_nz, (x_nz.T.astype(int) @ x_nz.astype(int)) > 0


_BLOCK_PAIRS = 1 << 22
"""(row, column) pairs examined at once by ``_build`` (its boolean masks are ``(rows, m)``)."""


def _build(blocks_: tuple[np.ndarray, ...], meaning: np.ndarray, x_nz: np.ndarray, g_nz: np.ndarray) -> Structure:
    """``Structure`` from the kept coordinates' ``(n, n', part)`` (``meaning``, ``(m, 3)``) and
    the coupling patterns, rows in blocks of about ``_BLOCK_PAIRS`` pairs (``_row_block``).

    Entries are numbered in (row, column) order; the term tables are in (row, column, basis
    element) order, each ``G`` element's left case before its right."""
    m = len(meaning)
    step = max(1, _BLOCK_PAIRS // max(m, 1))
    parts, offset = [], 0
    for lo in range(0, m, step):
        part = _row_block(meaning, lo, min(lo + step, m), x_nz, g_nz, offset)
        offset += len(part["rows"][0])
        parts.append(part)
    rows, cols = _joined(parts, "rows", (int, int))
    pop = np.flatnonzero(meaning[rows, 2] == 0)
    return Structure(
        blocks=blocks_, rows=rows, cols=cols,
        k_terms=_joined(parts, "k", (int,) * 5 + (float,)),
        g_terms=_joined(parts, "g", (int, int, int, float)),
        h_terms=_joined(parts, "h", (int, int, int, float)),
        g_right=_joined(parts, "g_right", (bool,))[0],
        pop_rows=np.stack([pop, meaning[rows[pop], 0]], axis=1).astype(int),
    )


def _joined(parts: list[dict], key: str, dtypes: tuple) -> tuple[np.ndarray, ...]:
    """The columns ``parts[…][key]`` (lists of arrays, one per column) joined over the row blocks,
    as ``dtypes``; each block's column is released once joined (the tables can be GBs)."""
    out = []
    for i, dtype in enumerate(dtypes):
        out.append(np.concatenate([p[key][i] for p in parts] or [np.zeros(0, dtype)]).astype(dtype, copy=False))
        for p in parts:
            p[key][i] = None
    return tuple(out)


def _pair_masks(target: np.ndarray, source: np.ndarray, x_nz: np.ndarray, g_nz: np.ndarray) -> dict:
    """Which ``(row, column)`` pairs carry which terms, ``(B, m)`` boolean each.

    ``target`` is ``(B, 3)`` and ``source`` ``(m, 3)`` of ``(n, n', part)``. A source ``(m, m')``
    stands for the basis elements ``ρ_{mm'}`` and, off the diagonal, ``ρ_{m'm}``: ``h`` the
    ``−i[H, ·]`` pair (``Re ↔ Im`` of the same ``(n, n')``), ``k1``/``k2`` the jump term of the
    first/second element (``x_na x_n'b`` structurally non-zero), ``g1a``/``g1b`` and
    ``g2a``/``g2b`` the anticommutator's left (``G_na``, ``b = n'``) and right (``G_bn'``,
    ``a = n``) terms of the first/second element."""
    n, n2, pt = (target[:, i, None] for i in range(3))
    m, m2, ps = (source[None, :, i] for i in range(3))
    cross = (pt == 2) != (ps == 2)
    same = ~cross
    pair = same & (m != m2)
    return {
        "h": cross & (n == m) & (n2 == m2),
        "k1": same & x_nz[n, m] & x_nz[n2, m2],
        "k2": pair & x_nz[n, m2] & x_nz[n2, m],
        "g1a": same & (m2 == n2) & g_nz[n, m],
        "g1b": same & (m == n) & g_nz[m2, n2],
        "g2a": pair & (m == n2) & g_nz[n, m2],
        "g2b": pair & (m2 == n) & g_nz[m, n2],
    }


def _row_block(meaning: np.ndarray, lo: int, hi: int, x_nz: np.ndarray, g_nz: np.ndarray, offset: int) -> dict:
    """The entries and terms of rows ``lo … hi−1`` (entries numbered from ``offset``).

    Returns a dict of lists of columns: ``rows`` ``[row, col]`` ``(E_b,)`` each; ``k``
    ``[entry, n, n', a, b, sign]``, ``g`` ``[entry, a, b, coefficient]`` and ``g_right``
    ``[right]``, ``h`` ``[entry, n, n', sign]``, ``(T,)`` each."""
    m = len(meaning)
    target = meaning[lo:hi]
    masks = _pair_masks(target, meaning, x_nz, g_nz)
    any_ = functools.reduce(np.logical_or, masks.values()).ravel()
    entry_of = np.cumsum(any_) - 1 + offset  # flat (row, column) → entry
    flat = np.flatnonzero(any_)
    hits = {key: np.flatnonzero(mask.ravel()) for key, mask in masks.items()}
    imag_row = target[:, 2] == 2
    second_w = np.where(imag_row, -1.0, 1.0)  # weight of ρ_{m'm}: −1 for an imaginary part
    h, h_row = hits["h"], target[hits["h"] // m]
    return {
        "rows": [flat // m + lo, flat % m],
        "h": [entry_of[h], h_row[:, 0], h_row[:, 1], np.where(h_row[:, 2] == 1, 1.0, -1.0)],
        **_k_terms(hits, target, meaning, entry_of, second_w),
        **_g_terms(hits, target, meaning, entry_of, second_w),
    }


def _merged(cases: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(flat, case)`` of the hits of several cases in (pair, case) order: ``cases`` are
    ascending flat pair indices, one array per case."""
    flat = np.concatenate(cases)
    case = np.concatenate([np.full(len(c), i) for i, c in enumerate(cases)])
    order = np.argsort(flat * len(cases) + case, kind="stable")
    return flat[order], case[order]


def _k_terms(hits: dict, target: np.ndarray, meaning: np.ndarray, entry_of: np.ndarray, second_w: np.ndarray) -> dict:
    """The jump terms ``(entry, n, n', a, b)`` and signs of a row block (``_row_block``): the
    first element ``(a, b) = (m, m')`` with sign 1, then the second ``(m', m)`` with ``second_w``."""
    flat, case = _merged([hits["k1"], hits["k2"]])
    r, c = np.divmod(flat, len(meaning))
    first = case == 0
    m, m2 = np.ascontiguousarray(meaning[:, 0])[c], np.ascontiguousarray(meaning[:, 1])[c]
    a = np.where(first, m, m2)
    n, n2 = np.ascontiguousarray(target[:, 0])[r], np.ascontiguousarray(target[:, 1])[r]
    return {"k": [entry_of[flat], n, n2, a, m + m2 - a, np.where(first, 1.0, second_w[r])]}


def _g_terms(hits: dict, target: np.ndarray, meaning: np.ndarray, entry_of: np.ndarray, second_w: np.ndarray) -> dict:
    """The anticommutator terms ``(entry, a, b)`` of ``G_ab``, their coefficients ``−½ w`` and
    whether they are right terms, of a row block (``_row_block``; cases of ``_pair_masks``)."""
    m = len(meaning)
    flat, case = _merged([hits["g1a"], hits["g1b"], hits["g2a"], hits["g2b"]])
    r, c = flat // m, flat % m
    n, n2, s, s2 = target[r, 0], target[r, 1], meaning[c, 0], meaning[c, 1]
    a = np.choose(case, [n, s2, n, s])
    b = np.choose(case, [s, n2, s2, n2])
    coef = -0.5 * np.where(case >= 2, second_w[r], 1.0)
    return {"g": [entry_of[flat], a, b, coef], "g_right": [case % 2 == 1]}


def _eigh2(a, b, c):
    """Closed-form eigensystem of the real symmetric ``[[a, c], [c, b]]`` (module docstring):
    ``(E_−, E_+)`` and the rotation ``(cos θ, sin θ)``; safe (zero derivative) at ``R = 0``."""
    half = 0.5 * (a - b)
    r2 = half * half + c * c
    degenerate = r2 == 0
    r = jnp.sqrt(jnp.where(degenerate, 1.0, r2))
    r = jnp.where(degenerate, 0.0, r)
    theta = 0.5 * jnp.arctan2(jnp.where(degenerate, 0.0, c), jnp.where(degenerate, 1.0, half))
    mean = 0.5 * (a + b)
    return (mean - r, mean + r), (jnp.cos(theta), jnp.sin(theta))


def eigensystem(model: Model, blocks, h_coeffs, dtype):
    """``(E, V, tol)``: the energies (``d`` scalars), the real orthogonal block-diagonal ``V`` as
    a dict ``{(i, n): V_in}`` of its structurally non-zero entries (eigenvector ``n`` of a block
    in its ``n``-th state's place) of ``H = Σ_m h_m H_m``, and the grouping tolerance
    ``√ε (1 + max|H_ij|)``."""
    zero = jnp.zeros((), dtype)
    h = _hamiltonian_entries(model, blocks, h_coeffs, zero)
    h_max = functools.reduce(jnp.maximum, [jnp.abs(e) for e in h.values()], zero)
    tol = jnp.sqrt(jnp.finfo(dtype).eps) * (1.0 + h_max)
    energies = [zero] * model.dim
    v = {}
    for b in blocks:
        if len(b) == 1:
            energies[b[0]] = h.get((b[0], b[0]), zero)
            v[b[0], b[0]] = jnp.ones((), dtype)
        elif len(b) == 2:
            _pair_eigensystem(b, h, zero, energies, v)
        else:
            _block_eigensystem(b, h, zero, tol, dtype, energies, v)
    return energies, v, tol


def _hamiltonian_entries(model: Model, blocks, h_coeffs, zero) -> dict:
    """``H_ij = Σ_m h_m (H_m)_ij`` for the structurally non-zero ``(i, j)`` within each block:
    ``{(i, j): H_ij}`` (a unit weight adds ``h_m`` itself)."""
    terms = np.stack([np.real(t.operator) for t in model.hamiltonian])

    def element(i, j):
        out = zero
        for k, c in enumerate(h_coeffs):
            w = float(terms[k, i, j])
            if w != 0.0:
                out = out + (c if w == 1.0 else w * c)
        return out

    return {(i, j): element(i, j) for b in blocks for i in b for j in b if np.any(terms[:, i, j] != 0)}


def _pair_eigensystem(b, h: dict, zero, energies: list, v: dict) -> None:
    """A 2-state block's energies and eigenvectors in closed form (``_eigh2``), into
    ``energies`` and ``v``: columns ``E_− ↔ (−sin θ, cos θ)``, ``E_+ ↔ (cos θ, sin θ)``."""
    i, j = int(b[0]), int(b[1])
    (lo, hi), (cos, sin) = _eigh2(h.get((i, i), zero), h.get((j, j), zero), h.get((i, j), zero))
    energies[i], energies[j] = lo, hi
    v[i, i], v[j, i], v[i, j], v[j, j] = -sin, cos, cos, sin


def _block_eigensystem(b, h: dict, zero, tol, dtype, energies: list, v: dict) -> None:
    """A block of 3 or more states by ``davies.eigh``, into ``energies`` and ``v``.

    Shifted by its mean level, the block's eigenvectors are accurate relative to its spread, not
    to its energy: near-degenerate levels (a weak coupling at resonance) keep accurate
    eigenvectors and derivatives."""
    hb = jnp.stack([jnp.stack([h.get((int(i), int(j)), zero) for j in b]) for i in b])
    shift = jnp.trace(hb) / len(b)
    w, vb = davies.eigh(hb - shift * jnp.eye(len(b), dtype=dtype), tol)
    w = w + shift
    for k, s_ in enumerate(b):
        energies[s_] = w[k]
        for l_, i in enumerate(b):
            v[int(i), int(s_)] = vb[l_, k]


def v_matrix(v: dict, d: int, dtype):
    """``V`` as a ``(d, d)`` array from ``eigensystem``'s dict of its non-zero entries."""
    idx = np.array(list(v.keys()))
    return jnp.zeros((d, d), dtype).at[idx[:, 0], idx[:, 1]].set(jnp.stack(list(v.values())).astype(dtype))


def _by_row(v: dict) -> dict:
    """``V``'s structural non-zeros grouped by row: ``i → [(n, V_in)]``."""
    out = {}
    for (i, n), val in v.items():
        out.setdefault(i, []).append((n, val))
    return out


SCALAR_DIM = 8
"""Largest dimension whose generator entries are computed as scalars (elementwise over a batch),
where every block of ``H`` has a closed-form eigensystem (at most 2 states; ``scalar_code``);
otherwise as arrays (small matrix products, gathers and a scatter-add). Scalars let the
closed-form blocks' entries fuse into a few elementwise loops (and the sector be eliminated
unrolled); a block of 3 or more states needs a batched ``eigh`` whose results scalar code only
unpacks, for little speed and a much longer compile, so it keeps the arrays. With forward-mode
gradients (``scalars=False`` from ``jaxtherm.kernel.batch.batched_kernel``) the arrays are used
throughout, which compile much faster. Measured by ``benchmarks/bench_models.py`` (global
models; figures in ``docs/performance.md``)."""


def scalar_code(model: Model) -> bool:
    """Whether the model's generator entries are built as scalars (``SCALAR_DIM``): ``d ≤ 8``
    and every block of ``H`` of at most 2 states (closed-form eigensystem)."""
    return _scalar_blocks(blocks(model))


def _scalar_blocks(blocks_: tuple[np.ndarray, ...]) -> bool:
    return sum(len(b) for b in blocks_) <= SCALAR_DIM and all(len(b) <= 2 for b in blocks_)


def generators(model: Model, st: Structure, p, energies, v, tol, dtype, code: Code, counting: bool = False):
    """The real generator entries on the sector (eigenbasis): ``(hamiltonian, [bath …])``, each
    an ``(E,)`` vector of values at ``(st.rows, st.cols)`` — the Hamiltonian part, then each
    Davies thermalizer's (with ``counting``, ``(generator, 𝒥₁, 𝒥₂)`` per bath, see
    ``bath_entries``). Formulas in the module docstring.

    Args:
        energies, v, tol: from ``eigensystem``.
        code: scalars or arrays (``code_for``).
    """
    return code.hamiltonian(st, energies, dtype), bath_entries(model, st, p, energies, v, tol, dtype, code, counting)


def bath_entries(model: Model, st: Structure, p, energies, v, tol, dtype, code: Code, counting: bool = False):
    """Each eigenbasis thermalizer's entries at ``(st.rows, st.cols)``, ``[(E,) …]``: its generator
    (Davies, Redfield or ULE by ``k.equation``, weights of ``jaxtherm.physics.nonsecular``); with
    ``counting`` (Davies only), ``[(generator, 𝒥₁, 𝒥₂) …]``, its counting superoperators too (the
    ``K`` terms only, each transition ``a → n`` weighted by ``ν`` and ``ν²``, ``ν = E_n − E_a``
    the energy it takes from the bath; ``jaxtherm.physics.fluctuations``), from the same terms."""
    out = []
    for k in model.davies:
        cutoff = None if k.cutoff is None else jnp.asarray(k.cutoff(p), dtype)
        beta, rate = jnp.asarray(k.beta(p), dtype), jnp.asarray(k.rate(p), dtype)
        rates = functools.partial(k.spectrum.rates, beta=beta, rate=rate, cutoff=cutoff)
        bath = _Bath(np.real(k.coupling), rates, k.equation,
                     None if k.equation == "davies" else k.spectrum.zero_frequency(beta, rate, cutoff),
                     float(np.abs(k.coupling).max(initial=0.0)))
        out.append(code.bath(st, bath, energies, v, tol, dtype, model.dim, counting))
    return out


@dataclasses.dataclass(frozen=True)
class _Bath:
    """One thermalizer at a point: its real coupling ``X``, ``rates(ν) → (emission, absorption)``,
    its equation, the ``ν = 0`` rate (non-secular equations) and ``max|X|``."""

    coupling: np.ndarray
    rates: object
    equation: str
    zero: object
    scale: float


def _array_bath(st: Structure, bath: _Bath, energies, v, tol, dtype, d, counting=False):
    """One bath's entries with ``(d, d)`` arrays: ``x = Vᵀ X V``, ``G`` by matrix products, the
    terms by gathers and a scatter-add."""
    e_arr = jnp.stack(energies)
    v_arr = v_matrix(v, d, dtype)
    omega = e_arr[:, None] - e_arr[None, :]  # omega[m, n] = E_m − E_n
    x = v_arr.T @ jnp.asarray(bath.coupling, dtype) @ v_arr  # x[n, m] = ⟨n|X|m⟩
    e_idx, n, n2, a, b, sign = st.k_terms
    e_g, ga, gb, gc = st.g_terms
    zeros = jnp.zeros(len(st.rows), dtype)
    if bath.equation != "davies":
        gamma = nonsecular.transition_rates(omega, x, bath.rates, bath.zero, tol, bath.scale)
        g = nonsecular.anticommutator(bath.equation, x, gamma)
        if nonsecular.right_transposed(bath.equation):
            ga, gb = np.where(st.g_right, gb, ga), np.where(st.g_right, ga, gb)
        weight = nonsecular.pair_weights(bath.equation, gamma[a, n], gamma[b, n2])
        k_vals = jnp.asarray(sign, dtype) * weight * x[n, a] * x[n2, b]
        return zeros.at[e_idx].add(k_vals).at[e_g].add(jnp.asarray(gc, dtype) * g[ga, gb])
    transition = jnp.abs(omega) > tol
    emission, absorption = bath.rates(jnp.where(transition, jnp.abs(omega), 1.0))  # a safe ν where no transition
    gamma = jnp.where(transition, jnp.where(omega > 0, emission, absorption), 0.0)  # gamma[m, n] = γ(ω_mn)
    g = (x.T @ (gamma.T * x)) * (jnp.abs(omega) <= tol)  # g[m', m] = Σ_k γ(ω_mk) x_km' x_km [E_m ≈ E_m']
    same_freq = jnp.abs(omega[a, n] - omega[b, n2]) <= tol
    k_vals = jnp.asarray(sign, dtype) * gamma[a, n] * x[n, a] * x[n2, b] * same_freq
    generator = zeros.at[e_idx].add(k_vals).at[e_g].add(jnp.asarray(gc, dtype) * g[ga, gb])
    if not counting:
        return generator
    nu = -omega[a, n]  # transition a → n takes ν = E_n − E_a from the bath
    return generator, zeros.at[e_idx].add(k_vals * nu), zeros.at[e_idx].add(k_vals * nu * nu)


def _scalar_bath(st: Structure, bath: _Bath, energies, v, tol, dtype, d, counting=False):
    """One bath's entries as scalars over the structural non-zeros only (small ``d``): under
    ``vmap`` every operation is elementwise over the batch."""
    zero = jnp.zeros((), dtype)
    x = _scalar_x(bath.coupling, _by_row(v), zero)
    gamma = _scalar_gamma(energies, bath, tol, x)
    values, first, second = _scalar_jumps(st, x, gamma, energies, tol, zero, counting, bath.equation)
    g_cache = {}
    transposed = nonsecular.right_transposed(bath.equation)
    for e, a, b, c, right in zip(*(t.tolist() for t in (*st.g_terms, st.g_right))):
        key = (b, a) if transposed and right else (a, b)
        if key not in g_cache:
            g_cache[key] = _scalar_g(*key, x, gamma, energies, tol, zero, d, bath.equation)
        values[e] = values[e] + c * g_cache[key]
    if counting:
        return jnp.stack(values), jnp.stack(first), jnp.stack(second)
    return jnp.stack(values)


def _scalar_x(coupling: np.ndarray, cols_of: dict, zero) -> dict:
    """``x_nm = Σ_ij V_in X_ij V_jm`` over the structural non-zeros: ``{(n, m): x_nm}``.

    Args:
        coupling: the real ``(d, d)`` coupling ``X``.
        cols_of: ``V`` by row (``_by_row``)."""
    x = {}
    for i, j in zip(*np.nonzero(coupling)):
        w = float(coupling[i, j])
        for n, vin in cols_of.get(int(i), []):
            for m, vjm in cols_of.get(int(j), []):
                x[n, m] = x.get((n, m), zero) + w * vin * vjm
    return x


def _scalar_gamma(energies, bath: _Bath, tol, x: dict):
    """``gamma(m, n) = γ(ω_mn)``: emission for ``ω > 0``, absorption for ``ω < 0``; within
    ``tol`` 0 (Davies) or the ``ν = 0`` rate where ``|x_nm|`` is above the selection-rule
    threshold (``jaxtherm.physics.nonsecular.transition_rates``); one spectrum evaluation for
    both directions, cached."""
    cache = {}

    def at_zero(m, n):
        if bath.equation == "davies" or (n, m) not in x:
            return 0.0
        return jnp.where(jnp.abs(x[n, m]) > nonsecular.COUPLING_ATOL * bath.scale, bath.zero, 0.0)

    roots = {}

    def gamma(m, n):
        if (m, n) not in cache:
            om = energies[m] - energies[n]
            transition = jnp.abs(om) > tol
            emission, absorption = bath.rates(jnp.where(transition, jnp.abs(om), 1.0))
            up = om > 0
            cache[m, n] = jnp.where(transition, jnp.where(up, emission, absorption), at_zero(m, n))
            cache[n, m] = jnp.where(transition, jnp.where(up, absorption, emission), at_zero(n, m))
        return cache[m, n]

    def root(m, n):
        """``√γ(ω_mn)`` (the ULE's), cached: one square root per transition."""
        if (m, n) not in roots:
            roots[m, n] = nonsecular.safe_sqrt(gamma(m, n))
        return roots[m, n]

    gamma.root = root
    return gamma


def _scalar_g(mp: int, m: int, x: dict, gamma, energies, tol, zero, d: int, equation: str = "davies"):
    """``G_{m'm}`` over the structural non-zeros: ``Σ_k γ(ω_mk) x_km' x_km`` (Davies: times
    ``[E_m ≈ E_m']``; ULE: ``√γ(ω_m'k) √γ(ω_mk)`` in place of ``γ(ω_mk)``)."""
    out = zero
    for k in range(d):
        if (k, mp) in x and (k, m) in x:
            rate = gamma.root(mp, k) * gamma.root(m, k) if equation == "ule" else gamma(m, k)
            out = out + rate * x[k, mp] * x[k, m]
    return out if mp == m or equation != "davies" else out * (jnp.abs(energies[m] - energies[mp]) <= tol)


def _scalar_jumps(st: Structure, x: dict, gamma, energies, tol, zero, counting: bool, equation: str = "davies"):
    """The jump part's entries ``γ(ω_an) x_na x_n'b [ω_an ≈ ω_bn']`` (times the term's sign;
    Redfield and ULE: their pair weight ``w(a→n, b→n')`` in place of ``γ(ω_an) [ω_an ≈ ω_bn']``,
    ``jaxtherm.physics.nonsecular``), and with ``counting`` the same weighted by ``ν`` and ``ν²``
    (transition ``a → n`` takes ``ν = E_n − E_a`` from the bath).

    Returns:
        ``(values, first, second)``: lists of one scalar per entry (``first`` and ``second`` zero
        without ``counting``)."""
    values = [zero] * len(st.rows)
    first, second = [zero] * len(st.rows), [zero] * len(st.rows)  # 𝒥₁, 𝒥₂
    for e, n, n2, a, b, sign in zip(*(t.tolist() for t in st.k_terms)):
        if (n, a) in x and (n2, b) in x and equation != "davies":
            weight = (gamma.root(a, n) * gamma.root(b, n2) if equation == "ule"  # √γ once a transition
                      else nonsecular.pair_weights(equation, gamma(a, n), gamma(b, n2)))
            values[e] = values[e] + sign * weight * x[n, a] * x[n2, b]
        elif (n, a) in x and (n2, b) in x:
            same = jnp.abs((energies[a] - energies[n]) - (energies[b] - energies[n2])) <= tol
            term = sign * gamma(a, n) * x[n, a] * x[n2, b] * same
            values[e] = values[e] + term
            if counting:
                nu = energies[n] - energies[a]
                first[e] = first[e] + term * nu
                second[e] = second[e] + term * nu * nu
    return values, first, second


def _meaning(model: Model, keep: tuple[int, ...]) -> np.ndarray:
    """``(i, j, part)`` of each kept coordinate (``part``: 0 population, 1 Re, 2 Im)."""
    return liouvillian._coordinate_meaning(model.dim)[np.asarray(keep)]


def _array_product_coordinates(meaning: np.ndarray, v_arr, r_eig):
    """``product_coordinates`` by two real matrix products: ``Re ρ = V S Vᵀ``, ``Im ρ = V A Vᵀ``
    for the symmetric ``S`` and antisymmetric ``A`` filled from ``r_eig``."""
    d = v_arr.shape[0]
    i, j, part = meaning.T
    real, imag = part != 2, part == 2  # static: (i, j) repeats for Re and Im of a pair
    sym = jnp.zeros((d, d), r_eig.dtype).at[i[real], j[real]].set(r_eig[real])
    sym = sym + jnp.triu(sym, 1).T
    anti = jnp.zeros((d, d), r_eig.dtype).at[i[imag], j[imag]].set(r_eig[imag])
    anti = anti - anti.T
    re, im = v_arr @ sym @ v_arr.T, v_arr @ anti @ v_arr.T
    return jnp.where(imag, im[i, j], re[i, j])


def _scalar_product_coordinates(meaning: np.ndarray, v: dict, r_eig):
    """``product_coordinates`` as scalars over ``V``'s structural non-zeros (``Im ρ_eig,nn = 0``
    skipped)."""
    slot = {(int(i), int(j), int(part)): c for c, (i, j, part) in enumerate(meaning)}
    rows_of = _by_row(v)
    zero = jnp.zeros((), r_eig.dtype)

    def element(n, n2, imag):  # Re or Im of ρ_eig,nn'
        if n == n2:
            return zero if imag else r_eig[slot[n, n, 0]]
        lo, hi = min(n, n2), max(n, n2)
        val = r_eig[slot[lo, hi, 2 if imag else 1]]
        return -val if (imag and n > n2) else val

    out = []
    for i, j, part in meaning.tolist():
        acc = zero
        for n, vin in rows_of[i]:
            for n2, vjn in rows_of[j]:
                if part == 2 and n == n2:
                    continue
                acc = acc + vin * vjn * element(n, n2, part == 2)
        out.append(acc)
    return jnp.stack(out)


class Code:
    """How a model's eigenbasis entries are computed, chosen once per model and plan
    (``code_for``): the formulas of the module docstring, evaluated with ``(d, d)`` arrays
    (``Arrays``: matrix products, gathers and one scatter-add) or as scalars over the structural
    non-zeros (``Scalars``: every operation elementwise over a batch, for small models with
    closed-form blocks; ``SCALAR_DIM``).

    Methods (the same in both):
        hamiltonian(st, energies, dtype): the ``−i[H, ·]`` entries, ``(E,)``.
        bath(st, bath, energies, v, tol, dtype, d, counting): one thermalizer's entries
            (``bath_entries``).
        heat(st, energies, values, r): ``Σ_n E_n (D r)_nn`` from a generator's entries
            (population rows only).
        product_coordinates(model, keep, v, r_eig): the kept real coordinates of
            ``ρ = V ρ_eig Vᵀ`` in the product basis, ``(m,)``: ``Re ρ_ij = Σ_{nn'} V_in V_jn'
            Re ρ_eig,nn'`` and the same for ``Im`` (and populations), over ``n`` in the block of
            ``i`` and ``n'`` in that of ``j`` (``V`` is real and block diagonal; ``v``:
            ``{(i, n): V_in}`` from ``eigensystem``).
    """


class Arrays(Code):
    """The entries with ``(d, d)`` arrays (see ``Code``)."""

    bath = staticmethod(_array_bath)

    @staticmethod
    def hamiltonian(st: Structure, energies, dtype):
        # one scatter: a stack of E scalars compiles for minutes at E ~ 10⁴ (global chain n = 5)
        e_h, hn, hn2, hs = st.h_terms
        e_arr = jnp.stack(energies)
        return jnp.zeros(len(st.rows), dtype).at[e_h].add(jnp.asarray(hs, dtype) * (e_arr[hn] - e_arr[hn2]))

    @staticmethod
    def heat(st: Structure, energies, values, r):
        e, n = st.pop_rows[:, 0], st.pop_rows[:, 1]
        return jnp.sum(jnp.stack(energies)[n] * values[e] * r[st.cols[e]])

    @staticmethod
    def product_coordinates(model: Model, keep: tuple[int, ...], v, r_eig):
        return _array_product_coordinates(_meaning(model, keep), v_matrix(v, model.dim, r_eig.dtype), r_eig)


class Scalars(Code):
    """The entries as scalars over the structural non-zeros (see ``Code``)."""

    bath = staticmethod(_scalar_bath)

    @staticmethod
    def hamiltonian(st: Structure, energies, dtype):
        e_h, hn, hn2, hs = st.h_terms
        ham = [jnp.zeros((), dtype)] * len(st.rows)
        for e, n, n2, sign in zip(e_h.tolist(), hn.tolist(), hn2.tolist(), hs.tolist()):
            ham[e] = ham[e] + sign * (energies[n] - energies[n2])
        return jnp.stack(ham)

    @staticmethod
    def heat(st: Structure, energies, values, r):
        e, n = st.pop_rows[:, 0], st.pop_rows[:, 1]
        flow = {}  # (D r)_nn, then weighted by E_n
        for e_, n_ in zip(e.tolist(), n.tolist()):
            term = values[e_] * r[int(st.cols[e_])]
            flow[n_] = flow[n_] + term if n_ in flow else term
        return functools.reduce(lambda acc, k: acc + energies[k] * flow[k], flow, jnp.zeros((), r.dtype))

    @staticmethod
    def product_coordinates(model: Model, keep: tuple[int, ...], v, r_eig):
        return _scalar_product_coordinates(_meaning(model, keep), v, r_eig)


def code_for(model: Model, scalars: bool = True) -> Code:
    """``Scalars`` where the plan allows them (``scalars``: not for differentiated kernels, which
    compile much faster with arrays) and the model's blocks are closed-form and small
    (``scalar_code``); else ``Arrays``."""
    return Scalars() if scalars and scalar_code(model) else Arrays()
