"""Reading within memory: ``jaxtherm.open`` is lazy (selection composes, ``.values``/``.load()``
read the region selected, masking happens inside the read), ``jaxtherm plot`` and ``jaxtherm
info`` read only what they show, and a Dataset holds no open file.

The files here are written through the I/O layer's own writer (``jaxtherm.io.hdf5.ResultsFile``)
with a sweep's layout and values known in closed form, so a file of a few hundred MB takes
seconds; the running and killed sweeps of real runs are tests/test_results.py's.
"""

import json
import os
import pickle
import subprocess
import sys

import matplotlib  # noqa: F401  (the [test] extra has matplotlib and xarray: these tests run, never skip)
import numpy as np
import pytest
import xarray as xr

import jaxtherm
from jaxtherm.io import h5read, hdf5
from jaxtherm.io import read as results

OUTPUTS = ("J_a", "J_b", "power", "sigma", "n_a", "n_b")
FAILED = jaxtherm.STATUS_SINGULAR
SPEC = """[model]
name = "qubit_pair"
coupling = "local"
[parameters]
omega_a = 1.0
[axes]
T_b = {{ linspace = [0.2, 2.0, {n_t}] }}
epsilon = {{ logspace = [-3, 0, {n_e}] }}
"""


def expected(name: str, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The value written at grid point ``(i, j)`` (before masking)."""
    k = (OUTPUTS + ("residual", "rho_re")).index(name)
    return k + i * 1e-3 + j * 1e-7


def failed(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    return (i + 3 * j) % 17 == 0


def layout(n_t: int, n_e: int, rows: int, rho: bool) -> hdf5.Layout:
    coords = {"T_b": (np.linspace(0.2, 2.0, n_t), "energy", "temperature of bath b"),
              "epsilon": (np.logspace(-3, 0, n_e), "energy", "coupling")}
    variables = [hdf5.Variable(n, "float64", "energy/time", f"synthetic {n}") for n in OUTPUTS]
    variables += [hdf5.Variable("status", "int8", "", "0 = ok; -1 = not computed"),
                  hdf5.Variable("residual", "float64", "1", "residual")]
    if rho:
        coords.update(row=(np.asarray(["|0⟩", "|1⟩"]), "", "row"), col=(np.asarray(["|0⟩", "|1⟩"]), "", "col"))
        variables.append(hdf5.Variable("rho_re", "float64", "1", "ρ", (("row", 2), ("col", 2))))
    attrs = {"title": "jaxtherm sweep synthetic.toml", "spec": SPEC.format(n_t=n_t, n_e=n_e), "model": "qubit_pair",
             "model_names": json.dumps(["qubit_pair/local"]), "model_options": "{}", "solver_plan": "synthetic",
             "chunk_size": rows * n_e}
    return hdf5.Layout(("T_b", "epsilon"), coords, tuple(variables), {"omega_a": (1.0, "energy", "frequency")}, attrs,
                       n_chunks=-(-n_t // rows))


def write_chunks(f: hdf5.ResultsFile, lay: hdf5.Layout, chunks, rows: int) -> None:
    """Chunks (``rows`` grid rows each) of the closed-form values, with failed points."""
    n_t, n_e = lay.shape
    rho = any(v.name == "rho_re" for v in lay.variables)
    for c in chunks:
        r0, r1 = c * rows, min(n_t, (c + 1) * rows)
        i, j = (a.ravel() for a in np.meshgrid(np.arange(r0, r1), np.arange(n_e), indexing="ij"))
        arrays = {n: expected(n, i, j) for n in OUTPUTS + ("residual",)}
        arrays["status"] = np.where(failed(i, j), FAILED, 0).astype(np.int8)
        if rho:
            arrays["rho_re"] = expected("rho_re", i, j)[:, None, None] + np.arange(4.0).reshape(2, 2)
        f.write([((slice(r0, r1), slice(0, n_e)), slice(0, i.size))], arrays)
        f.mark_done(c)


def write_file(path, n_t: int, n_e: int, *, rows: int = 8, done=None, rho: bool = False):
    """A results file of ``n_t × n_e`` points; complete, or only the chunks ``done`` (unfinished)."""
    lay = layout(n_t, n_e, rows, rho)
    f = hdf5.ResultsFile.create(path, lay)
    write_chunks(f, lay, range(lay.n_chunks) if done is None else done, rows)
    if done is None:
        f.finish({"n_failed": 0})
    f.close()
    return lay


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("small") / "small.h5"
    write_file(path, 40, 60, rho=True)
    return path


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """About 230 MB: 4×10⁶ points, 6 outputs and the residual in float64, status."""
    path = tmp_path_factory.mktemp("big") / "big.h5"
    write_file(path, 1000, 4000, rows=50)
    return path


def reference(path, name: str, mask: bool = True) -> np.ndarray:
    """``name`` read whole with h5py (through the I/O layer) and masked as ``open`` documents."""
    values, status = h5read.read_regions(path, False, None, [(name, ()), ("status", ())])
    if mask and name not in ("status", "residual"):
        values = np.where((status != 0).reshape(status.shape + (1,) * (values.ndim - 2)), np.nan, values)
    return values


def test_open_reads_nothing_until_asked_and_then_only_the_selection(small, monkeypatch):
    calls = []
    real = h5read.read_regions

    def spy(path, swmr, identity, requests):
        calls.append([(n, k) for n, k in requests])
        return real(path, swmr, identity, requests)

    monkeypatch.setattr(h5read, "read_regions", spy)
    ds = jaxtherm.open(small)
    assert calls == [] and ds.attrs["state"] == "complete" and ds.attrs["points_done"] == 2400
    part = ds.J_a.isel(T_b=3).sel(epsilon=slice(0.01, 0.1)).isel(epsilon=slice(None, None, 2))
    assert calls == []
    values = part.values
    # one opening: the region's status first (every point it marks done is written), then J_a's
    assert len(calls) == 1 and [n for n, _ in calls[0]] == ["status", "J_a"]
    (_, status_key), (_, key) = calls[0]
    assert key[0] == 3 and isinstance(key[1], slice) and key[1].stop - key[1].start < 60 and status_key == key
    full = reference(small, "J_a")[3][(ds.epsilon.values >= 0.01) & (ds.epsilon.values <= 0.1)][::2]
    np.testing.assert_array_equal(values, full)


@pytest.mark.parametrize("mask", [True, False])
def test_lazy_selection_equals_the_whole_file_read_and_masked(small, mask):
    ds = jaxtherm.open(small, mask=mask)
    for name in ("J_a", "sigma", "residual", "status", "rho_re"):
        whole = reference(small, name, mask)
        da = ds[name]
        np.testing.assert_array_equal(da.values, whole)
        for sel in ({"T_b": 7}, {"T_b": slice(30, 2, -3)}, {"epsilon": [50, 3, 3, 17]},
                    {"T_b": [5, 1, 9], "epsilon": slice(None, None, 7)}):
            np.testing.assert_array_equal(da.isel(sel).values, whole[_numpy_key(sel)], err_msg=f"{name} {sel}")
        pointwise = da.isel(T_b=xr.DataArray([0, 17, 39], dims="p"), epsilon=xr.DataArray([0, 1, 59], dims="p"))
        np.testing.assert_array_equal(pointwise.values, whole[[0, 17, 39], [0, 1, 59]])
    assert np.isnan(ds.J_a.values[failed(*np.indices((40, 60)))]).all() == mask
    assert float(ds.omega_a) == 1.0 and ds.J_a.attrs["units"] == "energy/time"


def _numpy_key(sel: dict):
    """The outer-indexing key of an ``isel`` of (T_b, epsilon) as NumPy indices, one axis at a time."""
    t, e = sel.get("T_b", slice(None)), sel.get("epsilon", slice(None))
    if isinstance(t, list) and isinstance(e, slice):
        return np.ix_(t, np.arange(60)[e])
    return t, e


def test_chunks_give_dask_arrays_aligned_with_the_storage_chunks_and_pickle(small, tmp_path):
    pytest.importorskip("dask")
    path = tmp_path / "mid.h5"
    write_file(path, 300, 1000, rows=50)  # storage chunks of 131 × 1000 float64 (1 MiB)
    ds = jaxtherm.open(path, chunks={})
    assert ds.J_a.encoding["preferred_chunks"] == {"T_b": 131, "epsilon": 1000}
    assert ds.J_a.chunks == ((131, 131, 38), (1000,)) and ds.status.chunks == ((300,), (1000,))
    np.testing.assert_array_equal(ds.sigma.mean("epsilon").compute().values, np.nanmean(reference(path, "sigma"), axis=1))
    # a Dataset travels to other processes (Dask's workers) and reads there
    lazy = pickle.loads(pickle.dumps(jaxtherm.open(small)))
    np.testing.assert_array_equal(lazy.power.isel(T_b=2).values, reference(small, "power")[2])


def test_an_open_dataset_blocks_nothing_and_keeps_its_snapshot(tmp_path):
    """A Dataset holds no open file: another open, the writer in this same process (HDF5 refuses a
    second opening with other flags) and a file renamed over it all behave."""
    path = tmp_path / "u.h5"
    lay = write_file(path, 40, 60, done=[0, 2])  # unfinished: chunks 0 and 2 of 5
    ds = jaxtherm.open(path)
    assert ds.attrs["state"] == "unfinished" and ds.attrs["points_done"] == 2 * 8 * 60
    again = jaxtherm.open(path)
    assert again.attrs["points_done"] == ds.attrs["points_done"]
    f = hdf5.ResultsFile.open(path, lay)  # resume, here, while both are alive
    write_chunks(f, lay, [1, 3, 4], 8)
    f.finish({})
    f.close()
    # the first Dataset still shows the points done when it was opened, masked as then
    status = ds.status.values
    assert (status[8:16] == -1).all() and (status[:8] != -1).all() and int((status != -1).sum()) == 960
    for name in ("J_a", "residual"):
        assert np.isnan(ds[name].values[8:16]).all() and np.isnan(ds[name].values[24:]).all()
        np.testing.assert_array_equal(ds[name].values[:8], reference(path, name)[:8])
    complete = jaxtherm.open(path)
    assert complete.attrs["state"] == "complete" and complete.attrs["points_done"] == 2400
    np.testing.assert_array_equal(complete.J_a.values, reference(path, "J_a"))
    # a file renamed over the path (jaxtherm run --force) is refused by a Dataset of the old one
    other = tmp_path / "other.h5"
    write_file(other, 40, 60)
    os.replace(other, path)
    with pytest.raises(h5read.Replaced, match="open it again"):
        _ = complete.J_a.values  # read whole above, and not kept: read again
    assert jaxtherm.open(path).J_a.values.shape == (40, 60)


WRITER = """
import sys
from jaxtherm.io import hdf5
from tests.test_lazy_reading import layout, write_chunks
lay = layout(40, 60, 8, False)
f = hdf5.ResultsFile.create(sys.argv[1], lay)
write_chunks(f, lay, [0, 1], 8)
f.commit()
print("written", flush=True)
sys.stdin.readline()
write_chunks(f, lay, [2, 3, 4], 8)
f.finish({})
f.close()
print("finished", flush=True)
"""


def test_a_dataset_of_a_running_sweep_lets_the_writer_finish(tmp_path):
    """A reader holding the file open would keep an HDF5 lock, and the writer's final reopen
    (``ResultsFile.finish``) would fail: a Dataset holds none, and keeps its snapshot."""
    path = tmp_path / "live.h5"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=root, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == "written", proc.stderr.read()
        ds = jaxtherm.open(path)
        assert ds.attrs["points_done"] == 2 * 8 * 60 and ds.attrs["complete"] == 0
        first = ds.J_a.values
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "finished", proc.stderr.read()
        assert proc.wait(60) == 0
    finally:
        proc.kill()
    np.testing.assert_array_equal(first[:16], reference(path, "J_a")[:16])
    assert np.isnan(first[16:]).all()
    np.testing.assert_array_equal(ds.J_a.values, first)  # the snapshot, read from the finished file
    assert (ds.status.values[16:] == -1).all()
    assert jaxtherm.open(path).attrs["points_done"] == 2400


MEASURE = """
import contextlib, io, json, sys
import numpy as np, matplotlib
matplotlib.use("Agg")
import jaxtherm
from jaxtherm.cli.commands import main
def status(key):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith(key)) / 1024
def reset():
    \"\"\"Start the peak (VmHWM) again from the resident memory now (Linux >= 4.0); return that.\"\"\"
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status("VmRSS")
def steps(path, out):
    \"\"\"Each step's peak resident memory above the resident memory when it started, in MiB, and what
    stays resident after all of them.\"\"\"
    grown = {}
    start = base = reset()
    ds = jaxtherm.open(path)
    grown["open"] = status("VmHWM") - base
    base = reset()
    row = ds.J_a.sel(T_b=0.5, method="nearest").load()
    grown["slice"] = status("VmHWM") - base
    i = int(np.flatnonzero(ds.T_b.values == float(row.T_b))[0])
    j = np.arange(ds.sizes["epsilon"])
    assert np.array_equal(row.values, np.where((i + 3 * j) % 17 == 0, np.nan, i * 1e-3 + j * 1e-7), equal_nan=True)
    base = reset()
    jaxtherm.plot(path, "J_a", sel=["T_b=0.5"], output=out)
    grown["plot"] = status("VmHWM") - base
    with contextlib.redirect_stdout(io.StringIO()):
        base = reset()
        assert main(["plot", path, "sigma", "--sel", "epsilon=0.01", "-o", out]) == 0
        grown["jaxtherm plot --sel"] = status("VmHWM") - base
        base = reset()
        assert main(["info", path]) == 0
        grown["jaxtherm info"] = status("VmHWM") - base
    grown["kept"] = status("VmRSS") - start
    return grown
steps(sys.argv[1], sys.argv[3])  # the first use of each (imports of xarray, Dask, fonts) on a small file
print(json.dumps(steps(sys.argv[2], sys.argv[3])))
"""


def test_open_slice_plot_and_info_of_a_file_larger_than_their_memory(small, big, tmp_path):
    """Peak resident memory, measured in a fresh process (after the same steps on a small file:
    imports and first uses), grows by a small fraction of the file's size: opening, pulling one
    slice, plotting it (``jaxtherm.plot``, ``jaxtherm plot --sel``) and ``jaxtherm info``.
    Loading the whole file took 2× its size before."""
    size = os.path.getsize(big) / 2**20
    assert size > 200
    if not os.access("/proc/self/clear_refs", os.W_OK):
        pytest.skip("needs Linux's /proc/self/clear_refs to measure a peak from a given moment")
    out = subprocess.run([sys.executable, "-c", MEASURE, str(small), str(big), str(tmp_path / "p.png")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    grown = json.loads(out.stdout.splitlines()[-1])
    assert max(grown.values()) < size / 10, (size, grown)


def test_info_counts_status_a_chunk_at_a_time(small, tmp_path):
    d = results.info(small)
    n_failed = int(failed(*np.indices((40, 60))).sum())
    assert d["points"] == {"total": 2400, "done": 2400, "failed": n_failed}
    assert d["status"] == {"0": {"count": 2400 - n_failed, "meaning": "ok"},
                           str(FAILED): {"count": n_failed, "meaning": jaxtherm.STATUS_MEANINGS[FAILED]}}
    path = tmp_path / "u.h5"
    write_file(path, 40, 60, done=[1])
    d = results.info(path)
    assert d["state"] == "unfinished" and d["points"]["done"] == 480 and d["status"]["-1"]["count"] == 1920
    assert d["chunks"]["done"] == 1 and d["chunks"]["total"] == 5


def test_plot_names_the_file_when_a_read_after_opening_fails(small, tmp_path, monkeypatch, capsys):
    """``jaxtherm plot`` reads after opening (lazily): a failure there (the file replaced or damaged
    since) exits 2 with one line naming the file, not a traceback or a complaint about ``-o``."""
    from jaxtherm.cli import commands as cli

    def fail(path, swmr, identity, requests):
        raise h5read.Replaced(f"{path}: another file has replaced the one opened; open it again")

    monkeypatch.setattr(h5read, "read_regions", fail)
    assert cli.main(["plot", str(small), "J_a", "--sel", "T_b=0.5", "-o", str(tmp_path / "p.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(small) in err and "replaced" in err and "error: -o" not in err
    assert not (tmp_path / "p.png").exists()
