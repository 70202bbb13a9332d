"""The staged sparse elimination (jaxtherm.linalg.staged) and the threshold order, against NumPy.

The structure is built from a pattern and an order alone; its factors, solves and transposed
solves must equal a dense solve on random matrices with that pattern (the levels, the dense
tail's loops, the permutation), under ``vmap`` (batch innermost, in blocks) and for one point,
with derivatives equal to those of a dense solve. The threshold order must pass over a pivot
that cancels exactly, which minimum degree takes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxtherm.linalg import ordering, staged

EPS = float(np.finfo(np.float64).eps)


def _pattern(n: int, seed: int) -> np.ndarray:
    """A random sparse unsymmetric pattern with a full diagonal (about 3 entries a row)."""
    rng = np.random.default_rng(seed)
    p = rng.random((n, n)) < 3.0 / n
    np.fill_diagonal(p, True)
    return p


def _matrices(p: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Diagonally dominant matrices with pattern ``p`` (static pivots are stable on them)."""
    rng = np.random.default_rng(seed)
    a = np.where(p, rng.normal(size=(count, *p.shape)), 0.0)
    return a + np.eye(len(p)) * (np.abs(a).sum(axis=2, keepdims=True) + 1.0)


def _elimination(st: staged.Structure) -> staged.Staged:
    """The staged elimination with this structure (its order and stages)."""
    return staged.Staged(tuple(int(i) for i in st.order), st)


def _init(st: staged.Structure, a_values):
    """The staged factorisation of ``A`` given by its entries at ``(st.a_rows, st.a_cols)``."""
    return _elimination(st).factorise(a_values, EPS)


@pytest.mark.parametrize("n, seed", [(12, 1), (40, 0)])
def test_solves_equal_a_dense_solve(n, seed):
    """``A⁻¹ b`` and ``A⁻ᵀ b`` over a batch of 130 points (three blocks of 64, the last padded)
    and for one point, to 1e-13 relative; the larger pattern ends in a dense tail."""
    p = _pattern(n, seed)
    st = staged.structure(p, ordering.minimum_degree(p))
    assert st.updates == ordering.fill(p, ordering.minimum_degree(p))
    if n == 40:
        assert st.n - st.tail >= staged.MIN_TAIL  # the loops over the dense tail are exercised
    a = _matrices(p, 130, seed)
    b = np.random.default_rng(seed + 7).normal(size=(130, n))
    values = a[:, st.a_rows, st.a_cols]

    def solve(v, rhs, transpose):
        state = _init(st, v)
        return staged.substitute(st, state.values, v, rhs, transpose), state.singular

    for transpose in (False, True):
        x, singular = jax.jit(jax.vmap(lambda v, r, t=transpose: solve(v, r, t)))(values, b)
        ref = np.linalg.solve(np.swapaxes(a, 1, 2) if transpose else a, b[..., None])[..., 0]
        assert not np.any(singular)
        np.testing.assert_allclose(np.asarray(x), ref, rtol=0, atol=1e-13 * np.abs(ref).max())
        one, _ = jax.jit(lambda v, r, t=transpose: solve(v, r, t))(values[0], b[0])
        np.testing.assert_allclose(np.asarray(one), ref[0], rtol=0, atol=1e-13 * np.abs(ref).max())


def test_derivatives_equal_a_dense_solve():
    """Forward (``jacfwd`` under ``vmap``) and reverse (``grad``) derivatives of ``A⁻¹ b`` with
    respect to the entries of ``A`` and to ``b``: those of ``jnp.linalg.solve``."""
    p = _pattern(30, 3)
    st = staged.structure(p, ordering.minimum_degree(p))
    a = _matrices(p, 4, 3)
    values = jnp.asarray(a[:, st.a_rows, st.a_cols])
    b = jnp.asarray(np.random.default_rng(4).normal(size=(4, 30)))

    def ours(v, rhs):
        return _elimination(st).solve(_init(st, v), rhs)

    def dense(v, rhs):
        return jnp.linalg.solve(jnp.zeros((30, 30)).at[st.a_rows, st.a_cols].set(v), rhs)

    for argnum in (0, 1):
        got = jax.jit(jax.vmap(jax.jacfwd(ours, argnums=argnum)))(values, b)
        want = jax.vmap(jax.jacfwd(dense, argnums=argnum))(values, b)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=0, atol=1e-13 * np.abs(want).max())
    got = jax.grad(lambda v, r: jnp.sum(ours(v, r) ** 2), argnums=(0, 1))(values[0], b[0])
    want = jax.grad(lambda v, r: jnp.sum(dense(v, r) ** 2), argnums=(0, 1))(values[0], b[0])
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=0, atol=1e-13 * np.abs(w).max())


def test_a_zero_pivot_is_flagged_and_stays_finite():
    """A matrix whose static pivot is exactly zero is flagged singular; its lane's results are
    finite and the other points of the batch are untouched."""
    p = _pattern(12, 5)
    st = staged.structure(p, ordering.minimum_degree(p))
    a = _matrices(p, 64, 5)
    first = int(st.order[0])
    a[3, first, first] = 0.0  # the first pivot
    values = a[:, st.a_rows, st.a_cols]
    b = np.ones((64, 12))
    x, singular = jax.jit(jax.vmap(lambda v, r: (_elimination(st).solve(_init(st, v), r),
                                                   _init(st, v).singular)))(values, b)
    assert np.flatnonzero(np.asarray(singular)).tolist() == [3]
    assert np.all(np.isfinite(np.asarray(x)[3]))
    keep = np.arange(64) != 3
    ref = np.linalg.solve(a[keep], b[keep][..., None])[..., 0]
    np.testing.assert_allclose(np.asarray(x)[keep], ref, rtol=0, atol=1e-13 * np.abs(ref).max())


def test_the_compiled_elimination_copies_no_values_inside_its_loops():
    """Each loop of the compiled elimination updates the values in place: no ``copy`` of the
    ``(nnz + 1, B)`` values inside a ``while`` body. A body that read the values beside its
    scatters (a running reduction over the pivots did) was compiled with two copies of them an
    iteration, half the oscillators' speed (``docs/performance.md``, "Single changes")."""
    p = _pattern(40, 0)
    st = staged.structure(p, ordering.minimum_degree(p))
    assert any(s.target.ndim == 2 for s in st.factorisation)  # there are loops to check
    a = _matrices(p, 16, 0)[:, st.a_rows, st.a_cols]
    text = jax.jit(jax.vmap(lambda v: staged.factor(st, v))).lower(a).compile().as_text()
    values = f"f64[{len(st.rows) + 1},16]"
    computation, copies = "", []
    for line in text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith("{"):
            computation = line.split()[0]
        if values in line and " copy(" in line and computation != "ENTRY" and "fused" not in computation:
            copies.append(computation)
    assert values in text and " while(" in text  # the values are one array, looped over
    assert copies == []


def test_threshold_order_passes_over_a_pivot_that_cancels():
    """``[[1, 1, 0], [1, 1, 1], [0, 1, 2]]``: minimum degree eliminates unknown 0 first, and the
    pivot of unknown 1 is then ``1 − 1·1/1 = 0`` for these values; the threshold order (given
    them as the sample) eliminates in an order whose pivots are all of order one."""
    a = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 2.0]])
    p = a != 0

    def pivots(order):
        w = a[np.ix_(order, order)].copy()
        out = []
        for k in range(3):
            out.append(w[k, k])
            if w[k, k] != 0:
                w[k + 1:, k + 1:] -= np.outer(w[k + 1:, k] / w[k, k], w[k, k + 1:])
        return np.abs(out)

    md = ordering.minimum_degree(p)
    assert md[0] == 0 and pivots(md).min() == 0.0
    order = ordering.threshold_order(p, a)
    assert sorted(order) == [0, 1, 2] and pivots(order).min() >= 0.1


def _threshold_order_dense(pattern, sample, threshold=ordering.THRESHOLD):
    """The threshold order as first written: the live submatrix copied and its column maxima,
    degrees and Schur complement recomputed in full at every step (O(n³); the reference)."""
    graph = np.asarray(pattern, bool)
    graph = graph | graph.T
    np.fill_diagonal(graph, False)
    w = np.array(sample, dtype=float)
    alive = np.ones(len(graph), bool)
    order = []
    for _ in range(len(graph)):
        live = np.flatnonzero(alive)
        column = np.abs(w[np.ix_(live, live)]).max(axis=0)
        ratio = np.abs(w[live, live]) / np.where(column > 0, column, 1.0)
        ok = ratio >= threshold
        if not ok.any():
            ok = ratio == ratio.max()
        v = int(live[np.argmin(np.where(ok, graph[live][:, live].sum(axis=1), np.iinfo(np.int64).max))])
        order.append(v)
        alive[v] = False
        rest = np.flatnonzero(alive)
        if w[v, v] != 0:
            w[np.ix_(rest, rest)] -= np.outer(w[rest, v] / w[v, v], w[v, rest])
        neighbours = np.flatnonzero(graph[v] & alive)
        graph[np.ix_(neighbours, neighbours)] = True
        graph[neighbours, neighbours] = False
    return tuple(order)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_threshold_order_equals_the_dense_reference(seed):
    """The incremental threshold order (maxima and degrees updated where an elimination touches
    them) picks exactly the reference's order: on random patterns with random values, and on
    the 4- and 5-qubit chains' sectors (the model whose singular leading block motivated the
    order)."""
    import jaxtherm
    from jaxtherm.solvers import solver

    rng = np.random.default_rng(seed)
    p = _pattern(120, seed)
    a = np.where(p, rng.normal(size=p.shape), 0.0)
    assert ordering.threshold_order(p, a) == _threshold_order_dense(p, a)
    model = jaxtherm.qubit_chain(5 - seed % 2)
    keep = jaxtherm.solvers.Reduced(max_sparse=0, max_staged=0).plan(model).keep
    pattern, sample = solver._pattern(model, keep), solver._sample(model, keep, seed)
    assert ordering.threshold_order(pattern, sample) == _threshold_order_dense(pattern, sample)
