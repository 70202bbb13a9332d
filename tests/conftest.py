"""Shared fixtures. Importing jaxtherm enables float64 (jaxtherm._config)."""

import numpy as np
import pytest

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
