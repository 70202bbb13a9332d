"""Every solver equals the dense reference, on every built-in model.

For each built-in model family and option (qubit pair local / global / incoherent; XX chain
n = 2, 3 local and global, n = 4 local; absorption refrigerator local / global; oscillator pair
cutoff 3 local / global / incoherent) and each solver in ``SOLVERS_UNDER_TEST``, one
``jaxtherm.solve`` call over a batch of ~20 random points inside the domain, edge points
(rates spanning 1e-4 … 1e2, exact resonance, equal temperatures, β up to 20, β = 0, ε or g down
to 1e-6, strong and negative couplings) and bad points (all rates zero; a negative rate, a
negative inverse temperature, a non-positive frequency; a NaN parameter), with the derivative
of every observable with respect to every parameter, is compared with the same call with
``solver="dense"`` (the full-Liouvillian LU, the reference). Only the public API is used.

Natural scales (all per point). ``E`` bounds ‖H‖ (the sum of the mode energies, times
``cutoff − 1`` for oscillators, plus the coherent coupling's norm); ``Γ`` is the largest rate
(every ``gamma_x``, and ``epsilon`` where it is the incoherent channel's rate). A current
``J_x = Tr(H D_x ρ)`` is bounded by a small multiple of ``F = E·Γ`` and is computed as a
difference of energy flows of that size; a backward-stable solve of a Liouvillian whose
entries are ~Γ therefore resolves it to (machine ε)·(condition)·F and no better — the scale
is the same for every solver, and 1e-10·F leaves room for condition numbers up to ~1e5–1e6
(rates spanning 1e-4 … 1e2 give ~1e6: the edge points probe exactly that). So:

* ``J_x``, ``power``: ``|Δ| ≤ 1e-10 (|ref| + F)``;
* ``sigma = −Σ β_x J_x``: ``F (Σ_x β_x + 1/E)`` — the ``1/E`` keeps the scale of
  ``∂σ/∂β_x ∋ −J_x`` when the β are small;
* populations: ``n_max`` (1 for qubits, ``cutoff − 1`` for oscillators); ρ: 1 (``Tr ρ = 1``),
  elementwise ``1e-10`` absolute;
* ``cop = J_c / J_h``: the currents' tolerances propagated, ``(tol_Jc + |cop| tol_Jh)/|J_h|``
  (skipped where ``|J_h| < 1e3 tol_Jh``: there the currents do not determine the ratio);
  ``cop_carnot`` depends on the parameters only: equal to rounding.
* a derivative ``∂O/∂p``: ``1e-10 (|ref| + S_O / P_p)`` with ``S_O`` the observable's scale
  above and ``P_p`` the parameter's: ``E`` for energies (frequencies, ``g``, the coherent
  ``epsilon``), ``1/E`` for inverse temperatures (they enter as ``βν``), and for a rate its own
  value ``|γ_x|`` (rates are scale parameters: the observables depend on them through ratios,
  so ``∂O/∂ln γ_x`` is bounded by ``S_O``; a zero rate takes the smallest non-zero one). Global
  models add ``100 ε_mach κ_V S_O / P_p`` for their eigenvectors' conditioning (``eigenvector_condition``).
  ``Γ`` instead of ``|γ_x|`` would demand, for a rate 1e6 below the largest one, more than
  the dense reference itself delivers: at ω_a = ω_b = 1.3, β = (0.5, 1.7), γ = (1e-4, 1e2),
  ε = 1e-6 (local pair) the closed form gives ``∂n_a/∂γ_a = 5.7817e-7``, dense 5.8804e-7,
  reduced 5.7569e-7 (the tangent's right-hand side ``(∂L/∂γ_a) ρ`` is ~1e-10, formed from a
  ρ accurate to κ(L)·ε_mach ≈ 1e-12).

Every good point must come back with status 0 and finite outputs (``cop``, ``cop_carnot`` and
their derivatives excepted: ``0/0`` at equal temperatures) in every solver, the reference too.

Tolerances are never loosened to make a solver pass: a failure here is a solver bug or a
finding to report.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pytest

import jaxtherm
from tests import reference as R
from tests.helpers import random_points

SOLVERS_UNDER_TEST = ("reduced",)
REFERENCE_SOLVER = "dense"
TOL = 1e-10

SINGULAR = jaxtherm.STATUS_SINGULAR
DOMAIN = jaxtherm.STATUS_DOMAIN
NONFINITE = jaxtherm.STATUS_NONFINITE


# ----------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    name: str
    options: tuple  # sorted (key, value) pairs

    @property
    def id(self):
        return self.name + "-" + "-".join(f"{k}={v}" for k, v in self.options)

    @property
    def opts(self) -> dict:
        return dict(self.options)

    @property
    def coherent(self) -> bool:
        return self.opts.get("coupling") != "incoherent"


def _case(name, **options):
    return Case(name, tuple(sorted(options.items())))


CASES = [
    *(_case("qubit_pair", coupling=c) for c in ("local", "global", "incoherent")),
    *(_case("qubit_chain", n=3, coupling=c) for c in ("local", "global")),  # n = 2: the pair's sector
    _case("qubit_chain", n=4, coupling="local"),  # n = 4 global: left out, its dense compile is slow
    *(_case("absorption_refrigerator", coupling=c) for c in ("local", "global")),
    *(_case("oscillator_pair", cutoff=3, coupling=c) for c in ("local", "global")),  # incoherent: the pair's
]


@functools.cache
def model(case: Case):
    return jaxtherm.models.get(case.name, **case.opts)


# ----------------------------------------------------------------------------- the points


def _rows(base: dict, changes: list[dict]) -> dict[str, np.ndarray]:
    rows = [{**base, **c} for c in changes]
    return {k: np.array([r[k] for r in rows], dtype=float) for k in base}


def _concat(*parts: dict) -> dict[str, np.ndarray]:
    return {k: np.concatenate([np.asarray(p[k], float) for p in parts]) for k in parts[0]}


def _pair_points(oscillator: bool):
    """ω_a, ω_b, β_a, β_b, γ_a, γ_b, ε: random, edge, bad (with their expected status)."""
    rnd = R.oscillator_points(20, seed=101) if oscillator else random_points(20, seed=101)
    base = dict(omega_a=1.3, omega_b=0.8, beta_a=0.5, beta_b=1.7, gamma_a=0.3, gamma_b=0.6, epsilon=0.2)
    res = dict(omega_b=1.3)
    edge = _rows(
        base,
        [
            res,  # exact resonance
            dict(beta_b=0.5),  # equal temperatures
            dict(res, beta_b=0.5),  # both: no current at all in the local / incoherent models
            dict(gamma_a=1e-4, gamma_b=1e2),
            dict(gamma_a=1e2, gamma_b=1e-4),
            dict(gamma_a=1e-4, gamma_b=1e-4),
            dict(gamma_a=1e2, gamma_b=1e2),
            dict(res, gamma_a=1e-4, gamma_b=1e2),
            dict(epsilon=1e2),  # strong coherent coupling / fast incoherent channel
            dict(epsilon=1e2, gamma_a=1e-4, gamma_b=1e-4),
            dict(epsilon=1e-4, gamma_a=1e2, gamma_b=1e2),
            dict(beta_a=20.0, beta_b=20.0),
            dict(beta_a=20.0, beta_b=0.05),
            dict(beta_a=0.0),  # infinite temperature
            dict(epsilon=1e-6),
            dict(res, epsilon=1e-6),
            dict(res, epsilon=1e-6, gamma_a=1e-4, gamma_b=1e2),
            dict(res, epsilon=1e-6, beta_a=20.0, beta_b=0.05),
            dict(epsilon=0.0),  # uncoupled, detuned: two thermal qubits
            dict(epsilon=2.0),  # ε² > ω_a ω_b
        ],
    )
    bad_changes = [
        (dict(gamma_a=0.0, gamma_b=0.0, epsilon=0.0), SINGULAR),
        (dict(gamma_b=-0.1), DOMAIN),
        (dict(beta_a=-1.0), DOMAIN),  # T_a = −1
        (dict(omega_b=0.0), DOMAIN),
        (dict(omega_a=-1.0), DOMAIN),
        (dict(epsilon=-0.1), DOMAIN),
        (dict(omega_a=np.nan), NONFINITE),
    ]
    bad = _rows(base, [c for c, _ in bad_changes])
    return rnd, edge, bad, np.array([s for _, s in bad_changes])


def _chain_points(n: int):
    rnd = R.chain_points(20, seed=110 + n, n_sites=n)
    strong = np.arange(20) % 3 == 0  # |g| up to 1.2 ω: negative single-particle energies
    rng = np.random.default_rng(120 + n)
    rnd["g"][strong] = rnd["omega"][strong] * rng.uniform(0.5, 1.2, strong.sum()) * rng.choice([-1, 1], strong.sum())
    base = dict(omega=1.2, g=0.3, beta_h=0.4, beta_c=1.5, gamma_h=0.5, gamma_c=0.8)
    edge = _rows(
        base,
        [
            dict(g=1e-6),
            dict(g=-0.3),
            dict(g=1.5),
            dict(beta_c=0.4),  # equal temperatures
            dict(gamma_h=1e-4, gamma_c=1e2),
            dict(gamma_h=1e2, gamma_c=1e-4),
            dict(gamma_h=1e-4, gamma_c=1e-4),
            dict(gamma_h=1e2, gamma_c=1e2),
            dict(g=1e-6, gamma_h=1e-4, gamma_c=1e2),
            dict(g=1e2, gamma_h=1e-4, gamma_c=1e-4),
            dict(beta_c=20.0),
            dict(beta_h=20.0, beta_c=20.0),
            dict(beta_h=0.0),
            dict(g=1e-6, beta_h=20.0, beta_c=0.05),
        ],
    )
    bad_changes = [
        (dict(gamma_h=0.0, gamma_c=0.0), SINGULAR),
        (dict(gamma_c=-0.2), DOMAIN),
        (dict(beta_h=-1.0), DOMAIN),
        (dict(omega=0.0), DOMAIN),
        (dict(omega=np.nan), NONFINITE),
    ]
    return rnd, edge, _rows(base, [c for c, _ in bad_changes]), np.array([s for _, s in bad_changes])


def _refrigerator_points():
    rnd = R.refrigerator_points(20, seed=130)
    strong = np.arange(20) % 3 == 0
    rnd["g"][strong] = rnd["E_c"][strong] * np.random.default_rng(131).uniform(0.3, 0.9, strong.sum())
    base = dict(E_c=1.0, E_h=2.5, g=0.1, beta_c=1.5, beta_r=0.8, beta_h=0.1, gamma_c=0.3, gamma_r=0.5, gamma_h=0.2)
    edge = _rows(
        base,
        [
            dict(g=1e-6),
            dict(g=-0.1),
            dict(g=2.0),  # g > E_c
            dict(beta_c=0.7, beta_r=0.7, beta_h=0.7),  # equal temperatures
            dict(E_h=1.0),  # E_c = E_h
            dict(gamma_c=1e-4, gamma_r=1e2, gamma_h=1.0),
            dict(gamma_c=1e2, gamma_r=1.0, gamma_h=1e-4),
            dict(gamma_c=1e-4, gamma_r=1e-4, gamma_h=1e-4),
            dict(gamma_c=1e2, gamma_r=1e2, gamma_h=1e2),
            dict(g=1e-6, gamma_c=1e-4, gamma_r=1e2, gamma_h=1.0),
            dict(beta_c=20.0),
            dict(beta_c=20.0, beta_r=20.0, beta_h=20.0),
            dict(beta_h=0.0),
        ],
    )
    bad_changes = [
        (dict(gamma_c=0.0, gamma_r=0.0, gamma_h=0.0), SINGULAR),
        (dict(gamma_r=-0.1), DOMAIN),
        (dict(beta_c=-1.0), DOMAIN),
        (dict(E_c=0.0), DOMAIN),
        (dict(E_h=np.nan), NONFINITE),
    ]
    return rnd, edge, _rows(base, [c for c, _ in bad_changes]), np.array([s for _, s in bad_changes])


@functools.cache
def points(case: Case):
    """``(params, n_good, expected_bad_status)``: the good points (random, then edge) first."""
    if case.name in ("qubit_pair", "oscillator_pair"):
        rnd, edge, bad, expected = _pair_points(case.name == "oscillator_pair")
    elif case.name == "qubit_chain":
        rnd, edge, bad, expected = _chain_points(case.opts["n"])
    else:
        rnd, edge, bad, expected = _refrigerator_points()
    good = _concat(rnd, edge)
    n_good = len(good[next(iter(good))])
    return _concat(good, bad), n_good, expected


# ----------------------------------------------------------------------------- scales


def _rates(case: Case, p: dict) -> np.ndarray:
    if case.name in ("qubit_pair", "oscillator_pair"):
        rates = [p["gamma_a"], p["gamma_b"]] + ([] if case.coherent else [p["epsilon"]])
    elif case.name == "qubit_chain":
        rates = [p["gamma_h"], p["gamma_c"]]
    else:
        rates = [p["gamma_c"], p["gamma_r"], p["gamma_h"]]
    return np.abs(np.stack(rates))


def energy_rate_scales(case: Case, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(E, Γ)`` per point: a bound on ‖H‖ and the largest rate (module docstring)."""
    if case.name in ("qubit_pair", "oscillator_pair"):
        quanta = case.opts.get("cutoff", 2) - 1
        e = quanta * (np.abs(p["omega_a"]) + np.abs(p["omega_b"]) + (np.abs(p["epsilon"]) if case.coherent else 0.0))
    elif case.name == "qubit_chain":
        n = case.opts["n"]
        e = n * np.abs(p["omega"]) + 2 * (n - 1) * np.abs(p["g"])
    else:
        e = 2 * (np.abs(p["E_c"]) + np.abs(p["E_h"])) + np.abs(p["g"])
    return e, np.max(_rates(case, p), axis=0)


def parameter_scale(case: Case, name: str, p: dict, e):
    """``P_p``: ``1/E`` for an inverse temperature, ``E`` for an energy, and for a rate its own
    value — or, for a rate that is zero, the smallest non-zero rate it competes with (module
    docstring)."""
    if name.startswith("beta"):
        return 1.0 / e
    if name.startswith("gamma") or (name == "epsilon" and not case.coherent):
        rates = _rates(case, p)
        smallest = np.min(np.where(rates > 0, rates, np.inf), axis=0)
        return np.where(np.abs(p[name]) > 0, np.abs(p[name]), smallest)
    return e  # frequencies, g, the coherent epsilon


def eigenvector_condition(case: Case, p: dict, e):
    """``κ_V = E / coupling`` for global (Davies) models, 1 otherwise.

    A global model's generator is built from the eigenvectors of ``H``; levels split only by
    the coupling (ε or g, at resonance) have eigenvectors accurate to ``ε_mach E / coupling``,
    and every derivative inherits a rounding error ``~ ε_mach κ_V S_O / P_p`` in any float64
    construction (measured: oscillator pair at resonance, ε = 1e-6, κ_V ≈ 3e6: the
    eigenbasis and the general construction differ by 1.1e-10 in ``∂n_b/∂ω_a`` of size 9e-3,
    ``S/P ≈ 0.4``). ``test_gradients_equal_dense`` allows ``100 ε_mach κ_V S_O / P_p`` on
    top of the 1e-10 scale; at ordinary points (κ_V ~ 10) that is below 1e-13 S_O / P_p."""
    if case.opts.get("coupling") != "global":
        return np.ones_like(e)
    coupling = np.abs(p["epsilon"] if "epsilon" in p else p["g"])
    return np.maximum(1.0, e / np.where(coupling > 0, coupling, np.inf))


def observable_scales(case: Case, p: dict) -> dict:
    """``S_O`` per scalar observable (cop / cop_carnot are handled apart)."""
    e, gamma = energy_rate_scales(case, p)
    flow = e * gamma
    betas = sum(np.abs(v) for k, v in p.items() if k.startswith("beta"))
    n_max = case.opts.get("cutoff", 2) - 1
    scales = {}
    for obs in model(case).observables:
        if obs.startswith("J_") or obs == "power":
            scales[obs] = flow
        elif obs == "sigma":
            scales[obs] = flow * (betas + 1.0 / e)
        elif obs.startswith("n_"):
            scales[obs] = np.full_like(e, float(n_max))
    return scales


def reference_system(case: Case, q: dict) -> R.System:
    """The independent implementation's system (``tests.reference``) of one point."""
    opts = case.opts
    if case.name == "qubit_pair":
        return R.qubit_pair(opts["coupling"], **q)
    if case.name == "qubit_chain":
        return R.qubit_chain(opts["n"], opts["coupling"], **q)
    if case.name == "absorption_refrigerator":
        return R.absorption_refrigerator(opts["coupling"], **q)
    return R.oscillator_pair(opts["cutoff"], opts["coupling"], **q)


# ----------------------------------------------------------------------------- solving


def gradient_parameters(m) -> tuple[str, ...]:
    """One parameter of each kind: the first energy, the coupling, the first inverse temperature
    and the last rate (every kind enters the Liouvillian differently; all of them would triple
    the compile time of every case, which dominates this file's run time)."""
    names = m.parameters
    first = [n for n in names if not n.startswith(("beta", "gamma")) and n not in ("epsilon", "g")][:1]
    coupling = [n for n in names if n in ("epsilon", "g")]
    beta = [n for n in names if n.startswith("beta")][:1]
    rate = [n for n in names if n.startswith("gamma")][-1:]
    return tuple(first + coupling + beta + rate)


@functools.cache
def solved(case: Case, solver: str) -> dict:
    """Every point, the derivatives by ``gradient_parameters``, ρ: the good points in one
    ``solve`` call, the bad ones in another (a batch with a point that a sparse elimination
    cannot vouch for is solved again, whole, with partial pivoting: one batch would test the
    fallback only)."""
    m = model(case)
    p, n_good, _ = points(case)
    parts = [jaxtherm.solve(m, solver=solver, gradients=gradient_parameters(m), rho=True, **{k: v[part] for k, v in p.items()})
             for part in (slice(None, n_good), slice(n_good, None))]
    return {k: np.concatenate([np.asarray(o[k]) for o in parts]) for k in parts[0]}


def _good(case, solver):
    p, n_good, _ = points(case)
    out = {k: v[:n_good] for k, v in solved(case, solver).items()}
    return {k: v[:n_good] for k, v in p.items()}, out


def _report(what, a, b, tol, p, mask):
    idx = np.nonzero(mask)[0]
    lines = [f"{what}: {len(idx)} point(s) beyond tolerance"]
    for i in idx[:5]:
        pt = {k: float(v[i]) for k, v in p.items()}
        lines.append(f"  point {i}: got {a[i]!r}, dense {b[i]!r}, |Δ| {abs(a[i] - b[i]):.3e} > tol {tol[i]:.3e}; {pt}")
    return "\n".join(lines)


def _assert_within(what, a, b, tol, p):
    bad = ~(np.abs(a - b) <= tol)
    assert not bad.any(), _report(what, a, b, tol, p, bad)


# ----------------------------------------------------------------------------- tests


def test_cases_cover_every_family():
    """Every registered family is exercised (a new built-in model must be added here)."""
    assert {c.name for c in CASES} == {"qubit_pair", "qubit_chain", "absorption_refrigerator", "oscillator_pair"}


@pytest.mark.parametrize("solver", SOLVERS_UNDER_TEST)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_good_point_is_ok(case, solver):
    """Random and edge points are inside the domain: status 0 and finite outputs (observables,
    every derivative, ρ; ``cop`` excepted) in the reference and the solver."""
    p, ref = _good(case, REFERENCE_SOLVER)
    _, out = _good(case, solver)
    failures = []
    for label, o in ((REFERENCE_SOLVER, ref), (solver, out)):
        bad = np.nonzero(o["status"] != 0)[0]
        if bad.size:
            failures.append(
                f"{label}: status {o['status'][bad]} at points {bad}: "
                + "; ".join(str({k: float(v[i]) for k, v in p.items()}) for i in bad[:3])
            )
        checked = {k: v for k, v in o.items() if "cop" not in k and k != "residual"}
        finite = {k: np.isfinite(v.reshape(len(v), -1)).all(axis=1) for k, v in checked.items()}
        for i in np.nonzero(~np.all(np.stack(list(finite.values())), axis=0))[0]:
            keys = [k for k, f in finite.items() if not f[i]]
            failures.append(
                f"{label}: {len(keys)} non-finite output(s) at point {i} { {n: float(x[i]) for n, x in p.items()} }: {keys}"
            )
    assert not failures, f"{case.id}: {len(failures)} failure(s)\n" + "\n".join(failures)


@pytest.mark.parametrize("solver", SOLVERS_UNDER_TEST)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_observables_equal_dense(case, solver):
    """Every scalar observable within 1e-10 of its natural scale (module docstring)."""
    p, ref = _good(case, REFERENCE_SOLVER)
    _, out = _good(case, solver)
    ok = (ref["status"] == 0) & (out["status"] == 0)
    p = {k: v[ok] for k, v in p.items()}
    ref = {k: v[ok] for k, v in ref.items()}
    out = {k: v[ok] for k, v in out.items()}
    scales = observable_scales(case, p)
    for obs, scale in scales.items():
        _assert_within(f"{case.id} {solver} {obs}", out[obs], ref[obs], TOL * (np.abs(ref[obs]) + scale), p)
    if "cop" in ref:
        flow = scales["J_c"]
        tol_c, tol_h = TOL * (np.abs(ref["J_c"]) + flow), TOL * (np.abs(ref["J_h"]) + flow)
        determined = np.abs(ref["J_h"]) >= 1e3 * tol_h
        tol = (tol_c + np.abs(ref["cop"]) * tol_h) / np.abs(ref["J_h"])
        d = {k: v[determined] for k, v in p.items()}
        _assert_within(f"{case.id} {solver} cop", out["cop"][determined], ref["cop"][determined], tol[determined], d)
        np.testing.assert_allclose(out["cop_carnot"], ref["cop_carnot"], rtol=1e-14, atol=0, equal_nan=True)


@pytest.mark.parametrize("solver", SOLVERS_UNDER_TEST)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rho_equals_dense(case, solver):
    """ρ elementwise within 1e-10 (its scale: Tr ρ = 1) of the dense reference — except where
    the dense reference itself is further than that from the exact steady state (a 40-digit
    solution): there the solver must be at most 10× further from it than the reference is, and
    the reference's own error must be explained by the point's conditioning (at most ``10 ε κ``,
    ``κ`` the condition number of the Liouvillian with its trace equation, from the independent
    implementation). At g = 1e-6 the 3-qubit chain's middle qubit relaxes at ~g², κ ≈ 10¹¹,
    and the dense LU is 8e-7 from the exact ρ: no float64 solver gets within 1e-10 of it, nor
    can a different elimination agree with the dense one to 1e-10."""
    p, ref = _good(case, REFERENCE_SOLVER)
    _, out = _good(case, solver)
    ok = (ref["status"] == 0) & (out["status"] == 0)
    q = {k: v[ok] for k, v in p.items()}
    rho, rho_ref = out["rho"][ok], ref["rho"][ok]
    diff = np.abs(rho - rho_ref).reshape(ok.sum(), -1).max(axis=1)
    ill_posed = np.zeros(len(diff), bool)
    for i in np.flatnonzero(diff > TOL):  # the exact solution only where 1e-10 is not met
        exact, kappa = R.steady_state_exact(reference_system(case, R.point(q, i)))
        err, err_ref = np.abs(rho[i] - exact).max(), np.abs(rho_ref[i] - exact).max()
        if err_ref <= TOL:
            continue  # the reference is accurate here: the 1e-10 comparison below stands
        ill_posed[i] = True
        where = f"{case.id} at {R.point(q, i)} (κ = {kappa:.2e})"
        assert err_ref <= 10 * np.finfo(float).eps * kappa, f"{where}: the dense reference is {err_ref:.2e} from the exact ρ"
        assert err <= 10 * err_ref, f"{where}: {solver} is {err:.2e} from the exact ρ, the dense reference {err_ref:.2e}"
    _assert_within(f"{case.id} {solver} rho (max |Δρ_ij|)", diff[~ill_posed], np.zeros((~ill_posed).sum()),
                   np.full((~ill_posed).sum(), TOL), {k: v[~ill_posed] for k, v in q.items()})


@pytest.mark.parametrize("solver", SOLVERS_UNDER_TEST)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gradients_equal_dense(case, solver):
    """``∂O/∂p`` for every scalar observable O and every parameter p within
    ``1e-10 (|ref| + S_O / P_p)`` (module docstring); cop's derivative by propagation."""
    m = model(case)
    p, ref = _good(case, REFERENCE_SOLVER)
    _, out = _good(case, solver)
    ok = (ref["status"] == 0) & (out["status"] == 0)
    p = {k: v[ok] for k, v in p.items()}
    ref = {k: v[ok] for k, v in ref.items()}
    out = {k: v[ok] for k, v in out.items()}
    e, _ = energy_rate_scales(case, p)
    scales = observable_scales(case, p)
    failures = []
    kappa = eigenvector_condition(case, p, e)
    for name in gradient_parameters(m):
        ps = parameter_scale(case, name, p, e)
        for obs, scale in scales.items():
            key = jaxtherm.gradient_name(obs, name)
            tol = TOL * (np.abs(ref[key]) + scale / ps) + 100 * np.finfo(float).eps * kappa * scale / ps
            bad = ~(np.abs(out[key] - ref[key]) <= tol) & ~(np.isnan(out[key]) & np.isnan(ref[key]))
            if bad.any():
                failures.append(_report(f"{case.id} {solver} {key}", out[key], ref[key], tol, p, bad))
        if "cop" in ref:  # d cop = (dJ_c − cop dJ_h)/J_h: propagate the tolerances
            flow = scales["J_c"]
            t_jc, t_jh = TOL * (np.abs(ref["J_c"]) + flow), TOL * (np.abs(ref["J_h"]) + flow)
            dc, dh = ref[jaxtherm.gradient_name("J_c", name)], ref[jaxtherm.gradient_name("J_h", name)]
            t_dc, t_dh = TOL * (np.abs(dc) + flow / ps), TOL * (np.abs(dh) + flow / ps)
            jh, cop, dcop = np.abs(ref["J_h"]), np.abs(ref["cop"]), ref[jaxtherm.gradient_name("cop", name)]
            t_cop = (t_jc + cop * t_jh) / jh
            tol = (t_dc + cop * t_dh + np.abs(dh) * t_cop + np.abs(dcop) * t_jh) / jh
            determined = jh >= 1e3 * t_jh
            key = jaxtherm.gradient_name("cop", name)
            bad = determined & ~(np.abs(out[key] - ref[key]) <= tol) & ~(np.isnan(out[key]) & np.isnan(ref[key]))
            if bad.any():
                failures.append(_report(f"{case.id} {solver} {key}", out[key], ref[key], tol, p, bad))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("solver", SOLVERS_UNDER_TEST)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_points_flagged_alike(case, solver):
    """Singular (all rates zero), out-of-domain (negative rate, negative β i.e. T < 0,
    non-positive frequency) and non-finite points: the status the reference gives (1, 4, 2),
    the same status from the solver, and NaN for every observable, derivative and ρ."""
    p, n_good, expected = points(case)
    ref, out = solved(case, REFERENCE_SOLVER), solved(case, solver)
    bad = slice(n_good, None)
    np.testing.assert_array_equal(ref["status"][bad], expected, err_msg=f"{case.id} {REFERENCE_SOLVER}")
    np.testing.assert_array_equal(out["status"][bad], ref["status"][bad], err_msg=f"{case.id} {solver}")
    for label, o in ((REFERENCE_SOLVER, ref), (solver, out)):
        for k, v in o.items():
            if k not in ("status", "residual"):
                assert np.all(np.isnan(v[bad])), f"{case.id} {label}: {k} not NaN at a bad point: {v[bad]}"


def test_singular_points_without_a_zero_pivot_are_flagged_alike():
    """g = 0 leaves the 3-qubit chain's middle qubit without dissipation: no unique steady state,
    yet no exactly zero pivot in the sparse elimination, and any of the steady states has a tiny
    residual. Solved alone (no other bad point to send the batch to the pivoted fallback), the
    static pivots must not vouch for them: the statuses are the dense reference's."""
    m = model(_case("qubit_chain", n=3, coupling="local"))
    assert jaxtherm.Reduced().plan(m).method == "static_pivots"
    p = dict(omega=1.2, beta_h=0.4, beta_c=1.5, gamma_c=0.8, gamma_h=np.array([0.5, 1e-3, 0.5]), g=np.array([0.0, 0.0, 0.3]))
    ref = jaxtherm.solve(m, solver="dense", rho=False, **p)
    out = jaxtherm.solve(m, solver="reduced", rho=False, **p)
    np.testing.assert_array_equal(np.asarray(ref["status"]), [SINGULAR, SINGULAR, 0])
    np.testing.assert_array_equal(np.asarray(out["status"]), np.asarray(ref["status"]))


@pytest.mark.parametrize("solver", SOLVERS_UNDER_TEST)
def test_negative_temperature_given_as_T_is_flagged_alike(solver):
    """The temperature alias: ``T_a < 0`` is outside the domain (status 4) in both solvers."""
    m = model(_case("qubit_pair", coupling="local"))
    p = dict(omega_a=1.3, omega_b=0.8, gamma_a=0.3, gamma_b=0.6, epsilon=0.2, T_b=0.6, T_a=np.array([2.0, -1.0, -0.5]))
    ref = jaxtherm.solve(m, solver=REFERENCE_SOLVER, rho=False, **p)
    out = jaxtherm.solve(m, solver=solver, rho=False, **p)
    np.testing.assert_array_equal(np.asarray(ref["status"]), [0, DOMAIN, DOMAIN])
    np.testing.assert_array_equal(np.asarray(out["status"]), np.asarray(ref["status"]))
    for o in (ref, out):
        assert np.all(np.isnan(np.asarray(o["J_a"])[1:])) and np.isfinite(np.asarray(o["J_a"])[0])
    flow = (0.3 + 0.6) * (1.3 + 0.8 + 0.2)
    assert abs(float(out["J_a"][0]) - float(ref["J_a"][0])) <= TOL * (abs(float(ref["J_a"][0])) + flow)
