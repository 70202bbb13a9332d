"""Reading a large results file: memory and time of ``jaxtherm.open`` and of pulling one slice out
of it, of ``jaxtherm plot … --sel`` and of ``jaxtherm info``, each in a fresh process.

The file is a real sweep of the local qubit pair (float64, no gradients: 7 outputs and ``status``,
57 bytes a point), written once by ``jaxtherm run`` into ``--dir`` and reused. Each row runs in a
fresh process whose ``PYTHONPATH`` is ``--code`` (a checkout of jaxtherm: compare two versions by
running the script once with each); it reports the resident memory after the imports (xarray,
matplotlib, jaxtherm), the peak during the step (``VmHWM``, reset after the imports) and the
wall time of the step alone.

Usage::

    python benchmarks/bench_read.py [--points 1e7] [--dir /tmp/jaxtherm-bench-read] [--code .]

The Markdown table goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SPEC = """# bench_read.py: the local pair on a {n_t} x {n_e} grid
[model]
name = "qubit_pair"
coupling = "local"
[parameters]
omega_a = 1.0
omega_b = 1.2
T_a = 2.0
gamma_a = 0.1
gamma_b = 0.1
[axes]
T_b = {{ linspace = [0.2, 2.0, {n_t}] }}
epsilon = {{ logspace = [-3, 0, {n_e}] }}
"""

# each step: (label, code run after the imports); RSS and time are measured around the code
STEPS = {
    "open": ("jaxtherm.open(PATH)", "ds = jaxtherm.open(PATH)"),
    "slice": ("jaxtherm.open(PATH).J_a.sel(T_b=0.5).values",
              "ds = jaxtherm.open(PATH); v = ds.J_a.sel(T_b=0.5, method='nearest').values"),
    "plot": ("jaxtherm plot PATH J_a --sel T_b=0.5",
             "main(['plot', PATH, 'J_a', '--sel', 'T_b=0.5', '-o', OUT])"),
    "info": ("jaxtherm info PATH", "main(['info', PATH])"),
}

CHILD = """
import sys, time, io, contextlib
def status(key):
    with open('/proc/self/status') as f:
        return next(int(l.split()[1]) for l in f if l.startswith(key)) / 1024
import numpy, xarray, matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot
import jaxtherm
from jaxtherm.cli.commands import main
PATH, OUT = sys.argv[1], sys.argv[2]
open('/proc/self/clear_refs', 'w').write('5')  # the peak counts from here (VmHWM, Linux >= 4.0)
base = status('VmRSS')
t0 = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    {code}
wall = time.perf_counter() - t0
peak = status('VmHWM')
print(base, peak, wall)
"""


def make_file(path: Path, points: int) -> None:
    n_t = 100
    n_e = max(1, points // n_t)
    spec = path.with_suffix(".toml")
    spec.write_text(SPEC.format(n_t=n_t, n_e=n_e))
    subprocess.run([sys.executable, "-m", "jaxtherm", "run", str(spec), "-o", str(path), "--force", "-q"], check=True)


def measure(step: str, path: Path, code: Path, rounds: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code.resolve())}
    runs = []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-P", "-c", CHILD.format(code=STEPS[step][1]), str(path),  # -P: not the cwd's
                              str(path.with_name("plot.png"))], env=env, capture_output=True, text=True, check=True)
        runs.append([float(x) for x in out.stdout.split()[-3:]])
    base, peak, wall = min(runs, key=lambda r: r[2])
    return {"step": step, "base_mib": base, "peak_mib": peak, "grown_mib": peak - base, "seconds": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=float, default=1e7)
    ap.add_argument("--dir", default="/tmp/jaxtherm-bench-read")
    ap.add_argument("--code", default=".", help="the jaxtherm checkout to measure (PYTHONPATH of the readers)")
    ap.add_argument("--rounds", type=int, default=2, help="runs of each step (the fastest is kept)")
    ap.add_argument("--json", help="also write the rows here")
    args = ap.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"pair_{int(args.points)}.h5"
    if not path.exists():
        make_file(path, int(args.points))
    size = path.stat().st_size / 2**20
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs; {path.name}: {size:,.0f} MiB; code: {args.code}\n")
    print("| step | RSS after imports (MiB) | peak (MiB) | grown (MiB) | grown / file | seconds |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    rows = []
    for step in STEPS:
        r = measure(step, path, Path(args.code), args.rounds)
        rows.append({**r, "file_mib": size})
        print(f"| `{STEPS[step][0]}` | {r['base_mib']:.0f} | {r['peak_mib']:.0f} | {r['grown_mib']:.0f} | "
              f"{r['grown_mib'] / size:.3f} | {r['seconds']:.3f} |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
