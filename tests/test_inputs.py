"""Bad inputs refused with one clear line (issue 30): spec files that are not UTF-8 or nested
too deeply, grids too large to allocate, a float for an integer model option, ``-0.0`` for a
non-negative parameter, complex coefficients and negative constant rates at model construction.
Each error names the file or key and what was expected; through the CLI each is exit 2."""

import math
import os
import sys

import jax.numpy as jnp
import numpy as np
import pytest

import jaxtherm
from jaxtherm.cli import commands as cli
from jaxtherm.models import Bath, Lindblad, Model, Term, parameter
from jaxtherm.physics.operators import num, sigmam
from jaxtherm.sweep import SpecError, load_spec, parse_spec, resolve
from jaxtherm.sweep.spec import MAX_AXIS_POINTS, MAX_GRID_POINTS

FULL = "[model]\ncoupling='local'\n[parameters]\nomega_a=1\nomega_b=1\nT_a=1\nbeta_b=1\ngamma_a=1\ngamma_b=1\nepsilon=1\n"


def _spec_error(text: str) -> SpecError:
    with pytest.raises(SpecError) as err:
        resolve(parse_spec(text, "bad.toml", default_output="results/bad.h5"))
    assert str(err.value).startswith("bad.toml: ")
    return err.value


def _file_error(tmp_path, data: bytes) -> SpecError:
    path = tmp_path / "bad.toml"
    path.write_bytes(data)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value).startswith(f"{path}: ")
    return err.value


# ---- spec files ------------------------------------------------------------------------


def test_spec_files_not_utf8_are_named_with_the_encoding_expected(tmp_path):
    latin1 = _file_error(tmp_path, "[model]\ncoupling = 'lökal'\n".encode("latin-1"))
    assert "is not UTF-8 text" in str(latin1) and "byte 0xf6" in str(latin1) and "saved as UTF-8" in str(latin1)
    utf16 = _file_error(tmp_path, FULL.encode("utf-16"))
    assert "is UTF-16 text; expected UTF-8" in str(utf16)
    rng = np.random.default_rng(0)
    junk = _file_error(tmp_path, b"\xff" + rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    assert "is not UTF-8 text" in str(junk)


def test_a_utf8_byte_order_mark_is_read_as_the_same_spec(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + FULL.encode())
    spec = load_spec(path)
    assert spec.text == FULL and spec.fixed == parse_spec(FULL, "x.toml").fixed
    assert parse_spec("\ufeff" + FULL, "bom.toml").text == FULL
    resolve(spec)


def test_toml_nested_too_deeply_is_a_spec_error(tmp_path):
    deep = "x = " + "[" * 50_000 + "]" * 50_000 + "\n"
    err = _file_error(tmp_path, deep.encode())
    assert err.key == "" and "nested too deeply" in str(err)
    err = _spec_error("[model]\nx = " + "{a = " * 50_000 + "1" + "}" * 50_000)
    assert "nested too deeply" in str(err)


def test_a_fifo_spec_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "spec.toml"
    os.mkfifo(fifo)
    with pytest.raises(SpecError, match="is not a regular file"):
        load_spec(fifo)


@pytest.mark.parametrize("num", [10**12, 2**70, MAX_AXIS_POINTS + 1])
def test_an_axis_too_long_is_refused_before_anything_is_allocated(num):
    err = _spec_error(FULL.replace("epsilon=1\n", "") + f"[axes]\nepsilon = {{ linspace = [0, 1, {num}] }}\n")
    assert err.key == "axes.epsilon.linspace"
    assert f"at most {MAX_AXIS_POINTS:,} points on one axis; got num = {num:,}" in str(err)


def test_a_grid_too_large_is_refused_naming_its_axes_and_count():
    text = FULL.replace("epsilon=1\n", "").replace("gamma_b=1\n", "").replace("coupling='local'", "coupling=['local', 'global']")
    text += "[axes]\nepsilon = { logspace = [-3, 0, 100000000] }\ngamma_b = { linspace = [0.1, 1, 1000] }\n"
    err = _spec_error(text)
    total = 2 * 10**8 * 1000
    assert err.key == "axes" and f"at most {MAX_GRID_POINTS:,} points; got {total:,}" in str(err)
    assert "epsilon 100,000,000 × gamma_b 1,000 × model.coupling 2" in str(err)


def test_a_float_for_an_integer_model_option_names_the_option():
    err = _spec_error("[model]\nname = 'qubit_chain'\nn = 3.0\n")
    assert err.key == "model.n" and "n must be one of 2, 3, 4, 5, 6, 7, 8; got 3.0" in str(err)
    err = _spec_error("[model]\nname = 'qubit_chain'\nn = true\n")
    assert err.key == "model.n" and "got True" in str(err)
    with pytest.raises(ValueError, match="got 3.0"):
        jaxtherm.models.get("qubit_chain", n=3.0)


@pytest.mark.parametrize("key", ["beta_b", "gamma_a"])
def test_negative_zero_is_outside_a_non_negative_domain(key):
    text = FULL.replace(f"{key}=1", f"{key}=-0.0")
    err = _spec_error(text)
    assert err.key == f"parameters.{key}" and "expected a value ≥ 0" in str(err) and "got -0.0" in str(err)
    resolve(parse_spec(text.replace("-0.0", "0.0"), "ok.toml"))  # +0.0 stays allowed
    resolve(parse_spec(FULL.replace("omega_b=1", "delta=-0.0"), "ok.toml"))  # a real parameter takes -0.0


@pytest.mark.parametrize("value", ["0.0", "-0.0"])
def test_a_zero_temperature_is_refused_by_a_spec_and_flagged_by_solve(value):
    """``T = 0`` is ``β = ∞``, a non-finite parameter: a temperature's domain is ``T > 0``, so a
    spec refuses it with one line; ``solve`` flags the point (status 2) and leaves the others."""
    err = _spec_error(FULL.replace("T_a=1", f"T_a={value}"))
    assert err.key == "parameters.T_a" and "expected a value > 0" in str(err) and f"got {value}" in str(err)
    out = jaxtherm.solve(jaxtherm.qubit_pair("local"), rho=False, omega_a=1.0, omega_b=0.9, T_a=1.0,
                         T_b=np.array([0.0, 1e-3]), gamma_a=0.1, gamma_b=0.1, epsilon=0.05)
    np.testing.assert_array_equal(np.asarray(out["status"]), [jaxtherm.STATUS_NONFINITE, 0])
    assert "T = 0 is β = ∞" in jaxtherm.STATUS_MEANINGS[jaxtherm.STATUS_NONFINITE]
    # the currents at a small T are the zero-temperature ones (β = 10³ and 10³⁰⁰ agree)
    far = jaxtherm.solve(jaxtherm.qubit_pair("local"), rho=False, omega_a=1.0, omega_b=0.9, T_a=1.0, beta_b=1e300,
                         gamma_a=0.1, gamma_b=0.1, epsilon=0.05)
    np.testing.assert_allclose(float(out["J_a"][1]), float(far["J_a"]), rtol=1e-12)


def test_cli_exits_2_with_one_line_for_each_bad_spec_file(tmp_path, capsys):
    cases = {
        "latin1.toml": "[model]\ncoupling = 'lökal'\n".encode("latin-1"),
        "utf16.toml": FULL.encode("utf-16"),
        "deep.toml": ("x = " + "[" * 50_000 + "]" * 50_000).encode(),
        "huge.toml": (FULL.replace("epsilon=1\n", "") + "[axes]\nepsilon = { linspace = [0, 1, 1000000000000] }\n").encode(),
        "chain.toml": b"[model]\nname = 'qubit_chain'\nn = 3.0\n",
        "zero.toml": FULL.replace("T_a=1", "T_a=-0.0").encode(),
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert cli.main(["run", str(path), "-o", str(tmp_path / "out.h5"), "-q"]) == 2, name
        err = capsys.readouterr().err
        assert str(path) in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, (name, err)
    assert not (tmp_path / "out.h5").exists()


def test_a_cpu_device_count_outside_the_usable_cores_exits_2_with_one_line_and_keeps_the_file(tmp_path, capsys):
    """``--cpu-devices`` takes 1 to the cores this process may use; 0, a negative count or one
    more than the cores is refused before anything runs, and an existing file is untouched."""
    from jaxtherm import _config

    out = tmp_path / "out.h5"
    out.write_bytes(b"an earlier sweep")
    for count in (0, -1, _config.usable_cores() + 1):
        assert cli.main(["run", "quickstart", "-o", str(out), "--force", "--cpu-devices", str(count), "-q"]) == 2
        err = capsys.readouterr().err
        assert "--cpu-devices" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, (count, err)
        assert out.read_bytes() == b"an earlier sweep"


# ---- models --------------------------------------------------------------------------


def _qubit(rate=None, coefficient=None, quantum=None):
    return Model("q", 2, ("omega", "gamma", "beta"), (Term(coefficient or parameter("omega"), num(2), "omega n"),),
                 (Lindblad(rate or parameter("gamma"), sigmam(), "h", "decay", quantum),), (Bath("h", "beta"),))


def test_complex_coefficients_are_refused_at_construction():
    with pytest.raises(ValueError, match=r"model 'q': term 'omega n': coefficients must be real; got \(1\+0\.5j\)"):
        _qubit(coefficient=lambda p: p["omega"] + 0.5j)
    with pytest.raises(ValueError, match="term 'decay': coefficients must be real"):
        _qubit(rate=lambda p: p["gamma"] * (1 + 0j))
    with pytest.raises(ValueError, match="term 'decay': coefficients must be real"):
        _qubit(quantum=lambda p: 1j * p["omega"])
    assert _qubit().name == "q"


def test_negative_constant_rates_are_refused_at_construction():
    with pytest.raises(ValueError, match=r"model 'q': the rate of term 'decay' is the constant -0\.1; expected ≥ 0"):
        _qubit(rate=lambda p: -0.1)
    with pytest.raises(ValueError, match="the rate of term 'decay' is the constant -2"):
        _qubit(rate=lambda p: np.float32(-2.0))
    assert _qubit(rate=lambda p: p["gamma"] - 0.5).name == "q"  # depends on the parameters: a per-point matter
    assert _qubit(rate=lambda p: 0.0).name == "q"  # a zero rate is allowed
    # the trace tells a constant (no path from a parameter to the value) ...
    with pytest.raises(ValueError, match="the rate of term 'decay' is the constant -0.5"):
        _qubit(rate=lambda p: jnp.exp(0.0) - 1.5)
    # ... and a coefficient JAX cannot trace (a parameter made a Python float) is judged by its values
    with pytest.raises(ValueError, match="the rate of term 'decay' is the constant -1"):
        _qubit(rate=lambda p: -math.exp(0.0 * float(p["gamma"])))
    assert _qubit(rate=lambda p: float(p["gamma"]) - 0.5).name == "q"


def test_parameter_values_that_are_not_real_numbers_are_named():
    model = jaxtherm.qubit_pair("local")
    good = dict(omega_a=1.0, omega_b=np.array([1.0, 1.2]), T_a=2, T_b=[0.5, 1.0], gamma_a=np.float32(0.1), gamma_b=0.1,
                epsilon=np.int64(0))
    model.check_values(good)
    for bad, shown in (("2.0", "got '2.0'"), (1 + 2j, r"got \(1\+2j\)"), (None, "got None"),
                       (np.array(["1", "2"]), r"got array\(\['1', '2'\]"), ([1.0, "x"], "got \\[1.0, 'x'\\]")):
        with pytest.raises(ValueError, match=rf"parameter 'T_a': expected a real number or an array of real numbers; {shown}"):
            model.check_values({**good, "T_a": bad})


# ---- expressions -----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["-" * 100_000 + "J_c", " + ".join(["J_c"] * 20_000), "-" * 250 + "J_c"])
def test_expressions_nested_too_deeply_are_refused_not_a_recursion_error(text):
    from jaxtherm.design import expressions

    with pytest.raises(expressions.ExpressionError, match="deep"):
        expressions.parse(text)
    with pytest.raises(expressions.ExpressionError, match="deep"):
        expressions.parse_constraint(text + " >= 0")
    spec = ("[model]\nname='qubit_pair'\n[parameters]\nomega_a=1.0\nT_a=2.0\nT_b=0.5\ngamma_a=1.0\ngamma_b=1.0\n"
            f"[optimize]\nmaximize = '{text}'\nvariables = {{ delta = [-3.0, 0.9], epsilon = [0.01, 10.0] }}\n")
    with pytest.raises(SpecError) as err:
        parse_spec(spec, "opt.toml")
    assert err.value.key == "optimize.maximize" and len(str(err.value)) < 500


def test_expressions_within_the_depth_limit_still_parse():
    from jaxtherm.design import expressions

    with pytest.raises(expressions.ExpressionError, match="is not an expression"):  # Python's parser: too many parentheses
        expressions.parse("(" * 5000 + "J_c" + ")" * 5000)
    e = expressions.parse(" + ".join(["J_c"] * 150) + " - " + "-" * 40 + "max(J_h, 0) ** 2")
    assert e.names == {"J_c", "J_h"}
    assert e({"J_c": 1.0, "J_h": 2.0}, np) == 150 - 4.0


# ---- user factories ------------------------------------------------------------------------


@pytest.mark.parametrize("code, message", [
    ("import sys\nsys.exit(3)\n", "importing '{path}' raised SystemExit: 3"),
    ("def f(**kw):\n    raise KeyboardInterrupt('pressed by the factory')\n",
     "factory 'bad.py:f' raised KeyboardInterrupt: pressed by the factory"),
    ("def f(**kw):\n    raise SystemExit(4)\n", "factory 'bad.py:f' raised SystemExit: 4"),
    (None, "'{path}' is a directory; expected a Python file"),  # a directory named bad.py
])
def test_whatever_a_factory_raises_is_reported_as_its_failure(tmp_path, capsys, code, message):
    path = tmp_path / "bad.py"
    if code is None:
        path.mkdir()
    else:
        path.write_text(code)
    spec = tmp_path / "spec.toml"
    spec.write_text('[model]\nfactory = "bad.py:f"\n[parameters]\nomega = 1.0\n')
    assert cli.main(["run", str(spec), "-o", str(tmp_path / "out.h5"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "key 'model.factory'" in err and message.format(path=path) in err and "Traceback" not in err, err


def test_a_constant_instead_of_a_coefficient_function_says_what_is_expected():
    """``Term(1.0, …)``: a coefficient is a function of the parameter mapping; the error says so
    (it was "'float' object is not callable")."""
    with pytest.raises(ValueError, match=r"model 'q': term 'omega n': a coefficient must be a function of the parameter "
                                         r"mapping p, e\.g\. lambda p: 1\.0 for a constant .* got the float 1\.0"):
        _qubit(coefficient=1.0)
    with pytest.raises(ValueError, match=r"term 'decay': .* e\.g\. lambda p: 2 for a constant .* got the int 2"):
        _qubit(rate=2)


@pytest.mark.parametrize(("values", "row", "shown"), [
    (["0"] * 6, 1, "0"), (["1e-3", "1e-3", "0", "1e-3", "1e-3", "1e-3"], 3, "0"), (["-1e-3"] * 6, 1, "-0.001")])
def test_fit_with_uncertainties_not_positive_exits_2_naming_column_and_row(tmp_path, capsys, values, row, shown):
    """``sigma_J_a`` of 0 (was "the model could not be solved at 6 of 6 data values") or
    negative (was accepted): exit 2, one line naming the column and its first bad row."""
    t_b = np.linspace(0.5, 1.5, 6)
    lines = ["T_b,J_a,sigma_J_a"] + [f"{t},{0.01 * t},{v}" for t, v in zip(t_b, values)]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    spec = tmp_path / "fit.toml"
    spec.write_text("[model]\nname = 'qubit_pair'\ncoupling = 'incoherent'\n[parameters]\nomega_a = 1.0\n"
                    "omega_b = 1.0\nT_a = 2.0\ngamma_a = 1.0\n[fit]\nparameters = { epsilon = [0.01, 1.0, 0.5], "
                    "gamma_b = [0.1, 2.0] }\ndata = 'data.csv'\nobservables = ['J_a']\n")
    assert cli.main(["fit", str(spec), "-o", str(tmp_path / "fit.h5")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and str(spec) in err, err
    assert "column 'sigma_J_a': expected uncertainties of J_a that are finite and > 0" in err, err
    assert f"row {row} has {shown}" in err, err
    assert not (tmp_path / "fit.h5").exists()


def test_a_dotted_key_too_long_is_refused_at_once_naming_the_line(tmp_path):
    """``a.a.….a = 1`` with 50,000 parts (``tomllib`` is quadratic in it: ~35 s) is refused
    before TOML is read, in well under a second, naming the file and the line; a key of
    ``MAX_KEY_PARTS`` parts is still read by TOML."""
    import time

    from jaxtherm.sweep.spec import MAX_KEY_PARTS

    for text, line in (("a." * 50_000 + "a = 1\n", 1), (FULL + "[" + "b." * 50_000 + "b]\nx = 1\n", 11),
                       ("[model]\n" + '"q".' * 5_000 + "a = 1\n", 2)):
        start = time.perf_counter()
        err = _file_error(tmp_path, text.encode())
        assert time.perf_counter() - start < 0.5
        assert err.key == "" and f"line {line} has a dotted key of more than {MAX_KEY_PARTS} parts" in str(err), err
    err = _file_error(tmp_path, ("[model]\n" + "a." * (MAX_KEY_PARTS - 1) + "a = 1\n").encode())
    assert "dotted key" not in str(err)


@pytest.mark.parametrize("text", ["power / 0", "power * (1 / 0)", "log(power - power)", "10 ** 400 * power"])
def test_expressions_that_divide_by_zero_give_inf_or_nan_without_a_warning(text):
    """An objective ``power / 0`` evaluates to ``inf``/``nan`` as IEEE arithmetic gives them —
    without NumPy's RuntimeWarning and its source line, and without a ZeroDivisionError for
    ``1 / 0`` between constants."""
    import warnings

    from jaxtherm.design.expressions import parse

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = np.asarray(parse(text)({"power": np.array([1.0, 0.0, -1.0])}, np))
    assert value.shape == (3,) and not np.all(np.isfinite(value)), value


@pytest.mark.parametrize("coupling", ["incoherent", "local"])
def test_optimize_with_objective_power_over_zero_prints_no_warning(tmp_path, capsys, coupling):
    """``jaxtherm optimize`` of ``power / 0``: no RuntimeWarning (nor its source line) on stderr;
    for the local pair, whose power is 0, the objective is NaN at every start (0/0)."""
    import warnings

    spec = tmp_path / "opt.toml"
    spec.write_text(f"[model]\ncoupling = '{coupling}'\n[parameters]\nomega_a = 1.0\nT_a = 2.0\nT_b = 0.5\n"
                    "gamma_a = 1.0\ngamma_b = 1.0\n[optimize]\nmaximize = 'power / 0'\n"
                    "variables = { delta = [-3.0, 0.9], epsilon = [0.01, 10.0] }\nstarts = 2\nsteps = 5\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        cli.main(["optimize", str(spec), "-o", str(tmp_path / "opt.h5"), "-q"])
    err = capsys.readouterr().err
    assert "RuntimeWarning" not in err and "Traceback" not in err and "expressions.py" not in err, err


def test_optimize_and_fit_without_their_extra_name_it(monkeypatch):
    """Without the ``[optimize]`` extra, ``jaxtherm.optimize`` and ``jaxtherm.design.fit.fit`` say which
    extra to install, as the CLI does, instead of a bare ``No module named 'optax'``."""
    from jaxtherm.design.fit import fit

    monkeypatch.setitem(sys.modules, "optax", None)
    monkeypatch.setitem(sys.modules, "optimistix", None)
    pair = jaxtherm.qubit_pair("local")
    fixed = dict(omega_a=1.0, omega_b=1.0, T_a=2.0, T_b=1.0, gamma_a=0.1, gamma_b=0.1)
    with pytest.raises(ModuleNotFoundError, match=r"jaxtherm.optimize needs optax, from the \[optimize\] extra: "
                                                  r"pip install 'jaxtherm\[optimize\]'"):
        jaxtherm.optimize(pair, "J_a", {"epsilon": [0.0, 1.0]}, fixed, steps=2)
    data = {"epsilon": np.array([0.1, 0.2]), "J_a": np.array([1e-3, 2e-3])}
    with pytest.raises(ModuleNotFoundError, match=r"jaxtherm.fit needs optimistix, from the \[optimize\] extra"):
        fit(pair, {"gamma_a": [0.05, 0.5]}, data, observables=["J_a"],
                     fixed={k: v for k, v in fixed.items() if k != "gamma_a"})
