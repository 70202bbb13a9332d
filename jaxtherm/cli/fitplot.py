"""``jaxtherm plot`` of a fit's results file (``jaxtherm fit``): the data as points and the model at
the best fit as a line, against a condition column of the data (e.g. ``T_b``), or the residuals
``model − data`` against it. A fit's file has one row per data point (its only dimension is
``row``), so the grid plots of ``jaxtherm.cli.plot`` would draw everything against the row number."""

from __future__ import annotations

import json

import numpy as np

from jaxtherm._checks import raise_if
from jaxtherm.cli.plot import FIGSIZE, PlotError, _label

CONDITION = "(condition of the row)"  # the end of a condition column's description (``jaxtherm.sweep.fit``)


def conditions(ds) -> list[str]:
    """The data's condition columns in a fit's file, in the file's order."""
    return [n for n in ds.data_vars if str(ds[n].attrs.get("description", "")).endswith(CONDITION)]


def figure(plt, ds, path, observable: str, x: str | None, y: str | None, sel, dpi: int):
    """The figure of ``observable`` of the fit's file ``ds``: for an observable ``O`` or its data
    ``O_data``, the data (points) and the model at the best fit (a line, in the order of ``x``);
    for ``O_residual``, the residuals (points) and zero; against the condition ``x`` (default: the
    first; ``row`` where the data have none).

    Raises:
        PlotError: ``sel`` or ``y`` given, an observable that was not fitted, ``x`` not a condition."""
    raise_if(bool(sel) or y is not None,
             PlotError(f"{path} holds a fit (one row per data point): --sel and --y do not apply; choose --x"))
    base = observable.removesuffix("_data").removesuffix("_residual")
    raise_if(f"{base}_data" not in ds.data_vars,
             PlotError(f"{path} holds a fit; it has no fitted observable {observable!r}; fitted: "
                   + ", ".join(n[: -len("_data")] for n in ds.data_vars if n.endswith("_data"))))
    x = _condition(ds, x)
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=dpi, layout="constrained")
    _draw(ax, ds, observable, base, x)
    ax.set_ylabel(_label(ds[observable]))
    ax.set_xlabel(_label(ds[x]))
    ax.legend(fontsize=8)
    fig.suptitle(_title(ds, observable), fontsize=10)
    return fig


def _condition(ds, x: str | None) -> str:
    """The condition to plot against: ``x``, checked, or the first (``row`` where none)."""
    columns = conditions(ds)
    x = x or next(iter(columns), "row")
    raise_if(x not in (*columns, "row"), PlotError(f"--x {x}: not a condition of the fit's data; expected one of "
                                                   + ", ".join([*columns, "row"])))
    return x


def _draw(ax, ds, observable: str, base: str, x: str) -> None:
    """The residuals and zero, or the data and the model, in the order of the condition ``x``."""
    xs = np.asarray(ds[x].values, float)
    order = np.argsort(xs, kind="stable")
    if observable.endswith("_residual"):
        ax.plot(xs[order], np.asarray(ds[observable].values)[order], "o", ms=4, label="model − data")
        ax.axhline(0.0, color="0.4", lw=0.8)
        return
    ax.plot(xs[order], np.asarray(ds[f"{base}_data"].values)[order], "o", ms=4, label="data")
    ax.plot(xs[order], np.asarray(ds[base].values)[order], "-", lw=1.5, label="model at the best fit")


def _title(ds, observable: str) -> str:
    """``J_a, fitted: epsilon = 0.299 ± 0.003, …`` and, below, ``χ² = 6.25 for 18 degrees of freedom``."""
    fit = json.loads(ds.attrs.get("fit", "{}"))
    values = ", ".join(f"{k} = {p['value']:.4g} ± {p['error']:.2g}" for k, p in fit.get("parameters", {}).items())
    chi2 = f"\nχ² = {float(ds.attrs['chi2']):.4g} for {int(ds.attrs['dof'])} degrees of freedom" if "chi2" in ds.attrs else ""
    return f"{observable}, fitted: {values}{chi2}"
