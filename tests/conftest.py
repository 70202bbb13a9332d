"""Shared fixtures. Importing jaxtherm enables float64 (jaxtherm._config).

Compiled programs are shared through JAX's persistent compilation cache in
``.pytest_cache/jax-cache``: the xdist workers, the CLI subprocesses and the Dask workers of the
tests compile many of the same kernels (an in-process reference and the run under test).
"""

import os
from pathlib import Path

import jax
import numpy as np
import pytest

import jaxtherm
from tests.helpers import random_points

CACHE = Path(__file__).resolve().parent.parent / ".pytest_cache" / "jax-cache"
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(CACHE))  # subprocesses inherit it
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.3")
jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update("jax_persistent_cache_min_compile_time_secs",
                  float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]))


@pytest.fixture(scope="session")
def points():
    return random_points(128, seed=20261125)


@pytest.fixture(scope="session", params=jaxtherm.COUPLINGS)
def coupling(request):
    return request.param


@pytest.fixture(scope="session")
def solved(points):
    """``{coupling: solve(...)}`` on the shared random points, as NumPy arrays."""
    return {
        c: {k: np.asarray(v) for k, v in jaxtherm.solve(jaxtherm.qubit_pair(c), **points).items()}
        for c in jaxtherm.COUPLINGS
    }
