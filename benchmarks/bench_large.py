"""Large models (issue 29): the 6- and 8-qubit chains and the oscillator pair at cutoff 16, by
``jaxtherm.solve`` (``solver="auto"``: preconditioned GMRES, ``jaxtherm.linalg.krylov``) beside a
QuTiP ``steadystate`` loop on the same operators.

Rows, each in a fresh subprocess so that its peak resident memory (``ru_maxrss``) is its own:

* ``jaxtherm``: ``jaxtherm.solve(model, rho=False, **points)`` (float64) over N points with the
  hopping (coupling) on a linspace, the baths fixed; timed after a first (compiling) call; the
  compile time is the first call's minus the timed one's. ``--solver`` adds rows by other
  solvers (e.g. ``staged``, ``lu``).
* ``qutip direct`` and ``qutip iterative-gmres``: ``qutip.steadystate(H, c_ops, method=…)`` in a
  loop (after one untimed warm-up point), ``H`` and the jumps ``√κ L`` built per point from the
  model's own operators (sparse CSR), for at least 3 points (the 8-qubit chain: 1,
  ``QUTIP_POINTS``) and ``--qutip-seconds``; then the largest relative difference of ``n_c``
  (``⟨n⟩`` at the cold end) from jaxtherm on the same points. A row that has not finished within
  ``--qutip-timeout`` seconds is killed and reported as below ``1/timeout`` points/s.

The ``× QuTiP`` column divides jaxtherm's points/s by the better QuTiP row of the same model.

``--warm-starts R`` times Krylov's warm starts instead (no QuTiP rows): ``solver="krylov"``
(each point of a chunk starting from its neighbours' solutions) against
``Krylov(warm_start=False)`` (every point from zero), R pairs alternating in fresh processes,
on the same linspace (``--points`` sets how many points, i.e. how close neighbours are).
With ``--base TREE`` (a checkout of an earlier commit, e.g. ``git worktree add``) the cold
side is ``solver="krylov"`` imported from that tree instead: before against after.

Usage::

    python benchmarks/bench_large.py [--quick] [--only SUBSTRING] [--solver NAME] [--json out.json]
    python benchmarks/bench_large.py --warm-starts 3 [--points 32] [--only chain8] [--base TREE]
    python benchmarks/bench_large.py --only global --solver tables   # the global chains, against LU on entry tables
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

MODELS = {
    "chain6": ("qubit_chain", {"n": 6}, "g", 256),
    "chain8": ("qubit_chain", {"n": 8}, "g", 8),
    "oscillators16": ("oscillator_pair", {"cutoff": 16}, "epsilon", 64),
    "oscillators11": ("oscillator_pair", {"cutoff": 11}, "epsilon", 64),
    "oscillators12": ("oscillator_pair", {"cutoff": 12}, "epsilon", 64),
    "chain4-global": ("qubit_chain", {"n": 4, "coupling": "global"}, "g", 256),
    "chain5-global": ("qubit_chain", {"n": 5, "coupling": "global"}, "g", 64),
    "chain6-global": ("qubit_chain", {"n": 6, "coupling": "global"}, "g", 16),
    "chain7-global": ("qubit_chain", {"n": 7, "coupling": "global"}, "g", 4),
    "chain8-global": ("qubit_chain", {"n": 8, "coupling": "global"}, "g", 8),
    "oscillators8-global": ("oscillator_pair", {"cutoff": 8, "coupling": "global"}, "epsilon", 64),
    "oscillators20-global": ("oscillator_pair", {"cutoff": 20, "coupling": "global"}, "epsilon", 16),
}
GLOBAL = ("chain4-global", "chain5-global", "chain6-global", "chain7-global", "chain8-global", "oscillators8-global",
          "oscillators20-global")
"""Global (Davies) chains: no QuTiP rows (QuTiP has no Davies generator to hand it without an
``O(d⁴)`` Bloch–Redfield tensor); ``--solver tables`` adds the entry tables' LU
(``Reduced(min_krylov=0)``, what ``auto`` ran before the matrix-free path), which is what a
user would otherwise run. They run only when ``--only`` names them (``_selected``)."""
QUTIP_POINTS = {"chain8": 1}
"""Points timed in the QuTiP loop at least (the 8-qubit chain: one, no warm-up; a point takes minutes)."""
FIXED = dict(omega=1.0, beta_h=0.5, beta_c=2.0, gamma_h=0.1, gamma_c=0.2, omega_a=1.0, omega_b=1.2, beta_a=0.5,
             beta_b=2.0, gamma_a=0.1, gamma_b=0.2)


TABLES_TOO_LARGE = {"chain8-global"}
"""Where ``--solver tables`` is not run (``jaxtherm.physics.secular``'s term tables would not fit)."""


def _selected(key: str, only: list[str] | None) -> bool:
    """Whether ``--only`` selects the model: a substring of its key; the global chains only where
    the substring names them (``--only global``, ``--only chain8-global``)."""
    if key in GLOBAL:
        return any("global" in s and s in key for s in only or ())
    return not only or any(s in key for s in only)


def _model(key):
    import jaxtherm

    family, options, swept, n = MODELS[key]
    model = jaxtherm.models.get(family, **options)
    fixed = {k: v for k, v in FIXED.items() if k in model.parameters}
    return model, fixed, swept, n


def _points(swept: str, n: int) -> np.ndarray:
    return np.linspace(0.1, 1.0, n) if swept == "g" else np.linspace(0.05, 0.4, n)


def row_jaxtherm(key: str, solver: str, quick: bool, points: int | None = None) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jaxtherm

    model, fixed, swept, n = _model(key)
    n = 2 if quick else points or n
    if solver == "krylov-cold":  # every point's GMRES from zero
        solver = jaxtherm.solvers.Reduced(elimination=jaxtherm.solvers.Krylov(warm_start=False))
    if solver == "tables":  # global models: LU on the eigenbasis entry tables, never Krylov
        solver = jaxtherm.solvers.Reduced(min_krylov=0)
    values = _points(swept, n)
    start = time.perf_counter()
    out = jax.block_until_ready(jaxtherm.solve(model, solver=solver, rho=False, **fixed, **{swept: values}))
    first = time.perf_counter() - start
    start = time.perf_counter()
    out = jax.block_until_ready(jaxtherm.solve(model, solver=solver, rho=False, **fixed, **{swept: values}))
    timed = time.perf_counter() - start
    cold = "n_c" if "n_c" in out else "n_b"
    return {"points": n, "points_per_s": n / timed, "compile_s": first - timed,
            "ok": float(np.mean(np.asarray(out["status"]) == 0)), "plan": jaxtherm.solvers.get(solver).plan(model).description,
            "values": np.asarray(out[cold]).tolist()}


def row_qutip(key: str, method: str, budget: float, quick: bool) -> dict:
    import qutip

    model, fixed, swept, n = _model(key)
    n = 2 if quick else n
    values = _points(swept, n)
    order = np.random.default_rng(0).permutation(n)
    cold_op = qutip.Qobj(np.asarray(model.expectations[1].operator, complex))
    least = QUTIP_POINTS.get(key, 3)
    done, results, start = [], [], time.perf_counter()
    for count, i in enumerate(order):
        p = model.to_parameters({**fixed, swept: float(values[i])})
        h = sum(float(t.coefficient(p)) * np.asarray(t.operator, complex) for t in model.hamiltonian)
        c_ops = [qutip.Qobj(np.sqrt(float(k.rate(p))) * np.asarray(k.jump, complex)).to("CSR") for k in model.lindblads]
        rho = qutip.steadystate(qutip.Qobj(h).to("CSR"), c_ops, method=method)  # sparse, as QuTiP users build them
        if count == 0 and least > 1:  # untimed warm-up
            start = time.perf_counter()
            continue
        done.append(int(i)), results.append(float(qutip.expect(cold_op, rho)))
        if len(done) >= (1 if quick else least) and time.perf_counter() - start >= (0 if quick else budget):
            break
    elapsed = time.perf_counter() - start
    return {"points": len(done), "points_per_s": len(done) / elapsed, "indices": done, "values": results}


def child(args) -> None:
    if args.row_method == "jaxtherm":
        r = row_jaxtherm(args.row_model, args.row_solver, args.quick, args.points)
    else:
        r = row_qutip(args.row_model, args.row_method, args.qutip_seconds, args.quick)
    r["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(r))


def run_row(key: str, method: str, solver: str, args, tree: str | None = None) -> dict:
    """One row in a fresh process, importing jaxtherm from ``tree`` where given (else this one)."""
    where = {"cwd": tree, "env": {**os.environ, "PYTHONPATH": tree}} if tree else {}
    cmd = [sys.executable, os.path.abspath(__file__), "--row-model", key, "--row-method", method, "--row-solver", solver,
           "--qutip-seconds", str(args.qutip_seconds)] + (["--quick"] if args.quick else []) + \
        ([f"--points={args.points}"] if args.points else [])
    limit = args.qutip_timeout if method != "jaxtherm" else None
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=limit, **where)
    except subprocess.TimeoutExpired:  # not one point within the limit: an upper bound on its speed
        return {"points": 0, "points_per_s": 1.0 / limit, "indices": [], "values": [], "peak_mb": float("nan"),
                "timed_out": limit}
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"{key} {method}: {out.stderr[-2000:]}")
    return json.loads(line[7:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", action="append")
    ap.add_argument("--solver", action="append", default=[])
    ap.add_argument("--qutip-seconds", type=float, default=20.0)
    ap.add_argument("--qutip-timeout", type=float, default=600.0,
                    help="seconds a QuTiP row may take (warm-up included); one that times out is "
                         "reported as below 1/timeout points/s")
    ap.add_argument("--json")
    ap.add_argument("--warm-starts", type=int, metavar="ROUNDS",
                    help="time Krylov with and without warm starts, ROUNDS pairs alternating (no QuTiP)")
    ap.add_argument("--points", type=int, help="points a jaxtherm row solves (default: the model's)")
    ap.add_argument("--base", metavar="TREE", help="with --warm-starts: the cold side is solver=\"krylov\" from this checkout")
    ap.add_argument("--row-model", help=argparse.SUPPRESS)
    ap.add_argument("--row-method", help=argparse.SUPPRESS)
    ap.add_argument("--row-solver", default="auto", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.row_model:
        return child(args)
    if args.warm_starts:
        return warm_starts(args)
    rows = []
    print(f"{'model':<21}{'method':<26}{'points':>7}{'points/s':>11}{'× QuTiP':>9}{'peak MB':>9}{'compile s':>10}  max rel Δn_c")
    for key in MODELS:
        if not _selected(key, args.only):
            continue
        solvers = [s for s in ["auto", *args.solver] if not (s == "tables" and key in TABLES_TOO_LARGE)]
        if len(solvers) < 1 + len(args.solver):
            print(f"{key:<21}{'jaxtherm tables':<26}  not run: the entry tables hold ~10⁸ terms and LU needs 1.3 GB")
        own = {s: run_row(key, "jaxtherm", s, args) for s in solvers}
        theirs = {} if key in GLOBAL else {m: run_row(key, m, "", args) for m in ("direct", "iterative-gmres")}
        best = max((r["points_per_s"] for r in theirs.values()), default=float("nan"))
        ref = np.asarray(own["auto"]["values"])
        for s, r in own.items():
            diff = np.max(np.abs(np.asarray(r["values"]) / ref - 1))
            print(f"{key:<21}{'jaxtherm ' + s:<26}{r['points']:>7}{r['points_per_s']:>11.3g}{r['points_per_s'] / best:>9.1f}"
                  f"{r['peak_mb']:>9.0f}{r['compile_s']:>10.1f}  ok {r['ok']:.0%}; {r['plan']}"
                  + (f"; max rel Δn_c from auto {diff:.1e}" if s != "auto" else ""))
            rows.append({"model": key, "method": f"jaxtherm {s}", **{k: v for k, v in r.items() if k != "values"}})
        for m, r in theirs.items():
            diff = np.max(np.abs(np.asarray(r["values"]) / ref[r["indices"]] - 1)) if r["indices"] else np.nan
            rate = f"<{r['points_per_s']:.3g}" if r.get("timed_out") else f"{r['points_per_s']:.3g}"
            print(f"{key:<21}{'qutip ' + m:<26}{r['points']:>7}{rate:>11}{'':>9}{r['peak_mb']:>9.0f}"
                  f"{'':>10}  {diff:.1e}" + (f"  (no point within {r['timed_out']:.0f} s)" if r.get("timed_out") else ""))
            rows.append({"model": key, "method": f"qutip {m}", "max_rel_diff": float(diff),
                         **{k: v for k, v in r.items() if k not in ("values", "indices")}})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


def warm_starts(args) -> None:
    """``--warm-starts``: warm against cold Krylov, alternating in fresh processes."""
    cold_side = f"`krylov` of {args.base}" if args.base else "cold"
    print(f"| model | points | {cold_side} points/s | warm points/s | warm / cold (median of pairs) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for key in MODELS:
        if not _selected(key, args.only):
            continue
        runs = {"krylov-cold": [], "krylov": []}
        for _ in range(args.warm_starts):
            if args.base:
                runs["krylov-cold"].append(run_row(key, "jaxtherm", "krylov", args, args.base))
            else:
                runs["krylov-cold"].append(run_row(key, "jaxtherm", "krylov-cold", args))
            runs["krylov"].append(run_row(key, "jaxtherm", "krylov", args))
        cold, warm = ([r["points_per_s"] for r in runs[s]] for s in runs)
        ratio = np.median([w / c for w, c in zip(warm, cold)])
        print(f"| {key} | {runs['krylov'][0]['points']} | {', '.join(f'{x:.3g}' for x in cold)} | "
              f"{', '.join(f'{x:.3g}' for x in warm)} | {ratio:.2f} |", flush=True)


if __name__ == "__main__":
    main()
