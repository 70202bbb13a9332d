"""Throughput of every built-in model: the compiled kernel, ``jaxtherm.solve`` and ``jaxtherm run``
beside a QuTiP ``steadystate`` loop on the same model, in one run.

Rows, each in a fresh subprocess so that its peak resident memory (``ru_maxrss``) is its own:

* ``kernel``: the compiled ``batched_kernel(model, parameters, (), float64, "auto", False)``
  over chunks already on the device (as ``bench_solve.py`` runs it), compile time apart;
  passes over the N points are repeated for at least ``--seconds`` (default 5);
* ``general`` (global models): the same kernel with ``Reduced(eigenbasis=False)``, the
  previous solver: one ``eigh`` of the full ``H`` and the general Davies assembly a point;
* ``solve``: ``jaxtherm.solve(model, rho=False, **points)`` with its default chunking, repeated
  likewise (the compile time is the first call's time minus a timed call's);
* ``run``: ``jaxtherm run`` end to end (``run_sweep``: kernel, journal and HDF5 writer) on one
  linspace grid per model family, automatic chunk size;
* ``qutip``: ``qutip.steadystate(H, c_ops, method="direct")`` in a loop over a small subsample,
  ``H`` and the jump operators built per point from the model's own operators (Davies jumps
  from a NumPy ``eigh`` of ``H`` grouped by Bohr frequency, rates from the bath's spectrum);
  stopped after ``--qutip-seconds`` (default 20, at least 3 points; one untimed warm-up point
  first); then checked against ``jaxtherm.solve`` on the same points (max |Δρ|, untimed).
  The ``× QuTiP`` column divides each row's points/s by this row's, for the same model.

Points are drawn at random inside each parameter's domain (frequencies 0.5–2, temperatures
0.3–3, rates 0.05–1, couplings 0.01–0.5); the fraction of points with ``status == 0`` is
printed for every row (it should be ≥ 99 %). Only the public API is used.

Usage::

    python benchmarks/bench_models.py [--quick] [--only SUBSTRING] ... [--scale X] [--json out.json]

``--only`` (repeatable) keeps the rows whose label ``"MODEL METHOD"`` (e.g. ``"qubit_chain/n=3/local
kernel"``) contains the substring; ``--scale`` multiplies the default sizes. ``--quick`` checks
that the script works in under two minutes: tiny sizes, all rows of a model in one process (so
peak RSS is not per row, and timings are not meaningful), and, without ``--only``, a subset that
covers every code path and every family's run grid (``--quick --only qubit_chain`` checks others).
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

import numpy as np

RESULT = "BENCH_MODELS_RESULT "

# key, family, options, kernel/solve points, kernel chunk, QuTiP points (at most), `jaxtherm run` grid
# points (None: no run row). The kernel and solve rows repeat passes over their points for at
# least --seconds; the QuTiP loop stops after --qutip-seconds. Sizes aim at 5-20 s a row on a
# 2-core CPU (the big models' kernels are slow there: docs/performance.md); --scale adjusts them.
MODELS = [
    ("qubit_pair/local", "qubit_pair", {"coupling": "local"}, 1_000_000, 65536, 300, 4_000_000),
    ("qubit_pair/global", "qubit_pair", {"coupling": "global"}, 100_000, 1024, 300, None),
    ("qubit_pair/incoherent", "qubit_pair", {"coupling": "incoherent"}, 1_000_000, 65536, 300, None),
    ("qubit_chain/n=2/local", "qubit_chain", {"n": 2, "coupling": "local"}, 1_000_000, 65536, 300, None),
    ("qubit_chain/n=3/local", "qubit_chain", {"n": 3, "coupling": "local"}, 100_000, 16384, 300, 1_000_000),
    ("qubit_chain/n=4/local", "qubit_chain", {"n": 4, "coupling": "local"}, 20_000, 1024, 300, None),
    ("qubit_chain/n=5/local", "qubit_chain", {"n": 5, "coupling": "local"}, 256, 256, 100, None),
    ("qubit_chain/n=2/global", "qubit_chain", {"n": 2, "coupling": "global"}, 100_000, 1024, 300, None),
    ("qubit_chain/n=3/global", "qubit_chain", {"n": 3, "coupling": "global"}, 10_000, 1024, 300, None),
    ("qubit_chain/n=4/global", "qubit_chain", {"n": 4, "coupling": "global"}, 512, 256, 100, None),
    ("absorption_refrigerator/local", "absorption_refrigerator", {"coupling": "local"}, 1_000_000, 65536, 300,
     2_000_000),
    ("absorption_refrigerator/global", "absorption_refrigerator", {"coupling": "global"}, 10_000, 1024, 300, None),
    ("oscillator_pair/cutoff=4/local", "oscillator_pair", {"cutoff": 4, "coupling": "local"}, 100_000, 4096, 300,
     100_000),
    ("oscillator_pair/cutoff=6/local", "oscillator_pair", {"cutoff": 6, "coupling": "local"}, 512, 256, 100, None),
    ("oscillator_pair/cutoff=8/local", "oscillator_pair", {"cutoff": 8, "coupling": "local"}, 256, 256, 50, None),
]
METHODS = ("kernel", "general", "solve", "run", "qutip")
# --quick: tiny sizes, and without --only these rows: every code path (kernel, solve, run and
# QuTiP with Lindblad and Davies jumps) and every family's run grid
QUICK = {"kernel": 128, "general": 128, "solve": 128, "run": 1000, "qutip": 2}
QUICK_ROWS = ("qubit_pair/local ", "qubit_pair/global kernel", "qubit_pair/global general", "qubit_pair/global solve",
              "qubit_pair/global qutip",
              "qubit_chain/n=3/local run", "absorption_refrigerator/local run", "oscillator_pair/cutoff=4/local run")

# run rows: the grid's axes per family (the other parameters fixed mid-range)
RUN_AXES = {
    "qubit_pair": ("beta_b", "epsilon", "omega_b"),
    "qubit_chain": ("beta_c", "g", "gamma_c"),
    "absorption_refrigerator": ("beta_h", "E_c", "g"),
    "oscillator_pair": ("beta_a", "epsilon", "omega_b"),
}


def value_range(model, name: str) -> tuple[float, float]:
    """Sampling range of a parameter, by its name and domain (inverse temperatures: 1/3 … 1/0.3)."""
    if name.startswith("beta"):
        return 1 / 3.0, 1 / 0.3
    if name.startswith("gamma"):
        return 0.05, 1.0
    if name == "omega_cutoff":
        return 2.0, 10.0
    if name.startswith("omega") or name.startswith("E_"):
        return 0.5, 2.0
    if name in ("epsilon", "g"):
        return 0.01, 0.5
    domain = model.parameter_info[name].domain
    return {"> 0": (0.5, 2.0), ">= 0": (0.05, 1.0)}.get(domain, (0.01, 0.5))


def random_points(model, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` random points inside every parameter's domain (temperatures uniform in 0.3–3)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in model.parameters:
        if name.startswith("beta"):
            out[name] = 1.0 / rng.uniform(0.3, 3.0, n)
        else:
            out[name] = rng.uniform(*value_range(model, name), n)
    return out


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ok_fraction(status) -> float:
    status = np.asarray(status)
    return float(np.count_nonzero(status == 0) / max(status.size, 1))


def bench_kernel(model, n: int, chunk: int, min_seconds: float, solver="auto", fluctuations: bool = False,
                 points: dict | None = None, ok=ok_fraction) -> dict:
    """The compiled ``batched_kernel`` over ``n`` points (``points``, default ``random_points``)
    in chunks of ``chunk``, passes repeated for at least ``min_seconds``; ``ok(status)`` the
    fraction of points counted good."""
    import jax
    import jax.numpy as jnp

    from jaxtherm.kernel.batch import batched_kernel, padded

    names = tuple(model.parameters)
    dtype = np.dtype("float64")
    p = random_points(model, n) if points is None else points
    size = padded(min(chunk, n))
    fn = batched_kernel(model, names, (), dtype, solver, False, fluctuations=fluctuations)
    t0 = time.perf_counter()
    compiled = fn.lower(*[jax.ShapeDtypeStruct((size,), dtype)] * len(names)).compile()
    compile_s = time.perf_counter() - t0
    chunks = [[jnp.asarray(np.resize(p[k][start:start + size], size)) for k in names] for start in range(0, n, size)]
    jax.block_until_ready(compiled(*chunks[0]))
    first = next(iter(model.observables))
    reps, total, status = 0, 0.0, None
    while reps == 0 or total < min_seconds:  # passes over all chunks until min_seconds
        t0 = time.perf_counter()
        outs = [compiled(*c) for c in chunks]
        outs = [(o["status"], o[first]) for o in outs]
        jax.block_until_ready(outs)
        total += time.perf_counter() - t0
        reps += 1
        if status is None:
            status = np.concatenate([np.asarray(s) for s, _ in outs])[:n]
    run = total / reps
    return {"n": n, "points_per_s": n / run, "seconds": run, "passes": reps, "compile_s": compile_s,
            "peak_mb": peak_mb(), "chunk": size, "ok": ok(status)}


def timed_loop(step, n: int, budget: float) -> tuple[list, float]:
    """``[step(0), step(1), …]`` for at most ``n`` points, stopping after ``budget`` seconds (at
    least 3 points), after one untimed warm-up call ``step(0)``; returns the values and seconds."""
    step(0)
    t0 = time.perf_counter()
    values = []
    for i in range(n):
        values.append(step(i))
        if len(values) >= 3 and time.perf_counter() - t0 > budget:
            break
    return values, time.perf_counter() - t0


def bench_solve(model, n: int, min_seconds: float) -> dict:
    import jax

    import jaxtherm

    p = random_points(model, n)
    t0 = time.perf_counter()
    out = jax.block_until_ready(jaxtherm.solve(model, rho=False, **p))
    first = time.perf_counter() - t0
    reps, total = 0, 0.0
    while reps == 0 or total < min_seconds:
        t0 = time.perf_counter()
        jax.block_until_ready(jaxtherm.solve(model, rho=False, **p))
        total += time.perf_counter() - t0
        reps += 1
    run = total / reps
    return {"n": n, "points_per_s": n / run, "seconds": run, "passes": reps, "compile_s": max(first - run, 0.0),
            "peak_mb": peak_mb(), "ok": ok_fraction(out["status"])}


def toml_value(v) -> str:
    return json.dumps(v)  # strings, ints and floats are valid TOML as JSON writes them


def run_spec(family: str, options: dict, model, points: int) -> str:
    axes = RUN_AXES[family]
    k = max(2, round(points ** (1 / len(axes))))
    counts = [k] * (len(axes) - 1) + [max(2, round(points / k ** (len(axes) - 1)))]
    lines = ["[model]", f"name = {toml_value(family)}"]
    lines += [f"{key} = {toml_value(v)}" for key, v in options.items()]
    lines += ["", "[parameters]"]
    for name in model.parameters:
        if name not in axes:
            lo, hi = value_range(model, name)
            lines.append(f"{name} = {(lo + hi) / 2!r}")
    lines += ["", "[axes]"]
    for name, count in zip(axes, counts):
        lo, hi = value_range(model, name)
        lines.append(f"{name} = {{ linspace = [{lo!r}, {hi!r}, {count}] }}")
    return "\n".join(lines) + "\n"


def bench_run(family: str, options: dict, model, points: int) -> dict:
    from jaxtherm.sweep import parse_spec, run_sweep

    text = run_spec(family, options, model, points)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bench.h5")
        spec = parse_spec(text, "bench.toml")
        t0 = time.perf_counter()
        s = run_sweep(spec, output=out, progress=False)
        total = time.perf_counter() - t0
        file_mb = os.path.getsize(out) / 2**20
    return {"n": s.points, "points_per_s": s.points_per_second, "seconds": s.sweep_seconds,
            "compile_s": s.compile_seconds, "total_s": total, "chunk": s.chunk_size, "peak_mb": peak_mb(),
            "file_mb": file_mb, "ok": 1.0 - s.failed / max(s.points, 1), "spec": text}


def davies_jumps(h: np.ndarray, term, p: dict, tol: float = 1e-9) -> list:
    """QuTiP-free NumPy Davies jumps of one thermalizer at one point: ``[(rate, A(ν), ν)]``,
    ``A(ν) = Σ_{E_m − E_n = ν} X_nm |n⟩⟨m|`` grouped by Bohr frequency ``ν ≠ 0`` (a jump gives
    ``ν`` to the bath)."""
    energies, vecs = np.linalg.eigh(h)
    x = vecs.conj().T @ np.asarray(term.coupling) @ vecs
    groups: list[tuple[float, np.ndarray]] = []
    for m in range(len(energies)):
        for n in range(len(energies)):
            nu = energies[m] - energies[n]
            if abs(nu) <= tol or x[n, m] == 0:
                continue
            jump = next((j for g_nu, j in groups if abs(g_nu - nu) <= tol), None)
            if jump is None:
                jump = np.zeros(h.shape, complex)
                groups.append((nu, jump))
            jump += x[n, m] * np.outer(vecs[:, n], vecs[:, m].conj())
    if not groups:
        return []
    nus = np.array([nu for nu, _ in groups])
    rate, beta = float(term.rate(p)), float(term.beta(p))
    cutoff = float(term.cutoff(p)) if term.cutoff is not None else None
    emission = np.asarray(term.spectrum.emission(np.abs(nus), beta, rate, cutoff))
    absorption = np.asarray(term.spectrum.absorption(np.abs(nus), beta, rate, cutoff))
    rates = np.where(nus > 0, emission, absorption)
    return [(float(r), jump, float(nu)) for r, (nu, jump) in zip(rates, groups)]


def bench_qutip(model, n: int, budget: float) -> dict:
    import qutip

    import jaxtherm

    p = random_points(model, n, seed=1)

    def coefficients(q):
        """Hamiltonian coefficients and Lindblad rates of the points ``q``, vectorised."""
        m = len(next(iter(q.values())))
        return ([np.broadcast_to(np.asarray(t.coefficient(q), float), (m,)) for t in model.hamiltonian],
                [np.broadcast_to(np.asarray(k.rate(q), float), (m,)) for k in model.lindblads])

    def steady_state(q, i, h_coef, l_rate):
        """QuTiP's steady state at point ``i`` of ``q``, its operators built from the model's."""
        pi = {k: float(v[i]) for k, v in q.items()}
        h = sum(c[i] * np.asarray(t.operator, complex) for c, t in zip(h_coef, model.hamiltonian))
        c_ops = [qutip.Qobj(np.sqrt(r[i]) * np.asarray(k.jump, complex)) for r, k in zip(l_rate, model.lindblads)]
        for term in model.davies:
            c_ops += [qutip.Qobj(np.sqrt(r) * jump) for r, jump, _ in davies_jumps(h, term, pi)]
        return qutip.steadystate(qutip.Qobj(h), c_ops, method="direct").full()

    # untimed warm-up: QuTiP's first call sets up caches, and JAX compiles the coefficient
    # functions' operations for each new shape on first (eager) use
    coefficients(p)
    steady_state(p, 0, *coefficients(p))
    t0 = time.perf_counter()
    h_coef, l_rate = coefficients(p)
    rhos = []
    for i in range(n):  # at most n points, stopping after `budget` seconds (at least 3 points)
        rhos.append(steady_state(p, i, h_coef, l_rate))
        if len(rhos) >= 3 and time.perf_counter() - t0 > budget:
            break
    n = len(rhos)
    p = {k: v[:n] for k, v in p.items()}
    run = time.perf_counter() - t0
    peak = peak_mb()
    ref = jaxtherm.solve(model, **p)
    ok = np.asarray(ref["status"]) == 0
    diff = float(np.max(np.abs(np.asarray(ref["rho"])[ok] - np.stack(rhos)[ok]))) if ok.any() else float("nan")
    return {"n": n, "points_per_s": n / run, "seconds": run, "compile_s": 0.0, "peak_mb": peak,
            "max_drho_vs_jaxtherm": diff, "ok": ok_fraction(ref["status"])}


def child(args) -> None:
    import jaxtherm

    key, family, options, n, chunk, n_qutip, n_run = next(m for m in MODELS if m[0] == args.model)
    model = jaxtherm.models.get(family, **options)
    results = []
    for method in args.methods.split(","):
        size = int(args.size[method])
        try:
            if method == "kernel":
                res = bench_kernel(model, size, chunk, args.seconds)
            elif method == "general":  # the previous solver: general Davies construction on the sector
                res = bench_kernel(model, size, chunk, args.seconds, jaxtherm.Reduced(eigenbasis=False))
            elif method == "solve":
                res = bench_solve(model, size, args.seconds)
            elif method == "run":
                res = bench_run(family, options, model, size)
            elif method == "qutip":
                res = bench_qutip(model, size, args.qutip_seconds)
            else:
                raise ValueError(method)
        except Exception as err:  # reported in the table, with the exact error
            import traceback

            traceback.print_exc()
            res = {"error": f"{type(err).__name__}: {err}"}
        results.append({"model": key, "method": method, **res})
    print(RESULT + json.dumps(results), flush=True)


def fmt_int(x: float) -> str:
    if x != x:
        return "nan"
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="tiny sizes, one process per model, a subset of rows unless --only (< 2 minutes)")
    ap.add_argument("--only", action="append", default=[], metavar="SUBSTRING",
                    help="only the rows whose label 'MODEL METHOD' contains this (repeatable)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the default sizes (not with --quick)")
    ap.add_argument("--seconds", type=float, default=5.0,
                    help="kernel and solve rows: repeat passes over the points for at least this long")
    ap.add_argument("--qutip-seconds", type=float, default=20.0,
                    help="QuTiP rows: stop the loop after this long (at least 3 points)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--methods", help=argparse.SUPPRESS)
    ap.add_argument("--sizes", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        args.size = json.loads(args.sizes)
        return child(args)

    import jax

    import jaxtherm

    dev = jax.devices()[0]
    u = platform.uname()
    print(f"machine: {platform.processor() or u.machine} ({u.system} {u.release}, {u.machine}), "
          f"{os.cpu_count()} CPUs, {len(jax.devices())} JAX device(s): {dev.platform} {dev.device_kind}, "
          f"jax {jax.__version__}, jaxtherm {jaxtherm.__version__}, python {platform.python_version()}, float64"
          + (" [--quick: tiny sizes, peak RSS shared by a model's rows]" if args.quick else ""), flush=True)

    # (model key, [methods], {method: size}) per subprocess
    jobs = []
    for key, _family, _options, n, _chunk, n_qutip, n_run in MODELS:
        sizes = {"kernel": n, "general": n if "global" in key else None, "solve": n, "run": n_run, "qutip": n_qutip}
        wanted = args.only or (QUICK_ROWS if args.quick else ())
        methods = [m for m in METHODS if sizes[m] is not None
                   and (not wanted or any(s in f"{key} {m} " for s in wanted))]
        if args.quick:
            sizes = {m: QUICK[m] for m in sizes}
        elif args.scale != 1.0:
            sizes = {m: max(1, int(v * args.scale)) if v else v for m, v in sizes.items()}
        if not methods:
            continue
        if args.quick:
            jobs.append((key, methods, sizes))
        else:
            jobs += [(key, [m], sizes) for m in methods]
    if not jobs:
        raise SystemExit(f"no row matches --only {args.only}")

    script = os.path.abspath(__file__)
    rows = []
    for key, methods, sizes in jobs:
        cmd = [sys.executable, script, "--child", "--model", key, "--methods", ",".join(methods),
               "--sizes", json.dumps(sizes), "--seconds", str(0 if args.quick else args.seconds),
               "--qutip-seconds", str(args.qutip_seconds)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT)]
        if proc.returncode or not lines:
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            print(f"{key} {','.join(methods)}: child failed (exit {proc.returncode}):\n{tail}", flush=True)
            rows += [{"model": key, "method": m, "error": f"child exit {proc.returncode}: "
                      f"{(proc.stderr.strip().splitlines() or [''])[-1]}"} for m in methods]
            continue
        for r in json.loads(lines[-1][len(RESULT):]):
            rows.append(r)
            if "error" in r:
                tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
                print(f"{key:>32} {r['method']:>6}: ERROR {r['error']}\n{tail}", flush=True)
                continue
            extra = f"  chunk {r['chunk']:,}" if "chunk" in r else ""
            if "passes" in r:
                extra += f"  {r['passes']} pass(es)"
            if "max_drho_vs_jaxtherm" in r:
                extra += f"  max|Δρ| vs jaxtherm {r['max_drho_vs_jaxtherm']:.1e}"
            print(f"{key:>32} {r['method']:>6} N={r['n']:>9,}: {fmt_int(r['points_per_s']):>12} points/s  "
                  f"compile {r['compile_s']:6.2f} s  peak {r['peak_mb']:6.0f} MB  status ok {100 * r['ok']:.2f} %"
                  f"{'' if r['ok'] >= 0.99 else '  (< 99 %!)'}{extra}", flush=True)

    qutip_rate = {r["model"]: r["points_per_s"] for r in rows if r["method"] == "qutip" and "error" not in r}
    label = {"kernel": "kernel (chunks on device)", "general": "kernel, previous solver (general Davies)",
             "solve": "`jaxtherm.solve(rho=False)`",
             "run": "`jaxtherm run` → HDF5", "qutip": "QuTiP `steadystate` loop"}
    print()
    print("| model | method | N | points/s | compile | chunk | peak RSS | status ok | × QuTiP |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        if "error" in r:
            print(f"| {r['model']} | {label[r['method']]} | – | error: {r['error']} | | | | | |")
            continue
        ratio = ""
        if r["method"] != "qutip" and r["model"] in qutip_rate:
            ratio = f"{r['points_per_s'] / qutip_rate[r['model']]:,.0f}×"
        compile_s = f"{r['compile_s']:.1f} s" if r["method"] != "qutip" else "–"
        chunk = f"{r['chunk']:,}" if "chunk" in r else "–"
        print(f"| {r['model']} | {label[r['method']]} | {r['n']:,} | {fmt_int(r['points_per_s'])} | {compile_s} | "
              f"{chunk} | {r['peak_mb']:,.0f} MB | {100 * r['ok']:.2f} % | {ratio} |")
    low = [f"{r['model']} {r['method']}" for r in rows if "error" not in r and r["ok"] < 0.99]
    errors = [f"{r['model']} {r['method']}" for r in rows if "error" in r]
    if low:
        print(f"\nstatus == 0 below 99 % in: {', '.join(low)}")
    if errors:
        print(f"\nfailed rows: {', '.join(errors)}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
