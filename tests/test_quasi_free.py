"""The quasi-free reference (``tests/quasi_free.py``) against a dense Lindblad steady state
written here in the full spin space, against jaxtherm's public ``solve``, against the design
notes' closed form, and against the laws it must obey.

The dense reference builds the spin model itself — ``σ_k^±`` on ``2ⁿ`` states, no Jordan–Wigner
strings — so agreeing with it checks the mapping and the harmlessness of the last site's string,
not only the Lyapunov algebra.
"""

import numpy as np
import pytest

import jaxtherm
from tests import quasi_free as qf

SIGMA_MINUS = np.array([[0, 1], [0, 0]], dtype=complex)  # |0⟩⟨1|, basis (n = 0, n = 1)


# ----------------------------------------------------------------------------- dense spin reference


def site_operator(op, n, k):
    """``op`` on site k of n, site 0 most significant (jaxtherm's basis order)."""
    out = np.ones((1, 1), dtype=complex)
    for j in range(n):
        out = np.kron(out, op if j == k else np.eye(2))
    return out


def spin_chain(n, omega, g):
    """``σ⁻_k`` and ``H = Σ ω_k n_k + Σ g_k (σ_k⁺σ_{k+1}⁻ + h.c.)`` in the spin space."""
    s = [site_operator(SIGMA_MINUS, n, k) for k in range(n)]
    omega = np.broadcast_to(omega, (n,))
    g = np.broadcast_to(g, (n - 1,))
    h = sum(omega[k] * s[k].conj().T @ s[k] for k in range(n))
    h = h + sum(g[k] * (s[k].conj().T @ s[k + 1] + s[k + 1].conj().T @ s[k]) for k in range(n - 1))
    return s, h


def jordan_wigner(n):
    """``c_k = Π_{j<k}(1 − 2n_j) σ_k⁻``."""
    z = np.diag([1.0, -1.0]).astype(complex)  # 1 − 2n
    c = []
    for k in range(n):
        out = np.ones((1, 1), dtype=complex)
        for j in range(n):
            out = np.kron(out, z if j < k else SIGMA_MINUS if j == k else np.eye(2))
        c.append(out)
    return c


def dissipate(jumps, rho):
    """``Σ r (LρL† − ½{L†L, ρ})`` over ``jumps = [(r, L), …]``."""
    out = np.zeros_like(rho)
    for r, op in jumps:
        ldl = op.conj().T @ op
        out += r * (op @ rho @ op.conj().T - 0.5 * (ldl @ rho + rho @ ldl))
    return out


def dense_steady_state(h, jumps):
    """Null vector of the vectorised Liouvillian (column stacking), one row replaced by ``Tr ρ = 1``."""
    d = h.shape[0]
    one = np.eye(d)
    liou = -1j * (np.kron(one, h) - np.kron(h.T, one))
    for r, op in jumps:
        ldl = op.conj().T @ op
        liou += r * (np.kron(op.conj(), op) - 0.5 * np.kron(one, ldl) - 0.5 * np.kron(ldl.T, one))
    liou[0] = one.reshape(-1, order="F")
    rhs = np.zeros(d * d, dtype=complex)
    rhs[0] = 1.0
    rho = np.linalg.solve(liou, rhs).reshape((d, d), order="F")
    return 0.5 * (rho + rho.conj().T)


def dense_chain(n, *, omega, g, beta_h, beta_c, gamma_h, gamma_c, spectrum="seed"):
    """G, populations and currents of the spin chain from its dense steady state."""
    s, h = spin_chain(n, omega, g)
    w = np.broadcast_to(omega, (n,))
    baths = {}
    for bath, k, beta, gamma in (("h", 0, beta_h, gamma_h), ("c", n - 1, beta_c, gamma_c)):
        down, up = qf.rates(spectrum, w[k], beta, gamma)
        baths[bath] = [(down, s[k]), (up, s[k].conj().T)]
    rho = dense_steady_state(h, baths["h"] + baths["c"])
    c = jordan_wigner(n)
    G = np.array([[np.trace(rho @ c[i].conj().T @ c[j]) for j in range(n)] for i in range(n)])
    J = {b: np.trace(h @ dissipate(jumps, rho)).real for b, jumps in baths.items()}
    pops = np.array([np.trace(rho @ s[k].conj().T @ s[k]).real for k in range(n)])
    sz = np.array([np.trace(rho @ site_operator(np.diag([-1.0, 1.0]), n, k)).real for k in range(n)])
    return {"G": G, "J_h": J["h"], "J_c": J["c"], "populations": pops, "sigma_z": sz, "rho": rho}


def random_chain(rng, n, uniform=False):
    """Random chain parameters; per-site ω and per-bond g unless ``uniform``."""
    p = {
        "omega": rng.uniform(0.5, 2.0) if uniform else rng.uniform(0.5, 2.0, n),
        "g": rng.uniform(0.1, 1.0) * rng.choice([-1, 1]) if uniform else rng.uniform(-1.0, 1.0, n - 1),
        "beta_h": rng.uniform(0.1, 1.0),
        "beta_c": rng.uniform(1.0, 4.0),
        "gamma_h": rng.uniform(0.1, 2.0),
        "gamma_c": rng.uniform(0.1, 2.0),
    }
    if not uniform:
        p["g"] = np.where(np.abs(p["g"]) < 0.1, 0.1, p["g"])  # no (nearly) cut bond
    return p


def assert_rel(actual, expected, rtol, what=""):
    """``|actual − expected| ≤ rtol · max|expected|`` (a relative error on the scale of the quantity)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    scale = np.max(np.abs(expected))
    err = np.max(np.abs(actual - expected))
    assert err <= rtol * scale, f"{what}: error {err:.3g} > {rtol:g} × {scale:.3g}"


# ----------------------------------------------------------------------------- against the dense spin chain


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("spectrum", ["seed", "bose"])
@pytest.mark.parametrize("uniform", [False, True], ids=["random-sites", "uniform"])
def test_chain_matches_dense_lindblad(n, spectrum, uniform):
    rng = np.random.default_rng(1000 * n + 10 * uniform + len(spectrum))
    for _ in range(3):
        p = random_chain(rng, n, uniform)
        ref = qf.xx_chain(n, spectrum=spectrum, **p)
        dense = dense_chain(n, spectrum=spectrum, **p)
        assert_rel(ref["G"], dense["G"], 1e-10, "G")
        assert_rel(ref["populations"], dense["populations"], 1e-10, "populations")
        assert_rel(ref["sigma_z"], dense["sigma_z"], 1e-10, "sigma_z")
        for key in ("J_h", "J_c"):
            assert abs(dense[key]) > 1e-4  # a real current, so that the relative test means something
            assert_rel(ref[key], dense[key], 1e-10, key)
        # nearest-neighbour spin coherences are the fermions' G (the strings cancel)
        s, _ = spin_chain(n, p["omega"], p["g"])
        for k in range(n - 1):
            spin = np.trace(dense["rho"] @ s[k].conj().T @ s[k + 1])
            assert abs(spin - ref["G"][k, k + 1]) <= 1e-10 * np.abs(ref["G"]).max()


def test_the_last_sites_string_acts_only_on_odd_operators():
    """``σ_{n−1}⁻ = Q c_{n−1}`` (``Q`` the parity): the dissipators with and without the string
    differ on parity-odd operators, agree on even ones, and give the same steady state."""
    n = 3
    p = random_chain(np.random.default_rng(7), n)
    s, h = spin_chain(n, p["omega"], p["g"])
    c = jordan_wigner(n)
    parity = np.diag([(-1) ** bin(i).count("1") for i in range(2**n)]).astype(complex)
    assert np.allclose(s[-1], parity @ c[-1]) and not np.allclose(s[-1], c[-1])
    down_h, up_h = qf.rates("seed", p["omega"][0], p["beta_h"], p["gamma_h"])
    down_c, up_c = qf.rates("seed", p["omega"][-1], p["beta_c"], p["gamma_c"])
    head = [(down_h, s[0]), (up_h, s[0].conj().T)]
    spin = head + [(down_c, s[-1]), (up_c, s[-1].conj().T)]
    fermion = head + [(down_c, c[-1]), (up_c, c[-1].conj().T)]
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2**n, 2**n)) + 1j * rng.normal(size=(2**n, 2**n))
    even, odd = 0.5 * (x + parity @ x @ parity), 0.5 * (x - parity @ x @ parity)
    assert np.allclose(dissipate(spin, even), dissipate(fermion, even), rtol=0, atol=1e-13)
    assert not np.allclose(dissipate(spin, odd), dissipate(fermion, odd), rtol=0, atol=1e-3)
    rho_spin, rho_fermion = dense_steady_state(h, spin), dense_steady_state(h, fermion)
    assert np.allclose(rho_spin, parity @ rho_spin @ parity, rtol=0, atol=1e-14)  # the steady state is even
    assert np.allclose(rho_spin, rho_fermion, rtol=0, atol=1e-13)


def test_lyapunov_and_direct_solves_agree():
    rng = np.random.default_rng(3)
    for n in (2, 5, 9):
        p = random_chain(rng, n)
        a = qf.xx_chain(n, method="lyapunov", **p)
        b = qf.xx_chain(n, method="direct", **p)
        assert_rel(a["G"], b["G"], 1e-11, "G")
        assert_rel([a["J_h"], a["J_c"]], [b["J_h"], b["J_c"]], 1e-10, "J")
    o = dict(omega_a=1.0, omega_b=1.4, beta_a=0.7, beta_b=2.0, gamma_a=0.3, gamma_b=0.8, epsilon=0.5)
    assert_rel(qf.oscillator_pair(**o)["G"], qf.oscillator_pair(method="direct", **o)["G"], 1e-11, "G")


# ----------------------------------------------------------------------------- against jaxtherm


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_chain_matches_jaxtherm(n):
    rng = np.random.default_rng(50 + n)
    points = [random_chain(rng, n, uniform=True) for _ in range(4)]
    # one hot-cold pair swapped, so that both current directions are checked
    points[1]["beta_h"], points[1]["beta_c"] = points[1]["beta_c"], points[1]["beta_h"]
    params = {k: np.array([p[k] for p in points]) for k in points[0]}
    model = jaxtherm.models.get("qubit_chain", n=n, coupling="local")
    out = {k: np.asarray(v) for k, v in jaxtherm.solve(model, **params).items()}
    assert np.all(out["status"] == 0)
    c = jordan_wigner(n)
    for i, p in enumerate(points):
        ref = qf.xx_chain(n, **p)
        for key in ("J_h", "J_c", "sigma", "n_h", "n_c"):
            assert_rel(out[key][i], ref[key], 1e-8, f"n={n} point {i} {key}")
        assert abs(out["power"][i]) <= 1e-12
        rho = out["rho"][i]
        G = np.array([[np.trace(rho @ c[a].conj().T @ c[b]) for b in range(n)] for a in range(n)])
        assert_rel(G, ref["G"], 1e-8, f"n={n} point {i} G")


def test_oscillator_pair_converges_to_the_gaussian_limit():
    """Truncation error of jaxtherm's oscillator pair (detuned, bose baths, n̄ ≈ 0.13 and 0.06):
    each step of the cutoff divides it by > 10 (geometric, ratio ≈ (n̄/(1 + n̄))^Δcutoff)."""
    p = dict(omega_a=1.0, omega_b=1.3, beta_a=2.0, beta_b=3.5, gamma_a=0.5, gamma_b=0.3, epsilon=0.25)
    ref = qf.oscillator_pair(spectrum="bose", **p)
    errors = []
    for cutoff in (2, 4, 6, 8):
        model = jaxtherm.models.get("oscillator_pair", cutoff=cutoff, coupling="local", spectrum="bose")
        # six copies of the point with ρ: the program test_models.oscillator_series compiles too
        # (shared through the compilation cache)
        out = {k: np.asarray(v)[0] for k, v in jaxtherm.solve(model, **{k: np.full(6, v) for k, v in p.items()}).items()}
        assert out["status"] == 0
        errors.append(max(abs(out[k] - ref[k]) / abs(ref[k]) for k in ("J_a", "J_b", "n_a", "n_b", "sigma")))
    assert all(b < a / 10 for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 1e-5, errors


def test_oscillator_pair_matches_the_resonant_closed_form():
    """design.md §2: ``J_a = 4ε²γ_aγ_b ω (n̄_a − n̄_b)/((γ_a + γ_b)(4ε² + γ_aγ_b))`` (bose, ω_a = ω_b)."""
    rng = np.random.default_rng(11)
    for _ in range(5):
        w, ba, bb, ga, gb, e = rng.uniform(0.5, 2.0), *rng.uniform(0.2, 3.0, 2), *rng.uniform(0.05, 2.0, 3)
        ref = qf.oscillator_pair(omega_a=w, omega_b=w, beta_a=ba, beta_b=bb, gamma_a=ga, gamma_b=gb, epsilon=e,
                                 spectrum="bose")
        na, nb = 1 / np.expm1(ba * w), 1 / np.expm1(bb * w)
        closed = 4 * e**2 * ga * gb * w * (na - nb) / ((ga + gb) * (4 * e**2 + ga * gb))
        assert_rel(ref["J_a"], closed, 1e-12, "J_a")


# ----------------------------------------------------------------------------- laws


@pytest.mark.parametrize("n", [2, 6, 20])
def test_first_and_second_law_of_the_uniform_chain(n):
    rng = np.random.default_rng(n)
    for spectrum in qf.SPECTRA:
        p = random_chain(rng, n, uniform=True)
        ref = qf.xx_chain(n, spectrum=spectrum, omega_cutoff=3.0, **p)
        assert abs(ref["J_h"] + ref["J_c"]) <= 1e-10 * abs(ref["J_h"])
        assert ref["J_h"] > 0 and ref["sigma"] > 0  # β_h < β_c: heat flows from h to c
        eig = np.linalg.eigvalsh(ref["G"])
        assert np.all(eig > -1e-13) and np.all(eig < 1 + 1e-13)  # 0 ≤ G ≤ 1 (Pauli)
    o = dict(omega_a=1.0, omega_b=1.7, beta_a=0.4, beta_b=2.0, gamma_a=0.6, gamma_b=0.2, epsilon=0.3)
    ref = qf.oscillator_pair(**o)
    assert abs(ref["J_a"] + ref["J_b"]) <= 1e-12 * abs(ref["J_a"])
    assert np.all(np.linalg.eigvalsh(ref["G"]) > 0)


@pytest.mark.parametrize("n", [2, 4, 20])
def test_equal_temperatures_give_no_current_and_a_thermal_G(n):
    """Uniform chain, β_h = β_c: the steady state is ``e^{−βωN}/Z`` (it commutes with H and each
    local bath annihilates it), so ``G = f·1`` with ``f = k_↑/(k_↓ + k_↑)`` and no current."""
    rng = np.random.default_rng(100 + n)
    for spectrum in qf.SPECTRA:
        p = random_chain(rng, n, uniform=True)
        p["beta_c"] = p["beta_h"]
        ref = qf.xx_chain(n, spectrum=spectrum, omega_cutoff=3.0, **p)
        f = 1 / (np.exp(p["beta_h"] * p["omega"]) + 1)
        assert_rel(ref["G"], f * np.eye(n), 1e-12, "G")
        assert abs(ref["J_h"]) < 1e-13 and abs(ref["J_c"]) < 1e-13
    if n <= 4:  # and the dense spin chain agrees that it is the product Gibbs state
        dense = dense_chain(n, **p)
        _, h0 = spin_chain(n, p["omega"], 0.0)
        gibbs = np.diag(np.exp(-p["beta_h"] * np.diag(h0).real))
        assert_rel(dense["rho"], gibbs / np.trace(gibbs), 1e-10, "rho")
    w = 1.3
    for spectrum in qf.SPECTRA:
        ref = qf.oscillator_pair(omega_a=w, omega_b=w, beta_a=0.8, beta_b=0.8, gamma_a=0.4, gamma_b=1.1, epsilon=0.6,
                                 spectrum=spectrum, omega_cutoff=3.0)
        assert_rel(ref["G"], np.eye(2) / np.expm1(0.8 * w), 1e-12, "G")
        assert abs(ref["J_a"]) < 1e-13 and abs(ref["J_b"]) < 1e-13


def test_detuned_local_oscillators_carry_a_current_at_equal_temperatures():
    """The local model's known inconsistency (design.md §2): detuned, at equal β heat still flows
    between the baths (``σ = −β(J_a + J_b) = 0`` by the first law)."""
    ref = qf.oscillator_pair(omega_a=1.0, omega_b=1.5, beta_a=1.0, beta_b=1.0, gamma_a=0.5, gamma_b=0.5, epsilon=0.4)
    assert abs(ref["J_a"]) > 1e-3
    assert abs(ref["sigma"]) < 1e-13


def test_unstable_drift_is_refused():
    with pytest.raises(ValueError, match="not stable"):
        # infinite temperatures: gain = loss on both modes, nothing damps them
        qf.oscillator_pair(omega_a=1.0, omega_b=1.0, beta_a=0.0, beta_b=0.0, gamma_a=0.5, gamma_b=0.5, epsilon=0.4)
    with pytest.raises(ValueError, match="not stable"):  # a cut chain: sites 0 and 1 are undamped
        qf.xx_chain(3, omega=1.0, g=[1.0, 0.0], beta_h=1.0, beta_c=1.0, gamma_h=0.0, gamma_c=1.0)


# ----------------------------------------------------------------------------- scale


@pytest.mark.parametrize("n", [8, 20])
def test_large_chains_solve(n):
    """Far beyond dense reach (2^20 states): an n × n Lyapunov solve, milliseconds."""
    ref = qf.xx_chain(n, omega=1.0, g=0.4, beta_h=0.3, beta_c=2.0, gamma_h=0.8, gamma_c=0.5)
    assert ref["G"].shape == (n, n) and np.all(np.isfinite(ref["G"]))
    assert ref["J_h"] > 0
    # the uniform XX chain is ballistic: the current does not depend on its length
    assert_rel(ref["J_h"], qf.xx_chain(2, omega=1.0, g=0.4, beta_h=0.3, beta_c=2.0, gamma_h=0.8, gamma_c=0.5)["J_h"],
               1e-10, "J_h(n) = J_h(2)")
