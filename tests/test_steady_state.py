"""The steady-state solve: bad points are flagged and isolated; the trace elimination is exact."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxtherm
from jaxtherm.linalg import lu
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
    """``A x = b`` from ``eliminate_trace`` holds exactly for the true steady state."""
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
    plan = jaxtherm.solvers.Plan(jaxtherm.Dense(), tuple(range(d * d)), jaxtherm.solvers.LU(), d, eigenbasis=False)
    r2, status, residual, _ = plan.steady_state(jnp.asarray(r_matrix), np.float64)
    assert int(status) == 0 and float(residual) < 1e-15
    np.testing.assert_allclose(np.asarray(r2), r, atol=1e-15)


@pytest.mark.parametrize("solver", [jaxtherm.Reduced(), jaxtherm.Reduced(max_unrolled=0), jaxtherm.Dense()])
def test_factorisation_is_reused_for_later_right_hand_sides(solver):
    """``plan.init(R)`` then ``plan.solve(factors, rhs)`` solves ``A x = rhs`` for any rhs with the
    steady state's factorisation (unrolled replay or LU), equal to NumPy's solve of the same
    trace-eliminated ``A``; the steady state itself is ``A⁻¹ b``."""
    model = jaxtherm.qubit_pair("local")
    plan = solver.plan(model)
    p = {k: float(v[3]) for k, v in random_points(8, seed=3).items()}
    from jaxtherm.kernel.point import operators_on

    ops = operators_on(model, plan.keep)
    q = model.to_parameters(p)
    coeffs = [t.coefficient(q) for t in model.hamiltonian] + [k.rate(q) for k in model.lindblads]
    r_matrix = np.einsum("k,kij->ij", np.array(coeffs, float), ops.supers)
    a, b = (np.asarray(x) for x in lu.eliminate_trace(jnp.asarray(r_matrix), model.dim))
    factors = plan.init(jnp.asarray(r_matrix), np.float64)
    rhs = np.random.default_rng(0).normal(size=a.shape[0])
    np.testing.assert_allclose(np.asarray(plan.solve(factors, jnp.asarray(rhs))), np.linalg.solve(a, rhs), rtol=1e-12, atol=0)
    r, status, _, _ = plan.steady_state(jnp.asarray(r_matrix) if plan.method == "lu" else
                                        plan.assemble([jnp.asarray(c) for c in coeffs], ops.supers, [], np.float64),
                                        np.float64)
    assert int(status) == 0
    np.testing.assert_allclose(np.asarray(r)[1:], np.linalg.solve(a, b), rtol=1e-12, atol=1e-15)


def test_solver_objects_are_validated_and_say_what_runs():
    """Solvers are validated configurations; ``Auto()`` picks the sector solver and says so;
    a name and its object give identical results."""
    with pytest.raises(ValueError, match="max_unrolled"):
        jaxtherm.Reduced(max_unrolled=-1)
    with pytest.raises(ValueError, match="eigenbasis"):
        jaxtherm.Reduced(eigenbasis="yes")
    assert jaxtherm.solvers.get("auto") == jaxtherm.Auto() and jaxtherm.solvers.get("dense") == jaxtherm.Dense()
    pair = jaxtherm.qubit_pair("global")
    assert jaxtherm.Auto().plan(pair).description == "reduced: 5 unknowns of 15 in the eigenbasis of H, unrolled elimination"
    assert jaxtherm.Reduced(eigenbasis=False).plan(pair).description == "reduced: 5 unknowns of 15, LU with partial pivoting"
    assert jaxtherm.Dense().plan(pair).description == "dense: 15 unknowns of 15, LU with partial pivoting"
    p = random_points(8, seed=5)
    a = jaxtherm.solve(jaxtherm.qubit_pair("local"), solver="auto", **p)
    b = jaxtherm.solve(jaxtherm.qubit_pair("local"), solver=jaxtherm.Auto(), **p)
    for k in a:
        np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]))
