"""Symmetry-sector reduction: the sector found from the operators, and reduced == dense."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtherm
from jaxtherm.kernel.point import davies_matrices
from jaxtherm.models import Bath, Expectation, Lindblad, Model, Term, parameter
from jaxtherm.physics.operators import dag, lowering, number
from jaxtherm.solvers import symmetry_sector
from tests.helpers import random_points

COUPLINGS = ("incoherent", "local", "global")


def _coordinate_names(d):
    names = [f"p{i}" for i in range(d)]
    for i in range(d):
        for j in range(i + 1, d):
            names += [f"Re{i}{j}", f"Im{i}{j}"]
    return names


@pytest.mark.parametrize(
    "coupling, expected",
    [
        ("incoherent", ["p0", "p1", "p2", "p3"]),  # no coherence is ever created
        ("local", ["p0", "p1", "p2", "p3", "Re12", "Im12"]),  # + ρ_{01,10}: |01⟩ ↔ |10⟩ exchange
        ("global", ["p0", "p1", "p2", "p3", "Re12", "Im12"]),
    ],
)
def test_sector_of_the_qubit_pair(coupling, expected):
    """N = n_a + n_b is a weak U(1) symmetry: the steady state lives on populations and the
    coherence between the two one-excitation states (|01⟩, |10⟩ = indices 1, 2) only."""
    keep = symmetry_sector(jaxtherm.qubit_pair(coupling))
    assert [_coordinate_names(4)[k] for k in keep] == expected


@pytest.mark.parametrize("coupling", COUPLINGS)
def test_sector_is_invariant(coupling):
    """Every superoperator of the model, Davies ones at random points too, maps the sector into
    itself and its complement into itself: the Liouvillian is block diagonal."""
    model = jaxtherm.qubit_pair(coupling)
    keep = symmetry_sector(model)
    out = np.setdiff1d(np.arange(16), keep)
    ops = model.real_operators
    mats = [e.dense(16) for e in [*ops.hamiltonian, *ops.lindblad]]
    p = {k: v[0] for k, v in random_points(5, seed=11).items()}
    for i in range(5):
        p = {k: v[i] for k, v in random_points(5, seed=11).items()}
        h = np.array([t.coefficient(p) for t in model.hamiltonian])
        mats += [np.asarray(m) for m in davies_matrices(model, p, h, np.float64, keep=tuple(range(16)))]
    for m in mats:
        assert np.abs(m[np.ix_(out, keep)]).max(initial=0) < 1e-14
        assert np.abs(m[np.ix_(keep, out)]).max(initial=0) < 1e-14


def _driven_pair(drive_b: bool) -> Model:
    """Two qubits with local thermalizers, a transverse drive on A (and on B if ``drive_b``)."""
    a, b = lowering(2, 0), lowering(2, 1)
    drive = a + dag(a) + (b + dag(b) if drive_b else 0)
    return Model(
        name="driven_pair",
        dim=4,
        parameters=("omega", "drive", "gamma", "beta"),
        hamiltonian=(
            Term(parameter("omega"), number(a) + number(b), "omega N"),
            Term(parameter("drive"), drive, "drive"),
        ),
        dissipators=(
            Lindblad(parameter("gamma"), b, "b", "gamma D[b]"),
            Lindblad(lambda p: p["gamma"] * jnp.exp(-p["beta"] * p["omega"]), dag(b), "b", "up"),
            Lindblad(parameter("gamma"), a, "a", "gamma D[a]"),
        ),
        baths=(Bath("a", "beta"), Bath("b", "beta")),
        expectations=(Expectation("n_a", number(a)),),
    )


@pytest.mark.parametrize(
    "drive_b, expected",
    [
        # driving A breaks N, but n_b is still a weak symmetry: B's coherences decouple
        (False, ["p0", "p1", "p2", "p3", "Re02", "Im02", "Re13", "Im13"]),
        (True, _coordinate_names(4)),  # no symmetry left: everything is kept
    ],
)
def test_sector_of_a_driven_model(drive_b, expected):
    """The detection is generic: it finds whatever weak symmetry the operators have, and
    the reduced solve equals the dense one."""
    model = _driven_pair(drive_b)
    assert [_coordinate_names(4)[k] for k in symmetry_sector(model)] == expected
    p = dict(omega=np.array([1.0, 2.0]), drive=np.array([0.3, 1.5]), gamma=0.2, beta=0.7)
    red, den = jaxtherm.solve(model, **p), jaxtherm.solve(model, solver="dense", **p)
    assert (np.asarray(red["status"]) == 0).all()
    np.testing.assert_allclose(np.asarray(red["rho"]), np.asarray(den["rho"]), rtol=0, atol=1e-13)
    flow = 0.2 * 2.0  # Γ ω: J_a is a difference of flows of this size (here J_a ≈ 0)
    np.testing.assert_allclose(np.asarray(red["J_a"]), np.asarray(den["J_a"]), rtol=1e-10, atol=1e-12 * flow)


def _special_points():
    """Edge cases on top of random points: resonance, equal temperatures, ε = 0 at resonance,
    ε² ≫ ω_a ω_b, rates spanning 10⁻⁴ … 10², cold and hot baths."""
    p = random_points(96, seed=7)
    rng = np.random.default_rng(8)
    n = 96
    p["omega_b"][:12] = p["omega_a"][:12]  # resonant
    p["beta_b"][6:18] = p["beta_a"][6:18]  # equal temperatures
    p["gamma_a"][20:40] = 10.0 ** rng.uniform(-4, 2, 20)
    p["gamma_b"][30:50] = 10.0 ** rng.uniform(-4, 2, 20)
    p["epsilon"][50:60] = 10.0 ** rng.uniform(-4, 1.5, 10)
    p["beta_a"][60:70] = 10.0 ** rng.uniform(-2, 1.3, 10)
    p["beta_b"][65:75] = 10.0 ** rng.uniform(-2, 1.3, 10)
    p["omega_b"][80:84] = p["omega_a"][80:84]
    assert all(len(v) == n for v in p.values())
    return p


@pytest.mark.parametrize("dtype", ["float64"])
def test_reduced_equals_dense(coupling, dtype):
    """The reduced solve reproduces the dense reference to 1e-10, relative to each quantity's
    natural scale: heat currents and power to the energy flow scale (Γ_a + Γ_b)(ω_a + ω_b + ε)
    of the point (a current is a difference of flows of that size, so no solver can resolve it
    better), σ to that times β_a + β_b, populations and ρ to Tr ρ = 1. Gradients likewise."""
    model = jaxtherm.qubit_pair(coupling)
    p = _special_points()
    grads = ("epsilon", "beta_a", "omega_b")
    red = jaxtherm.solve(model, gradients=grads, dtype=dtype, **p)
    den = jaxtherm.solve(model, gradients=grads, dtype=dtype, solver="dense", **p)
    assert (np.asarray(red["status"]) == 0).all() and (np.asarray(den["status"]) == 0).all()
    flow = (p["gamma_a"] + p["gamma_b"]) * (p["omega_a"] + p["omega_b"] + p["epsilon"])
    scales = {"J_a": flow, "J_b": flow, "power": flow, "sigma": flow * (p["beta_a"] + p["beta_b"]),
              "n_a": 1.0, "n_b": 1.0}
    for name, scale in scales.items():
        a, b = np.asarray(red[name]), np.asarray(den[name])
        assert np.all(np.abs(a - b) <= 1e-10 * (np.abs(b) + scale)), name
        for g in grads:
            ga, gb = np.asarray(red[f"d{name}_d{g}"]), np.asarray(den[f"d{name}_d{g}"])
            # derivatives: the same relative accuracy, on the scale of the largest one
            assert np.all(np.abs(ga - gb) <= 1e-10 * (np.abs(gb) + np.abs(gb).max())), (name, g)
    np.testing.assert_allclose(np.asarray(red["rho"]), np.asarray(den["rho"]), rtol=0, atol=1e-12)


@pytest.mark.parametrize("coupling", COUPLINGS)
def test_reduced_reverse_mode_equals_dense(coupling):
    """``jax.grad`` through the unrolled elimination equals ``grad`` through the dense LU."""
    model = jaxtherm.qubit_pair(coupling)
    p = {k: v[:16] for k, v in random_points(16, seed=3).items()}

    def total(eps, solver):
        q = dict(p, epsilon=eps)
        out = jaxtherm.solve(model, solver=solver, **q)
        return (out["J_a"] * p["beta_a"] + out["n_a"]).sum()

    g_red = jax.grad(total)(p["epsilon"], "reduced")
    g_den = jax.grad(total)(p["epsilon"], "dense")
    np.testing.assert_allclose(np.asarray(g_red), np.asarray(g_den), rtol=1e-9, atol=1e-13)


def test_unknown_solver_is_refused():
    with pytest.raises(ValueError, match="solver"):
        jaxtherm.solve(jaxtherm.qubit_pair("local"), solver="magic", **{k: 1.0 for k in jaxtherm.qubit_pair("local").parameters})


@pytest.mark.parametrize("coupling", ["incoherent", "local"])
def test_float32_accuracy_cost(coupling):
    """float32 (opt-in) keeps the currents to ~10 ulps of float32 on the energy-flow scale:
    |J₃₂ − J₆₄| ≤ 1e-6 (Γ_a + Γ_b)(ω_a + ω_b + ε), and populations to 1e-6; every point solves."""
    model = jaxtherm.qubit_pair(coupling)
    p = random_points(512, seed=21)
    a = jaxtherm.solve(model, dtype="float32", rho=False, **p)
    b = jaxtherm.solve(model, rho=False, **p)
    assert a["J_a"].dtype == np.float32 and (np.asarray(a["status"]) == 0).all()
    flow = (p["gamma_a"] + p["gamma_b"]) * (p["omega_a"] + p["omega_b"] + p["epsilon"])
    for k in ("J_a", "J_b"):
        assert np.all(np.abs(np.asarray(a[k], np.float64) - np.asarray(b[k])) <= 1e-6 * flow), k
    for k in ("n_a", "n_b"):
        np.testing.assert_allclose(np.asarray(a[k], np.float64), np.asarray(b[k]), rtol=0, atol=1e-6)


@pytest.mark.parametrize("method", ["lu", "static_pivots", "staged"])
def test_large_sector_paths_equal_dense(method):
    """``Reduced(max_unrolled=0, max_sparse=0, max_staged=0)`` solves the sector by LU,
    ``Reduced(max_unrolled=0)`` by the unrolled sparse elimination with static pivots,
    ``Reduced(max_unrolled=0, max_sparse=0)`` by the staged one (the paths of larger models); on
    the qubit pair each equals the dense reference, gradients too, and its plan says so."""
    model = jaxtherm.qubit_pair("local")
    solver = {"lu": jaxtherm.Reduced(max_unrolled=0, max_sparse=0, max_staged=0),
              "static_pivots": jaxtherm.Reduced(max_unrolled=0), "staged": jaxtherm.Reduced(max_unrolled=0, max_sparse=0)}[method]
    assert solver.plan(model).method == method and jaxtherm.Reduced().plan(model).method == "unrolled"
    words = {"lu": "LU with partial pivoting", "static_pivots": "sparse elimination in a fill-reducing order",
             "staged": "sparse elimination in a fill-reducing order with static pivots, level by level"}[method]
    assert solver.plan(model).description.startswith(f"reduced: 5 unknowns of 15, {words}")
    p = random_points(64, seed=4)
    red = jaxtherm.solve(model, gradients=("epsilon",), solver=solver, **p)
    den = jaxtherm.solve(model, gradients=("epsilon",), solver="dense", **p)
    flow = (p["gamma_a"] + p["gamma_b"]) * (p["omega_a"] + p["omega_b"] + p["epsilon"])
    assert (np.asarray(red["status"]) == 0).all()
    for k in ("J_a", "dJ_a_depsilon"):
        scale = flow if k == "J_a" else np.abs(np.asarray(den[k])).max()
        assert np.all(np.abs(np.asarray(red[k]) - np.asarray(den[k])) <= 1e-10 * scale), k
    np.testing.assert_allclose(np.asarray(red["rho"]), np.asarray(den["rho"]), rtol=0, atol=1e-12)
