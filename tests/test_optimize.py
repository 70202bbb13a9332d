"""Gradient-based design (``jaxtherm optimize``): optima against SciPy on independent
implementations, constraints, failed starts, the results file and bad input."""

import json

import numpy as np
import pytest
import scipy.optimize

import jaxtherm
from jaxtherm.cli import commands as cli
from jaxtherm.design.optimize import CONVERGED, FAILED_POINT, NONFINITE, START_MEANINGS, optimize

from . import analytic, reference

ENGINE = dict(omega_a=1.0, T_a=2.0, T_b=0.5, gamma_a=1.0, gamma_b=1.0)


def engine_scipy(constraint=None):
    """SciPy on the closed form of the incoherent pair (tests/analytic.py), finite-difference
    gradients: the independent optimum of −P over ω_b ∈ [0.1, 1], ε ∈ [0.01, 2]."""

    def minus_work(x):  # SciPy minimises P = −(work delivered)
        return float(analytic.incoherent(1.0, x[0], 0.5, 2.0, 1.0, 1.0, x[1])["power"])

    cons = []
    if constraint is not None:
        def efficiency(x):
            o = analytic.incoherent(1.0, x[0], 0.5, 2.0, 1.0, 1.0, x[1])
            return float(-o["power"] / o["J_a"] - constraint)

        cons = [{"type": "ineq", "fun": efficiency}]
    best = min((scipy.optimize.minimize(minus_work, x0, method="SLSQP", bounds=[(0.1, 1.0), (0.01, 2.0)],
                                        constraints=cons, options={"ftol": 1e-15, "maxiter": 500})
                for x0 in ([0.3, 1.0], [0.8, 0.1], [0.5, 1.9])), key=lambda r: r.fun)
    return best.x, -best.fun


@pytest.mark.parametrize("constraint", [None, 0.5])
def test_engine_optimum_equals_scipy_on_the_closed_form(constraint):
    """Maximum power of the detuned incoherent pair: ε ends at its upper bound (an active bound);
    with ``-power / J_a >= 0.5`` (efficiency) the constraint is active too."""
    cons = [] if constraint is None else [f"-power / J_a >= {constraint}"]
    r = optimize(jaxtherm.qubit_pair("incoherent"), "-power", {"omega_b": [0.1, 1.0], "epsilon": [0.01, 2.0]},
                 ENGINE, constraints=cons, starts=8, steps=800)
    x_ref, f_ref = engine_scipy(constraint)
    best = r.best
    assert r.status[best] == CONVERGED
    assert abs(r.objective[best] - f_ref) <= 1e-6 * abs(f_ref)
    assert r.x[best, 1] == 2.0 and abs(x_ref[1] - 2.0) < 1e-6  # the bound is active in both
    assert abs(r.x[best, 0] - x_ref[0]) < 1e-3
    if constraint is not None:
        eff = -r.observables["power"][best] / r.observables["J_a"][best]
        assert eff >= constraint - 1e-6 and abs(r.x[best, 0] - 0.5) < 1e-6  # efficiency 1 − ω_b/ω_a = 0.5
    # every start that converged found the same optimum (this problem has one)
    ok = r.status == CONVERGED
    assert ok.sum() >= 6
    np.testing.assert_allclose(r.objective[ok], f_ref, rtol=1e-6)


def test_refrigerator_optimum_equals_scipy_on_qutip():
    """Maximum cooling power of the local absorption refrigerator over (E_c, g): g active at its
    upper bound, E_c interior; SciPy (L-BFGS-B, finite differences) on the QuTiP reference."""
    fixed = dict(E_h=2.0, T_c=1.0, T_r=1.5, T_h=6.0, gamma_c=0.05, gamma_r=0.05, gamma_h=0.05)
    # the dense solver compiles several times faster than the unrolled one with two tangents
    # (docs/performance.md); test_solvers shows they agree, so the optimiser is what this test checks
    r = optimize(jaxtherm.absorption_refrigerator("local"), "J_c", {"E_c": [0.2, 2.5], "g": [0.005, 0.05]}, fixed,
                 starts=4, steps=600, solver="dense")

    def minus_cooling(x):
        system = reference.absorption_refrigerator("local", x[0], 2.0, x[1], 1.0, 1 / 1.5, 1 / 6.0, 0.05, 0.05, 0.05)
        return -reference.solve(system)["J_c"]

    ref = scipy.optimize.minimize(minus_cooling, [1.2, 0.03], method="L-BFGS-B", bounds=[(0.2, 2.5), (0.005, 0.05)],
                                  options={"ftol": 1e-15, "gtol": 1e-12})
    best = r.best
    assert r.status[best] == CONVERGED
    assert abs(r.objective[best] + ref.fun) <= 1e-6 * abs(ref.fun)
    assert r.x[best, 1] == 0.05 and abs(ref.x[1] - 0.05) < 1e-9
    assert abs(r.x[best, 0] - ref.x[0]) < 1e-3
    # the gradients written beside the optimum: dJ_c/dE_c vanishes there, dJ_c/dg > 0 at the bound
    assert abs(r.gradients["dJ_c_dE_c"][best]) < 1e-6 * abs(r.gradients["dJ_c_dg"][best])
    assert r.gradients["dJ_c_dg"][best] > 0


def test_a_start_on_a_failed_point_is_reported_not_fatal():
    """All rates and the coupling zero: no unique steady state (status 1). The start placed there
    is reported; the others optimise."""
    x0 = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.3], [0.9, 0.2, 0.6]])
    r = optimize(jaxtherm.qubit_pair("incoherent"), "J_a",
                 {"gamma_a": [0.0, 1.0], "gamma_b": [0.0, 1.0], "epsilon": [0.0, 1.0]},
                 dict(omega_a=1.0, omega_b=1.0, T_a=2.0, T_b=1.0), starts=3, steps=200, x0=x0)
    assert r.status[0] == FAILED_POINT and np.isnan(r.objective[0])
    assert (r.status[1:] != FAILED_POINT).all() and np.isfinite(r.objective[1:]).all()
    assert r.best != 0



def test_an_infinite_objective_is_reported_as_such():
    """``1 / (0 J_a)``: every point is solved (status 0) but the objective is infinite; each start
    is reported as not finite, not as a point that could not be solved."""
    r = optimize(jaxtherm.qubit_pair("incoherent"), "1 / (0 * J_a)", {"epsilon": [0.1, 1.0]},
                 dict(omega_a=1.0, omega_b=1.0, T_a=2.0, T_b=1.0, gamma_a=0.5, gamma_b=0.5), starts=2, steps=5)
    assert (r.status == NONFINITE).all() and np.isinf(r.objective).all()
    assert "not finite" in START_MEANINGS[NONFINITE] and "could not be solved" not in START_MEANINGS[NONFINITE]


SPEC = """
[model]
name = "qubit_pair"
coupling = "incoherent"
[parameters]
omega_a = 1.0
T_a = 2.0
T_b = 0.5
gamma_a = 1.0
gamma_b = 1.0
[optimize]
maximize = "-power"
variables = { omega_b = [0.1, 1.0, 0.7], epsilon = [0.01, 2.0] }
constraints = ["-power / J_a >= 0.5"]
starts = 4
steps = 400
"""


def test_cli_writes_a_results_file_and_json(tmp_path, capsys):
    spec = tmp_path / "engine.toml"
    spec.write_text(SPEC)
    out = tmp_path / "engine.h5"
    assert cli.main(["optimize", str(spec), "-o", str(out), "--json"]) == 0
    j = json.loads(capsys.readouterr().out)
    assert set(j) >= {"objective", "variables", "observables", "status"}
    assert j["variables"].keys() == {"omega_b", "epsilon"} and j["variables"]["epsilon"] == 2.0
    assert j["observables"]["power"] == pytest.approx(-j["objective"], rel=1e-12)
    ds = jaxtherm.open(out)
    assert ds.sizes["start"] == 4 and ds.attrs["objective"] == "-power" and ds.attrs["spec"] == SPEC
    assert float(ds.objective[ds.attrs["best_start"]]) == j["objective"]
    assert float(ds.omega_b_start[0]) == 0.7  # the given start value
    assert ds.trajectory.dims == ("start", "step", "variable") and int(ds.step[-1]) == 400
    np.testing.assert_array_equal(ds.trajectory.values[:, -1, :], np.stack([ds.omega_b, ds.epsilon], axis=1))
    assert ds.omega_b.attrs["units"] == "energy" and "dpower_depsilon" in ds
    assert cli.main(["info", str(out)]) == 0  # shows the optimum and the solver
    shown = capsys.readouterr().out
    best = ", ".join(f"{k} = {v:.6g}" for k, v in j["variables"].items())
    assert f"  optimum      -power = {j['objective']:.6g} (maximize) at {best} (start {ds.attrs['best_start']})" in shown, shown
    assert "  solver       auto" in shown
    assert cli.main(["optimize", str(spec), "-o", str(out)]) == 2  # exists: --force
    assert "--force" in capsys.readouterr().err
    assert cli.main(["optimize", str(spec), "-o", str(out), "--force", "--steps", "50"]) == 0
    assert "best: start" in capsys.readouterr().out


@pytest.mark.parametrize("change, key, expected", [
    (("maximize = \"-power\"", "maximize = \"-work\""), "optimize.maximize", "unknown observable 'work'"),
    (("constraints = [\"-power / J_a >= 0.5\"]", "constraints = [\"cop >= 0.5\"]"), "optimize.constraints",
     "unknown observable 'cop'"),
    (("constraints = [\"-power / J_a >= 0.5\"]", "constraints = [\"J_a = 1\"]"), "optimize.constraints", "not a constraint"),
    (("T_b = 0.5", "T_b = 0.5\nepsilon = 0.1"), "optimize.variables.epsilon", "is also fixed"),
    (("omega_b = [0.1, 1.0, 0.7]", "omega_b = [1.0, 0.1]"), "optimize.variables.omega_b", "lo < hi"),
    (("omega_b = [0.1, 1.0, 0.7]", "omega_b = [-1.0, 1.0]"), "optimize.variables.omega_b", "domain"),
    (("omega_b = [0.1, 1.0, 0.7]", "nosuch = [0.1, 1.0]"), "optimize.variables.nosuch", "unknown parameter"),
    (("T_b = 0.5", ""), "parameters", "T_b"),
    (("steps = 400", "steps = 0"), "optimize.steps", "positive integer"),
    (("maximize = \"-power\"", "maximize = \"-power\"\nminimize = \"power\""), "optimize", "exactly one"),
])
def test_bad_optimize_specs_exit_2_naming_the_key(tmp_path, capsys, change, key, expected):
    spec = tmp_path / "bad.toml"
    spec.write_text(SPEC.replace(*change))
    assert cli.main(["optimize", str(spec), "-o", str(tmp_path / "bad.h5")]) == 2
    err = capsys.readouterr().err
    assert f"key '{key}'" in err and expected in err and "Traceback" not in err, err
    assert not (tmp_path / "bad.h5").exists()


def test_an_infeasible_constraint_exits_2_after_writing_what_it_found(tmp_path, capsys):
    """A work output of 1 (the maximum is 0.03): every start ends infeasible."""
    spec = tmp_path / "carnot.toml"
    spec.write_text(SPEC.replace("-power / J_a >= 0.5", "-power >= 1"))
    out = tmp_path / "carnot.h5"
    assert cli.main(["optimize", str(spec), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "key 'optimize.constraints'" in err and "infeasible" in err and "Traceback" not in err
    assert (jaxtherm.open(out).optimizer_status.values == 3).all()


def test_run_and_optimize_refuse_each_others_specs(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    assert cli.main(["run", str(spec), "-o", str(tmp_path / "s.h5")]) == 2
    assert "jaxtherm optimize" in capsys.readouterr().err
    assert cli.main(["optimize", "quickstart"]) == 2  # a bundled sweep's name is not a study
    capsys.readouterr()
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(cli.bundled_sweeps()["quickstart"].read_text())
    assert cli.main(["optimize", str(sweep), "-o", str(tmp_path / "q.h5")]) == 2
    assert "key 'optimize'" in capsys.readouterr().err


def test_bundled_studies_are_valid():
    from jaxtherm.sweep import load_spec, resolve

    studies = cli.bundled_sweeps("studies")
    assert {"refrigerator_cooling", "engine_power"} <= set(studies)
    for path in studies.values():
        spec = load_spec(path)
        assert spec.optimize is not None
        resolve(spec)
