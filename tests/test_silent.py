"""Never silent: a point gets either a correct number or a non-zero status (issue 30).

* Temperatures at or near zero (``T = 0``, the smallest subnormal, ``1e-300``): ``β = ∞`` makes
  ``σ = −Σ β_j J_j`` infinite or ``0·∞``, and ``dβ/dT = −1/T²`` overflows the derivatives by
  ``T``; such points are flagged (status 2, non-finite results) instead of carrying NaN at
  status 0. Where nothing overflows (``T_b = 10⁻³``, no derivative by ``T``) the point is ok
  and every output finite.
* Rates far apart (``gamma_a`` up to 10¹⁶ beside 0.1): the weak bath's physics falls below the
  round-off of the strong one's and the first law ``Σ_j J_j + P = 0`` visibly breaks; from
  10¹³ on (the issue's 7 % and 39 % cases) every point is flagged (status 3, or 1 where LU's
  pivot rule already calls the matrix singular), and at every point left ok the first law holds.
* The bose spectrum's rates diverge like ``1/(βω)`` as ``ω → 0``: the same check flags them.
* A NaN coefficient of a user's model is a non-finite result, not an ok point.
* Global (Davies) models, whose rates live in their spectra, get the same first-law check:
  ``gamma_a`` from 10¹³ up to 10³⁰⁷ is flagged (it was status 0 with the first law broken by
  25–100 %), ordinary, equilibrium and cold points are not.
* The uncertainty ratio ``tur_j = S_j σ / J_counted_j²`` is NaN where the currents are below
  their round-off (the global pair at ``ε ≫ T``: ``J ≈ 10⁻²¹``, ``σ < 0``, ``tur`` was −0.27), never
  a finite value of the wrong sign.
* A Lindblad rate that turns negative at some parameters (``−3γ``) is outside the domain.

The first-law tolerance here is independent of the kernel's check: ``10⁻⁴`` of ``Σ|J_j| + |P|``
plus ``10⁻¹⁰`` of the natural flow scale ``F = E Γ`` (tests/test_solvers.py's scale, whose
module docstring derives it).
"""

from __future__ import annotations

import numpy as np
import pytest

import jaxtherm

BASE = dict(omega_a=1.0, omega_b=1.0, T_a=2.0, T_b=1.0, gamma_a=0.1, gamma_b=0.1, epsilon=0.1)
OK, SINGULAR, NONFINITE, INACCURATE = (jaxtherm.STATUS_OK, jaxtherm.STATUS_SINGULAR, jaxtherm.STATUS_NONFINITE,
                                       jaxtherm.STATUS_INACCURATE)


def _assert_no_nan_at_ok_points(out: dict, names) -> None:
    ok = np.asarray(out["status"]) == OK
    for k in names:
        assert np.all(np.isfinite(np.asarray(out[k])[ok])), k


@pytest.mark.parametrize("coupling", ["local", "global"])
def test_zero_temperature_is_flagged_not_nan(coupling):
    """``T_b`` of 0, 5e-324 and 1e-300 with derivatives by ``T_b``: every point flagged non-finite;
    ``T_b = 1e-3`` is ok with finite outputs and derivatives; no NaN at any ok point."""
    m = jaxtherm.qubit_pair(coupling)
    t_b = np.array([0.0, 5e-324, 1e-300, 1e-3, 1.0])
    out = jaxtherm.solve(m, rho=False, gradients=["T_b", "epsilon"], **{**BASE, "T_b": t_b})
    np.testing.assert_array_equal(np.asarray(out["status"]), [NONFINITE, NONFINITE, NONFINITE, OK, OK])
    _assert_no_nan_at_ok_points(out, [k for k in out if k not in ("status", "residual")])


def test_zero_temperature_of_the_oscillators_is_flagged():
    """The oscillator pair at ``T_a = 0``: flagged, and its ok neighbour finite."""
    m = jaxtherm.models.get("oscillator_pair", coupling="local", cutoff=4)
    out = jaxtherm.solve(m, rho=False, **{**BASE, "T_a": np.array([0.0, 0.5])})
    np.testing.assert_array_equal(np.asarray(out["status"]), [NONFINITE, OK])
    _assert_no_nan_at_ok_points(out, ["J_a", "J_b", "power", "sigma"])


def test_a_tiny_temperature_without_derivatives_is_a_correct_large_sigma():
    """``T_b = 1e-300`` without derivatives: ``β_b J_b`` is finite (about 10²⁹⁸), the point ok,
    and ``σ = −Σ β_j J_j`` exactly as the currents give it."""
    out = jaxtherm.solve(jaxtherm.qubit_pair("local"), rho=False, **{**BASE, "T_b": 1e-300})
    assert int(out["status"]) == OK
    sigma = -(float(out["J_a"]) / 2.0 + float(out["J_b"]) / 1e-300)
    assert float(out["sigma"]) == pytest.approx(sigma, rel=1e-12) and np.isfinite(sigma)


def _first_law_holds(out: dict, flow) -> np.ndarray:
    j_a, j_b, power = (np.asarray(out[k]) for k in ("J_a", "J_b", "power"))
    imbalance = np.abs(j_a + j_b + power)
    return imbalance <= 1e-4 * (np.abs(j_a) + np.abs(j_b) + np.abs(power)) + 1e-10 * flow


@pytest.mark.parametrize("coupling", ["local", "incoherent"])
def test_far_apart_rates_are_flagged_where_the_first_law_breaks(coupling):
    """``gamma_a`` from 1e-4 to 1e16 beside ``gamma_b = 0.1``: from 1e13 on every point is flagged
    (3, or 1 beyond float64's range); at every ok point the first law holds and every output is
    finite."""
    m = jaxtherm.qubit_pair(coupling)
    gamma_a = np.logspace(-4, 16, 41)
    out = jaxtherm.solve(m, rho=False, **{**BASE, "gamma_a": gamma_a})
    status = np.asarray(out["status"])
    assert np.all(np.isin(status[gamma_a >= 1e13], [INACCURATE, SINGULAR])), status
    assert np.all(status[gamma_a <= 1e3] == OK), status
    ok = status == OK
    flow = (gamma_a + 0.1) * (2.0 + 0.1)
    assert np.all(_first_law_holds(out, flow)[ok])
    _assert_no_nan_at_ok_points(out, ["J_a", "J_b", "power", "sigma", "n_a", "n_b"])


def test_bose_spectrum_at_vanishing_frequency_is_flagged():
    """The bose spectrum's rates ``∝ 1/(βω)`` as ``ω_a → 0``: 1e-3 ok with the first law, 1e-8
    and 1e-12 flagged."""
    m = jaxtherm.models.get("qubit_pair", coupling="local", spectrum="bose")
    omega_a = np.array([1e-3, 1e-8, 1e-12])
    out = jaxtherm.solve(m, rho=False, **{**BASE, "omega_a": omega_a})
    np.testing.assert_array_equal(np.asarray(out["status"]), [OK, INACCURATE, INACCURATE])
    assert _first_law_holds(out, 0.2 * 2.1)[0]


def test_a_nan_coefficient_of_a_user_model_is_flagged():
    """A coefficient that evaluates to NaN at some points (``√(x − 1)`` below 1, as JAX gives it)
    is a non-finite result there, not an ok point with NaN outputs."""
    import jax.numpy as jnp

    from jaxtherm.physics import operators as op

    a = op.lowering(1, 0)
    model = jaxtherm.Model(
        name="nan_coefficient", dim=2, parameters=("x", "beta"),
        hamiltonian=[jaxtherm.Term(lambda p: jnp.sqrt(p["x"] - 1.0), a.conj().T @ a)],
        dissipators=[jaxtherm.Lindblad(lambda p: 1.0, a, "bath", quantum=lambda p: jnp.sqrt(p["x"] - 1.0)),
                     jaxtherm.Lindblad(lambda p: jnp.exp(-p["beta"] * jnp.sqrt(p["x"] - 1.0)), a.conj().T, "bath",
                                       quantum=lambda p: -jnp.sqrt(p["x"] - 1.0))],
        baths=[jaxtherm.Bath("bath", "beta")],
    )
    out = jaxtherm.solve(model, rho=False, x=np.array([0.5, 2.0]), beta=1.0)
    status = np.asarray(out["status"])
    assert status[0] != OK and status[1] == OK
    _assert_no_nan_at_ok_points(out, ["J_bath", "power", "sigma"])


@pytest.mark.parametrize("coupling", ["global", "redfield", "ule"])
def test_far_apart_rates_of_global_models_are_flagged_where_the_first_law_breaks(coupling):
    """Davies (and Redfield, ULE) baths: ``gamma_a`` from 1e-4 to 1e307 beside ``gamma_b = 0.1``:
    from 1e13 on every point is flagged (3, or 1); up to 1e3 every point is ok; at every ok point
    the first law holds."""
    gamma_a = np.concatenate([np.logspace(-4, 16, 21), [1e50, 1e100, 1e200, 1e300, 1e307]])
    out = jaxtherm.solve(jaxtherm.qubit_pair(coupling), rho=False, **{**BASE, "gamma_a": gamma_a})
    status = np.asarray(out["status"])
    assert np.all(np.isin(status[gamma_a >= 1e13], [INACCURATE, SINGULAR])), status
    assert np.all(status[gamma_a <= 1e3] == OK), status
    ok = status == OK
    assert np.all(_first_law_holds(out, (gamma_a + 0.1) * 2.1)[ok])
    _assert_no_nan_at_ok_points(out, ["J_a", "J_b", "power", "sigma"])


@pytest.mark.parametrize(("name", "rate"), [("absorption_refrigerator", "gamma_c"), ("qubit_chain", "gamma_h")])
def test_far_apart_rates_of_the_global_refrigerator_and_chain_are_flagged(name, rate):
    """The global refrigerator and chain (n = 3): a rate of 1 is ok, 1e13 … 1e307 flagged."""
    m = jaxtherm.models.get(name, coupling="global", **({"n": 3} if name == "qubit_chain" else {}))
    point = {k: 1.0 for k in m.parameters}
    point.update({k: 0.5 for k in m.parameters if k.startswith("beta")})
    point.update({k: 0.3 for k in m.parameters if k.startswith("gamma")})
    point.update(g=0.1, E_h=1.5)
    point = {k: v for k, v in point.items() if k in m.parameters}
    values = np.array([1.0, 1e13, 1e15, 1e100, 1e307])
    status = np.asarray(jaxtherm.solve(m, rho=False, **{**point, rate: values})["status"])
    assert status[0] == OK and np.all(np.isin(status[1:], [INACCURATE, SINGULAR])), status


def test_global_pair_at_ordinary_equilibrium_and_cold_points_is_not_flagged():
    """The Davies first-law check leaves random points, equilibrium (T from 1e-3 to 100) and cold
    baths (β up to 900) at status 0."""
    from tests.helpers import random_points

    m = jaxtherm.qubit_pair("global")
    p = random_points(300, seed=5)
    cases = [p, {**p, "beta_a": p["beta_a"] * 100, "beta_b": p["beta_b"] * 300}]
    cases += [{**p, "beta_a": np.full(300, 1 / t), "beta_b": np.full(300, 1 / t)} for t in (1e-3, 1.0, 100.0)]
    for q in cases:
        assert np.all(np.asarray(jaxtherm.solve(m, rho=False, **q)["status"]) == OK)


def test_uncertainty_ratio_of_round_off_currents_is_nan_not_garbage():
    """The global pair at ``ε`` = 100 … 10⁴ (``T_a = 2``, ``T_b = 1``): its currents are
    exponentially small (≈ 10⁻²¹ and below, round-off), σ comes out negative; ``tur`` and its
    derivative are NaN there — never a finite value below the classical bound 2 (Davies
    dynamics is a classical Markov jump process between eigenstates of H, DESIGN.md). At
    ``ε`` ≤ 30, where the currents are resolved, ``tur`` is finite and ≥ 2."""
    eps = np.array([0.1, 1.0, 10.0, 30.0, 100.0, 300.0, 1e3, 3e3, 1e4])
    out = jaxtherm.solve(jaxtherm.qubit_pair("global"), rho=False, fluctuations=True, gradients=["epsilon"],
                         **{**BASE, "omega_b": 1.0001, "T_a": 2.0, "epsilon": eps})
    assert np.all(np.asarray(out["status"]) == OK)
    resolved = eps <= 30
    for bath in ("a", "b"):
        tur, dtur = np.asarray(out[f"tur_{bath}"]), np.asarray(out[f"dtur_{bath}_depsilon"])
        assert np.all(np.isnan(tur[~resolved])) and np.all(np.isnan(dtur[~resolved])), tur
        assert np.all(np.isfinite(tur[resolved])) and np.all(tur[resolved] >= 2 * (1 - 1e-9)), tur
        assert np.all(np.isfinite(dtur[resolved]))


def test_uncertainty_ratio_at_ordinary_points_is_a_number_at_least_two():
    """Random points of the global pair away from equilibrium: every ``tur`` finite and ≥ 2."""
    from tests.helpers import random_points

    p = random_points(200, seed=7)
    p["beta_b"] = p["beta_a"] * 2.0  # σ well above its round-off
    out = jaxtherm.solve(jaxtherm.qubit_pair("global"), rho=False, fluctuations=True, **p)
    for bath in ("a", "b"):
        tur = np.asarray(out[f"tur_{bath}"])
        assert np.all(np.isfinite(tur)) and np.all(tur >= 2 * (1 - 1e-9)), tur.min()


def test_uncertainty_ratio_near_equilibrium_is_nan_or_right_to_a_ten_thousandth():
    """The global pair at ``β_b = β_a (1 + δ)``, δ from 1e-12 to 1e-3: σ ∝ δ² cancels between the
    baths; every ``tur`` given is ≥ 2 to 10⁻⁴ (it came out 1.2 % below 2 with a resolution of 16
    round-offs), NaN where σ is round-off (δ ≤ 1e-7), a number for most points at δ = 1e-3."""
    from tests.helpers import random_points

    m = jaxtherm.qubit_pair("global")
    for delta in (1e-12, 1e-7, 1e-5, 1e-3):
        p = random_points(200, seed=9)
        p["beta_b"] = p["beta_a"] * (1 + delta)
        out = jaxtherm.solve(m, rho=False, fluctuations=True, **p)
        tur = np.concatenate([np.asarray(out["tur_a"]), np.asarray(out["tur_b"])])
        given = np.isfinite(tur)
        assert np.all(tur[given] >= 2 * (1 - 1e-4)), (delta, tur[given].min())
        if delta <= 1e-7:
            assert not given.any()
        if delta == 1e-3:
            assert given.mean() > 0.5


def test_a_rate_negative_at_some_parameters_is_outside_the_domain():
    """A user's Lindblad rate ``−3γ`` (not a constant, so the model is made): every point with
    γ > 0 is status 4 with NaN observables (it gave ρ = diag(−0.61, 1.61) at status 0); γ = 0 is
    a valid rate and stays ok."""
    from jaxtherm.physics.operators import num, sigmam

    a = sigmam()
    model = jaxtherm.Model(
        name="negative_rate", dim=2, parameters=("omega", "gamma", "beta"),
        hamiltonian=[jaxtherm.Term(lambda p: p["omega"], num(2))],
        dissipators=[jaxtherm.Lindblad(lambda p: -3.0 * p["gamma"], a, "h"),
                     jaxtherm.Lindblad(lambda p: 0.1, a.conj().T, "h")],
        baths=[jaxtherm.Bath("h", "beta")],
    )
    out = jaxtherm.solve(model, omega=1.0, gamma=np.array([0.1, 1.0, 0.0]), beta=1.0)
    np.testing.assert_array_equal(np.asarray(out["status"]), [jaxtherm.STATUS_DOMAIN, jaxtherm.STATUS_DOMAIN, OK])
    assert np.all(np.isnan(np.asarray(out["J_h"])[:2])) and np.all(np.isnan(np.asarray(out["rho"])[:2]))
