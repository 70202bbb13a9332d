"""The sweep runner: specs, grid, HDF5 results, resume after SIGKILL, the CLI."""

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import jax
import numpy as np
import pytest

import jaxtherm
from jaxtherm.cli import commands as cli
from jaxtherm.io import journal
from jaxtherm.sweep import RunRefused, SpecError, load_spec, parse_spec, resolve, run_sweep
from jaxtherm.sweep.grid import grid_regions

from .helpers import default_compiler_env, finished_chunks

SMALL = """
[model]
name = "qubit_pair"
coupling = ["local", "global"]

[parameters]
omega_a = 1.3
T_a = 2.0
gamma_a = 0.4
gamma_b = 0.7

[axes]
delta = { values = [-0.3, 0.0, 0.5] }
beta_b = { linspace = [0.5, 2.0, 4] }
epsilon = { logspace = [-2, 0, 5] }

[output]
path = "out.h5"
gradients = ["epsilon", "T_a"]
save_rho = true
"""


def run(text, tmp_path, name="out.h5", **kw):
    spec = parse_spec(text, "test.toml", default_output="results/test.h5")
    return run_sweep(spec, output=tmp_path / name, progress=False, **kw), tmp_path / name


def read_all(path):
    """Every root dataset; strings decoded so that bytes compare by value."""
    with h5py.File(path, "r") as h5:
        return {
            k: (h5[k].asstr()[()] if h5[k].dtype.kind == "O" else h5[k][()]).astype(str if h5[k].dtype.kind == "O" else h5[k].dtype)
            for k in h5
            if isinstance(h5[k], h5py.Dataset)
        }


def test_grid_values_equal_solve_and_gradients_equal_finite_differences(tmp_path):
    summary, path = run(SMALL, tmp_path, chunk_size=7)
    assert summary.points == 2 * 3 * 4 * 5 and summary.failed == 0
    data = read_all(path)
    assert data["J_a"].shape == (2, 3, 4, 5)
    assert data["rho_re"].shape == (2, 3, 4, 5, 4, 4)
    delta, beta_b, eps = np.meshgrid(data["delta"], data["beta_b"], data["epsilon"], indexing="ij")
    fixed = dict(omega_a=1.3, T_a=2.0, gamma_a=0.4, gamma_b=0.7)
    for m, coupling in enumerate(("local", "global")):
        model = jaxtherm.qubit_pair(coupling)
        # the same options as the sweep (its gradients): the same compiled program, bitwise
        ref = jaxtherm.solve(model, gradients=("epsilon", "T_a"), delta=delta, beta_b=beta_b, epsilon=eps, **fixed)
        for k in ("J_a", "J_b", "power", "sigma", "n_a", "n_b", "status"):
            np.testing.assert_array_equal(data[k][m], np.asarray(ref[k]), err_msg=k)
        np.testing.assert_array_equal(data["rho_re"][m] + 1j * data["rho_im"][m], np.asarray(ref["rho"]))
        # omega_b = omega_a - delta; the finite differences below use the same compiled program
        # (with gradients: the sweep's code path, so zero currents agree to the last ulp too)
        grads = ("epsilon", "T_a")
        direct = jaxtherm.solve(model, gradients=grads, omega_b=1.3 - delta, beta_b=beta_b, epsilon=eps, **fixed)
        np.testing.assert_allclose(data["J_a"][m], np.asarray(direct["J_a"]), rtol=1e-12)
        for g in ("epsilon", "T_a"):
            h = 1e-5 * (eps if g == "epsilon" else 2.0)  # round-off ~ ε_mach |J| / h
            up = dict(epsilon=eps + h if g == "epsilon" else eps, T_a=2.0 + (h if g == "T_a" else 0))
            dn = dict(epsilon=eps - h if g == "epsilon" else eps, T_a=2.0 - (h if g == "T_a" else 0))
            f = {**fixed}
            del f["T_a"]
            j_up = np.asarray(jaxtherm.solve(model, gradients=grads, omega_b=1.3 - delta, beta_b=beta_b, **f, **up)["J_a"])
            j_dn = np.asarray(jaxtherm.solve(model, gradients=grads, omega_b=1.3 - delta, beta_b=beta_b, **f, **dn)["J_a"])
            fd = (j_up - j_dn) / (2 * h)
            # absolute floor: FD round-off, |δJ| ~ 1e-16 (J ≡ 0 at resonance and T_a = T_b) over 2h
            bad = np.abs(data[f"dJ_a_d{g}"][m] - fd) > 1e-6 * np.abs(fd) + 1e-15 / h
            assert not bad.any(), (g, coupling, data[f"dJ_a_d{g}"][m][bad], fd[bad])


def test_dense_solver_sweep_equals_reduced(tmp_path):
    """``[run] solver = "dense"`` runs the full-Liouvillian reference through the same sweep;
    its currents agree with the default reduced solver on the energy-flow scale (derivatives:
    tests/test_solvers.py compares them for every model)."""
    spec = SMALL.replace('gradients = ["epsilon", "T_a"]\n', "")
    _, a = run(spec, tmp_path, "a.h5")
    _, b = run(spec.replace("[output]", "[run]\nsolver = 'dense'\n[output]"), tmp_path, "b.h5")
    da, db = read_all(a), read_all(b)
    flow = (0.4 + 0.7) * (1.3 + 1.3 + 1.0)
    for k in ("J_a", "J_b", "power", "n_a", "n_b", "rho_re", "rho_im"):
        np.testing.assert_allclose(da[k], db[k], rtol=1e-10, atol=1e-13 * flow, err_msg=k)
    assert (da["status"] == 0).all() and (db["status"] == 0).all()


def on_one_and_two_devices(text: str, tmp_path, chunk_size: int, two: bool = True) -> tuple[dict, dict]:
    """``read_all`` of the sweep ``text`` run by the command line on one device and on two
    (``--cpu-devices``: the CPU split in two), both at XLA's default compiler level, as users'
    sweeps run: with LLVM's optimisations off (the other tests' setting, tests/conftest.py) the
    halves of a chunk round differently from the whole. Checks that the summary says two devices
    where there were two (``two``: where the run asked for two keeps them); a run that does not
    end in two minutes fails (a deadlock)."""
    spec = tmp_path / "two_devices.toml"
    spec.write_text(text)
    for name, n in [("two.h5", 2), ("one.h5", 1)]:
        res = subprocess.run([sys.executable, "-m", "jaxtherm", "run", str(spec), "-o", str(tmp_path / name),
                              "--chunk-size", str(chunk_size), "--cpu-devices", str(n), "-q"], capture_output=True,
                             text=True, env=default_compiler_env(), timeout=120)
        assert res.returncode == 0, res.stderr
        assert ("on 2 devices" in res.stdout) == (n == 2 and two)
    return read_all(tmp_path / "one.h5"), read_all(tmp_path / "two.h5")


def test_sharded_over_two_devices_equals_one_device(tmp_path):
    """With two (host) devices every chunk is split over both; the file is bitwise the same as
    on one device (``on_one_and_two_devices``)."""
    da, db = on_one_and_two_devices(SMALL, tmp_path, 50)
    assert set(da) == set(db) and (da["status"] == 0).all()
    for k in da:
        np.testing.assert_array_equal(da[k], db[k], err_msg=k)


GLOBAL_CHAIN = """
[model]
name = "qubit_chain"
n = 3
coupling = "global"
[parameters]
omega = 1.0
T_c = 0.5
gamma_h = 0.1
gamma_c = 0.1
[axes]
g = { linspace = [0.1, 1.0, 16] }
T_h = { linspace = [0.5, 3.0, 4] }
[output]
gradients = ["g"]
"""


def test_a_kernel_that_calls_lapack_on_two_devices_ends_and_equals_one_device(tmp_path):
    """The global chain's kernel calls LAPACK (the eigenbasis of H, an LU of the sector). With
    jaxlib 0.10.x two devices running it at once deadlocked XLA's CPU thread pool (every
    run of this sweep hung); with those releases such a sweep now runs on one device
    (``jaxtherm.sweep.executor.LocalEngine``). The file is bitwise the one-device file, and
    its currents obey the first law and the second."""
    from jaxtherm.sweep.devices import lapack_blocks_pool

    da, db = on_one_and_two_devices(GLOBAL_CHAIN, tmp_path, 8, two=not lapack_blocks_pool())
    assert set(da) == set(db) and (da["status"] == 0).all()
    for k in da:
        np.testing.assert_array_equal(da[k], db[k], err_msg=k)
    np.testing.assert_allclose(da["J_h"] + da["J_c"], 0.0, atol=1e-12 * np.abs(da["J_h"]).max())
    assert (da["sigma"] >= -1e-14).all() and (da["J_h"][:, 1:] > 0).all()  # T_h > T_c from the second column


def test_a_compiled_lapack_kernel_runs_on_one_device_of_a_split_cpu():
    """``compile_kernel`` of a kernel that calls LAPACK (a chain's LU: the fallback of the staged
    plans, compiled while a sweep shares its chunks) on two CPU devices ends, on inputs split
    over both, and gives the one-device values (the global chain's sweep above deadlocked)."""
    code = ("import jax, numpy as np\nimport jaxtherm\nfrom jaxtherm.kernel.batch import ChunkRunner\n"
            "from jaxtherm.sweep import devices\n"
            "devs = jax.local_devices(); assert len(devs) == 2\n"
            "m = jaxtherm.qubit_chain(3, 'global'); names = tuple(m.parameters)\n"
            "fixed = {'omega': 1.0, 'beta_h': 0.5, 'beta_c': 2.0, 'gamma_h': 0.3, 'gamma_c': 0.3}\n"
            "args = [np.linspace(0.5, 1.5, 64) if n == 'g' else np.full(64, fixed[n]) for n in names]\n"
            "runner = ChunkRunner(m, names, (), np.float64, 'lu', False, False, platform='cpu', devices=2)\n"
            "two = devices.compile_kernel(runner.jitted(), len(names), 64, np.float64, devs)\n"
            "one = devices.compile_kernel(runner.jitted(), len(names), 64, np.float64, devs[:1])\n"
            "for _ in range(20):\n"
            "    a, b = two(*devices.place(args, devs)), one(*devices.place(args, devs[:1]))\n"
            "    for k in ('J_h', 'J_c', 'sigma'):\n"
            "        np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]))\n"
            "j_h, j_c = np.asarray(a['J_h']), np.asarray(a['J_c'])\n"
            "assert (np.asarray(a['status']) == 0).all() and (j_h > 0).all()  # hot to cold\n"
            "np.testing.assert_allclose(j_h + j_c, 0, atol=1e-12 * j_h.max())  # the first law\n")
    root = Path(__file__).resolve().parent.parent
    env = dict(default_compiler_env("--xla_force_host_platform_device_count=2"), PYTHONPATH=str(root))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, timeout=180)
    assert res.returncode == 0, res.stderr


def test_a_sweep_shares_its_chunks_over_a_split_cpu_only_for_a_large_model():
    """``for_sweep``: all of a split CPU's devices for a sector of ``CPU_SHARED_UNKNOWNS`` unknowns
    or more whose points are not chained (Krylov's warm starts), the first otherwise; a count
    asked for is given (at most all); an accelerator's devices all."""
    from jaxtherm.sweep import devices

    class Cpu:
        platform = "cpu"

    class Gpu:
        platform = "gpu"

    cpus, gpus = [Cpu(), Cpu()], [Gpu(), Gpu()]
    big, small = devices.CPU_SHARED_UNKNOWNS, devices.CPU_SHARED_UNKNOWNS - 1
    assert devices.for_sweep(cpus, big) == cpus and devices.for_sweep(cpus, small) == cpus[:1]
    assert devices.for_sweep(cpus, big, chained=True) == cpus[:1]
    assert devices.for_sweep(gpus, small) == gpus and devices.for_sweep(gpus, big, True, requested=1) == gpus
    assert devices.for_sweep(cpus, small, requested=2) == cpus and devices.for_sweep(cpus, big, requested=1) == cpus[:1]
    assert devices.for_sweep(cpus, big, True, requested=8) == cpus
    assert devices.lapack_blocks_pool("0.10.2") and devices.lapack_blocks_pool("0.11.2")
    assert not devices.lapack_blocks_pool("0.9.2") and not devices.lapack_blocks_pool("0.4.30")


def test_chunked_equals_unchunked(tmp_path):
    _, a = run(SMALL, tmp_path, "a.h5", chunk_size=7)
    _, b = run(SMALL, tmp_path, "b.h5", chunk_size=10_000)
    da, db = read_all(a), read_all(b)
    assert da.keys() == db.keys()
    for k in da:  # every observable, gradient, ρ and residual is bitwise identical
        np.testing.assert_array_equal(da[k], db[k], err_msg=k)


CHUNK_SIZES = """
import json, sys
import numpy as np
import jaxtherm
model = jaxtherm.models.get(sys.argv[1], coupling="global")
rng = np.random.default_rng(0)
p = {k: rng.uniform(0.5, 1.5, 256) for k in model.parameters}
whole = jaxtherm.solve(model, rho=False, gradients=[sys.argv[2]], **p)
parts = [jaxtherm.solve(model, rho=False, gradients=[sys.argv[2]], **{k: v[i:i + 64] for k, v in p.items()})
         for i in range(0, 256, 64)]
print(json.dumps([k for k in whole if not np.array_equal(
    np.asarray(whole[k]), np.concatenate([np.asarray(x[k]) for x in parts]), equal_nan=True)]))
"""


@pytest.mark.xfail(strict=True, reason="found 2026-12-07, not fixed: XLA's CPU compiler hands a dot or a reduction "
                   "to YNNPACK depending on its size, so a 256-point chunk of the global pair with tangents rounds "
                   "differently from 64-point ones (up to ~5e-11 relative in J_a); docs/design.md §3.2")
def test_a_global_model_with_tangents_gives_the_same_bits_in_any_chunk_size():
    """``solve`` of 256 points at once and in four chunks of 64 (two compiled sizes), at XLA's
    defaults as users run (``test_chunked_equals_unchunked`` above compiles one size only): the
    global pair with ``∂/∂ε``. The 256-point program has ``__ynn_fusion`` reductions that the
    64-point one has not; compiled with ``xla_cpu_experimental_ynn_fusion_type=""`` (no YNNPACK)
    this test passes, but that option made global and Redfield kernels 10–21 % slower and the
    3-qubit global chain's kernel hang (``docs/design.md`` §3.2)."""
    res = subprocess.run([sys.executable, "-c", CHUNK_SIZES, "qubit_pair", "epsilon"], capture_output=True, text=True,
                         env=default_compiler_env(), timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]", res.stdout


def test_file_opens_in_xarray_and_explains_itself(tmp_path):
    xr = pytest.importorskip("xarray")
    _, path = run(SMALL, tmp_path)
    ds = xr.open_dataset(path, engine="h5netcdf")
    assert list(ds.J_a.dims) == ["coupling", "delta", "beta_b", "epsilon"]
    assert list(ds.coupling.values) == ["local", "global"]
    np.testing.assert_allclose(ds.epsilon.values, np.logspace(-2, 0, 5))
    assert ds.J_a.attrs["units"] == "energy/time" and "heat current" in ds.J_a.attrs["description"]
    assert "omega_a - delta" in ds.delta.attrs["description"]
    assert float(ds.omega_a) == 1.3
    assert ds.attrs["spec"] == SMALL and ds.attrs["complete"] == 1 and ds.attrs["n_failed"] == 0
    assert ds.attrs["precision"] == "float64"
    # the spec stored in the file reproduces the run
    _, again = run(ds.attrs["spec"], tmp_path, "again.h5")
    ds2 = xr.open_dataset(again, engine="h5netcdf")
    np.testing.assert_array_equal(ds2.sigma.values, ds.sigma.values)


def test_existing_file_needs_force_and_second_writer_is_refused(tmp_path):
    _, path = run(SMALL, tmp_path)
    with pytest.raises(RunRefused, match="already holds a complete sweep; use --force"):
        run(SMALL, tmp_path)
    run(SMALL, tmp_path, force=True)
    with open(tmp_path / "out.h5.lock", "a+") as fh:  # another writer holds the lock
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(RunRefused, match="being written by another jaxtherm run"):
            run(SMALL, tmp_path, force=True)


RESUME_SPEC = """
[model]
coupling = "local"
[parameters]
omega_a = 1.0
omega_b = 1.2
beta_a = 0.5
gamma_a = 0.3
gamma_b = 0.6
[axes]
beta_b = { linspace = [0.2, 3.0, 400] }
epsilon = { logspace = [-3, 0, 500] }
[output]
gradients = ["epsilon"]
"""


def test_resume_after_sigkill_equals_uninterrupted(tmp_path):
    spec_path = tmp_path / "resume.toml"
    spec_path.write_text(RESUME_SPEC)
    out = tmp_path / "killed.h5"
    cmd = [sys.executable, "-m", "jaxtherm", "run", str(spec_path), "-o", str(out), "--chunk-size", "2000", "-q"]
    proc = subprocess.Popen(cmd)
    jdir = journal.journal_dir(out)
    deadline = time.time() + 120
    while time.time() < deadline and finished_chunks(out) < 5:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    n_finished = finished_chunks(out)
    assert 5 <= n_finished < 100, "the run must be killed midway"
    # without --resume the unfinished file is not touched
    refused = subprocess.run(cmd, capture_output=True, text=True)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    done = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"{n_finished} chunk(s) kept from the interrupted run" in done.stdout
    assert not jdir.exists()
    ref = tmp_path / "ref.h5"
    subprocess.run([*cmd[:6], str(ref), *cmd[7:]], check=True)
    a, b = read_all(out), read_all(ref)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].tobytes() == b[k].tobytes(), k  # bitwise identical
    with h5py.File(out) as h5:
        assert h5.attrs["complete"] == 1 and h5.attrs["resumed_chunks"] >= 5


@pytest.mark.parametrize("earlier_version", [False, True], ids=["journal", "npz-journal"])
def test_resume_rebuilds_a_broken_file_from_the_journal(tmp_path, earlier_version):
    """Also from a journal of an earlier version (one ``.npz`` a chunk)."""
    spec = parse_spec(SMALL, "test.toml")
    out = tmp_path / "out.h5"
    run_sweep(spec, output=tmp_path / "ref.h5", progress=False, chunk_size=7)
    # simulate a crash: a journal with some chunks and an HDF5 file that will not open
    run_sweep(spec, output=out, progress=False, chunk_size=7)
    reference = read_all(out)
    out.unlink()
    meta = {"spec": SMALL, "source": "test.toml", "chunk_size": 7, "n_chunks": 18, "start_time": "x"}
    journal.create(out, meta)

    with h5py.File(tmp_path / "ref.h5") as h5:
        flat = {k: h5[k][()].reshape(2, 60, *h5[k].shape[4:])[0, :7] for k in h5 if k in reference and h5[k].ndim >= 4}
    if earlier_version:
        np.savez(journal.journal_dir(out) / "chunk_000000000.npz", **flat)
    else:
        journal.write_chunk(out, 0, flat)
    assert journal.count(out) == 1
    out.write_bytes(b"\x89HDF\r\n garbage: truncated file")
    run_sweep(spec, output=out, progress=False, resume=True)
    data = read_all(out)
    for k in reference:
        assert data[k].tobytes() == reference[k].tobytes(), k
    with h5py.File(out) as h5:
        assert h5.attrs["resumed_chunks"] == 1  # the journaled chunk was read, not recomputed


@pytest.mark.parametrize(
    "text, key, expected",
    [
        ("[modle]\ncoupling='local'", "modle", "unknown section"),
        ("[model]\ncoupling='local'\nflavour=1", "model.flavour", "takes no option 'flavour'"),
        ("[model]\nname='spin_chain'\ncoupling='local'", "model.name", "available: qubit_pair"),
        ("[model]\ncoupling='nonlocal'", "model.coupling", "one of incoherent, local, global"),
        ("[model]\ncoupling='local'\n[parameters]\nomega_a=1\nomega_b=1\nbeta_a=1\nbeta_b=1\ngamma_a=1\ngamma_b=1",
         "parameters", "missing parameter 'epsilon'"),
        ("[model]\ncoupling='local'\n[parameters]\nepsilon=1\n[axes]\nepsilon={values=[1,2]}", "axes.epsilon",
         "either fixed or an axis"),
        ("[model]\ncoupling='local'\n[axes]\nepsilon={linspace=[0,1]}", "axes.epsilon.linspace", "[start, stop, num]"),
        ("[model]\ncoupling='local'\n[axes]\nepsilon={range=[0,1,2]}", "axes.epsilon", "exactly one of linspace"),
        ("[model]\ncoupling='local'\n[parameters]\nomega_c=1", "parameters.omega_c", "unknown parameter"),
        ("[model]\ncoupling='local'\n[parameters]\nT_a=1\nbeta_a=1", "parameters", "given twice"),
        ("[model]\ncoupling='local'\n[parameters]\nomega_a=1\nomega_b=1\nbeta_a=1\nbeta_b=1\ngamma_a=1\ngamma_b=1\n"
         "epsilon=1\n[output]\ngradients=['T_a']", "output.gradients", "'T_a' is not a parameter of this sweep"),
        ("[model\ncoupling='local'", "", "is not valid TOML"),
        ("[model]\ncoupling='local'\n[parameters]\nomega_a=1\nomega_b=1\nbeta_a=1\nbeta_b=1\ngamma_a=1\ngamma_b=1\n"
         "epsilon=1\n[run]\nsolver='gauss'", "run.solver", "expected one of auto, reduced, dense, lu, unrolled, static_pivots, staged"),
        ("[model]\ncoupling='global'\n[parameters]\nomega_a=1\nomega_b=1\nbeta_a=1\nbeta_b=1\ngamma_a=1\ngamma_b=1\n"
         "epsilon=1\n[run]\nsolver='staged'", "run.solver", "needs a Liouvillian assembled from constant operators"),
    ],
)
def test_bad_spec_names_file_key_and_expectation(text, key, expected):
    with pytest.raises(SpecError) as err:
        resolve(parse_spec(text, "bad.toml", default_output="results/bad.h5"))
    assert err.value.key == key
    assert str(err.value).startswith("bad.toml: ")
    assert expected in str(err.value)


FULL = "[model]\ncoupling='local'\n[parameters]\nomega_a=1\nomega_b=1\nbeta_a=1\nbeta_b=1\ngamma_a=1\ngamma_b=1\nepsilon=1\n"


def test_cli_bad_spec_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\ncoupling='nonlocal'\n")
    res = subprocess.run([sys.executable, "-m", "jaxtherm", "run", str(bad)], capture_output=True, text=True)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert str(bad) in res.stderr and "model.coupling" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_cli_unwritable_output_path(tmp_path, capsys):
    spec = tmp_path / "ok.toml"
    spec.write_text(FULL + "[output]\npath='/proc/forbidden/x.h5'\n")
    assert cli.main(["run", str(spec), "-q"]) == 2
    err = capsys.readouterr().err
    assert "output.path" in err and "writable" in err
    assert cli.main(["run", str(spec), "-q", "-o", "/proc/forbidden/y.h5"]) == 2
    assert "'-o'" in capsys.readouterr().err


def test_cli_runs_a_point_sweep_and_missing_spec_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "one.toml"
    spec.write_text(FULL)
    assert cli.main(["run", str(spec), "-q"]) == 0
    assert "1 points" in capsys.readouterr().out
    with h5py.File(tmp_path / "results" / "one.h5") as h5:
        assert h5["J_a"].shape == () and h5["status"][()] == 0
    assert cli.main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml: no such spec file" in capsys.readouterr().err
    assert cli.main(["run", "quickstrat"]) == 2  # a misspelt bundled name gets the close one
    assert "did you mean 'quickstart'?" in capsys.readouterr().err


def test_bundled_sweeps_are_valid():
    sweeps = cli.bundled_sweeps()
    assert {"quickstart", "second_law", "engine_fridge", "refrigerator", "chain", "oscillators"} <= set(sweeps)
    for path in sweeps.values():
        spec = load_spec(path)
        assert spec.n_points <= 20_000  # each runs in seconds
        resolve(spec)  # its models exist and take its parameters


def test_grid_regions_cover_flat_ranges():
    rng = np.random.default_rng(0)
    for _ in range(500):
        shape = tuple(int(n) for n in rng.integers(1, 6, rng.integers(1, 5)))
        n = int(np.prod(shape))
        a = int(rng.integers(0, n))
        b = int(rng.integers(a, n + 1))
        arr = np.full(shape, -1)
        for box, part in grid_regions(shape, a, b):
            arr[box] = np.arange(a, b)[part].reshape(arr[box].shape)
        ref = np.full(n, -1)
        ref[a:b] = np.arange(a, b)
        np.testing.assert_array_equal(arr.ravel(), ref)
        assert len(grid_regions(shape, a, b)) <= 2 * len(shape) - 1 or len(shape) == 1



def check_chunk_inputs(where: str, dtype, devs: list) -> None:
    """``devices.HostInputs`` or ``DeviceInputs`` on ``devs`` against NumPy's ``unravel_index``:
    a chunk's inputs are the grid's points ``[start, stop)`` in the visiting order (C order over
    the axes as given), every fixed parameter at its value, and the last point repeated up to
    the compiled size; on several devices each array is split over all of them."""
    from jaxtherm.sweep.devices import DeviceInputs, HostInputs
    from jaxtherm.sweep.spec import Axis

    rng = np.random.default_rng(3)
    axes = [Axis(n, rng.uniform(0.1, 2.0, k), "") for n, k in (("T_b", 3), ("epsilon", 5), ("omega_b", 7))]
    names = ("omega_a", "omega_b", "T_a", "T_b", "gamma_a", "gamma_b", "epsilon")
    fixed = {"omega_a": 1.1, "T_a": 0.7, "gamma_a": 0.01, "gamma_b": 0.1 / 3}
    for order in ((0, 1, 2), (0, 2, 1), (1, 0, 2)):  # the spec's order, and a reduction's (kept, then over)
        visited = [axes[k] for k in order]
        make = {"host": HostInputs, "device": DeviceInputs}[where](visited, fixed, names, 64, dtype, devs)
        shape = tuple(len(a.values) for a in visited)
        for start, stop in ((0, 64), (40, 105), (100, 105)):
            flat = np.minimum(np.arange(start, start + 64), stop - 1)
            idx = dict(zip((a.name for a in visited), np.unravel_index(flat, shape)))
            got = make(start, stop)
            for name, values in zip(names, got):
                a = next((a for a in visited if a.name == name), None)
                want = a.values[idx[name]] if a is not None else np.full(64, fixed[name])
                assert values.dtype == dtype and values.shape == (64,)
                assert values.sharding.device_set == set(devs), (where, name)
                np.testing.assert_array_equal(np.asarray(values), want.astype(dtype), err_msg=(order, start, name))


@pytest.mark.parametrize("where", ["host", "device"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_chunk_inputs_equal_the_grid_to_the_bit(dtype, where):
    """A chunk's inputs, made on the host (``devices.HostInputs``, a CPU's) or on the device
    (``devices.DeviceInputs``, an accelerator's, run here on the CPU), against NumPy
    (``check_chunk_inputs``)."""
    check_chunk_inputs(where, dtype, jax.local_devices()[:1])


def test_chunk_inputs_on_two_devices_equal_the_grid_to_the_bit():
    """The same on two (host) devices, each chunk's arrays split over both, for both makers."""
    code = ("import jax, numpy as np\nfrom tests.test_sweep import check_chunk_inputs\n"
            "assert len(jax.local_devices()) == 2\n"
            "for where in ('host', 'device'):\n"
            "    for dtype in (np.float64, np.float32):\n"
            "        check_chunk_inputs(where, dtype, jax.local_devices())\n")
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root),
               XLA_FLAGS=os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root)
    assert res.returncode == 0, res.stderr


DEAD = """
[model]
coupling = "incoherent"
[parameters]
omega_a = 1.0
omega_b = 1.0
beta_a = 0.5
beta_b = 1.0
[axes]
gamma_a = { values = [0.0, 0.5] }
gamma_b = { values = [0.0, 0.7] }
epsilon = { values = [0.0, 0.1, 0.2] }
"""


def test_unsolvable_points_are_flagged_and_counted(tmp_path):
    """All rates and ε zero: no unique steady state. The sweep flags it and counts it."""
    summary, path = run(DEAD, tmp_path, chunk_size=5)
    with h5py.File(path) as h5:
        status = h5["status"][()]
        assert status[0, 0, 0] == jaxtherm.STATUS_SINGULAR and np.isnan(h5["J_a"][0, 0, 0])
        assert np.isfinite(h5["J_a"][1, 1, :]).all()
        n_bad = int(np.count_nonzero(status))
        assert n_bad >= 1 and h5.attrs["n_failed"] == n_bad == summary.failed
    # counted too when the failures come back from the journal on --resume
    spec = parse_spec(DEAD, "test.toml", default_output="results/test.h5")
    out = tmp_path / "resumed.h5"
    journal.create(out, {"spec": DEAD, "source": "test.toml", "chunk_size": 5, "n_chunks": 3, "start_time": "x"})
    with h5py.File(path) as h5:
        first = {k: h5[k][()].reshape(-1)[:5] for k in h5 if isinstance(h5[k], h5py.Dataset) and h5[k].ndim == 3}
    journal.write_chunk(out, 0, first)
    resumed = run_sweep(spec, output=out, progress=False, resume=True)
    assert resumed.resumed_chunks == 1 and resumed.failed == n_bad


def test_resume_with_another_solver_is_refused(tmp_path):
    """A file holds one kind of result: the journal records the solver, and --resume with the
    other one is refused (exit 2 from the CLI)."""
    spec = parse_spec(SMALL, "test.toml")
    out = tmp_path / "out.h5"
    meta = {"spec": SMALL, "source": "test.toml", "chunk_size": 7, "n_chunks": 18, "start_time": "x",
            "solver": "reduced"}
    journal.create(out, meta)
    with pytest.raises(RunRefused, match="started with --solver reduced"):
        run_sweep(spec, output=out, progress=False, resume=True, solver="dense")
    run_sweep(spec, output=out, progress=False, resume=True)  # the same solver completes it
    assert (read_all(out)["status"] == 0).all()


def test_a_sweep_begun_by_the_krylov_before_warm_starts_resumes_as_the_same_solver(tmp_path):
    """``solver = "krylov"`` recorded before warm starts (its repr had no ``warm_start``) is the
    same GMRES to the same tolerance: the journal's check accepts today's ``"krylov"`` for it,
    and still refuses another solver."""
    from jaxtherm.sweep import resume

    spec = parse_spec(SMALL, "test.toml")
    old = ("Reduced(max_unrolled=10, max_sparse=1000, max_staged=3000000, eigenbasis=True, elimination=Krylov("
           "tol=1e-11, restart=60, maxiter=20, probe=True, probe_tol=1e-06, dim=0, keep=()), min_krylov=1000)")
    meta = {"spec": SMALL, "source": "test.toml", "chunk_size": 7, "solver": old}
    krylov = jaxtherm.solvers.identity(jaxtherm.solvers.get("krylov"))
    assert "warm_start=True" in repr(jaxtherm.solvers.get("krylov"))
    assert krylov == resume.recorded_solver(old) == "krylov(tol=1e-11, probe=True, probe_tol=1e-06)"
    resume._check_journal(tmp_path / "out.h5", meta, spec, krylov, None, "its journal")
    with pytest.raises(RunRefused, match="started with --solver krylov"):
        resume._check_journal(tmp_path / "out.h5", meta, spec, jaxtherm.solvers.identity(jaxtherm.solvers.get("lu")),
                              None, "its journal")


@pytest.mark.parametrize("recorded, identity", [
    ("reduced", "reduced"),  # jaxtherm 0.2: the bare name
    ("dense", "dense"),
    ("Dense()", "dense"),
    ("Reduced(max_unrolled=10, eigenbasis=True)", "reduced"),  # before max_sparse
    ("Reduced(max_unrolled=10, max_sparse=1000, max_staged=3000000, eigenbasis=True, elimination=None, "
     "min_krylov=1000)", "reduced"),
    ("Reduced(max_unrolled=4, max_sparse=0, max_staged=3000000, eigenbasis=False, elimination=None, "
     "min_krylov=1000)", "reduced"),  # limits choose among eliminations that agree: one kind of result
    ("Reduced(max_unrolled=10, max_sparse=1000, max_staged=3000000, eigenbasis=True, elimination=LU(), "
     "min_krylov=1000)", "lu"),
    ("Reduced(max_unrolled=10, max_sparse=1000, max_staged=3000000, eigenbasis=True, elimination=Krylov("
     "tol=1e-08, restart=60, maxiter=20, probe=True, probe_tol=1e-06, warm_start=False, dim=0, keep=()), "
     "min_krylov=1000)", "krylov(tol=1e-08, probe=True, probe_tol=1e-06)"),
    ("krylov(tol=1e-08, probe=True, probe_tol=1e-06)", "krylov(tol=1e-08, probe=True, probe_tol=1e-06)"),  # today's
    ("Reduced(max_unrolled=10, max_sparse=1000, max_staged=3000000, eigenbasis=True, elimination=Krylov("
     "tol=np.float64(1e-08), restart=60.0, maxiter=20, probe=np.True_, probe_tol=1e-06, warm_start=True, dim=0, "
     "keep=()), min_krylov=1000)", "krylov(tol=1e-08, probe=True, probe_tol=1e-06)"),  # NumPy scalars as given
    ("Reduced(max_unrolled=10, eigenbasis=True, elimination=Krylov(tol=1, probe=True))",
     "krylov(tol=1.0, probe=True, probe_tol=1e-06)"),
    ("krylov(tol=np.float64(1e-08), probe=True, probe_tol=1e-06)",  # an identity with a NumPy scalar (b2f7d95)
     "krylov(tol=1e-08, probe=True, probe_tol=1e-06)"),
    ("Reduced(max_unrolled=10, eigenbasis=True, elimination=Krylov(tol=np.float32(1e-06)))",
     "krylov(tol=9.999999974752427e-07, probe=True, probe_tol=1e-06)"),  # the float32 it stored
    (None, "None"),  # a damaged journal's record: no solver of today's
    ("krylov(restart=np.int8(300))", "krylov(restart=np.int8(300))"),  # damaged records read, never raise
    ("krylov(tol=1" + "0" * 400 + ")", "krylov(tol=1" + "0" * 400 + ", probe=True, probe_tol=1e-06)"),
])
def test_a_recorded_solver_reads_as_the_identity_it_stands_for(recorded, identity):
    """Journals hold the bare names (0.2), the solver's repr (0.3 on) or its identity (today):
    each reads as today's ``jaxtherm.solvers.identity``, the limits and the warm start left out
    and the tolerances kept by value; an identity is what today's solvers give."""
    from jaxtherm.sweep import resume

    assert resume.recorded_solver(recorded) == identity
    made = {"reduced": jaxtherm.solvers.Reduced(max_unrolled=4, eigenbasis=False), "dense": jaxtherm.solvers.Dense(),
            "lu": jaxtherm.solvers.get("lu"),
            "krylov(tol=1e-08, probe=True, probe_tol=1e-06)": jaxtherm.solvers.Reduced(
                elimination=jaxtherm.solvers.Krylov(tol=1e-8, warm_start=False, restart=30))}
    if identity in made:
        assert jaxtherm.solvers.identity(made[identity]) == identity


def test_krylov_settings_are_validated_and_recorded_as_python_numbers():
    """``Krylov`` stores its settings as Python numbers (a NumPy scalar's repr would record
    another identity for the same tolerance) and refuses settings that cannot be, naming them."""
    given = jaxtherm.solvers.Krylov(tol=np.float64(1e-8), restart=np.int64(30), probe=np.True_)
    assert jaxtherm.solvers.identity(jaxtherm.solvers.Reduced(elimination=given)) == \
        "krylov(tol=1e-08, probe=True, probe_tol=1e-06)"
    single = jaxtherm.solvers.Reduced(elimination=jaxtherm.solvers.Krylov(tol=np.float32(1e-6)))
    assert jaxtherm.solvers.identity(single) == "krylov(tol=9.999999974752427e-07, probe=True, probe_tol=1e-06)"
    assert type(given.tol) is float and type(given.restart) is int and type(given.probe) is bool
    for bad, field in [(dict(tol=0.0), "tol"), (dict(tol=float("nan")), "tol"), (dict(probe_tol=-1e-6), "probe_tol"),
                       (dict(restart=0), "restart"), (dict(maxiter=2.5), "maxiter"), (dict(probe="yes"), "probe"),
                       (dict(tol="1e-8"), "tol")]:
        with pytest.raises(ValueError, match=f"Krylov: {field} must be"):
            jaxtherm.solvers.Krylov(**bad)


def test_a_users_elimination_and_a_moved_tolerance_are_other_solvers():
    """A subclass of a built-in elimination is recorded by its class's name, never as the
    built-in; a Krylov file written at one tolerance does not resume at another, whatever the
    defaults of the version that wrote it."""
    from jaxtherm.sweep import resume

    class MyLU(jaxtherm.solvers.LU):
        pass

    assert jaxtherm.solvers.identity(jaxtherm.solvers.Reduced(elimination=MyLU())) == "MyLU"
    assert resume.recorded_solver("Reduced(max_unrolled=10, eigenbasis=True, elimination=MyLU())") == "MyLU"
    assert jaxtherm.solvers.identity(jaxtherm.solvers.get("lu")) == "lu"
    written = resume.recorded_solver("Reduced(max_unrolled=10, max_sparse=1000, max_staged=3000000, eigenbasis=True, "
                                     "elimination=Krylov(tol=1e-11, restart=60, maxiter=20, probe=True, "
                                     "probe_tol=1e-06, dim=0, keep=()), min_krylov=1000)")
    looser = jaxtherm.solvers.identity(jaxtherm.solvers.Reduced(elimination=jaxtherm.solvers.Krylov(tol=1e-8)))
    assert written != looser
