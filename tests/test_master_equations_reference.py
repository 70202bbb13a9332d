"""Tests of the Bloch–Redfield, ULE and Landauer references (``tests/master_equations.py``)
themselves: against QuTiP's Bloch–Redfield tensor, against the Davies and local references of
``tests/reference.py``, and against physics (first law, positivity, the exact current).

Nothing here runs jaxtherm. Run alone: ``pytest -p no:xdist tests/test_master_equations_reference.py``.
"""

import numpy as np
import pytest

from tests import master_equations as me

SPECTRA = ("seed", "bose", "ohmic")
CUTOFF = 3.0  # ω_c of the ohmic spectrum


def pair_points(n, seed):
    """Random qubit-pair points: ω ∈ [0.5, 1.5], β ∈ [0.3, 3] (|β_a − β_b| ≥ 0.3),
    γ ∈ [0.05, 1], ε ∈ [0.02, 0.4]."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        beta_a = rng.uniform(0.3, 1.5)
        out.append(dict(omega_a=rng.uniform(0.5, 1.5), omega_b=rng.uniform(0.5, 1.5), beta_a=beta_a,
                        beta_b=beta_a + rng.uniform(0.3, 1.5), gamma_a=rng.uniform(0.05, 1.0),
                        gamma_b=rng.uniform(0.05, 1.0), epsilon=rng.uniform(0.02, 0.4), omega_cutoff=CUTOFF))
    return out


def chain_points(n, seed):
    """Random 3-chain points: ω ∈ [0.8, 2], g ∈ [0.1, 0.35], β_h ∈ [0.2, 1.2],
    β_c = β_h + [0.3, 1.8], γ ∈ [0.05, 1]."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        beta_h = rng.uniform(0.2, 1.2)
        out.append(dict(omega=rng.uniform(0.8, 2.0), g=rng.uniform(0.1, 0.35), beta_h=beta_h,
                        beta_c=beta_h + rng.uniform(0.3, 1.8), gamma_h=rng.uniform(0.05, 1.0),
                        gamma_c=rng.uniform(0.05, 1.0), omega_cutoff=CUTOFF))
    return out


def refrigerator_point():
    return dict(E_c=1.0, E_h=2.5, g=0.1, beta_c=1.0, beta_r=0.7, beta_h=0.1, gamma_c=0.3, gamma_r=0.2,
                gamma_h=0.4, omega_cutoff=5.0)


def oscillator_point():
    return dict(omega_a=1.0, omega_b=1.1, beta_a=1.0, beta_b=2.0, gamma_a=0.1, gamma_b=0.2, epsilon=0.1,
                omega_cutoff=CUTOFF)


def build(model, p, spectrum):
    if model == "qubit_pair":
        return me.qubit_pair(p, spectrum)
    if model == "qubit_chain":
        return me.qubit_chain(p, 3, spectrum)
    if model == "absorption_refrigerator":
        return me.absorption_refrigerator(p, spectrum)
    return me.oscillator_pair(p, 4, spectrum)


MODEL_POINTS = [("qubit_pair", pair_points(1, 1)[0]), ("qubit_chain", chain_points(1, 2)[0]),
                ("absorption_refrigerator", refrigerator_point()), ("oscillator_pair", oscillator_point())]


def min_eig(rho):
    return float(np.linalg.eigvalsh(0.5 * (rho + rho.conj().T)).min())


# ----------------------------------------------------------------------------- spectra


@pytest.mark.parametrize("name", SPECTRA)
def test_spectra_match_reference_rates_and_detailed_balance(name):
    """γ(ν > 0) is the emission and γ(−ν) the absorption of ``tests.reference.rates``;
    ``γ(−ν) = e^{−βν} γ(ν)``."""
    ref = pytest.importorskip("tests.reference")
    nu = np.array([1e-6, 0.01, 0.3, 1.0, 2.7, 15.0])
    for beta in (0.05, 1.3, 7.0):
        gamma = me.spectrum(name, 0.7, beta, CUTOFF)
        down, up = ref.rates(name, nu, beta, 0.7, CUTOFF)
        np.testing.assert_allclose(gamma(nu), down, rtol=1e-13)
        np.testing.assert_allclose(gamma(-nu), up, rtol=1e-13)
        np.testing.assert_allclose(gamma(-nu), np.exp(-beta * nu) * gamma(nu), rtol=1e-12)


def test_spectra_at_zero_and_zero_temperature():
    assert me.seed_spectrum(0.7, 2.0)(0.0) == 0.7
    assert me.ohmic_spectrum(0.7, 2.0, CUTOFF)(0.0) == pytest.approx(0.35, rel=1e-15)
    assert me.ohmic_spectrum(0.7, 2.0, CUTOFF)(1e-9) == pytest.approx(0.35, rel=1e-8)
    assert np.isinf(me.bose_spectrum(0.7, 2.0)(0.0))
    nu = np.array([-1.0, -0.1, 0.1, 1.0])
    for name in SPECTRA:
        g = me.spectrum(name, 0.7, np.inf, CUTOFF)(nu)
        assert np.all(g[:2] == 0) and np.all(g[2:] > 0)
    with pytest.raises(ValueError, match="cutoff"):
        me.spectrum("ohmic", 1.0, 1.0)


# ----------------------------------------------------------------------------- models and generators


@pytest.mark.parametrize("model,p", MODEL_POINTS)
def test_model_hamiltonians_match_the_reference(model, p):
    """The builders' ``H`` equal ``tests.reference``'s (written independently with QuTiP)."""
    ref = pytest.importorskip("tests.reference")
    h, baths = build(model, p, "seed")
    if model == "qubit_pair":
        system = ref.qubit_pair("local", **p)
    elif model == "qubit_chain":
        system = ref.qubit_chain(3, "local", **p)
    elif model == "absorption_refrigerator":
        system = ref.absorption_refrigerator("local", **p)
    else:
        system = ref.oscillator_pair(4, "local", **p)
    np.testing.assert_allclose(h, system.h.full(), atol=1e-15)
    assert list(baths) == list(system.baths)
    for name, (x, _) in baths.items():  # X = a + a†, with a the local thermalizer's lowering operator
        a = system.baths[name][0].full()  # √rate · a
        a = a / a.flat[np.flatnonzero(a)[0]]  # a's first non-zero element (row-major) is ⟨0|a|1⟩ = 1
        np.testing.assert_allclose(x, a + a.conj().T, atol=1e-15)


@pytest.mark.parametrize("model,p", MODEL_POINTS)
def test_superoperators_equal_the_operator_formulas(model, p):
    """``redfield_superoperator`` / ``lindblad_superoperator`` on vec ρ equal the documented
    operator formulas on a random ρ."""
    h, baths = build(model, p, "bose")
    energies, vecs = np.linalg.eigh(h)
    rng = np.random.default_rng(0)
    d = h.shape[0]
    rho = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    for x, gamma in baths.values():
        xe = me.coupling_in_eigenbasis(x, vecs)
        lam = me.redfield_lambda(energies, xe, gamma)
        np.testing.assert_allclose(me.unvec(me.redfield_superoperator(xe, lam) @ me.vec(rho)),
                                   me.redfield_apply(xe, lam, rho), atol=1e-12)
        jump = me.ule_jump(energies, xe, gamma)
        np.testing.assert_allclose(me.unvec(me.lindblad_superoperator(jump) @ me.vec(rho)),
                                   me.lindblad_apply(jump, rho), atol=1e-12)
        # the rates of Λ and L: ½γ and √γ of the transition energy each component carries
        m, n = np.nonzero(xe)
        nu = energies[n] - energies[m]
        np.testing.assert_allclose(lam[m, n], 0.5 * gamma(nu) * xe[m, n], rtol=1e-14)
        np.testing.assert_allclose(np.abs(jump[m, n]) ** 2, gamma(nu) * np.abs(xe[m, n]) ** 2, rtol=1e-13)


@pytest.mark.parametrize("method", ["redfield", "ule"])
@pytest.mark.parametrize("spectrum", SPECTRA)
@pytest.mark.parametrize("model,p", MODEL_POINTS)
def test_trace_hermiticity_and_first_law(model, p, spectrum, method):
    """``Tr ρ = 1``, ``ρ = ρ†`` (not imposed by the solve), ``𝓛ρ = 0`` and ``Σ_j J_j = 0``."""
    h, baths = build(model, p, spectrum)
    s = me.steady_state(h, baths, method)
    scale = max(abs(j) for j in s.currents.values())
    assert np.trace(s.rho) == pytest.approx(1.0, abs=1e-13)
    assert np.abs(s.rho - s.rho.conj().T).max() < 1e-12
    assert s.residual < 1e-12
    assert abs(sum(s.currents.values())) < 1e-11 * scale
    assert scale > 1e-4  # a current flows: the test is not vacuous


def test_bose_spectrum_at_a_zero_energy_transition_raises():
    """A coupling between degenerate levels needs γ(0): infinite for a flat bose bath."""
    h = np.diag([0.0, 1.0, 1.0])
    x = np.zeros((3, 3))
    x[0, 1] = x[1, 0] = x[1, 2] = x[2, 1] = 1.0
    with pytest.raises(ValueError, match="not finite"):
        me.redfield(h, {"a": (x, me.bose_spectrum(0.1, 1.0))})
    s = me.redfield(h, {"a": (x, me.seed_spectrum(0.1, 1.0))})  # finite γ(0): fine
    assert np.trace(s.rho) == pytest.approx(1.0)


# ----------------------------------------------------------------------------- QuTiP


def qutip_redfield(qutip, h, baths, transform=lambda g: g):
    """Steady state and currents from ``qutip.bloch_redfield_tensor(…, sec_cutoff=-1)``."""
    hq = qutip.Qobj(h)
    a_ops = [[qutip.Qobj(x), me.qutip_spectrum(transform(g))] for x, g in baths.values()]
    generator = qutip.bloch_redfield_tensor(hq, a_ops=a_ops, sec_cutoff=-1, fock_basis=True)
    rho = qutip.steadystate(generator, method="direct")
    currents = {}
    for name, (x, g) in baths.items():
        term = qutip.brterm(hq, qutip.Qobj(x), me.qutip_spectrum(transform(g)), sec_cutoff=-1, fock_basis=True)
        drho = qutip.vector_to_operator(term @ qutip.operator_to_vector(rho)).full()
        currents[name] = float(np.real(np.trace(h @ drho)))
    return generator, rho.full(), currents


@pytest.mark.parametrize("spectrum", SPECTRA)
@pytest.mark.parametrize("model", ["qubit_pair", "qubit_chain"])
def test_redfield_matches_qutip(model, spectrum):
    """Steady state and currents equal QuTiP's Bloch–Redfield (no secular cut) to 1e-8
    relative on random points: QuTiP's spectrum S(ω) is our γ(ω) (no factor 2, same sign)."""
    qutip = pytest.importorskip("qutip")
    points = pair_points(4, 11) if model == "qubit_pair" else chain_points(4, 12)
    for p in points:
        h, baths = build(model, p, spectrum)
        ours = me.redfield(h, baths)
        _, rho, currents = qutip_redfield(qutip, h, baths)
        assert np.abs(ours.rho - rho).max() <= 1e-8 * np.abs(rho).max()
        scale = max(abs(j) for j in currents.values())
        for name, j in currents.items():
            assert abs(ours.currents[name] - j) <= 1e-8 * scale, (p, name, ours.currents[name], j)


def test_qutip_convention_is_pinned_by_the_whole_generator():
    """Our generator, taken to the product basis, is QuTiP's tensor element by element; with the
    mirrored spectrum γ(−ω) or with 2γ it is not (the mapping is S = γ, nothing else)."""
    qutip = pytest.importorskip("qutip")
    p = pair_points(1, 21)[0]
    h, baths = me.qubit_pair(p, "ohmic")
    energies, vecs, ds = me.dissipators(h, baths, "redfield")
    d = h.shape[0]
    idx = np.arange(d * d)
    lv = np.diag(-1j * (energies[idx % d] - energies[idx // d])) + sum(x.toarray() for x in ds.values())
    u = np.kron(vecs.conj(), vecs)  # vec(V ρ V†) = (V* ⊗ V) vec ρ
    ours = u @ lv @ u.conj().T
    generator, _, _ = qutip_redfield(qutip, h, baths)
    np.testing.assert_allclose(ours, generator.full(), atol=1e-13)
    for transform in (lambda g: (lambda nu: g(-np.asarray(nu))), lambda g: (lambda nu: 2 * g(nu))):
        other, _, _ = qutip_redfield(qutip, h, baths, transform)
        assert np.abs(ours - other.full()).max() > 1e-2


# ----------------------------------------------------------------------------- Davies


@pytest.mark.parametrize("spectrum", SPECTRA)
@pytest.mark.parametrize("model,p", MODEL_POINTS)
def test_secular_redfield_is_davies(model, p, spectrum):
    """Redfield restricted to its secular elements (|ω_ab − ω_cd| ≤ 1e-8) is the global (Davies)
    reference of ``tests.reference``: ρ and every current to round-off."""
    ref = pytest.importorskip("tests.reference")
    h, baths = build(model, p, spectrum)
    ours = me.redfield(h, baths, secular_tol=ref.BOHR_TOLERANCE)
    if model == "qubit_pair":
        out = ref.solve(ref.qubit_pair("global", **p, spectrum=spectrum))
    elif model == "qubit_chain":
        out = ref.solve(ref.qubit_chain(3, "global", **p, spectrum=spectrum))
    elif model == "absorption_refrigerator":
        out = ref.solve(ref.absorption_refrigerator("global", **p, spectrum=spectrum))
    else:
        out = ref.solve(ref.oscillator_pair(4, "global", **p, spectrum=spectrum))
    np.testing.assert_allclose(ours.rho, out["rho"], atol=1e-12)
    scale = max(abs(j) for j in ours.currents.values())
    for name, j in ours.currents.items():
        assert abs(j - out[f"J_{name}"]) < 1e-11 * scale
    # and the non-secular terms matter at this point (the restriction is not a no-op)
    full = me.redfield(h, baths)
    assert np.abs(full.rho - ours.rho).max() > 1e-5


# ----------------------------------------------------------------------------- positivity


@pytest.mark.parametrize("point", [me.REDFIELD_NOT_POSITIVE_BOSE, me.REDFIELD_NOT_POSITIVE_SEED,
                                   me.REDFIELD_NOT_POSITIVE_CHAIN], ids=["pair-bose", "pair-seed", "chain-bose"])
def test_ule_is_positive_where_redfield_is_not(point):
    h, baths = build(point["model"], point["params"], point["spectrum"])
    redfield, ule = me.redfield(h, baths), me.ule(h, baths)
    assert min_eig(redfield.rho) < -1e-3
    assert min_eig(ule.rho) > 0.0
    weak = {k: v / 100 if k.startswith("gamma") else v for k, v in point["params"].items()}
    assert min_eig(me.redfield(*build(point["model"], weak, point["spectrum"])).rho) > 0.0


def test_recorded_redfield_violations_of_the_second_law():
    """At the recorded pair points Redfield's heat runs from cold to hot (σ < 0)."""
    for point in (me.REDFIELD_NOT_POSITIVE_BOSE, me.REDFIELD_NOT_POSITIVE_SEED):
        p = point["params"]
        j = me.redfield(*me.qubit_pair(p, point["spectrum"])).currents
        assert -(p["beta_a"] * j["a"] + p["beta_b"] * j["b"]) < 0


@pytest.mark.parametrize("spectrum", SPECTRA)
def test_ule_is_positive_on_random_points(spectrum):
    """The ULE is a Lindblad equation: its state is positive everywhere, here at strong coupling
    too (rates up to 3ω)."""
    rng = np.random.default_rng(5)
    for p in pair_points(10, 31):
        p = dict(p, gamma_a=3 * rng.random(), gamma_b=3 * rng.random())
        assert min_eig(me.ule(*me.qubit_pair(p, spectrum)).rho) > -1e-13


def test_ule_and_redfield_agree_at_weak_coupling():
    """Both are second order in the coupling: their currents agree to O(γ) relative."""
    p = pair_points(1, 41)[0]
    gaps = []
    for scale in (1e-2, 1e-3):
        q = dict(p, gamma_a=p["gamma_a"] * scale, gamma_b=p["gamma_b"] * scale, epsilon=0.3)
        h, baths = me.qubit_pair(q, "bose")
        r, u = me.redfield(h, baths).currents["a"], me.ule(h, baths).currents["a"]
        gaps.append(abs(r / u - 1))
    assert gaps[1] < 2e-3 and gaps[1] < 0.2 * gaps[0]


# ----------------------------------------------------------------------------- Landauer


def test_landauer_vanishes_without_coupling_and_is_antisymmetric():
    args = dict(omega_a=1.0, omega_b=0.9, gamma_a=0.05, gamma_b=0.08)
    assert me.landauer_current(epsilon=0.0, beta_a=0.7, beta_b=2.0, **args) == 0.0
    j = me.landauer_current(epsilon=0.03, beta_a=0.7, beta_b=2.0, **args)
    assert j > 0  # T_a > T_b: heat out of bath a into the system
    assert me.landauer_current(epsilon=0.03, beta_a=2.0, beta_b=0.7, **args) == pytest.approx(-j, rel=1e-9)
    assert me.landauer_current(epsilon=0.03, beta_a=1.1, beta_b=1.1, **args) == 0.0
    # ∝ ε² at weak coupling
    small = [me.landauer_current(epsilon=e, beta_a=0.7, beta_b=2.0, **args) for e in (1e-4, 2e-4)]
    assert small[1] / small[0] == pytest.approx(4.0, rel=1e-4)  # + O(ε²/Δ²)
    # the integration range (ω > 0 or the whole line) matters only at O(γ) here
    assert me.landauer_current(epsilon=0.03, beta_a=0.7, beta_b=2.0, lower=-np.inf, **args) == pytest.approx(j, rel=3e-3)


def test_landauer_resonant_closed_form():
    """At resonance and γ ≪ ω the exact current is the local closed form of ``docs/design.md``."""
    ref = pytest.importorskip("tests.reference")
    for eps in (0.001, 0.02, 0.1):
        exact = me.landauer_current(1.0, 1.0, eps, 0.02, 0.03, 1.0, 2.0)
        assert exact == pytest.approx(ref.oscillator_resonant_current(1.0, 1.0, 2.0, 0.02, 0.03, eps), rel=1e-3)


def test_landauer_against_local_and_global_references():
    """Weak inter-mode coupling ε ≪ γ ≪ ω: the local master equation agrees with the exact current
    (within 1 %; measured −0.07 % at cutoff 6), the global one does not (×38: a finite current as
    ε → 0). γ ≪ ε ≪ ω: the global one agrees too (+0.06 %). (Hofer et al.'s picture: the global
    approach needs γ ≪ ε, not ε ≪ γ.)"""
    ref = pytest.importorskip("tests.reference")
    base = dict(omega_a=1.0, omega_b=1.0, beta_a=2.0, beta_b=4.0)
    for gamma_a, gamma_b, eps, global_agrees in ((0.02, 0.03, 0.002, False), (0.002, 0.003, 0.05, True)):
        q = dict(base, gamma_a=gamma_a, gamma_b=gamma_b, epsilon=eps)
        exact = me.landauer_current(1.0, 1.0, eps, gamma_a, gamma_b, 2.0, 4.0)
        local = ref.solve(ref.oscillator_pair(6, "local", **q, spectrum="bose"))["J_a"]
        glob = ref.solve(ref.oscillator_pair(6, "global", **q, spectrum="bose"))["J_a"]
        assert local == pytest.approx(exact, rel=1e-2)
        if global_agrees:
            assert glob == pytest.approx(exact, rel=1e-2)
        else:
            assert glob > 5 * exact


@pytest.mark.parametrize("epsilon", me.OSCILLATOR_LANDAUER["epsilons"])
def test_redfield_oscillators_within_two_percent_of_landauer(epsilon):
    """Cutoff 8, flat bose baths: Redfield's current is within 2 % of the exact one from the local
    (ε = γ_a/10) to the global regime (ε ≈ 7γ_a) at ``me.OSCILLATOR_LANDAUER``'s parameters."""
    case = me.OSCILLATOR_LANDAUER
    p = dict(case["params"], epsilon=epsilon)
    s = me.redfield(*me.oscillator_pair(p, case["cutoff"], "bose"))
    exact = me.landauer_current(p["omega_a"], p["omega_b"], epsilon, p["gamma_a"], p["gamma_b"],
                                p["beta_a"], p["beta_b"])
    assert s.currents["a"] == pytest.approx(exact, rel=2e-2)
    assert s.currents["b"] == pytest.approx(-exact, rel=2e-2)
