"""User models from a spec (a factory file or module), categorical model options, and the
models' parameter domains: in Python, in specs and in sweeps."""

import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

import jaxtherm
from jaxtherm.sweep import SpecError, parse_spec, resolve, run_sweep

FACTORY = textwrap.dedent('''
    """A user's own machine: a qubit between two baths, built with jaxtherm's operator vocabulary."""
    import jaxtherm
    from jaxtherm.models import parameter
    from jaxtherm.physics.operators import sigmam, num


    def qubit_between(spectrum="bose", split=False):
        a = sigmam()
        thermal = [*jaxtherm.local_thermalizer(a, bath="h", omega="omega", beta="beta_h", gamma="gamma_h",
                                                 spectrum=spectrum),
                   *jaxtherm.local_thermalizer(a, bath="c", omega="omega", beta="beta_c", gamma="gamma_c",
                                                 spectrum=spectrum)]
        return jaxtherm.Model(
            "qubit_between", 2,
            (jaxtherm.Parameter("omega", "energy", "gap", "> 0"), "beta_h", "beta_c",
             jaxtherm.Parameter("gamma_h", "energy", "rate of bath h", ">= 0"),
             jaxtherm.Parameter("gamma_c", "energy", "rate of bath c", ">= 0")),
            (jaxtherm.Term(parameter("omega"), num(2), "omega n"),),
            tuple(thermal),
            (jaxtherm.Bath("h", "beta_h"), jaxtherm.Bath("c", "beta_c")),
            (jaxtherm.Expectation("n", num(2), "excitation probability"),),
        )


    def raises(**kw):
        raise ValueError("the fridge is broken")


    def not_a_model(**kw):
        return 42
''')

SPEC = """
[model]
factory = "my_models.py:qubit_between"
spectrum = "bose"

[parameters]
omega = 1.0
T_c = 0.5
gamma_h = 0.2
gamma_c = 0.3

[axes]
T_h = { linspace = [0.5, 3.0, 11] }

[output]
path = "out.h5"
gradients = ["T_h"]
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "my_models.py").write_text(FACTORY)
    (tmp_path / "spec.toml").write_text(SPEC)
    return tmp_path


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "jaxtherm", *args], capture_output=True, text=True, cwd=cwd)


def test_factory_spec_runs_end_to_end_and_equals_the_model_built_in_python(project, monkeypatch):
    """`jaxtherm run` of a spec naming a factory file (relative to the spec, run from elsewhere)
    gives exactly what the same model gives in Python; the closed form of one qubit between two
    bose baths holds (J_c = ω(bc − ad)/Σ with a = γ_h n̄_h, b = γ_h(n̄_h+1), c = γ_c n̄_c,
    d = γ_c(n̄_c+1))."""
    res = _cli("run", str(project / "spec.toml"), "-q", cwd=project.parent)
    assert res.returncode == 0, res.stderr
    with h5py.File(project.parent / "out.h5", "r") as h5:
        j_c, dj, t_h = h5["J_c"][()], h5["dJ_c_dT_h"][()], h5["T_h"][()]
        assert h5.attrs["model"] == "my_models.py:qubit_between"
    monkeypatch.syspath_prepend(str(project))
    import my_models

    model = my_models.qubit_between(spectrum="bose")
    ref = jaxtherm.solve(model, gradients=["T_h"], omega=1.0, T_c=0.5, gamma_h=0.2, gamma_c=0.3, T_h=t_h)
    np.testing.assert_array_equal(j_c, np.asarray(ref["J_c"]))
    np.testing.assert_array_equal(dj, np.asarray(ref["dJ_c_dT_h"]))
    nbar_h, nbar_c = 1 / np.expm1(1 / t_h), 1 / np.expm1(2.0)
    a, b, c, d = 0.2 * nbar_h, 0.2 * (nbar_h + 1), 0.3 * nbar_c, 0.3 * (nbar_c + 1)
    # relative, with an absolute floor at round-off of the energy-flow scale (γ_h + γ_c)ω: at
    # T_h = T_c the closed form is exactly 0
    np.testing.assert_allclose(j_c, (b * c - a * d) / (a + b + c + d), rtol=1e-12, atol=1e-15 * 0.5)


@pytest.mark.parametrize(
    "model_table, key, message",
    [
        ('factory = "missing.py:qubit_between"', "model.factory", "no such file"),
        ('factory = "my_models.py:nothing"', "model.factory", "has no function 'nothing'"),
        ('factory = "my_models.py:raises"', "model.factory", "the fridge is broken"),
        ('factory = "my_models.py:not_a_model"', "model.factory", "must return a jaxtherm Model, but returned int"),
        ('factory = "my_models.py:qubit_between"\nflavour = 1', "model.factory", "takes no option 'flavour'"),
        ('factory = "no_such_module:f"', "model.factory", "cannot import module 'no_such_module'"),
    ],
)
def test_factory_failures_exit_2_with_file_key_and_message(project, model_table, key, message):
    spec = project / "bad.toml"
    spec.write_text(SPEC.replace('factory = "my_models.py:qubit_between"\nspectrum = "bose"', model_table))
    res = _cli("run", str(spec), "-q", cwd=project)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert str(spec) in res.stderr and f"key '{key}'" in res.stderr and message in res.stderr


def test_factory_model_missing_a_parameter_exits_2(project):
    spec = project / "bad.toml"
    spec.write_text(SPEC.replace("gamma_c = 0.3\n", ""))
    res = _cli("run", str(spec), "-q", cwd=project)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "missing parameter 'gamma_c'" in res.stderr and str(spec) in res.stderr


CHAIN = """
[model]
name = "qubit_chain"
n = [2, 3]
coupling = ["local", "global"]
[parameters]
omega = 1.0
T_h = 2.0
T_c = 0.5
gamma_h = 0.1
gamma_c = 0.2
[axes]
g = { values = [0.05, 0.2, 0.6] }
"""


def test_list_options_add_categorical_dimensions(tmp_path):
    """Every list in [model] adds a dimension (in file order) whose coordinate holds the option's
    values; each slice equals solve() of that model."""
    spec = parse_spec(CHAIN, "chain.toml")
    summary = run_sweep(spec, output=tmp_path / "c.h5", progress=False)
    assert summary.failed == 0
    xr = pytest.importorskip("xarray")
    ds = xr.open_dataset(tmp_path / "c.h5", engine="h5netcdf")
    assert ds.J_h.dims == ("n", "coupling", "g")
    assert list(ds.n.values) == [2, 3] and list(ds.coupling.values) == ["local", "global"]
    for n in (2, 3):
        for coupling in ("local", "global"):
            # the three points padded to the sweep's 64-point chunk: the same program (loaded from the
            # compilation cache, not compiled again), so equal bitwise
            ref = jaxtherm.solve(jaxtherm.models.get("qubit_chain", n=n, coupling=coupling), omega=1.0, T_h=2.0,
                                 T_c=0.5, gamma_h=0.1, gamma_c=0.2, g=np.resize([0.05, 0.2, 0.6], 64), rho=False)
            np.testing.assert_array_equal(ds.J_h.sel(n=n, coupling=coupling).values, np.asarray(ref["J_h"])[:3])
    assert "site 0" in ds.n_h.attrs["description"] and ds.g.attrs["units"] == "energy"


def test_list_options_with_different_parameters_are_refused():
    text = CHAIN.replace('coupling = ["local", "global"]', 'spectrum = ["seed", "ohmic"]')
    with pytest.raises(SpecError) as err:
        resolve(parse_spec(text, "chain.toml"))
    assert err.value.key == "model.spectrum" and "same parameters" in str(err.value)


def test_fixed_parameter_outside_its_domain_exits_2(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text(CHAIN.replace("gamma_h = 0.1", "gamma_h = -0.1"))
    res = _cli("run", str(spec), "-o", str(tmp_path / "x.h5"), "-q")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "key 'parameters.gamma_h'" in res.stderr and "≥ 0" in res.stderr
    spec.write_text(CHAIN.replace("T_c = 0.5", "T_c = -0.5"))
    res = _cli("run", str(spec), "-o", str(tmp_path / "x.h5"), "-q")
    assert res.returncode == 2 and "key 'parameters.T_c'" in res.stderr


def test_fixed_detuning_that_makes_a_frequency_negative_exits_2():
    text = ("[model]\ncoupling='local'\n[parameters]\nomega_a=1\ndelta=1.5\nbeta_a=1\nbeta_b=1\ngamma_a=1\n"
            "gamma_b=1\nepsilon=1\n")
    with pytest.raises(SpecError) as err:
        resolve(parse_spec(text, "bad.toml"))
    assert err.value.key == "parameters.delta" and "omega_b = omega_a - delta = -0.5" in str(err.value)


def test_axis_values_outside_the_domain_are_flagged_per_point(tmp_path):
    """A negative rate on an axis computes the rest of the grid and flags those points with
    status 4 and NaN outputs (it used to give plausible numbers with status 0)."""
    text = CHAIN.replace("gamma_h = 0.1\n", "").replace("[axes]\n", "[axes]\ngamma_h = { values = [-0.1, 0.0, 0.1] }\n")
    summary = run_sweep(parse_spec(text, "c.toml"), output=tmp_path / "d.h5", progress=False)
    with h5py.File(tmp_path / "d.h5", "r") as h5:
        status, j = h5["status"][()], h5["J_h"][()]
    assert (status[:, :, 0] == jaxtherm.STATUS_DOMAIN).all() and np.isnan(j[:, :, 0]).all()
    assert (status[:, :, 1:] != jaxtherm.STATUS_DOMAIN).all() and np.isfinite(j[:, :, 2]).all()
    assert summary.failed == (status != 0).sum() >= 2 * 2 * 3


def test_solve_flags_points_outside_the_domain():
    out = jaxtherm.solve(jaxtherm.qubit_pair("local"), omega_a=1.0, delta=np.array([0.5, 1.5]), T_a=2.0,
                         T_b=np.array([1.0, 1.0]), gamma_a=np.array([0.1, 0.1]), gamma_b=0.1, epsilon=0.05)
    assert np.asarray(out["status"]).tolist() == [0, jaxtherm.STATUS_DOMAIN]  # omega_b = -0.5 < 0
    out = jaxtherm.solve(jaxtherm.qubit_pair("local"), omega_a=1.0, omega_b=1.0, T_a=np.array([-1.0, 1.0]), T_b=1.0,
                         gamma_a=np.array([0.1, -0.1]), gamma_b=0.1, epsilon=0.05)
    assert np.asarray(out["status"]).tolist() == [jaxtherm.STATUS_DOMAIN, jaxtherm.STATUS_DOMAIN]
    assert np.isnan(np.asarray(out["J_a"])).all() and np.isnan(np.asarray(out["rho"])).all()


def test_registry_lists_and_builds_every_family():
    assert set(jaxtherm.models.available()) >= {"qubit_pair", "qubit_chain", "absorption_refrigerator", "oscillator_pair"}
    assert jaxtherm.models.get("qubit_chain", n=4).dim == 16
    assert jaxtherm.models.get("oscillator_pair", cutoff=5).dim == 25
    assert "omega_cutoff" in jaxtherm.models.get("absorption_refrigerator", spectrum="ohmic").parameters
    with pytest.raises(ValueError, match="n must be one of 2, 3, 4, 5, 6, 7, 8"):
        jaxtherm.models.get("qubit_chain", n=9)
    with pytest.raises(ValueError, match="takes no option 'size'"):
        jaxtherm.models.get("qubit_chain", size=3)
