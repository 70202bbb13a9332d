"""Global (Davies) models: closed form, QuTiP, gradients at degenerate Bohr frequencies, σ ≥ 0.

(a) The global qubit pair's currents equal ``docs/design.md`` §2.5's closed form (tests/analytic.py) and
    the independent QuTiP reference (tests/reference.py) on 60 random points, a third of them
    with ε² > ω_a ω_b (the E_− < 0 branch).
(b) The global chain (n = 3) and the global refrigerator equal the QuTiP reference on 50 random
    points each, a third of them at strong coupling.
(c) At (nearly) degenerate points — the pair at ω_a = ω_b with ε = 1e-2, 1e-4, 1e-6, where
    the eigenvectors of H are exactly (|01⟩ ± |10⟩)/√2, the one-excitation Bohr frequencies
    ω ± ε are 2ε apart and ω + ε is exactly degenerate (|0⟩ → E_+ and E_− → |11⟩); the n = 4
    chain, whose two-excitation block has an exactly doubly degenerate level 2ω for uniform ω;
    and the refrigerator at E_c = E_h (degenerate levels |100⟩, |001⟩) — the forward-mode
    derivatives with respect to every parameter are finite and equal central finite
    differences.
(d) σ ≥ 0 on random points of every global model (pair, chain n = 2, 3, 4, refrigerator,
    oscillator pair at cutoff 3). Chains of 5 and 6 sites are left out for time: their global
    kernels take long to compile, and n = 6 needs more memory than a CI machine has
    (``docs/performance.md``, "Timings behind the tests' choices").

Scales. ``E`` is the model's energy scale (a bound on ‖H‖), ``Γ`` its largest rate and
``F = E·Γ`` the natural scale of a heat current (module docstring of tests/test_solvers.py).
Currents: ``|Δ| ≤ 1e-10 |ref| + 1e-14 F`` — relative 1e-10, with an absolute floor for
currents far below F; the floor is ~40× the reference's own noise (≤ 2.4e-16 F measured
between jaxtherm and QuTiP on the pair, ≤ 4e-16 F between QuTiP and a second dense solve,
tests/test_models.py), so it only acts where ``|J| ≲ 1e-4 F``. Only the default solver is
used (whatever ``solve`` picks).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import jaxtherm
from tests.analytic import global_
from tests.helpers import random_points

qutip = pytest.importorskip("qutip")
from tests import reference as R  # noqa: E402  (needs qutip)

REL = 1e-10
FLOOR = 1e-14  # × F
FD_REL = 1e-6


@functools.cache
def model(name, **options):
    return jaxtherm.models.get(name, **options)


def _np(out):
    return {k: np.asarray(v) for k, v in out.items()}


def _concat(groups: dict) -> tuple[dict, dict]:
    """One parameter dict for all groups, and each group's slice."""
    names = list(next(iter(groups.values())))
    slices, start = {}, 0
    for g, p in groups.items():
        n = len(np.asarray(p[names[0]]))
        slices[g] = slice(start, start + n)
        start += n
    return {k: np.concatenate([np.asarray(p[k], float) for p in groups.values()]) for k in names}, slices


# ----------------------------------------------------------------------------- scales


def scales(name, p, **options):
    """``(E, Γ)`` per point (see the module docstring)."""
    if name in ("qubit_pair", "oscillator_pair"):
        quanta = options.get("cutoff", 2) - 1
        e = quanta * (p["omega_a"] + p["omega_b"] + np.abs(p["epsilon"]))
        rates = [p["gamma_a"], p["gamma_b"]]
    elif name == "qubit_chain":
        n = options["n"]
        e = n * p["omega"] + 2 * (n - 1) * np.abs(p["g"])
        rates = [p["gamma_h"], p["gamma_c"]]
    else:
        e = 2 * (p["E_c"] + p["E_h"]) + np.abs(p["g"])
        rates = [p["gamma_c"], p["gamma_r"], p["gamma_h"]]
    return np.asarray(e, float), np.max(np.stack([np.asarray(r, float) for r in rates]), axis=0)


def _assert_current(what, got, ref, flow, p):
    tol = REL * np.abs(ref) + FLOOR * flow
    bad = ~(np.abs(got - ref) <= tol)
    if bad.any():
        i = np.nonzero(bad)[0]
        rows = [
            f"  point {k}: got {got[k]!r}, ref {ref[k]!r}, |Δ| {abs(got[k] - ref[k]):.3e} > {tol[k]:.3e}; "
            f"{ {n: float(v[k]) for n, v in p.items()} }"
            for k in i[:5]
        ]
        raise AssertionError(f"{what}: {len(i)} point(s)\n" + "\n".join(rows))


# ----------------------------------------------------------------------------- points


def pair_random_points():
    return random_points(60, seed=2024)  # every third point ε² > ω_a ω_b


def chain_reference_points(n=3, count=50, seed=301):
    p = R.chain_points(count, seed=seed, n_sites=n)
    strong = np.arange(count) % 3 == 0  # |g| ∈ [0.5, 1.2] ω: single-particle energies < 0
    rng = np.random.default_rng(seed + 1)
    p["g"][strong] = p["omega"][strong] * rng.uniform(0.5, 1.2, strong.sum()) * rng.choice([-1, 1], strong.sum())
    return p


def refrigerator_reference_points(count=50, seed=311):
    p = R.refrigerator_points(count, seed=seed)
    strong = np.arange(count) % 3 == 0  # g ∈ [0.3, 0.9] E_c
    p["g"][strong] = p["E_c"][strong] * np.random.default_rng(seed + 1).uniform(0.3, 0.9, strong.sum())
    return p


DEGENERATE_EPSILONS = (1e-2, 1e-4, 1e-6)


def degenerate_pair_points():
    """ω_a = ω_b exactly, ε ∈ {1e-2, 1e-4, 1e-6}, on 4 random bases (12 points)."""
    rng = np.random.default_rng(321)
    base = {
        "omega_a": rng.uniform(0.5, 2.0, 4),
        "beta_a": rng.uniform(0.2, 2.0, 4),
        "beta_b": rng.uniform(0.2, 2.0, 4),
        "gamma_a": rng.uniform(0.05, 1.0, 4),
        "gamma_b": rng.uniform(0.05, 1.0, 4),
    }
    base["omega_b"] = base["omega_a"].copy()
    p = {k: np.repeat(v, len(DEGENERATE_EPSILONS)) for k, v in base.items()}
    p["epsilon"] = np.tile(np.array(DEGENERATE_EPSILONS), 4)
    return p


def refrigerator_degenerate_points():
    """E_c = E_h exactly (3 random bases): the levels |100⟩ and |001⟩ (and |110⟩, |011⟩) of H
    are exactly degenerate, while every bath's Bohr frequencies (E_x, E_x ± g) stay distinct —
    the model is smooth there."""
    p = R.refrigerator_points(3, seed=391)
    p["E_h"] = p["E_c"].copy()
    return p


def chain4_points():
    """Generic n = 4 points (reference.chain_points): uniform ω, so the two-excitation level
    2ω is exactly doubly degenerate (single-particle energies ω ± 2g cos(π/5), ω ± 2g cos(2π/5)
    pair up to 2ω twice)."""
    return R.chain_points(4, seed=331, n_sites=4)


# The step of the finite differences. Near the degeneracy the eigenvectors of H turn by
# θ = ½ atan2(2ε, ω_a − ω_b) and the observables vary on the scale ε in ω_a, ω_b and ε, so their
# step must be ≪ ε: h = 1e-2 ε with the five-point stencil leaves a truncation error
# ~(h/ε)⁴ ≈ 1e-8 relative, and the rounding noise of an evaluation (~1e-16 of the observable's
# scale) divided by h stays ≤ ~1e-8 of the derivative's scale even at ε = 1e-6 (a three-point
# stencil with h = 1e-3 ε leaves ~1e-6 truncation error, at the tolerance itself; measured).
# Every other parameter (and every parameter of the generic chain) varies on the scale of its
# own value: h = 1e-3 |p|, truncation ~1e-12.
EPSILON_SCALE = ("omega_a", "omega_b", "epsilon")
STENCIL = np.array([-2.0, -1.0, 1.0, 2.0])
WEIGHTS = np.array([1.0, -8.0, 8.0, -1.0]) / 12.0


def fd_step(param, p, degenerate):
    if degenerate and param in EPSILON_SCALE and "epsilon" in p:
        return 1e-2 * p["epsilon"]
    return 1e-3 * np.abs(p[param])


def stencil_points(p, parameters, degenerate):
    """For every parameter, the four shifted copies of ``p`` (groups named by the parameter)."""
    groups = {}
    for name in parameters:
        h = fd_step(name, p, degenerate)
        for s in STENCIL:
            groups[(name, s)] = {**p, name: p[name] + s * h}
    return groups


# ----------------------------------------------------------------------------- one solve per model


@functools.cache
def pair_solution():
    """The global pair, no derivatives: (a)'s random points, (c)'s stencils, (d)'s points."""
    m = model("qubit_pair", coupling="global")
    groups = {"random": pair_random_points(), "sigma": pair_sigma_points()}
    groups.update(stencil_points(degenerate_pair_points(), m.parameters, degenerate=True))
    p, slices = _concat(groups)
    out = _np(jaxtherm.solve(m, **p))
    return {g: {k: v[s] for k, v in out.items()} for g, s in slices.items()}


@functools.cache
def chain_solution(n):
    """The global chain of n sites, no derivatives: (b)'s points (n = 3), (c)'s stencils (n = 4),
    (d)'s points."""
    m = model("qubit_chain", n=n, coupling="global")
    groups = {"sigma": chain_sigma_points(n)}
    if n == 3:
        groups["reference"] = chain_reference_points()
    if n == 4:
        groups.update(stencil_points(chain4_points(), m.parameters, degenerate=False))
    p, slices = _concat(groups)
    out = _np(jaxtherm.solve(m, rho=n == 3, **p))
    return {g: {k: v[s] for k, v in out.items()} for g, s in slices.items()}


@functools.cache
def refrigerator_solution():
    """The global refrigerator, no derivatives: (b)'s points, (c)'s stencils, (d)'s points."""
    m = model("absorption_refrigerator", coupling="global")
    groups = {"reference": refrigerator_reference_points(), "sigma": refrigerator_sigma_points()}
    groups.update(stencil_points(refrigerator_degenerate_points(), m.parameters, degenerate=False))
    p, slices = _concat(groups)
    out = _np(jaxtherm.solve(m, **p))
    return {g: {k: v[s] for k, v in out.items()} for g, s in slices.items()}


# ----------------------------------------------------------------------------- (a) the pair


def test_pair_matches_closed_form_and_qutip():
    """J_a, J_b: jaxtherm == closed form == QuTiP (1e-10 relative, floor 1e-14 F); no power;
    σ and ρ against QuTiP too."""
    p = pair_random_points()
    assert (p["epsilon"] ** 2 > p["omega_a"] * p["omega_b"]).sum() >= 20
    out = pair_solution()["random"]
    assert np.all(out["status"] == 0), out["status"]
    e, gamma = scales("qubit_pair", p)
    flow = e * gamma
    cf = _np(global_(**p))
    refs = []
    for i in range(len(flow)):
        system = R.qubit_pair("global", **R.point(p, i))
        assert system.min_bohr_gap() > 1e-4  # generic: no grouping tolerance matters
        refs.append(R.solve(system))
    ref = {k: np.array([r[k] for r in refs]) for k in ("J_a", "J_b", "sigma")}
    for b in ("J_a", "J_b"):
        _assert_current(f"{b} vs closed form", out[b], cf[b], flow, p)
        _assert_current(f"{b} vs QuTiP", out[b], ref[b], flow, p)
    assert np.all(np.abs(out["power"]) <= FLOOR * flow)
    beta = p["beta_a"] + p["beta_b"]
    _assert_current("sigma vs QuTiP", out["sigma"], ref["sigma"], flow * beta, p)
    for i, r in enumerate(refs):
        np.testing.assert_allclose(out["rho"][i], r["rho"], atol=1e-10, rtol=0, err_msg=f"point {i}")


# ----------------------------------------------------------------------------- (b) chain, fridge


def _assert_matches_reference(name, p, out, systems, baths, **options):
    e, gamma = scales(name, p, **options)
    flow = e * gamma
    refs = []
    for i, system in enumerate(systems):
        assert system.min_bohr_gap() > 1e-4, (name, R.point(p, i))
        refs.append(R.solve(system))
    for b in baths:
        ref = np.array([r[f"J_{b}"] for r in refs])
        _assert_current(f"{name} J_{b} vs QuTiP", out[f"J_{b}"], ref, flow, p)
    beta = sum(p[f"beta_{b}"] for b in baths)
    _assert_current(f"{name} sigma vs QuTiP", out["sigma"], np.array([r["sigma"] for r in refs]), flow * beta, p)
    assert np.all(np.abs(out["power"]) <= FLOOR * flow)
    for i, r in enumerate(refs):
        np.testing.assert_allclose(out["rho"][i], r["rho"], atol=1e-10, rtol=0, err_msg=f"{name} point {i}")


def test_chain3_matches_qutip():
    p = chain_reference_points()
    out = chain_solution(3)["reference"]
    assert np.all(out["status"] == 0), out["status"]
    systems = [R.qubit_chain(3, "global", **R.point(p, i)) for i in range(len(p["omega"]))]
    _assert_matches_reference("qubit_chain", p, out, systems, ("h", "c"), n=3)


def test_refrigerator_matches_qutip():
    p = refrigerator_reference_points()
    out = refrigerator_solution()["reference"]
    assert np.all(out["status"] == 0), out["status"]
    systems = [R.absorption_refrigerator("global", **R.point(p, i)) for i in range(len(p["E_c"]))]
    _assert_matches_reference("absorption_refrigerator", p, out, systems, ("c", "r", "h"))


# ----------------------------------------------------------------------------- (c) degeneracies


def _parameter_scale(param, e, gamma):
    if param.startswith("beta"):
        return 1.0 / e
    if param.startswith("gamma"):
        return gamma
    return e


def _observable_scale(obs, p, e, gamma, values):
    """``S_O`` (tests/test_solvers.py); a ratio (``cop``, ``cop_carnot``) on the scale of its
    own value."""
    flow = e * gamma
    if obs.startswith("J_") or obs == "power":
        return flow
    if obs == "sigma":
        return flow * (sum(v for k, v in p.items() if k.startswith("beta")) + 1.0 / e)
    if obs.startswith("cop"):
        return np.abs(values[obs])
    return np.ones_like(e)  # qubit populations


def _assert_gradients_equal_fd(m, p, grads, shifted, name, **options):
    """Every ``d{obs}_d{param}`` finite and within ``1e-6 (|fd| + S_O / P_p)`` of the five-point
    finite difference (scales as in tests/test_solvers.py)."""
    e, gamma = scales(name, p, **options)
    failures = []
    for param in m.parameters:
        h = fd_step(param, p, degenerate=name == "qubit_pair")
        for obs in m.observables:
            key = jaxtherm.gradient_name(obs, param)
            ad = grads[key]
            if not np.all(np.isfinite(ad)):
                failures.append(f"{key}: not finite: {ad}")
                continue
            fd = sum(w * shifted[(param, s)][obs] for s, w in zip(STENCIL, WEIGHTS)) / h
            scale = _observable_scale(obs, p, e, gamma, grads) / _parameter_scale(param, e, gamma)
            tol = FD_REL * (np.abs(fd) + scale)
            bad = ~(np.abs(ad - fd) <= tol)
            for i in np.nonzero(bad)[0]:
                failures.append(
                    f"{key} point {i}: forward {ad[i]!r}, finite difference {fd[i]!r}, tol {tol[i]:.2e}; "
                    f"{ {k: float(v[i]) for k, v in p.items()} }"
                )
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures[:20])


def test_pair_gradients_at_degenerate_bohr_frequencies():
    """ω_a = ω_b, ε = 1e-2, 1e-4, 1e-6: finite forward-mode derivatives of every observable by
    every parameter, equal to five-point finite differences to 1e-6 relative (step: see
    ``fd_step``)."""
    m = model("qubit_pair", coupling="global")
    p = degenerate_pair_points()
    grads = _np(jaxtherm.solve(m, gradients=m.parameters, rho=False, **p))
    assert np.all(grads["status"] == 0), grads["status"]
    sol = pair_solution()
    shifted = {k: v for k, v in sol.items() if isinstance(k, tuple)}
    assert all(np.all(v["status"] == 0) for v in shifted.values())
    _assert_gradients_equal_fd(m, p, grads, shifted, "qubit_pair")


def test_refrigerator_gradients_at_degenerate_levels():
    """Global refrigerator at E_c = E_h (degenerate levels of H, distinct Bohr frequencies in
    every bath: a smooth point): finite derivatives equal to five-point finite differences
    (h = 1e-3 |p|) to 1e-6 relative."""
    m = model("absorption_refrigerator", coupling="global")
    p = refrigerator_degenerate_points()
    grads = _np(jaxtherm.solve(m, gradients=m.parameters, rho=False, **p))
    assert np.all(grads["status"] == 0), grads["status"]
    sol = refrigerator_solution()
    shifted = {k: v for k, v in sol.items() if isinstance(k, tuple)}
    assert all(np.all(v["status"] == 0) for v in shifted.values())
    _assert_gradients_equal_fd(m, p, grads, shifted, "absorption_refrigerator")


def test_chain4_gradients_with_degenerate_two_excitation_level():
    """Global chain n = 4 at generic points (doubly degenerate level 2ω): finite derivatives
    equal to five-point finite differences (h = 1e-3 |p|) to 1e-6 relative."""
    m = model("qubit_chain", n=4, coupling="global")
    p = chain4_points()
    grads = _np(jaxtherm.solve(m, gradients=m.parameters, rho=False, **p))
    assert np.all(grads["status"] == 0), grads["status"]
    sol = chain_solution(4)
    shifted = {k: v for k, v in sol.items() if isinstance(k, tuple)}
    assert all(np.all(v["status"] == 0) for v in shifted.values())
    _assert_gradients_equal_fd(m, p, grads, shifted, "qubit_chain", n=4)


# ----------------------------------------------------------------------------- (d) σ ≥ 0


def _with_edges(p, beta_names):
    """Random points plus: equal temperatures (σ = 0 exactly), one bath cold (β = 20)."""
    n = len(next(iter(p.values())))
    q = {k: np.asarray(v, float).copy() for k, v in p.items()}
    eq = np.arange(n) % 4 == 1
    for b in beta_names[1:]:
        q[b][eq] = q[beta_names[0]][eq]
    cold = np.arange(n) % 4 == 2
    q[beta_names[0]][cold] = 20.0
    return q


def pair_sigma_points():
    return _with_edges(random_points(40, seed=342), ["beta_a", "beta_b"])


def chain_sigma_points(n):
    return _with_edges(chain_reference_points(n=n, count=24, seed=360 + n), ["beta_h", "beta_c"])


def refrigerator_sigma_points():
    return _with_edges(refrigerator_reference_points(count=40, seed=372), ["beta_c", "beta_r", "beta_h"])


def oscillator_sigma_points():
    return _with_edges(R.oscillator_points(24, seed=381), ["beta_a", "beta_b"])


SIGMA_CASES = [
    ("qubit_pair", {"coupling": "global"}),
    *(("qubit_chain", {"n": n, "coupling": "global"}) for n in (2, 3, 4)),
    ("absorption_refrigerator", {"coupling": "global"}),
    ("oscillator_pair", {"cutoff": 3, "coupling": "global"}),
]


def _sigma_solution(name, options):
    if name == "qubit_pair":
        return pair_sigma_points(), pair_solution()["sigma"]
    if name == "qubit_chain":
        return chain_sigma_points(options["n"]), chain_solution(options["n"])["sigma"]
    if name == "absorption_refrigerator":
        return refrigerator_sigma_points(), refrigerator_solution()["sigma"]
    p = oscillator_sigma_points()
    return p, _np(jaxtherm.solve(model(name, **options), rho=False, **p))


@pytest.mark.parametrize("name, options", SIGMA_CASES, ids=lambda x: x if isinstance(x, str) else "-".join(map(str, x.values())))
def test_entropy_production_nonnegative(name, options):
    """σ = −Σ β_x J_x ≥ −1e-14 F Σ β_x: non-negative up to the rounding of the currents (the
    floor is ≥ 300× the noise measured at the equal-temperature points, where σ = 0 exactly:
    |σ| ≤ 3e-17 F Σ β_x on every model here). A quarter of the points are at equal
    temperatures, a quarter have one bath at β = 20."""
    p, out = _sigma_solution(name, options)
    assert np.all(out["status"] == 0), out["status"]
    e, gamma = scales(name, p, **options)
    beta = sum(v for k, v in p.items() if k.startswith("beta"))
    floor = 1e-14 * e * gamma * beta
    bad = ~(out["sigma"] >= -floor)
    assert not bad.any(), [(float(out["sigma"][i]), float(floor[i]), R.point(p, i)) for i in np.nonzero(bad)[0][:5]]
    assert np.any(out["sigma"] > 1e-3 * e * gamma * beta)  # not vacuous: real currents flow
