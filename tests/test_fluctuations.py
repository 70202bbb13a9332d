"""Heat-current fluctuations (``docs/design.md`` §2.7, full counting statistics): closed form, independent
references (NumPy Drazin inverse, the tilted generator's leading eigenvalue, QuTiP's
``countstat_current_noise``), the uncertainty ratio, gradients and sweeps."""

import functools

import h5py
import numpy as np
import pytest
import qutip

import jaxtherm
from jaxtherm.models import Bath, Lindblad, Model, Term, local_thermalizer
from jaxtherm.physics.operators import dag, sigmam
from jaxtherm.sweep import SpecError, parse_spec, run_sweep
from tests import reference
from tests.helpers import random_points


# ----------------------------------------------------------------------------- references
def _superoperators(system: reference.System, bath: str):
    """``L``, ``ρ`` (vectorised, QuTiP's column stacking), the trace functional and the counting
    superoperators ``𝒥_k = Σ ν^k c · c†`` (k = 1, 2) of one bath, dense NumPy."""
    lv = qutip.liouvillian(system.h, system.c_ops).full()
    rho = system.to_here(reference.steady_state(system))
    vec = qutip.operator_to_vector(qutip.Qobj(rho)).full().ravel()
    one = qutip.operator_to_vector(qutip.qeye(rho.shape[0])).full().ravel().conj()
    jumps = [qutip.sprepost(c, c.dag()).full() for c in system.baths[bath]]
    nus = system.quanta[bath]
    counting = [sum(nu**k * j for nu, j in zip(nus, jumps, strict=True)) for k in (1, 2)]
    return lv, vec, one, counting, jumps, nus


def drazin_noise(system: reference.System, bath: str) -> tuple[float, float]:
    """``(J, S)`` with ``L^D = (L − P)⁻¹ + P``, ``P = |ρ⟩⟨⟨1|`` (independent of jaxtherm's solve)."""
    lv, rho, one, (j1, j2), _, _ = _superoperators(system, bath)
    p = np.outer(rho, one)
    drazin = np.linalg.inv(lv - p) + p
    mean = one @ j1 @ rho
    noise = one @ j2 @ rho - 2 * one @ j1 @ drazin @ j1 @ rho
    return float(mean.real), float(noise.real)


def tilted_noise(system: reference.System, bath: str) -> float:
    """``θ''(0)`` of the leading eigenvalue of ``L(s) = L + Σ (e^{sν} − 1) c·c†`` by a
    five-point stencil (error ≈ h⁴ θ⁽⁶⁾ + ε‖L‖/h²)."""
    lv, _, _, _, jumps, nus = _superoperators(system, bath)
    h = 2e-2 / max(abs(nu) for nu in nus)

    def theta(s):
        ev = np.linalg.eigvals(lv + sum((np.expm1(s * nu)) * j for nu, j in zip(nus, jumps)))
        return ev[np.argmax(ev.real)].real

    t = [theta(k * h) for k in (-2, -1, 0, 1, 2)]
    return (-t[0] + 16 * t[1] - 30 * t[2] + 16 * t[3] - t[4]) / (12 * h * h)


def qutip_noise(system: reference.System, bath: str) -> tuple[float, float]:
    """QuTiP's ``countstat_current_noise`` with the energy-weighted net current ``I = 𝒥₁`` and
    total ``J = 𝒥₂`` superoperators of the bath."""
    lv = qutip.liouvillian(system.h, system.c_ops)
    jumps = [qutip.sprepost(c, c.dag()) for c in system.baths[bath]]
    nus = system.quanta[bath]
    i_op = sum(nu * j for nu, j in zip(nus, jumps))
    j_op = sum(nu**2 * j for nu, j in zip(nus, jumps))
    rho = qutip.Qobj(system.to_here(reference.steady_state(system)), dims=system.h.dims)
    current, noise = qutip.countstat_current_noise(lv, [], rhoss=rho, I_ops=[i_op], J_ops=[j_op])[:2]
    return float(current[0]), float(np.asarray(noise).ravel()[0])


# ----------------------------------------------------------------------------- cases
PAIR = ("omega_a", "omega_b", "beta_a", "beta_b", "gamma_a", "gamma_b", "epsilon")
CHAIN = ("omega", "g", "beta_h", "beta_c", "gamma_h", "gamma_c")
FRIDGE = ("E_c", "E_h", "g", "beta_c", "beta_r", "beta_h", "gamma_c", "gamma_r", "gamma_h")


def _case(name, coupling):
    """``(model, points, reference system at point i)`` of a built-in model."""
    if name == "pair":
        points = random_points(10, seed=7)
        return (jaxtherm.qubit_pair(coupling), points,
                lambda p: reference.qubit_pair(coupling, *(p[k] for k in PAIR)))
    if name == "chain":
        points = reference.chain_points(6, 8, 3)
        return (jaxtherm.qubit_chain(3, coupling), points,
                lambda p: reference.qubit_chain(3, coupling, *(p[k] for k in CHAIN)))
    points = reference.refrigerator_points(6, 9)
    return (jaxtherm.absorption_refrigerator(coupling), points,
            lambda p: reference.absorption_refrigerator(coupling, *(p[k] for k in FRIDGE)))


CASES = [("pair", "incoherent"), ("pair", "local"), ("pair", "global"), ("fridge", "local"), ("fridge", "global"),
         ("chain", "local"), ("chain", "global")]


@functools.cache
def _solved(name, coupling):
    """jaxtherm on a case's points, once per process (every test of a case shares the compile:
    6 or 10 points are both padded to one 64-point chunk)."""
    model, points, _ = _case(name, coupling)
    return {k: np.asarray(v) for k, v in jaxtherm.solve(model, fluctuations=True, rho=False, **points).items()}


def _rel(a, b):
    return np.abs(np.asarray(a) - np.asarray(b)) / np.maximum(np.abs(b), 1e-300)


# ----------------------------------------------------------------------------- the tests
def test_closed_form_one_qubit_between_two_bose_baths():
    """``docs/design.md`` §2.7: ``J_c = ω(bc − ad)/Σ``, ``S_c = ω²[(ad + bc)/Σ − 2(ad − bc)²/Σ³]``."""
    sm = sigmam()
    model = Model(
        "qubit between two baths", 2, ("omega", "beta_h", "beta_c", "gamma_h", "gamma_c"),
        (Term(lambda p: p["omega"], dag(sm) @ sm, "omega n"),),
        (*local_thermalizer(sm, bath="h", omega="omega", beta="beta_h", gamma="gamma_h", spectrum="bose"),
         *local_thermalizer(sm, bath="c", omega="omega", beta="beta_c", gamma="gamma_c", spectrum="bose")),
        (Bath("h", "beta_h"), Bath("c", "beta_c")),
    )
    rng = np.random.default_rng(3)
    n = 128
    p = {"omega": rng.uniform(0.1, 3.0, n), "beta_h": rng.uniform(0.05, 2.0, n), "beta_c": rng.uniform(0.05, 8.0, n),
         "gamma_h": rng.uniform(1e-3, 2.0, n), "gamma_c": rng.uniform(1e-3, 2.0, n)}
    out = jaxtherm.solve(model, fluctuations=True, rho=False, **p)
    nbar_h, nbar_c = 1 / np.expm1(p["beta_h"] * p["omega"]), 1 / np.expm1(p["beta_c"] * p["omega"])
    a, b = p["gamma_h"] * nbar_h, p["gamma_h"] * (nbar_h + 1)
    c, d = p["gamma_c"] * nbar_c, p["gamma_c"] * (nbar_c + 1)
    total = a + b + c + d
    w = p["omega"]
    j_c = w * (b * c - a * d) / total
    s_c = w**2 * ((a * d + b * c) / total - 2 * (a * d - b * c) ** 2 / total**3)
    assert np.all(np.asarray(out["status"]) == 0)
    assert _rel(out["J_counted_c"], j_c).max() < 1e-10
    assert _rel(out["J_c"], j_c).max() < 1e-10  # no coherent coupling: counted == J
    assert _rel(out["noise_c"], s_c).max() < 1e-10
    # Q_h + Q_c is the qubit's bounded energy change: both baths see the same noise
    assert _rel(out["noise_h"], s_c).max() < 1e-10
    sigma = -(p["beta_h"] * out["J_h"] + p["beta_c"] * out["J_c"])
    np.testing.assert_allclose(out["tur_c"], s_c * sigma / j_c**2, rtol=1e-9)


@pytest.mark.parametrize(("name", "coupling"), CASES)
def test_noise_equals_independent_drazin_reference(name, coupling):
    _, points, system_at = _case(name, coupling)
    out = _solved(name, coupling)
    assert np.all(out["status"] == 0)
    n = len(next(iter(points.values())))
    for i in range(n):
        system = system_at(reference.point(points, i))
        for bath in system.baths:
            mean, noise = drazin_noise(system, bath)
            scale = abs(noise) + 1e-300
            assert abs(out[f"noise_{bath}"][i] - noise) < 1e-10 * scale, (i, bath, out[f"noise_{bath}"][i], noise)
            assert abs(out[f"J_counted_{bath}"][i] - mean) < 1e-10 * np.sqrt(scale * noise), (i, bath)
            if coupling != "local":  # jumps between eigenstates of H: the counted mean is J
                assert abs(out[f"J_{bath}"][i] - mean) < 1e-10 * np.sqrt(scale), (i, bath)


@pytest.mark.parametrize(("name", "coupling"), [("pair", "local"), ("fridge", "global")])
def test_noise_equals_tilted_generator_eigenvalue(name, coupling):
    _, points, system_at = _case(name, coupling)
    out = _solved(name, coupling)
    for i in range(3):
        system = system_at(reference.point(points, i))
        for bath in system.baths:
            assert _rel(out[f"noise_{bath}"][i], tilted_noise(system, bath)) < 1e-6, (i, bath)


@pytest.mark.parametrize(("name", "coupling"), [("pair", "local"), ("fridge", "local"), ("chain", "global")])
def test_noise_equals_qutip_countstat(name, coupling):
    _, points, system_at = _case(name, coupling)
    out = _solved(name, coupling)
    for i in range(2):
        system = system_at(reference.point(points, i))
        for bath in system.baths:
            current, noise = qutip_noise(system, bath)
            assert _rel(out[f"noise_{bath}"][i], noise) < 1e-8, (i, bath)
            assert _rel(out[f"J_counted_{bath}"][i], current) < 1e-8, (i, bath)


@pytest.mark.parametrize(("name", "coupling"), [("pair", "incoherent"), ("pair", "global"), ("fridge", "global")])
def test_uncertainty_ratio_is_at_least_two_for_classical_dynamics(name, coupling):
    """Incoherent and Davies models at generic points: populations hop between eigenstates of
    H (a classical Markov jump process), so ``Q = S σ / J² ≥ 2``.

    Near equilibrium ``σ = −Σ β_j J_j`` cancels: its absolute error is ``ε Σ β_j |J|-scale``,
    so ``Q`` is checked where ``σ`` exceeds a millionth of that scale (relative error ≤ 1e-10)."""
    model = _case(name, coupling)[0]
    params = random_points(400, seed=11) if name == "pair" else reference.refrigerator_points(400, 12)
    out = {k: np.asarray(v) for k, v in jaxtherm.solve(model, fluctuations=True, rho=False, chunk_size=64, **params).items()}
    betas = sum(params[b.beta] for b in model.baths)
    rates = np.max([v for k, v in params.items() if k.startswith("gamma")], axis=0)
    energies = np.max([v for k, v in params.items() if k.startswith(("omega", "E_"))], axis=0)
    clear = out["sigma"] > 1e-6 * betas * rates * energies
    assert clear.sum() > 300 and np.all(out["sigma"] >= -1e-12)
    for bath in (b.name for b in model.baths):
        assert out[f"tur_{bath}"][clear].min() >= 2 * (1 - 1e-9), (bath, out[f"tur_{bath}"][clear].min())


def test_resonant_local_pair_goes_below_the_classical_bound_and_qutip_agrees():
    """At resonance (where the local master equation is thermodynamically consistent and
    ``J_counted = J``) the pair's coherent transport beats ``Q ≥ 2``, slightly: ``Q = 1.9976``
    at ε = 0.5, σ > 0, reproduced by QuTiP's ``countstat_current_noise`` (the bundled ``tur``
    sweep maps it; detuned local pairs go lower, but there the local model is inconsistent)."""
    p = {"omega_a": 1.0, "omega_b": 1.0, "beta_a": 1 / 3, "beta_b": 1 / 0.9, "gamma_a": 0.4, "gamma_b": 0.7,
         "epsilon": 0.5}
    out = jaxtherm.solve(jaxtherm.qubit_pair("local"), fluctuations=True, rho=False, **p)
    assert abs(float(out["J_counted_a"]) - float(out["J_a"])) < 1e-14
    system = reference.qubit_pair("local", *(p[k] for k in PAIR))
    current, noise = qutip_noise(system, "a")
    ref = reference.solve(system)
    tur = noise * ref["sigma"] / current**2
    assert ref["sigma"] > 0 and tur < 2 - 1e-3
    assert _rel(out["tur_a"], tur) < 1e-8


@pytest.mark.parametrize(("name", "coupling"), [("pair", "local"), ("pair", "global"), ("fridge", "local")])
def test_noise_gradients_equal_finite_differences(name, coupling):
    """``d noise/d param`` (and of ``tur``, ``J_counted``) for every parameter of the model: the
    pair's 7, the refrigerator's 9 (three baths; a long compile with all nine tangents,
    ``docs/performance.md``)."""
    model, points, _ = _case(name, coupling)
    p = reference.point(points, 1)
    names = tuple(p)
    grads = jaxtherm.solve(model, fluctuations=True, rho=False, gradients=names, **p)
    baths = [b.name for b in model.baths]
    steps = {k: 1e-5 * max(abs(p[k]), 1e-2) for k in names}
    shifted = {q: np.array([p[q] + (sign * steps[k] if q == k else 0.0) for k in names for sign in (1, -1)])
               for q in p}  # p ± h e_k for every k, in one batch
    moved = {o: np.asarray(v) for o, v in jaxtherm.solve(model, fluctuations=True, rho=False, **shifted).items()}
    for i, k in enumerate(names):
        h = steps[k]
        for obs in [f"noise_{b}" for b in baths] + [f"tur_{baths[0]}", f"J_counted_{baths[0]}"]:
            fd = (moved[obs][2 * i] - moved[obs][2 * i + 1]) / (2 * h)
            ad = float(grads[f"d{obs}_d{k}"])
            assert abs(ad - fd) <= 1e-6 * max(abs(fd), abs(float(grads[obs])) / max(abs(p[k]), 1e-2)), (obs, k, ad, fd)


def test_reduced_equals_dense_with_fluctuations():
    model = jaxtherm.absorption_refrigerator("local")
    points = reference.refrigerator_points(8, 5)
    a = jaxtherm.solve(model, fluctuations=True, rho=False, **points)
    b = jaxtherm.solve(model, fluctuations=True, rho=False, solver="dense", **points)
    for k in model.fluctuation_observables:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-10, err_msg=k)


def test_a_bath_jump_without_a_quantum_is_refused(tmp_path):
    sm = sigmam()
    model = Model("no quantum", 2, ("w", "g", "beta"), (Term(lambda p: p["w"], dag(sm) @ sm, "w n"),),
                  (Lindblad(lambda p: p["g"], sm, "h", label="g D[s-]"),), (Bath("h", "beta"),))
    assert jaxtherm.solve(model, w=1.0, g=0.5, beta=1.0)["status"] == 0  # the mean needs no quantum
    with pytest.raises(ValueError, match=r"'g D\[s-\]' of bath 'h' has no energy quantum"):
        jaxtherm.solve(model, fluctuations=True, w=1.0, g=0.5, beta=1.0)
    (tmp_path / "m.py").write_text(
        "import numpy as np\nfrom jaxtherm.models import Bath, Lindblad, Model, Term\n"
        "def f():\n    s = np.array([[0, 1], [0, 0]])\n"
        "    return Model('nq', 2, ('w', 'g', 'beta'), (Term(lambda p: p['w'], s.T @ s),),"
        " (Lindblad(lambda p: p['g'], s, 'h'),), (Bath('h', 'beta'),))\n")
    spec = parse_spec('[model]\nfactory = "m.py:f"\n[parameters]\nw = 1.0\ng = 0.5\nbeta = 1.0\n'
                      '[output]\nfluctuations = true\n', str(tmp_path / "s.toml"), str(tmp_path / "o.h5"), tmp_path)
    with pytest.raises(SpecError, match=r"output\.fluctuations.*energy quantum"):
        run_sweep(spec, progress=False)


SWEEP = """
[model]
name = "qubit_pair"
coupling = ["local", "global"]

[parameters]
omega_a = 1.0
T_a = 2.0
gamma_a = 0.3
gamma_b = 0.6

[axes]
delta = { values = [-0.2, 0.0, 0.3] }
T_b = { linspace = [0.4, 1.5, 4] }
epsilon = { logspace = [-2, 0, 5] }

[output]
gradients = ["epsilon"]
fluctuations = true
"""


def _read(path):
    with h5py.File(path, "r") as h5:
        return {k: h5[k][()] for k in h5 if isinstance(h5[k], h5py.Dataset) and h5[k].dtype.kind != "O"}


def test_sweep_with_fluctuations_chunked_resumed_and_described(tmp_path, monkeypatch):
    spec = parse_spec(SWEEP, "fl.toml", default_output=str(tmp_path / "x.h5"))
    run_sweep(spec, output=tmp_path / "a.h5", chunk_size=7, progress=False)
    run_sweep(spec, output=tmp_path / "b.h5", chunk_size=10_000, progress=False)
    a, b = _read(tmp_path / "a.h5"), _read(tmp_path / "b.h5")
    assert {"noise_a", "tur_b", "J_counted_a", "dnoise_b_depsilon"} <= a.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)  # chunked == unchunked, bitwise
    # equal to solve() at the same point (padded to the 64 points of the chunks of 7: the same
    # program, loaded from the compilation cache)
    direct = jaxtherm.solve(jaxtherm.qubit_pair("global"), fluctuations=True, rho=False, gradients=["epsilon"],
                            omega_a=1.0, T_a=2.0, gamma_a=0.3, gamma_b=0.6, delta=0.3, T_b=1.5, epsilon=np.ones(64))
    np.testing.assert_allclose(a["noise_a"][1, 2, 3, 4], direct["noise_a"][0], rtol=1e-13)
    np.testing.assert_allclose(a["dnoise_a_depsilon"][1, 2, 3, 4], direct["dnoise_a_depsilon"][0], rtol=1e-12)
    with h5py.File(tmp_path / "a.h5") as h5:
        assert h5["noise_a"].attrs["units"] == "energy^2/time"
        assert "uncertainty" in h5["tur_a"].attrs["description"]
    # interrupted after 3 chunks, then resumed: equal to the uninterrupted run
    from jaxtherm.sweep.executor import LocalEngine

    original = LocalEngine.run

    def interrupted(self, todo, finish):
        def finish_then_stop(chunk, host):
            finish(chunk, host)
            if chunk.id == 2:
                raise KeyboardInterrupt

        return original(self, todo, finish_then_stop)

    monkeypatch.setattr(LocalEngine, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, output=tmp_path / "c.h5", chunk_size=7, progress=False)
    monkeypatch.setattr(LocalEngine, "run", original)
    summary = run_sweep(spec, output=tmp_path / "c.h5", chunk_size=7, progress=False, resume=True)
    assert summary.resumed_chunks == 3
    c = _read(tmp_path / "c.h5")
    for k in a:
        np.testing.assert_array_equal(a[k], c[k], err_msg=k)
