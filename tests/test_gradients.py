"""Autodiff of the steady-state observables: forward mode (``solve(gradients=…)``), reverse mode
(``jax.grad``) and ``jax.jacfwd`` against central finite differences and the derivative of the
closed forms, for every parameter."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtherm
from tests.analytic import CLOSED_FORMS
from tests.helpers import PARAMETERS, random_points

OBSERVABLES = ("J_a", "J_b", "power", "sigma", "n_a", "n_b")


def _assert_close(actual, reference, what, rtol=1e-6):
    actual, reference = np.asarray(actual), np.asarray(reference)
    bad = np.abs(actual - reference) > rtol * np.abs(reference) + 1e-13
    assert not bad.any(), f"{what}: {actual[bad][:3]} vs {reference[bad][:3]}"


@pytest.fixture(scope="module")
def grad_points():
    return random_points(16, seed=11)


def test_forward_mode_equals_finite_differences(coupling, grad_points):
    model = jaxtherm.qubit_pair(coupling)
    p = grad_points
    out = jaxtherm.solve(model, gradients=PARAMETERS, **p)
    for name in PARAMETERS:
        h = 1e-5 * np.abs(p[name])
        up = jaxtherm.solve(model, **{**p, name: p[name] + h})
        down = jaxtherm.solve(model, **{**p, name: p[name] - h})
        for obs in OBSERVABLES:
            fd = (np.asarray(up[obs]) - np.asarray(down[obs])) / (2 * h)
            _assert_close(out[jaxtherm.gradient_name(obs, name)], fd, f"d{obs}/d{name}")


def test_reverse_mode_equals_closed_form_derivative(coupling, grad_points):
    """``jax.vmap(jax.grad(J_a))`` of the kernel equals that of the closed form, every parameter."""
    model = jaxtherm.qubit_pair(coupling)
    closed = CLOSED_FORMS[coupling]

    def j_a(p):
        return jaxtherm.solve(model, **p)["J_a"]

    def j_a_ref(p):
        return closed(**p)["J_a"]

    p = {k: jnp.asarray(v) for k, v in grad_points.items()}
    ours = jax.vmap(jax.grad(j_a))(p)
    ref = jax.vmap(jax.grad(j_a_ref))(p)
    fwd = jaxtherm.solve(model, gradients=PARAMETERS, **grad_points)
    for name in PARAMETERS:
        _assert_close(ours[name], ref[name], f"grad J_a / {name} vs closed form")
        _assert_close(fwd[jaxtherm.gradient_name("J_a", name)], ref[name], f"forward dJ_a/d{name}")


def test_jacfwd_and_grad_agree_on_a_point():
    model = jaxtherm.qubit_pair("local")
    point = dict(omega_a=1.3, omega_b=0.9, beta_a=0.4, beta_b=1.7, gamma_a=0.2, gamma_b=0.3)

    def currents(eps):
        out = jaxtherm.solve(model, epsilon=eps, **point)
        return jnp.stack([out["J_a"], out["sigma"]])

    jac = jax.jacfwd(currents)(0.3)
    rev = jnp.stack([jax.grad(lambda e, i=i: currents(e)[i])(0.3) for i in range(2)])
    np.testing.assert_allclose(np.asarray(jac), np.asarray(rev), rtol=1e-12)
    ref = jax.grad(lambda e: CLOSED_FORMS["local"](epsilon=e, **point)["J_a"])(0.3)
    assert float(jac[0]) == pytest.approx(float(ref), rel=1e-8)


def test_gradient_with_respect_to_temperature():
    """``d/dT_a = −β_a² d/dβ_a`` when the temperature is given instead of β."""
    model = jaxtherm.qubit_pair("incoherent")
    p = dict(omega_a=1.0, omega_b=1.5, T_b=0.7, gamma_a=0.5, gamma_b=0.8, epsilon=0.2)
    by_t = jaxtherm.solve(model, gradients=["T_a"], T_a=2.0, **p)
    by_beta = jaxtherm.solve(model, gradients=["beta_a"], beta_a=0.5, **p)
    for obs in OBSERVABLES:
        assert float(by_t[f"d{obs}_dT_a"]) == pytest.approx(-(0.5**2) * float(by_beta[f"d{obs}_dbeta_a"]), rel=1e-12, abs=1e-15)


def test_vmapped_gradient_on_100k_points(coupling):
    """One ``jax.vmap(jax.grad(...))`` call over 10⁵ points, checked against the closed form."""
    n = 100_000
    model = jaxtherm.qubit_pair(coupling)
    rng = np.random.default_rng(5)
    eps = jnp.asarray(rng.uniform(0.01, 2.0, n))
    beta_b = jnp.asarray(rng.uniform(0.2, 3.0, n))
    fixed = dict(omega_a=1.4, omega_b=0.8, beta_a=0.3, gamma_a=0.5, gamma_b=0.9)

    def j_a(e, bb):
        return jaxtherm.solve(model, epsilon=e, beta_b=bb, **fixed)["J_a"]

    def j_a_ref(e, bb):
        return CLOSED_FORMS[coupling](epsilon=e, beta_b=bb, **fixed)["J_a"]

    d_eps, d_beta = jax.vmap(jax.grad(j_a, argnums=(0, 1)))(eps, beta_b)
    r_eps, r_beta = jax.vmap(jax.grad(j_a_ref, argnums=(0, 1)))(eps, beta_b)
    assert d_eps.shape == (n,)
    _assert_close(d_eps, r_eps, "dJ_a/depsilon")
    _assert_close(d_beta, r_beta, "dJ_a/dbeta_b")
