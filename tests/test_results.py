"""Reading results: ``jaxtherm.open`` on complete, killed and running sweeps, ``jaxtherm info``,
``jaxtherm plot`` on every bundled sweep, ``--resume`` of a complete file, a full disk."""

import json
import os
import signal
import struct
import subprocess
import sys
import time
import tomllib

import matplotlib  # noqa: F401  (the [test] extra has matplotlib and xarray: these tests run, never skip)
import numpy as np
import pytest
import xarray  # noqa: F401

import jaxtherm
from jaxtherm.cli import commands as cli
from jaxtherm.cli.plot import panels_size
from jaxtherm.io import journal
from jaxtherm.sweep import parse_spec, run_sweep

from .helpers import finished_chunks
from .test_sweep import DEAD

# slow enough in chunks of 64 (the global pair, ~600 chunks, several seconds) to be read while it runs
LIVE = """
[model]
name = "qubit_pair"
coupling = "global"
[parameters]
omega_a = 1.0
omega_b = 1.2
T_a = 2.0
gamma_a = 0.1
gamma_b = 0.1
[axes]
T_b = { linspace = [0.2, 2.0, 80] }
epsilon = { logspace = [-3, -0.5, 500] }
"""
OUTPUTS = ("J_a", "J_b", "power", "sigma", "n_a", "n_b", "residual")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run, in one process, automatic chunks."""
    path = tmp_path_factory.mktemp("ref") / "ref.h5"
    run_sweep(parse_spec(LIVE, "live.toml"), output=path, progress=False)
    return path


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The uninterrupted run by the command the tests interrupt (``start``: the same chunks and
    devices). With the tests' compiler flags (``tests.helpers.TEST_XLA_FLAGS``) a 64-point chunk
    of this sweep rounds differently from the in-process run's automatic one, also in one
    process on one device; with XLA's defaults it does not (a model with tangents does:
    ``tests/test_sweep.py::test_a_global_model_with_tangents_gives_the_same_bits_in_any_chunk_size``)."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    _, proc = start(folder, folder / "ref.h5")
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    return folder / "ref.h5"


def start(tmp_path, out):
    spec = tmp_path / "live.toml"
    spec.write_text(LIVE)
    cmd = [sys.executable, "-m", "jaxtherm", "run", str(spec), "-o", str(out), "--chunk-size", "64", "-q"]
    return cmd, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_chunks(out, n, proc, timeout=120):
    """Until ``n`` chunks of ``out`` are finished; fails if the run ends or stalls first."""
    deadline = time.time() + timeout
    while not (journal.journal_dir(out).exists() and finished_chunks(out) >= n):
        assert proc.poll() is None and time.time() < deadline, "the run ended or stalled before it could be read"
        time.sleep(0.02)


def check_snapshot(ds, ref):
    """Finished points of a snapshot equal the final file's; unfinished ones are NaN (status −1)."""
    status = ds.status.values
    done = status != -1
    assert int(done.sum()) == ds.attrs["points_done"] and ds.attrs["points_total"] == status.size
    np.testing.assert_array_equal(status[done], ref.status.values[done])
    for k in OUTPUTS:
        a, b = ds[k].values, ref[k].values
        assert a[done].tobytes() == b[done].tobytes(), k
        if k != "residual":
            assert np.isnan(a[~done]).all(), k
    return int(done.sum())


def test_open_a_running_sweep_without_disturbing_it(tmp_path, uninterrupted):
    ref = jaxtherm.open(uninterrupted)
    out = tmp_path / "live.h5"
    cmd, proc = start(tmp_path, out)
    wait_for_chunks(out, 20, proc)
    seen = []
    for _ in range(3):  # read while it writes, several times
        ds = jaxtherm.open(out)
        seen.append((ds.attrs["state"], check_snapshot(ds, ref)))
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert seen[0][0] == "running" and 0 < seen[0][1] < ref.status.size, seen
    assert [n for _, n in seen] == sorted(n for _, n in seen)  # more points each time
    # the writer completed unharmed: bitwise the uninterrupted run, and plain readers open it
    done = jaxtherm.open(out)
    assert done.attrs["state"] == "complete" and done.attrs["points_done"] == done.status.size
    for k in OUTPUTS:
        assert done[k].values.tobytes() == ref[k].values.tobytes(), k
    import xarray as xr

    with xr.open_dataset(out, engine="h5netcdf") as plain:
        assert plain.attrs["complete"] == 1 and plain.attrs["spec"] == LIVE


def test_open_and_info_of_a_killed_sweep_then_resume(tmp_path, uninterrupted, capsys):
    ref = jaxtherm.open(uninterrupted)
    out = tmp_path / "live.h5"
    cmd, proc = start(tmp_path, out)
    wait_for_chunks(out, 30, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    ds = jaxtherm.open(out)
    assert ds.attrs["state"] == "unfinished"
    n_done = check_snapshot(ds, ref)
    assert 0 < n_done < ds.status.size
    # info (text and --json) counts what the file holds
    assert cli.main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["state"] == "unfinished" and info["points"] == {"total": 40_000, "done": n_done, "failed": 0}
    assert info["status"]["-1"]["count"] == 40_000 - n_done and info["status"]["0"]["count"] == n_done
    assert info["axes"]["epsilon"]["spacing"] == "log" and info["axes"]["T_b"]["spacing"] == "linear"
    assert info["axes"]["T_b"]["units"] == "energy" and info["model_names"] == ["qubit_pair/global"]
    assert cli.main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "unfinished" in text and "--resume" in text and f"{n_done:,} of 40,000 points" in text
    # resumed == uninterrupted, bitwise
    done = subprocess.run(cmd[:-1] + ["-q", "--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    final = jaxtherm.open(out)
    for k in OUTPUTS:
        assert final[k].values.tobytes() == ref[k].values.tobytes(), k


def test_open_masks_failed_points_and_explains_itself(tmp_path):
    text = DEAD.replace("[model]", '[model]\nname = "qubit_pair"') + '[output]\ngradients = ["epsilon"]\n'
    out = tmp_path / "dead.h5"
    run_sweep(parse_spec(text, "dead.toml"), output=out, progress=False)
    ds = jaxtherm.open(out)
    raw = jaxtherm.open(out, mask=False)
    bad = ds.status.values != 0
    assert bad[0, 0, 0] and ds.status.values[0, 0, 0] == jaxtherm.STATUS_SINGULAR
    for k in ("J_a", "sigma", "dJ_a_depsilon"):
        assert np.isnan(ds[k].values[bad]).all() and np.isfinite(ds[k].values[~bad]).all()
        np.testing.assert_array_equal(ds[k].values[~bad], raw[k].values[~bad])
    assert np.isfinite(ds.residual.values[~bad]).all()  # kept as written
    assert ds.J_a.attrs["units"] == "energy/time" and ds.epsilon.attrs["units"]
    assert ds.attrs["spec"] == text and ds.attrs["state"] == "complete"
    assert float(ds.omega_a) == 1.0


def test_resume_of_a_complete_file_is_a_no_op(tmp_path, capsys):
    text = "[model]\nname = \"qubit_pair\"\ncoupling = \"incoherent\"\n[parameters]\nomega_a = 1.0\nomega_b = 1.0\n" \
           "T_a = 2.0\ngamma_a = 1.0\ngamma_b = 1.0\n[axes]\nT_b = { linspace = [0.5, 2.0, 4] }\nepsilon = { values = [0.1, 0.2] }\n"
    spec = tmp_path / "s.toml"
    spec.write_text(text)
    out = tmp_path / "s.h5"
    assert cli.main(["run", str(spec), "-o", str(out), "-q"]) == 0
    before = out.read_bytes()
    capsys.readouterr()
    assert cli.main(["run", str(spec), "-o", str(out), "-q", "--resume"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert out.read_bytes() == before  # same bytes
    spec.write_text(text.replace("0.2]", "0.3]"))  # another spec: refused, named
    assert cli.main(["run", str(spec), "-o", str(out), "-q", "--resume"]) == 2
    assert "complete sweep of another spec" in capsys.readouterr().err
    assert out.read_bytes() == before


def test_full_disk_stops_with_exit_2_and_resumes_to_the_identical_result(tmp_path, reference):
    """A file-size limit (RLIMIT_FSIZE) stands in for a full disk: writes past it fail with EFBIG
    as they would with ENOSPC."""
    spec = tmp_path / "live.toml"
    spec.write_text(LIVE)
    out = tmp_path / "full.h5"
    args = ["run", str(spec), "-o", str(out), "--chunk-size", "4000", "-q"]
    limit = 1 << 20  # the file needs ~2.3 MB
    limited = ("import resource, sys; from jaxtherm.cli.commands import main; "
               f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); sys.exit(main(sys.argv[1:]))")
    stopped = subprocess.run([sys.executable, "-c", limited, *args], capture_output=True, text=True)
    assert stopped.returncode == 2, stopped.stderr
    assert "Traceback" not in stopped.stderr and stopped.stderr.count("\n") == 1
    assert "File too large" in stopped.stderr and "--resume" in stopped.stderr
    assert journal.journal_dir(out).exists()
    done = subprocess.run([sys.executable, "-m", "jaxtherm", *args, "--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ref, final = jaxtherm.open(reference), jaxtherm.open(out)
    for k in OUTPUTS:
        assert final[k].values.tobytes() == ref[k].values.tobytes(), k


def test_progress_in_a_batch_log_is_one_line_per_interval():
    import io

    from jaxtherm.sweep.progress import Progress

    stream = io.StringIO()  # not a terminal
    bar = Progress(1000, stream=stream, interval=0.0, label="x.h5")
    for _ in range(4):
        bar.update(250)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4 and "\r" not in stream.getvalue()
    assert all("points/s" in line and "ETA" in line for line in lines)
    assert "1,000/1,000" in lines[-1]


def test_progress_in_a_batch_log_ends_with_the_final_count():
    """A run faster than the log's interval still ends its log at 100 %, once."""
    import io

    from jaxtherm.sweep.progress import Progress

    stream = io.StringIO()
    bar = Progress(1000, stream=stream, interval=3600.0, label="x.h5")
    bar.start_line()
    bar.update(1000)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "0/1,000" in lines[0] and "100.0% 1,000/1,000" in lines[1]


# ---- plots of every bundled sweep ----------------------------------------------------------


def _toml(v):
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + " }"
    return json.dumps(v)


def thinned(text: str, options: int = 1) -> str:
    """A bundled spec on a coarse grid: the first ``options`` values of each model option (one
    model compiles once), at most five points an axis (three above 64 levels), no gradients, the
    dense solver for a model of at most 16 levels (the fastest to compile; test_solvers checks it
    equals the default): the file has the same layout and kinds of axes as the full sweep."""
    d = tomllib.loads(text)
    for k, v in d["model"].items():
        if isinstance(v, list):
            d["model"][k] = v[:options]
    first = {k: v[0] if isinstance(v, list) else v for k, v in d["model"].items() if k != "name"}
    model = jaxtherm.models.get(d["model"].get("name", "qubit_pair"), **first)
    most = 5 if model.dim <= 64 else 3  # (every point of the 8-qubit chain is a Krylov solve)
    for name, rule in d["axes"].items():
        ((kind, args),) = rule.items()
        d["axes"][name] = {kind: args[:3]} if kind == "values" else {kind: [args[0], args[1], min(args[2], most)]}
    d.get("output", {}).pop("gradients", None)
    d.get("output", {}).pop("path", None)
    if model.dim <= 16:  # (the dense Liouvillian of two 8-level oscillators is 4,095 unknowns a point)
        d.setdefault("run", {})["solver"] = "dense"
    return "".join(f"[{t}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in kv.items()) for t, kv in d.items())


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("name", sorted(cli.bundled_sweeps()))
def test_plot_every_bundled_sweep(name, tmp_path, capsys):
    # second_law keeps two couplings: a free model option draws one panel per value
    text = thinned(cli.bundled_sweeps()[name].read_text(), options=2 if name == "second_law" else 1)
    out = tmp_path / f"{name}.h5"
    run_sweep(parse_spec(text, f"{name}.toml"), output=out, progress=False)
    info = jaxtherm.info(out)
    axes = info["axes"]
    numeric = [a for a, v in axes.items() if v["spacing"] != "categorical"]
    categorical = [a for a, v in axes.items() if v["spacing"] == "categorical"]
    obs = next(o for o in ("tur_b", "sigma", "J_c", "J_a") if o in info["observables"])
    panels = axes[categorical[0]]["size"] if categorical else 1
    # the full free grid: a map for two numeric axes, a line for one (a model option: panels)
    full = tmp_path / "full.png"
    assert cli.main(["plot", str(out), obs, "-o", str(full)]) == 0
    assert png_size(full) == panels_size(panels)
    # a 1-D selection: the first numeric axis fixed (nearest value) and one model option chosen
    sel = [f"{a}={v['values'][0]}" for a, v in axes.items() if a in categorical]
    if len(numeric) == 2:
        mid = (axes[numeric[0]]["min"] + axes[numeric[0]]["max"]) / 2
        sel.append(f"{numeric[0]}={mid}")
    line = tmp_path / "line.png"
    assert cli.main(["plot", str(out), obs, "--sel", *sel, "-o", str(line)]) == 0
    assert png_size(line) == panels_size(1)
    assert "wrote" in capsys.readouterr().out


def test_plot_and_info_refuse_bad_arguments(tmp_path, capsys):
    text = thinned(cli.bundled_sweeps()["quickstart"].read_text())
    out = tmp_path / "q.h5"
    run_sweep(parse_spec(text, "q.toml"), output=out, progress=False)
    bad = [
        (["nosuch"], "no observable 'nosuch'"),
        (["J_a", "--x", "T_c"], "--x T_c"),
        (["J_a", "--sel", "T_c=1"], "no axis 'T_c'"),
        (["J_a", "--sel", "T_b=50"], "outside the axis's range"),
        (["J_a", "--sel", "T_b=hot"], "expected a number"),
        (["J_a", "--sel", "T_b"], "expected AXIS=VALUE"),
    ]
    for args, message in bad:
        assert cli.main(["plot", str(out), *args]) == 2, args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (args, err)
    assert cli.main(["plot", str(tmp_path / "missing.h5"), "J_a"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli.main(["info", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert cli.main(["info", str(out), str(out), "--json"]) == 0  # several files: a list
    many = json.loads(capsys.readouterr().out)
    assert len(many) == 2 and many[0]["points"] == {"total": 25, "done": 25, "failed": 0}
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    assert cli.main(["info", str(tmp_path / "junk.h5")]) == 2
    assert "HDF5 cannot open it" in capsys.readouterr().err


# ---- plot and info on inputs that used to fail (issue 30) ------------------------------------


POINT = "[model]\ncoupling='local'\n[parameters]\nomega_a=1\nomega_b=1\nT_a=1\nbeta_b=1\ngamma_a=1\ngamma_b=1\nepsilon=1\n"


def test_info_of_a_sweep_without_axes(tmp_path, capsys):
    out = tmp_path / "point.h5"
    run_sweep(parse_spec(POINT, "point.toml"), output=out, progress=False)
    info = jaxtherm.info(out)
    assert info["axes"] == {} and info["points"] == {"total": 1, "done": 1, "failed": 0}
    assert {"J_a", "J_b", "power", "sigma", "n_a", "n_b"} == set(info["observables"])
    assert set(info["fixed"]) == {"omega_a", "omega_b", "T_a", "beta_b", "gamma_a", "gamma_b", "epsilon"}
    assert cli.main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "(1 of 1 point computed" in text and "grid         1 point: no axes" in text


def test_info_says_one_unknown_in_the_singular(tmp_path):
    import h5py

    out = tmp_path / "point.h5"
    run_sweep(parse_spec(POINT, "point.toml"), output=out, progress=False)
    with h5py.File(out, "a") as h5:  # what a solver plan with a one-unknown sector writes
        h5.attrs["solver_plan"] = "q: reduced: 1 unknowns of 3, unrolled elimination; p: 11 unknowns of 15"
    assert jaxtherm.info(out)["solver_plan"] == "q: reduced: 1 unknown of 3, unrolled elimination; p: 11 unknowns of 15"


def test_plot_refuses_a_resolution_out_of_range_and_one_axis_twice(tmp_path, capsys):
    text = thinned(cli.bundled_sweeps()["quickstart"].read_text())
    out = tmp_path / "q.h5"
    run_sweep(parse_spec(text, "q.toml"), output=out, progress=False)
    for dpi in ("100000", "0", "-5"):
        assert cli.main(["plot", str(out), "J_a", "--dpi", dpi, "-o", str(tmp_path / "x.png")]) == 2
        err = capsys.readouterr().err
        assert f"--dpi {dpi}: expected a resolution from 1 to 1200 dots per inch" in err and "-o" not in err
    assert cli.main(["plot", str(out), "J_a", "--x", "T_b", "--y", "T_b", "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "--x T_b --y T_b: expected two different axes" in err and "-o" not in err
    assert not (tmp_path / "x.png").exists()
    assert cli.main(["plot", str(out), "J_a", "--dpi", "1200", "-o", str(tmp_path / "x.png")]) == 0
    assert png_size(tmp_path / "x.png") == panels_size(1, 1200)


def test_the_plot_command_leaves_no_figure_open(tmp_path):
    """``jaxtherm plot`` writes its image and closes its figure, also where writing fails: a script
    or a test that runs the command many times in one process does not collect figures."""
    import matplotlib.pyplot as plt

    text = thinned(cli.bundled_sweeps()["quickstart"].read_text())
    out = tmp_path / "q.h5"
    run_sweep(parse_spec(text, "q.toml"), output=out, progress=False)
    before = set(plt.get_fignums())
    assert cli.main(["plot", str(out), "J_a", "-o", str(tmp_path / "a.png")]) == 0
    assert cli.main(["plot", str(out), "J_a", "-o", str(tmp_path / "no-such-folder" / "a.png")]) == 2
    assert set(plt.get_fignums()) == before


def test_map_colours_are_centred_at_zero_only_where_the_data_change_sign():
    from matplotlib import colors

    from jaxtherm.cli.plot import _norm

    one_signed = _norm(colors, "J_a", np.array([[0.1, 0.3], [0.2, np.nan]]), "T_b")
    assert one_signed.cmap == "viridis" and isinstance(one_signed.norm, colors.Normalize)
    assert not isinstance(one_signed.norm, colors.TwoSlopeNorm)
    assert (one_signed.norm.vmin, one_signed.norm.vmax) == (0.1, 0.3)
    negative = _norm(colors, "power", np.array([-0.3, -0.1]), "T_b")
    assert negative.cmap == "viridis" and (negative.norm.vmin, negative.norm.vmax) == (-0.3, -0.1)
    both = _norm(colors, "n_a", np.array([-0.1, 0.3]), "T_b")
    assert both.cmap == "RdBu_r" and isinstance(both.norm, colors.TwoSlopeNorm)
    assert (both.norm.vmin, both.norm.vcenter, both.norm.vmax) == (-0.3, 0.0, 0.3)
    tur = _norm(colors, "tur_a", np.array([2.5, 4.0]), "T_b")
    assert tur.cmap == "RdBu_r" and tur.norm.vcenter == 2.0
    line = _norm(colors, "J_a", np.array([0.1, 0.3]), None)  # lines of a signed quantity keep their zero line
    assert line.norm is None and line.zero_line


def test_cop_is_blank_where_the_fridge_does_not_cool(tmp_path):
    import matplotlib.pyplot as plt

    text = ("[model]\nname='absorption_refrigerator'\n[parameters]\nE_h=2.0\ng=0.05\nT_c=1.0\nT_r=1.5\ngamma_c=0.05\n"
            "gamma_r=0.05\ngamma_h=0.05\n[axes]\nT_h={linspace=[1.6, 12.0, 5]}\nE_c={linspace=[0.05, 3.0, 6]}\n"
            "[run]\nsolver='dense'\n")
    out = tmp_path / "fridge.h5"
    run_sweep(parse_spec(text, "fridge.toml"), output=out, progress=False)
    ds = jaxtherm.open(out)
    cools = ds["J_c"].transpose("T_h", "E_c").values > 0
    assert cools.any() and not cools.all()  # the grid has both, or this test means nothing
    fig = jaxtherm.plot(out, "cop", x="E_c", y="T_h")
    drawn = np.ma.filled(fig.axes[0].collections[0].get_array().astype(float), np.nan).reshape(cools.shape)
    assert np.array_equal(np.isfinite(drawn), cools)
    assert np.allclose(drawn[cools], ds["cop"].transpose("T_h", "E_c").values[cools])
    plt.close(fig)


def test_plot_of_an_optimisation_trajectory(tmp_path, capsys):
    spec = tmp_path / "opt.toml"
    spec.write_text("[model]\nname='qubit_pair'\ncoupling='incoherent'\n[parameters]\nomega_a=1.0\nT_a=2.0\nT_b=0.5\n"
                    "gamma_a=1.0\ngamma_b=1.0\n[optimize]\nmaximize='-power'\n"
                    "variables={delta=[-3.0, 0.9], epsilon=[0.01, 10.0]}\nstarts=3\nsteps=20\n[run]\nsolver='dense'\n")
    out = tmp_path / "opt.h5"
    assert cli.main(["optimize", str(spec), "-o", str(out)]) == 0
    capsys.readouterr()
    # (start, step, variable): one map of start × step per variable; one start: lines against the step
    assert cli.main(["plot", str(out), "trajectory", "-o", str(tmp_path / "t.png")]) == 0
    assert png_size(tmp_path / "t.png") == panels_size(2)
    assert cli.main(["plot", str(out), "trajectory", "--sel", "start=0", "variable=delta", "-o", str(tmp_path / "d.png")]) == 0
    assert png_size(tmp_path / "d.png") == panels_size(1)
    assert cli.main(["plot", str(out), "trajectory_objective", "-o", str(tmp_path / "o.png")]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_a_map_is_diverging_only_where_the_data_change_sign_beyond_round_off():
    """A current that vanishes as ±1e-16 at equilibrium is one-signed (a sequential map); σ that
    is negative by 1e-5 beside 1e-3 changes sign (a map centred at 0)."""
    from jaxtherm.cli.plot import changes_sign

    assert not changes_sign(np.array([-4e-16, 0.0, 0.2, np.nan]))
    assert changes_sign(np.array([-1e-5, 0.0, 1e-3]))
    assert not changes_sign(np.array([np.nan, np.nan]))


@pytest.mark.parametrize("lo, hi", [(1.44, 10.5), (1.99, 2.4), (0.5, 2.01)])
def test_a_colour_bar_centred_off_the_middle_of_its_range_has_ticks_on_both_sides(lo, hi):
    """A map centred at Q = 2 (``TwoSlopeNorm``) spans each half of its bar with its own range:
    the short half gets ticks too (the README's TUR map from 1.44 to 10.5 had none below 2), and
    none overprints the centre's (8 % of the bar apart)."""
    from matplotlib import colors

    from jaxtherm.cli.plot import _two_sided_ticks

    norm = colors.TwoSlopeNorm(vcenter=2.0, vmin=lo, vmax=hi)
    ticks = _two_sided_ticks(norm)
    assert 2.0 in ticks and ((ticks >= lo) & (ticks <= hi)).all()
    assert (np.abs(norm(ticks[ticks != 2.0]) - 0.5) >= 0.08).all()
    if lo < 1.9 and hi > 2.5:
        assert (ticks < 2).sum() >= 2 and (ticks > 2).sum() >= 2
    assert _two_sided_ticks(colors.Normalize(0, 1)) is None
