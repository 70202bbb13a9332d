"""QuTiP's own steady-state test cases, rebuilt as jaxtherm user models and checked analytically.

The cases are those of ``qutip/tests/solver/test_steadystate.py`` (QuTiP 5): ``test_qubit``,
``test_ho``, ``test_driven_cavity`` and ``test_exact_solution_for_simple_methods``. Each is
built from the public API only (``Model``, ``Term``, ``Lindblad``, ``Bath``, ``parameter`` and
``jaxtherm.physics.operators``), as in the README's own-model example, and compared with its closed
form at tolerances far tighter than QuTiP's own (which are 1e-5 … 1e-3 for the iterative methods).

jaxtherm's qubit basis is (|n=0⟩, |n=1⟩), ground first; QuTiP's is (|↑⟩, |↓⟩), excited first
(see ``jaxtherm.physics.operators``). Cases built from jaxtherm operators are checked in jaxtherm's
basis; the case built from QuTiP ``Qobj`` s is checked in QuTiP's, against QuTiP's own numbers.
"""

from math import factorial

import jax.numpy as jnp
import numpy as np
import pytest

import jaxtherm
from jaxtherm import Bath, Lindblad, Model, Term
from jaxtherm.models import parameter
from jaxtherm.physics.operators import as_array, create, dag, destroy, num, qeye, sigmam, sigmap, sigmaz

N_CAVITY = 30  # QuTiP's truncation for test_ho and test_driven_cavity


def occupation(p):
    """Bose occupation ``n̄ = 1/(e^{βω} − 1)`` of the bath at the system's frequency (traceable)."""
    return 1.0 / jnp.expm1(p["beta"] * p["omega"])


def bose_bath_lindblads(lower, channel="h"):
    """``γ(1 + n̄) D[a] + γ n̄ D[a†]`` with ``n̄ = n̄(β ω)``: QuTiP's thermal c_ops
    ``√(γ(1+n̄)) a`` and ``√(γ n̄) a†``, given as rates."""
    return (
        Lindblad(lambda p: p["gamma"] * (1.0 + occupation(p)), lower, channel, label="gamma (1 + nbar) D[a]"),
        Lindblad(lambda p: p["gamma"] * occupation(p), dag(lower), channel, label="gamma nbar D[a†]"),
    )


def as_numpy(out):
    return {k: np.asarray(v) for k, v in out.items()}


# ---- 1. the thermal qubit (QuTiP test_qubit) -----------------------------------------------------

# QuTiP: H = 0.5 · 2π σ_z, γ = 0.05, wth = linspace(0.1, 3, 20), n_th = 1/(e^{1/wth} − 1)
WTH_QUBIT = np.linspace(0.1, 3, 20)


@pytest.mark.parametrize("solver", ["reduced", "dense"])
def test_thermal_qubit_qutip_form(solver):
    """QuTiP's test_qubit verbatim: rates from the occupation ``nbar`` given directly (the
    channel is then not a declared bath). ``p_1 = n̄/(1 + 2n̄) = e^{−1/wth}/(1 + e^{−1/wth})``."""
    model = Model(
        "qutip_qubit", 2, ("omega", "nbar", "gamma"),
        (Term(lambda p: p["omega"] / 2, sigmaz(), "omega/2 sigma_z"),),
        (
            Lindblad(lambda p: p["gamma"] * (1.0 + p["nbar"]), sigmam(), "h", label="gamma (1 + nbar) D[sigma-]"),
            Lindblad(lambda p: p["gamma"] * p["nbar"], sigmap(), "h", label="gamma nbar D[sigma+]"),
        ),
        (),
    )
    n_th = 1.0 / (np.exp(1.0 / WTH_QUBIT) - 1)
    out = as_numpy(jaxtherm.solve(model, omega=2 * np.pi, nbar=n_th, gamma=0.05, solver=solver))
    assert np.all(out["status"] == 0)
    p_analytic = np.exp(-1.0 / WTH_QUBIT) / (1 + np.exp(-1.0 / WTH_QUBIT))
    np.testing.assert_allclose(out["rho"][:, 1, 1].real, p_analytic, atol=1e-12, rtol=0)
    np.testing.assert_allclose(out["rho"][:, 0, 0].real, 1 - p_analytic, atol=1e-12, rtol=0)
    np.testing.assert_allclose(out["rho"][:, 0, 1], 0, atol=1e-12)


@pytest.mark.parametrize("solver", ["reduced", "dense"])
def test_thermal_qubit_is_gibbs(solver):
    """The same qubit with a declared bath: ``n̄ = n̄(βω)``, so the steady state is the Gibbs state
    ``p_1 = 1/(1 + e^{βω})`` of ``H = (ω/2)σ_z`` and no heat flows (``J_h = σ = 0``)."""
    model = Model(
        "thermal_qubit", 2, ("omega", "beta", "gamma"),
        (Term(lambda p: p["omega"] / 2, sigmaz(), "omega/2 sigma_z"),),
        bose_bath_lindblads(sigmam()),
        (Bath("h", "beta"),),
    )
    omega = np.array([[1.0], [2 * np.pi], [0.3]])  # × 20 temperatures: 60 points, one call
    beta = 1.0 / WTH_QUBIT
    gamma = np.array([[0.05], [1.0], [7.0]])
    out = as_numpy(jaxtherm.solve(model, omega=omega, beta=beta, gamma=gamma, solver=solver))
    assert out["rho"].shape == (3, 20, 2, 2) and np.all(out["status"] == 0)
    p1 = 1.0 / (1.0 + np.exp(beta * omega))
    np.testing.assert_allclose(out["rho"][..., 1, 1].real, p1, atol=1e-12, rtol=0)
    np.testing.assert_allclose(out["rho"][..., 0, 0].real, 1 - p1, atol=1e-12, rtol=0)
    np.testing.assert_allclose(out["rho"][..., 0, 1], 0, atol=1e-12)
    # detailed balance: no current. Scale: the gross flows are γ ω (1 + n̄) p_1 ≤ 7 · 2π
    np.testing.assert_allclose(out["J_h"], 0, atol=1e-13)
    np.testing.assert_allclose(out["sigma"], 0, atol=1e-12)


# ---- 2. the thermal oscillator (QuTiP test_ho) ---------------------------------------------------


def test_thermal_oscillator():
    """Truncated mode, ``H = ω a†a``, ``γ(1+n̄) D[a] + γ n̄ D[a†]``, QuTiP's γ = 0.05 and
    wth = linspace(0.1, 3, 11) (``βω = 1/wth``, so ``n̄`` is QuTiP's ``n_th``; 0.0 … 2.5).

    The truncated generator keeps detailed balance across every link k ↔ k+1 (rates
    ``γ(1+n̄)(k+1)`` down, ``γ n̄ (k+1)`` up), so its steady state is *exactly* the geometric
    distribution cut at N: ``p_k = (1 − x) x^k / (1 − x^N)``, ``x = n̄/(1+n̄) = e^{−βω}``,
    checked to 1e-10 at every point. Where ``n̄ ≤ 0.5`` (``x ≤ 1/3``) the truncation changes
    ``p_k`` by at most ``x^N ≤ 5e-15`` and ``⟨n⟩`` by ``N x^N ≤ 2e-13``, so there the untruncated
    Bose–Einstein ``p_k = (1 − x) x^k`` and ``⟨n⟩ = n̄`` are checked to 1e-10 as well.
    """
    n = N_CAVITY
    model = Model(
        "thermal_oscillator", n, ("omega", "beta", "gamma"),
        (Term(parameter("omega"), num(n), "omega a†a"),),
        bose_bath_lindblads(destroy(n)),
        (Bath("h", "beta"),),
    )
    wth = np.linspace(0.1, 3, 11)
    out = as_numpy(jaxtherm.solve(model, omega=1.0, beta=1.0 / wth, gamma=0.05))
    assert np.all(out["status"] == 0)
    rho = out["rho"]
    x = np.exp(-1.0 / wth)[:, None]
    k = np.arange(n)[None, :]
    p = np.einsum("bkk->bk", rho)
    np.testing.assert_allclose(p.imag, 0, atol=1e-15)
    np.testing.assert_allclose(p.real, (1 - x) * x**k / (1 - x**n), atol=1e-10, rtol=0)
    np.testing.assert_allclose(rho - np.einsum("bk,kl->bkl", p, np.eye(n)), 0, atol=1e-10)  # diagonal
    nbar = 1.0 / np.expm1(1.0 / wth)
    cold = nbar <= 0.5
    assert cold.sum() == 3  # wth = 0.1, 0.39, 0.68: n̄ = 4.5e-5, 0.084, 0.30
    np.testing.assert_allclose(p.real[cold], ((1 - x) * x**k)[cold], atol=1e-10, rtol=0)
    mean_n = np.einsum("bk,k->b", p.real, np.arange(n))
    np.testing.assert_allclose(mean_n[cold], nbar[cold], atol=1e-10, rtol=0)
    # detailed balance: no heat current (gross flows ≤ γ ω ⟨n⟩(1 + n̄) ~ 0.4)
    np.testing.assert_allclose(out["J_h"], 0, atol=1e-12)


# ---- 3. the driven damped cavity (QuTiP test_driven_cavity) ---------------------------------------


def coherent_dm(alpha: complex, n: int) -> np.ndarray:
    """``|α⟩⟨α|`` with ``|α⟩ = e^{−|α|²/2} Σ_{k<n} α^k/√k! |k⟩`` (the truncation drops
    ``Σ_{k≥n} |α|^{2k}/k! e^{−|α|²} < 1e-32`` of the norm for ``|α| ≤ 1``, n = 30).

    The truncated model's steady state differs from it by about the amplitude where the ladder is
    cut, ``|α|^{n−1}/√(n−1)!`` (3e-16 for |α| = 1, n = 30)."""
    psi = np.array([np.exp(-abs(alpha) ** 2 / 2) * alpha**k / np.sqrt(float(factorial(k))) for k in range(n)])
    return np.outer(psi, psi.conj())


def driven_cavity(n, ops=None):
    """``H = Δ a†a + F(a + a†)``, jump ``√κ a`` (rate κ, a non-thermal channel: no bath).

    ``ops`` = ``(a†a, a + a†, a)`` as arrays or ``Qobj`` s (default: jaxtherm's)."""
    number, quadrature, lower = ops if ops is not None else (num(n), destroy(n) + create(n), destroy(n))
    return Model(
        "driven_cavity", n, ("delta", "F", "kappa"),
        (Term(parameter("delta"), number, "delta a†a"), Term(parameter("F"), quadrature, "F (a + a†)")),
        (Lindblad(parameter("kappa"), lower, "loss", label="kappa D[a]"),),
        (),
    )


# (Δ, F, κ): QuTiP's Δ = 0, κ = 0.05 with F reduced from 0.02π to 0.01 (and F = κ/2, |α| = 1),
# then detuned points to check the sign of α. QuTiP's own F = 0.02π gives |α| = 2.5, for which
# truncation at 30 is only good to ~1e-4 (|α|^29/√29! ≈ 1e-4; QuTiP's atol there is 1e-4).
CAVITY_POINTS = np.array([
    [0.0, 0.01, 0.05],
    [0.0, 0.025, 0.05],
    [0.03, 0.02, 0.05],
    [-0.1, 0.05, 0.1],
])


def cavity_alpha(delta, f, kappa):
    """Steady amplitude: ``d⟨a⟩/dt = −iΔα − iF − (κ/2)α = 0`` ⇒ ``α = −F/(Δ − iκ/2)``."""
    return -f / (delta - 0.5j * kappa)


def test_driven_cavity_is_coherent_state():
    n = N_CAVITY
    delta, f, kappa = CAVITY_POINTS.T
    alphas = cavity_alpha(delta, f, kappa)
    assert np.all(np.abs(alphas) <= 1.0 + 1e-12)
    np.testing.assert_allclose(alphas[0], -2j * 0.01 / 0.05)  # QuTiP's −iΩ/(Γ/2) at Δ = 0
    out = as_numpy(jaxtherm.solve(driven_cavity(n), delta=delta, F=f, kappa=kappa))
    assert np.all(out["status"] == 0)
    for i, alpha in enumerate(alphas):
        expected = coherent_dm(alpha, n)
        np.testing.assert_allclose(out["rho"][i], expected, atol=1e-10, rtol=0)
        np.testing.assert_allclose(np.trace(out["rho"][i] @ destroy(n)), alpha, atol=1e-10)
    # a time-independent H does no work in a steady state: the loss channel's flow Tr(H κD[a]ρ) = 0
    np.testing.assert_allclose(out["power"], 0, atol=1e-12)


# ---- 4. a tiny rate resolved exactly (QuTiP test_exact_solution_for_simple_methods) ------------------


@pytest.mark.parametrize("solver", ["reduced", "dense"])
def test_tiny_rate_resolved(solver):
    """``H = 1``, ``c_ops = [σ₋, 1e-5 σ₊]``, i.e. rates 1 and 1e-10: the excited population
    ``r/(1 + r)`` with ``r = 1e-10`` to 1e-14 absolute (QuTiP's own tolerance)."""
    model = Model(
        "tiny_rate", 2, ("gamma_down", "gamma_up"),
        (Term(lambda p: 1.0, qeye(2), "identity"),),
        (
            Lindblad(parameter("gamma_down"), sigmam(), "c", label="D[sigma-]"),
            Lindblad(parameter("gamma_up"), sigmap(), "c", label="D[sigma+]"),
        ),
        (),
    )
    r = (1e-5) ** 2
    out = as_numpy(jaxtherm.solve(model, gamma_down=1.0, gamma_up=r, solver=solver))
    assert out["status"] == 0
    expected = np.diag([1.0 / (1.0 + r), r / (1.0 + r)])
    np.testing.assert_allclose(out["rho"], expected, atol=1e-14, rtol=0)
    assert out["rho"][1, 1].real == pytest.approx(1e-10, rel=1e-4)  # resolved, not rounded to 0
    assert np.trace(out["rho"]).real == pytest.approx(1.0, abs=1e-14)


# ---- models built from QuTiP Qobj operators ----------------------------------------------------------


def qutip_tiny_rate_model(qutip, convert):
    """QuTiP's test verbatim, ``H = identity(2)``, ``c_ops = [sigmam(), 1e-5 sigmap()]`` (unit
    rates), with each ``Qobj`` passed through ``convert`` (identity: the ``Qobj`` itself)."""
    return Model(
        "tiny_rate_qutip", 2, ("gamma",),
        (Term(lambda p: 1.0, convert(qutip.identity(2)), "identity"),),
        (
            Lindblad(parameter("gamma"), convert(qutip.sigmam()), "c", label="D[sigmam]"),
            Lindblad(parameter("gamma"), convert(1e-5 * qutip.sigmap()), "c", label="D[1e-5 sigmap]"),
        ),
        (),
    )


def test_qutip_matrices_tiny_rate():
    """Through ``as_array``: QuTiP's expected ρ, in QuTiP's basis (|↑⟩, |↓⟩), to its 1e-14."""
    qutip = pytest.importorskip("qutip")
    numpy_model = qutip_tiny_rate_model(qutip, as_array)
    out = as_numpy(jaxtherm.solve(numpy_model, gamma=1.0))
    assert out["status"] == 0
    # QuTiP's expected_rho_ss is [[1e-10, 0], [0, 1]], which has trace 1 + 1e-10: its check passes
    # only through assert_allclose's default rtol=1e-7. The exact state, with r = (1e-5)²:
    r = (1e-5) ** 2
    expected_rho_ss = np.diag([r / (1 + r), 1 / (1 + r)])
    np.testing.assert_allclose(out["rho"], expected_rho_ss, atol=1e-14, rtol=0)
    assert out["rho"][0, 0].real == pytest.approx(1e-10, rel=1e-4)
    assert np.trace(out["rho"]).real == pytest.approx(1.0, abs=1e-14)


def test_qobj_operators_accepted_in_model():
    """``Qobj`` s passed straight into ``Term``/``Lindblad`` give the NumPy-built model's result."""
    qutip = pytest.importorskip("qutip")
    qobj_model = qutip_tiny_rate_model(qutip, lambda q: q)
    numpy_model = qutip_tiny_rate_model(qutip, as_array)
    n = 8  # small, to keep the file fast: the comparison is Qobj vs NumPy, not vs |α⟩
    a = qutip.destroy(n)
    cavity_qobj = driven_cavity(n, (a.dag() * a, a + a.dag(), a))
    cavity_numpy = driven_cavity(n)
    for qobj_m, numpy_m, params in (
        (qobj_model, numpy_model, {"gamma": 1.0}),
        (cavity_qobj, cavity_numpy, dict(zip(("delta", "F", "kappa"), CAVITY_POINTS[2]))),
    ):
        got = as_numpy(jaxtherm.solve(qobj_m, **params))
        want = as_numpy(jaxtherm.solve(numpy_m, **params))
        assert got["status"] == 0 and want["status"] == 0
        np.testing.assert_allclose(got["rho"], want["rho"], atol=1e-15, rtol=0)
