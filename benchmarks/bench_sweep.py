"""End-to-end ``jaxtherm run`` throughput and peak memory: the kernel, the journal and the HDF5
writer together, as a user runs a sweep.

Each row runs one sweep in a fresh process (so ``ru_maxrss`` is its own) through the same code
as ``jaxtherm run SPEC`` (``jaxtherm.sweep.run_sweep``) and reports the sustained
points/s of the sweep loop (every point computed, journaled and written), the compile time
apart, the automatic chunk size and the peak resident memory. Rows:

* the local qubit pair on a 4×10⁶-point grid (100 T_b × 200 ε × 200 δ) and on a 1.2×10⁵-point
  grid with the same axes (the memory comparison), default observables, float64;
* the same 4×10⁶ grid with gradients of every observable w.r.t. ε, T_b and δ;
* with lzf and gzip compression, in float32, with the dense solver (the reference);
* the global coupling (Davies thermalizers) on a 10⁶-point grid.

Usage::

    python benchmarks/bench_sweep.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

BASE = """
[model]
coupling = "{coupling}"
[parameters]
omega_a = 1.0
gamma_a = 0.1
gamma_b = 0.1
T_a = 2.0
[axes]
T_b = {{ linspace = [0.2, 3.0, {n_t}] }}
epsilon = {{ logspace = [-3, 0, 200] }}
delta = {{ linspace = [-0.5, 0.5, 200] }}
[output]
compression = "{compression}"
dtype = "{dtype}"
gradients = {gradients}
[run]
solver = "{solver}"
"""

ROWS = [
    # label, coupling, n_t (points = n_t * 40,000), compression, dtype, gradients, solver
    ("local 4e6", "local", 100, "none", "float64", [], "reduced"),
    ("local 1.2e5", "local", 3, "none", "float64", [], "reduced"),  # 120,000 points
    ("local 4e6, 3 gradients", "local", 100, "none", "float64", ["epsilon", "T_b", "delta"], "reduced"),
    ("local 4e6, lzf", "local", 100, "lzf", "float64", [], "reduced"),
    ("local 4e6, gzip", "local", 100, "gzip", "float64", [], "reduced"),
    ("local 4e6, float32", "local", 100, "none", "float32", [], "reduced"),
    ("local 4e5, dense solver", "local", 10, "none", "float64", [], "dense"),
    ("global 4e5", "global", 10, "none", "float64", [], "reduced"),
]


def child(spec_text: str, out: str) -> None:
    from jaxtherm.sweep import parse_spec, run_sweep

    spec = parse_spec(spec_text, "bench.toml", default_output=out)
    t0 = time.perf_counter()
    s = run_sweep(spec, output=out, force=True, progress=False)
    total = time.perf_counter() - t0
    print(json.dumps({
        "points": s.points, "points_per_s": s.points_per_second, "sweep_s": s.sweep_seconds,
        "compile_s": s.compile_seconds, "total_s": total, "chunk": s.chunk_size, "devices": s.devices,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "file_mb": os.path.getsize(out) / 2**20,
    }))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="only the first two rows")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(*args.child)
    import jax

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{len(jax.devices())} JAX device(s) [{jax.devices()[0].platform}], jax {jax.__version__}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, coupling, n_t, compression, dtype, gradients, solver in ROWS[: 2 if args.quick else None]:
            text = BASE.format(coupling=coupling, n_t=n_t, compression=compression, dtype=dtype,
                               gradients=json.dumps(gradients), solver=solver)
            out = os.path.join(tmp, "bench.h5")
            res = subprocess.run([sys.executable, __file__, "--child", text, out], capture_output=True, text=True)
            if res.returncode:
                raise SystemExit(res.stderr)
            r = {"label": label, **json.loads(res.stdout.strip().splitlines()[-1])}
            rows.append(r)
            print(f"{label:>26}: {r['points']:>9,} points {r['points_per_s']:>12,.0f} points/s (sweep {r['sweep_s']:6.2f} s, "
                  f"compile {r['compile_s']:5.2f} s, chunk {r['chunk']:>7,})  peak {r['peak_mb']:6.0f} MB  "
                  f"file {r['file_mb']:6.0f} MB", flush=True)
    by = {r["label"]: r for r in rows}
    if "local 4e6" in by and "local 1.2e5" in by:
        ratio = by["local 4e6"]["peak_mb"] / by["local 1.2e5"]["peak_mb"]
        print(f"peak memory 4e6 / 1.2e5 points: {ratio:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
