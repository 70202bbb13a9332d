"""Gradient-based design: maximise or minimise an expression of observables over bounded
parameters, from many starts at once, optionally under constraints.

For a model, fixed parameters ``p_fix`` and variables ``x ∈ [lo, hi]`` (each a parameter name
as a spec gives it, aliases such as ``T_h`` included):

    maximise (or minimise)  f(x) = F(observables(x, p_fix))
    subject to              c_k(x) = lhs_k − rhs_k ≥ 0   (``"cop >= 0.3"``; ``<=`` flips it)

The optimiser is optax's Adam on the variables scaled to the unit box, ``u = (x − lo)/(hi − lo)``,
projected back onto ``[0, 1]`` after every step (the box projection, a clip), with a
learning rate decaying geometrically from ``learning_rate`` to ``learning_rate · 2·10⁻⁴`` over
``steps`` (so the last steps polish: the final iterate moves by ~1e-5 of each range). The loss is

    L(u) = ∓ f / s_f + Σ_k ψ(c_k / s_k, λ_k),   ψ(g, λ) = −λg + ρg²/2 if g < λ/ρ else −λ²/(2ρ)

(the augmented Lagrangian of the inequality constraints, ρ = 10; the multipliers are updated
every 25 steps, ``λ ← max(0, λ − ρ c/s)``, so that the constraints hold at the end, not only
approximately as with a penalty),

with ``s_f``, ``s_k`` the median magnitudes of ``f`` and of each constraint's left side at the
starting points (so that both are O(1) whatever the units). Gradients are exact: forward-mode
derivatives through the steady-state solve (one tangent per variable), as in sweeps. All
``starts`` run together as one vmapped, jitted computation, so many starts cost little more
than one (``benchmarks/bench_optimize.py``; figures in ``docs/performance.md``).

A start whose point cannot be solved (``status ≠ 0``: a singular Liouvillian, a parameter
outside its domain) keeps its last good iterate and is reported, never fatal.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxtherm import solvers
from jaxtherm._checks import optional, raise_if
from jaxtherm.design import expressions
from jaxtherm.kernel import batch
from jaxtherm.kernel.batch import scalar_observables
from jaxtherm.models import Model

CONVERGED, NOT_CONVERGED, FAILED_POINT, INFEASIBLE, NONFINITE = 0, 1, 2, 3, 4
START_MEANINGS = {  # each start's outcome (a point's status: jaxtherm.STATUS_MEANINGS)
    CONVERGED: "converged (projected gradient below tolerance)",
    NOT_CONVERGED: "stopped after the last step without meeting the gradient tolerance",
    FAILED_POINT: "a point on the way could not be solved (status ≠ 0); the last good iterate is kept",
    INFEASIBLE: "a constraint is violated at the end",
    NONFINITE: "the objective, a constraint or a gradient was not finite at a solved point on the way (e.g. a "
               "ratio whose denominator vanished); the last good iterate is kept",
}
GRADIENT_TOL = 1e-4  # projected gradient of the scaled loss (unit box), ∞-norm
FEASIBILITY_TOL = 1e-6  # constraint slack, relative to its scale
RHO = 10.0  # augmented-Lagrangian penalty on the scaled constraints
MULTIPLIER_EVERY = 25  # steps between multiplier updates
FINAL_LR_FACTOR = 2e-4
_UNSOLVED, _NOT_FINITE = 1, 2  # why a start's step failed (bit flags)


class ProblemError(ValueError):
    """A problem that does not fit its model; ``part`` names where: ``"objective"``,
    ``"constraints"``, ``"variables.NAME"`` or ``"parameters"``."""

    def __init__(self, part: str, message: str):
        self.part = part
        super().__init__(message)


@dataclasses.dataclass(frozen=True)
class Problem:
    """An optimisation problem, checked against its model.

    Attributes:
        model: the model.
        objective: the expression to optimise (``jaxtherm.design.expressions``).
        maximize: ``True`` to maximise.
        variables: names (as given) of the free parameters, with ``bounds`` ``(n, 2)`` and
            optional ``start`` values (NaN where none).
        fixed: the other parameters, name → value.
        constraints: parsed constraints.
        fluctuations: whether the kernel counts heat (the expressions use ``noise_``/``tur_``…).
    """

    model: Model
    objective: expressions.Expression
    maximize: bool
    variables: tuple[str, ...]
    bounds: np.ndarray
    start: np.ndarray
    fixed: Mapping[str, float]
    constraints: tuple[expressions.Constraint, ...] = ()
    fluctuations: bool = False

    @property
    def observables(self) -> tuple[str, ...]:
        return tuple(scalar_observables(self.model, self.fluctuations))


def problem(model: Model, objective: str, variables: Mapping[str, Sequence[float]], fixed: Mapping[str, float], *,
            maximize: bool = True, constraints: Sequence[str] = ()) -> Problem:
    """Check an optimisation problem against the model's own metadata.

    Args:
        model: e.g. ``jaxtherm.absorption_refrigerator("local")``.
        objective: an expression of the model's observables, e.g. ``"J_c"`` or ``"J_c / J_h"``.
        variables: name → ``[lo, hi]`` or ``[lo, hi, start]`` (``lo < hi``, inside the domain).
        fixed: every other parameter, name → value (aliases such as ``T_h`` accepted).
        maximize: maximise (default) or minimise.
        constraints: e.g. ``["cop >= 0.3", "J_c >= 0"]``.

    Raises:
        ProblemError: naming the offending variable, parameter, observable or constraint.
    """
    expr, cons = _parsed(objective, constraints)
    fluct = _uses_fluctuations(model, expr, cons)
    names = list(variables)
    _check_variable_names(model, names, fixed)
    bounds, start = [], []
    for name in names:
        lo, hi, first = _bounds(model, name, variables[name])
        bounds.append([lo, hi])
        start.append(first)
    return Problem(model, expr, maximize, tuple(names), np.asarray(bounds, float), np.asarray(start, float),
                   dict(fixed), cons, fluct)


def _parsed(objective: str, constraints: Sequence[str]):
    """The parsed objective and constraints.

    Raises:
        ProblemError: naming the part that does not parse."""
    try:
        expr = expressions.parse(objective)
    except expressions.ExpressionError as err:
        raise ProblemError("objective", str(err)) from None
    try:
        cons = tuple(expressions.parse_constraint(c) for c in constraints)
    except expressions.ExpressionError as err:
        raise ProblemError("constraints", str(err)) from None
    return expr, cons


def _uses_fluctuations(model: Model, expr, cons) -> bool:
    """Whether the expressions use counted observables (``noise_``, ``tur_`` …), after checking
    that every name is an observable of the model and that its baths can be counted.

    Raises:
        ProblemError: naming an unknown observable, or a model whose heat cannot be counted."""
    plain, counted = set(model.observables), set(model.fluctuation_observables)
    for part, names_used in (("objective", expr.names), *(("constraints", c.names) for c in cons)):
        unknown = sorted(set(names_used) - plain - counted)
        if unknown:
            raise ProblemError(part, f"unknown observable {unknown[0]!r} of {model.name}; expected some of "
                               f"{', '.join([*model.observables, *model.fluctuation_observables])}")
    fluct = bool(set(expr.names).union(*(c.names for c in cons)) & counted)
    if fluct:
        try:
            model.check_counting()
        except ValueError as err:
            raise ProblemError("objective", str(err)) from None
    return fluct


def _check_variable_names(model: Model, names: list[str], fixed: Mapping[str, float]) -> None:
    """Variables and fixed parameters: known, disjoint, and every parameter given once.

    Raises:
        ProblemError: naming the offending variable or the parameters."""
    both = sorted(set(names) & set(fixed))
    if both:
        raise ProblemError(f"variables.{both[0]}", f"{both[0]!r} is both a variable and fixed; a parameter is one or the other")
    for name in names:
        raise_if(name not in model.accepted_names(),
                 ProblemError(f"variables.{name}", f"unknown parameter of {model.name}; expected one of "
                              f"{', '.join(model.accepted_names())}"))
    try:
        model.check_names([*fixed, *names])
    except ValueError as err:
        raise ProblemError("parameters", f"{err} ([parameters] or [optimize] variables)") from None


def _bounds(model: Model, name: str, given: Sequence[float]) -> tuple[float, float, float]:
    """``(lo, hi, start)`` of a variable (``start`` NaN where none is given).

    Raises:
        ProblemError: for bounds that are not finite, empty, leave the parameter's domain, or a
            start outside them."""
    b = [float(v) for v in given]
    key = f"variables.{name}"
    _check_box(key, b)
    _check_domain(key, b, name, model.describe(name)[2])
    return b[0], b[1], (b[2] if len(b) == 3 else np.nan)


def _check_box(key: str, b: list[float]) -> None:
    """Check that ``b`` is ``[lo, hi]`` or ``[lo, hi, start]``, finite, with ``lo < hi`` and
    ``lo ≤ start ≤ hi``.

    Raises:
        ProblemError: under ``key``, for the first of these that fails."""
    raise_if(len(b) not in (2, 3) or not all(math.isfinite(v) for v in b),
             ProblemError(key, f"expected [lo, hi] or [lo, hi, start] of finite numbers; got {b}"))
    raise_if(not b[0] < b[1], ProblemError(key, f"empty bounds [{b[0]}, {b[1]}]; expected lo < hi"))
    if len(b) == 3 and not b[0] <= b[2] <= b[1]:
        raise ProblemError(key, f"start {b[2]} outside its bounds [{b[0]}, {b[1]}]")


def _check_domain(key: str, b: list[float], name: str, domain: str) -> None:
    """Check that the lower bound ``b[0]`` lies in the parameter's ``domain`` (``"> 0"``,
    ``">= 0"`` or unrestricted).

    Raises:
        ProblemError: under ``key``, where it does not."""
    raise_if((domain == "> 0" and b[0] <= 0) or (domain == ">= 0" and b[0] < 0),
             ProblemError(key, f"bounds [{b[0]}, {b[1]}] leave the parameter's domain ({name} {domain})"))


@dataclasses.dataclass(frozen=True)
class Result:
    """Every start's optimum, the best one, and the trajectories.

    Arrays have a leading axis over starts ``S`` (trajectories: ``(R, S, …)`` for ``R``
    recorded steps, at ``trajectory_steps``: every ``record_every``-th and the last). ``x``
    ``(S, n)``: the variables at each start's optimum; ``objective``
    ``(S,)``: ``f`` there; ``observables``: name → ``(S,)``; ``gradients``:
    ``d{obs}_d{var}`` → ``(S,)``; ``slack`` ``(S, k)``: the constraints' slacks;
    ``status`` ``(S,)``: ``START_MEANINGS``; ``x0`` ``(S, n)``: the starting points.
    """

    problem: Problem
    x: np.ndarray
    x0: np.ndarray
    objective: np.ndarray
    observables: Mapping[str, np.ndarray]
    gradients: Mapping[str, np.ndarray]
    slack: np.ndarray
    status: np.ndarray
    projected_gradient: np.ndarray
    steps: np.ndarray
    trajectory_x: np.ndarray
    trajectory_objective: np.ndarray
    trajectory_steps: np.ndarray
    seconds: float = 0.0
    compile_seconds: float = 0.0

    @property
    def best(self) -> int:
        """Index of the best start among those not failed and feasible (else among all)."""
        f = np.where(np.isfinite(self.objective), self.objective, np.nan)
        f = f if self.problem.maximize else -f
        good = (self.status == CONVERGED) | (self.status == NOT_CONVERGED)
        pool = np.where(good & np.isfinite(f), f, -np.inf)
        if not np.isfinite(pool).any():
            pool = np.where(np.isfinite(f), f, -np.inf)
        return int(np.argmax(pool))

    def summary(self) -> dict:
        """The best optimum as plain values: ``objective``, ``variables``, ``observables``,
        ``status`` (its meaning), and how many starts converged."""
        i = self.best
        return {
            "objective": float(self.objective[i]),
            "expression": self.problem.objective.text,
            "sense": "maximize" if self.problem.maximize else "minimize",
            "variables": {n: float(self.x[i, k]) for k, n in enumerate(self.problem.variables)},
            "observables": {n: float(v[i]) for n, v in self.observables.items()},
            "constraints": {c.text: float(self.slack[i, k]) for k, c in enumerate(self.problem.constraints)},
            "status": START_MEANINGS[int(self.status[i])],
            "status_code": int(self.status[i]),
            "start": i,
            "starts": int(self.status.size),
            "converged_starts": int(np.count_nonzero(self.status == CONVERGED)),
        }


def _evaluator(prob: Problem, dtype, solver):
    """``x (n,) ↦ (values (1 + k,), jacobian (1 + k, n), observables, status, d observables/dx)``
    for one point: the objective and the constraint slacks, the observables, and their
    forward-mode derivatives (one primal solve, ``n`` tangents)."""
    names = prob.variables
    fixed = {k: jnp.asarray(v, dtype) for k, v in prob.fixed.items()}
    observables = prob.observables

    single = batch.pointwise(prob.model, solver, dtype, fluctuations=prob.fluctuations)

    def point(x):
        out = single({**fixed, **{n: x[i] for i, n in enumerate(names)}})
        obs = {k: out[k] for k in observables}
        values = jnp.stack([jnp.asarray(v, dtype) for v in
                            [prob.objective(obs, jnp)] + [c.slack(obs, jnp) for c in prob.constraints]])
        return (values, obs), (values, obs, out["status"])

    def evaluate(x):
        (jac, dobs), (values, obs, status) = jax.jacfwd(point, has_aux=True)(x)
        return values, jac, obs, status, dobs

    return evaluate


def _starts(prob: Problem, starts: int, seed: int) -> np.ndarray:
    """Start 0: the given start values (box centres where none); the others uniform in the box."""
    lo, hi = prob.bounds[:, 0], prob.bounds[:, 1]
    rng = np.random.default_rng(seed)
    x0 = lo + (hi - lo) * rng.uniform(size=(starts, len(lo)))
    x0[0] = np.where(np.isnan(prob.start), (lo + hi) / 2, prob.start)
    return x0


def _given_starts(prob: Problem, x0: np.ndarray) -> np.ndarray:
    """``x0`` as ``(starts, n)`` starting points, each checked to lie inside the bounds.

    Raises:
        ValueError: for a start outside the bounds."""
    x0 = np.asarray(x0, float).reshape(-1, len(prob.variables))
    raise_if(np.any(x0 < prob.bounds[:, 0]) or np.any(x0 > prob.bounds[:, 1]),
             ValueError(f"x0: every start must lie inside the bounds {prob.bounds.tolist()}"))
    return x0


def _stepper(prob: Problem, evaluate, opt, lo, span):
    """The jitted step of ``run``: evaluate every start and take one projected Adam step.

    Args:
        prob: the problem (its sense and constraints).
        evaluate: the vmapped ``_evaluator``.
        opt: the optax optimiser.
        lo, span: the box's lower corner and widths, ``x = lo + span · u``.

    Returns:
        ``step(u, state, lam, failed, last_good, scale, move, update_lam) ↦ (carry, out)``.
    """
    optax = optional("optax", "jaxtherm.optimize", "optimize")
    sign = -1.0 if prob.maximize else 1.0

    def loss_grad(values, jac, lam, scale):
        """Gradient of the scaled augmented Lagrangian in the unit box: for each constraint
        ``g̃ = c/s ≥ 0`` the term ``−max(0, λ − ρ g̃) ∇g̃``."""
        pull = jnp.maximum(lam - RHO * values[1:] / scale[1:], 0.0)
        grad_x = sign * jac[0] / scale[0] - jnp.sum(pull[:, None] * jac[1:] / scale[1:, None], axis=0)
        return grad_x * span

    @jax.jit
    def step(u, state, lam, failed, last_good, scale, move, update_lam):
        """Evaluate every start at ``u`` and take one projected Adam step (``move = 0``: evaluate
        only; ``update_lam``: also the multipliers ``λ ← max(0, λ − ρ g̃)``). One compiled
        function for the whole run: the kernel with its tangents compiles once."""
        values, jac, obs, status, dobs = evaluate(lo + span * u)
        grad = jax.vmap(loss_grad, in_axes=(0, 0, 0, None))(values, jac, lam, scale)
        ok = (status == 0) & jnp.all(jnp.isfinite(grad), axis=1) & jnp.all(jnp.isfinite(values), axis=1)
        grad = jnp.where(ok[:, None], grad, 0.0)
        updates, new_state = jax.vmap(opt.update)(grad, state)
        moved = jnp.clip(optax.apply_updates(u, updates), 0.0, 1.0)  # projection onto the box
        ok_move = ok & move
        u_next = jnp.where(ok_move[:, None], moved, jnp.where(move, last_good, u))
        keep = jax.tree.map(lambda a, b: jnp.where(ok_move.reshape((-1,) + (1,) * (a.ndim - 1)), a, b), new_state, state)
        new_lam = jnp.maximum(lam - RHO * values[:, 1:] / scale[1:], 0.0)
        lam = jnp.where((ok & update_lam)[:, None], new_lam, lam)
        pg = jnp.max(jnp.abs(u - jnp.clip(u - grad, 0.0, 1.0)), axis=1)  # projected gradient, unit box
        out = (values, obs, status, dobs, pg)
        why = jnp.where(status != 0, _UNSOLVED, _NOT_FINITE).astype(failed.dtype)  # bit flags: why a step failed
        # every evaluation counts, the last (move = False) too: a non-finite gradient there would
        # otherwise read as a zero projected gradient, i.e. converged
        failed = failed | jnp.where(~ok, why, 0).astype(failed.dtype)
        return (u_next, keep, lam, failed, jnp.where(ok_move[:, None], u, last_good)), out

    return step


def _scales(prob: Problem, obs0: Mapping[str, np.ndarray], status0, dtype) -> jax.Array:
    """The objective's and each constraint's left side's median size at the starts, ``(1 + k,)``.

    A slack may start near 0, hence the left side; 1 where there is nothing finite to measure
    (no start solved, or a median that is 0 or not finite)."""
    ok0 = np.asarray(status0) == 0
    obs0 = {k: np.where(ok0, np.asarray(v), np.nan) for k, v in obs0.items()}
    sizes = [prob.objective(obs0, np)] + [c.lhs(obs0, np) for c in prob.constraints]
    with np.errstate(all="ignore"), warnings.catch_warnings():  # an all-NaN median warns: 1 is taken below
        warnings.simplefilter("ignore", RuntimeWarning)
        scale = np.array([np.nanmedian(np.abs(np.broadcast_to(v, ok0.shape))) if ok0.any() else 1.0 for v in sizes])
    return jnp.asarray(np.where(np.isfinite(scale) & (scale > 0), scale, 1.0), dtype)


def _iterate(step, carry, scale, steps: int, record_every: int, record, progress):
    """Run ``steps`` steps of ``step`` from ``carry``, then evaluate the final iterate.

    Args:
        step: from ``_stepper``.
        carry: ``(u, state, lam, failed, last_good)`` at the start.
        scale: from ``_scales``.
        steps: optimiser steps.
        record_every: steps between recorded trajectory points.
        record: callable ``(u, values)``, called at every recorded step and the last.
        progress: optional callable ``(steps_done, steps_total)``.

    Returns:
        ``(u, failed, out)``: the final iterate, which starts failed on the way, and the
        step's outputs ``(values, obs, status, dobs, pg)`` at the final iterate.
    """
    u = carry[0]
    for t in range(steps + 1):  # the last pass evaluates the final iterate
        last = t == steps
        carry, out = step(*carry, scale, not last, t % MULTIPLIER_EVERY == MULTIPLIER_EVERY - 1)
        if t % record_every == 0 or last:
            record(u, out[0])
            if progress is not None:
                progress(t, steps)
        if not last:
            u = carry[0]
        carry = (u, *carry[1:])
    return u, carry[3], out


def _codes(prob: Problem, values: np.ndarray, status: np.ndarray, pg: np.ndarray, failed: np.ndarray,
           scale) -> np.ndarray:
    """Each start's ``START_MEANINGS`` code (``failed``: the bit flags ``_UNSOLVED``, ``_NOT_FINITE``
    of the steps that failed): failed where a point on the way was not solved, not finite where a
    solved point gave a non-finite objective, constraint or gradient, else infeasible where a
    slack is below ``−FEASIBILITY_TOL`` of its scale, else converged
    where the projected gradient is at most ``GRADIENT_TOL``."""
    slack = values[:, 1:]
    code = np.where(pg <= GRADIENT_TOL, CONVERGED, NOT_CONVERGED)
    infeasible = np.any(slack < -FEASIBILITY_TOL * np.asarray(scale[1:]), axis=1) if prob.constraints else False
    code = np.where(infeasible, INFEASIBLE, code)
    code = np.where(((failed & _NOT_FINITE) != 0) | ~np.isfinite(values).all(axis=1), NONFINITE, code)
    return np.where((status != 0) | ((failed & _UNSOLVED) != 0), FAILED_POINT, code).astype(np.int8)


def run(prob: Problem, *, starts: int = 16, steps: int = 2000, seed: int = 0, learning_rate: float = 0.05,
        record_every: int = 20, solver: str | solvers.Solver = "auto", dtype=np.float64, x0: np.ndarray | None = None,
        progress=None) -> Result:
    """Optimise ``prob`` from ``starts`` points at once (see the module docstring).

    Args:
        prob: from ``problem``.
        starts: number of starts (start 0 at the given start values, the rest random in the box).
        steps: optimiser steps.
        seed: for the random starts.
        learning_rate: initial Adam step in units of each variable's range.
        record_every: steps between recorded trajectory points.
        solver: steady-state solver (``jaxtherm.solvers``).
        dtype: float64 (default) or float32.
        x0: ``(starts, n)`` starting points instead of the default ones.
        progress: optional callable ``(steps_done, steps_total)``.
    """
    import time

    optax = optional("optax", "jaxtherm.optimize", "optimize")
    dtype = np.dtype(dtype)
    evaluate = jax.vmap(_evaluator(prob, dtype, solvers.get(solver)))
    lo = jnp.asarray(prob.bounds[:, 0], dtype)
    span = jnp.asarray(prob.bounds[:, 1] - prob.bounds[:, 0], dtype)
    x0 = _starts(prob, starts, seed) if x0 is None else _given_starts(prob, x0)
    starts = len(x0)
    u0 = jnp.asarray((x0 - prob.bounds[:, 0]) / (prob.bounds[:, 1] - prob.bounds[:, 0]), dtype)
    opt = optax.adam(optax.exponential_decay(learning_rate, steps, FINAL_LR_FACTOR))
    step = _stepper(prob, evaluate, opt, lo, span)

    state = jax.vmap(opt.init)(u0)
    failed = jnp.zeros(starts, jnp.int8)
    lam = jnp.zeros((starts, len(prob.constraints)), dtype)
    t0 = time.perf_counter()
    ones = jnp.ones(1 + len(prob.constraints), dtype)
    _, (_, obs0, status0, _, _) = step(u0, state, lam, failed, u0, ones, False, False)
    compile_seconds = time.perf_counter() - t0
    scale = _scales(prob, obs0, status0, dtype)
    traj_x, traj_f = [], []

    def record(u, values):
        traj_x.append(np.asarray(lo + span * u))
        traj_f.append(np.asarray(values[:, 0]))

    t_run = time.perf_counter()
    u, failed, (values, obs, status, dobs, pg) = _iterate(step, (u0, state, lam, failed, u0), scale, steps,
                                                          record_every, record, progress)
    x = lo + span * u
    grads = {batch.gradient_name(o, n): np.asarray(dobs[o][:, i])
             for o in prob.observables for i, n in enumerate(prob.variables)}
    seconds = time.perf_counter() - t_run
    values, status, pg, failed = (np.asarray(a) for a in (values, status, pg, failed))
    code = _codes(prob, values, status, pg, failed, scale)
    return Result(prob, np.asarray(x), x0, values[:, 0], {k: np.asarray(v) for k, v in obs.items()}, grads,
                  values[:, 1:], code, pg, np.full(starts, steps), np.stack(traj_x), np.stack(traj_f),
                  np.asarray([*range(0, steps, record_every), steps]), seconds, compile_seconds)


def optimize(model: Model, objective: str, variables: Mapping[str, Sequence[float]], fixed: Mapping[str, float], *,
             maximize: bool = True, constraints: Sequence[str] = (), **options) -> Result:
    """Maximise (or minimise) ``objective`` over ``variables`` with the rest ``fixed``.

    A shortcut for ``run(problem(model, objective, variables, fixed, ...), **options)``; see
    ``problem`` for the arguments and ``run`` for ``options`` (``starts``, ``steps``,
    ``seed``, ``learning_rate``, ``solver``, …).

    Example:
        >>> import jaxtherm
        >>> fridge = jaxtherm.absorption_refrigerator("local")
        >>> r = jaxtherm.optimize(fridge, "J_c", {"E_c": [0.2, 2.5], "g": [0.005, 0.05]},
        ...                       dict(E_h=2.0, T_c=1.0, T_r=1.5, T_h=6.0, gamma_c=0.05,
        ...                            gamma_r=0.05, gamma_h=0.05))   # doctest: +SKIP
        >>> r.summary()["variables"]   # doctest: +SKIP
    """
    return run(problem(model, objective, variables, fixed, maximize=maximize, constraints=constraints), **options)
