"""Large sectors by preconditioned GMRES (``jaxtherm.linalg.krylov.Krylov``, issue 29).

Chains of 6–8 qubits against the exact quasi-free reference (``tests/quasi_free.py``), implicit
derivatives against finite differences, a singular point confined to its lane, a point that does
not converge flagged with its own status, a global model at d = 32 against the dense path, and
the choice of ``Auto`` (small models keep their eliminations); global chains matrix-free on the
zero-frequency block of their eigenbasis (``jaxtherm.kernel.matrix_free``).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtherm
from jaxtherm.solvers import Krylov, Reduced
from tests import quasi_free as qf

BATHS = dict(omega=1.0, beta_h=0.5, beta_c=2.0, gamma_h=0.1, gamma_c=0.2)
CHECKED = ("J_h", "J_c", "n_h", "n_c")


def reference(n, g):
    return {k: np.array([qf.xx_chain(n, g=x, **BATHS)[k] for x in g]) for k in CHECKED}


def assert_close(out, ref, rtol):
    for k in CHECKED:
        np.testing.assert_allclose(np.asarray(out[k]), ref[k], rtol=rtol, atol=0, err_msg=k)


@pytest.mark.parametrize("n, solver", [(6, "krylov"), (7, "auto")])
def test_chain_by_krylov_matches_the_quasi_free_steady_state_and_confines_a_singular_lane(n, solver):
    """``Auto`` takes Krylov from the 7-qubit chain on (the 6-qubit one: staged, faster)."""
    model = jaxtherm.qubit_chain(n)
    assert jaxtherm.solvers.get(solver).plan(model).method == "krylov"
    g = np.array([0.3, 0.0, 1.2])  # g = 0: the middle qubits have no bath, no unique steady state
    out = jaxtherm.solve(model, g=g, rho=False, solver=solver, **BATHS)
    np.testing.assert_array_equal(np.asarray(out["status"]), [0, jaxtherm.STATUS_SINGULAR, 0])
    assert np.isinf(out["residual"][1]) and np.all(np.asarray(out["residual"])[[0, 2]] < 1e-10)
    assert all(np.isnan(out[k][1]) for k in CHECKED)
    ref = reference(n, g[[0, 2]])
    for k in CHECKED:
        np.testing.assert_allclose(np.asarray(out[k])[[0, 2]], ref[k], rtol=1e-8, atol=0, err_msg=k)


def test_eight_qubit_chain_matches_the_quasi_free_steady_state():
    g = np.array([0.7])
    out = jaxtherm.solve(jaxtherm.qubit_chain(8), g=g, rho=False, **BATHS)
    assert int(out["status"][0]) == 0
    assert_close(out, reference(8, g), 1e-8)


def test_seven_qubit_gradients_match_finite_differences():
    model, g0, h = jaxtherm.qubit_chain(7), 0.6, 1e-4
    out = jaxtherm.solve(model, g=np.array([g0]), gradients=["g", "beta_h"], rho=False, **BATHS)
    side = jaxtherm.solve(model, g=np.array([g0 - h, g0 + h]), rho=False, **BATHS)
    assert np.all(np.asarray(out["status"]) == 0) and np.all(np.asarray(side["status"]) == 0)
    for k in ("J_h", "J_c", "n_c"):
        fd = (side[k][1] - side[k][0]) / (2 * h)  # jaxtherm's own values, the same solver
        np.testing.assert_allclose(out[f"d{k}_dg"][0], fd, rtol=1e-6, err_msg=k)
        exact = (qf.xx_chain(7, g=g0 + 1e-5, **BATHS)[k] - qf.xx_chain(7, g=g0 - 1e-5, **BATHS)[k]) / 2e-5
        np.testing.assert_allclose(out[f"d{k}_dg"][0], exact, rtol=1e-6, err_msg=k)
    hot = {**BATHS, "beta_h": BATHS["beta_h"] + 1e-5}
    cold = {**BATHS, "beta_h": BATHS["beta_h"] - 1e-5}
    exact = (qf.xx_chain(7, g=g0, **hot)["J_h"] - qf.xx_chain(7, g=g0, **cold)["J_h"]) / 2e-5
    np.testing.assert_allclose(out["dJ_h_dbeta_h"][0], exact, rtol=1e-6)


def test_a_point_that_does_not_converge_gets_its_own_status_and_residual():
    tight = Reduced(elimination=Krylov(restart=2, maxiter=1))
    model = jaxtherm.qubit_chain(4)
    out = jaxtherm.solve(model, g=np.array([0.5, 0.9]), solver=tight, rho=False, **BATHS)
    assert np.all(np.asarray(out["status"]) == jaxtherm.STATUS_UNCONVERGED)
    assert np.all(np.asarray(out["residual"]) > tight.elimination.tol) and np.all(np.isfinite(out["residual"]))
    assert np.all(np.isnan(out["J_h"]))
    assert "tolerance" in jaxtherm.STATUS_MEANINGS[jaxtherm.STATUS_UNCONVERGED]
    # the same points by the default tolerance: converged, and the quasi-free values
    fine = jaxtherm.solve(model, g=np.array([0.5, 0.9]), solver="krylov", rho=False, **BATHS)
    assert np.all(np.asarray(fine["status"]) == 0)
    assert_close(fine, reference(4, [0.5, 0.9]), 1e-8)


def test_a_state_no_jump_leaves_keeps_the_preconditioner_regular():
    """A driven lossy cavity (``H = Δ a†a + F(a + a†)``, jump ``√κ a``): the vacuum is left by no
    jump, so ``S₀(|0⟩⟨0|)`` is traceless; the preconditioner must still be regular (it once
    dropped the first population and GMRES stagnated at a residual of order one). Krylov equals LU
    and the exact coherent state ``α = −F/(Δ − iκ/2)``."""
    from tests.test_qutip_cases import driven_cavity

    n, delta, f, kappa = 12, np.array([0.0, 0.03]), np.array([0.01, 0.02]), np.array([0.05, 0.05])
    out = jaxtherm.solve(driven_cavity(n), delta=delta, F=f, kappa=kappa, solver="krylov")
    ref = jaxtherm.solve(driven_cavity(n), delta=delta, F=f, kappa=kappa, solver="lu")
    assert np.all(np.asarray(out["status"]) == 0)
    np.testing.assert_allclose(np.asarray(out["rho"]), np.asarray(ref["rho"]), rtol=0, atol=1e-10)
    alpha = -f / (delta - 0.5j * kappa)
    a = np.diag(np.sqrt(np.arange(1, n)), 1)
    np.testing.assert_allclose(np.trace(np.asarray(out["rho"]) @ a, axis1=-2, axis2=-1), alpha, atol=1e-8)


def test_global_chain_at_d32_matches_the_dense_path():
    """By the entry tables (``tables``: LU) and matrix-free on the zero-frequency block (``auto``
    above 250 unknowns: ``jaxtherm.kernel.matrix_free``): values, derivatives and current noise."""
    model = jaxtherm.qubit_chain(5, coupling="global")
    g = np.array([0.2, 0.45])
    assert "zero-frequency block" in jaxtherm.solvers.Auto().plan(model).description
    tables = Reduced(min_krylov=0)
    assert tables.plan(model).method == "lu"
    ref = jaxtherm.solve(model, g=g, solver="dense", rho=False, **BATHS)
    out = {name: jaxtherm.solve(model, g=g, solver=solver, rho=False, gradients=["g", "beta_c"], fluctuations=True,
                                **BATHS) for name, solver in (("tables", tables), ("auto", "auto"))}
    for solver, o in out.items():
        np.testing.assert_array_equal(np.asarray(o["status"]), 0)
        for k in ("J_h", "J_c", "sigma"):
            np.testing.assert_allclose(np.asarray(o[k]), np.asarray(ref[k]), rtol=1e-8, err_msg=(solver, k))
    for k in ("dJ_h_dg", "dJ_h_dbeta_c", "dsigma_dg", "noise_h", "noise_c", "dnoise_h_dg", "tur_c"):
        np.testing.assert_allclose(np.asarray(out["auto"][k]), np.asarray(out["tables"][k]), rtol=1e-8, err_msg=k)
    # reverse mode: the transposed solve, preconditioner and scatter of the matrix-free operator
    rev = jax.grad(lambda x: jaxtherm.solve(model, g=x, rho=False, **BATHS)["J_h"].sum())(jnp.asarray(g))
    np.testing.assert_allclose(np.asarray(rev), np.asarray(out["tables"]["dJ_h_dg"]), rtol=1e-8)
    # Krylov in the product basis (the general construction, no preconditioner): where it converges
    product = jaxtherm.solve(model, g=g, solver=Reduced(elimination="krylov", eigenbasis=False), rho=False, **BATHS)
    assert not jaxtherm.solvers.get(Reduced(elimination="krylov", eigenbasis=False)).plan(model).eigenbasis
    status = np.asarray(product["status"])
    assert set(status) <= {0, jaxtherm.STATUS_UNCONVERGED}
    for k in ("J_h", "J_c", "sigma"):
        np.testing.assert_allclose(np.asarray(product[k])[status == 0], np.asarray(ref[k])[status == 0], rtol=1e-8,
                                   err_msg=k)


def xx_hamiltonian(n, omega, g):
    """``ω Σ n_k + g Σ (a_k† a_{k+1} + h.c.)`` of ``n`` qubits by Kronecker products (site 0 the
    most significant), NumPy."""
    lower = np.array([[0.0, 1.0], [0.0, 0.0]])

    def on(k, op):
        return np.kron(np.kron(np.eye(2**k), op), np.eye(2 ** (n - k - 1)))

    a = [on(k, lower) for k in range(n)]
    return sum(omega * x.T @ x for x in a) + sum(g * (a[k].T @ a[k + 1] + a[k + 1].T @ a[k]) for k in range(n - 1))


def test_eight_qubit_global_chain_matrix_free():
    """The 8-qubit chain with global baths (12,869 unknowns; the entry tables would hold ~10⁸
    terms): ``Auto`` solves it matrix-free. At equal temperatures the steady state is the Gibbs
    state ``e^{−βH}/Z`` and no heat flows; between a hot and a cold bath ``Tr ρ = 1``, ``ρ ≥ 0``,
    the first law, ``σ ≥ 0`` and heat from hot to cold; g = 0 (no unique steady state) is flagged
    in its own lane."""
    n = 8
    model = jaxtherm.qubit_chain(n, coupling="global")
    plan = jaxtherm.solvers.Auto().plan(model)
    assert plan.method == "krylov" and plan.eigenbasis and plan.size - 1 == 12869
    g = np.array([0.35, 0.0, 0.35, 0.8])
    beta_c = np.array([0.5, 2.0, 2.0, 2.0])  # the first point: both baths at β = 0.5
    out = jaxtherm.solve(model, g=g, **{**BATHS, "beta_c": beta_c})
    status = np.asarray(out["status"])
    np.testing.assert_array_equal(status[[0, 2, 3]], 0)
    # g = 0: both GMRES solves stall (the system is singular and b need not be in its range)
    assert status[1] in (jaxtherm.STATUS_SINGULAR, jaxtherm.STATUS_UNCONVERGED)
    assert out["residual"][1] > Krylov().tol and np.isnan(out["J_h"][1])
    rho = np.asarray(out["rho"])
    h = xx_hamiltonian(n, BATHS["omega"], g[0])
    w, v = np.linalg.eigh(h)
    gibbs = (v * np.exp(-BATHS["beta_h"] * (w - w.min()))) @ v.T
    np.testing.assert_allclose(rho[0], gibbs / np.trace(gibbs), rtol=0, atol=1e-12)
    assert abs(out["J_h"][0]) < 1e-14 and abs(out["J_c"][0]) < 1e-14
    for i in (2, 3):
        np.testing.assert_allclose(np.trace(rho[i]), 1.0, rtol=0, atol=1e-12)
        assert np.linalg.eigvalsh(rho[i]).min() > -1e-12
        # the first law to the solve's tolerance: Σ_j J_j = Tr(H R ρ), R ρ within tol of zero
        flow_scale = n * BATHS["omega"] * max(BATHS["gamma_h"], BATHS["gamma_c"])
        assert abs(out["J_h"][i] + out["J_c"][i] + out["power"][i]) < Krylov().tol * flow_scale
        assert out["J_h"][i] > 0 and out["sigma"][i] > 0


def test_small_models_keep_their_eliminations():
    auto = jaxtherm.solvers.Auto()
    for model in (jaxtherm.qubit_pair("local"), jaxtherm.qubit_chain(5), jaxtherm.qubit_chain(4, coupling="global"),
                  jaxtherm.oscillator_pair(cutoff=6)):
        assert auto.plan(model).method != "krylov", model.name
    for model in (jaxtherm.qubit_chain(6), jaxtherm.oscillator_pair(cutoff=8), jaxtherm.oscillator_pair(cutoff=10),
                  jaxtherm.oscillator_pair(cutoff=11)):
        assert auto.plan(model).method == "staged", model.name  # measured faster than Krylov and LU
    assert auto.plan(jaxtherm.oscillator_pair(cutoff=12)).method == "krylov"
    assert "krylov" in jaxtherm.solvers.NAMES
    assert isinstance(jaxtherm.solvers.get("krylov").elimination, Krylov)
    with pytest.raises(ValueError, match="min_krylov"):
        Reduced(min_krylov=-1)


COLD = Reduced(elimination=Krylov(warm_start=False))


def test_points_solved_one_at_a_time_are_not_padded_to_a_lane_block():
    """On a CPU Krylov solves one point at a time (``lax.scan``), so a batch is padded to its
    bucket only, not to a multiple of ``LANES`` (5 points were once computed as 64), and, each
    point starting from zero (``warm_start=False``), a point's value does not depend on the
    batch it is in (bitwise)."""
    from jaxtherm.kernel import batch

    plan = jaxtherm.solvers.get("krylov").plan(jaxtherm.qubit_chain(4))
    assert batch.lanes_of(plan, "cpu") == 1 and batch.bucket_size(5, 2**15, batch.lanes_of(plan, "cpu")) == 5
    assert batch.lanes_of(jaxtherm.solvers.Auto().plan(jaxtherm.qubit_pair("local")), "cpu") == batch.LANES
    g = np.linspace(0.2, 1.0, 9)
    whole = jaxtherm.solve(jaxtherm.qubit_chain(4), g=g, solver=COLD, rho=False, **BATHS)
    part = jaxtherm.solve(jaxtherm.qubit_chain(4), g=g[2:7], solver=COLD, rho=False, **BATHS)
    for k in CHECKED:
        np.testing.assert_array_equal(np.asarray(part[k]), np.asarray(whole[k])[2:7], err_msg=k)


def test_the_platform_a_kernel_is_compiled_for_chooses_its_blocks_not_the_default_backend():
    """A kernel's blocks follow the platform its caller names (a sweep's devices, ``solve``'s
    inputs), never JAX's default backend: Krylov runs one point after another, warm-started, on
    a CPU, and the whole chunk vmapped from zero elsewhere. Named ``"gpu"`` here, on a CPU, the
    GPU's program runs, and it reaches the quasi-free chain as the CPU's does (each point to
    ``tol``)."""
    from jaxtherm.kernel import batch

    model = jaxtherm.qubit_chain(5)
    plan = jaxtherm.solvers.get("krylov").plan(model)
    assert plan.elimination.block_size("cpu") == 1 and plan.elimination.block_size("gpu") is None
    assert batch.lanes_of(plan, "gpu") == batch.LANES
    g = np.linspace(0.3, 1.0, 6)
    ref = reference(5, g)
    values = [g, *(np.full(len(g), b) for b in BATHS.values())]
    for platform in ("cpu", "gpu"):
        runner = batch.ChunkRunner(model, ("g", *BATHS), (), np.float64, "krylov", rho=False, platform=platform)
        assert runner.lanes == (1 if platform == "cpu" else batch.LANES)
        size = batch.padded(len(g), lanes=runner.lanes)
        out = runner(*(batch.pad(v, size) for v in values))
        assert np.all(np.asarray(out["status"])[: len(g)] == 0), platform
        assert_close({k: np.asarray(out[k])[: len(g)] for k in CHECKED}, ref, rtol=1e-8)


def test_staged_blocks_keep_a_blocks_values_in_the_caches():
    """On a CPU the staged elimination runs blocks of at most 64 points whose values fit 8 MiB
    (``staged.cpu_block``): 64 for the 5-qubit chain (6,325 values a point), 16 for the 6-qubit
    chain (64,931); on other platforms the whole chunk."""
    from jaxtherm.kernel import batch
    from jaxtherm.linalg import staged
    from jaxtherm.linalg.elimination import compiling_for

    assert staged.cpu_block(6_325) == 64 and staged.cpu_block(64_931) == 16 and staged.cpu_block(10**8) == 4
    model = jaxtherm.qubit_chain(5)
    plan = Reduced().plan(model)
    assert plan.method == "staged"
    assert plan.elimination.block_size("cpu") == 64 and plan.elimination.block_size("gpu") is None
    # the blocks inside a kernel follow the platform it is traced for, not the default backend
    for platform, inner in (("cpu", 16), ("gpu", None)):
        with compiling_for(platform):
            assert staged._inner_block(64_931) == inner
    g = np.linspace(0.3, 1.0, 70)  # more than one CPU block
    values = [g, *(np.full(len(g), b) for b in BATHS.values())]
    ref = reference(5, g)
    for platform in ("cpu", "gpu"):
        runner = batch.ChunkRunner(model, ("g", *BATHS), (), np.float64, rho=False, platform=platform)
        out = runner(*(batch.pad(v, batch.padded(len(g))) for v in values))
        assert np.all(np.asarray(out["status"])[: len(g)] == 0), platform
        assert_close({k: np.asarray(out[k])[: len(g)] for k in CHECKED}, ref, rtol=1e-8)


def test_an_elimination_written_before_the_platform_argument_still_runs():
    """A user's elimination whose ``block_size`` takes no platform (the signature before it was
    an argument) is asked without one, and solves."""
    from jaxtherm.kernel import batch

    class OldLU(jaxtherm.solvers.LU):
        def block_size(self):
            return None

    assert batch.block_size(OldLU(), "cpu") is None
    g = np.array([0.4, 0.8])
    out = jaxtherm.solve(jaxtherm.qubit_chain(3), g=g, rho=False, solver=Reduced(elimination=OldLU()), **BATHS)
    assert_close(out, reference(3, g), rtol=1e-8)


def test_a_warm_start_is_used_and_a_failed_point_passes_on_the_guess_it_got():
    """``kernel.point_from``: from its own solutions, a Krylov too weak to converge from zero (one
    cycle of 3 steps) converges; the guess it leaves is that point's solution; a point that fails
    (singular, g = 0) hands on the guess it got, unchanged."""
    import jax

    from jaxtherm.kernel.point import point_from

    model = jaxtherm.qubit_chain(4)
    weak = Reduced(elimination=Krylov(restart=3, maxiter=1)).plan(model)
    plan = jaxtherm.solvers.get("krylov").plan(model)
    p = model.to_parameters({**BATHS, "g": 0.5})
    run = jax.jit(lambda plan, guess, p: point_from(model, p, plan, guess, rho=False), static_argnums=0)
    out, guess = run(plan, plan.cold_guess(np.float64), p)
    assert int(out["status"]) == 0 and all(np.all(np.isfinite(x)) for x in guess)
    cold, _ = run(weak, weak.cold_guess(np.float64), p)
    assert int(cold["status"]) == jaxtherm.STATUS_UNCONVERGED
    warm, again = run(weak, guess, p)
    assert int(warm["status"]) == 0
    for k in CHECKED:
        np.testing.assert_allclose(float(warm[k]), float(out[k]), rtol=1e-10, err_msg=k)
    failed, handed_on = run(plan, guess, model.to_parameters({**BATHS, "g": 0.0}))
    assert int(failed["status"]) == jaxtherm.STATUS_SINGULAR
    for a, b in zip(handed_on, guess):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_warm_started_points_and_derivatives_equal_cold_ones():
    """Points of a batch start from the last ones' solutions (the default, ``warm_start=True``):
    each is still solved to the tolerance, so the batch, the same points in another order
    (other neighbours) and cold starts agree to 1e-9, and the quasi-free values to 1e-8; a failed
    point (non-finite; a singular one: the test above) in the middle leaves its neighbours as
    accurate. Forward
    (``gradients=``, tangent solves starting from what fits of the neighbours' solutions) and
    reverse (``jax.grad`` through ``solve``, cotangents from zero) derivatives equal cold
    starts' to 1e-8."""
    import jax
    import jax.numpy as jnp

    model = jaxtherm.qubit_chain(5)
    g = np.array([0.30, 0.32, 0.33, 0.34, np.nan, 0.36, 0.38])
    grads = ["g", "beta_h"]
    warm = jaxtherm.solve(model, g=g, gradients=grads, solver="krylov", rho=False, **BATHS)
    cold = jaxtherm.solve(model, g=g, gradients=grads, solver=COLD, rho=False, **BATHS)
    rolled = jaxtherm.solve(model, g=np.roll(g, -3), gradients=grads, solver="krylov", rho=False, **BATHS)
    rolled = {k: np.roll(np.asarray(v), 3) for k, v in rolled.items()}
    status = np.asarray(warm["status"])
    np.testing.assert_array_equal(status, np.asarray(cold["status"]))
    np.testing.assert_array_equal(status, rolled["status"])
    good = np.flatnonzero(status == 0)
    np.testing.assert_array_equal(good, [0, 1, 2, 3, 5, 6])
    ref = reference(5, g[good])
    for k in CHECKED:
        np.testing.assert_allclose(np.asarray(warm[k])[good], np.asarray(cold[k])[good], rtol=1e-9, atol=0, err_msg=k)
        np.testing.assert_allclose(rolled[k][good], np.asarray(warm[k])[good], rtol=1e-9, atol=0, err_msg=k)
        np.testing.assert_allclose(np.asarray(warm[k])[good], ref[k], rtol=1e-8, atol=0, err_msg=k)
    for k in ("dJ_h_dg", "dn_c_dg", "dJ_h_dbeta_h"):
        np.testing.assert_allclose(np.asarray(warm[k])[good], np.asarray(cold[k])[good], rtol=1e-8, err_msg=k)

    def total(x):
        return jnp.sum(jaxtherm.solve(model, g=x, solver="krylov", rho=False, **BATHS)["J_h"])

    by_warm = jax.grad(total)(jnp.asarray(g[good]))  # point i's J_h depends on g_i only
    np.testing.assert_allclose(np.asarray(by_warm), np.asarray(cold["dJ_h_dg"])[good], rtol=1e-8)


def test_krylov_solve_traced_twice_inside_jit():
    """``solve`` by Krylov inside ``jax.jit``, traced again for another batch size: the kernel
    cached by the first trace holds no tracer (its first guess is NumPy), and both equal the
    eager values."""
    import jax

    model = jaxtherm.qubit_chain(3)
    run = jax.jit(lambda g: jaxtherm.solve(model, g=g, solver="krylov", rho=False, **BATHS)["J_h"])
    g = np.linspace(0.3, 0.6, 4)
    eager = np.asarray(jaxtherm.solve(model, g=g, solver="krylov", rho=False, **BATHS)["J_h"])
    for n in (3, 4):
        jax.make_jaxpr(run)(g[:n])
        np.testing.assert_allclose(np.asarray(run(g[:n])), eager[:n], rtol=1e-10)


def test_oscillators_at_cutoff_12_and_16_reach_the_gaussian_limit_within_the_truncation_error():
    """The local oscillator pair at cutoffs 12 and 16 (Krylov: 1,155 and 2,735 unknowns) against
    its infinite-cutoff (Gaussian, Lyapunov) solution, ``tests/quasi_free.py``: warm baths
    (n̄_a ≈ 0.58) so that the truncation error is visible; it stays below ``10 r^cutoff`` with
    ``r = n̄_a/(1 + n̄_a)`` (the occupation of level ``k`` falls like ``r^k``) and falls by more
    than 10 from 12 to 16."""
    p = dict(omega_a=1.0, omega_b=1.3, beta_a=1.0, beta_b=1.5, gamma_a=0.3, gamma_b=0.2, epsilon=0.2)
    ref = qf.oscillator_pair(spectrum="bose", **p)
    r = 1.0 / np.expm1(p["beta_a"] * p["omega_a"])
    r = r / (1 + r)
    errors = {}
    for cutoff in (12, 16):
        model = jaxtherm.oscillator_pair(cutoff=cutoff, coupling="local", spectrum="bose")
        assert jaxtherm.solvers.Auto().plan(model).method == "krylov"
        out = jaxtherm.solve(model, rho=False, **p)
        assert int(out["status"]) == 0
        errors[cutoff] = max(abs(float(out[k]) - ref[k]) / abs(ref[k]) for k in ("J_a", "J_b", "n_a", "n_b", "sigma"))
        assert errors[cutoff] < 10 * r**cutoff, (cutoff, errors[cutoff], r**cutoff)
    assert errors[16] < errors[12] / 10, errors


def test_current_noise_by_krylov_equals_lu():
    """Counting statistics through Krylov (the Drazin solve by the same preconditioned GMRES)
    equal LU's on the 4-qubit chain (the 8-qubit chain's costs the same solves once more)."""
    model, g = jaxtherm.qubit_chain(4), np.array([0.3, 0.8])
    out = {s: jaxtherm.solve(model, g=g, fluctuations=True, solver=s, rho=False, **BATHS) for s in ("krylov", "lu")}
    assert np.all(np.asarray(out["krylov"]["status"]) == 0)
    for k in ("J_counted_h", "noise_h", "noise_c", "tur_h"):
        np.testing.assert_allclose(np.asarray(out["krylov"][k]), np.asarray(out["lu"][k]), rtol=1e-10, err_msg=k)


def test_float32_by_krylov_reaches_its_own_tolerance():
    """float32 (opt-in): the weights follow the vector's dtype (they once turned float32 into
    float64 and every solve failed to trace), and the tolerance is ``max(tol, 100 ε)``: the
    4-qubit chain by Krylov converges and equals float64 to float32's accuracy."""
    model, g = jaxtherm.qubit_chain(4), np.array([0.3, 0.8])
    assert Krylov().tolerance(np.float32) == 100 * float(np.finfo(np.float32).eps) and Krylov().tolerance(np.float64) == 1e-11
    single = jaxtherm.solve(model, g=g, solver="krylov", dtype="float32", rho=False, **BATHS)
    double = jaxtherm.solve(model, g=g, solver="krylov", rho=False, **BATHS)
    assert np.all(np.asarray(single["status"]) == 0) and single["J_h"].dtype == np.float32
    for k in CHECKED:
        np.testing.assert_allclose(np.asarray(single[k]), np.asarray(double[k]), rtol=1e-4, err_msg=k)



def test_krylov_sweep_split_over_two_devices_matches_the_quasi_free_chain(tmp_path):
    """A Krylov sweep whose chunks are split over two (host) devices (``--cpu-devices 2``): every
    lane gets its own point (the quasi-free currents, 1e-8; the in-process one-device solve, to
    round-off), and the singular point g = 0 is flagged in its own lane only. With a jaxlib whose
    LAPACK blocks the CPU's thread pool, Krylov's kernel (its preconditioner's ``eigh``) runs on
    one device instead (``jaxtherm.sweep.devices.lapack_blocks_pool``): then each chunk is one run."""
    import subprocess
    import sys

    import h5py

    from jaxtherm.sweep.devices import lapack_blocks_pool

    g = np.linspace(0.0, 0.7, 8)
    spec = tmp_path / "chain.toml"
    spec.write_text("[model]\nname = \"qubit_chain\"\nn = 3\ncoupling = \"local\"\n[parameters]\n"
                    + "".join(f"{k} = {v}\n" for k, v in BATHS.items())
                    + f"[axes]\ng = {{ values = {[float(x) for x in g]} }}\n[run]\nsolver = \"krylov\"\n")
    res = subprocess.run([sys.executable, "-m", "jaxtherm", "run", str(spec), "-o", str(tmp_path / "two.h5"),
                          "--chunk-size", "4", "--cpu-devices", "2", "-q"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    split = not lapack_blocks_pool()
    assert ("on 2 devices" in res.stdout) == split
    with h5py.File(tmp_path / "two.h5") as h5:
        two = {k: h5[k][()] for k in (*CHECKED, "status")}
    assert two["status"][0] == jaxtherm.STATUS_SINGULAR and (two["status"][1:] == 0).all()
    assert_close({k: v[1:] for k, v in two.items()}, reference(3, g[1:]), rtol=1e-8)
    # each device's part of a chunk (2 points; on one device the chunk, 4) starts cold, as a solve of those points does
    part = 2 if split else 4
    pairs = [jaxtherm.solve(jaxtherm.qubit_chain(3, "local"), g=g[i:i + part], solver="krylov", rho=False, **BATHS)
             for i in range(0, 8, part)]
    one = {k: np.concatenate([np.asarray(p[k]) for p in pairs]) for k in (*CHECKED, "status")}
    np.testing.assert_array_equal(np.asarray(one["status"]), two["status"])
    for k in CHECKED:
        scale = np.max(np.abs(two[k][1:]))
        np.testing.assert_allclose(two[k][1:], np.asarray(one[k])[1:], rtol=0, atol=1e-12 * scale, err_msg=k)
