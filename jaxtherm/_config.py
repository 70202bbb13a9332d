"""Numerical precision: the only module that writes ``jax.config``.

jaxtherm computes in float64 by default: near equilibrium the heat currents are differences
of nearly equal populations, and float32 loses them. Importing jaxtherm therefore enables
JAX's 64-bit mode (``jax_enable_x64``) for the process. float32 stays available per call
(``solve(..., dtype="float32")``); it is opt-in, and its accuracy cost is measured by
``benchmarks/bench_solve.py`` (``docs/performance.md``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

DEFAULT_DTYPE = np.dtype("float64")
SUPPORTED_DTYPES = (np.dtype("float64"), np.dtype("float32"))


def real_dtype(dtype=None) -> np.dtype:
    """The real floating dtype to compute in: float64 unless float32 is asked for.

    Args:
        dtype: ``None`` (float64), ``"float64"``/``"float32"`` or a NumPy/JAX dtype.

    Raises:
        ValueError: for any other dtype.
    """
    if dtype is None:
        return DEFAULT_DTYPE
    dt = np.dtype(dtype)
    if dt not in SUPPORTED_DTYPES:
        raise ValueError(f"dtype must be float64 or float32, got {dtype!r}")
    return dt


def complex_dtype(dtype) -> np.dtype:
    """The complex dtype that pairs with a real one (float64 → complex128)."""
    return np.dtype(jnp.complex128 if np.dtype(dtype) == np.float64 else jnp.complex64)
