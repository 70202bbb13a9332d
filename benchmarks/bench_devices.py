"""A CPU split into one device per core against one device: ``jaxtherm run SPEC --cpu-devices 1``
against ``jaxtherm run SPEC`` (the default: one device per core, used where the largest sector
has ``jaxtherm.sweep.devices.CPU_SHARED_UNKNOWNS`` unknowns or more, no kernel chains its points
and, with jaxlib ≥ 0.10, none calls LAPACK: ``jaxtherm.sweep.devices.for_sweep``,
``jaxtherm.sweep.executor.LocalEngine``), alternating in fresh processes, with the compilation
cache warm (a first, uncounted round fills it).

The sweeps: ``quickstart`` and ``tur`` (bundled, pair models: one device either way by the
rule, a check that the default costs them nothing), and four grids of 1,024 points (g × T_h,
or ε × T_a for the oscillators; T_c = 0.5, γ = 0.1, ω = 1) written to a temporary folder:
the local 5- and 6-qubit chains and the oscillator pair at cutoff 10 (staged elimination),
the global 4-qubit chain (LU and ``eigh``: LAPACK). The table gives the median throughput the
run reports (points/s of the sweep, compile apart) and the devices the default used; the files
of the two runs are compared (``max |Δ|`` over every variable, relative to its largest value).

Usage::

    python benchmarks/bench_devices.py [--rounds 3] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

CHAIN = """[model]
name = "qubit_chain"
n = {n}
coupling = "{coupling}"
[parameters]
omega = 1.0
T_c = 0.5
gamma_h = 0.1
gamma_c = 0.1
[axes]
g = {{ linspace = [0.1, 1.0, 64] }}
T_h = {{ linspace = [0.5, 3.0, 16] }}
"""
OSCILLATORS = """[model]
name = "oscillator_pair"
cutoff = 10
coupling = "local"
[parameters]
omega_a = 1.0
omega_b = 1.0
T_b = 0.4
gamma_a = 0.2
gamma_b = 0.3
[axes]
epsilon = { linspace = [0.05, 0.3, 32] }
T_a = { linspace = [0.4, 1.2, 32] }
"""
SPECS = {"chain5": CHAIN.format(n=5, coupling="local"), "chain6": CHAIN.format(n=6, coupling="local"),
         "oscillators10": OSCILLATORS, "chain4_global": CHAIN.format(n=4, coupling="global")}
SUMMARY = re.compile(r"sweep [\d.]+ s \(([\d,]+) points/s, chunks of [\d,]+( on (\d+) devices)?")


def _run(spec: str, out: Path, one: bool) -> tuple[float, int]:
    """Points/s and devices of one ``jaxtherm run``."""
    cmd = [sys.executable, "-m", "jaxtherm", "run", spec, "-o", str(out), "--force", "-q"]
    res = subprocess.run(cmd + (["--cpu-devices", "1"] if one else []), capture_output=True, text=True, check=True)
    m = SUMMARY.search(res.stdout)
    return float(m[1].replace(",", "")), int(m[3] or 1)


def _difference(a: Path, b: Path) -> float:
    """The largest ``|a − b| / max |a|`` over the files' floating-point datasets."""
    worst = 0.0
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for k, d in fa.items():
            if isinstance(d, h5py.Dataset) and d.dtype.kind == "f":
                x, y = d[()], fb[k][()]
                scale = np.nanmax(np.abs(x)) if np.isfinite(x).any() else 0.0
                if scale > 0:
                    worst = max(worst, float(np.nanmax(np.abs(x - y)) / scale))
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", nargs="*", help="sweep names to run (default: all)")
    args = ap.parse_args()
    names = [n for n in ("quickstart", "tur", *SPECS) if not args.only or n in args.only]
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs; median points/s of {args.rounds} rounds "
          "(one device and the default alternating, fresh processes, compilation cache warm)\n")
    print("| sweep | one device | default | devices (default) | default / one | max rel. difference |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            spec = name
            if name in SPECS:
                spec = str(Path(tmp) / f"{name}.toml")
                Path(spec).write_text(SPECS[name])
            one, split = Path(tmp) / f"{name}-one.h5", Path(tmp) / f"{name}-split.h5"
            _run(spec, one, True), _run(spec, split, False)  # fills the cache
            rates: dict[bool, list[float]] = {True: [], False: []}
            used = {True: 1, False: 1}
            for r in range(args.rounds):
                for alone in ((True, False) if r % 2 == 0 else (False, True)):
                    rate, used[alone] = _run(spec, one if alone else split, alone)
                    rates[alone].append(rate)
            a, b = statistics.median(rates[True]), statistics.median(rates[False])
            print(f"| {name} | {a:,.0f} | {b:,.0f} | {used[False]} | {b / a:.2f} | {_difference(one, split):.1e} |",
                  flush=True)


if __name__ == "__main__":
    main()
