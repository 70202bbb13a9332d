"""The public API: validation with clear errors, broadcasting, chunking, precision."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxtherm
from jaxtherm.models import Lindblad, Model, Term, parameter
from tests.helpers import default_compiler_env, random_points

POINT = dict(omega_a=1.0, omega_b=1.2, beta_a=0.5, beta_b=1.0, gamma_a=1.0, gamma_b=0.5, epsilon=0.1)


def test_unknown_coupling():
    with pytest.raises(ValueError, match="coupling must be one of incoherent, local, global, redfield, ule; got 'nonlocal'"):
        jaxtherm.qubit_pair("nonlocal")


def test_models_are_immutable_and_cached():
    model = jaxtherm.qubit_pair("local")
    assert model is jaxtherm.qubit_pair("local")
    with pytest.raises(AttributeError):
        model.dim = 3
    assert model.parameters == ("omega_a", "omega_b", "beta_a", "beta_b", "gamma_a", "gamma_b", "epsilon")


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(epsilon=None), "missing parameter 'epsilon'"),
        (dict(beta_a=None), r"missing parameter 'beta_a' \(or 'T_a'\)"),
        (dict(omega_c=1.0), "unknown parameter 'omega_c'"),
        (dict(T_a=2.0), "parameter 'beta_a' given twice, as 'beta_a' and 'T_a'"),
    ],
)
def test_parameter_errors_name_the_parameter(change, message):
    p = {**POINT, **change}
    p = {k: v for k, v in p.items() if v is not None}
    with pytest.raises(ValueError, match=message):
        jaxtherm.solve(jaxtherm.qubit_pair("local"), **p)


def test_gradient_parameter_errors():
    with pytest.raises(ValueError, match="gradient parameter 'T_a' is not among"):
        jaxtherm.solve(jaxtherm.qubit_pair("local"), gradients=["T_a"], **POINT)


def test_shapes_must_broadcast():
    with pytest.raises(ValueError, match="do not broadcast"):
        jaxtherm.solve(jaxtherm.qubit_pair("local"), **{**POINT, "epsilon": np.ones(3), "omega_a": np.ones(4)})


def test_broadcasting_and_output_shapes():
    eps = np.linspace(0.1, 1.0, 3)[:, None]
    beta_b = np.linspace(0.5, 2.0, 4)[None, :]
    out = jaxtherm.solve(jaxtherm.qubit_pair("incoherent"), **{**POINT, "epsilon": eps, "beta_b": beta_b})
    assert out["J_a"].shape == (3, 4)
    assert out["rho"].shape == (3, 4, 4, 4)
    assert out["status"].dtype == np.int8
    single = jaxtherm.solve(jaxtherm.qubit_pair("incoherent"), **{**POINT, "epsilon": eps[2, 0], "beta_b": beta_b[0, 1]})
    assert float(out["J_a"][2, 1]) == float(single["J_a"])
    empty = jaxtherm.solve(jaxtherm.qubit_pair("incoherent"), **{**POINT, "epsilon": np.zeros((0, 2))})
    assert empty["J_a"].shape == (0, 2) and empty["rho"].shape == (0, 2, 4, 4)


def test_temperature_alias():
    model = jaxtherm.qubit_pair("global")
    by_beta = jaxtherm.solve(model, **POINT)
    p = {k: v for k, v in POINT.items() if not k.startswith("beta")}
    by_t = jaxtherm.solve(model, T_a=2.0, T_b=1.0, **p)
    assert float(by_t["J_a"]) == float(by_beta["J_a"])


def test_chunked_equals_unchunked(coupling):
    p = random_points(300, seed=9)
    model = jaxtherm.qubit_pair(coupling)
    whole = jaxtherm.solve(model, **p)
    chunked = jaxtherm.solve(model, chunk_size=64, **p)
    for k in whole:
        np.testing.assert_allclose(np.asarray(chunked[k]), np.asarray(whole[k]), rtol=1e-13, atol=0, err_msg=k)


def test_float32_is_opt_in_and_close():
    p = random_points(64, seed=4)
    model = jaxtherm.qubit_pair("local")
    f64 = jaxtherm.solve(model, **p)
    f32 = jaxtherm.solve(model, dtype="float32", **p)
    assert f64["J_a"].dtype == jnp.float64 and f32["J_a"].dtype == jnp.float32
    assert f32["rho"].dtype == jnp.complex64
    assert np.all(np.asarray(f32["status"]) == 0)
    scale = np.abs(np.asarray(f64["J_a"])).max()
    np.testing.assert_allclose(np.asarray(f32["J_a"]), np.asarray(f64["J_a"]), atol=1e-4 * scale)
    with pytest.raises(ValueError, match="dtype must be float64 or float32"):
        jaxtherm.solve(model, dtype="float16", **p)


def test_model_validation():
    sm = np.array([[0, 1], [0, 0]])
    with pytest.raises(ValueError, match="not Hermitian"):
        Model("bad", 2, ("w",), (Term(parameter("w"), sm, "w sm"),), (), ())
    with pytest.raises(ValueError, match="uses parameter 'g', which is not among"):
        Model("bad", 2, ("w",), (Term(parameter("w"), sm.T @ sm, "w n"),), (Lindblad(parameter("g"), sm, "x"),), ())
    with pytest.raises(ValueError, match=r"must have shape \(2, 2\)"):
        Model("bad", 2, ("w",), (Term(parameter("w"), np.eye(3), "w"),), (), ())


def test_a_user_defined_model_runs_through_the_same_path():
    """A driven-free qubit with one thermal bath thermalizes to its Gibbs state."""
    sm = np.array([[0.0, 1.0], [0.0, 0.0]])
    model = Model(
        "qubit",
        2,
        ("omega", "beta", "gamma"),
        (Term(parameter("omega"), sm.T @ sm, "omega n"),),
        tuple(jaxtherm.local_thermalizer(sm, bath="h", omega="omega", beta="beta", gamma="gamma")),
        (jaxtherm.Bath("h", "beta"),),
    )
    out = jaxtherm.solve(model, omega=2.0, beta=np.array([0.1, 1.0, 3.0]), gamma=0.3)
    p1 = np.exp(-2.0 * np.array([0.1, 1.0, 3.0]))
    np.testing.assert_allclose(np.real(np.asarray(out["rho"])[:, 1, 1]), p1 / (1 + p1), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(out["J_h"]), 0.0, atol=1e-15)


def test_solve_sizes_its_chunks_to_an_accelerators_budget(monkeypatch):
    """On a CPU ``solve`` takes chunks of 2¹⁵ points; on an accelerator the largest power of two
    whose working set (XLA's memory analysis of the compiled kernel) fits the budget, so that a
    large model cannot exhaust the device's memory. Results do not depend on it."""
    from jaxtherm.kernel import batch, sizing

    model, p = jaxtherm.qubit_pair("local"), random_points(300, seed=12)
    runner = batch.ChunkRunner(model, tuple(p), (), np.float64)
    kernels, lanes = runner.kernels(), runner.lanes
    assert sizing.solve_chunk(kernels, len(p), np.float64, lanes, "cpu") == batch.DEFAULT_CHUNK_SIZE == 2**15
    per_point = max(sizing.bytes_per_point(k, len(p), np.float64) for k in kernels)
    assert per_point > 0
    # the largest power of two within the budget (2 GiB) and MAX_CHUNK: far above the CPU's chunk
    size, budget = sizing.solve_chunk(kernels, len(p), np.float64, lanes, "gpu"), sizing.WORKING_SET_BUDGET["gpu"]
    assert size > 2**15 and size & (size - 1) == 0 and size * per_point <= budget
    assert 2 * size * per_point > budget or size == sizing.MAX_CHUNK
    monkeypatch.setitem(sizing.WORKING_SET_BUDGET, "gpu", int(200 * per_point))
    sizing._accelerator_chunk.cache_clear()
    size = sizing.solve_chunk(kernels, len(p), np.float64, lanes, "gpu")  # a tight budget sets the size
    assert size == 128 and size * per_point <= 200 * per_point < 2 * size * per_point
    monkeypatch.setattr(batch, "_platform_of", lambda arrays: "gpu")  # solve's inputs, as if on a GPU
    seen, in_chunks = [], batch._in_chunks
    monkeypatch.setattr(batch, "_in_chunks", lambda fn, flat, chunk, lanes: seen.append(chunk) or
                        in_chunks(fn, flat, chunk, lanes))
    on_gpu = jaxtherm.solve(model, **p)
    assert seen == [128]
    monkeypatch.undo()
    sizing._accelerator_chunk.cache_clear()
    whole = jaxtherm.solve(model, **p)  # one chunk of 2¹⁵ on this CPU
    for k in whole:
        np.testing.assert_array_equal(np.asarray(on_gpu[k]), np.asarray(whole[k]), err_msg=k)


def level_cases(path: str) -> None:
    """Solve the kernel families ``test_the_default_compiler_level_gives_the_tests_results``
    compares, into an ``.npz`` at ``path``."""
    p = random_points(16, seed=20261206)
    cases = {
        "pair_global": (jaxtherm.qubit_pair("global"), dict(gradients=("epsilon", "beta_a"), fluctuations=True)),
        "pair_redfield": (jaxtherm.qubit_pair("redfield"), dict(gradients=("epsilon",))),
        "refrigerator": (jaxtherm.models.get("absorption_refrigerator", coupling="global"), {}),
    }
    out = {}
    for name, (model, options) in cases.items():
        q = {k: v for k, v in p.items() if k in model.parameters}
        rng = np.random.default_rng(1)
        q.update({k: rng.uniform(0.5, 1.5, 16) for k in model.parameters if k not in q})
        for key, value in jaxtherm.solve(model, **options, **q).items():
            out[f"{name}/{key}"] = np.asarray(value)
    np.savez(path, **out)


def test_the_default_compiler_level_gives_the_tests_results(tmp_path):
    """The suite compiles with ``tests.helpers.TEST_XLA_FLAGS`` (LLVM's optimisations off, the
    elemental emitter; tests/conftest.py); users run XLA's defaults. The two must agree to
    round-off on the kernels the tests cover: a pair with forward derivatives and counting
    statistics, a Redfield generator, a three-qubit machine."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    level_cases(str(tmp_path / "tests.npz"))  # here, at the tests' level
    env = dict(default_compiler_env(), PYTHONPATH=str(root))
    subprocess.run([sys.executable, "-c", "import sys; from tests.test_api import level_cases; level_cases(sys.argv[1])",
                    str(tmp_path / "default.npz")], env=env, check=True, cwd=root)
    results = {level: np.load(tmp_path / f"{level}.npz") for level in ("tests", "default")}
    assert "--xla_backend_optimization_level" in os.environ["XLA_FLAGS"]  # conftest's, or the caller's own
    tests, default = results["tests"], results["default"]
    assert sorted(tests) == sorted(default) and len(tests) > 30
    for key in default:
        if key.endswith("/residual"):  # a residual is round-off itself
            assert np.all(np.abs(tests[key]) < 1e-10) and np.all(np.abs(default[key]) < 1e-10), key
            continue
        scale = np.max(np.abs(default[key]), initial=1.0)
        np.testing.assert_allclose(tests[key], default[key], rtol=0, atol=1e-10 * scale, err_msg=key)
