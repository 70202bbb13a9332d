"""``jaxtherm fit``: known parameters recovered from noisy synthetic data within the reported
uncertainties, the uncertainties against a bootstrap, the CLI and its errors."""

import json

import h5py
import numpy as np
import pytest

import jaxtherm
from jaxtherm.cli import commands as cli
from jaxtherm.design import fit as fitting
from jaxtherm.design.fit import bootstrap, fit

PAIR = jaxtherm.qubit_pair("incoherent")
FIXED = dict(omega_a=1.0, omega_b=1.0, T_a=2.0, gamma_a=1.0)
TRUTH = dict(epsilon=0.2, gamma_b=0.7)
START = {"epsilon": [0.01, 1.0, 0.5], "gamma_b": [0.1, 2.0, 1.0]}
SIGMA = 0.002


def synthetic(seed=1, n=40):
    """``J_a`` and ``n_b`` of the incoherent pair over T_b, with Gaussian noise of SIGMA: the
    current alone fixes only 1/ε + 1/γ_b; the population of B separates them."""
    t_b = np.linspace(0.3, 1.8, n)
    out = jaxtherm.solve(PAIR, T_b=t_b, **TRUTH, **FIXED)
    rng = np.random.default_rng(seed)
    return {"T_b": t_b, "J_a": np.asarray(out["J_a"]) + SIGMA * rng.normal(size=n),
            "n_b": np.asarray(out["n_b"]) + SIGMA * rng.normal(size=n)}


def test_fit_recovers_known_parameters_within_its_uncertainties_which_match_a_bootstrap():
    data = synthetic()
    r = fit(PAIR, START, data, observables=["J_a", "n_b"], fixed=FIXED)
    assert r.converged and r.dof == 2 * 40 - 2
    for name, true in TRUTH.items():
        assert abs(r.values[name] - true) <= 2 * r.errors[name], (name, r.values[name], r.errors[name])
    assert 0.6 < r.chi2 / r.dof / SIGMA**2 < 1.4  # the residual variance is the noise's
    np.testing.assert_allclose(r.residuals, np.stack([r.residuals[:, 0], r.residuals[:, 1]], axis=1))
    # 300 refits of the best fit plus resampled residuals, vmapped: their spread is the error
    boot = bootstrap(PAIR, START, data, observables=["J_a", "n_b"], fixed=FIXED, samples=300)
    assert len(boot) >= 290
    ratio = boot.std(axis=0, ddof=1) / np.array([r.errors[n] for n in r.names])
    assert np.all(np.abs(ratio - 1) <= 0.2), ratio


def test_cli_fits_a_csv_with_sigma_columns_and_an_hdf5_table(tmp_path, capsys):
    data = synthetic(seed=2)
    rows = np.c_[data["T_b"], data["J_a"], data["n_b"], np.full(40, SIGMA), np.full(40, SIGMA)]
    (tmp_path / "m.csv").write_text("T_b,J_a,n_b,sigma_J_a,sigma_n_b\n" + "\n".join(",".join(f"{float(v)!r}" for v in r) for r in rows))
    spec = tmp_path / "fit.toml"
    spec.write_text('[model]\nname = "qubit_pair"\ncoupling = "incoherent"\n[parameters]\nomega_a = 1.0\n'
                    'omega_b = 1.0\nT_a = 2.0\ngamma_a = 1.0\n[fit]\nparameters = { epsilon = 0.5, gamma_b = [0.1, 2.0] }\n'
                    'data = "m.csv"\nobservables = ["J_a", "n_b"]\n')
    out = tmp_path / "fit.h5"
    assert cli.main(["fit", str(spec), "-o", str(out), "--json"]) == 0
    j = json.loads(capsys.readouterr().out)
    assert j["converged"] and 0.6 < j["reduced_chi2"] < 1.4  # absolute errors: χ²/dof ≈ 1
    for name, true in TRUTH.items():
        p = j["parameters"][name]
        assert abs(p["value"] - true) <= 2 * p["error"]
    # `jaxtherm info` shows what the fit found, and the solver it ran
    assert cli.main(["info", str(out)]) == 0
    shown = capsys.readouterr().out
    fitted = ", ".join(f"{n} = {p['value']:.6g} ± {p['error']:.6g}" for n, p in j["parameters"].items())
    assert f"  fit          {fitted}; χ² = " in shown and "  solver       auto" in shown, shown
    ds = jaxtherm.open(out)
    np.testing.assert_allclose(ds.J_a.values - ds.J_a_data.values, ds.J_a_residual.values, atol=1e-15)
    np.testing.assert_array_equal(ds.T_b.values, data["T_b"])
    assert json.loads(ds.attrs["fit"])["parameters"]["epsilon"]["value"] == j["parameters"]["epsilon"]["value"]
    # `jaxtherm plot` draws the data (points) and the model at the best fit (a line) against T_b
    from jaxtherm.cli.plot import plot

    order = np.argsort(ds.T_b.values, kind="stable")
    data_line, model_line = plot(out, "J_a").axes[0].lines
    np.testing.assert_array_equal(data_line.get_xdata(), ds.T_b.values[order])
    np.testing.assert_array_equal(data_line.get_ydata(), ds.J_a_data.values[order])
    np.testing.assert_array_equal(model_line.get_ydata(), ds.J_a.values[order])
    assert cli.main(["plot", str(out), "n_b_residual", "-o", str(tmp_path / "r.png")]) == 0
    capsys.readouterr()
    assert cli.main(["plot", str(out), "J_a", "--sel", "T_b=1"]) == 2 and "choose --x" in capsys.readouterr().err
    # the same data as an HDF5 table, given on the command line: the same fit
    with h5py.File(tmp_path / "m.h5", "w") as h5:
        for k, v in zip(("T_b", "J_a", "n_b", "sigma_J_a", "sigma_n_b"), rows.T):
            h5[k] = v
    assert cli.main(["fit", str(spec), str(tmp_path / "m.h5"), "-o", str(tmp_path / "h.h5"), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["parameters"]["epsilon"]["value"] == pytest.approx(j["parameters"]["epsilon"]["value"], rel=1e-12)


@pytest.mark.parametrize("header, fit_table, key, expected", [
    ("T_x,J_a,n_b", "", "fit.data", "neither a parameter nor an observable"),
    ("gamma_a,J_a,n_b", "", "fit.data", "also fixed"),
    ("epsilon,J_a,n_b", "", "fit.data", "fitted parameter"),
    ("omega_b,J_a,n_b", "", "fit.data", "T_b"),  # no column gives T_b
    ("T_b,J_a,n_b", 'observables = ["J_x"]', "fit.observables", "unknown observable 'J_x'"),
    ("T_b,J_a,n_b", 'observables = ["J_b"]', "fit.data", "no column 'J_b'"),
    ("T_b,J_a,n_b", 'data = "missing.csv"', "fit.data", "no such file"),
    ("T_b,J_a,n_b", "parameters = { epsilon = [1.0, 0.1] }", "fit.parameters.epsilon", "lo < hi"),
])
def test_data_that_do_not_match_the_model_exit_2_naming_the_key(tmp_path, capsys, header, fit_table, key, expected):
    (tmp_path / "m.csv").write_text(header + "\n" + "\n".join(f"{0.5 + i / 10},0.01,0.2" for i in range(5)))
    lines = {"parameters": "parameters = { epsilon = 0.5, gamma_b = [0.1, 2.0] }", "data": 'data = "m.csv"',
             "observables": 'observables = ["J_a", "n_b"]'}
    if fit_table:
        lines[fit_table.split(" = ")[0]] = fit_table
    fixed = "omega_a = 1.0\nT_a = 2.0\ngamma_a = 1.0\n" + ("" if header.startswith("omega_b") else "omega_b = 1.0\n")
    spec = tmp_path / "fit.toml"
    spec.write_text('[model]\nname = "qubit_pair"\ncoupling = "incoherent"\n[parameters]\n' + fixed + "[fit]\n"
                    + "\n".join(lines.values()) + "\n")
    assert cli.main(["fit", str(spec), "-o", str(tmp_path / "o.h5")]) == 2
    err = capsys.readouterr().err
    assert f"key '{key}'" in err and expected in err and "Traceback" not in err, err


@pytest.mark.parametrize("name, content, expected", [("missing.csv", None, "no such file"),
                                                     ("m.csv", "T_x,J_a\n0.5,0.01\n", "neither a parameter")])
def test_data_given_as_the_argument_are_blamed_on_it_not_on_the_spec_key(tmp_path, capsys, name, content, expected):
    """``jaxtherm fit SPEC DATA``: a problem with DATA names the argument, not the spec's
    ``fit.data`` (which the argument replaced)."""
    if content is not None:
        (tmp_path / name).write_text(content)
    spec = tmp_path / "fit.toml"
    spec.write_text('[model]\nname = "qubit_pair"\ncoupling = "incoherent"\n[parameters]\nomega_a = 1.0\nomega_b = 1.0\n'
                    'T_a = 2.0\ngamma_a = 1.0\n[fit]\nparameters = { epsilon = 0.5, gamma_b = [0.1, 2.0] }\n'
                    'data = "spec.csv"\nobservables = ["J_a"]\n')
    assert cli.main(["fit", str(spec), str(tmp_path / name), "-o", str(tmp_path / "o.h5")]) == 2
    err = capsys.readouterr().err
    assert "the DATA argument" in err and name in err and expected in err and "fit.data" not in err, err
    assert not (tmp_path / "o.h5").exists()


def test_fit_refuses_bounds_outside_the_domain_and_leaves_errors_undetermined_without_dof():
    """A rate's range below 0 is refused, as ``optimize`` refuses it; a table of repeats (no
    condition columns) fits; with as many parameters as data values the errors are NaN (no
    degrees of freedom), not a spurious ±1e-15."""
    model = jaxtherm.qubit_pair("local")
    fixed = dict(omega_a=1.0, omega_b=1.0, T_a=2.0, T_b=1.0, gamma_a=0.1)
    with pytest.raises(fitting.FitError, match="domain"):
        fitting.fit(model, {"epsilon": [0.01, 1.0], "gamma_b": [-0.5, 1.0]}, {"J_a": np.array([1e-3, 2e-3])},
                    observables=["J_a"], fixed=fixed)
    one = fitting.fit(model, {"epsilon": [0.01, 1.0], "gamma_b": [0.05, 1.0]}, {"J_a": np.array([1e-3])},
                      observables=["J_a"], fixed=fixed)
    assert one.dof == -1 and all(np.isnan(v) for v in one.errors.values())
    out = jaxtherm.solve(model, rho=False, epsilon=one.values["epsilon"], gamma_b=one.values["gamma_b"], **fixed)
    assert abs(float(out["J_a"]) - 1e-3) <= 1e-9  # the fit reproduces its one value
