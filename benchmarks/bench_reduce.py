"""Where a sweep's time goes: the full-output sweep (E), the reduced sweep (Er), the kernel
through ``jaxtherm.solve`` (K) and the raw disk (W), in one run, on the local qubit pair.

* E and Er are *sustained* rates: each sweep runs at two grid sizes in fresh processes and the
  rate is ``(N₂ − N₁) / (t₂ − t₁)`` of the sweep loops (compile and start-up cancel);
* K is ``jaxtherm.solve`` on 10⁶ points (second call, compiled; ``rho=False``: the same
  observables as the sweeps store);
* W writes the bytes of the larger full sweep's file with NumPy and ``fsync`` (points/s at the
  file's bytes per point);
* peak resident memory of the full sweep at both sizes (``ru_maxrss`` of its own process).

The issue's targets: ``E ≥ 0.8 · min(Er, W)``, ``Er ≥ 0.8 · K``, peak memory within 1.25× from
10⁶ to 5×10⁶ points.

Usage::

    python benchmarks/bench_reduce.py [--small N1] [--large N2] [--json out.json]
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

SPEC = """
[model]
coupling = "local"
[parameters]
omega_a = 1.0
gamma_a = 0.1
gamma_b = 0.1
T_a = 2.0
[axes]
T_b = {{ linspace = [0.2, 3.0, {n_t}] }}
epsilon = {{ logspace = [-3, 0, 200] }}
delta = {{ linspace = [-0.5, 0.5, 250] }}
{reduce}
"""
REDUCE = '[reduce]\nover = ["epsilon"]\nmax = ["power"]\nmin = ["sigma"]\nmean = ["J_a"]\n'
PER_T = 200 * 250


def child_sweep(text: str, out: str) -> None:
    from jaxtherm.sweep import parse_spec, run_sweep

    s = run_sweep(parse_spec(text, "bench.toml", default_output=out), output=out, force=True, progress=False)
    print(json.dumps({"points": s.points, "sweep_s": s.sweep_seconds, "chunk": s.chunk_size,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "file_bytes": os.path.getsize(out)}))


def child_solve(n: int) -> None:
    import numpy as np

    import jaxtherm

    model = jaxtherm.models.get("qubit_pair", coupling="local")
    rng = np.random.default_rng(0)
    p = dict(omega_a=1.0, omega_b=1.0 - rng.uniform(-0.5, 0.5, n), beta_a=0.5, beta_b=1 / rng.uniform(0.2, 3.0, n),
             gamma_a=0.1, gamma_b=0.1, epsilon=10 ** rng.uniform(-3, 0, n))
    jaxtherm.solve(model, rho=False, **p)  # compile
    t = time.perf_counter()
    out = jaxtherm.solve(model, rho=False, **p)
    np.asarray(out["sigma"])
    print(json.dumps({"points": n, "seconds": time.perf_counter() - t}))


def disk_rate(path: str, n_bytes: int) -> float:
    """Seconds to write ``n_bytes`` to ``path`` in 64 MiB blocks and fsync."""
    import numpy as np

    block = np.random.default_rng(0).random(8 * 2**20)  # 64 MiB of doubles (not compressible)
    t = time.perf_counter()
    with open(path, "wb") as fh:
        left = n_bytes
        while left > 0:
            b = block.tobytes()[: min(left, block.nbytes)]
            fh.write(b)
            left -= len(b)
        fh.flush()
        os.fsync(fh.fileno())
    seconds = time.perf_counter() - t
    os.unlink(path)
    return seconds


def _run(args: list[str]) -> dict:
    res = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", type=int, default=1_000_000, help="points of the smaller grid (multiple of 50,000)")
    ap.add_argument("--large", type=int, default=5_000_000, help="points of the larger grid (multiple of 50,000)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--child-sweep", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--child-solve", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_sweep:
        return child_sweep(*args.child_sweep)
    if args.child_solve:
        return child_solve(args.child_solve)
    import jax

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{jax.devices()[0].platform}, jax {jax.__version__}; {time.strftime('%Y-%m-%d')}")
    res: dict = {}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        out = os.path.join(tmp, "bench.h5")
        for kind, reduce in (("full", ""), ("reduced", REDUCE)):
            for n in (args.small, args.large):
                res[kind, n] = _run(["--child-sweep", SPEC.format(n_t=n // PER_T, reduce=reduce), out])
                print(f"{kind:>8} {n:>10,} points: sweep {res[kind, n]['sweep_s']:7.2f} s, chunk "
                      f"{res[kind, n]['chunk']:>7,}, peak {res[kind, n]['peak_mb']:6.0f} MB, file "
                      f"{res[kind, n]['file_bytes'] / 1e6:8.1f} MB", flush=True)
        solve = _run(["--child-solve", "1000000"])
        big = res["full", args.large]
        w_seconds = disk_rate(os.path.join(tmp, "raw.bin"), big["file_bytes"])

    def sustained(kind):
        a, b = res[kind, args.small], res[kind, args.large]
        return (args.large - args.small) / (b["sweep_s"] - a["sweep_s"])

    e, er = sustained("full"), sustained("reduced")
    k = solve["points"] / solve["seconds"]
    w = args.large / w_seconds
    memory = res["full", args.large]["peak_mb"] / res["full", args.small]["peak_mb"]
    rows = {"E": e, "Er": er, "K": k, "W": w, "E/min(Er,W)": e / min(er, w), "Er/K": er / k,
            "peak memory ratio": memory}
    print(f"E  (full sweep, sustained)       {e:14,.0f} points/s")
    print(f"Er (reduced sweep, sustained)    {er:14,.0f} points/s")
    print(f"K  (jaxtherm.solve, 1e6 points)  {k:14,.0f} points/s")
    print(f"W  (raw disk, the file's bytes)  {w:14,.0f} points/s ({big['file_bytes'] / w_seconds / 1e6:,.0f} MB/s)")
    print(f"E / min(Er, W) = {e / min(er, w):.2f} (target ≥ 0.8);  Er / K = {er / k:.2f} (target ≥ 0.8);  "
          f"peak memory {args.large:,} / {args.small:,} points = {memory:.2f} (target ≤ 1.25)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
