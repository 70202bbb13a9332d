"""Points/s against the size of the solved sector, beside the flop bound and a NumPy batched solve.

For each model (local XX chains n = 2…5 and oscillator pairs, whose sectors grow from 6 to 252
real coordinates), on random points:

* ``kernel``: the compiled ``batched_kernel`` with ``Auto()`` (what a sweep runs), compile apart;
* ``LU``: ``Reduced(max_unrolled=0, max_sparse=0, max_staged=0)``, LU with partial pivoting on
  the sector (the default for these sectors before the sparse eliminations);
* ``sparse``: ``Reduced(max_sparse=fill)``, the unrolled elimination in a minimum-degree order
  with static pivots, where its fill (multiply–adds, ``jaxtherm.linalg.ordering.fill``) is
  at most 2,500 (compile time printed: it grows with the fill);
* ``staged``: ``Reduced(max_unrolled=0, max_sparse=0, max_staged=fill)``, the same elimination
  level by level with the batch innermost (``jaxtherm.linalg.staged``), where the fill is at
  most 100,000;
* ``numpy``: ``numpy.linalg.solve`` on the stack of the same trace-eliminated sector matrices
  (assembled untimed), i.e. LAPACK's batched ``gesv`` — what a user with NumPy would do;
* ``flop bound``: the measured float64 throughput of this machine (a large JAX matrix
  product, all cores) divided by ``2 m³/3``, the flops of one LU of the sector — the points/s
  that a dense LU could reach at full matrix-product speed; the sparse flop bound divides by
  ``2 × fill`` instead.

Usage::

    python benchmarks/bench_sectors.py [--seconds S] [--quick]
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

import jax
import jax.numpy as jnp
import numpy as np
from bench_models import random_points  # the same sampling as every other benchmark (same folder)

import jaxtherm
from jaxtherm.kernel import point as kernel
from jaxtherm.kernel.batch import batched_kernel, padded
from jaxtherm.linalg import lu, ordering
from jaxtherm.solvers import solver as solver_module

MAX_SPARSE_BENCH = 2500
MAX_STAGED_BENCH = 100_000

CASES = [  # family, options, points per chunk
    ("qubit_chain", {"n": 2}, 65536),
    ("qubit_chain", {"n": 3}, 16384),
    ("oscillator_pair", {"cutoff": 3}, 16384),
    ("oscillator_pair", {"cutoff": 4}, 4096),
    ("qubit_chain", {"n": 4}, 4096),
    ("oscillator_pair", {"cutoff": 6}, 2048),
    ("qubit_chain", {"n": 5}, 2048),
]


def timed(fn, args, seconds: float) -> float:
    """Best seconds per call over repeats lasting at least ``seconds``."""
    jax.block_until_ready(fn(*args))
    best, start = float("inf"), time.perf_counter()
    while time.perf_counter() - start < seconds or best == float("inf"):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t)
    return best


def matmul_flops(seconds: float) -> float:
    """float64 flop/s of a 2048² matrix product (JAX, all cores)."""
    a = jnp.asarray(np.random.default_rng(0).normal(size=(2048, 2048)))
    f = jax.jit(lambda x: x @ x)
    return 2 * 2048**3 / timed(f, (a,), seconds)


def kernel_rate(model, solver, n: int, seconds: float) -> tuple[float, float]:
    """(points/s, compile seconds) of the compiled kernel on ``n`` points."""
    names = tuple(model.parameters)
    p = random_points(model, n)
    size = padded(n)
    fn = batched_kernel(model, names, (), np.dtype("float64"), solver, False)
    t0 = time.perf_counter()
    compiled = fn.lower(*[jax.ShapeDtypeStruct((size,), np.float64)] * len(names)).compile()
    compile_s = time.perf_counter() - t0
    args = [jnp.asarray(np.resize(p[k], size)) for k in names]
    return size / timed(compiled, args, seconds), compile_s


def numpy_rate(model, n: int, seconds: float) -> float:
    """points/s of ``numpy.linalg.solve`` on the same trace-eliminated sector systems."""
    plan = jaxtherm.Auto().plan(model)
    ops = kernel.operators_on(model, plan.keep)
    p = random_points(model, n)
    params = [model.to_parameters({k: v[i] for k, v in p.items()}) for i in range(n)]
    coeffs = np.array([[float(t.coefficient(q)) for t in model.hamiltonian] + [float(k.rate(q)) for k in model.lindblads]
                       for q in params])
    r = np.einsum("nk,kij->nij", coeffs, ops.supers)
    a, b = (np.asarray(x) for x in jax.vmap(lambda m: lu.eliminate_trace(m, model.dim))(jnp.asarray(r)))
    best, start = float("inf"), time.perf_counter()
    while time.perf_counter() - start < seconds or best == float("inf"):
        t = time.perf_counter()
        np.linalg.solve(a, b[..., None])
        best = min(best, time.perf_counter() - t)
    return n / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="repeat each timing for at least this long")
    ap.add_argument("--quick", action="store_true", help="the two smallest cases, tiny batches (checks the script)")
    ap.add_argument("--last", type=int, default=0, help="only the last N cases (the largest sectors)")
    args = ap.parse_args()
    cases = CASES[:2] if args.quick else CASES[-args.last:] if args.last else CASES
    seconds = 0.2 if args.quick else args.seconds
    peak = matmul_flops(seconds)
    print(f"# {platform.processor() or platform.machine()}, {jax.devices()[0].platform}, jax {jax.__version__}; "
          f"float64 matrix product {peak / 1e9:.1f} GFLOP/s")
    print("| model | d | m | Auto's method | Auto points/s | compile | LU points/s | compile | NumPy solve points/s "
          "| LU flop bound | sparse fill (multiply–adds) | sparse points/s | compile | sparse flop bound "
          "| staged points/s | compile |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for family, options, n in cases:
        n = min(n, 256) if args.quick else n
        model = jaxtherm.models.get(family, **options)
        plan = jaxtherm.Auto().plan(model)
        m = plan.size
        flops = 2 * (m - 1) ** 3 / 3
        pattern = solver_module._pattern(model, plan.keep)
        fill = ordering.fill(pattern, ordering.threshold_order(pattern, solver_module._sample(model, plan.keep)))
        rate, comp = kernel_rate(model, jaxtherm.Auto(), n, seconds)
        lu_rate, lu_comp = kernel_rate(model, jaxtherm.Reduced(max_unrolled=0, max_sparse=0, max_staged=0), n, seconds)
        if fill <= MAX_SPARSE_BENCH:
            s_rate, s_comp = kernel_rate(model, jaxtherm.Reduced(max_unrolled=0, max_sparse=fill), n, seconds)
            sparse = f"{s_rate:,.0f} | {s_comp:.1f} s | {peak / (2 * fill):,.0f}"
        else:
            sparse = "– | – | " + f"{peak / (2 * fill):,.0f}"
        if fill <= MAX_STAGED_BENCH:
            st_rate, st_comp = kernel_rate(model, jaxtherm.Reduced(max_unrolled=0, max_sparse=0, max_staged=fill), n, seconds)
            staged = f"{st_rate:,.0f} | {st_comp:.1f} s"
        else:
            staged = "– | –"
        np_rate = numpy_rate(model, min(n, 4096), seconds)
        label = f"{family}({', '.join(f'{k}={v}' for k, v in options.items())})"
        print(f"| {label} | {model.dim} | {m} | {plan.method} | {rate:,.0f} | {comp:.1f} s | {lu_rate:,.0f} | "
              f"{lu_comp:.1f} s | {np_rate:,.0f} | {peak / flops:,.0f} | {fill:,} | {sparse} | {staged} |", flush=True)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
