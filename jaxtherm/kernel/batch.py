"""The one place that vmaps and jits the kernel and applies the fallback policy, and the public
``solve``.

``solve`` broadcasts its parameters together, flattens them, and runs the compiled
``jit(vmap(kernel))`` over fixed-size chunks: a batch is cut into ``chunk_size`` chunks (on an
accelerator, by default, as many points as the kernel's measured working set lets fit its budget:
``.sizing``) and the last (or only) one is padded to one of four sizes per octave
(``bucket_size``), so a model compiles once per bucket size and memory stays bounded by the
chunk, not the batch.
It works on concrete arrays and inside ``jax.grad`` / ``jax.vmap`` / ``jax.jit`` alike.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxtherm import _config, solvers
from jaxtherm._checks import raise_if
from jaxtherm.kernel import point as kernel
from jaxtherm.kernel import sizing
from jaxtherm.linalg.elimination import compiling_for
from jaxtherm.models import Model
from jaxtherm.physics import observables as kernel_observables
from jaxtherm.solvers import STATUS_NONFINITE, STATUS_UNVERIFIED
from jaxtherm.status import keeps_values

DEFAULT_CHUNK_SIZE = sizing.CPU_SOLVE_CHUNK  # solve's chunk on a CPU; an accelerator's is measured


def gradient_name(observable: str, parameter: str) -> str:
    """Name of a derivative output: ``d{observable}_d{parameter}``, e.g. ``dJ_a_depsilon``."""
    return f"d{observable}_d{parameter}"


def _kernel_function(model: Model, names: tuple[str, ...], plan: solvers.Plan, dtype, rho: bool, fluctuations: bool,
                     retry: bool):
    """``(guess, *values) ↦ (outputs, next guess)``: one point's outputs from its input values
    (in ``names`` order) by ``plan``, its solve starting from ``guess`` (``kernel.point_from``);
    with ``retry``, a point that static pivots cannot vouch for is solved again by the fallback
    plan inside the program (``lax.cond``; static pivots are direct: their guess is ``()``)."""

    def single(guess, *values):
        p = model.to_parameters(dict(zip(names, values)))
        out, guess = kernel.point_from(model, p, plan, guess, dtype, rho, fluctuations)
        if retry and plan.static_pivots:
            out = jax.lax.cond(out["status"] == STATUS_UNVERIFIED,
                               lambda: kernel.point(model, p, plan.fallback(), dtype, rho, fluctuations), lambda: out)
        return out, guess

    return single


@functools.lru_cache(maxsize=64)
def _batched(model: Model, names: tuple[str, ...], gradients: tuple[str, ...], dtype: np.dtype, plan: solvers.Plan,
             rho: bool, fluctuations: bool, retry: bool, platform: str, devices: int):
    """``jit(vmap(point))`` with forward-mode tangents for ``gradients`` (see ``batched_kernel``),
    compiled for ``platform`` (its blocks, ``Elimination.block_size``, and its XLA options) and a
    chunk split over ``devices`` devices."""
    observables = tuple(scalar_observables(model, fluctuations))
    checked = kernel_observables.checked(model, fluctuations)
    single = _kernel_function(model, names, plan, dtype, rho, fluctuations, retry)

    def with_gradients(guess, *values):
        base = dict(zip(names, values))

        def f(g):
            out, after = single(guess, *(g[n] if n in g else base[n] for n in names))
            return {k: out[k] for k in observables}, (out, after)

        g0 = {n: base[n] for n in gradients}

        def jvp(direction):
            return jax.jvp(f, (g0,), (direction,), has_aux=True)

        basis = {n: jnp.eye(len(gradients), dtype=dtype)[i] for i, n in enumerate(gradients)}
        _, tangents, (out, after) = jax.vmap(jvp, out_axes=(None, 0, None))(basis)
        # a derivative that overflows (T → 0: dβ/dT = −1/T²) flags the point, as a value would
        finite = jnp.isfinite(sum(jnp.sum(tangents[o]) for o in checked))  # finite only where every one is
        status = jnp.where(keeps_values(out["status"]) & ~finite, STATUS_NONFINITE, out["status"]).astype(jnp.int8)
        ok = keeps_values(status)  # a Redfield state that is not positive keeps its numbers
        out = {k: v if k in ("status", "residual") else jnp.where(ok, v, jnp.nan) for k, v in out.items()}
        out["status"] = status
        for i, n in enumerate(gradients):
            for o in observables:
                out[gradient_name(o, n)] = jnp.where(ok, tangents[o][i], jnp.nan)
        return out, after

    one = with_gradients if gradients else single
    block = block_size(plan.elimination, platform)
    batched = (in_blocks(one, block, plan.cold_guess(dtype), devices) if block
               else jax.vmap(lambda *values: one((), *values)[0]))

    def traced(*values):  # traced for ``platform``: what an elimination's batching rule sees
        with compiling_for(platform):
            return batched(*values)

    # a program compiled at the top level takes the elimination's options; one traced inside a
    # caller's transformation (``retry``: ``solve`` under jax.grad / jit / vmap) cannot
    return (jax.jit(traced) if retry
            else jax.jit(traced, compiler_options=compiler_options(plan, bool(gradients), platform)))


def block_size(elimination, platform: str) -> int | None:
    """``elimination.block_size(platform)``; an elimination of a user's written before the
    platform was an argument (``block_size(self)``) is asked without it."""
    try:
        old = not inspect.signature(elimination.block_size).parameters
    except (TypeError, ValueError):  # a callable without a signature: today's form
        old = False
    return elimination.block_size() if old else elimination.block_size(platform)


def compiler_options(plan: solvers.Plan, differentiated: bool, platform: str) -> dict[str, object] | None:
    """The XLA options of ``plan``'s top-level kernels for ``platform``, with tangents
    (``differentiated``) or without: its elimination's CPU options
    (``Elimination.cpu_compiler_options``) on a CPU, else none."""
    if platform != "cpu":
        return None
    return plan.elimination.cpu_compiler_options(differentiated) or None


def batched_kernel(model: Model, names: tuple[str, ...], gradients: tuple[str, ...], dtype: np.dtype,
                   solver: str | solvers.Solver = "auto", rho: bool = True, fluctuations: bool = False, *,
                   fallback: bool = False, platform: str | None = None):
    """``jit(vmap(point))`` for one model, input names, gradient parameters, dtype, solver (an
    object or a name, ``jaxtherm.solvers``), whether ``rho`` is returned and whether current
    fluctuations are computed (``jaxtherm.physics.fluctuations``).

    The returned function takes one ``(N,)`` array per name (in ``names`` order) and returns the
    outputs of ``jaxtherm.kernel.point.point``, each with a leading axis N, plus
    ``d{obs}_d{param}`` for every scalar observable and every name in ``gradients``
    (forward mode: one primal solve and ``len(gradients)`` tangents pushed through it).

    This is the bare compiled kernel of the solver's plan: where it eliminates with static
    pivots, a point that fails its residual check comes back with status ``STATUS_UNVERIFIED``.
    ``ChunkRunner`` (what ``solve`` and the sweeps use) computes such a chunk again with the
    fallback plan's kernel (``fallback=True``); fits and optimisations transform ``pointwise``,
    which takes the fallback plan from the start.

    It is a top-level program (its elimination's XLA options, ``compiler_options``) for
    ``platform`` (``"cpu"``, ``"gpu"``; JAX's default device's if ``None``): call it on arrays
    there, and use ``pointwise`` inside a transformation of your own.
    """
    gradients = tuple(gradients)
    plan = solvers.get(solver).plan(model, differentiated=bool(gradients))
    return _batched(model, tuple(names), gradients, np.dtype(dtype), plan.fallback() if fallback else plan, bool(rho),
                    bool(fluctuations), False, platform or sizing.default_platform(), 1)


class ChunkRunner:
    """Computes chunks of points for one model and applies the fallback policy, in one place.

    A chunk is computed by the plan's compiled kernel; where the plan has static pivots and a
    point of the chunk could not be vouched for (status ``STATUS_UNVERIFIED``), the whole chunk
    is computed again by the fallback plan's kernel (compiled when first needed). The decision
    is taken on the host: a chunk-wide ``lax.cond`` would decide inside the program, but its
    pivoted branch made XLA's CPU code for the static one much slower
    (``benchmarks/bench_sectors.py``).

    Args:
        model, names, gradients, dtype, solver, rho, fluctuations: as ``batched_kernel``.
        prepare: called as ``prepare(jitted, fallback)`` on each kernel before its first use
            (e.g. an ahead-of-time compile for the chunk's shape and devices); identity by default.
        platform: where the chunks run (``"cpu"``, ``"gpu"``; JAX's default device's if
            ``None``): the kernels' blocks and XLA options are chosen for it.
        devices: how many devices a chunk is split over (its blocks are split likewise).
    """

    def __init__(self, model: Model, names: tuple[str, ...], gradients: tuple[str, ...], dtype,
                 solver: str | solvers.Solver = "auto", rho: bool = True, fluctuations: bool = False,
                 prepare: Callable | None = None, platform: str | None = None, devices: int = 1):
        self.model, self.names, self.gradients = model, tuple(names), tuple(gradients)
        self.dtype, self.rho, self.fluctuations = np.dtype(dtype), bool(rho), bool(fluctuations)
        self.platform, self.devices = platform or sizing.default_platform(), int(devices)
        self.plan = solvers.get(solver).plan(model, differentiated=bool(self.gradients))
        self._prepare = prepare or (lambda fn, fallback: fn)
        self._ready: dict[bool, Callable] = {}

    def jitted(self, fallback: bool = False):
        """The plan's (or with ``fallback``, its fallback plan's) jitted, vmapped kernel."""
        plan = self.plan.fallback() if fallback else self.plan
        return _batched(self.model, self.names, self.gradients, self.dtype, plan, self.rho, self.fluctuations, False,
                        self.platform, self.devices)

    def kernels(self) -> list:
        """The jitted kernels a chunk may run: the plan's, and its fallback's where it has one."""
        return [self.jitted(f) for f in ((False, True) if self.plan.static_pivots else (False,))]

    @property
    def lanes(self) -> int:
        """The rounding of this runner's chunks (``lanes_of`` its plan on its platform)."""
        return lanes_of(self.plan, self.platform)

    def kernel(self, fallback: bool = False):
        """The prepared kernel (``jitted`` after ``prepare``)."""
        if fallback not in self._ready:
            self._ready[fallback] = self._prepare(self.jitted(fallback), fallback)
        return self._ready[fallback]

    def __call__(self, *args) -> dict:
        """The outputs of one chunk (one ``(N,)`` array per name): every point solved by the plan
        or, where static pivots could not vouch for a point of the chunk, by its fallback."""
        return self.finish(self.kernel()(*args), *args)

    def finish(self, out: dict, *args) -> dict:
        """The fallback policy on a chunk's outputs ``out`` from the plan's kernel (dispatched
        earlier, e.g. while the previous chunk was written): ``out`` itself, or the chunk
        computed again by the fallback plan's kernel."""
        if self.plan.static_pivots and unverified(out):
            out = self.kernel(fallback=True)(*args)
        return out


def pointwise(model: Model, solver: str | solvers.Solver = "auto", dtype=np.float64, *, rho: bool = False,
              fluctuations: bool = False):
    """``p ↦ outputs`` of one point (``p`` a mapping of input names, e.g. ``T_a``, to scalars), for
    callers that transform it themselves (``jax.vmap``, ``jax.jacfwd``: optimisation, fitting).

    Differentiated plans, and partial pivoting where the plan has static pivots: under
    ``vmap`` a per-point retry would run both eliminations for every point."""
    plan = solvers.get(solver).plan(model, differentiated=True).fallback()

    def single(inputs):
        return kernel.point(model, model.to_parameters(inputs), plan, dtype, rho, fluctuations)

    return single


def in_blocks(point, block: int, cold=(), devices: int = 1):
    """``point`` over a batch, in a loop over consecutive blocks of ``block`` points, each block
    ``vmap``-ed: a block's intermediate arrays stay in the CPU's caches (the staged
    elimination's values are ``nnz × B`` numbers, and a whole chunk's would be written to and
    read from memory at every stage).

    ``point(guess, *values) ↦ (outputs, next guess)`` is one point's function
    (``_kernel_function``); ``cold`` the loop's first guess (``Plan.cold_guess``: zeros). With
    ``block == 1`` the loop (``lax.scan``) runs ``point`` itself, unbatched, each point
    starting from the last one's guess (an iterative elimination's warm start: consecutive
    points of a chunk are neighbours on the grid), and its ``while`` loops are traced once,
    not through ``vmap``'s batching rules (which took most of a Krylov kernel's trace time, and
    gain nothing for one point). Blocks of several points start cold. A batch sharded over
    ``devices`` devices is split into one run of blocks per device (the loop batched over the
    devices' axis, each device's run starting cold); a batch that blocks do not divide runs
    whole (``vmap``, cold)."""
    batched = jax.vmap(lambda *values: point((), *values)[0])

    def run(*values):
        n = values[0].shape[0]
        runs = next((k for k in (devices, 1) if n % (k * block) == 0 and (n > block or block == 1)), None)
        if runs is None:
            return batched(*values)
        if block == 1:
            def loop(*xs):
                return jax.lax.scan(lambda guess, ys: point(guess, *ys)[::-1], cold, xs)[1]

            if runs == 1:
                return loop(*values)
            split = tuple(v.reshape(runs, n // runs, *v.shape[1:]) for v in values)
            return jax.tree.map(lambda y: y.reshape(n, *y.shape[2:]), jax.vmap(loop)(*split))
        split = tuple(v.reshape(runs, n // (runs * block), block, *v.shape[1:]) for v in values)
        out = jax.vmap(lambda *xs: jax.lax.map(lambda ys: batched(*ys), xs))(*split)
        return jax.tree.map(lambda y: y.reshape(n, *y.shape[3:]), out)

    return run


def unverified(out: dict) -> bool:
    """Whether a computed chunk holds a point that static pivots could not vouch for (status
    ``STATUS_UNVERIFIED``). Blocks until the chunk's status is on the host."""
    return bool(np.any(np.asarray(out["status"]) == STATUS_UNVERIFIED))


def scalar_observables(model: Model, fluctuations: bool = False) -> dict[str, tuple[str, str]]:
    """The scalar observables a kernel returns, ``{name: (units, description)}`` in output order:
    ``jaxtherm.Model.observables``, then with ``fluctuations``
    ``jaxtherm.Model.fluctuation_observables``."""
    return {**model.observables, **(model.fluctuation_observables if fluctuations else {})}


LANES = 64


def bucket_size(n: int, chunk_size: int, lanes: int = LANES) -> int:
    """Padded size for a batch of ``n`` points: the smallest ``m·2^k ≥ n`` with ``m ∈ {4,…,7}``
    (four sizes per octave, at most 25 % padding, few compiled shapes), capped at ``chunk_size``,
    then rounded up to a multiple of ``lanes`` (``lanes_of``). Up to 4 points (e.g. one point
    under a user's ``jax.vmap``) are not padded.

    The rounding keeps every point in the vectorised body of XLA's loops: a point that fell in
    a loop's scalar remainder could differ from the same point elsewhere by an ulp, and results
    would depend on the chunking.
    """
    if n <= 4:
        return n
    k = max(n - 1, 1).bit_length() - 3
    return padded(min(chunk_size, -(-n // (1 << k)) << k), lanes=lanes)


def padded(n: int, devices: int = 1, lanes: int = LANES) -> int:
    """``n`` rounded up to a multiple of ``lanes`` points on each of ``devices`` (at least one
    lane block): the compiled size of a chunk."""
    block = lanes * devices
    return max(1, -(-n // block)) * block


def lanes_of(plan: solvers.Plan, platform: str) -> int:
    """The rounding of a plan's batches on ``platform``: ``LANES`` where points are vectorised
    together, 1 where the elimination computes one point at a time (``block_size(platform) ==
    1``, ``lax.scan``: no point falls in a vector loop's remainder, and a padded point costs as
    much as a real one — the 8-qubit chain's 5 points would have been computed as 64)."""
    return 1 if block_size(plan.elimination, platform) == 1 else LANES


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
    chunk_size: int | None = None,
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
        solver: a ``jaxtherm.solvers`` object or its name. ``Auto()`` / ``"auto"`` (default)
            picks for the model (today ``jaxtherm.solvers.Reduced``: only the symmetry
            sector that holds the steady state, 3–5 real unknowns for the qubit pair, by an
            unrolled elimination); ``Dense()`` / ``"dense"``: all ``d² − 1`` real unknowns by LU
            (the reference). ``solver.plan(model).description`` says what runs.
        rho: return the steady states too (``rho``); ``False`` skips most of the memory
            traffic of a large batch.
        fluctuations: also count each bath's heat (``jaxtherm.physics.fluctuations``, full counting
            statistics): ``J_counted_j``, the zero-frequency noise ``noise_j = lim Var(Q_j)/t``
            and the uncertainty ratio ``tur_j = noise_j σ / J_counted_j²`` for every bath, by one
            more solve with the steady state's factorisation; gradients include them.
        chunk_size: points per compiled call; bounds memory for large batches. ``None``
            (default): ``DEFAULT_CHUNK_SIZE`` on a CPU; on an accelerator the most points whose
            working set (XLA's memory analysis of the compiled kernel, one probe compile per
            model) fits ``jaxtherm.kernel.sizing.WORKING_SET_BUDGET`` (``sizing.solve_chunk``).
        **params: every model parameter (inverse temperatures as ``beta_x`` or ``T_x``), each a
            scalar or an array; all broadcast together to one shape ``S``.

    Returns:
        Dict of JAX arrays of shape ``S`` (``rho``: ``S + (d, d)``): ``J_{bath}``, ``power``,
        ``sigma``, expectations, ``rho`` (if asked for), ``status`` (int8, 0 = ok; see
        ``jaxtherm.STATUS_MEANINGS``), ``residual`` and the requested derivatives. Points with
        ``status ≠ 0`` have NaN observables, except ``STATUS_NOT_POSITIVE`` (6: a Redfield
        state that is not positive keeps its numbers, ``jaxtherm.status.keeps_values``); the
        others are unaffected.

    Raises:
        ValueError: naming a missing, unknown or doubly given parameter, an unknown gradient
            parameter, parameters that do not broadcast, or (with ``fluctuations``) a bath's
            jump without its energy quantum.
    """
    names = model.check_names(params)
    model.check_values(params)
    gradients = _checked_gradients(gradients, names)
    solver = solvers.get(solver)
    if fluctuations:
        model.check_counting()
    _check_chunk_size(chunk_size)
    dt = _config.real_dtype(dtype)
    values = [jnp.asarray(params[n], dtype=dt) for n in names]
    shape = _broadcast_shape(names, values)
    flat = [jnp.broadcast_to(v, shape).reshape(-1) for v in values]
    traced = any(isinstance(v, jax.core.Tracer) for v in values)
    platform = sizing.default_platform() if traced or not flat else _platform_of(flat)
    fn, sample, lanes, chunk_size = _runner(model, names, gradients, dt, solver, bool(rho),
                                            bool(fluctuations), chunk_size, traced, platform)
    if 0 in shape:
        out = jax.eval_shape(sample, *(jnp.zeros((1,), dt) for _ in names))
        return {k: jnp.zeros(shape + s.shape[1:], s.dtype) for k, s in out.items()}
    merged = _in_chunks(fn, flat, chunk_size, lanes)
    return {k: v.reshape(shape + v.shape[1:]) for k, v in merged.items()}


def _platform_of(arrays: list[jax.Array]) -> str:
    """The platform where ``solve``'s chunks of ``arrays`` run: that of a committed array's
    device (``jax.device_put`` to one: jit runs there), else of the first one's (the default
    device, or ``jax.default_device``'s)."""
    placed = next((a for a in arrays if a.committed), arrays[0])
    return next(iter(placed.devices())).platform


def _runner(model: Model, names: tuple[str, ...], gradients: tuple[str, ...], dt, solver: solvers.Solver, rho: bool,
            fluctuations: bool, chunk_size: int | None, traced: bool, platform: str):
    """``(fn, sample, lanes, chunk size)`` for ``solve`` on ``platform`` (where its inputs are;
    JAX's default device's inside a transformation): ``fn`` runs a chunk (the fallback policy
    included), ``sample`` is a traceable kernel of the same outputs (their shapes for an empty
    batch). Inside ``jax.grad`` / ``jit`` / ``vmap`` (``traced``) the kernel applies the
    fallback per point, in the CPU's chunks on every platform; otherwise a ``ChunkRunner`` with
    the chunk size from ``sizing.solve_chunk``."""
    if traced:
        plan = solver.plan(model, differentiated=True)
        fn = _batched(model, names, gradients, dt, plan, rho, fluctuations, True, platform, 1)
        return fn, fn, lanes_of(plan, platform), chunk_size or DEFAULT_CHUNK_SIZE
    runner = ChunkRunner(model, names, gradients, dt, solver, rho, fluctuations, platform=platform)
    if chunk_size is None:
        chunk_size = sizing.solve_chunk(runner.kernels(), len(names), dt, runner.lanes, platform)
    return runner, runner.jitted(), runner.lanes, chunk_size


def _checked_gradients(gradients: Sequence[str], names: tuple[str, ...]) -> tuple[str, ...]:
    """The gradient parameters, each among the given ones, once.

    Raises:
        ValueError: naming an unknown or repeated gradient parameter."""
    gradients = tuple(gradients)
    for g in gradients:
        raise_if(g not in names, ValueError(f"gradient parameter {g!r} is not among the given parameters {names}"))
    raise_if(len(set(gradients)) != len(gradients), ValueError(f"gradient parameters must be unique, got {gradients}"))
    return gradients


def _check_chunk_size(chunk_size) -> None:
    """Raises:
        ValueError: unless ``chunk_size`` is a positive integer or ``None``."""
    raise_if(chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1),
             ValueError(f"chunk_size must be a positive integer or None, got {chunk_size!r}"))


def _broadcast_shape(names: tuple[str, ...], values: list) -> tuple[int, ...]:
    """The shape every parameter broadcasts to.

    Raises:
        ValueError: naming each parameter's shape where they do not broadcast."""
    try:
        return jnp.broadcast_shapes(*(v.shape for v in values))
    except ValueError:
        detail = ", ".join(f"{n}: {tuple(v.shape)}" for n, v in zip(names, values))
        raise ValueError(f"parameter shapes do not broadcast together ({detail})") from None


def _in_chunks(fn, flat: list, chunk_size: int, lanes: int) -> dict:
    """``fn`` over the flat parameter arrays in chunks of ``chunk_size`` points, each padded to
    its bucket size (``bucket_size``), the outputs cut back and joined."""
    n_points = flat[0].shape[0]
    pieces = []
    for start in range(0, n_points, chunk_size):
        chunk = [v[start : start + chunk_size] for v in flat]
        m = chunk[0].shape[0]
        out = fn(*[pad(c, bucket_size(m, chunk_size, lanes)) for c in chunk])
        pieces.append({k: v[:m] for k, v in out.items()})
    return pieces[0] if len(pieces) == 1 else {k: jnp.concatenate([p[k] for p in pieces]) for k in pieces[0]}
