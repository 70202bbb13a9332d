"""How a vector of sector coordinates is represented while physics works on it.

Physics (counting statistics, observables) is written once against this small interface; the
plan's elimination decides the representation:

* ``Arrays`` — an ``(m,)`` array; operators applied as matrix–vector products, scatter-adds
  or, for few entries, sums of scalars;
* ``Scalars`` — a list of ``m`` scalars, ``None`` for a structural zero: the representation
  of unrolled eliminations (``jaxtherm.solvers.Unrolled``), elementwise over a batch.

Operators are ``jaxtherm.solvers.Sparse`` entries at a static pattern, ``(m, m)`` arrays, or
``LinearMap``s (matrix-free: ``jaxtherm.kernel.matrix_free``'s counting operators).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from jaxtherm.linalg._scalars import add, lincomb, sub_mul
from jaxtherm.linalg.elimination import Elimination, Sparse, restore_trace

SCALAR_ENTRIES = 256
"""Up to this many entries a sparse operator is applied to an array as sums of scalars
(elementwise over a batch, like the unrolled solver); above it by a scatter-add."""

SPARSE_DOT = 16
"""Up to this many non-zero weights a constant dot product is a sum of scalars (``dot``)."""


def _scalar_apply(ops: Sequence[Sparse], v: list, rows: int) -> list:
    """The first ``rows`` entries of ``(Σ_o o) v`` as scalars (``None`` where no term reaches)."""
    acc = [None] * rows
    for o in ops:
        for e, (i, c) in enumerate(zip(o.rows.tolist(), o.cols.tolist())):
            if i < rows and v[c] is not None:
                acc[i] = add(acc[i], o.values[e] * v[c])
    return acc


class LinearMap:
    """An operator on the sector's coordinates known only by its action (no pattern, no array):
    ``apply(v)`` is ``o v`` for an ``(m,)`` array ``v``."""

    def apply(self, v):
        raise NotImplementedError


def _dense_apply(ops, v, rows: int):
    """The first ``rows`` entries of ``(Σ_o o) v`` over the ``(m, m)`` array operators, one
    matrix–vector product each, and the ``LinearMap``s (zeros where there are none)."""
    out = jnp.zeros((rows,), v.dtype)
    for o in ops:
        if isinstance(o, LinearMap):
            out = out + o.apply(v)[:rows]
        elif not isinstance(o, Sparse):
            out = out + (o[:rows] @ v)
    return out


def _entries(ops: Sequence[Sparse], rows: int) -> int:
    """How many entries of the sparse operators fall in the first ``rows`` rows."""
    return sum(int(np.count_nonzero(o.rows < rows)) for o in ops)


def _scatter_apply(out, ops: Sequence[Sparse], v, rows: int):
    """``out + (Σ_o o) v`` in its first ``rows`` entries, one scatter-add per operator."""
    for o in ops:
        inside = o.rows < rows
        out = out.at[o.rows[inside]].add(o.values[inside] * v[o.cols[inside]])
    return out


def _stack(scalars: list, zero):
    """One array of scalars, ``None`` as ``zero``."""
    return jnp.stack([zero if a is None else a for a in scalars])


class Arrays:
    """Coordinates as one ``(m,)`` array."""

    def __init__(self, dtype):
        self.dtype = dtype

    def coordinates(self, r):
        """The representation of an ``(m,)`` array ``r``: itself."""
        return r

    def apply(self, ops, v, rows: int | None = None):
        """``(Σ_o o) v`` (``(m,)``, or its first ``rows`` entries)."""
        rows = v.shape[0] if rows is None else rows
        out = _dense_apply(ops, v, rows)
        sparse = [o for o in ops if isinstance(o, Sparse)]
        if not sparse:
            return out
        if _entries(sparse, rows) > SCALAR_ENTRIES:
            return _scatter_apply(out, sparse, v, rows)
        scalars = _scalar_apply(sparse, [v[i] for i in range(v.shape[0])], rows)
        return out + _stack(scalars, jnp.zeros((), v.dtype))

    def total(self, v):
        """``Σ_i v_i``."""
        return jnp.sum(v)

    def sub_scaled(self, y, a, x):
        """``y − a x``."""
        return y - a * x

    def traceless(self, x, d: int):
        """All ``m`` coordinates of a traceless vector from its ``m − 1`` unknowns:
        ``(−Σ_{0<i<d} x_{i−1}, x)``."""
        return restore_trace(x, d, 0.0)


class Scalars(Arrays):
    """Coordinates as a list of scalars, ``None`` for a structural zero."""

    def coordinates(self, r) -> list:
        return [r[i] for i in range(r.shape[0])]

    def apply(self, ops, v: list, rows: int | None = None) -> list:
        return _scalar_apply(ops, v, len(v) if rows is None else rows)

    def total(self, v: list):
        out = None
        for x in v:
            out = add(out, x)
        return jnp.zeros((), self.dtype) if out is None else out

    def sub_scaled(self, y: list, a, x: list) -> list:
        return [sub_mul(yi, a, xi) for yi, xi in zip(y, x)]

    def traceless(self, x: list, d: int) -> list:
        return [self.total([-xi for xi in x[: d - 1]]), *x]


def choose(elimination: Elimination, ops: Sequence, dtype) -> Arrays:
    """The representation for applying ``ops`` next to ``elimination``'s solves: scalars where
    the elimination is unrolled and every operator has a static pattern, arrays otherwise."""
    if elimination.scalars and all(isinstance(o, Sparse) for o in ops):
        return Scalars(dtype)
    return Arrays(dtype)


def dot(weights: np.ndarray, r):
    """``w · r`` for a constant ``(m,)`` vector and an ``(m,)`` array: a sum over the non-zero
    weights where they are few (``SPARSE_DOT``), so that a small sector's observables stay
    elementwise over a batch; a matrix–vector product otherwise."""
    nonzero = np.flatnonzero(weights)
    if len(nonzero) == 0:
        return jnp.zeros((), r.dtype)
    if len(nonzero) > SPARSE_DOT:
        return jnp.asarray(weights, r.dtype) @ r
    return lincomb(weights[nonzero], [r[i] for i in nonzero])
