"""``jaxtherm.physics.secular.structure`` (vectorised) equals the original per-pair construction.

The reference below is the pure-Python construction ``structure`` used before it was vectorised:
it visits every (row, column) pair of kept coordinates, numbers entries by first appearance and
appends terms in (row, column, basis element) order. Every field of the two ``Structure``s must
be equal, element by element and in the same order (``None`` for both where the eigenbasis path
does not apply), on the symmetry sector of each model and, for the small ones, on all ``d²``
coordinates.
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxtherm
from jaxtherm.physics import liouvillian, secular
from jaxtherm.solvers import symmetry_sector

_FIELDS = ("rows", "cols", "k_terms", "g_terms", "g_right", "h_terms", "pop_rows")


def reference_structure(model, keep: tuple[int, ...]):
    """The original construction: ``secular.Structure`` or ``None``."""
    if not secular.applies(model):
        return None
    blocks_ = secular.blocks(model)
    block_of = secular._block_of(blocks_, model.dim)
    meaning = liouvillian._coordinate_meaning(model.dim)[np.asarray(keep)]
    kept_pairs = {(int(i), int(j)) for i, j, _ in meaning}
    if not all((min(k, l), max(k, l)) in kept_pairs
               for i, j in kept_pairs for k in blocks_[block_of[i]] for l in blocks_[block_of[j]]):
        return None
    x_nz, g_nz = secular._coupling_patterns(model, blocks_, block_of)
    table = _Terms()
    for r, target in enumerate(meaning):
        for c, source in enumerate(meaning):
            table.add(r, c, target, source, x_nz, g_nz)
    keys = sorted(table.index, key=table.index.get)
    rows = np.array([k[0] for k in keys], int)
    cols = np.array([k[1] for k in keys], int)
    pop = [(e, int(meaning[r][0])) for e, r in enumerate(rows) if meaning[r][2] == 0]
    return secular.Structure(
        blocks=blocks_, rows=rows, cols=cols,
        k_terms=_columns(table.k, 6), g_terms=_columns(table.g, 4), h_terms=_columns(table.h, 4),
        g_right=np.array(table.g_right, bool),
        pop_rows=np.array(pop, int).reshape(-1, 2),
    )


def _columns(terms: list, width: int) -> tuple[np.ndarray, ...]:
    arr = np.array(terms, dtype=float).reshape(-1, width)
    return tuple(arr[:, i].astype(int) if i < width - 1 else arr[:, i] for i in range(width))


class _Terms:
    """The term tables as they are found, and the entries they fill."""

    def __init__(self):
        self.index: dict[tuple[int, int], int] = {}
        self.k: list[tuple] = []
        self.g: list[tuple] = []
        self.g_right: list[bool] = []
        self.h: list[tuple] = []

    def entry(self, r, c):
        return self.index.setdefault((r, c), len(self.index))

    def add(self, r, c, target, source, x_nz, g_nz):
        n, n2, part_t = target
        m, m2, part_s = source
        if (part_t == 2) != (part_s == 2):
            if n == m and n2 == m2:
                self.h.append((self.entry(r, c), n, n2, 1.0 if part_t == 1 else -1.0))
            return
        basis = [(m, m2, 1.0)] if m == m2 else [(m, m2, 1.0), (m2, m, -1.0 if part_t == 2 else 1.0)]
        for a, b, sign in basis:
            if x_nz[n, a] and x_nz[n2, b]:
                self.k.append((self.entry(r, c), n, n2, a, b, sign))
        for a, b, w in basis:
            if b == n2 and g_nz[n, a]:
                self.g.append((self.entry(r, c), n, a, -0.5 * w))
                self.g_right.append(False)
            if a == n and g_nz[b, n2]:
                self.g.append((self.entry(r, c), b, n2, -0.5 * w))
                self.g_right.append(True)


def assert_same(new, old) -> None:
    """Two ``Structure``s (or ``None``s) are equal field by field, dtypes included."""
    assert (new is None) == (old is None)
    if old is None:
        return
    assert len(new.blocks) == len(old.blocks)
    for a, b in zip(new.blocks, old.blocks):
        np.testing.assert_array_equal(a, b)
    for field in _FIELDS:
        got, want = getattr(new, field), getattr(old, field)
        for a, b in zip(*((got, want) if isinstance(want, tuple) else ((got,), (want,)))):
            np.testing.assert_array_equal(a, b, err_msg=field)
            assert a.dtype == b.dtype and a.shape == b.shape, field
        if isinstance(want, tuple):
            assert len(got) == len(want), field


_COUPLINGS = ("global", "redfield", "ule")
_MODELS = [
    *((f"pair {c} {s}", lambda c=c, s=s: jaxtherm.qubit_pair(c, spectrum=s)) for c in _COUPLINGS for s in ("seed", "bose")),
    *((f"chain {n} {c}", lambda n=n, c=c: jaxtherm.qubit_chain(n, coupling=c)) for n in (3, 4, 5) for c in _COUPLINGS),
    *((f"fridge {c}", lambda c=c: jaxtherm.absorption_refrigerator(c)) for c in _COUPLINGS),
    *((f"oscillators {k} {c}", lambda k=k, c=c: jaxtherm.oscillator_pair(k, coupling=c)) for k in (3, 4, 5, 6)
      for c in _COUPLINGS),
    ("pair local", lambda: jaxtherm.qubit_pair("local")),
]


@pytest.mark.parametrize("make", [m for _, m in _MODELS], ids=[name for name, _ in _MODELS])
def test_structure_equals_reference(make):
    model = make()
    keeps = [tuple(int(i) for i in symmetry_sector(model))]
    if model.dim <= 9:
        keeps.append(tuple(range(model.dim ** 2)))
    for keep in keeps:
        secular.structure.cache_clear()
        assert_same(secular.structure(model, keep), reference_structure(model, keep))


def test_not_a_union_of_block_pairs():
    """Without both coordinates of ``ρ_{01,10}`` (a pair inside the one-excitation block) the
    sector is no union of block pairs: both give ``None``."""
    model = jaxtherm.qubit_pair("global")
    meaning = liouvillian._coordinate_meaning(model.dim)
    keep = tuple(int(c) for c in symmetry_sector(model) if tuple(meaning[c, :2]) != (1, 2))
    assert reference_structure(model, keep) is None
    assert secular.structure(model, keep) is None


@pytest.mark.parametrize("pairs", [1, 3_000])
@pytest.mark.parametrize("make", [lambda: jaxtherm.qubit_pair("global"), lambda: jaxtherm.qubit_chain(4, coupling="redfield"),
                                  lambda: jaxtherm.oscillator_pair(4, coupling="ule")], ids=["pair", "chain 4", "oscillators 4"])
def test_row_blocks(make, pairs, monkeypatch):
    """Rows taken a few at a time (one row per block at ``pairs = 1``) give the same structure."""
    monkeypatch.setattr(secular, "_BLOCK_PAIRS", pairs)
    model = make()
    keep = tuple(int(i) for i in symmetry_sector(model))
    secular.structure.cache_clear()
    assert_same(secular.structure(model, keep), reference_structure(model, keep))
    secular.structure.cache_clear()
