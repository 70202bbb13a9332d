"""Bloch–Redfield and the universal Lindblad equation (``coupling="redfield"``, ``"ule"``;
``jaxtherm.Redfield``, ``jaxtherm.ULE``) against the independent NumPy references of
``tests/master_equations.py`` (cross-checked there with QuTiP's ``bloch_redfield_tensor``), the
exact Landauer current of two oscillators, and physics: the secular part of Redfield is the
global model, the first law, positivity (status 6 and ``min_eigenvalue``), derivatives against
central differences, and a four-way sweep through the command line.

Run alone: ``pytest -n 1 tests/test_master_equations.py``.
"""

import subprocess
import sys
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtherm
from jaxtherm.physics import davies, nonsecular, spectra
from jaxtherm.status import POSITIVITY_TOLERANCE, STATUS_NOT_POSITIVE, STATUS_OK
from tests import master_equations as me

EQUATIONS = ("redfield", "ule")
CUTOFF = 3.0  # ω_c of the ohmic spectrum
RTOL = 1e-8


def pair_points(n, seed):
    """ω ∈ [0.5, 1.5], β_a ∈ [0.3, 1.5], β_b = β_a + [0.3, 1.5], γ ∈ [0.05, 1], ε ∈ [0.02, 0.4]."""
    rng = np.random.default_rng(seed)
    beta_a = rng.uniform(0.3, 1.5, n)
    return dict(omega_a=rng.uniform(0.5, 1.5, n), omega_b=rng.uniform(0.5, 1.5, n), beta_a=beta_a,
                beta_b=beta_a + rng.uniform(0.3, 1.5, n), gamma_a=rng.uniform(0.05, 1.0, n),
                gamma_b=rng.uniform(0.05, 1.0, n), epsilon=rng.uniform(0.02, 0.4, n))


def chain_points(n, seed):
    rng = np.random.default_rng(seed)
    beta_h = rng.uniform(0.2, 1.2, n)
    return dict(omega=rng.uniform(0.8, 2.0, n), g=rng.uniform(0.1, 0.35, n), beta_h=beta_h,
                beta_c=beta_h + rng.uniform(0.3, 1.8, n), gamma_h=rng.uniform(0.05, 1.0, n),
                gamma_c=rng.uniform(0.05, 1.0, n))


def refrigerator_points(n, seed):
    rng = np.random.default_rng(seed)
    return dict(E_c=rng.uniform(0.5, 1.5, n), E_h=rng.uniform(1.5, 3.0, n), g=rng.uniform(0.02, 0.3, n),
                beta_c=rng.uniform(0.8, 1.5, n), beta_r=rng.uniform(0.4, 0.8, n), beta_h=rng.uniform(0.05, 0.3, n),
                gamma_c=rng.uniform(0.05, 0.5, n), gamma_r=rng.uniform(0.05, 0.5, n), gamma_h=rng.uniform(0.05, 0.5, n))


def oscillator_points(n, seed):
    rng = np.random.default_rng(seed)
    return dict(omega_a=rng.uniform(0.8, 1.2, n), omega_b=rng.uniform(0.8, 1.2, n), beta_a=rng.uniform(1.0, 2.0, n),
                beta_b=rng.uniform(2.0, 4.0, n), gamma_a=rng.uniform(0.02, 0.2, n), gamma_b=rng.uniform(0.02, 0.2, n),
                epsilon=rng.uniform(0.02, 0.3, n))


CASES = {  # name: (jaxtherm model, reference builder, random points)
    "pair": (lambda eq, s: jaxtherm.qubit_pair(eq, s), me.qubit_pair, pair_points),
    "chain3": (lambda eq, s: jaxtherm.qubit_chain(3, eq, s), lambda p, s: me.qubit_chain(p, 3, s), chain_points),
    "refrigerator": (lambda eq, s: jaxtherm.absorption_refrigerator(eq, s), me.absorption_refrigerator,
                     refrigerator_points),
    "oscillators": (lambda eq, s: jaxtherm.oscillator_pair(4, eq, s), lambda p, s: me.oscillator_pair(p, 4, s),
                    oscillator_points),
}


def _point(points, i, spectrum):
    p = {k: float(v[i]) for k, v in points.items()}
    if spectrum == "ohmic":
        p["omega_cutoff"] = CUTOFF
    return p


def _inputs(points, spectrum):
    return {**points, "omega_cutoff": CUTOFF} if spectrum == "ohmic" else points


@pytest.mark.parametrize("equation", EQUATIONS)
@pytest.mark.parametrize(("case", "spectrum"), [("pair", "seed"), ("pair", "bose"), ("pair", "ohmic"),
                                                ("chain3", "bose"), ("chain3", "ohmic"), ("refrigerator", "seed"),
                                                ("refrigerator", "bose"), ("oscillators", "bose")])
def test_matches_reference(case, spectrum, equation):
    """Currents, ρ and min_eigenvalue equal the NumPy reference on random points, 1e-8 relative."""
    make, reference, sample = CASES[case]
    model = make(equation, spectrum)
    points = sample(6, seed=zlib.crc32(f"{case}/{spectrum}".encode()))
    out = {k: np.asarray(v) for k, v in jaxtherm.solve(model, **_inputs(points, spectrum)).items()}
    for i in range(6):
        h, baths = reference(_point(points, i, spectrum), spectrum)
        ref = me.steady_state(h, baths, equation)
        lowest = np.linalg.eigvalsh(ref.rho)[0]  # Redfield may be flagged (γ = 0.2 ω at cutoff 4 is)
        assert out["status"][i] == (STATUS_NOT_POSITIVE if lowest < -POSITIVITY_TOLERANCE else STATUS_OK)
        scale = sum(abs(j) for j in ref.currents.values())
        for bath, current in ref.currents.items():
            assert abs(out[f"J_{bath}"][i] - current) <= RTOL * scale, (bath, i)
        np.testing.assert_allclose(out["rho"][i], ref.rho, rtol=0, atol=RTOL * np.abs(ref.rho).max())
        assert abs(out["min_eigenvalue"][i] - lowest) <= RTOL


@pytest.mark.parametrize("equation", EQUATIONS)
@pytest.mark.parametrize("case", ["pair", "refrigerator"])
def test_dense_product_basis_equals_eigenbasis(case, equation):
    """The general construction (product basis, every coordinate: ``solver="dense"``) equals the
    real eigenbasis construction on the sector."""
    make, _, sample = CASES[case]
    model = make(equation, "bose")
    points = sample(8, seed=7)
    a = jaxtherm.solve(model, **points)
    b = jaxtherm.solve(model, solver="dense", **points)
    for k in model.observables:
        np.testing.assert_allclose(np.asarray(a[k]), np.asarray(b[k]), rtol=1e-10, atol=1e-13)


def test_secular_part_of_redfield_is_davies():
    """Redfield's generator with only its secular elements is the Davies generator, to round-off,
    at detuned and resonant pair points (degenerate Bohr frequencies)."""
    for omega_b, eps in [(0.7, 0.25), (1.0, 0.05), (1.0, 0.0)]:
        p = dict(omega_a=1.0, omega_b=omega_b, beta_a=0.7, beta_b=2.0, gamma_a=0.4, gamma_b=0.3, epsilon=eps)
        h, baths = me.qubit_pair(p, "bose")
        tol = 1e-8
        for bath, (x, _) in baths.items():
            args = (jnp.asarray(h, complex), jnp.asarray(x, complex), spectra.get("bose"), p[f"gamma_{bath}"],
                    p[f"beta_{bath}"], None, tol)
            energies, _, red = davies.eigenbasis_generator(*args, equation="redfield")
            _, _, dav = davies.eigenbasis_generator(*args, equation="davies")
            assert np.abs(np.asarray(nonsecular.secular_part(red, energies, tol)) - np.asarray(dav)).max() < 1e-14


@pytest.mark.parametrize("case", ["pair", "chain3", "refrigerator"])
def test_global_is_the_references_secular_redfield(case):
    """jaxtherm's ``global`` model equals the reference's Redfield tensor restricted to its secular
    elements (``secular_tol``), independently of the code above."""
    make, reference, sample = CASES[case]
    model = make("global", "bose")
    points = sample(6, seed=11)  # 6: the batch shape (64, bucket_size) other tests compile too
    out = {k: np.asarray(v) for k, v in jaxtherm.solve(model, **points).items()}
    for i in range(6):
        ref = me.redfield(*reference(_point(points, i, "bose"), "bose"), secular_tol=1e-8)
        scale = sum(abs(j) for j in ref.currents.values())
        for bath, current in ref.currents.items():
            assert abs(out[f"J_{bath}"][i] - current) <= 1e-10 * scale
        np.testing.assert_allclose(out["rho"][i], ref.rho, rtol=0, atol=1e-10)


def test_oscillators_redfield_follows_the_exact_current():
    """Two oscillators at cutoff 8 with flat bose baths (``OSCILLATOR_LANDAUER``), ε from the
    local regime (γ_a/10) to the global one and beyond: Redfield (and the ULE) within 2 % of the
    Landauer current everywhere; the global model is off by more at weak coupling (×38 at
    ε = 0.005), the local one at strong coupling (+4 % at ε = 0.7)."""
    rec = me.OSCILLATOR_LANDAUER
    p = rec["params"]
    eps = np.array([0.005, 0.05, 0.365, 0.7])
    exact = np.array([me.landauer_current(p["omega_a"], p["omega_b"], e, p["gamma_a"], p["gamma_b"], p["beta_a"],
                                          p["beta_b"]) for e in eps])
    error = {}
    for c in ("local", "global", "redfield", "ule"):
        out = jaxtherm.solve(jaxtherm.oscillator_pair(rec["cutoff"], c, "bose"), epsilon=eps, **p)
        assert (np.asarray(out["status"]) == STATUS_OK).all(), c
        np.testing.assert_allclose(np.asarray(out["J_b"]), -np.asarray(out["J_a"]), rtol=1e-10)
        error[c] = np.asarray(out["J_a"]) / exact - 1
    assert np.abs(error["redfield"]).max() < 0.02
    assert np.abs(error["ule"]).max() < 0.02
    assert error["global"][0] > 10  # weak inter-mode coupling: the global current stays finite as ε → 0
    assert error["local"][-1] > 0.03  # strong inter-mode coupling: the local equation overshoots
    assert abs(error["redfield"][-1]) < 0.01 and abs(error["local"][0]) < 0.01


@pytest.mark.parametrize("record", ["REDFIELD_NOT_POSITIVE_BOSE", "REDFIELD_NOT_POSITIVE_SEED",
                                    "REDFIELD_NOT_POSITIVE_CHAIN"])
def test_not_positive_redfield_state_is_flagged_and_kept(record):
    """Strong coupling: Redfield's state has a negative eigenvalue: status 6, with its numbers
    (equal to the reference's) kept; the ULE's state at the same point is positive, status 0;
    with the rates divided by 100 Redfield is not flagged."""
    rec = getattr(me, record)
    p = rec["params"]
    model = jaxtherm.models.get(rec["model"], coupling="redfield", spectrum=rec["spectrum"])
    out = jaxtherm.solve(model, gradients=["epsilon" if "epsilon" in p else "g"], **p)
    ref = me.redfield(*(me.qubit_chain(p, 3, rec["spectrum"]) if rec["model"] == "qubit_chain"
                        else me.qubit_pair(p, rec["spectrum"])))
    assert int(out["status"]) == STATUS_NOT_POSITIVE
    lowest = np.linalg.eigvalsh(ref.rho)[0]
    assert lowest < -POSITIVITY_TOLERANCE
    assert abs(float(out["min_eigenvalue"]) - lowest) < 1e-10
    for bath, current in ref.currents.items():
        assert abs(float(out[f"J_{bath}"]) - current) < 1e-10
    assert all(np.isfinite(float(v)) for k, v in out.items() if k.startswith("dJ_"))  # derivatives kept too
    ule = jaxtherm.solve(jaxtherm.models.get(rec["model"], coupling="ule", spectrum=rec["spectrum"]), **p)
    assert int(ule["status"]) == STATUS_OK and float(ule["min_eigenvalue"]) > 0
    weak = {k: v / 100 if k.startswith("gamma") else v for k, v in p.items()}
    assert int(jaxtherm.solve(model, **weak)["status"]) == STATUS_OK


def test_weak_coupling_is_not_flagged():
    """Random qubit-pair points at weak coupling — every rate (``Γ``; ``γ(1 + n̄)`` at the smallest
    Bohr frequency for ``bose``) at most a tenth of the smallest Bohr frequency, β up to 20 — are
    never flagged, although Redfield's smallest eigenvalue dips slightly below zero there."""
    rng = np.random.default_rng(3)
    n = 1500
    p = dict(omega_a=rng.uniform(0.5, 1.5, n), omega_b=rng.uniform(0.5, 1.5, n), beta_a=rng.uniform(0.1, 20, n),
             beta_b=rng.uniform(0.1, 20, n), gamma_a=rng.uniform(0, 0.1, n), gamma_b=rng.uniform(0, 0.1, n),
             epsilon=rng.uniform(0, 0.5, n))
    lowest = np.abs(0.5 * (p["omega_a"] + p["omega_b"]) - np.hypot(0.5 * (p["omega_a"] - p["omega_b"]), p["epsilon"]))
    for spectrum in ("seed", "bose"):
        rate = {"seed": lambda b, g: g, "bose": lambda b, g: g / -np.expm1(-b * lowest)}[spectrum]
        weak = np.maximum(rate(p["beta_a"], p["gamma_a"]), rate(p["beta_b"], p["gamma_b"])) <= 0.1 * lowest
        assert weak.sum() > 500
        # chunks of 64: the program test_matches_reference compiles for the same model
        out = jaxtherm.solve(jaxtherm.qubit_pair("redfield", spectrum), chunk_size=64,
                             **{k: v[weak] for k, v in p.items()})
        assert (np.asarray(out["status"]) == STATUS_OK).all()
        assert -POSITIVITY_TOLERANCE / 10 < np.asarray(out["min_eigenvalue"]).min() < 0


@pytest.mark.parametrize("equation", EQUATIONS)
@pytest.mark.parametrize(("case", "spectrum"), [("pair", "seed"), ("pair", "bose"), ("pair", "ohmic"),
                                                ("chain3", "bose"), ("refrigerator", "bose")])
def test_first_law_and_currents(case, spectrum, equation):
    """``Σ_j J_j + P = 0`` at every point (P = 0: no work channel), to round-off of the energy
    flows (rates and energies of order 1: 10⁻¹⁴ absolute, beside 10⁻¹² relative)."""
    make, _, sample = CASES[case]
    points = sample(64, seed=5)
    out = jaxtherm.solve(make(equation, spectrum), **_inputs(points, spectrum))
    model = make(equation, spectrum)
    currents = np.stack([np.asarray(out[f"J_{b.name}"]) for b in model.baths])
    assert (np.asarray(out["status"]) == STATUS_OK).all()
    assert np.all(np.asarray(out["power"]) == 0)
    assert np.all(np.abs(currents.sum(0)) <= 1e-12 * np.abs(currents).sum(0) + 1e-14)


@pytest.mark.parametrize("equation", EQUATIONS)
@pytest.mark.parametrize(("case", "spectrum"), [("pair", "bose"), ("pair", "seed"), ("chain3", "bose"),
                                                ("refrigerator", "ohmic")])
def test_gradients_equal_central_differences(case, spectrum, equation):
    """Forward-mode derivatives of every observable with respect to every parameter, against
    central differences (step 10⁻⁵ relative), 10⁻⁶ relative to the derivative's scale."""
    make, _, sample = CASES[case]
    model = make(equation, spectrum)
    p = _point(sample(1, seed=17), 0, spectrum)
    names = list(model.parameters)
    out = jaxtherm.solve(model, gradients=names, **p)
    observables = [o for o in model.observables if o not in ("cop", "cop_carnot", "power")]
    steps = {n: 1e-5 * max(abs(p[n]), 1.0) for n in names}
    shifted = {q: np.array([p[q] + (sign * steps[n] if q == n else 0.0) for n in names for sign in (1, -1)])
               for q in p}  # p ± h e_n for every n, in one batch
    moved = {o: np.asarray(v) for o, v in jaxtherm.solve(model, **shifted).items()}
    for i, n in enumerate(names):
        h = steps[n]
        analytic = np.array([float(out[f"d{o}_d{n}"]) for o in observables])
        central = np.array([(moved[o][2 * i] - moved[o][2 * i + 1]) / (2 * h) for o in observables])
        scale = max(np.abs(analytic).max(), 1e-8)
        assert np.abs(analytic - central).max() <= 1e-6 * scale, (n, dict(zip(observables, analytic - central)))


@pytest.mark.parametrize("equation", EQUATIONS)
def test_reverse_mode_equals_forward_mode(equation):
    model = jaxtherm.qubit_pair(equation, "bose")
    p = _point(pair_points(1, seed=23), 0, "bose")

    def current(eps):
        return jaxtherm.solve(model, **{**p, "epsilon": eps})["J_a"]

    forward = float(jaxtherm.solve(model, gradients=["epsilon"], **p)["dJ_a_depsilon"])
    assert abs(float(jax.grad(current)(p["epsilon"])) - forward) <= 1e-10 * abs(forward)


def test_user_model_terms_and_fluctuations_refused():
    """``jaxtherm.Redfield`` and ``jaxtherm.ULE`` take Davies's fields in Davies's order; a user
    model built from them is the built-in one; current fluctuations are refused (not defined)."""
    assert [f.name for f in jaxtherm.Redfield.__dataclass_fields__.values()] == \
        [f.name for f in jaxtherm.Davies.__dataclass_fields__.values()] == \
        [f.name for f in jaxtherm.ULE.__dataclass_fields__.values()]
    built = jaxtherm.qubit_pair("redfield", "bose")
    user = jaxtherm.Model("mine", 4, built.parameters, built.hamiltonian,
                          tuple(jaxtherm.Redfield(k.coupling, k.rate, k.beta, k.channel, "", "bose")
                                for k in built.davies), built.baths, built.expectations)
    p = _point(pair_points(1, seed=29), 0, "bose")
    a, b = jaxtherm.solve(built, **p), jaxtherm.solve(user, **p)
    assert float(a["J_a"]) == pytest.approx(float(b["J_a"]), rel=1e-12)
    assert float(a["min_eigenvalue"]) == pytest.approx(float(b["min_eigenvalue"]), rel=1e-12)
    with pytest.raises(ValueError, match="not defined"):
        jaxtherm.solve(built, fluctuations=True, **p)


SPEC = """
[model]
name = "qubit_pair"
coupling = ["local", "global", "redfield", "ule"]
spectrum = "bose"
[parameters]
omega_a = 1.0
omega_b = 0.25
beta_a = 1.0
beta_b = 10.0
gamma_a = 2.0
gamma_b = 1.0
[axes]
epsilon = { values = [0.01, 0.1, 0.4] }
[output]
gradients = ["epsilon"]
"""


def test_four_way_sweep_through_the_cli(tmp_path):
    """``coupling = ["local", "global", "redfield", "ule"]`` through ``jaxtherm run`` into one file
    that ``jaxtherm.open`` reads: the values of ``solve`` (the local and global models reporting
    ``min_eigenvalue`` too, ``share_observables``), and the strongly coupled Redfield point
    flagged (status 6) with its numbers visible."""
    spec, out = tmp_path / "four.toml", tmp_path / "four.h5"
    spec.write_text(SPEC)
    run = subprocess.run([sys.executable, "-m", "jaxtherm", "run", str(spec), "-o", str(out), "-q"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    ds = jaxtherm.open(out)
    assert list(ds["coupling"].values) == ["local", "global", "redfield", "ule"]
    assert ds["J_a"].dims == ("coupling", "epsilon") and "min_eigenvalue" in ds
    # the sweep's three points padded to the shape its kernels were compiled for (64 points):
    # the same programs, loaded from the compilation cache instead of compiled again
    params = dict(omega_a=1.0, omega_b=0.25, beta_a=1.0, beta_b=10.0, gamma_a=2.0, gamma_b=1.0,
                  epsilon=np.resize([0.01, 0.1, 0.4], 64))
    for c in ["local", "global", "redfield", "ule"]:
        ref = jaxtherm.solve(jaxtherm.qubit_pair(c, "bose").with_min_eigenvalue(), gradients=["epsilon"], rho=False,
                             **params)
        ref = {k: np.asarray(v)[:3] for k, v in ref.items()}
        row = ds.sel(coupling=c)
        np.testing.assert_array_equal(row["status"].values, ref["status"])
        for k in ("J_a", "J_b", "sigma", "min_eigenvalue", "dJ_a_depsilon"):
            np.testing.assert_allclose(row[k].values, ref[k], rtol=1e-12, atol=1e-15)
    flagged = ds["status"].sel(coupling="redfield", epsilon=0.4).item()
    assert flagged == STATUS_NOT_POSITIVE
    assert ds["min_eigenvalue"].sel(coupling="redfield", epsilon=0.4).item() < -0.1  # visible, not masked
    assert ds["status"].sel(coupling="ule").values.tolist() == [0, 0, 0]
    assert (ds["min_eigenvalue"].sel(coupling=["local", "global"]).values > 0).all()


def test_min_eigenvalue_only_where_asked():
    """Redfield and ULE models report ``min_eigenvalue``; the others only when a sweep mixes them
    (``share_observables``), so that their kernels pay nothing for it otherwise."""
    local, redfield = jaxtherm.qubit_pair("local"), jaxtherm.qubit_pair("redfield")
    assert "min_eigenvalue" in redfield.observables and "min_eigenvalue" not in local.observables
    shared = jaxtherm.models.share_observables((local, redfield))
    assert [list(m.observables) for m in shared] == [list(redfield.observables)] * 2
    assert shared[0] is local.with_min_eigenvalue() and shared[1] is redfield
    assert jaxtherm.models.share_observables((local, jaxtherm.qubit_pair("global")))[0] is local
    p = _point(pair_points(1, seed=31), 0, "seed")
    out = jaxtherm.solve(shared[0], **p)
    assert float(out["J_a"]) == float(jaxtherm.solve(local, **p)["J_a"])
    assert float(out["min_eigenvalue"]) == pytest.approx(np.linalg.eigvalsh(np.asarray(out["rho"]))[0], abs=1e-14)


@pytest.mark.parametrize("equation", EQUATIONS)
def test_complex_couplings_take_the_general_construction(equation):
    """A user model whose couplings are complex (``X = i(a − a†)``) is not real in the eigenbasis:
    it is built by the general, complex construction, and still equals the reference."""
    built = jaxtherm.qubit_pair(equation, "bose")
    cls = jaxtherm.Redfield if equation == "redfield" else jaxtherm.ULE
    couplings = {}
    terms = []
    for k in built.davies:
        lower = np.triu(np.asarray(k.coupling).real)  # a (the upper triangle of a + a†)
        couplings[k.channel] = 1j * (lower - lower.T)
        terms.append(cls(couplings[k.channel], k.rate, k.beta, k.channel, f"i(a - a†) {k.channel}", "bose"))
    user = jaxtherm.Model("complex", 4, built.parameters, built.hamiltonian, tuple(terms), built.baths)
    assert "eigenbasis" not in jaxtherm.Auto().plan(user).description
    p = _point(pair_points(1, seed=37), 0, "bose")
    out = jaxtherm.solve(user, **p)
    h, _ = me.qubit_pair(p, "bose")
    baths = {b: (couplings[b], me.spectrum("bose", p[f"gamma_{b}"], p[f"beta_{b}"])) for b in "ab"}
    ref = me.steady_state(h, baths, equation)
    np.testing.assert_allclose(np.asarray(out["rho"]), ref.rho, rtol=0, atol=1e-12)
    for b in "ab":
        assert abs(float(out[f"J_{b}"]) - ref.currents[b]) <= RTOL * sum(abs(j) for j in ref.currents.values())
