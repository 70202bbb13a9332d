"""The built-in models beyond the pair (``docs/design.md`` §2.6 "Beyond the pair") against the independent
QuTiP reference of tests/reference.py, and their physics.

Models: ``jaxtherm.models.get(name, **options)``; ``jaxtherm.solve(model, **params)``.

Tolerances. ρ: 1e-10 absolute. Bath currents: 1e-9 relative, with an absolute floor of
``1e-14 · E_max · γ_max`` (the natural scale of ``Tr(H D_x ρ)``): the reference's own currents
agree with a second, dense and refined solve to ≤ 4e-16 E_max γ_max on random refrigerator
points (and the first law holds there to 5e-16 E_max γ_max), so the floor is 25× the reference's
noise and acts only on currents that are themselves within ~1e-5 of zero in those units.

The tests named ``test_reference_*`` check the reference itself (closed forms, a second solver,
Gibbs states, the cooling window); they need QuTiP but not the new API.
"""

import numpy as np
import pytest

import jaxtherm
from tests.analytic import CLOSED_FORMS
from tests.helpers import random_points

qutip = pytest.importorskip("qutip")
from tests import reference as R  # noqa: E402  (needs qutip)

CURRENT_RTOL = 1e-9
RHO_ATOL = 1e-10
FLOOR = 1e-14  # × E_max γ_max, see the module docstring

BATHS = {"qubit_chain": ("h", "c"), "absorption_refrigerator": ("c", "r", "h"), "oscillator_pair": ("a", "b")}
POPULATIONS = {
    "qubit_chain": ("n_h", "n_c"),
    "absorption_refrigerator": ("n_c", "n_r", "n_h"),
    "oscillator_pair": ("n_a", "n_b"),
}


_MODELS = {}


def model(name, **options):
    """``jaxtherm.models.get`` once per (name, options), the spectrum always explicit: a solve
    compiles once per model (two ``get`` calls with equal options currently give unequal models,
    and a first solve compiles for several seconds)."""
    options.setdefault("spectrum", "seed")
    key = (name, tuple(sorted(options.items())))
    if key not in _MODELS:
        _MODELS[key] = jaxtherm.models.get(name, **options)
    return _MODELS[key]


def jt(name, params, **options):
    """jaxtherm's results as NumPy arrays; every point must be ok (status 0)."""
    out = {k: np.asarray(v) for k, v in jaxtherm.solve(model(name, **options), **params).items()}
    assert np.all(out["status"] == 0), (name, options, out["status"])
    return out


def reference_system(name, q, **options):
    q = dict(q)
    spectrum = options.get("spectrum", "seed")
    coupling = options.get("coupling", "local")
    if name == "qubit_chain":
        return R.qubit_chain(options["n"], coupling, spectrum=spectrum, **q)
    if name == "absorption_refrigerator":
        return R.absorption_refrigerator(coupling, spectrum=spectrum, **q)
    return R.oscillator_pair(options["cutoff"], coupling, spectrum=spectrum, **q)


def energy_rate_scale(name, q):
    """E_max γ_max of a point: the natural scale of the currents."""
    gammas = [v for k, v in q.items() if k.startswith("gamma")]
    if name == "qubit_chain":
        e = q["omega"] + 2 * q["g"]
    elif name == "absorption_refrigerator":
        e = q["E_c"] + q["E_h"] + q["g"]
    else:
        e = max(q["omega_a"], q["omega_b"]) + q["epsilon"]  # per quantum; n̄ ≤ 0.8 on our points
    return e * max(gammas)


def assert_matches_reference(name, p, **options):
    """jaxtherm == QuTiP on every point of ``p``: ρ (1e-10 abs), currents (1e-9 rel + floor),
    σ and cop (derived; same tolerance), populations (1e-10 abs), power."""
    out = jt(name, p, **options)
    baths = BATHS[name]
    coupling = options.get("coupling", "local")
    n = len(next(iter(p.values())))
    for i in range(n):
        q = R.point(p, i)
        system = reference_system(name, q, **options)
        if coupling == "global":  # generic point: no Bohr-frequency grouping tolerance matters
            assert system.min_bohr_gap() > 1e-4, (name, options, q)
        ref = R.solve(system)
        where = f"{name} {options} point {i}: {q}"
        np.testing.assert_allclose(out["rho"][i], ref["rho"], atol=RHO_ATOL, rtol=0, err_msg=where)
        floor = FLOOR * energy_rate_scale(name, q)
        for b in baths:
            assert out[f"J_{b}"][i] == pytest.approx(ref[f"J_{b}"], rel=CURRENT_RTOL, abs=floor), (b, where)
        beta_scale = sum(abs(q[f"beta_{b}"]) for b in baths)
        assert out["sigma"][i] == pytest.approx(ref["sigma"], rel=CURRENT_RTOL, abs=floor * beta_scale), where
        if system.channels:
            assert out["power"][i] == pytest.approx(ref["power"], rel=CURRENT_RTOL, abs=floor), where
        else:  # no non-thermal channel: no power
            assert abs(out["power"][i]) <= floor, where
        for pop in POPULATIONS[name]:
            assert out[pop][i] == pytest.approx(ref[pop], abs=RHO_ATOL), (pop, where)
        if name == "absorption_refrigerator":
            ref_cop = ref["J_c"] / ref["J_h"]
            assert out["cop"][i] == pytest.approx(ref_cop, rel=3 * CURRENT_RTOL, abs=floor / abs(ref["J_h"])), where


def with_cutoff(p, seed):
    """Add the ohmic spectrum's ω_c ∈ [1, 4]."""
    p = dict(p)
    p["omega_cutoff"] = np.random.default_rng(seed).uniform(1.0, 4.0, len(next(iter(p.values()))))
    return p


# ----------------------------------------------------------------------------- 1. vs QuTiP


@pytest.mark.parametrize("coupling", ["local", "global"])
@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_chain_matches_qutip(n, coupling):
    """Chains n = 2…5 (6 points for n ≤ 3, 4 beyond), spectrum seed; ranges in
    reference.chain_points (ω ∈ [0.8, 2], g ∈ [0.1, 0.35], |β_h − β_c| ≥ 0.3)."""
    p = R.chain_points(6 if n <= 3 else 4, seed=10 + n, n_sites=n)
    assert_matches_reference("qubit_chain", p, n=n, coupling=coupling)


# The bose and ohmic spectra: each family with one local and one Davies (global) point set; the
# four (spectrum, thermalizer) pairs are each covered by two families here, and test_spectra.py
# covers them all on single modes (each new model costs a compile of several seconds).
OTHER_SPECTRA = {
    "qubit_chain": [("bose", "local"), ("ohmic", "global")],
    "absorption_refrigerator": [("bose", "global"), ("ohmic", "local")],
    "oscillator_pair": [("bose", "global"), ("ohmic", "local")],  # + local bose at cutoffs 4 and 6
}


@pytest.mark.parametrize("spectrum, coupling", OTHER_SPECTRA["qubit_chain"])
def test_chain_spectra_match_qutip(spectrum, coupling):
    p = R.chain_points(4, seed=31, n_sites=3)
    if spectrum == "ohmic":
        p = with_cutoff(p, 32)
    assert_matches_reference("qubit_chain", p, n=3, coupling=coupling, spectrum=spectrum)


@pytest.mark.parametrize("spectrum, coupling", [("seed", "local"), ("seed", "global"), *OTHER_SPECTRA["absorption_refrigerator"]])
def test_refrigerator_matches_qutip(spectrum, coupling):
    """6 points; ranges in reference.refrigerator_points (E_c ∈ [0.5, 1.5], E_h ∈ [1.5, 4],
    g ∈ [0.03, 0.3], cold/room/hot β ∈ [0.5, 3]/[0.3, 1.5]/[0.02, 0.5]): both sides of the window."""
    p = R.refrigerator_points(6, seed={"seed": 41, "bose": 42, "ohmic": 43}[spectrum])
    if spectrum == "ohmic":
        p = with_cutoff(p, 44)
    assert_matches_reference("absorption_refrigerator", p, coupling=coupling, spectrum=spectrum)


@pytest.mark.parametrize(
    "coupling, cutoff, spectrum",
    [
        ("local", 3, "seed"),
        ("local", 4, "bose"),  # bose: the same models as the convergence tests below (one compile)
        ("local", 6, "bose"),
        ("global", 3, "seed"),
        ("global", 4, "seed"),
        ("incoherent", 3, "seed"),
        *((c, 3, s) for s, c in OTHER_SPECTRA["oscillator_pair"]),
    ],
)
def test_oscillator_pair_matches_qutip(coupling, cutoff, spectrum):
    """6 points; ranges in reference.oscillator_points (ω ∈ [0.7, 2], ε ∈ [0.05, 0.4],
    β ∈ [0.8, 3], γ ∈ [0.05, 1]); the truncated models are compared at equal cutoff."""
    p = R.oscillator_points(6, seed=50 + cutoff + 7 * R.SPECTRA.index(spectrum))
    if spectrum == "ohmic":
        p = with_cutoff(p, 59)
    assert_matches_reference("oscillator_pair", p, cutoff=cutoff, coupling=coupling, spectrum=spectrum)


# ----------------------------------------------------------------------------- 2. chain(2) == pair


def _pair_points_for_chain(n=12, seed=61):
    """qubit_pair random points (helpers.random_points, a third with ε > ω) made resonant."""
    p = random_points(n, seed)
    p["omega_b"] = p["omega_a"].copy()
    return p


@pytest.mark.parametrize("spectrum, coupling", [("seed", "local"), ("seed", "global"), ("bose", "global")])
def test_chain_of_two_is_the_pair(spectrum, coupling):
    """qubit_chain(n=2) == qubit_pair(ω_a = ω_b = ω, ε = g, h → a, c → b): ρ 1e-12 abs, currents
    1e-12 rel."""
    p = _pair_points_for_chain()
    pair = jt("qubit_pair", p, coupling=coupling, spectrum=spectrum)
    chain = jt(
        "qubit_chain",
        dict(
            omega=p["omega_a"], g=p["epsilon"], beta_h=p["beta_a"], beta_c=p["beta_b"], gamma_h=p["gamma_a"], gamma_c=p["gamma_b"]
        ),
        n=2,
        coupling=coupling,
        spectrum=spectrum,
    )
    np.testing.assert_allclose(chain["rho"], pair["rho"], atol=1e-12, rtol=0)
    np.testing.assert_allclose(chain["J_h"], pair["J_a"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(chain["J_c"], pair["J_b"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(chain["n_h"], pair["n_a"], atol=1e-12, rtol=0)
    np.testing.assert_allclose(chain["n_c"], pair["n_b"], atol=1e-12, rtol=0)


@pytest.mark.parametrize("coupling", ["local", "global"])
def test_reference_chain_of_two_is_the_pair_closed_form(coupling):
    """The reference chain at n = 2 equals ``docs/design.md`` §2.5's closed forms (1e-10 rel; measured
    ≤ 4e-12), and the reference pair (detuned) too, for all three couplings."""
    p = _pair_points_for_chain(12, seed=5)
    cf = CLOSED_FORMS[coupling](**p)
    for i in range(12):
        q = R.point(p, i)
        ref = R.solve(
            R.qubit_chain(2, coupling, q["omega_a"], q["epsilon"], q["beta_a"], q["beta_b"], q["gamma_a"], q["gamma_b"])
        )
        assert ref["J_h"] == pytest.approx(float(cf["J_a"][i]), rel=1e-10)
        assert ref["J_c"] == pytest.approx(float(cf["J_b"][i]), rel=1e-10)


@pytest.mark.parametrize("coupling", ["incoherent", "local", "global"])
def test_reference_pair_closed_form(coupling):
    p = random_points(12, seed=6)
    cf = CLOSED_FORMS[coupling](**p)
    for i in range(12):
        ref = R.solve(R.qubit_pair(coupling, **R.point(p, i)))
        for b in ("a", "b"):
            assert ref[f"J_{b}"] == pytest.approx(float(cf[f"J_{b}"][i]), rel=1e-10)
        assert ref["power"] == pytest.approx(float(cf["power"][i]), rel=1e-10, abs=0 if coupling == "incoherent" else 1e-16)


def test_reference_second_solver():
    """QuTiP's direct steady state == a dense NumPy solve with refinement, ≤ 1e-13, on one point
    of each Davies model (the largest reference systems)."""
    systems = [
        R.qubit_chain(4, "global", **R.point(R.chain_points(1, 71, 4), 0)),
        R.absorption_refrigerator("global", **R.point(R.refrigerator_points(1, 72), 0)),
        R.oscillator_pair(4, "global", **R.point(R.oscillator_points(1, 73), 0)),
        R.oscillator_pair(4, "incoherent", **R.point(R.oscillator_points(1, 74), 0)),
    ]
    for s in systems:
        np.testing.assert_allclose(R.steady_state(s), R.steady_state_dense(s), atol=1e-13, rtol=0)


@pytest.mark.parametrize("n", [3, 4])
@pytest.mark.parametrize("coupling", ["local", "global"])
def test_reference_chain_equal_temperatures(n, coupling):
    """Equal temperatures: the global chain is Gibbs of the full H; the local chain (resonant, the
    coupling conserves Σ n_k) is the product of thermal qubits e^{−βωN}/Z; no current."""
    q = R.point(R.chain_points(1, 80 + n, n), 0)
    q["beta_c"] = q["beta_h"]
    s = R.qubit_chain(n, coupling, spectrum="bose", **q)
    ref = R.solve(s)
    if coupling == "global":
        h = s.vecs @ s.h.full() @ s.vecs.conj().T
    else:
        h = q["omega"] * sum(a.dag() * a for a in R.qubit_sites(n)).full()
    np.testing.assert_allclose(ref["rho"], R.gibbs(h, q["beta_h"]), atol=1e-13, rtol=0)
    assert abs(ref["J_h"]) < 1e-14 and abs(ref["J_c"]) < 1e-14


# ----------------------------------------------------------------------------- 3. refrigerator

FRIDGE = dict(E_c=1.0, E_h=2.5, gamma_c=0.3, gamma_r=0.5, gamma_h=0.2)
WINDOW_BASES = [  # (β_r, β_h): the boundary β_c* = (β_r E_r − β_h E_h)/E_c
    (0.5, 0.1),
    (0.8, 0.3),
    (1.2, 0.05),
    (0.6, 0.4),
]
# The global model's cooling boundary is shifted into the window by ≈ −3.7e-5 (g/0.01)² relative in
# β_c (reference, measured at g = 1e-4 … 0.1: −3.7e-9, −3.7e-7, −3.7e-5, −3.7e-3). At g = 0.01
# the ±1e-3 points are therefore on the same sides for both models; at g ≳ 0.05 they are not.
WINDOW_G = {"local": 0.2, "global": 0.01}


def _window_points(coupling):
    """For each base: β_c = β_c*(1 ∓ 1e-3) (inside / outside), and, at β_c = 1.3 β_c*, β_r at its
    boundary value × (1 ± 1e-3) (inside / outside). Returns the points and which are inside."""
    rows, inside = [], []
    e_r = FRIDGE["E_c"] + FRIDGE["E_h"]
    for beta_r, beta_h in WINDOW_BASES:
        beta_c = (beta_r * e_r - beta_h * FRIDGE["E_h"]) / FRIDGE["E_c"]
        for f, is_in in ((1 - 1e-3, True), (1 + 1e-3, False)):
            rows.append((beta_c * f, beta_r, beta_h))
            inside.append(is_in)
        # vary β_r instead
        beta_c2 = 1.3 * beta_c
        beta_r2 = (beta_c2 * FRIDGE["E_c"] + beta_h * FRIDGE["E_h"]) / e_r
        for f, is_in in ((1 + 1e-3, True), (1 - 1e-3, False)):
            rows.append((beta_c2, beta_r2 * f, beta_h))
            inside.append(is_in)
    rows = np.array(rows)
    p = {k: np.full(len(rows), v) for k, v in FRIDGE.items()}
    p.update(beta_c=rows[:, 0], beta_r=rows[:, 1], beta_h=rows[:, 2], g=np.full(len(rows), WINDOW_G[coupling]))
    window = p["beta_c"] * p["E_c"] + p["beta_h"] * p["E_h"] < p["beta_r"] * (p["E_c"] + p["E_h"])
    np.testing.assert_array_equal(window, inside)
    return p, np.array(inside)


@pytest.mark.parametrize("coupling", ["local", "global"])
def test_reference_cooling_window(coupling):
    p, inside = _window_points(coupling)
    j_c = np.array([R.solve(R.absorption_refrigerator(coupling, **R.point(p, i)))["J_c"] for i in range(len(inside))])
    np.testing.assert_array_equal(j_c > 0, inside)


@pytest.mark.parametrize("coupling", ["local", "global"])
def test_cooling_window(coupling):
    """J_c > 0 exactly inside β_c E_c + β_h E_h < β_r E_r, ±1e-3 relative in β_c or in β_r."""
    p, inside = _window_points(coupling)
    out = jt("absorption_refrigerator", p, coupling=coupling)
    np.testing.assert_array_equal(out["J_c"] > 0, inside)
    assert np.all(np.abs(out["J_c"]) > 1e-12)  # every sign well resolved (|J_c| ≳ 3e-8 here)


def _strong_global_points(n=60, seed=91):
    """Refrigerator points with g up to 0.6 E_c (large shifts of the global window)."""
    p = R.refrigerator_points(n, seed)
    p["g"] = np.random.default_rng(seed + 1).uniform(0.03, 0.6, n) * p["E_c"]
    return p


def test_reference_global_never_cools_outside_window():
    p = _strong_global_points()
    window = p["beta_c"] * p["E_c"] + p["beta_h"] * p["E_h"] < p["beta_r"] * (p["E_c"] + p["E_h"])
    for i in np.nonzero(~window)[0]:
        assert R.solve(R.absorption_refrigerator("global", **R.point(p, i)))["J_c"] < 0


def test_global_cools_only_inside_window_and_second_law():
    """Global model, random points with g up to 0.6 E_c: never cools outside the window (its own
    window is narrower), σ ≥ −1e-14 Σ|β_x J_x|, and Σ J + P = 0 (1e-14 E_max γ_max)."""
    p = _strong_global_points()
    out = jt("absorption_refrigerator", p, coupling="global")
    window = p["beta_c"] * p["E_c"] + p["beta_h"] * p["E_h"] < p["beta_r"] * (p["E_c"] + p["E_h"])
    assert window.sum() > 10 and (~window).sum() > 10
    assert np.all(out["J_c"][~window] < 0)
    scale = sum(np.abs(p[f"beta_{x}"] * out[f"J_{x}"]) for x in "crh")
    assert np.all(out["sigma"] >= -1e-14 * scale)
    e_gamma = (p["E_c"] + p["E_h"] + p["g"]) * np.maximum(np.maximum(p["gamma_c"], p["gamma_r"]), p["gamma_h"])
    assert np.all(np.abs(out["J_c"] + out["J_r"] + out["J_h"] + out["power"]) <= 1e-14 * e_gamma)


def test_local_first_law_and_tight_coupling():
    """Local model, random points: Σ J + P = 0 (1e-14 E_max γ_max), cop = E_c/E_h (1e-10 rel)."""
    p = R.refrigerator_points(40, seed=93)
    out = jt("absorption_refrigerator", p, coupling="local")
    e_gamma = (p["E_c"] + p["E_h"] + p["g"]) * np.maximum(np.maximum(p["gamma_c"], p["gamma_r"]), p["gamma_h"])
    assert np.all(np.abs(out["J_c"] + out["J_r"] + out["J_h"] + out["power"]) <= 1e-14 * e_gamma)
    np.testing.assert_allclose(out["cop"], p["E_c"] / p["E_h"], rtol=1e-10, atol=0)


def _carnot_grid():
    """β_h ∈ {0.05, 0.2}, β_r ∈ {0.5, 0.8}, β_c ∈ (β_r, 3]: cold > room > hot."""
    rows = [(bc, br, bh) for bh in (0.05, 0.2) for br in (0.5, 0.8) for bc in np.linspace(br + 0.02, 3.0, 8)]
    rows = np.array(rows)
    p = {k: np.full(len(rows), v) for k, v in FRIDGE.items()}
    p.update(beta_c=rows[:, 0], beta_r=rows[:, 1], beta_h=rows[:, 2], g=np.full(len(rows), 0.1))
    return p


@pytest.mark.parametrize("coupling", ["local", "global"])
def test_cop_below_carnot(coupling):
    """Wherever the fridge cools, 0 < cop ≤ (β_r − β_h)/(β_c − β_r); the grid has ≥ 8 such points."""
    p = _carnot_grid()
    out = jt("absorption_refrigerator", p, coupling=coupling)
    cooling = out["J_c"] > 0
    assert cooling.sum() >= 8
    carnot = (p["beta_r"] - p["beta_h"]) / (p["beta_c"] - p["beta_r"])
    assert np.all(out["J_h"][cooling] > 0)
    assert np.all(out["cop"][cooling] > 0)
    assert np.all(out["cop"][cooling] <= carnot[cooling] * (1 + 1e-12))


def test_reference_cop():
    """The reference: local cop = E_c/E_h (1e-10), global cop ≤ Carnot on half the grid (β_h = 0.05)."""
    p = {k: v[:16] for k, v in _carnot_grid().items()}
    assert np.all(p["beta_h"] == 0.05)
    carnot = (p["beta_r"] - p["beta_h"]) / (p["beta_c"] - p["beta_r"])
    for coupling in ("local", "global"):
        n_cool = 0
        for i in range(len(carnot)):
            o = R.refrigerator_observables(R.absorption_refrigerator(coupling, **R.point(p, i)))
            if coupling == "local":
                assert o["cop"] == pytest.approx(p["E_c"][i] / p["E_h"][i], rel=1e-10)
            if o["J_c"] > 0:
                n_cool += 1
                assert 0 < o["cop"] <= carnot[i] * (1 + 1e-12)
        assert n_cool >= 4


# ----------------------------------------------------------------------------- 4. oscillators

# Detuned pair at n̄_a(ω_a) = 0.3, β_b = 1.8 β_a, local bose baths; reference changes of J_a
# from cutoff c to c + 2 (c = 2, 4, 6, 8): 1.29e-2, 7.46e-4, 3.33e-5, 1.36e-6 — ratios 0.058,
# 0.045, 0.041, tending to x_a² = (n̄/(1+n̄))² = 0.053 …
CONVERGENCE = dict(omega_a=1.0, omega_b=1.3, beta_a=np.log(1 + 1 / 0.3), gamma_a=0.4, gamma_b=0.7, epsilon=0.3)
CONVERGENCE["beta_b"] = 1.8 * CONVERGENCE["beta_a"]


def _changes(j):
    d = np.diff(np.asarray(j))
    return d, d[1:] / d[:-1]


def test_reference_oscillator_convergence():
    j = [R.solve(R.oscillator_pair(c, "local", spectrum="bose", **CONVERGENCE))["J_a"] for c in (2, 4, 6, 8, 10)]
    d, ratios = _changes(j)
    assert np.all((ratios > 0.02) & (ratios < 0.1))
    assert ratios.max() / ratios.min() < 1.6


def test_oscillator_converges_with_cutoff():
    """The change of J_a from cutoff c to c + 2 shrinks geometrically (c = 2, 4, 6, 8): successive
    ratios in (0.02, 0.1) and within a factor 1.6 of each other."""
    j = [oscillator_series(c)["J_a"][0] for c in (2, 4, 6, 8, 10)]
    d, ratios = _changes(j)
    assert np.all((ratios > 0.02) & (ratios < 0.1)), ratios
    assert ratios.max() / ratios.min() < 1.6, ratios


# Resonant pair, local bose baths, n̄_a = 0.1, n̄_b = 0.03, ε = 0.3, γ_a = 0.4, γ_b = 0.7. The
# reference's relative truncation error against the closed form at cutoff 4, 6, 8, 10, 12:
# 2.3e-3, 1.85e-5, 1.34e-7, 9.1e-10, 6.3e-12 — geometric, × ≈ x_a² = (n̄_a/(1+n̄_a))² = 8.3e-3
# per +2. (At n̄_a = 0.3, n̄_b = 0.1 the same pair gives 5.4e-6 at cutoff 10, 2.5e-7 at 12.)
NBAR_A, NBAR_B = 0.1, 0.03
RESONANT = dict(
    omega_a=1.0, omega_b=1.0, beta_a=np.log(1 + 1 / NBAR_A), beta_b=np.log(1 + 1 / NBAR_B), gamma_a=0.4, gamma_b=0.7, epsilon=0.3
)
RESONANT_TOLERANCE = {8: 2e-7, 10: 1.5e-9}  # 1.5× the measured truncation error at these cutoffs


def _closed_form():
    q = RESONANT
    return R.oscillator_resonant_current(q["omega_a"], q["beta_a"], q["beta_b"], q["gamma_a"], q["gamma_b"], q["epsilon"])


def test_reference_oscillator_closed_form():
    errors = []
    for c in (4, 6, 8, 10, 12):
        errors.append(abs(R.solve(R.oscillator_pair(c, "local", spectrum="bose", **RESONANT))["J_a"] / _closed_form() - 1))
        if c in RESONANT_TOLERANCE:
            assert errors[-1] <= RESONANT_TOLERANCE[c]
    ratios = np.array(errors[1:]) / np.array(errors[:-1])
    x2 = (NBAR_A / (1 + NBAR_A)) ** 2
    assert np.all((ratios > 0.5 * x2) & (ratios < 1.2 * x2)), ratios


@pytest.mark.parametrize("cutoff", [8, 10])
def test_oscillator_closed_form(cutoff):
    """Large cutoff, resonance, local bose baths: J_a → 4ε²γ_aγ_b ω(n̄_a − n̄_b)/((γ_a+γ_b)(4ε²+γ_aγ_b))
    within the truncation error the cutoff guarantees (see RESONANT_TOLERANCE); J_b = −J_a."""
    out = oscillator_series(cutoff)
    assert abs(out["J_a"][1] / _closed_form() - 1) <= RESONANT_TOLERANCE[cutoff]
    assert out["J_b"][1] == pytest.approx(-out["J_a"][1], rel=1e-12)


_SERIES = {}


def oscillator_series(cutoff):
    """Local bose oscillator pair at one cutoff, solved once for both tests above: point 0 is
    CONVERGENCE, points 1–5 RESONANT (six points: the point count of the other oscillator tests,
    so that cutoffs 4 and 6 reuse their compiled solve)."""
    if cutoff not in _SERIES:
        p = {k: np.array([CONVERGENCE[k]] + 5 * [RESONANT[k]]) for k in RESONANT}
        _SERIES[cutoff] = jt("oscillator_pair", p, cutoff=cutoff, coupling="local", spectrum="bose")
    return _SERIES[cutoff]
