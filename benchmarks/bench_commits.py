"""Kernel throughput of two commits, alternating in fresh processes: did a change keep the speed?

For each case (a model, a solver, with or without fluctuations or gradients) the compiled
``jaxtherm.batched_kernel`` is timed in a fresh Python process against each commit's package,
A B A B … (``--rounds`` pairs), so that a drift of the machine's speed hits both alike; the table
gives each side's median points/s and compile seconds, and the ratio B/A of the medians. The
cases cover the kernels of ``bench_solve.py`` (the local pair), ``bench_models.py`` (every
built-in family), ``bench_sectors.py`` (the staged and static-pivot sectors) and
``bench_fluctuations.py`` (counting statistics), ``bench_large.py`` (Krylov), and forward-mode
gradients.

Each commit is checked out once into a temporary worktree (``git worktree add --detach``) and put
first on ``PYTHONPATH``; the interpreter (and so the JAX version) is the one running this script.
Only the public API that both commits share is used.

Usage::

    python benchmarks/bench_commits.py BASE [HEAD] [--rounds 3] [--seconds 2] [--only SUBSTRING] [--json out.json]

``HEAD`` defaults to the working tree. Results go to stdout as a Markdown table (for
``docs/performance.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (label, family, options, solver, fluctuations, gradients, points)
CASES = [
    ("pair local", "qubit_pair", {"coupling": "local"}, "auto", False, 0, 65536),
    ("pair incoherent", "qubit_pair", {"coupling": "incoherent"}, "auto", False, 0, 65536),
    ("pair global", "qubit_pair", {"coupling": "global"}, "auto", False, 0, 65536),
    ("pair global, 2 gradients", "qubit_pair", {"coupling": "global"}, "auto", False, 2, 16384),
    ("pair global, fluctuations", "qubit_pair", {"coupling": "global"}, "auto", True, 0, 32768),
    ("pair local, LU", "qubit_pair", {"coupling": "local"}, "lu", False, 0, 16384),
    ("pair local, 2 gradients", "qubit_pair", {"coupling": "local"}, "auto", False, 2, 16384),
    ("pair redfield", "qubit_pair", {"coupling": "redfield", "spectrum": "bose"}, "auto", False, 0, 32768),
    ("pair redfield, 2 gradients", "qubit_pair", {"coupling": "redfield", "spectrum": "bose"}, "auto", False, 2, 8192),
    ("refrigerator local", "absorption_refrigerator", {"coupling": "local"}, "auto", False, 0, 32768),
    ("refrigerator global", "absorption_refrigerator", {"coupling": "global"}, "auto", False, 0, 16384),
    ("refrigerator global, 2 gradients", "absorption_refrigerator", {"coupling": "global"}, "auto", False, 2, 4096),
    ("refrigerator local, fluctuations", "absorption_refrigerator", {"coupling": "local"}, "auto", True, 0, 16384),
    ("chain n=3 local (static pivots)", "qubit_chain", {"n": 3, "coupling": "local"}, "auto", False, 0, 16384),
    ("chain n=3 local (static pivots), 2 gradients", "qubit_chain", {"n": 3, "coupling": "local"}, "auto", False, 2,
     8192),
    ("chain n=3 global", "qubit_chain", {"n": 3, "coupling": "global"}, "auto", False, 0, 4096),
    ("chain n=4 local (staged)", "qubit_chain", {"n": 4, "coupling": "local"}, "auto", False, 0, 4096),
    ("chain n=5 local (staged)", "qubit_chain", {"n": 5, "coupling": "local"}, "auto", False, 0, 1024),
    ("oscillators cutoff 3 local", "oscillator_pair", {"cutoff": 3, "coupling": "local"}, "auto", False, 0, 16384),
    ("oscillators cutoff 3 local, 2 gradients", "oscillator_pair", {"cutoff": 3, "coupling": "local"}, "auto", False, 2,
     8192),
    ("oscillators cutoff 3 global", "oscillator_pair", {"cutoff": 3, "coupling": "global"}, "auto", False, 0, 4096),
    ("chain n=6 local (staged)", "qubit_chain", {"n": 6, "coupling": "local"}, "auto", False, 0, 256),
    ("oscillators cutoff 8 local (staged)", "oscillator_pair", {"cutoff": 8, "coupling": "local"}, "auto", False, 0, 512),
    ("oscillators cutoff 10 local (staged)", "oscillator_pair", {"cutoff": 10, "coupling": "local"}, "auto", False, 0,
     256),
    ("chain n=6 local (Krylov)", "qubit_chain", {"n": 6, "coupling": "local"}, "krylov", False, 0, 64),
    ("chain n=7 local (Krylov), 1 gradient", "qubit_chain", {"n": 7, "coupling": "local"}, "krylov", False, 1, 8),
    ("oscillators cutoff 12 local (Krylov)", "oscillator_pair", {"cutoff": 12, "coupling": "local"}, "krylov", False, 0,
     32),
]

CHILD = r"""
import json, sys, time
import numpy as np
import jax, jax.numpy as jnp
import jaxtherm
try:
    from jaxtherm.kernel.batch import batched_kernel
except ImportError:  # commits before the folders were layers
    from jaxtherm.batch import batched_kernel
family, options, solver, fluctuations, n_grad, n, seconds = json.loads(sys.argv[1])
model = jaxtherm.models.get(family, **options)
names = tuple(model.parameters)
rng = np.random.default_rng(0)
p = [rng.uniform(0.3, 2.0, n) if k.startswith("beta") else rng.uniform(0.3, 1.5, n) for k in names]
try:
    jaxtherm.solvers.get(solver)
except ValueError:  # a commit before elimination names: the same elimination by its thresholds
    solver = {"lu": jaxtherm.Reduced(max_unrolled=0, max_sparse=0, max_staged=0)}[solver]
fn = batched_kernel(model, names, names[:n_grad], np.dtype("float64"), solver, False, fluctuations=fluctuations)
t0 = time.perf_counter()
compiled = fn.lower(*[jax.ShapeDtypeStruct((n,), np.float64)] * len(names)).compile()
compile_s = time.perf_counter() - t0
args = [jnp.asarray(v) for v in p]
out = jax.block_until_ready(compiled(*args))
reps, total = 0, 0.0
while reps < 2 or total < seconds:
    t0 = time.perf_counter()
    jax.block_until_ready(compiled(*args))
    total += time.perf_counter() - t0
    reps += 1
ok = float(np.mean(np.asarray(out["status"]) == 0))
print(json.dumps({"points_per_s": n * reps / total, "compile_s": compile_s, "ok": ok}))
"""


def _worktree(ref: str, where: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(where), ref], check=True)
    return where


def _child(path: Path, case: tuple, seconds: float) -> dict:
    _, family, options, solver, fluctuations, n_grad, n = case
    env = {**os.environ, "PYTHONPATH": str(path)}
    arg = json.dumps([family, options, solver, fluctuations, n_grad, n, seconds])
    done = subprocess.run([sys.executable, "-c", CHILD, arg], env=env, capture_output=True, text=True, cwd=path)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(rows: list[dict], key: str) -> float:
    values = [r[key] for r in rows if key in r]
    return statistics.median(values) if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base", help="the commit to compare against (A)")
    ap.add_argument("head", nargs="?", help="the other commit (B); default: the working tree")
    ap.add_argument("--rounds", type=int, default=3, help="A B pairs per case")
    ap.add_argument("--seconds", type=float, default=2.0, help="minimum timed seconds per process")
    ap.add_argument("--only", action="append", default=[], help="cases whose label contains this (repeatable)")
    ap.add_argument("--json", help="also write the rows here")
    args = ap.parse_args()
    cases = [c for c in CASES if not args.only or any(s in c[0] for s in args.only)]
    with tempfile.TemporaryDirectory() as tmp:
        a = _worktree(args.base, Path(tmp) / "a")
        b = _worktree(args.head, Path(tmp) / "b") if args.head else ROOT
        try:
            rows = []
            print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs; A = {args.base}, B = {args.head or 'working tree'}; "
                  f"median of {args.rounds} alternating fresh processes each\n")
            print("| kernel | solver | A points/s | B points/s | B/A | A compile s | B compile s | ok |")
            print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
            for case in cases:
                runs = {"A": [], "B": []}
                for _ in range(args.rounds):
                    runs["A"].append(_child(a, case, args.seconds))
                    runs["B"].append(_child(b, case, args.seconds))
                ra, rb = _median(runs["A"], "points_per_s"), _median(runs["B"], "points_per_s")
                row = {"case": case[0], "solver": case[3], "A": runs["A"], "B": runs["B"], "ratio": rb / ra}
                rows.append(row)
                errors = [r["error"] for r in runs["A"] + runs["B"] if "error" in r]
                ca, cb = _median(runs["A"], "compile_s"), _median(runs["B"], "compile_s")
                print(f"| {case[0]} | {case[3]} | {ra:,.0f} | {rb:,.0f} | {rb / ra:.2f} | {ca:.1f} | {cb:.1f} | "
                      f"{_median(runs['B'], 'ok'):.2f} |" + (f" error: {errors[0]}" if errors else ""), flush=True)
        finally:
            for path in {a, b} - {ROOT}:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=False)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
