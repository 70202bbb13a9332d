"""Every elimination × every property, in lineax's manner: each of ``LU``, ``Unrolled``,
``StaticPivots``, ``Staged`` and ``Krylov``, chosen by name and by object, against the dense
reference (``solver="dense"``) and against NumPy.

Properties: the steady state and observables; forward derivatives (``gradients=``); reverse
derivatives (``jax.grad`` through ``solve``); solves and transposed solves with a steady
state's factorisation (the Drazin solves of the noise, the cotangents of reverse mode) against
``numpy.linalg.solve``; singular points flagged as the reference flags them; ``vmap`` of a
one-point ``solve`` equal to the batched call.

The model is the local qubit pair (5 unknowns in its sector), which every elimination can
take, and the 3-qubit XX chain (19 unknowns, a fill-reducing order that differs from the
natural one) for the values. Tolerances are those of ``tests/test_solvers.py`` (its module
docstring derives them): ``1e-10`` of the natural energy-flow scale ``F = E Γ``; linear solves
of well-conditioned random sector matrices to ``1e-12`` relative (Krylov's, iterative: to its
own relative residual ``tol``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtherm
from jaxtherm import solvers
from jaxtherm.kernel.point import operators_on
from tests.helpers import random_points

ELIMINATIONS = {"lu": solvers.LU(), "unrolled": solvers.Unrolled(), "static_pivots": solvers.StaticPivots(),
                "staged": solvers.Staged(), "krylov": solvers.Krylov()}
TOL = 1e-10


def _pair():
    return jaxtherm.qubit_pair("local")


def _flow(p) -> np.ndarray:
    """``F = E Γ`` of the qubit pair (the module docstring of tests/test_solvers.py)."""
    return (p["gamma_a"] + p["gamma_b"]) * (p["omega_a"] + p["omega_b"] + p["epsilon"])


@pytest.mark.parametrize("name", ELIMINATIONS)
def test_selected_by_name_and_by_object_alike(name):
    """``solver="staged"`` is ``Reduced(elimination=Staged())``: the plan runs that elimination
    and says so, and both give bitwise the same outputs."""
    model = _pair()
    by_name = solvers.get(name)
    by_object = jaxtherm.Reduced(elimination=ELIMINATIONS[name])
    assert by_name == by_object
    plan = by_name.plan(model)
    assert plan.method == name and plan.elimination.name == name
    assert plan.description.endswith(ELIMINATIONS[name].description)
    p = random_points(8, seed=11)
    a = jaxtherm.solve(model, solver=name, rho=False, **p)
    b = jaxtherm.solve(model, solver=by_object, rho=False, **p)
    for k in a:
        np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]), err_msg=k)


@pytest.mark.parametrize("name", ELIMINATIONS)
def test_values_and_forward_derivatives_equal_dense(name):
    """Currents, σ, populations, ρ and ``∂/∂ε``, ``∂/∂β_a`` of 48 random points (strong and weak
    coupling) equal the dense reference; every point ok."""
    model = _pair()
    p = random_points(48, seed=5)
    grads = ("epsilon", "beta_a")
    out = jaxtherm.solve(model, solver=name, gradients=grads, **p)
    ref = jaxtherm.solve(model, solver="dense", gradients=grads, **p)
    assert (np.asarray(out["status"]) == 0).all()
    flow = _flow(p)
    for k in ("J_a", "J_b", "power"):
        assert np.all(np.abs(np.asarray(out[k]) - np.asarray(ref[k])) <= TOL * (np.abs(np.asarray(ref[k])) + flow)), k
    for k in ("n_a", "n_b"):
        np.testing.assert_allclose(np.asarray(out[k]), np.asarray(ref[k]), rtol=0, atol=TOL)
    np.testing.assert_allclose(np.asarray(out["rho"]), np.asarray(ref["rho"]), rtol=0, atol=TOL)
    scale = {"epsilon": p["omega_a"] + p["omega_b"] + p["epsilon"], "beta_a": 1 / (p["omega_a"] + p["omega_b"] + p["epsilon"])}
    for g in grads:
        k = f"dJ_a_d{g}"
        bound = TOL * (np.abs(np.asarray(ref[k])) + flow / scale[g])
        assert np.all(np.abs(np.asarray(out[k]) - np.asarray(ref[k])) <= bound), k


@pytest.mark.parametrize("name", ELIMINATIONS)
def test_reverse_derivatives_equal_dense(name):
    """``jax.grad`` of ``J_a`` through ``solve`` (the transposed solves of the implicit
    derivatives) by every parameter, at three points: the dense reference's gradient."""
    model = _pair()
    p = random_points(3, seed=7)

    def j_a(solver, x):
        return jaxtherm.solve(model, solver=solver, rho=False, **x)["J_a"]

    for i in range(3):
        x = {k: jnp.asarray(v[i]) for k, v in p.items()}
        got = jax.grad(lambda q: j_a(name, q))(x)
        want = jax.grad(lambda q: j_a("dense", q))(x)
        point = {k: float(v[i]) for k, v in p.items()}
        flow, energy = float(_flow(point)), point["omega_a"] + point["omega_b"] + point["epsilon"]
        for k in p:  # the parameter's scale: E for energies, 1/E for inverse temperatures, a rate its own
            scale = 1 / energy if k.startswith("beta") else (point[k] if k.startswith("gamma") else energy)
            assert abs(float(got[k]) - float(want[k])) <= TOL * (abs(float(want[k])) + flow / scale), (i, k)


def _sector_system(plan, model, seed: int):
    """A random point's sector matrix in ``plan``'s form (entries for a matrix-free elimination),
    and its trace-eliminated ``A`` (NumPy)."""
    ops = operators_on(model, plan.keep)
    rng = np.random.default_rng(seed)
    coeffs = rng.uniform(0.3, 1.5, ops.supers.shape[0])
    r_matrix = np.einsum("k,kij->ij", coeffs, ops.supers)
    a, _ = solvers.eliminate_trace(jnp.asarray(r_matrix), model.dim)
    supers = operators_on(model, plan.keep, sparse=True).supers if plan.elimination.matrix_free else ops.supers
    operator = plan.assemble([jnp.asarray(c) for c in coeffs], supers, [], np.float64)
    return operator, np.asarray(a)


@pytest.mark.parametrize("name", ELIMINATIONS)
def test_solves_and_transposed_solves_reuse_the_factorisation(name):
    """``plan.solve(state, rhs)`` is ``A⁻¹ rhs``; its transpose (``jax.linear_transpose``, what
    reverse mode runs) is ``A⁻ᵀ c``; its tangent by ``A``'s coefficients is ``−A⁻¹ Ȧ x``: all
    equal NumPy's on a random sector matrix. An iterative elimination's (Krylov: GMRES, here
    without a preconditioner) is what it promises instead: ``‖A x − rhs‖ ≤ tol ‖rhs‖``, and the
    same for the transpose."""
    model = _pair()
    plan = solvers.get(name).plan(model)
    operator, a = _sector_system(plan, model, seed=3)
    state = plan.init(operator, np.float64)
    assert not bool(state.singular)
    rng = np.random.default_rng(4)
    rhs, c = rng.normal(size=len(a)), rng.normal(size=len(a))
    x = np.asarray(plan.solve(state, jnp.asarray(rhs)))
    (y,) = jax.linear_transpose(lambda v: plan.solve(state, v), jnp.asarray(rhs))(jnp.asarray(c))
    if plan.elimination.matrix_free:
        tol = plan.elimination.tolerance(np.float64)
        assert np.linalg.norm(a @ x - rhs) <= tol * np.linalg.norm(rhs)
        assert np.linalg.norm(a.T @ np.asarray(y) - c) <= tol * np.linalg.norm(c)
        return
    np.testing.assert_allclose(x, np.linalg.solve(a, rhs), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.asarray(y), np.linalg.solve(a.T, c), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ELIMINATIONS)
def test_singular_points_are_flagged_as_the_reference_flags_them(name):
    """All rates zero (no unique steady state) and a NaN rate: the reference's statuses and NaN
    observables, the good point beside them untouched."""
    model = _pair()
    p = dict(omega_a=1.3, omega_b=0.8, beta_a=0.5, beta_b=1.5, epsilon=0.2,
             gamma_a=np.array([0.3, 0.0, np.nan]), gamma_b=np.array([0.6, 0.0, 0.6]))
    out = jaxtherm.solve(model, solver=name, rho=False, **p)
    ref = jaxtherm.solve(model, solver="dense", rho=False, **p)
    np.testing.assert_array_equal(np.asarray(out["status"]), np.asarray(ref["status"]))
    np.testing.assert_array_equal(np.asarray(ref["status"]), [0, jaxtherm.STATUS_SINGULAR, jaxtherm.STATUS_NONFINITE])
    assert np.all(np.isnan(np.asarray(out["J_a"])[1:]))
    assert abs(float(out["J_a"][0]) - float(ref["J_a"][0])) <= TOL * (abs(float(ref["J_a"][0])) + 0.9 * 2.3)


@pytest.mark.parametrize("name", ELIMINATIONS)
def test_vmap_of_one_point_equals_the_batch(name):
    """``jax.vmap`` of a one-point ``solve`` (traced: the fallback decided inside the program)
    equals the batched call (the fallback decided on the host) to rounding."""
    model = _pair()
    p = random_points(16, seed=9)
    batch = jaxtherm.solve(model, solver=name, rho=False, **p)
    mapped = jax.vmap(lambda q: jaxtherm.solve(model, solver=name, rho=False, **q))({k: jnp.asarray(v) for k, v in p.items()})
    np.testing.assert_array_equal(np.asarray(mapped["status"]), np.asarray(batch["status"]))
    flow = _flow(p)
    for k in ("J_a", "J_b", "sigma"):
        assert np.all(np.abs(np.asarray(mapped[k]) - np.asarray(batch[k])) <= TOL * (np.abs(np.asarray(batch[k])) + flow)), k


@pytest.mark.parametrize("name", ["lu", "static_pivots", "staged", "krylov"])
def test_a_larger_sector_equals_dense(name):
    """The 3-qubit XX chain (19 unknowns, a threshold order unlike the natural one): currents
    and ρ of 16 random points equal the dense reference."""
    model = jaxtherm.qubit_chain(3, "local")
    rng = np.random.default_rng(2)
    p = dict(omega=rng.uniform(0.5, 2.0, 16), beta_h=rng.uniform(0.1, 1.0, 16), beta_c=rng.uniform(1.0, 3.0, 16),
             gamma_h=rng.uniform(0.05, 1.0, 16), gamma_c=rng.uniform(0.05, 1.0, 16), g=rng.uniform(0.05, 0.5, 16))
    out = jaxtherm.solve(model, solver=name, **p)
    ref = jaxtherm.solve(model, solver="dense", **p)
    assert (np.asarray(out["status"]) == 0).all()
    flow = (p["gamma_h"] + p["gamma_c"]) * (3 * p["omega"] + 2 * p["g"])
    for k in ("J_h", "J_c"):
        assert np.all(np.abs(np.asarray(out[k]) - np.asarray(ref[k])) <= TOL * (np.abs(np.asarray(ref[k])) + flow)), k
    np.testing.assert_allclose(np.asarray(out["rho"]), np.asarray(ref["rho"]), rtol=0, atol=TOL)


def test_an_elimination_that_cannot_take_a_model_says_why():
    """Static pivots need a Liouvillian assembled from constants: asking for them on a global
    (Davies) model is a ValueError naming the elimination and the model; unknown names too."""
    with pytest.raises(ValueError, match="staged.*Davies"):
        solvers.get("staged").plan(jaxtherm.qubit_pair("global"))
    with pytest.raises(ValueError, match="static_pivots.*Davies"):
        jaxtherm.Reduced(elimination="static_pivots").plan(jaxtherm.qubit_pair("global"))
    with pytest.raises(ValueError, match="elimination must be one of"):
        jaxtherm.Reduced(elimination="gauss")
    assert solvers.get("unrolled").plan(jaxtherm.qubit_pair("global")).method == "unrolled"
