"""``run_fit``: a ``[fit]`` spec + a data table → ``jaxtherm.design.fit`` → a results file.

The file follows the sweep's conventions (``jaxtherm.open`` and ``info`` read it), with the data's
rows as its one dimension ``row``: the conditions (parameter columns), for each fitted
observable the data ``{obs}_data``, the model at the best fit ``{obs}``, the residual
``{obs}_residual``; and as attributes the best-fit values, their 1σ errors and covariance
(JSON), χ², the degrees of freedom, the spec text and the data file's path.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import jax
import numpy as np

from jaxtherm._checks import raise_if
from jaxtherm.design import fit as fitting
from jaxtherm.io.hdf5 import Layout, ResultsFile, Variable
from jaxtherm.io.tables import TableError, read_table
from jaxtherm.sweep import resume as guard  # the output file: lock, start, resume or refuse
from jaxtherm.sweep.layout import model_attrs, now, provenance
from jaxtherm.sweep.spec import SpecError, SweepSpec
from jaxtherm.sweep.study import resolve


@dataclasses.dataclass(frozen=True)
class FitSummary:
    path: Path
    result: fitting.FitResult
    rows: int

    def table(self) -> str:
        r = self.result
        per = f"χ²/dof = {r.chi2 / r.dof:.4g}" if r.dof > 0 else "no degrees of freedom left: the errors are undetermined"
        lines = [f"fit of {', '.join(r.observables)} ({self.rows} rows): χ² = {r.chi2:.6g}, {r.dof} degrees of freedom, "
                 f"{per}" + ("" if r.converged else "  (NOT converged)")]
        for n in r.names:
            lines.append(f"  {n:<12} {r.values[n]:.8g} ± {r.errors[n]:.2g}")
        if len(r.names) > 1:
            lines.append("  correlations: " + ", ".join(_correlations(r)))
        lines.append(f"-> {self.path}")
        return "\n".join(lines)


def _correlations(r: fitting.FitResult) -> list[str]:
    """``"a–b ±c"`` for each pair of fitted parameters, ``c = C_ab / √(C_aa C_bb)`` from the
    covariance ``C``."""
    sd = np.sqrt(np.diag(r.covariance))
    corr = r.covariance / np.outer(sd, sd)
    return [f"{a}–{b} {corr[i, j]:+.3f}" for i, a in enumerate(r.names) for j, b in enumerate(r.names) if j > i]


def run_fit(spec: SweepSpec, *, output: str | os.PathLike | None = None, force: bool = False,
            data: str | os.PathLike | None = None) -> FitSummary:
    """Fit the spec's ``[fit]`` parameters to its data (or ``data``) and write the results file.

    Raises:
        SpecError: no ``[fit]`` table, unreadable data, data that do not match the model.
        RunRefused: the output exists (without ``force``) or another run holds it.
    """
    raise_if(spec.fit is None, SpecError(spec.source, "fit", "expected a [fit] table (parameters, data, observables)"))
    f = spec.fit
    study = resolve(spec)
    model = study.model
    path = Path(data) if data is not None else f.data
    where = _DataSource(spec.source, data is not None, path)
    table = _read_data(where)
    conditions = _conditions(spec, where, model, table)
    out = Path(output) if output is not None else spec.output
    guard.check_output(spec, out, "-o" if output is not None else "output.path")
    guard.make_parent(spec, out, "-o" if output is not None else "output.path")
    with guard.exclusive_lock(out):
        raise_if(out.exists() and not force,
                 guard.RunRefused(f"{out} exists; use --force to overwrite it or -o for another file"))
        start = now()
        try:
            result = fitting.fit(model, f.parameters, table, observables=f.observables, fixed=spec.fixed,
                                 solver=spec.solver)
        except fitting.FitError as err:
            raise SpecError(spec.source, f"fit.{err.part}", str(err)) from None
        _write(out, spec, study, result, table, conditions, path, start)
    return FitSummary(out, result, len(next(iter(table.values()))))


@dataclasses.dataclass(frozen=True)
class _DataSource:
    """Where the data's path came from: the spec's ``fit.data`` or the command's DATA argument."""

    spec: str  # the spec's source
    argument: bool
    path: Path

    def error(self, message: str, named: bool = False) -> SpecError:
        """A problem with the data, under the key or the argument that named it; the path is
        added unless the message already names it (``named``: a table's read error)."""
        if self.argument:
            return SpecError("the DATA argument", "", message if named else f"{self.path}: {message}")
        return SpecError(self.spec, "fit.data", message)


def _read_data(where: _DataSource) -> dict:
    """The data table at ``where.path``, column → ``(N,)``.

    Raises:
        SpecError: naming ``fit.data`` or the DATA argument, where it cannot be read."""
    try:
        return read_table(where.path)
    except TableError as err:
        raise where.error(str(err), named=True) from None


def _conditions(spec: SweepSpec, where: _DataSource, model, table: dict) -> list[str]:
    """The data's condition columns (``fitting.check_data``).

    Raises:
        SpecError: under the ``[fit]`` key that does not fit the model (the data's: ``where``)."""
    f = spec.fit
    try:
        conditions, _ = fitting.check_data(model, list(f.parameters), spec.fixed, list(table), f.observables)
    except fitting.FitError as err:
        raise (where.error(str(err)) if err.part == "data" else SpecError(spec.source, f"fit.{err.part}", str(err))) from None
    return conditions


def _write(out, spec, study, result, table, conditions, data_path, start) -> None:
    model = study.model
    n = len(next(iter(table.values())))
    units = model.observables
    coords = {"row": (np.arange(n), "", f"row of the data table {data_path}")}
    variables, arrays = [], {}
    for c in conditions:
        variables.append(Variable(c, "float64", model.describe(c)[0], f"{model.describe(c)[1]} (condition of the row)"))
        arrays[c] = table[c]
    for k, o in enumerate(result.observables):
        u, d = units[o]
        for name, desc, values in ((f"{o}_data", f"measured {o}", table[o]),
                                   (o, f"{d}: the model at the best fit", table[o] + result.residuals[:, k]),
                                   (f"{o}_residual", f"model − data for {o}", result.residuals[:, k])):
            variables.append(Variable(name, "float64", u, desc))
            arrays[name] = values
    variables.append(Variable("status", "int8", "", "0 = the model was solved at this row"))
    arrays["status"] = np.where(np.isfinite(result.residuals).all(axis=1), 0, 2).astype(np.int8)
    attrs = {
        **model_attrs(study),
        **provenance(spec, "fit", str(jax.local_devices()[0]), "float64"),
        "data": str(data_path),
        "fit": json.dumps(result.summary()),
        "covariance": json.dumps(result.covariance.tolist()),
        "fitted_parameters": json.dumps(list(result.names)),
        "chi2": result.chi2,
        "dof": result.dof,
        "start_time": start,
    }
    scalars = {k: (v, *model.describe(k)[:2]) for k, v in spec.fixed.items()}
    layout = Layout(("row",), coords, tuple(variables), scalars, attrs, n_chunks=1)
    ResultsFile.write_whole(out, layout, arrays,
                            {"end_time": now(), "n_points": n, "n_failed": int(np.count_nonzero(arrays["status"]))})
