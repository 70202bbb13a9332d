"""Algebra of scalars with ``None`` as a structural zero (known when the program is traced): the
building blocks of unrolled programs, elementwise over a batch under ``vmap``."""

from __future__ import annotations

import numpy as np


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
