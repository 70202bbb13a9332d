"""Sweeps on a Dask cluster (``--cluster``): equal to the single-process run bitwise, through a
killed worker, a killed client and a chunk that keeps killing workers; bad clusters exit 2."""

import os
import shutil
import signal
import subprocess
import sys
import time

import dask
import distributed
import psutil
import pytest

from jaxtherm.io import journal
from jaxtherm.sweep import parse_spec, run_sweep
from jaxtherm.sweep.cluster import ClusterError, cluster_address

from .helpers import finished_chunks
from .test_results import wait_for_chunks
from .test_sweep import read_all

# two models (a categorical option), gradients: 80 chunks of 50 points
MULTI = """
[model]
name = "qubit_pair"
coupling = ["incoherent", "local"]
[parameters]
omega_a = 1.0
T_a = 2.0
T_b = 0.5
gamma_a = 0.1
gamma_b = 0.3
[axes]
epsilon = { linspace = [0.01, 0.4, 40] }
delta = { linspace = [-0.5, 0.5, 50] }
[output]
gradients = ["epsilon", "T_b"]
"""
# long enough to kill something mid-run: 500 chunks of 40 points (the local pair)
LONG = """
[model]
name = "qubit_pair"
coupling = "local"
[parameters]
omega_a = 1.0
T_a = 2.0
gamma_a = 0.1
gamma_b = 0.1
epsilon = 0.05
[axes]
T_b = { linspace = [0.2, 2.0, 100] }
delta = { linspace = [-0.5, 0.5, 200] }
[output]
gradients = ["delta"]
"""


def assert_same(a, b):
    """Every dataset of two results files equal, bitwise (observables, gradients, status, ρ)."""
    a, b = read_all(a), read_all(b)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].tobytes() == b[k].tobytes(), k


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "long.h5"
    run_sweep(parse_spec(LONG, "long.toml"), output=path, chunk_size=40, progress=False)
    return path


def test_local_cluster_equals_single_process_bitwise(tmp_path):
    spec = parse_spec(MULTI, "multi.toml")
    single = run_sweep(spec, output=tmp_path / "single.h5", chunk_size=50, progress=False)
    cluster = run_sweep(spec, output=tmp_path / "cluster.h5", chunk_size=50, progress=False, cluster="local:2")
    assert "Dask cluster of 2 worker(s)" in cluster.where and single.where == ""
    assert cluster.computed == single.computed == 4000 and cluster.failed == single.failed == 0
    assert_same(tmp_path / "single.h5", tmp_path / "cluster.h5")


def _workers(pid):
    """The Dask worker processes a client process started (multiprocessing spawn children)."""
    return [p for p in psutil.Process(pid).children(recursive=True)
            if any("spawn_main" in part for part in p.cmdline())]


def _start(tmp_path, out, cluster="local:2"):
    spec = tmp_path / "long.toml"
    spec.write_text(LONG)
    cmd = [sys.executable, "-m", "jaxtherm", "run", str(spec), "-o", str(out), "--chunk-size", "40", "-q",
           "--cluster", cluster]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def test_a_killed_worker_changes_nothing(tmp_path, long_reference):
    out = tmp_path / "out.h5"
    proc = _start(tmp_path, out)
    try:
        wait_for_chunks(out, 3, proc, timeout=180)
        workers = _workers(proc.pid)
        assert len(workers) == 2
        workers[0].send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    assert not journal.journal_dir(out).exists()
    assert_same(long_reference, out)


def test_a_killed_client_takes_its_workers_and_resumes_with_or_without_a_cluster(tmp_path, long_reference):
    out = tmp_path / "out.h5"
    proc = _start(tmp_path, out)
    try:
        wait_for_chunks(out, 3, proc, timeout=180)
        workers = _workers(proc.pid)
        proc.send_signal(signal.SIGKILL)  # the client alone: its workers must not outlive it
        proc.wait(timeout=30)
        gone, alive = psutil.wait_procs(workers, timeout=30)
        assert not alive, "Dask workers outlived their client"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    done = finished_chunks(out)
    assert 3 <= done < 500
    copy = tmp_path / "copy.h5"  # the same killed run twice: resumed in one process, and on a cluster
    shutil.copytree(journal.journal_dir(out), journal.journal_dir(copy))
    if out.exists():
        shutil.copy(out, copy)
    alone = run_sweep(parse_spec(LONG, "long.toml"), output=out, resume=True, progress=False)
    on_cluster = run_sweep(parse_spec(LONG, "long.toml"), output=copy, resume=True, progress=False, cluster="local:2")
    assert alone.resumed_chunks == on_cluster.resumed_chunks == done
    assert alone.computed == on_cluster.computed == 20000 - 40 * done
    assert_same(long_reference, out)
    assert_same(long_reference, copy)


class CrashOnChunk(distributed.WorkerPlugin):
    """Kills the worker process whenever it starts executing chunk 3."""

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and str(key).startswith("jaxtherm-chunk-3-"):
            os._exit(1)


def test_a_chunk_that_keeps_killing_workers_fails_the_run_naming_it(tmp_path):
    spec = parse_spec(MULTI, "multi.toml")
    # one task per worker at a time: Dask blames every task a dying worker holds, so with the
    # default saturation (2 tasks for 1 thread) an innocent chunk beside chunk 3 can be named
    with dask.config.set({"distributed.scheduler.allowed-failures": 1, "distributed.scheduler.worker-saturation": 1.0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as lc, \
            distributed.Client(lc) as client:
        client.register_plugin(CrashOnChunk())
        t = time.time()
        with pytest.raises(ClusterError, match=r"chunk 3 \(points 150–199 of model 0\) killed every worker"):
            run_sweep(spec, output=tmp_path / "out.h5", chunk_size=50, progress=False, cluster=client)
        assert time.time() - t < 240
    assert 0 < finished_chunks(tmp_path / "out.h5") < 80  # finished chunks are kept for --resume


@pytest.mark.parametrize("value", ["local", "local:0", "local:two", "127.0.0.1:8786", "slurm"])
def test_malformed_cluster_values_are_refused_before_anything_starts(value, tmp_path):
    with pytest.raises(ClusterError, match="expected local:N"):
        cluster_address(value)
    proc = subprocess.run([sys.executable, "-m", "jaxtherm", "run", "quickstart", "-o", str(tmp_path / "q.h5"),
                           "--cluster", value], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"--cluster {value!r}: expected local:N" in proc.stderr
    assert not (tmp_path / "q.h5").exists()


def test_an_unreachable_scheduler_exits_2_in_bounded_time_and_force_keeps_the_file(tmp_path):
    out = tmp_path / "q.h5"
    run_sweep(parse_spec(MULTI, "multi.toml"), output=out, chunk_size=2000, progress=False)
    before = out.read_bytes()
    t = time.time()
    proc = subprocess.run([sys.executable, "-m", "jaxtherm", "run", "quickstart", "-o", str(out), "--force",
                           "--cluster", "tcp://127.0.0.1:9"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "no Dask scheduler answered" in proc.stderr and "tcp://127.0.0.1:9" in proc.stderr
    assert time.time() - t < 60
    assert out.read_bytes() == before  # --force deletes nothing for a run that cannot start
