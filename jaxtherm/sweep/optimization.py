"""``run_optimization``: an ``[optimize]`` spec → model → ``jaxtherm.optimize`` → HDF5.

The results file follows the sweep's conventions (``jaxtherm.io.hdf5``; ``jaxtherm.open``,
``info`` and ``plot`` read it), with the starts as its one grid dimension:

* coordinates ``start`` (0 … S−1), ``step`` (the recorded optimiser steps), ``variable`` (names);
* per start: each variable at the optimum (units from the model) and its starting value
  ``{var}_start``, ``objective``, every observable, ``d{obs}_d{var}``, the constraints' slacks
  ``slack`` (dim ``constraint``), ``optimizer_status`` (0 converged, 1 not converged, 2 a point
  failed, 3 infeasible), the steady state's ``status`` and the final ``projected_gradient``;
* trajectories ``trajectory`` (start, step, variable) and ``trajectory_objective`` (start, step);
* the fixed parameters as scalars; attrs: the spec text, objective, sense, the best start and
  its objective, versions, device, timings.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import jax
import numpy as np

from jaxtherm import solvers
from jaxtherm._checks import raise_if
from jaxtherm.design import optimize
from jaxtherm.io.hdf5 import Layout, ResultsFile, Variable
from jaxtherm.kernel.batch import gradient_name
from jaxtherm.sweep import resume as guard  # the output file: lock, start, resume or refuse
from jaxtherm.sweep.layout import model_attrs, now, provenance
from jaxtherm.sweep.spec import SpecError, SweepSpec
from jaxtherm.sweep.study import resolve


@dataclasses.dataclass(frozen=True)
class OptimizationSummary:
    path: Path
    result: optimize.Result

    def table(self) -> str:
        """The best optimum as the CLI prints it."""
        r, p = self.result, self.result.problem
        s = r.summary()
        i = s["start"]
        lines = [f"{s['sense']} {p.objective.text} over " + ", ".join(
            f"{n} ∈ [{lo:g}, {hi:g}]" for n, (lo, hi) in zip(p.variables, p.bounds))
            + f": {s['starts']} starts × {int(r.steps[0])} steps, "
            f"{s['converged_starts']} converged (compile {r.compile_seconds:.1f} s, optimise {r.seconds:.1f} s)",
            f"best: start {i}, {p.objective.text} = {s['objective']:.10g}  ({s['status']})"]
        for k, n in enumerate(p.variables):
            units = p.model.describe(n)[0]
            lines.append(f"  {n:<12} {r.x[i, k]:<14.8g} {units}{_at_bound(r.x[i, k], *p.bounds[k])}")
        lines.append("observables there:")
        units = {**p.model.observables, **p.model.fluctuation_observables}
        for n, v in s["observables"].items():
            lines.append(f"  {n:<12} {v:<14.8g} {units.get(n, ('', ''))[0]}".rstrip())
        for text, slack in s["constraints"].items():
            lines.append(f"constraint {text}: slack {slack:.3g} ({'holds' if slack >= 0 else 'violated'})")
        lines.append(f"-> {self.path}")
        return "\n".join(lines)


def _at_bound(x: float, lo: float, hi: float) -> str:
    """`` (at its lower bound)`` or `` (at its upper bound)`` where ``x`` is one of them (to a
    relative 1e-9), else empty."""
    if np.isclose(x, lo, rtol=1e-9, atol=0):
        return " (at its lower bound)"
    if np.isclose(x, hi, rtol=1e-9, atol=0):
        return " (at its upper bound)"
    return ""


def run_optimization(spec: SweepSpec, *, output: str | os.PathLike | None = None, force: bool = False,
                     starts: int | None = None, steps: int | None = None, progress=None) -> OptimizationSummary:
    """Optimise the spec's ``[optimize]`` problem and write its results file.

    Raises:
        SpecError: no ``[optimize]`` table, or it does not fit the model.
        RunRefused: the output exists (without ``force``) or another run holds it.
    """
    o = _optimize_table(spec)
    study = resolve(spec)
    model = study.model
    out = Path(output) if output is not None else spec.output
    guard.check_output(spec, out, "-o" if output is not None else "output.path")
    guard.make_parent(spec, out, "-o" if output is not None else "output.path")
    prob = optimize.problem(model, o.expression, o.variables, spec.fixed, maximize=o.maximize, constraints=o.constraints)
    with guard.exclusive_lock(out):
        raise_if(out.exists() and not force,
                 guard.RunRefused(f"{out} exists; use --force to overwrite it or -o for another file"))
        start_time = now()
        result = optimize.run(prob, starts=starts or o.starts, steps=steps or o.steps, seed=o.seed,
                              learning_rate=o.learning_rate, solver=spec.solver, dtype=spec.dtype, progress=progress)
        _write(out, spec, study, result, start_time)
    _check_feasible(spec, result, out)
    return OptimizationSummary(out, result)


def _optimize_table(spec: SweepSpec):
    """The spec's ``[optimize]`` table.

    Raises:
        SpecError: where it has none (a sweep spec)."""
    raise_if(spec.optimize is None,
             SpecError(spec.source, "optimize", "expected an [optimize] table (maximize or minimize, variables); "
                       "a spec with [axes] is a sweep: `jaxtherm run`"))
    return spec.optimize


def _check_feasible(spec: SweepSpec, result: optimize.Result, out: Path) -> None:
    """Check that some start satisfies the constraints at the end (after the file is written).

    Raises:
        SpecError: naming each constraint's best slack, where every start is infeasible."""
    prob = result.problem
    if prob.constraints and (result.status == optimize.INFEASIBLE).all():
        worst = {c.text: float(np.max(result.slack[:, k])) for k, c in enumerate(prob.constraints)}
        raise SpecError(spec.source, "optimize.constraints",
                        f"infeasible: no start satisfies the constraints at the end (best slack of each: {worst}); "
                        f"relax them or widen the bounds. Every start's result is in {out}")


def _write(out: Path, spec: SweepSpec, study, result: optimize.Result, start_time: str) -> None:
    """Write the results file (module docstring) of ``result`` to ``out``."""
    prob, model, dt = result.problem, study.model, spec.dtype
    n_starts = result.status.size
    coords = {
        "start": (np.arange(n_starts), "", "optimiser start (0: the given start values or the box centre; others random)"),
        "step": (result.trajectory_steps, "", "optimiser step at which the trajectory was recorded (0: the start)"),
        "variable": (np.asarray(prob.variables), "", "the optimised parameters"),
    }
    v, arrays = _optimum_columns(model, result, dt)
    if prob.constraints:
        coords["constraint"] = (np.asarray([c.text for c in prob.constraints]), "", "constraint (slack ≥ 0 where it holds)")
        v.append(Variable("slack", dt, "", "constraint slack lhs − rhs (≥ 0: holds) at the optimum",
                          (("constraint", len(prob.constraints)),)))
        arrays["slack"] = result.slack
    for columns in (_status_columns(result, dt), _trajectory_columns(result, dt)):
        v += columns[0]
        arrays.update(columns[1])
    scalars = {k: (val, *model.describe(k)[:2]) for k, val in spec.fixed.items()}
    layout = Layout(("start",), coords, tuple(v), scalars, _attrs(spec, study, result, start_time), n_chunks=1)
    ResultsFile.write_whole(out, layout, arrays, {
        "end_time": now(), "n_points": n_starts, "n_failed": int(np.count_nonzero(arrays["status"])),
        "compile_seconds": round(result.compile_seconds, 3), "sweep_seconds": round(result.seconds, 3)})


def _optimum_columns(model, result: optimize.Result, dt) -> tuple[list[Variable], dict]:
    """Per start: the variables at the optimum and at the start, the objective, the observables
    and their derivatives by the variables."""
    prob = result.problem
    v = [Variable(n, dt, model.describe(n)[0], f"{model.describe(n)[1]}: value at this start's optimum")
         for n in prob.variables]
    v += [Variable(f"{n}_start", dt, model.describe(n)[0], f"{n} at this start's starting point") for n in prob.variables]
    sense = "maximised" if prob.maximize else "minimised"
    v.append(Variable("objective", dt, "", f"{prob.objective.text} at the optimum ({sense})"))
    units = {**model.observables, **model.fluctuation_observables}
    v += [Variable(n, dt, units[n][0], f"{units[n][1]} (at the optimum)") for n in prob.observables]
    v += [Variable(gradient_name(o, n), dt, f"({units[o][0]})/({model.describe(n)[0]})",
                   f"derivative of {o} with respect to {n} at the optimum (autodiff)")
          for o in prob.observables for n in prob.variables]
    arrays = {**{n: result.x[:, k] for k, n in enumerate(prob.variables)},
              **{f"{n}_start": result.x0[:, k] for k, n in enumerate(prob.variables)},
              "objective": result.objective, **result.observables, **result.gradients}
    return v, arrays


def _status_columns(result: optimize.Result, dt) -> tuple[list[Variable], dict]:
    """Per start: ``optimizer_status``, the final ``projected_gradient`` and the steady state's
    ``status`` (``STATUS_NONFINITE`` where the objective is not finite)."""
    meanings = "; ".join(f"{k} = {m}" for k, m in optimize.START_MEANINGS.items())
    status = np.where(np.isfinite(result.objective), solvers.STATUS_OK, solvers.STATUS_NONFINITE).astype(np.int8)
    v = [Variable("optimizer_status", "int8", "", meanings),
         Variable("projected_gradient", dt, "1", "∞-norm of the scaled loss's projected gradient in the unit box at the end"),
         Variable("status", "int8", "", "steady state at the optimum: 0 = ok; otherwise not solved (NaN outputs)")]
    return v, {"optimizer_status": result.status, "projected_gradient": result.projected_gradient, "status": status}


def _trajectory_columns(result: optimize.Result, dt) -> tuple[list[Variable], dict]:
    """The variables and the objective at the recorded steps: ``trajectory`` (start, step,
    variable) and ``trajectory_objective`` (start, step)."""
    prob = result.problem
    rec = result.trajectory_x.shape[0]
    v = [Variable("trajectory", dt, "", "the variables along the optimisation (recorded steps)",
                  (("step", rec), ("variable", len(prob.variables)))),
         Variable("trajectory_objective", dt, "", f"{prob.objective.text} along the optimisation", (("step", rec),))]
    return v, {"trajectory": np.moveaxis(result.trajectory_x, 0, 1), "trajectory_objective": result.trajectory_objective.T}


def _attrs(spec: SweepSpec, study, result: optimize.Result, start_time: str) -> dict:
    """The file's attributes: the model's, the provenance, the problem and its best start."""
    prob = result.problem
    best = result.best
    return {
        **model_attrs(study),
        **provenance(spec, "optimisation", str(jax.local_devices()[0]), spec.dtype),
        "objective": prob.objective.text,
        "sense": "maximize" if prob.maximize else "minimize",
        "constraints": json.dumps([c.text for c in prob.constraints]),
        "best_start": best,
        "best_objective": float(result.objective[best]),
        "best_variables": json.dumps({n: float(result.x[best, k]) for k, n in enumerate(prob.variables)}),
        "start_time": start_time,
    }
