"""``jaxtherm run --cluster local:2`` against the single-process run on this machine, the cost of
a chunk's trip through Dask, and what N machines would give.

For each sweep (the local qubit pair, cheap points where per-chunk costs show; the XX chain of
4 qubits, expensive points) it measures, in one process, with the same chunk size:

* **single**: the single-process run (``jaxtherm run SPEC``), points/s of the sweep loop;
* **cluster, cold**: ``run_sweep(spec, cluster=client)`` on a fresh ``LocalCluster`` of 2 worker
  processes (one thread each): the workers compile inside the loop;
* **cluster, warm**: the same again on the same workers (kernels cached): the steady state;
* **kernel / chunk**: one chunk computed on this process's devices (compiled, on the host);
* **write / chunk**: the client's journal + HDF5 write of one chunk, from a run whose engine
  replays one computed chunk (nothing computed: the writer alone);
* **Dask trip / chunk**: a task returning a chunk's outputs (same arrays, nothing computed),
  submitted and gathered as the sweep does: the scheduling and transfer cost per chunk.

Model of N machines like this one, each running its workers as ``local:2`` does here (the
client journals and writes every chunk, one at a time)::

    points/s(N) ≈ min( N · R_warm,  C / (t_write + t_trip) )

with ``R_warm`` the warm ``local:2`` rate measured here and C the chunk size. The second term is
the client's ceiling: beyond it more machines do not help, larger chunks do.

Usage::

    python benchmarks/bench_cluster.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time

import numpy as np

PAIR = """
[model]
name = "qubit_pair"
coupling = "local"
[parameters]
omega_a = 1.0
gamma_a = 0.1
gamma_b = 0.1
T_a = 2.0
[axes]
T_b = { linspace = [0.2, 3.0, 20] }
epsilon = { logspace = [-3, 0, 200] }
delta = { linspace = [-0.5, 0.5, 200] }
"""
CHAIN = """
[model]
name = "qubit_chain"
n = 4
coupling = "local"
[parameters]
omega = 1.0
T_h = 2.0
T_c = 0.5
gamma_h = 0.1
[axes]
gamma_c = { linspace = [0.05, 0.5, 40] }
g = { logspace = [-3, 0.5, 500] }
"""
ROWS = [("local pair, 8e5 points", PAIR, 16384), ("XX chain n=4, 2e4 points", CHAIN, 2000)]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _outputs_like(host: dict) -> dict:
    """Zeros shaped like a chunk's outputs: the payload of a Dask trip that computes nothing."""
    return {k: np.zeros_like(v) for k, v in host.items()}


def measure(label: str, text: str, chunk: int, tmp: str, client) -> dict:
    from jaxtherm.sweep import parse_spec, resolve, run_sweep
    from jaxtherm.sweep import run as run_module
    from jaxtherm.sweep.executor import LocalEngine
    from jaxtherm.sweep.grid import chunks

    spec = parse_spec(text, "bench.toml")
    out = os.path.join(tmp, "bench.h5")
    r = {"label": label, "chunk": chunk, "points": spec.n_points}
    single = run_sweep(spec, output=out, force=True, progress=False, chunk_size=chunk)
    r["single"] = single.points_per_second
    cold = run_sweep(spec, output=out, force=True, progress=False, chunk_size=chunk, cluster=client)
    r["cluster_cold"] = cold.points / (cold.sweep_seconds or float("nan"))
    warm = run_sweep(spec, output=out, force=True, progress=False, chunk_size=chunk, cluster=client)
    r["cluster_warm"] = warm.points_per_second

    # kernel per chunk, on this process's devices (compiled already by the single run's cache)
    engine = LocalEngine(resolve(spec), spec.solver, None)
    engine.prepare(chunk)
    todo = chunks(spec, chunk)[:8]
    host = engine.host(todo[0], engine.dispatch(todo[0]))
    t = time.perf_counter()
    for c in todo:
        engine.host(c, engine.dispatch(c))
    r["kernel_s"] = (time.perf_counter() - t) / len(todo)

    # the writer alone: an engine that replays one computed chunk
    class Replay(LocalEngine):
        def run(self, todo, finish):
            for c in todo:
                finish(c, {k: v[: c.size] for k, v in host.items()})

    original = run_module._engine
    run_module._engine = lambda study, solver, device, cluster: Replay(study, solver, device)
    try:
        replay = run_sweep(spec, output=out, force=True, progress=False, chunk_size=chunk)
    finally:
        run_module._engine = original
    n_chunks = len(chunks(spec, chunk))
    r["write_s"] = replay.sweep_seconds / n_chunks

    # a chunk's trip through Dask: submit, compute nothing, send the outputs back, gather
    from distributed import as_completed

    payload = _outputs_like(host)
    n = 200
    t = time.perf_counter()
    futures = [client.submit(_outputs_like, payload, pure=False) for _ in range(n)]
    for f in as_completed(futures):
        f.result()
        f.release()
    r["trip_s"] = (time.perf_counter() - t) / n
    r["client_peak_mb"] = _peak_mb()
    r["worker_peak_mb"] = max(client.run(_peak_mb).values())
    return r


def model(r: dict, machines: int) -> float:
    """Points/s of N machines like this one (module docstring), from one row's measurements."""
    return min(machines * r["cluster_warm"], r["chunk"] / (r["write_s"] + r["trip_s"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    import jax
    from distributed import Client, LocalCluster

    import jaxtherm  # noqa: F401  (float64)

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{len(jax.devices())} JAX device(s) [{jax.devices()[0].platform}], jax {jax.__version__}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp, \
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as lc, Client(lc) as client:
        for label, text, chunk in ROWS:
            r = measure(label, text, chunk, tmp, client)
            rows.append(r)
            print(f"{label}: chunks of {chunk:,}\n"
                  f"  single process      {r['single']:>12,.0f} points/s\n"
                  f"  local:2, cold       {r['cluster_cold']:>12,.0f} points/s (workers compile inside the loop)\n"
                  f"  local:2, warm       {r['cluster_warm']:>12,.0f} points/s ({r['cluster_warm'] / r['single']:.2f}× single)\n"
                  f"  kernel / chunk      {1e3 * r['kernel_s']:>9.2f} ms (this process)\n"
                  f"  write / chunk       {1e3 * r['write_s']:>9.2f} ms (journal + HDF5, client)\n"
                  f"  Dask trip / chunk   {1e3 * r['trip_s']:>9.2f} ms (submit, outputs back, gather)\n"
                  f"  peak memory         client {r['client_peak_mb']:.0f} MB, worker {r['worker_peak_mb']:.0f} MB\n"
                  f"  client ceiling      {r['chunk'] / (r['write_s'] + r['trip_s']):>12,.0f} points/s\n"
                  "  model, N machines:  " + ", ".join(f"N={n}: {model(r, n):,.0f}" for n in (1, 4, 16, 64))
                  + " points/s", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
