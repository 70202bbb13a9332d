"""``jaxtherm plot``: one observable of a results file as a line (one free axis) or a map (two),
with units on the axes, log axes where the grid axis is a logspace, a diverging colour map
centred at 0 for signed quantities (currents, power, σ, derivatives), and the region where the
second law is violated (σ < 0) outlined. matplotlib comes from the ``[analysis]`` extra."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .results import ResultsError, require, spacing
from .results import open as open_results

FIGSIZE = (6.4, 4.8)  # inches, per panel
DPI = 100  # so a single panel is 640 x 480 pixels
SIGNED_PREFIXES = ("J_", "J_counted_", "power", "sigma", "d")
VIOLATION_TOL = 1e-9  # σ below −tol·max|σ| counts as negative; above is rounding (σ ≈ 1e-17 at equilibrium)
TUR_BOUND = 2.0  # Q = S σ / J² ≥ 2 for classical Markov dynamics (DESIGN.md §2)


class PlotError(ResultsError):
    """A plot request that does not fit the file (unknown observable or axis, bad selection)."""


def signed(name: str, values: np.ndarray) -> bool:
    """Whether to draw ``name`` with a diverging colour map centred at 0: currents, power, σ and
    derivatives, or any quantity that takes both signs here."""
    finite = values[np.isfinite(values)]
    both = finite.size > 0 and finite.min() < 0 < finite.max()
    return both or name.startswith(SIGNED_PREFIXES)


def parse_selection(items: Sequence[str]) -> list[tuple[str, str]]:
    """``["T_b=0.5", "coupling=local"]`` → ``[("T_b", "0.5"), ("coupling", "local")]``."""
    out = []
    for item in items:
        axis, sep, value = item.partition("=")
        if not sep or not axis.strip() or not value.strip():
            raise PlotError(f"--sel {item!r}: expected AXIS=VALUE, e.g. --sel T_b=0.5")
        out.append((axis.strip(), value.strip()))
    return out


def select(da, selection: Sequence[tuple[str, str]]):
    """Apply ``AXIS=VALUE`` selections to a DataArray: the nearest grid value of a numeric axis
    (refusing values outside its range), the exact value of a categorical one. Returns the
    selected array and ``{axis: value chosen}``."""
    chosen = {}
    for axis, text in selection:
        if axis not in da.dims:
            raise PlotError(f"--sel {axis}={text}: {da.name} has no axis {axis!r}; its axes: {', '.join(da.dims)}")
        coord = da[axis].values
        if coord.dtype.kind in "fi":
            try:
                value = float(text)
            except ValueError:
                raise PlotError(f"--sel {axis}={text}: expected a number for axis {axis!r}") from None
            lo, hi = float(coord.min()), float(coord.max())
            slack = 1e-9 * max(abs(lo), abs(hi), 1e-300)
            if not lo - slack <= value <= hi + slack:
                raise PlotError(f"--sel {axis}={text}: outside the axis's range {lo:.6g} … {hi:.6g}")
            da = da.sel({axis: value}, method="nearest")
            chosen[axis] = float(da[axis].values)
        else:
            values = [str(v) for v in coord]
            if text not in values:
                raise PlotError(f"--sel {axis}={text}: {axis!r} takes one of {', '.join(values)}")
            da = da.isel({axis: values.index(text)})
            chosen[axis] = text
    return da, chosen


def _label(da, name: str | None = None) -> str:
    name = name or da.name
    units = da.attrs.get("units", "")
    return f"{name} [{units}]" if units else name


def _outline_violation(ax, sigma, xdim: str, ydim: str | None) -> bool:
    """Hatch and outline where σ < 0 on a map, shade it on a line plot; ``True`` if any point has σ < 0."""
    s = sigma.values
    finite = np.abs(s[np.isfinite(s)])
    if not finite.size or not np.any(s < -VIOLATION_TOL * finite.max()):  # not rounding noise at equilibrium
        return False
    if ydim is None:
        x = sigma[xdim].values
        ax.fill_between(x, 0, 1, where=s < 0, transform=ax.get_xaxis_transform(), color="0.5", alpha=0.25,
                        step="mid", label="σ < 0 (second law violated)")
        return True
    data = sigma.transpose(ydim, xdim).values
    x, y = sigma[xdim].values, sigma[ydim].values
    ax.contourf(x, y, np.where(np.isfinite(data), data, 0.0), levels=[-np.inf, 0.0], colors="none", hatches=["//"])
    ax.contour(x, y, data, levels=[0.0], colors="k", linewidths=1.2)
    return True


def _mark_tur_bound(ax, q, xdim: str, ydim: str | None) -> bool:
    """The classical bound Q = 2 of an uncertainty ratio: a dashed line (lines) or contour (maps);
    ``True`` if drawn."""
    if ydim is None:
        ax.axhline(TUR_BOUND, color="k", ls="--", lw=1.0)
        return True
    data = q.transpose(ydim, xdim).values
    finite = data[np.isfinite(data)]
    if not finite.size or not finite.min() < TUR_BOUND < finite.max():
        return False
    ax.contour(q[xdim].values, q[ydim].values, data, levels=[TUR_BOUND], colors="k", linestyles="--", linewidths=1.2)
    return True


def plot(path: str | os.PathLike, observable: str, *, x: str | None = None, y: str | None = None,
         sel: Sequence[str] = (), output: str | os.PathLike | None = None, dpi: int = DPI):
    """Plot ``observable`` of a results file; write it to ``output`` if given.

    With one free axis (after ``sel``), a line against it; with two, a map (``x`` defaults to
    the innermost axis); free categorical axes (model options) beyond that give one panel per
    value. Axes given as a logspace are drawn logarithmic. Signed quantities use a diverging
    colour map centred at 0; where the file holds ``sigma`` and it is negative, that region is
    hatched and outlined (maps) or shaded (lines). Points with ``status != 0`` are blank.

    Args:
        path: a results file (complete, unfinished or still being written).
        observable: a variable of the file, e.g. ``"sigma"``, ``"J_a"``, ``"dJ_a_depsilon"``.
        x, y: axes to put on the horizontal / vertical axis.
        sel: ``"AXIS=VALUE"`` selections (nearest grid value; categorical: exact).
        output: image file to write (format from its suffix, e.g. ``.png``, ``.pdf``).
        dpi: resolution; a single panel is ``6.4 × 4.8`` inches.

    Returns:
        The matplotlib ``Figure``.

    Raises:
        PlotError: unknown observable or axis, a selection outside the grid, too many free axes.
        ResultsError: an unreadable file, or matplotlib/xarray missing.
    """
    plt = require("matplotlib.pyplot", "jaxtherm plot")
    colors = require("matplotlib.colors", "jaxtherm plot")
    ds = open_results(path)
    if observable not in ds.data_vars:
        names = [n for n in ds.data_vars if ds[n].ndim > 0]
        raise PlotError(f"{path} has no observable {observable!r}; it has: {', '.join(names)}")
    da, chosen = select(ds[observable], parse_selection(sel))
    sigma = ds["sigma"] if "sigma" in ds.data_vars and observable != "sigma" else None
    if sigma is not None:
        sigma, _ = select(sigma, [(k, str(v)) for k, v in chosen.items() if k in sigma.dims])
        sigma = sigma.squeeze([d for d in sigma.dims if sigma.sizes[d] == 1])
    da = da.squeeze([d for d in da.dims if da.sizes[d] == 1])  # axes of one value are not plotted
    free = [d for d in da.dims if da.sizes[d] > 1]
    for name, flag in (("x", x), ("y", y)):
        if flag is not None and flag not in free:
            raise PlotError(f"--{name} {flag}: not a free axis of {observable} here; free axes: {', '.join(free) or 'none'}")
    categorical = [d for d in free if da[d].values.dtype.kind not in "fi" and d not in (x, y)]
    numeric = [d for d in free if d not in categorical]
    if len(categorical) > 1 or len(numeric) > 2 or not numeric:
        hint = ", ".join(f"{d} ({da.sizes[d]})" for d in free) or "none"
        raise PlotError(f"{observable} has free axes {hint}: a plot takes one or two numeric axes (and one model "
                        "option as panels); fix the others with --sel AXIS=VALUE")
    if len(numeric) == 2:
        xdim = x or (numeric[1] if y != numeric[1] else numeric[0])
        ydim = y or next(d for d in numeric if d != xdim)
    else:
        xdim, ydim = numeric[0], None
        if y is not None:
            raise PlotError(f"--y {y}: {observable} has only one free numeric axis here ({xdim})")
    panels = list(da[categorical[0]].values) if categorical else [None]
    fig, axes = plt.subplots(1, len(panels), figsize=(FIGSIZE[0] * len(panels), FIGSIZE[1]), dpi=dpi, squeeze=False,
                             layout="constrained")
    values = da.values[np.isfinite(da.values)]
    diverging = signed(observable, da.values)
    vmax = float(np.max(np.abs(values))) if values.size else 1.0
    norm = None
    tur = observable.startswith("tur_")
    if ydim is not None:
        if tur and values.size:  # centred at the classical bound: Q < 2 blue, Q > 2 red
            diverging = True
            lo, hi = float(values.min()), float(values.max())
            norm = colors.TwoSlopeNorm(vcenter=TUR_BOUND, vmin=min(lo, TUR_BOUND - 1e-3), vmax=max(hi, TUR_BOUND + 1e-3))
        elif diverging:
            norm = colors.TwoSlopeNorm(vcenter=0.0, vmin=-vmax or -1.0, vmax=vmax or 1.0)
        elif values.size:
            norm = colors.Normalize(vmin=float(values.min()), vmax=float(values.max()))
    violated = bound = False
    for ax, panel in zip(axes[0], panels):
        part = da if panel is None else da.sel({categorical[0]: panel})
        spart = None if sigma is None else (sigma if panel is None else sigma.sel({categorical[0]: panel}))
        if ydim is None:
            ax.plot(part[xdim].values, part.values, lw=1.5)
            if diverging:
                ax.axhline(0.0, color="0.4", lw=0.8)
            ax.set_ylabel(_label(da))
        else:
            mesh = ax.pcolormesh(part[xdim].values, part[ydim].values, part.transpose(ydim, xdim).values,
                                 cmap="RdBu_r" if diverging else "viridis", norm=norm, shading="nearest")
            fig.colorbar(mesh, ax=ax, label=_label(da))
            ax.set_ylabel(_label(da[ydim]))
            if spacing(part[ydim].values) == "log":
                ax.set_yscale("log")
        if spart is not None or observable == "sigma":
            violated |= _outline_violation(ax, part if spart is None else spart, xdim, ydim)
        if tur:
            bound |= _mark_tur_bound(ax, part, xdim, ydim)
        ax.set_xlabel(_label(da[xdim]))
        if spacing(part[xdim].values) == "log":
            ax.set_xscale("log")
        if panel is not None:
            ax.set_title(f"{categorical[0]} = {panel}", fontsize=10)
    where = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}" for k, v in chosen.items())
    description = da.attrs.get("description", observable)
    title = f"{observable}: {description}" if len(description) < 70 else observable
    fig.suptitle(title + (f"\n{where}" if where else ""), fontsize=10)
    handles, labels = [], []
    if violated:
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="none", edgecolor="k", hatch="//") if ydim is not None
                       else plt.Rectangle((0, 0), 1, 1, facecolor="0.5", alpha=0.25))
        labels.append("σ < 0: second law violated")
    if bound:
        handles.append(plt.Line2D([], [], color="0.3", ls="--", lw=1.2))
        labels.append(f"Q = {TUR_BOUND:g}: classical TUR bound" + (" (maps: colours centred there, Q < 2 blue)"
                                                                    if ydim is not None else ""))
    if handles:
        fig.legend(handles, labels, loc="outside lower right", fontsize=8)
    if output is not None:
        fig.savefig(output, dpi=dpi)
    return fig


def default_output(path: str | os.PathLike, observable: str, sel: Sequence[str]) -> Path:
    """``results/quickstart.h5`` + ``J_a`` (+ ``T_b=0.5``) → ``results/quickstart_J_a_T_b=0.5.png``."""
    path = Path(path)
    suffix = "".join(f"_{s}" for s in sel).replace("/", "-").replace(" ", "")
    return path.with_name(f"{path.stem}_{observable}{suffix}.png")


def panels_size(n_panels: int, dpi: int = DPI) -> tuple[int, int]:
    """Pixel size of a figure of ``n_panels`` panels (what :func:`plot` writes)."""
    return math.floor(FIGSIZE[0] * n_panels * dpi), math.floor(FIGSIZE[1] * dpi)
