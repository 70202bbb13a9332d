"""Bloch–Redfield and the ULE beside the global (Davies) model and beside a QuTiP loop, in one run.

Rows, each in a fresh subprocess:

* ``kernel``: the compiled ``batched_kernel(model, parameters, (), float64, "auto", rho=False)``
  over chunks already on the device (as ``bench_models.py`` runs it), compile time apart, passes
  repeated for at least ``--seconds``; for the qubit pair, the 3-qubit chain and the absorption
  refrigerator with ``coupling = "global"``, ``"redfield"`` and ``"ule"`` (``bose`` baths);
* ``qutip``: what users run today, per point: ``qutip.bloch_redfield_tensor(H, a_ops,
  sec_cutoff=-1, fock_basis=True)`` and ``qutip.steadystate(R, method="direct")`` for Redfield
  (``a_ops`` the couplings with the bath's spectrum ``S(ω) = γ(ω)``, the convention of
  ``tests/master_equations.py``), and for the ULE its jump operators built with NumPy and
  ``qutip.steadystate(H, c_ops, method="direct")``; stopped after ``--qutip-seconds`` (one
  untimed warm-up point first), then checked against ``jaxtherm.solve`` (max |Δρ|, untimed).

Columns ``× global``: a row's points/s over the same model's global kernel; ``× QuTiP``: over
the QuTiP loop of the same model and equation. Points are random inside the domains
(frequencies 0.5–2, temperatures 0.3–3, rates 0.05–1, couplings 0.01–0.5); ``ok`` is the
fraction with status 0 or 6 (Redfield's not-positive states keep their numbers).

Usage::

    python benchmarks/bench_master_equations.py [--quick] [--seconds S] [--qutip-seconds S] [--json out.json]
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
import bench_models  # noqa: E402

RESULT = "BENCH_MASTER_EQUATIONS_RESULT "

# label, family, options, kernel points, kernel chunk, QuTiP points (at most)
MODELS = [
    ("qubit pair", "qubit_pair", {}, 400_000, 16384, 400),
    ("3-qubit chain", "qubit_chain", {"n": 3}, 20_000, 2048, 200),
    ("refrigerator", "absorption_refrigerator", {}, 100_000, 4096, 200),
]
EQUATIONS = ("global", "redfield", "ule")


def random_points(model, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for name in model.parameters:
        if name.startswith("beta"):
            out[name] = 1.0 / rng.uniform(0.3, 3.0, n)
        elif name.startswith("gamma"):
            out[name] = rng.uniform(0.05, 1.0, n)
        elif name in ("epsilon", "g"):
            out[name] = rng.uniform(0.01, 0.5, n)
        else:
            out[name] = rng.uniform(0.5, 2.0, n)
    return out


def kept(status) -> float:
    status = np.asarray(status)
    return float(np.count_nonzero((status == 0) | (status == 6)) / max(status.size, 1))


def bench_kernel(model, n: int, chunk: int, min_seconds: float) -> dict:
    import jaxtherm

    row = bench_models.bench_kernel(model, n, chunk, min_seconds, points=random_points(model, n), ok=kept)
    return {**row, "plan": jaxtherm.solvers.Auto().plan(model).description}


def _gamma(term, p: dict):
    """The bath's ``γ(ω)`` of a signed frequency (QuTiP's ``S(ω)``: emission at ``ω > 0``), finite at 0."""
    beta, rate = float(term.beta(p)), float(term.rate(p))
    cutoff = None if term.cutoff is None else float(term.cutoff(p))

    def s(w):
        if w == 0:  # QuTiP evaluates S on the diagonal, where the coupling is zero for these models
            return 0.0
        emission, absorption = term.spectrum.rates(abs(w), beta, rate, cutoff)
        return float(emission if w > 0 else absorption)

    return s


def _ule_jump(h: np.ndarray, term, p: dict) -> np.ndarray:
    """``L = Σ_mn √γ(E_n − E_m) X_mn |m⟩⟨n|`` in the product basis (NumPy)."""
    energies, v = np.linalg.eigh(h)
    x = np.conj(v).T @ np.asarray(term.coupling) @ v
    gamma = _gamma(term, p)
    nu = energies[None, :] - energies[:, None]  # nu[m, n] = E_n − E_m
    rates = np.vectorize(gamma)(nu) * (np.abs(x) > 1e-12)
    return v @ (np.sqrt(rates) * x) @ np.conj(v).T


def bench_qutip(model, equation: str, n: int, budget: float) -> dict:
    import qutip

    import jaxtherm

    p = random_points(model, n, seed=1)

    def steady_state(i):
        pi = {k: float(v[i]) for k, v in p.items()}
        h = sum(float(t.coefficient(pi)) * np.asarray(t.operator, complex) for t in model.hamiltonian)
        hq = qutip.Qobj(h)
        if equation == "redfield":
            a_ops = [[qutip.Qobj(np.asarray(k.coupling)), _gamma(k, pi)] for k in model.davies]
            tensor = qutip.bloch_redfield_tensor(hq, a_ops=a_ops, sec_cutoff=-1, fock_basis=True)
            return qutip.steadystate(tensor, method="direct").full()
        c_ops = [qutip.Qobj(_ule_jump(h, k, pi)) for k in model.davies]
        return qutip.steadystate(hq, c_ops, method="direct").full()

    rhos, run = bench_models.timed_loop(steady_state, n, budget)
    m = len(rhos)
    ref = jaxtherm.solve(model, **{k: v[:m] for k, v in p.items()})
    diff = float(np.max(np.abs(np.asarray(ref["rho"]) - np.stack(rhos))))
    return {"n": m, "points_per_s": m / run, "compile_s": 0.0, "max_drho_vs_jaxtherm": diff, "ok": kept(ref["status"])}


def child(args) -> None:
    import jaxtherm

    label, family, options, n, chunk, n_qutip = next(m for m in MODELS if m[0] == args.model)
    model = jaxtherm.models.get(family, coupling=args.equation, spectrum="bose", **options)
    try:
        if args.method == "kernel":
            res = bench_kernel(model, max(int(n * args.scale), 64), chunk, args.seconds)
        else:
            res = bench_qutip(model, args.equation, max(int(n_qutip * args.scale), 3), args.qutip_seconds)
    except Exception as err:  # reported in the table
        import traceback

        traceback.print_exc()
        res = {"error": f"{type(err).__name__}: {err}"}
    print(RESULT + json.dumps({"model": label, "equation": args.equation, "method": args.method, **res}), flush=True)


def rows() -> list[tuple[str, str, str]]:
    out = []
    for label, *_ in MODELS:
        out += [(label, eq, "kernel") for eq in EQUATIONS]
        out += [(label, eq, "qutip") for eq in ("redfield", "ule")]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="minimum timed seconds of a kernel row")
    ap.add_argument("--qutip-seconds", type=float, default=10.0, help="time budget of a QuTiP loop")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the point counts")
    ap.add_argument("--quick", action="store_true", help="tiny sizes: check that the script works")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--equation", help=argparse.SUPPRESS)
    ap.add_argument("--method", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.qutip_seconds, args.scale = 0.1, 0.5, 0.01
    if args.child:
        child(args)
        return
    results = []
    for label, eq, method in rows():
        cmd = [sys.executable, __file__, "--child", "--model", label, "--equation", eq, "--method", method,
               "--seconds", str(args.seconds), "--qutip-seconds", str(args.qutip_seconds), "--scale", str(args.scale)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
        line = next((x for x in proc.stdout.splitlines() if x.startswith(RESULT)), None)
        res = json.loads(line[len(RESULT):]) if line else {"model": label, "equation": eq, "method": method,
                                                           "error": proc.stderr.strip().splitlines()[-1:]}
        results.append(res)
        print(f"  {label:14s} {eq:9s} {method:7s} {res.get('points_per_s', float('nan')):>14,.1f} points/s",
              file=sys.stderr, flush=True)
    print_table(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": platform.machine(), "processor": platform.processor(), "cpus": os.cpu_count(),
                       "results": results}, f, indent=1)


def print_table(results: list[dict]) -> None:
    def find(model, eq, method):
        return next((r for r in results if (r["model"], r["equation"], r["method"]) == (model, eq, method)), {})

    print("| model | equation | method | points/s | compile | × global | × QuTiP | what runs |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        if "error" in r:
            print(f"| {r['model']} | {r['equation']} | {r['method']} | error: {r['error']} | | | | |")
            continue
        rate = r["points_per_s"]
        glob = find(r["model"], "global", "kernel").get("points_per_s")
        qt = find(r["model"], r["equation"], "qutip").get("points_per_s")
        x_global = f"{rate / glob:.2f}×" if glob and r["method"] == "kernel" else ""
        x_qutip = f"{rate / qt:,.0f}×" if qt and r["method"] == "kernel" and r["equation"] != "global" else ""
        what = r.get("plan", f"{r['n']} points, max |Δρ| vs jaxtherm {r.get('max_drho_vs_jaxtherm', 0):.1e}")
        compile_s = f"{r['compile_s']:.1f} s" if r["method"] == "kernel" else "–"
        print(f"| {r['model']} | {r['equation']} | {r['method']} | {rate:,.0f} | {compile_s} | {x_global} | "
              f"{x_qutip} | {what} |")


if __name__ == "__main__":
    main()
