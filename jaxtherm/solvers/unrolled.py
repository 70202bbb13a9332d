"""Small dense linear algebra unrolled into scalar operations, for the symmetry-reduced kernel.

A matrix is a list of rows, each a list of scalars (0-d JAX arrays, one parameter point) or
``None`` for an entry that is zero for every parameter point (a *structural* zero, known when
the program is traced). Every operation skips structural zeros, so the traced program is the
sparse elimination itself. Under ``vmap`` each scalar becomes one contiguous vector over the
batch, and XLA fuses the whole solve into a few elementwise loops: for 3–5 unknowns this runs
an order of magnitude faster than a batched LU, whose per-matrix loops are too short to
vectorise.

Meant for systems of up to :data:`MAX_UNKNOWNS` unknowns: the program grows like ``n³`` and so
does its compile time, while the gain over LU shrinks (measured on this project's 2-core CPU:
9 unknowns, the refrigerator, 3.8× LU's throughput for 5.5 s of compile against 1.4 s; 15
unknowns, a driven pair, 1.2× for 28 s against 1.2 s).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

MAX_UNKNOWNS = 10


def lincomb(weights: np.ndarray, values):
    """``Σ_k w_k v_k`` over the constant weights that are non-zero; ``None`` if all are zero.

    Args:
        weights: constant ``(K,)`` array.
        values: ``K`` scalars (or ``None`` for structural zeros).
    """
    out = None
    for w, v in zip(np.asarray(weights).tolist(), values):
        if w == 0.0 or v is None:
            continue
        term = v if w == 1.0 else (-v if w == -1.0 else w * v)
        out = term if out is None else out + term
    return out


def add(x, y):
    """``x + y`` with ``None`` as zero."""
    if x is None:
        return y
    return x if y is None else x + y


def sub_mul(x, f, y):
    """``x − f y`` with ``None`` as zero."""
    if y is None or f is None:
        return x
    return -(f * y) if x is None else x - f * y


def matvec(a, x):
    """``a @ x`` for a list-of-rows matrix and a list vector; rows that are all zero give ``None``."""
    out = []
    for row in a:
        acc = None
        for aij, xj in zip(row, x):
            if aij is not None and xj is not None:
                acc = add(acc, aij * xj)
        out.append(acc)
    return out


def _select(cond, x, y):
    if x is None and y is None:
        return None
    return jnp.where(cond, 0.0 if x is None else x, 0.0 if y is None else y)


def solve(a, b, eps: float):
    """Solve ``a x = b`` by Gaussian elimination with partial pivoting, unrolled.

    Pivoting compares the candidate rows of each column one after the other and swaps them
    with selects (no data-dependent control flow). A matrix whose smallest pivot is below
    ``n ε`` times its largest, or that has a structurally empty column, is flagged singular;
    its zero pivots are replaced by 1 so that its (discarded) result stays finite.

    Args:
        a: ``n × n`` list-of-rows matrix of scalars or ``None``.
        b: ``n`` scalars or ``None``.
        eps: machine epsilon of the dtype.

    Returns:
        ``(x, singular)``: ``n`` scalars and a boolean scalar.
    """
    n = len(b)
    a = [list(row) for row in a]
    b = list(b)
    pivots = []
    structurally_singular = False
    for k in range(n):
        rows = [i for i in range(k, n) if a[i][k] is not None]
        if not rows:
            structurally_singular = True
            a[k][k] = jnp.zeros_like(next(v for row in a for v in row if v is not None))
            rows = [k]
        if rows[0] != k:  # a static swap: row k is structurally zero in this column
            a[k], a[rows[0]] = a[rows[0]], a[k]
            b[k], b[rows[0]] = b[rows[0]], b[k]
            rows = [k, *(i for i in rows[1:])]
        for i in rows[1:]:
            swap = jnp.abs(a[i][k]) > jnp.abs(a[k][k])
            for j in range(k, n):
                a[k][j], a[i][j] = _select(swap, a[i][j], a[k][j]), _select(swap, a[k][j], a[i][j])
            b[k], b[i] = _select(swap, b[i], b[k]), _select(swap, b[k], b[i])
        pivot = a[k][k]
        pivots.append(jnp.abs(pivot))
        a[k][k] = jnp.where(pivot == 0, 1.0, pivot)
        inv = 1.0 / a[k][k]
        for i in rows[1:]:
            f = a[i][k] * inv
            for j in range(k + 1, n):
                a[i][j] = sub_mul(a[i][j], f, a[k][j])
            b[i] = sub_mul(b[i], f, b[k])
    x = [None] * n
    for i in reversed(range(n)):
        acc = b[i]
        for j in range(i + 1, n):
            if a[i][j] is not None and x[j] is not None:
                acc = sub_mul(acc, a[i][j], x[j])
        x[i] = jnp.zeros_like(a[i][i]) if acc is None else acc / a[i][i]
    smallest, largest = pivots[0], pivots[0]
    for p in pivots[1:]:
        smallest, largest = jnp.minimum(smallest, p), jnp.maximum(largest, p)
    singular = ~(smallest > n * eps * largest)  # also True for NaN
    if structurally_singular:
        singular = jnp.ones_like(singular)
    return x, singular
