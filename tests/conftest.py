"""Shared fixtures. Importing jaxtherm enables float64 (jaxtherm._config).

The suite is compile-bound: many tests compile the same kernels, in both pytest-xdist workers
and in the ``jaxtherm`` subprocesses that the CLI tests start. One persistent XLA compilation
cache for all of them (set here, before JAX is imported; subprocesses inherit the environment)
compiles each program once per run.
"""

import os
import tempfile

os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      os.path.join(tempfile.gettempdir(), f"jaxtherm-tests-xla-cache-{os.getuid()}"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import jaxtherm
from tests.helpers import random_points


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
