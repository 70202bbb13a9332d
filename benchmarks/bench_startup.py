"""Start-up of ``jaxtherm run``: the first run of a bundled sweep (compiles its kernels) against a
repeat run (loads them from the compilation cache), each a fresh process.

For each bundled sweep named, with an empty cache folder (``JAXTHERM_CACHE``, a temporary folder):
``jaxtherm run NAME -o OUT --force -q`` once (cold), then ``--rounds`` more times (warm); and
the same with the cache off. The table gives the wall time of each (median of the warm runs)
and the compile time the results file records (``compile_seconds``). Only the command line
and the file's attributes are used.

Usage::

    python benchmarks/bench_startup.py [NAME ...] [--rounds 3]

Default sweeps: ``quickstart`` and ``refrigerator``. The Markdown table goes to stdout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py


def _run(name: str, out: Path, cache: str) -> tuple[float, float]:
    """Wall seconds of one ``jaxtherm run`` and the compile seconds its file records."""
    env = {**os.environ, "JAXTHERM_CACHE": cache}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "jaxtherm", "run", name, "-o", str(out), "--force", "-q"], env=env,
                   check=True, capture_output=True)
    wall = time.perf_counter() - t0
    with h5py.File(out, "r") as f:
        compile_s = float(f.attrs.get("compile_seconds", float("nan")))
    return wall, compile_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", default=["quickstart", "refrigerator"])
    ap.add_argument("--rounds", type=int, default=3, help="warm runs after the cold one")
    args = ap.parse_args()
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs; wall seconds of `jaxtherm run NAME` (compile seconds "
          f"from the file); warm: median of {args.rounds}\n")
    print("| sweep | cache off | first run (cold cache) | repeat run (warm cache) |")
    print("| --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.names:
            out = Path(tmp) / f"{name}.h5"
            cache = Path(tmp) / f"cache-{name}"
            off = _run(name, out, "off")
            cold = _run(name, out, str(cache))
            warm = [_run(name, out, str(cache)) for _ in range(args.rounds)]
            w, c = statistics.median(x[0] for x in warm), statistics.median(x[1] for x in warm)
            print(f"| {name} | {off[0]:.1f} s ({off[1]:.1f}) | {cold[0]:.1f} s ({cold[1]:.1f}) | {w:.1f} s ({c:.1f}) |",
                  flush=True)
            shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
