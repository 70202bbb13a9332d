"""What current fluctuations cost: the kernel with ``fluctuations`` off and on, beside a QuTiP
``countstat_current_noise`` loop, for the qubit pair and the absorption refrigerator.

Rows per model, all in one process per model (so off and on run back to back on the same
machine state):

* ``off``: the compiled ``batched_kernel(model, parameters, (), float64, "auto", False)`` over
  chunks already on the device (as ``bench_models.py``), in the chunk size ``jaxtherm run`` would
  pick (its working set against the cache budget), repeated for at least ``--seconds``;
* ``on``: the same with ``fluctuations=True`` (``J_counted_j``, ``noise_j``, ``tur_j`` for
  every bath: one more solve per bath with the steady state's factorisation);
* ``qutip``: per point, ``qutip.steadystate(H, c_ops, method="direct")`` and, for every bath,
  ``qutip.countstat_current_noise`` with the energy-weighted current superoperators
  ``I = Σ ν c·c†`` and ``J = Σ ν² c·c†`` (QuTiP's own Drazin-inverse solves), operators built
  from the model's own (Davies jumps grouped by Bohr frequency in NumPy), stopped after
  ``--qutip-seconds``; then checked against jaxtherm on the same points (largest relative
  difference of the noise, untimed).

Usage::

    python benchmarks/bench_fluctuations.py [--quick] [--seconds S] [--qutip-seconds S] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_models import bench_kernel, davies_jumps, random_points, timed_loop  # noqa: E402

RESULT = "BENCH_FLUCTUATIONS_RESULT "
# key, family, options, kernel points (each row runs in the chunk size a sweep would pick: sweep_chunk)
MODELS = [
    ("qubit_pair/local", "qubit_pair", {"coupling": "local"}, 1_000_000),
    ("qubit_pair/global", "qubit_pair", {"coupling": "global"}, 400_000),
    ("absorption_refrigerator/local", "absorption_refrigerator", {"coupling": "local"}, 500_000),
    ("absorption_refrigerator/global", "absorption_refrigerator", {"coupling": "global"}, 20_000),
]


def sweep_chunk(model, fluctuations: bool) -> int:
    """The chunk size ``jaxtherm run`` picks on this machine for the kernel (its working set per
    point against the CPU cache budget, ``jaxtherm.sweep.devices.auto_chunk_size``)."""
    import jax

    from jaxtherm.kernel.batch import batched_kernel
    from jaxtherm.sweep import devices

    fn = batched_kernel(model, tuple(model.parameters), (), np.dtype("float64"), "auto", False,
                        fluctuations=fluctuations)
    per_point = devices.probe(fn, len(model.parameters), np.float64, jax.devices())[0]
    return devices.auto_chunk_size(per_point, jax.devices()[0].platform, 1, 1 << 30, (1 << 30,))


def bench_qutip(model, n: int, budget: float) -> dict:
    """QuTiP ``steadystate`` + ``countstat_current_noise`` per bath, point by point."""
    import qutip

    import jaxtherm

    p = random_points(model, n, seed=1)
    baths = [b.name for b in model.baths]

    def noise_at(i):
        q = {k: float(v[i]) for k, v in p.items()}
        h = sum(float(t.coefficient(q)) * np.asarray(t.operator, complex) for t in model.hamiltonian)
        jumps = {b: [] for b in baths}  # bath -> [(collapse operator, quantum)]
        others = []
        for k in model.lindblads:
            c = qutip.Qobj(np.sqrt(float(k.rate(q))) * np.asarray(k.jump, complex))
            (jumps[k.channel].append((c, float(k.quantum(q)))) if k.channel in jumps else others.append(c))
        for term in model.davies:
            jumps[term.channel] += [(qutip.Qobj(np.sqrt(r) * a), -nu) for r, a, nu in davies_jumps(h, term, q)]
        c_ops = [c for b in baths for c, _ in jumps[b]] + others
        hq = qutip.Qobj(h)
        rho = qutip.steadystate(hq, c_ops, method="direct")
        lv = qutip.liouvillian(hq, c_ops)
        out = []
        for b in baths:
            supers = [(qutip.sprepost(c, c.dag()), nu) for c, nu in jumps[b]]
            i_op = sum(nu * s for s, nu in supers)
            j_op = sum(nu * nu * s for s, nu in supers)
            out.append(float(np.ravel(qutip.countstat_current_noise(lv, [], rhoss=rho, I_ops=[i_op], J_ops=[j_op])[1])[0]))
        return out

    values, run = timed_loop(noise_at, n, budget)
    n = len(values)
    ref = jaxtherm.solve(model, fluctuations=True, rho=False, **{k: v[:n] for k, v in p.items()})
    mine = np.stack([np.asarray(ref[f"noise_{b}"]) for b in baths], axis=1)
    rel = float(np.max(np.abs(mine - np.asarray(values)) / np.abs(np.asarray(values))))
    return {"n": n, "points_per_s": n / run, "seconds": run, "max_rel_noise_vs_jaxtherm": rel}


def child(args) -> None:
    import jaxtherm

    key, family, options, n = next(m for m in MODELS if m[0] == args.model)
    model = jaxtherm.models.get(family, **options)
    n = max(256, int(n * args.scale))
    rows = [{"model": key, "method": "off", **bench_kernel(model, n, sweep_chunk(model, False), args.seconds)},
            {"model": key, "method": "on", **bench_kernel(model, n, sweep_chunk(model, True), args.seconds,
                                                          fluctuations=True)},
            {"model": key, "method": "qutip", **bench_qutip(model, 3 if args.quick else 500, args.qutip_seconds)}]
    print(RESULT + json.dumps(rows), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: checks that the script works (< 2 minutes)")
    ap.add_argument("--seconds", type=float, default=5.0, help="minimum timed seconds per kernel row")
    ap.add_argument("--qutip-seconds", type=float, default=20.0, help="time budget of each QuTiP loop")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the kernel sizes")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    ap.add_argument("--model", help=argparse.SUPPRESS)  # child process: one model
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.qutip_seconds, args.scale = 0.2, 0.5, 1e-3
    if args.model:
        child(args)
        return
    rows = []
    for key, *_ in MODELS:
        cmd = [sys.executable, os.path.abspath(__file__), "--model", key, "--seconds", str(args.seconds),
               "--qutip-seconds", str(args.qutip_seconds), "--scale", str(args.scale)] + (["--quick"] if args.quick else [])
        res = subprocess.run(cmd, capture_output=True, text=True)
        line = next((x for x in res.stdout.splitlines() if x.startswith(RESULT)), None)
        if line is None:
            print(res.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"{key}: no result")
        rows += json.loads(line[len(RESULT):])
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; float64, kernel only "
          "(compile apart)\n")
    print(f"{'model':<32} {'off pts/s':>12} {'on pts/s':>12} {'on/off cost':>11} {'QuTiP pts/s':>12} "
          f"{'on × QuTiP':>11} {'compile off/on s':>17} {'chunk off/on':>13} {'|Δnoise|/noise':>15}")
    for key, *_ in MODELS:
        off, on, qt = (next(r for r in rows if r["model"] == key and r["method"] == m) for m in ("off", "on", "qutip"))
        print(f"{key:<32} {off['points_per_s']:>12,.0f} {on['points_per_s']:>12,.0f} "
              f"{off['points_per_s'] / on['points_per_s']:>10.2f}× {qt['points_per_s']:>12,.1f} "
              f"{on['points_per_s'] / qt['points_per_s']:>10,.0f}× "
              f"{off['compile_s']:>8.1f}/{on['compile_s']:<8.1f} {off['chunk']:>6}/{on['chunk']:<6} "
              f"{qt['max_rel_noise_vs_jaxtherm']:>15.1e}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
