"""The GPU path, checked and timed on one accelerator in one call: every built-in model's kernel
on the GPU against the same code on the CPU, throughput of the compiled kernel (with
fluctuations off and on), and ``jaxtherm run`` end to end.

Rows, one subprocess per model (each bounded by ``--row-seconds`` so that one slow compile cannot
use up a short lease):

* ``check``: ``jaxtherm.solve(model, gradients=[first parameter], fluctuations=...)`` at 256
  random points on the GPU and on the host CPU, in float64; prints the largest difference of
  every output over its scale (``max|gpu − cpu| / max(max|cpu|, 1e-12)``; not the residual
  ``‖Lρ‖``, which is rounding noise itself: its largest value is printed instead) and whether
  the statuses agree. Same code, two backends: this is what "device-agnostic" must mean.
* ``kernel`` / ``kernel+fluct``: ``batched_kernel`` compiled for GPU-sized chunks (far larger
  than the CPU's cache-sized ones), passes over the points repeated for ``--seconds``; compile
  time apart (``bench_models.bench_kernel``).
* ``run``: ``jaxtherm run`` of a 4,000,000-point grid of the local pair (kernel, journal and
  HDF5 writer), automatic chunk size (the GPU's 2 GiB working-set budget).

The last four rows are issue 29's large models (the 6- and 8-qubit chains, the oscillator pair
at cutoff 16, the global 6-qubit chain); their ``check`` solves fewer points (``LARGE``), and
their compiles are longer: give them ``--row-seconds 240``.

Usage (on the device machine; nothing else to install where JAX with CUDA is present)::

    PYTHONPATH=. python benchmarks/bench_gpu.py [--json out.json] [--only SUBSTRING]
    PYTHONPATH=. python benchmarks/bench_gpu.py --only n=6/ --only n=8 --only cutoff=16 --row-seconds 240
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_models import bench_kernel, bench_run, random_points  # noqa: E402

RESULT = "BENCH_GPU_RESULT "
# key, family, options, kernel points, chunk, fluctuations row
MODELS = [
    ("qubit_pair/local", "qubit_pair", {"coupling": "local"}, 1 << 23, 1 << 21, True),
    ("absorption_refrigerator/local", "absorption_refrigerator", {"coupling": "local"}, 1 << 22, 1 << 20, True),
    ("qubit_pair/global", "qubit_pair", {"coupling": "global"}, 1 << 20, 1 << 18, True),
    ("absorption_refrigerator/global", "absorption_refrigerator", {"coupling": "global"}, 1 << 18, 1 << 16, True),
    ("qubit_chain/n=3/local", "qubit_chain", {"n": 3, "coupling": "local"}, 1 << 20, 1 << 18, False),
    ("qubit_chain/n=4/local", "qubit_chain", {"n": 4, "coupling": "local"}, 1 << 15, 1 << 13, False),
    ("qubit_chain/n=3/global", "qubit_chain", {"n": 3, "coupling": "global"}, 1 << 17, 1 << 15, False),
    ("oscillator_pair/cutoff=4/local", "oscillator_pair", {"cutoff": 4, "coupling": "local"}, 1 << 20, 1 << 18, False),
    ("qubit_pair/incoherent", "qubit_pair", {"coupling": "incoherent"}, 1 << 23, 1 << 21, False),
    # the large models of issue 29 (docs/performance.md, bench_large.py on a CPU): staged, Krylov
    # and matrix-free Davies, each chunk vmapped on the GPU (Krylov from zero)
    ("qubit_chain/n=6/local", "qubit_chain", {"n": 6, "coupling": "local"}, 1 << 13, 1 << 13, False),
    ("qubit_chain/n=8/local", "qubit_chain", {"n": 8, "coupling": "local"}, 1 << 10, 1 << 8, False),
    ("oscillator_pair/cutoff=16/local", "oscillator_pair", {"cutoff": 16, "coupling": "local"}, 1 << 12, 1 << 11, False),
    ("qubit_chain/n=6/global", "qubit_chain", {"n": 6, "coupling": "global"}, 1 << 12, 1 << 11, False),
]
LARGE = {"qubit_chain/n=6/local": 32, "qubit_chain/n=8/local": 4, "oscillator_pair/cutoff=16/local": 8,
         "qubit_chain/n=6/global": 16}
"""The large models' ``check`` points (256 for the others): the host CPU solves them too, with
a gradient, at a few points a second."""


def check(model, fluctuations: bool, n: int = 256) -> dict:
    """GPU against host CPU: the same ``solve`` call on both backends."""
    import jax

    import jaxtherm

    p = random_points(model, n, seed=3)
    first = next(iter(model.parameters))
    out = {}
    for kind in ("gpu", "cpu"):
        try:
            dev = jax.devices(kind)[0]
        except RuntimeError:  # no GPU here: the script still runs (CPU against CPU)
            dev = jax.devices("cpu")[0]
        with jax.default_device(dev):
            r = jaxtherm.solve(model, gradients=[first], fluctuations=fluctuations, **p)
            out[kind] = {k: np.asarray(v) for k, v in r.items()}
    gpu, cpu = out["gpu"], out["cpu"]
    ok = cpu["status"] == 0
    worst, where = 0.0, ""
    for k in cpu:
        if k in ("status", "residual"):  # the residual is rounding noise itself; checked below
            continue
        a, b = gpu[k][ok], cpu[k][ok]
        scale = max(float(np.max(np.abs(b))) if b.size else 0.0, 1e-12)
        d = float(np.max(np.abs(a - b))) / scale if b.size else 0.0
        if not d <= worst:  # NaN counts as worst
            worst, where = d, k
    return {"n": n, "max_rel_diff": worst, "worst_output": where, "max_residual": float(np.max(gpu["residual"])),
            "status_equal": bool(np.array_equal(gpu["status"], cpu["status"])),
            "ok": float(ok.mean()), "outputs": len(cpu)}


def child(key: str, seconds: float, scale: float) -> None:
    import jax

    import jaxtherm

    _, family, options, n, chunk, fluct = next(m for m in MODELS if m[0] == key)
    n, chunk = max(int(n * scale), 64), max(int(chunk * scale), 64)
    model = jaxtherm.models.get(family, **options)
    rows = []

    def row(method, fn):
        t0 = time.perf_counter()
        try:
            res = fn()
        except Exception as err:  # reported in the table, with the exact error
            import traceback

            traceback.print_exc()
            res = {"error": f"{type(err).__name__}: {err}"[:300]}
        res["wall_s"] = time.perf_counter() - t0
        rows.append({"model": key, "method": method, "device": jax.devices()[0].device_kind, **res})
        print(RESULT + json.dumps(rows[-1]), flush=True)

    row("check", lambda: check(model, fluct, LARGE.get(key, 256)))
    row("kernel", lambda: bench_kernel(model, n, chunk, seconds))
    if fluct:
        row("kernel+fluct", lambda: bench_kernel(model, n, chunk, seconds, fluctuations=True))
    if key == "qubit_pair/local":
        row("run", lambda: bench_run(family, options, model, max(int(4_000_000 * scale), 1000)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=1.5, help="minimum timed seconds per kernel row")
    ap.add_argument("--row-seconds", type=float, default=75.0, help="wall-clock limit of one model's process")
    ap.add_argument("--only", action="append", default=[], metavar="SUBSTRING", help="models whose key contains it")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the sizes (e.g. 0.01 to try the script on a CPU)")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.seconds, args.scale)
        return
    import jax

    print(f"jax {jax.__version__}; devices: {jax.devices()}", flush=True)
    rows = []
    for key, *_ in MODELS:
        if args.only and not any(s in key for s in args.only):
            continue
        cmd = [sys.executable, __file__, "--child", key, "--seconds", str(args.seconds), "--scale", str(args.scale)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.row_seconds)
            text, tail = proc.stdout, proc.stderr[-800:] if proc.returncode else ""
        except subprocess.TimeoutExpired as err:
            text = err.stdout.decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
            tail = f"timed out after {args.row_seconds:.0f} s"
        got = [json.loads(line[len(RESULT):]) for line in text.splitlines() if line.startswith(RESULT)]
        rows += got
        if tail:
            rows.append({"model": key, "method": "(process)", "error": tail})
        for r in got:
            print(json.dumps(r), flush=True)
    print(f"\n{'model':32} {'row':13} {'points/s':>14} {'compile s':>9} {'chunk':>9}  notes")
    for r in rows:
        if "error" in r:
            print(f"{r['model']:32} {r['method']:13} error: {r['error'][-200:]}")
        elif r["method"] == "check":
            print(f"{r['model']:32} {'gpu == cpu':13} {'':>14} {'':>9} {'':>9}  max rel diff {r['max_rel_diff']:.1e} "
                  f"({r['worst_output']}), status equal {r['status_equal']}, residual ≤ {r['max_residual']:.0e}, "
                  f"ok {r['ok']:.3f}")
        else:
            print(f"{r['model']:32} {r['method']:13} {r['points_per_s']:14,.0f} {r['compile_s']:9.1f} "
                  f"{r.get('chunk', ''):>9}  ok {r['ok']:.4f}, peak RSS {r['peak_mb']:.0f} MB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
