"""The one place that vmaps and jits the kernel, and the public :func:`solve`.

``solve`` broadcasts its parameters together, flattens them, and runs the compiled
``jit(vmap(kernel))`` over fixed-size chunks: a batch is cut into ``chunk_size`` chunks and the
last (or only) one is padded to one of four sizes per octave (:func:`bucket_size`), so a model
compiles once per bucket size and memory stays bounded by the chunk, not the batch.
It works on concrete arrays and inside ``jax.grad`` / ``jax.vmap`` / ``jax.jit`` alike.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from . import _config, kernel, solvers
from .models import Model
from .solvers import STATUS_OK, STATUS_UNVERIFIED, staged

DEFAULT_CHUNK_SIZE = 2**15


def gradient_name(observable: str, parameter: str) -> str:
    """Name of a derivative output: ``d{observable}_d{parameter}``, e.g. ``dJ_a_depsilon``."""
    return f"d{observable}_d{parameter}"


@functools.cache
def batched_kernel(
    model: Model, names: tuple[str, ...], gradients: tuple[str, ...], dtype: np.dtype,
    solver: str | solvers.Solver = "auto", rho: bool = True, scalars: bool = True, fluctuations: bool = False,
    pivoted: bool = False, retry: bool = False,
):
    """``jit(vmap(point))`` for one model, input names, gradient parameters, dtype, solver (an
    object or a name, :mod:`jaxtherm.solvers`), whether ``rho`` is returned and whether current
    fluctuations are computed (:mod:`jaxtherm.fluctuations`).

    The returned function takes one ``(N,)`` array per name (in ``names`` order) and returns the
    outputs of :func:`jaxtherm.kernel.point`, each with a leading axis N, plus
    ``d{obs}_d{param}`` for every scalar observable and every name in ``gradients``
    (forward mode: one primal solve and ``len(gradients)`` tangents pushed through it).

    Where the solver's plan eliminates with static pivots (``"sparse"``, ``"staged"``: :class:`jaxtherm.Reduced`),
    a point that fails its residual check comes back with status ``STATUS_UNVERIFIED``: the
    caller computes such a chunk again with ``pivoted=True`` (:func:`unverified`; as
    :func:`solve` and the sweep's executor do). ``retry=True`` does it inside the program, per
    point (for callers that trace this function): under ``vmap`` both eliminations then run for
    every point. A chunk-wide ``lax.cond`` would do it inside the program too, but its pivoted
    branch made XLA's CPU code for the static one 2.5× slower (measured, 3-qubit chain), so the
    decision is taken on the host.

    A staged plan (:mod:`jaxtherm.solvers.staged`) runs on a CPU in blocks of
    :data:`jaxtherm.solvers.staged.CPU_BLOCK` points (:func:`in_blocks`): 4-qubit chain, chunks of
    4,096, 3.4×10⁴ → 1.1×10⁵ points/s.
    """
    observables = tuple(scalar_observables(model, fluctuations))
    solver = solvers.get(solver)

    def single(*values):
        inputs = dict(zip(names, values))
        # differentiated (tangents here, or a transformation around solve), small global models'
        # scalar code compiles 3× slower: arrays instead
        return kernel.point(model, model.to_parameters(inputs), dtype, solver, rho, scalars=scalars and not gradients,
                            fluctuations=fluctuations, retry=retry, pivoted=pivoted)

    def with_gradients(*values):
        base = dict(zip(names, values))

        def f(g):
            out = single(*(g[n] if n in g else base[n] for n in names))
            return {k: out[k] for k in observables}, out

        g0 = {n: base[n] for n in gradients}

        def jvp(direction):
            return jax.jvp(f, (g0,), (direction,), has_aux=True)

        basis = {n: jnp.eye(len(gradients), dtype=dtype)[i] for i, n in enumerate(gradients)}
        _, tangents, out = jax.vmap(jvp, out_axes=(None, 0, None))(basis)
        ok = out["status"] == STATUS_OK
        for i, n in enumerate(gradients):
            for o in observables:
                out[gradient_name(o, n)] = jnp.where(ok, tangents[o][i], jnp.nan)
        return out

    batched = jax.vmap(with_gradients if gradients else single)
    block = staged.block_size() if solver.plan(model).method == "staged" and not pivoted else None
    return jax.jit(in_blocks(batched, block) if block else batched)


def in_blocks(fn, block: int):
    """``fn`` (vmapped, points first) applied to consecutive blocks of ``block`` points in a loop
    (``lax.map``), so that a block's intermediate arrays stay in the CPU's caches: the staged
    elimination's values are ``nnz × B`` numbers (5-qubit chain: 6,313 × 8 bytes a point), and a
    whole chunk's would be written to and read from memory at every stage. A batch sharded over
    several devices is split into one run of blocks per device (the loop over blocks batched
    over the devices' axis); a batch that blocks do not divide runs whole."""

    def run(*values):
        n = values[0].shape[0]
        devices = next((k for k in (jax.device_count(), 1) if n % (k * block) == 0 and n > block), None)
        if devices is None:
            return fn(*values)
        split = tuple(v.reshape(devices, n // (devices * block), block, *v.shape[1:]) for v in values)
        out = jax.vmap(lambda *xs: jax.lax.map(lambda ys: fn(*ys), xs))(*split)
        return jax.tree.map(lambda y: y.reshape(n, *y.shape[3:]), out)

    return run


def unverified(out: dict) -> bool:
    """Whether a computed chunk holds a point that static pivots could not vouch for (status
    ``STATUS_UNVERIFIED``): compute it again with ``batched_kernel(…, pivoted=True)``. Blocks
    until the chunk's status is on the host."""
    return bool(np.any(np.asarray(out["status"]) == STATUS_UNVERIFIED))


def scalar_observables(model: Model, fluctuations: bool = False) -> dict[str, tuple[str, str]]:
    """The scalar observables a kernel returns, ``{name: (units, description)}`` in output order:
    :attr:`jaxtherm.Model.observables`, then with ``fluctuations``
    :attr:`jaxtherm.Model.fluctuation_observables`."""
    return {**model.observables, **(model.fluctuation_observables if fluctuations else {})}


LANES = 64


def bucket_size(n: int, chunk_size: int) -> int:
    """Padded size for a batch of ``n`` points: the smallest ``m·2^k ≥ n`` with ``m ∈ {4,…,7}``
    (four sizes per octave, at most 25 % padding, few compiled shapes), capped at ``chunk_size``,
    then rounded up to a multiple of :data:`LANES`. Up to 4 points (e.g. one point under a
    user's ``jax.vmap``) are not padded.

    The rounding keeps every point in the vectorised body of XLA's loops: a point that fell in
    a loop's scalar remainder could differ from the same point elsewhere by an ulp, and results
    would depend on the chunking.
    """
    if n <= 4:
        return n
    k = max(n - 1, 1).bit_length() - 3
    return padded(min(chunk_size, -(-n // (1 << k)) << k))


def padded(n: int, devices: int = 1) -> int:
    """``n`` rounded up to a multiple of :data:`LANES` points on each of ``devices`` (at least one
    lane block): the compiled size of a chunk."""
    block = LANES * devices
    return max(1, -(-n // block)) * block


def pad(values, size: int):
    """``values`` (a 1-D NumPy or JAX array) padded to ``size`` by repeating its last point: a
    valid point, so padding never creates a failed one, and nothing recompiles."""
    n = values.shape[0]
    if n >= size:
        return values
    xp = np if isinstance(values, np.ndarray) else jnp
    return xp.concatenate([values, xp.repeat(values[-1:], size - n)])


def solve(
    model: Model,
    *,
    gradients: Sequence[str] = (),
    dtype=None,
    solver: str | solvers.Solver = "auto",
    rho: bool = True,
    fluctuations: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    **params,
) -> dict[str, jax.Array]:
    """Steady states and thermodynamic observables of ``model`` at every parameter point.

    For each point: assemble the Lindblad Liouvillian ``L(p)``, solve ``L ρ = 0, Tr ρ = 1``, and
    return ``J_j = Tr(H L_j ρ)`` for every bath j (heat from bath j into the system), the power
    ``P = Σ_{non-thermal c} Tr(H L_c ρ)`` (so ``Σ_j J_j + P = 0``), the entropy production
    ``σ = −Σ_j β_j J_j``, the model's expectations (``n_a``, ``n_b``, …) and ``ρ`` itself.

    Args:
        model: e.g. ``jaxtherm.qubit_pair("local")``.
        gradients: parameter names (as given, e.g. ``"epsilon"`` or ``"T_a"``) to differentiate
            every scalar observable by; adds ``d{obs}_d{param}`` outputs (forward mode).
        dtype: ``"float64"`` (default) or ``"float32"``.
        solver: a :mod:`jaxtherm.solvers` object or its name. ``Auto()`` / ``"auto"`` (default)
            picks for the model (today :class:`~jaxtherm.solvers.Reduced`: only the symmetry
            sector that holds the steady state, 3–5 real unknowns for the qubit pair, by an
            unrolled elimination); ``Dense()`` / ``"dense"``: all ``d² − 1`` real unknowns by LU
            (the reference). ``solver.plan(model).description`` says what runs.
        rho: return the steady states too (``rho``); ``False`` skips most of the memory
            traffic of a large batch.
        fluctuations: also count each bath's heat (:mod:`jaxtherm.fluctuations`, full counting
            statistics): ``J_counted_j``, the zero-frequency noise ``noise_j = lim Var(Q_j)/t``
            and the uncertainty ratio ``tur_j = noise_j σ / J_counted_j²`` for every bath, by one
            more solve with the steady state's factorisation; gradients include them.
        chunk_size: points per compiled call; bounds memory for large batches.
        **params: every model parameter (inverse temperatures as ``beta_x`` or ``T_x``), each a
            scalar or an array; all broadcast together to one shape ``S``.

    Returns:
        Dict of JAX arrays of shape ``S`` (``rho``: ``S + (d, d)``): ``J_{bath}``, ``power``,
        ``sigma``, expectations, ``rho`` (if asked for), ``status`` (int8, 0 = ok; see
        ``jaxtherm.STATUS_MEANINGS``), ``residual`` and the requested derivatives. Points with
        ``status ≠ 0`` have NaN observables; the others are unaffected.

    Raises:
        ValueError: naming a missing, unknown or doubly given parameter, an unknown gradient
            parameter, parameters that do not broadcast, or (with ``fluctuations``) a bath's
            jump without its energy quantum.
    """
    names = model.check_names(params)
    gradients = tuple(gradients)
    for g in gradients:
        if g not in names:
            raise ValueError(f"gradient parameter {g!r} is not among the given parameters {names}")
    if len(set(gradients)) != len(gradients):
        raise ValueError(f"gradient parameters must be unique, got {gradients}")
    solver = solvers.get(solver)
    if fluctuations:
        model.check_counting()
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    dt = _config.real_dtype(dtype)
    values = [jnp.asarray(params[n], dtype=dt) for n in names]
    try:
        shape = jnp.broadcast_shapes(*(v.shape for v in values))
    except ValueError:
        detail = ", ".join(f"{n}: {tuple(v.shape)}" for n, v in zip(names, values))
        raise ValueError(f"parameter shapes do not broadcast together ({detail})") from None
    flat = [jnp.broadcast_to(v, shape).reshape(-1) for v in values]
    n_points = int(np.prod(shape, dtype=np.int64))
    traced = any(isinstance(v, jax.core.Tracer) for v in values)  # inside jax.grad / jit / vmap
    fn = batched_kernel(model, names, gradients, dt, solver, bool(rho), not traced, bool(fluctuations), retry=traced)
    static = not traced and solver.plan(model).static_pivots
    if n_points == 0:
        sample = jax.eval_shape(fn, *(jnp.zeros((1,), dt) for _ in names))
        return {k: jnp.zeros(shape + s.shape[1:], s.dtype) for k, s in sample.items()}
    pieces = []
    for start in range(0, n_points, chunk_size):
        chunk = [v[start : start + chunk_size] for v in flat]
        m = chunk[0].shape[0]
        size = bucket_size(m, chunk_size)
        args = [pad(c, size) for c in chunk]
        out = fn(*args)
        if static and unverified(out):
            out = batched_kernel(model, names, gradients, dt, solver, bool(rho), True, bool(fluctuations), pivoted=True)(*args)
        pieces.append({k: v[:m] for k, v in out.items()})
    merged = pieces[0] if len(pieces) == 1 else {k: jnp.concatenate([p[k] for p in pieces]) for k in pieces[0]}
    return {k: v.reshape(shape + v.shape[1:]) for k, v in merged.items()}
