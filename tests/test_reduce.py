"""Reduced sweeps (``[reduce]``) and chosen outputs (``[output] observables``): the reductions
equal NumPy's reduction of the full sweep (max/min and where they are: exactly; means: to
round-off) for one and two reduced axes, failed points inside a group and several chunk sizes
(whole groups per chunk, and groups split over chunks); a killed reduced sweep resumes to a
bitwise-equal file; bad tables exit 2 naming the key; the files open, describe and plot."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import jaxtherm
from jaxtherm.cli import commands as cli
from jaxtherm.sweep import SpecError, parse_spec, resolve, run_sweep

from .helpers import finished_chunks
from .test_sweep import DEAD, on_one_and_two_devices, read_all

PAIR = """
[model]
name = "qubit_pair"
coupling = ["local", "global"]
[parameters]
omega_a = 1.0
T_a = 2.0
gamma_a = 0.1
gamma_b = 0.1
[axes]
T_b = { linspace = [0.5, 1.5, 5] }
epsilon = { logspace = [-3, 0, 13] }
delta = { values = [-0.1, 0.0, 0.15] }
[output]
gradients = ["epsilon"]
"""


def _sweep(text, tmp_path, name, **kw):
    spec = parse_spec(text, "test.toml", default_output="results/test.h5")
    run_sweep(spec, output=tmp_path / name, progress=False, **kw)
    return jaxtherm.open(tmp_path / name)


def _reduce_table(over, mx=(), mn=(), mean=()):
    return (f"[reduce]\nover = {list(over)!r}\nmax = {list(mx)!r}\nmin = {list(mn)!r}\nmean = {list(mean)!r}\n"
            ).replace("'", '"')


def _expected(full, over, v, op):
    """NumPy's reduction of the full sweep over ``over``, failed points excluded: the extreme,
    the flat index of its first occurrence (C order over ``over``), the valid count."""
    ds = jaxtherm.open(full)  # failed points are NaN here; they are excluded by their status anyway
    kept = [d for d in ds[v].dims if d not in over]
    x = ds[v].transpose(*kept, *over).values
    x = x.reshape(*x.shape[:len(kept)], -1)
    valid = (ds["status"].transpose(*kept, *over).values == 0).reshape(x.shape)
    n = valid.sum(-1)
    if op == "mean":
        return np.where(n > 0, np.where(valid, x, 0).sum(-1) / np.maximum(n, 1), np.nan), None, n
    masked = np.where(valid, x, -np.inf if op == "max" else np.inf)
    i = masked.argmax(-1) if op == "max" else masked.argmin(-1)
    value = np.take_along_axis(x, i[..., None], -1)[..., 0]
    return np.where(n > 0, value, np.nan), np.where(n > 0, i, -1), n


CASES = [
    # (over, chunk sizes: auto, whole groups, groups split over chunks)
    (["epsilon"], [None, 26, 5]),
    (["T_b", "delta"], [None, 45, 4]),
]


@pytest.mark.parametrize("over,sizes", CASES, ids=["one axis", "two axes"])
def test_reductions_equal_numpy_on_the_full_sweep_for_every_chunk_size(tmp_path, over, sizes):
    table = _reduce_table(over, mx=["power", "J_a"], mn=["sigma"], mean=["J_a", "dJ_a_depsilon"])
    _sweep(PAIR, tmp_path, "full.h5")
    full = jaxtherm.open(tmp_path / "full.h5")
    for size in sizes:
        r = _sweep(PAIR + table, tmp_path, f"red{size}.h5", chunk_size=size)
        kept = [d for d in full["power"].dims if d not in over]
        assert list(r["power_max"].dims) == kept
        for v, op in [("power", "max"), ("J_a", "max"), ("sigma", "min")]:
            value, index, n = _expected(tmp_path / "full.h5", over, v, op)
            assert np.array_equal(r[f"{v}_{op}"].values, value), (size, v)
            assert np.array_equal(r["valid_points"].values, n)
            where = np.unravel_index(index, [full.sizes[a] for a in over])
            for a, j in zip(over, where):
                assert np.array_equal(r[f"{a}_at_{v}_{op}"].values, full[a].values[j]), (size, a)
            for w in ("J_b", "dpower_depsilon", "residual"):
                others = full[w].transpose(*kept, *over).values.reshape(*value.shape, -1)
                flat = np.ravel_multi_index(where, [full.sizes[a] for a in over])
                at = np.take_along_axis(others, flat[..., None], -1)[..., 0]
                assert np.array_equal(r[f"{w}_at_{v}_{op}"].values, at), (size, w, v)
        for v in ("J_a", "dJ_a_depsilon"):
            value, _, _ = _expected(tmp_path / "full.h5", over, v, "mean")
            scale = np.nanmax(np.abs(full[v].values))
            np.testing.assert_allclose(r[f"{v}_mean"].values, value, rtol=0, atol=64 * np.finfo(float).eps * scale)


@pytest.mark.parametrize("size", [26, 5], ids=["whole groups", "groups in parts"])
def test_groups_held_back_are_written_as_chunk_by_chunk(tmp_path, monkeypatch, size):
    """Finished groups are written in runs of consecutive groups (``outputs.Groups``), flushed
    when the run is long enough, when the next group does not follow (the next model), at the
    end, and at once where groups arrive slowly (the sweep's first groups; every groups with
    ``BUFFER_SECONDS = 0``): the file is bitwise the one written chunk by chunk."""
    from jaxtherm.io.hdf5 import ResultsFile
    from jaxtherm.sweep import outputs

    calls = []
    write = ResultsFile.write
    monkeypatch.setattr(ResultsFile, "write", lambda self, regions, arrays: (calls.append(1), write(self, regions, arrays)))
    table = _reduce_table(["epsilon"], mx=["power"], mn=["sigma"], mean=["J_a"])
    files, writes = {}, {}
    for case, (held, seconds) in {"one": (1, float("inf")), "seven": (7, float("inf")), "slow": (7, 0.0)}.items():
        monkeypatch.setattr(outputs.Groups, "BUFFER_GROUPS", held)
        monkeypatch.setattr(outputs.Groups, "BUFFER_SECONDS", seconds)
        calls.clear()
        _sweep(PAIR + table, tmp_path, f"{case}.h5", chunk_size=size)
        files[case], writes[case] = read_all(tmp_path / f"{case}.h5"), len(calls)
        assert not (tmp_path / f"{case}.h5.journal").exists()
    # 15 groups a model (T_b × delta), of 13 points: at 26 points a chunk holds two groups (eight
    # chunks a model); at 5 points a group is three parts, and written once its last part is in.
    # Runs of seven: the sweep's first groups at once, then 8 + 5 groups (by chunks of two) and
    # 8 + 7 in the second model; in parts 1 + 7 + 7 groups, then 7 + 7 + 1
    by_group = {26: 16, 5: 30}[size]
    assert (writes["one"], writes["seven"], writes["slow"]) == (by_group, {26: 5, 5: 6}[size], by_group)
    for case in ("seven", "slow"):
        a, b = files["one"], files[case]
        assert a.keys() == b.keys() and "power_max" in a
        for k in a:
            assert a[k].tobytes() == b[k].tobytes(), (case, k)


@pytest.mark.parametrize("size", [None, 2])
def test_failed_points_are_excluded_and_an_all_failed_group_is_nan(tmp_path, size):
    """In ``DEAD``, γ_a = γ_b = 0 leaves no unique steady state at any ε (a group with no valid
    point), and γ_b = 0 fails only where ε = 0 (a failed point inside a group)."""
    _sweep(DEAD, tmp_path, "full.h5")
    r = _sweep(DEAD + _reduce_table(["epsilon"], mx=["J_a"], mean=["J_a"]), tmp_path, "red.h5", chunk_size=size)
    value, index, n = _expected(tmp_path / "full.h5", ["epsilon"], "J_a", "max")
    assert n[0, 0] == 0 and 0 < n.min(initial=3, where=n > 0) and (n < 3).sum() >= 2, n  # the cases are there
    assert np.array_equal(r["valid_points"].values, n)
    np.testing.assert_array_equal(r["J_a_max"].values, value)
    assert np.isnan(r["J_a_max"].values[0, 0]) and np.isnan(r["J_a_mean"].values[0, 0])
    assert np.isnan(r["epsilon_at_J_a_max"].values[0, 0])
    assert r["status"].values[0, 0] == jaxtherm.STATUS_SINGULAR and (r["status"].values[n > 0] == 0).all()
    mean, _, _ = _expected(tmp_path / "full.h5", ["epsilon"], "J_a", "mean")
    np.testing.assert_allclose(r["J_a_mean"].values, mean, rtol=1e-14, atol=1e-18)


SLOW = """
[model]
coupling = "global"
[parameters]
omega_a = 1.0
omega_b = 1.2
beta_a = 0.5
gamma_a = 0.3
gamma_b = 0.6
[axes]
beta_b = { linspace = [0.2, 3.0, 40] }
epsilon = { logspace = [-3, 0, 5000] }
[output]
gradients = ["epsilon"]
[reduce]
over = ["epsilon"]
max = ["power", "J_a"]
mean = ["sigma"]
"""


def test_a_killed_reduced_sweep_resumes_bitwise_equal(tmp_path):
    """Chunks of 1,000 points split every group (5,000 points) into five parts: the parts of an
    unfinished group come back from the journal and are combined as in an uninterrupted run."""
    spec_path = tmp_path / "slow.toml"
    spec_path.write_text(SLOW)
    out = tmp_path / "killed.h5"
    cmd = [sys.executable, "-m", "jaxtherm", "run", str(spec_path), "-o", str(out), "--chunk-size", "1000", "-q"]
    proc = subprocess.Popen(cmd)
    deadline = time.time() + 180
    while time.time() < deadline and finished_chunks(out) < 7:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 7 <= finished_chunks(out) < 200, "the run must be killed midway"
    done = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ref = tmp_path / "ref.h5"
    subprocess.run([*cmd[:6], str(ref), *cmd[7:]], check=True)
    a, b = read_all(out), read_all(ref)
    assert a.keys() == b.keys() and "power_max" in a and "power" not in a
    for k in a:
        assert a[k].tobytes() == b[k].tobytes(), k


def test_a_reduced_sweep_split_over_two_devices_equals_one_device(tmp_path):
    """Each chunk's kernel and its reduction split over two (host) devices: the reduced file is
    bitwise the one-device file (``test_sweep.on_one_and_two_devices``)."""
    table = _reduce_table(["epsilon"], mx=["power"], mn=["sigma"], mean=["J_a"])
    a, b = on_one_and_two_devices(PAIR + table, tmp_path, 26)
    assert a.keys() == b.keys() and "power_max" in a and (a["status"] == 0).all()
    for k in a:
        assert a[k].tobytes() == b[k].tobytes(), k


@pytest.mark.parametrize("table,key,expected", [
    ('[reduce]\nover = ["T_a"]\nmax = ["power"]\n', "reduce.over", "not an axis of [axes]"),
    ('[reduce]\nover = ["epsilom"]\nmax = ["power"]\n', "reduce.over",
     "(is axes.epsilon a misspelling of epsilom, or the other way round?)"),
    ('[reduce]\nover = ["epsilon"]\nmax = ["powr"]\n', "reduce.max", "'powr' is not a stored variable"),
    ('[reduce]\nover = ["epsilon"]\nmean = ["J_a"]\n[output]\nobservables = ["power"]\n', "reduce.mean",
     "add it to [output] observables"),
    ('[reduce]\nover = ["epsilon"]\n', "reduce", "at least one of max, min, mean"),
    ('[reduce]\nover = []\nmax = ["power"]\n', "reduce.over", "non-empty list"),
    ('[reduce]\nover = ["epsilon"]\nmedian = ["power"]\n', "reduce.median", "unknown key"),
    ('[output]\nobservables = ["J_x"]\n', "output.observables", "'J_x' is not an observable"),
])
def test_bad_tables_name_the_key(table, key, expected):
    text = PAIR.replace('[output]\ngradients = ["epsilon"]\n', "") + table
    with pytest.raises(SpecError) as err:
        resolve(parse_spec(text, "test.toml"))
    assert err.value.key == key and expected in str(err.value)


def test_cli_exits_2_on_an_unknown_reduced_observable(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text(PAIR + '[reduce]\nover = ["epsilon"]\nmax = ["powr"]\n')
    assert cli.main(["run", str(spec), "-o", str(tmp_path / "x.h5"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "reduce.max" in err and "Traceback" not in err and not (tmp_path / "x.h5").exists()


def test_chosen_observables_and_their_derivatives_only(tmp_path):
    full = _sweep(PAIR, tmp_path, "full.h5")
    chosen = _sweep(PAIR.replace('gradients = ["epsilon"]', 'gradients = ["epsilon"]\nobservables = ["power", "J_a"]'),
                    tmp_path, "chosen.h5")
    gridded = {k for k in chosen.data_vars if chosen[k].ndim}  # (the fixed parameters are scalars)
    assert gridded == {"power", "J_a", "dpower_depsilon", "dJ_a_depsilon", "status", "residual"}
    for k in gridded:
        assert np.array_equal(chosen[k].values, full[k].values, equal_nan=True), k


def test_a_reduced_file_is_described_and_plotted(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    _sweep(PAIR + _reduce_table(["epsilon"], mx=["power"]), tmp_path, "red.h5")
    assert cli.main(["info", str(tmp_path / "red.h5")]) == 0
    out = capsys.readouterr().out
    assert "power_max [energy/time]" in out and "reduced      over epsilon (max power)" in out and "NAME_at_" in out
    # its points are groups (2 couplings × T_b 5 × delta 3), and the grid's points are said apart
    import re

    found = re.search(r"\(30 of 30 groups computed, 0 without a valid point; 390 grid points, (\d+) failed;", out)
    assert found and int(found.group(1)) == 390 - int(jaxtherm.open(tmp_path / "red.h5")["valid_points"].sum())
    png = tmp_path / "red.png"
    assert cli.main(["plot", str(tmp_path / "red.h5"), "epsilon_at_power_max", "--sel", "coupling=global",
                     "-o", str(png)]) == 0
    assert png.stat().st_size > 10_000


def test_dry_run_reports_and_creates_nothing(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(PAIR)
    out = tmp_path / "new" / "x.h5"
    assert cli.main(["run", str(spec), "-o", str(out), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "points       390\n" in text and "free space" in text and "chunks " in text and "points/s" in text
    assert "about 41.0 kB (14 variables)" in text  # 390 points × (13 float64 + int8 status)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]  # no file, journal, lock or directory


def test_a_sweep_that_cannot_fit_exits_2_before_creating_anything(tmp_path, capsys, monkeypatch):
    from jaxtherm.sweep import size

    monkeypatch.setattr(size, "free_space", lambda path: (20_000, tmp_path))
    spec = tmp_path / "s.toml"
    spec.write_text(PAIR)
    out = tmp_path / "new" / "x.h5"
    assert cli.main(["run", str(spec), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "a results file of 41.0 kB" in err and "20.0 kB free" in err and "Traceback" not in err
    assert "[reduce]" in err and "observables" in err and "float32" in err and "smaller grid" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]
    # reduced, the same grid fits
    spec.write_text(PAIR + _reduce_table(["epsilon"], mx=["power"]))
    assert cli.main(["run", str(spec), "-o", str(out), "-q"]) == 0 and out.exists()


def test_a_sweep_beyond_any_sane_size_is_refused_whatever_the_disk(tmp_path, capsys, monkeypatch):
    from jaxtherm.sweep import size

    monkeypatch.setattr(size, "free_space", lambda path: (2**80, tmp_path))
    spec = tmp_path / "s.toml"
    spec.write_text(PAIR.replace("{ logspace = [-3, 0, 13] }", "{ logspace = [-3, 0, 10000000] }")
                    .replace("{ linspace = [0.5, 1.5, 5] }", "{ linspace = [0.5, 1.5, 1000] }") + "save_rho = true\n")
    assert cli.main(["run", str(spec), "-o", str(tmp_path / "x.h5"), "--dry-run"]) == 2
    text = capsys.readouterr().out
    assert "points       60,000,000,000\n" in text and "beyond any sane size" in text and "save_rho = false" in text
    assert cli.main(["run", str(spec), "-o", str(tmp_path / "x.h5"), "-q"]) == 2
    assert "beyond any sane size" in capsys.readouterr().err and not (tmp_path / "x.h5").exists()


CHAIN = """
[model]
name = "qubit_chain"
n = 3
[parameters]
omega = 1.0
T_c = 0.5
gamma_h = 0.2
gamma_c = 0.3
[axes]
T_h = { linspace = [0.8, 2.0, 4] }
g = { values = [0.0, 0.15, 0.4, 0.7] }
"""


def test_a_chunk_the_fallback_recomputes_is_reduced_from_the_fallbacks_outputs(tmp_path):
    """The 3-qubit chain's static pivots cannot vouch for g = 0 (the middle qubit decouples: no
    unique steady state), so every chunk holding such a point is computed again by partial
    pivoting; its reduction, queued behind the first kernel, must then be made again from the
    fallback's outputs: equal to NumPy's reduction of the full sweep, the g = 0 points excluded
    (bitwise where every chunk falls back, as the full sweep's single chunk does)."""
    assert jaxtherm.solvers.Auto().plan(jaxtherm.qubit_chain(3)).static_pivots
    full = _sweep(CHAIN, tmp_path, "full.h5")
    assert (full["status"].sel(g=0.0).values == jaxtherm.STATUS_SINGULAR).all()
    for size in (None, 8, 3):  # whole groups (one or two a chunk), and groups split over chunks
        r = _sweep(CHAIN + _reduce_table(["g"], mx=["J_h"], mean=["J_c"]), tmp_path, f"red{size}.h5", chunk_size=size)
        value, index, n = _expected(tmp_path / "full.h5", ["g"], "J_h", "max")
        if size == 3:  # a group's second part, g = 0.7 alone, is solved by static pivots: equal to an ulp
            np.testing.assert_allclose(r["J_h_max"].values, value, rtol=1e-12, atol=0)
        else:  # every chunk holds a g = 0 point, as the full sweep's one chunk: all by the fallback, bitwise
            assert np.array_equal(r["J_h_max"].values, value), size
        assert np.array_equal(r["valid_points"].values, n), size
        assert (n == 3).all() and np.array_equal(r["g_at_J_h_max"].values, full["g"].values[index]), size
        mean, _, _ = _expected(tmp_path / "full.h5", ["g"], "J_c", "mean")
        np.testing.assert_allclose(r["J_c_mean"].values, mean, rtol=0, atol=16 * np.finfo(float).eps * np.abs(mean).max())


def test_the_hint_after_a_run_names_a_variable_the_file_has():
    """``jaxtherm run`` ends with a ``jaxtherm plot`` command to try: on a variable the file holds."""
    observables = PAIR.replace("[output]\n", '[output]\nobservables = ["J_b"]\n')
    for text, shown in [(PAIR, "sigma"), (observables, "J_b"),
                        (PAIR + _reduce_table(["epsilon"], mean=["J_a"], mx=["power"]), "power_max")]:
        assert cli._shown(parse_spec(text, "t.toml")) == shown
