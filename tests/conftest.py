"""Shared fixtures. Importing jaxtherm enables float64 (jaxtherm._config).

Compiled programs are shared through JAX's persistent compilation cache in
``.pytest_cache/jax-cache``: the xdist workers, the CLI subprocesses and the Dask workers of the
tests compile many of the same kernels (an in-process reference and the run under test).

Most tests run each compiled program once, on a handful of points, so compiling is most of
their time. They compile with ``tests.helpers.TEST_XLA_FLAGS`` added to ``XLA_FLAGS`` (inherited
by every subprocess): LLVM's optimisations off (``tests/test_solvers.py``: 110 s → 75 s) and XLA's
older elemental emitter for fusions (``tests/test_master_equations.py``: 401 s → 262 s; numbers in
``docs/performance.md``). The results differ from XLA's defaults by round-off only:
``test_api.py::test_the_default_compiler_level_gives_the_tests_results`` checks that, in a
subprocess with the defaults, for the kernel families the tests cover.
"""

import os
from pathlib import Path

from tests.helpers import TEST_XLA_FLAGS, random_points

_given = os.environ.get("XLA_FLAGS", "")
os.environ["XLA_FLAGS"] = " ".join([_given, *(f"{k}={v}" for k, v in TEST_XLA_FLAGS.items() if k not in _given)]).strip()

import jax  # noqa: E402  (XLA reads XLA_FLAGS when its first backend starts)
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import jaxtherm  # noqa: E402

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
