"""The steady-state solve: bad points are flagged and isolated; the trace elimination is exact."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxtherm
from jaxtherm.solvers import lu
from tests.analytic import CLOSED_FORMS
from tests.helpers import random_points


def _with_dead_point(p, index):
    """All rates and the coupling zero at ``index``: every diagonal state is stationary."""
    q = {k: v.copy() for k, v in p.items()}
    for k in ("gamma_a", "gamma_b", "epsilon"):
        q[k][index] = 0.0
    return q


def test_point_without_unique_steady_state_is_flagged(coupling):
    p = _with_dead_point(random_points(16, seed=2), index=5)
    out = jaxtherm.solve(jaxtherm.qubit_pair(coupling), gradients=["epsilon", "beta_a"], **p)
    status = np.asarray(out["status"])
    assert status[5] == jaxtherm.STATUS_SINGULAR
    assert np.isinf(out["residual"][5])
    for k, v in out.items():
        if k not in ("status", "residual"):
            assert np.all(np.isnan(np.asarray(v[5]))), k
    good = np.arange(16) != 5
    assert np.all(status[good] == 0)
    ref = CLOSED_FORMS[coupling](**{k: v[good] for k, v in p.items()})
    np.testing.assert_allclose(np.asarray(out["J_a"])[good], np.asarray(ref["J_a"]), rtol=1e-9)
    for k, v in out.items():  # good points, gradients included, stay finite
        if k != "residual":
            assert np.all(np.isfinite(np.asarray(v)[good])), k


def test_nonfinite_parameter_is_flagged():
    p = random_points(4, seed=1)
    p["omega_a"][2] = np.nan
    out = jaxtherm.solve(jaxtherm.qubit_pair("local"), **p)
    assert list(np.asarray(out["status"])) == [0, 0, jaxtherm.STATUS_NONFINITE, 0]
    assert np.isnan(out["J_a"][2]) and np.isfinite(out["J_a"][3])


def test_trace_elimination_round_trip():
    """``A x = b`` from :func:`eliminate_trace` holds exactly for the true steady state."""
    rng = np.random.default_rng(0)
    d = 3
    # a random classical rate matrix on the populations, Hermitian basis of size d² = 9
    w = rng.uniform(0.1, 1.0, (d, d))
    np.fill_diagonal(w, 0.0)
    rates = w - np.diag(w.sum(axis=0))
    r_matrix = np.zeros((d * d, d * d))
    r_matrix[:d, :d] = rates
    r_matrix[d:, d:] = -np.eye(d * d - d)  # coherences decay
    a, b = lu.eliminate_trace(jnp.asarray(r_matrix), d)
    x = np.linalg.solve(np.asarray(a), np.asarray(b))
    r = np.asarray(lu.restore_trace(jnp.asarray(x), d))
    assert r[:d].sum() == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(r_matrix @ r, 0.0, atol=1e-15)
    plan = jaxtherm.solvers.Plan(jaxtherm.Dense(), tuple(range(d * d)), "lu", d, davies=False)
    r2, status, residual, _ = plan.steady_state(jnp.asarray(r_matrix), np.float64)
    assert int(status) == 0 and float(residual) < 1e-15
    np.testing.assert_allclose(np.asarray(r2), r, atol=1e-15)
