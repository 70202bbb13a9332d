"""Values computed once: a guard against XLA's CPU fusion recomputing cheap work.

XLA fuses elementwise operations into loops and, to keep loops apart, recomputes ("duplicates")
any cheap operation (add, multiply, select, compare, abs, sin, cos …) inside every fused loop
that consumes it; only "expensive" operations such as a division are computed once and stored.
In the unrolled solvers (``jaxtherm.linalg.unrolled``) every value feeds many others, and
each division (a pivot's reciprocal, a back substitution) starts a loop that recomputed the whole
elimination before it from the inputs, so a kernel executed several times the flops of its
program (``benchmarks/bench_fluctuations.py``; figures under "Values computed once" in
``docs/performance.md``). ``jax.lax.optimization_barrier`` would say the same, but XLA's CPU
compiler removes it before fusion.

``once`` therefore divides each floating-point value by a traced 1, ``1 + 0·isfinite(x)``,
which XLA cannot fold away (``0·x`` is not 0 for every float): the value is unchanged, exactly,
and costs one division, but it is computed once and stored. Called at the natural stages of a
computation (after each pivot step, on a generator's entries), it bounds what a fused loop
recomputes to one stage. On GPUs the same program is correct; it was tuned on the CPU.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def once(tree):
    """``tree`` with every floating-point leaf unchanged in value but computed once and stored.

    Args:
        tree: a pytree of arrays (``None`` entries pass through, as do non-float leaves).

    Returns:
        The same pytree; each float leaf ``x`` is ``x / (1 + 0·isfinite(x))``, equal to ``x``.
    """

    def leaf(x):
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            return x
        return x / (1.0 + 0.0 * jnp.isfinite(x).astype(x.dtype))

    return jax.tree.map(leaf, tree)
