"""Throughput and peak memory of ``jaxtherm.solve`` beside what users would otherwise write.

Measures, in one run, on the qubit pair (default: local coupling, float64):

* the compiled kernel alone (symmetry-reduced, float64 and float32, and the dense reference),
  chunked as a sweep chunks it, inputs already on the device (compile time reported apart);
  float32 rows report their error against float64;
* ``jaxtherm.solve`` at 10³ … 10⁶ points (compile time reported separately);
* forward-mode gradients of every observable w.r.t. 3 parameters (``solve(gradients=…)``) and
  reverse mode ``jax.vmap(jax.grad(J_a))``;
* a NumPy batched solve of the same full complex 16×16 Liouvillians (assembled from the same
  superoperators, one row replaced by the trace, ``np.linalg.solve`` on the stack);
* a QuTiP ``steadystate`` loop (timed on a subsample; points/s is per point).

Each configuration runs in a fresh subprocess so that its peak resident memory (``ru_maxrss``)
is its own. Usage::

    python benchmarks/bench_solve.py [--coupling local] [--sizes 1e3 1e4 1e5 1e6] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time

import numpy as np

PARAMS = ("omega_a", "omega_b", "beta_a", "beta_b", "gamma_a", "gamma_b", "epsilon")


def grid(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "omega_a": rng.uniform(0.5, 2.0, n),
        "omega_b": rng.uniform(0.5, 2.0, n),
        "beta_a": rng.uniform(0.2, 2.0, n),
        "beta_b": rng.uniform(0.2, 2.0, n),
        "gamma_a": rng.uniform(0.05, 1.0, n),
        "gamma_b": rng.uniform(0.05, 1.0, n),
        "epsilon": rng.uniform(0.01, 1.0, n),
    }


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_kernel(coupling: str, n: int, mode: str, chunk: int) -> dict:
    """The compiled ``jit(vmap(point))`` over ``n`` points in chunks, as a sweep runs it."""
    import jax
    import jax.numpy as jnp

    import jaxtherm
    from jaxtherm.kernel.batch import batched_kernel, padded

    model = jaxtherm.qubit_pair(coupling)
    dtype = np.dtype("float32" if mode.endswith("float32") else "float64")
    solver = "dense" if "dense" in mode else "reduced"
    p = grid(n)
    size = padded(min(chunk, n))
    fn = batched_kernel(model, PARAMS, (), dtype, solver, False)
    t0 = time.perf_counter()
    compiled = fn.lower(*[jax.ShapeDtypeStruct((size,), dtype)] * len(PARAMS)).compile()
    compile_s = time.perf_counter() - t0
    chunks = []
    for start in range(0, n, size):
        args = [np.resize(p[k][start : start + size], size).astype(dtype) for k in PARAMS]
        chunks.append([jnp.asarray(a) for a in args])
    jax.block_until_ready(compiled(*chunks[0]))
    t0 = time.perf_counter()
    outs = [compiled(*c)["J_a"] for c in chunks]
    jax.block_until_ready(outs)
    run = time.perf_counter() - t0
    res = {"points_per_s": n / run, "seconds": run, "compile_s": compile_s, "peak_mb": peak_mb(), "chunk": size}
    if dtype == np.float32:  # accuracy against float64 on the same points
        m = min(n, 100_000)
        ref = jaxtherm.solve(model, rho=False, **{k: v[:m] for k, v in p.items()})
        got = np.concatenate([np.asarray(o, np.float64) for o in outs])[:m]
        j = np.asarray(ref["J_a"])
        flow = (p["gamma_a"][:m] + p["gamma_b"][:m]) * (p["omega_a"][:m] + p["omega_b"][:m] + p["epsilon"][:m])
        rel = np.abs(got - j) / np.abs(j)
        res["error"] = {"J_a_rel_median": float(np.median(rel)), "J_a_rel_p99": float(np.quantile(rel, 0.99)),
                        "J_a_over_flow_max": float(np.nanmax(np.abs(got - j) / flow))}
    return res


def run_jaxtherm(coupling: str, n: int, mode: str) -> dict:
    import jax

    import jaxtherm

    model = jaxtherm.qubit_pair(coupling)
    p = grid(n)
    if mode == "solve":
        def call():
            return jaxtherm.solve(model, **p)
    elif mode == "forward-grad-3":
        def call():
            return jaxtherm.solve(model, gradients=("epsilon", "beta_a", "beta_b"), **p)
    elif mode == "reverse-grad":
        f = jax.jit(jax.vmap(jax.grad(lambda q: jaxtherm.solve(model, **q)["J_a"])))
        pj = {k: jax.numpy.asarray(v) for k, v in p.items()}

        def call():
            return f(pj)
    else:
        raise ValueError(mode)
    t0 = time.perf_counter()
    jax.block_until_ready(call())
    first = time.perf_counter() - t0
    reps = max(1, int(2e5 // n))
    t0 = time.perf_counter()
    for _ in range(reps):
        jax.block_until_ready(call())
    run = (time.perf_counter() - t0) / reps
    return {"points_per_s": n / run, "seconds": run, "compile_s": max(first - run, 0.0), "peak_mb": peak_mb()}


def numpy_superoperators(coupling: str) -> np.ndarray:
    """The constant complex superoperators ``S_k`` ``(K, 16, 16)`` of the model, built once."""
    import jaxtherm
    from jaxtherm.physics import liouvillian

    model = jaxtherm.qubit_pair(coupling)
    if model.davies:
        raise SystemExit("the NumPy baseline covers the affine (incoherent, local) couplings")
    supers = [liouvillian.commutator_superoperator(t.operator) for t in model.hamiltonian]
    supers += [liouvillian.dissipator_superoperator(k.jump) for k in model.lindblads]
    return np.stack(supers)


def numpy_liouvillians(coupling: str, supers: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
    """Full complex Liouvillians ``(N, 16, 16)`` in plain NumPy, as a user would write them:
    ``L = Σ_k c_k(p) S_k`` with the coefficients written out."""
    coeffs = [p["omega_a"], p["omega_b"]] + ([p["epsilon"]] if coupling == "local" else [])
    for x in ("a", "b"):  # local thermalizers: down Γ, up Γ e^{−βω}
        coeffs += [p[f"gamma_{x}"], p[f"gamma_{x}"] * np.exp(-p[f"beta_{x}"] * p[f"omega_{x}"])]
    if coupling == "incoherent":
        coeffs += [p["epsilon"], p["epsilon"]]
    c = np.stack(coeffs, axis=1)  # (N, K)
    return np.einsum("nk,kij->nij", c, supers)


def run_numpy(coupling: str, n: int, block: int = 100_000) -> dict:
    """Batched ``np.linalg.solve`` of the full Liouvillians, in blocks of ``block`` points
    (a whole 10⁶-point stack of 16×16 complex systems and its temporaries would need ~15 GB)."""
    p = grid(n)
    supers = numpy_superoperators(coupling)
    t0 = time.perf_counter()
    for start in range(0, n, block):
        q = {k: v[start : start + block] for k, v in p.items()}
        m = len(q["epsilon"])
        big_l = numpy_liouvillians(coupling, supers, q)
        big_l[:, 0, :] = np.eye(4).ravel()  # replace one equation by Tr ρ = 1
        rhs = np.zeros((m, 16), complex)
        rhs[:, 0] = 1.0
        rho = np.linalg.solve(big_l, rhs[..., None])[..., 0].reshape(m, 4, 4)
        assert np.allclose(np.trace(rho, axis1=1, axis2=2), 1.0)
    run = time.perf_counter() - t0
    return {"points_per_s": n / run, "seconds": run, "compile_s": 0.0, "peak_mb": peak_mb()}


def run_qutip(coupling: str, n: int) -> dict:
    """A QuTiP ``steadystate`` loop over the same model (see ``bench_models.bench_qutip``)."""
    import os

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_models import bench_qutip

    import jaxtherm

    return bench_qutip(jaxtherm.qubit_pair(coupling), n, budget=float("inf"))


def child(args) -> None:
    if args.method == "numpy":
        res = run_numpy(args.coupling, args.n)
    elif args.method == "qutip":
        res = run_qutip(args.coupling, args.n)
    elif args.method.startswith("kernel"):
        res = run_kernel(args.coupling, args.n, args.method, args.chunk)
    else:
        res = run_jaxtherm(args.coupling, args.n, args.method)
    print(json.dumps(res))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--coupling", default="local", choices=("incoherent", "local", "global"))
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e3, 1e4, 1e5, 1e6])
    ap.add_argument("--qutip-points", type=int, default=300)
    ap.add_argument("--reverse-max", type=float, default=1e5,
                    help="largest N for reverse mode: one vmap(grad) call keeps every point's residuals "
                    "(about 10 KB/point); solve(gradients=...) is chunked and has no such limit")
    ap.add_argument("--chunk", type=int, default=65536, help="kernel rows: points per compiled chunk")
    ap.add_argument("--methods", nargs="+",
                    default=["kernel", "kernel-float32", "kernel-dense", "solve", "forward-grad-3", "reverse-grad", "numpy"])
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--method", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)

    def measure(method: str, n: int) -> dict:
        cmd = [sys.executable, __file__, "--child", "--method", method, "--n", str(n), "--coupling", args.coupling,
               "--chunk", str(args.chunk)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    import jax

    print(f"machine: {platform.processor() or platform.machine()}, {len(jax.devices())} JAX device(s) "
          f"[{jax.devices()[0].platform}], jax {jax.__version__}, coupling={args.coupling}, float64")
    rows = []
    methods = [m for m in args.methods if not (m == "numpy" and args.coupling == "global")]
    for n in (int(s) for s in args.sizes):
        for method in methods:
            if method == "reverse-grad" and n > args.reverse_max:
                continue
            rows.append({"method": method, "n": n, **measure(method, n)})
            r = rows[-1]
            error = "".join(f"  {k} {v:.1e}" for k, v in r.get("error", {}).items())
            print(f"{method:>15} N={n:>8}: {r['points_per_s']:>12,.0f} points/s  compile {r['compile_s']:6.2f} s  "
                  f"peak {r['peak_mb']:8.0f} MB{error}", flush=True)
    r = {"method": "qutip", "n": args.qutip_points, **measure("qutip", args.qutip_points)}
    rows.append(r)
    print(f"{'qutip loop':>15} N={r['n']:>8}: {r['points_per_s']:>12,.0f} points/s  peak {r['peak_mb']:8.0f} MB")
    best = {}
    for row in rows:
        best[row["method"]] = max(best.get(row["method"], 0.0), row["points_per_s"])
    for m in ("kernel", "solve"):
        if m in best:
            ratios = [f"{best[m] / best[b]:,.0f}x {b}" for b in ("numpy", "qutip", "kernel-dense") if b in best]
            print(f"best {m}: {best[m]:,.0f} points/s = " + ", ".join(ratios))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
