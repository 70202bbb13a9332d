"""Optimisation cost: steps/s of ``jaxtherm.optimize`` with 1 and 64 starts (the starts are one
vmapped computation, not a loop), the time to the optimum, and a brute-force grid of the same
problem computed by the batched kernel (what ``jaxtherm run`` does), side by side.

Problems (the bundled studies): the local absorption refrigerator's cooling power J_c over
(E_c, g), and the detuned incoherent pair's power -P over (delta, epsilon). For each, a row per
number of starts (compile time apart; ``--steps`` steps), and a grid row: ``--grid``² points
over the same box, its best point and its time (compile apart), and how far its best value is
below the optimiser's.

Usage::

    python benchmarks/bench_optimize.py [--steps 1000] [--grid 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def problems():
    import jaxtherm

    return [
        ("refrigerator J_c", jaxtherm.absorption_refrigerator("local"), "J_c", {"E_c": (0.2, 2.5), "g": (0.005, 0.05)},
         dict(E_h=2.0, T_c=1.0, T_r=1.5, T_h=6.0, gamma_c=0.05, gamma_r=0.05, gamma_h=0.05)),
        ("engine -power", jaxtherm.qubit_pair("incoherent"), "-power", {"delta": (-3.0, 0.9), "epsilon": (0.01, 10.0)},
         dict(omega_a=1.0, T_a=2.0, T_b=0.5, gamma_a=1.0, gamma_b=1.0)),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--grid", type=int, default=200, help="points per axis of the brute-force grid")
    ap.add_argument("--json", help="also write the rows here")
    args = ap.parse_args()
    import jax

    import jaxtherm
    from jaxtherm.design.optimize import problem, run

    rows = []
    print(f"jax {jax.__version__}, {jax.devices()}")
    for label, model, objective, variables, fixed in problems():
        prob = problem(model, objective, {k: list(v) for k, v in variables.items()}, fixed)
        best = {}
        for starts in (1, 64):
            t0 = time.perf_counter()
            r = run(prob, starts=starts, steps=args.steps)
            total = time.perf_counter() - t0
            best[starts] = r
            rows.append({"problem": label, "method": f"optimize, {starts} start(s)", "steps_per_s": args.steps / r.seconds,
                         "seconds": r.seconds, "compile_s": r.compile_seconds, "total_s": total,
                         "objective": float(r.objective[r.best]), "converged": int((r.status == 0).sum())})
        names = list(variables)
        axes = [np.linspace(*variables[n], args.grid) for n in names]
        mesh = np.meshgrid(*axes, indexing="ij")
        points = {n: m.ravel() for n, m in zip(names, mesh)}
        jaxtherm.solve(model, rho=False, **points, **fixed)  # compile for this many points
        t0 = time.perf_counter()
        out = jaxtherm.solve(model, rho=False, **points, **fixed)
        values = prob.objective({k: np.asarray(v) for k, v in out.items()}, np)
        grid_s = time.perf_counter() - t0
        i = int(np.nanargmax(values))
        opt = float(best[64].objective[best[64].best])
        rows.append({"problem": label, "method": f"grid {args.grid}×{args.grid}", "seconds": grid_s,
                     "objective": float(values[i]), "below_optimum": (opt - float(values[i])) / abs(opt),
                     "at": {n: float(points[n][i]) for n in names}})
    print(f"\n{'problem':18} {'method':22} {'steps/s':>9} {'time s':>8} {'compile s':>9} {'objective':>16}  notes")
    for r in rows:
        note = (f"{r['converged']} converged" if "converged" in r else
                f"best grid point {r['below_optimum']:.1e} below the optimum, at {r['at']}")
        print(f"{r['problem']:18} {r['method']:22} {r.get('steps_per_s', float('nan')):9.0f} {r['seconds']:8.2f} "
              f"{r.get('compile_s', float('nan')):9.1f} {r['objective']:16.10g}  {note}")
    for label in dict.fromkeys(r["problem"] for r in rows):
        one, many = (next(r for r in rows if r["problem"] == label and r["method"].startswith(f"optimize, {k} "))
                     for k in (1, 64))
        print(f"{label}: 64 starts cost {one['steps_per_s'] / many['steps_per_s']:.2f}× one start's time per step")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
