"""Bath spectra (``docs/design.md`` §2.3): detailed balance, values, limits, and thermalization to Gibbs.

``jaxtherm.physics.spectra.get(name)`` gives ``emission(ν, β, rate, cutoff)`` (down) and
``absorption(ν, β, rate, cutoff)`` (up) for a transition of energy ν > 0:

    seed   Γ                      Γ e^{−βν}
    bose   γ(1 + n̄)              γ n̄                  n̄ = 1/(e^{βν} − 1)
    ohmic  κν e^{−ν/ω_c}(1 + n̄)  κν e^{−ν/ω_c} n̄

The reference values come from tests/reference.py (NumPy, ``expm1`` forms accurate to ulps).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtherm
from jaxtherm.models import parameter

qutip = pytest.importorskip("qutip")
from tests import reference as R  # noqa: E402  (needs qutip)

SPECTRA = R.SPECTRA
CUTOFF = 2.5  # ω_c of the ohmic spectrum in the value tests


def _cutoff(name, value=CUTOFF):
    return value if name == "ohmic" else None


def _grid():
    """ν ∈ [0.01, 10], β ∈ [0.05, 20] (βν from 5e-4 to 200), rates ∈ {0.1, 1.7}."""
    nu, beta, rate = np.meshgrid(np.logspace(-2, 1, 13), np.logspace(np.log10(0.05), np.log10(20), 11), [0.1, 1.7], indexing="ij")
    return nu.ravel(), beta.ravel(), rate.ravel()


# ----------------------------------------------------------------------------- rates


@pytest.mark.parametrize("name", SPECTRA)
def test_detailed_balance(name):
    """rate_up = e^{−βν} rate_down, relative 1e-13, over the whole (ν, β) grid."""
    spec = jaxtherm.physics.spectra.get(name)
    nu, beta, rate = _grid()
    down = np.asarray(spec.emission(nu, beta, rate, _cutoff(name)))
    up = np.asarray(spec.absorption(nu, beta, rate, _cutoff(name)))
    assert np.all(down > 0) and np.all(up > 0)
    np.testing.assert_allclose(up, down * np.exp(-beta * nu), rtol=1e-13, atol=0)


@pytest.mark.parametrize("name", SPECTRA)
def test_values(name):
    """The table of ``docs/design.md`` §2.3, relative 1e-12 where βν ≥ 0.01 (there a direct 1/(e^{βν} − 1)
    loses at most ~1e-14 to cancellation, so any correct formula passes)."""
    spec = jaxtherm.physics.spectra.get(name)
    nu, beta, rate = _grid()
    keep = beta * nu >= 0.01
    nu, beta, rate = nu[keep], beta[keep], rate[keep]
    down, up = R.rates(name, nu, beta, rate, _cutoff(name))
    np.testing.assert_allclose(np.asarray(spec.emission(nu, beta, rate, _cutoff(name))), down, rtol=1e-12, atol=0)
    np.testing.assert_allclose(np.asarray(spec.absorption(nu, beta, rate, _cutoff(name))), up, rtol=1e-12, atol=0)


def test_reference_rates_are_the_table():
    """The reference's expm1 forms equal the literal formulas of the table (moderate βν)."""
    nu, beta, rate = 0.7, 1.3, 0.4
    nbar = 1 / (np.exp(beta * nu) - 1)
    expected = {
        "seed": (rate, rate * np.exp(-beta * nu)),
        "bose": (rate * (1 + nbar), rate * nbar),
        "ohmic": (rate * nu * np.exp(-nu / CUTOFF) * (1 + nbar), rate * nu * np.exp(-nu / CUTOFF) * nbar),
    }
    for name, (down, up) in expected.items():
        np.testing.assert_allclose(R.rates(name, nu, beta, rate, _cutoff(name)), (down, up), rtol=1e-14)


def _zero_temperature_limit(name, nu, rate, cutoff):
    """β → ∞: emission → Γ (seed), γ (bose), κν e^{−ν/ω_c} (ohmic); absorption → 0."""
    if name == "ohmic":
        return rate * nu * jnp.exp(-nu / cutoff)
    return rate + 0 * nu + 0 * cutoff


@pytest.mark.parametrize("name", SPECTRA)
@pytest.mark.parametrize("nu", [0.05, 0.8, 3.0])
def test_zero_temperature(name, nu):
    """At β = ∞ emission and absorption are finite (absorption exactly 0), and their gradients
    with respect to β, ν, rate (and ω_c) are finite and equal those of the β → ∞ limit
    (d/dβ → 0: every β-dependence is e^{−βν})."""
    spec = jaxtherm.physics.spectra.get(name)
    rate, cutoff = 0.6, 1.7
    c = cutoff if name == "ohmic" else None

    def emission(nu, beta, rate, cutoff):
        return spec.emission(nu, beta, rate, cutoff if name == "ohmic" else None)

    def absorption(nu, beta, rate, cutoff):
        return spec.absorption(nu, beta, rate, cutoff if name == "ohmic" else None)

    beta = jnp.inf
    limit = float(_zero_temperature_limit(name, nu, rate, cutoff))
    assert float(spec.emission(nu, beta, rate, c)) == pytest.approx(limit, rel=1e-14)
    assert float(spec.absorption(nu, beta, rate, c)) == 0.0
    argnums = (0, 1, 2, 3) if name == "ohmic" else (0, 1, 2)
    g_em = jax.grad(emission, argnums=argnums)(nu, beta, rate, cutoff)
    g_ab = jax.grad(absorption, argnums=argnums)(nu, beta, rate, cutoff)
    g_limit = jax.grad(lambda n, r, w: _zero_temperature_limit(name, n, r, w), argnums=(0, 1, 2))(nu, rate, cutoff)
    g_limit = (g_limit[0], 0.0, g_limit[1], g_limit[2])
    for k, i in enumerate(argnums):
        assert np.isfinite(float(g_em[k])) and np.isfinite(float(g_ab[k])), (name, i)
        assert float(g_em[k]) == pytest.approx(float(g_limit[i]), rel=1e-12, abs=1e-300), ("emission", i)
        assert float(g_ab[k]) == 0.0, ("absorption", i)


@pytest.mark.parametrize("beta", [0.3, 2.0])
def test_seed_zero_frequency(beta):
    """seed at ν = 0: emission = absorption = Γ; ∂_ν absorption = −βΓ, other gradients of the
    exact formula (∂_β = 0, ∂_Γ = 1)."""
    spec = jaxtherm.physics.spectra.get("seed")
    rate = 0.7
    assert float(spec.emission(0.0, beta, rate)) == pytest.approx(rate, rel=1e-15)
    assert float(spec.absorption(0.0, beta, rate)) == pytest.approx(rate, rel=1e-15)
    g_em = jax.grad(lambda n, b, r: spec.emission(n, b, r), argnums=(0, 1, 2))(0.0, beta, rate)
    g_ab = jax.grad(lambda n, b, r: spec.absorption(n, b, r), argnums=(0, 1, 2))(0.0, beta, rate)
    np.testing.assert_allclose(np.array(g_em, float), [0.0, 0.0, 1.0], rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(np.array(g_ab, float), [-beta * rate, 0.0, 1.0], rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("beta", [0.3, 2.0])
def test_ohmic_zero_frequency(beta):
    """ohmic as ν → 0: both rates → κ/β (never NaN), with the gradients of the series
    emission ≈ κ(1/β + ν/2 − ν/(βω_c)), absorption ≈ κ(1/β − ν/2 − ν/(βω_c)):
    ∂_ν = κ(±½ − 1/(βω_c)), ∂_β = −κ/β², ∂_κ = 1/β, ∂_{ω_c} = 0 at ν = 0.
    Small ν > 0 approaches the limit like the series: relative error ν|±β/2 − 1/ω_c| + O(ν²),
    asserted ≤ 2ν(β + 1/ω_c) (a form without cancellation, e.g. ν/expm1(βν), is that accurate
    down to ν = 1e-12; 1/(e^{βν} − 1) is not)."""
    spec = jaxtherm.physics.spectra.get("ohmic")
    kappa, wc = 0.9, 1.7
    for f in (spec.emission, spec.absorption):
        assert float(f(0.0, beta, kappa, wc)) == pytest.approx(kappa / beta, rel=1e-13)
        for nu in (1e-12, 1e-9, 1e-6, 1e-4):
            assert abs(float(f(nu, beta, kappa, wc)) * beta / kappa - 1) <= 2 * nu * (beta + 1 / wc)
    for f, sign in ((spec.emission, 1), (spec.absorption, -1)):
        g = jax.grad(f, argnums=(0, 1, 2, 3))(0.0, beta, kappa, wc)
        g = np.array(g, float)
        assert np.all(np.isfinite(g))
        expected = [kappa * (sign * 0.5 - 1 / (beta * wc)), -kappa / beta**2, 1 / beta, 0.0]
        np.testing.assert_allclose(g, expected, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("beta", [0.3, 2.0])
def test_bose_small_frequency_asymptote(beta):
    """bose diverges as ν → 0 (physical): emission = γ/(βν)·(1 + βν/2 + O(βν)²), so
    |emission·βν/γ − 1| ≤ βν; absorption ~ γ/(βν) too, with the opposite first correction
    (this accuracy at βν = 3e-9 needs a cancellation-free form such as expm1)."""
    spec = jaxtherm.physics.spectra.get("bose")
    gamma = 0.8
    for nu in (1e-8, 1e-6, 1e-4, 1e-2):
        x = beta * nu
        em = float(spec.emission(nu, beta, gamma)) * x / gamma
        ab = float(spec.absorption(nu, beta, gamma)) * x / gamma
        assert abs(em - 1) <= x and em >= 1
        assert abs(ab - 1) <= x and ab <= 1


# ----------------------------------------------------------------------------- thermalization


def _single_mode_model(dim, coupling, spectrum):
    """ω a†a and one bath "h": local thermalizer, or Davies with X = a + a†."""
    a = qutip.destroy(dim).full()
    params = ("omega", "beta", "gamma") + (("omega_cutoff",) if spectrum == "ohmic" else ())
    if coupling == "local":
        diss = jaxtherm.local_thermalizer(
            a,
            bath="h",
            omega="omega",
            beta="beta",
            gamma="gamma",
            spectrum=spectrum,
            cutoff="omega_cutoff" if spectrum == "ohmic" else None,
        )
    else:
        diss = (
            jaxtherm.Davies(
                a + a.conj().T,
                parameter("gamma"),
                parameter("beta"),
                "h",
                spectrum=spectrum,
                cutoff=parameter("omega_cutoff") if spectrum == "ohmic" else None,
            ),
        )
    return jaxtherm.Model(
        f"mode{dim}",
        dim,
        params,
        (jaxtherm.Term(parameter("omega"), a.conj().T @ a),),
        tuple(diss),
        (jaxtherm.Bath("h", "beta"),),
    )


def _mode_points(n=5, seed=4):
    """ω ∈ [0.3, 2], β ∈ [0.3, 3] (βω from 0.09 to 6), γ ∈ [0.05, 2], ω_c ∈ [0.5, 4]."""
    rng = np.random.default_rng(seed)
    return {
        "omega": rng.uniform(0.3, 2.0, n),
        "beta": rng.uniform(0.3, 3.0, n),
        "gamma": rng.uniform(0.05, 2.0, n),
        "omega_cutoff": rng.uniform(0.5, 4.0, n),
    }


@pytest.mark.parametrize("dim", [2, 12])
@pytest.mark.parametrize("coupling", ["local", "global"])
@pytest.mark.parametrize("spectrum", SPECTRA)
def test_reference_thermalizes(dim, coupling, spectrum):
    """The QuTiP reference itself: one bath, any spectrum, local or Davies → Gibbs (1e-12)."""
    p = _mode_points()
    for i in range(len(p["omega"])):
        q = R.point(p, i)
        s = R.single_mode(dim, coupling, q["omega"], q["beta"], q["gamma"], spectrum, q["omega_cutoff"])
        rho = R.steady_state(s)
        h = q["omega"] * np.diag(np.arange(dim, dtype=float))
        np.testing.assert_allclose(rho, R.gibbs(h, q["beta"]), atol=1e-12, rtol=0)


@pytest.mark.parametrize("dim", [2, 12])
@pytest.mark.parametrize("coupling", ["local", "global"])
@pytest.mark.parametrize("spectrum", SPECTRA)
def test_single_bath_thermalizes(dim, coupling, spectrum):
    """A qubit (dim 2) or a truncated oscillator (dim 12) with one bath relaxes to the Gibbs state
    of its (truncated) H, for local and Davies thermalizers and every spectrum: ρ within 1e-12;
    the heat current vanishes."""
    p = _mode_points()
    if spectrum != "ohmic":
        p.pop("omega_cutoff")
    out = {k: np.asarray(v) for k, v in jaxtherm.solve(_single_mode_model(dim, coupling, spectrum), **p).items()}
    assert np.all(out["status"] == 0)
    for i in range(len(p["omega"])):
        h = p["omega"][i] * np.diag(np.arange(dim, dtype=float))
        np.testing.assert_allclose(out["rho"][i], R.gibbs(h, p["beta"][i]), atol=1e-12, rtol=0)
        scale = p["omega"][i] * p["gamma"][i] * max(1.0, 1 / (p["beta"][i] * p["omega"][i]))
        assert abs(out["J_h"][i]) <= 1e-12 * scale
