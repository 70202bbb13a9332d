"""``jaxtherm plot``: one observable of a results file as a line (one free axis) or a map (two),
with units on the axes, log axes where the grid axis is a logspace, a diverging colour map
centred at 0 for data that change sign (sequential for one-signed data), and the region where
the second law is violated (σ < 0) outlined. matplotlib comes from the ``[analysis]`` extra."""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from jaxtherm._checks import raise_if
from jaxtherm.io.read import ResultsError, require, spacing
from jaxtherm.io.read import open as open_results

FIGSIZE = (6.4, 4.8)  # inches, per panel
DPI = 100  # so a single panel is 640 x 480 pixels
SIGNED_PREFIXES = ("J_", "J_counted_", "power", "sigma", "d")
VIOLATION_TOL = 1e-9  # σ below −tol·max|σ| counts as negative; above is rounding (σ ≈ 1e-17 at equilibrium)
TUR_BOUND = 2.0  # Q = S σ / J² ≥ 2 for classical Markov dynamics (docs/design.md §2.7)
MAX_DPI = 1200  # print quality; one panel is then 7680 × 5760 pixels
MEANINGFUL_WHERE = {"cop": "J_c"}  # an observable blank where this current is ≤ 0 (the fridge does not cool)


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
        raise_if(not sep or not axis.strip() or not value.strip(),
                 PlotError(f"--sel {item!r}: expected AXIS=VALUE, e.g. --sel T_b=0.5"))
        out.append((axis.strip(), value.strip()))
    return out


def select(da, selection: Sequence[tuple[str, str]]):
    """Apply ``AXIS=VALUE`` selections to a DataArray: the nearest grid value of a numeric axis
    (refusing values outside its range), the exact value of a categorical one. Returns the
    selected array and ``{axis: value chosen}``."""
    chosen = {}
    for axis, text in selection:
        raise_if(axis not in da.dims,
                 PlotError(f"--sel {axis}={text}: {da.name} has no axis {axis!r}; its axes: {', '.join(da.dims)}"))
        if da[axis].values.dtype.kind in "fi":
            da, chosen[axis] = _select_number(da, axis, text)
        else:
            da, chosen[axis] = _select_category(da, axis, text)
    return da, chosen


def _select_number(da, axis: str, text: str):
    """``da`` at the grid value of the numeric ``axis`` nearest to ``text``, and that value.

    Raises:
        PlotError: for text that is not a number, or a value outside the axis's range (beyond a
            relative 1e-9)."""
    coord = da[axis].values
    try:
        value = float(text)
    except ValueError:
        raise PlotError(f"--sel {axis}={text}: expected a number for axis {axis!r}") from None
    lo, hi = float(coord.min()), float(coord.max())
    slack = 1e-9 * max(abs(lo), abs(hi), 1e-300)
    raise_if(not lo - slack <= value <= hi + slack,
             PlotError(f"--sel {axis}={text}: outside the axis's range {lo:.6g} … {hi:.6g}"))
    da = da.sel({axis: value}, method="nearest")
    return da, float(da[axis].values)


def _select_category(da, axis: str, text: str):
    """``da`` at the value ``text`` of the categorical ``axis``, and that value.

    Raises:
        PlotError: for a value the axis does not take."""
    values = [str(v) for v in da[axis].values]
    raise_if(text not in values, PlotError(f"--sel {axis}={text}: {axis!r} takes one of {', '.join(values)}"))
    return da.isel({axis: values.index(text)}), text


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


@dataclasses.dataclass(frozen=True)
class _Layout:
    """What goes where: the horizontal axis, the vertical one (``None``: a line plot) and the
    categorical axis whose values are panels (``None``: one panel)."""

    xdim: str
    ydim: str | None
    panel_dim: str | None
    panels: tuple


@dataclasses.dataclass(frozen=True)
class _Style:
    """How values look: a map's colour map and norm; a zero line on line plots of signed quantities."""

    cmap: str
    norm: object
    zero_line: bool
    tur: bool


def _check_dpi(dpi) -> None:
    raise_if(isinstance(dpi, bool) or not isinstance(dpi, numbers.Real) or not 1 <= dpi <= MAX_DPI,
             PlotError(f"--dpi {dpi}: expected a resolution from 1 to {MAX_DPI} dots per inch (one panel is "
                       f"{FIGSIZE[0]} × {FIGSIZE[1]} inches)"))


def _masked(ds, observable: str, da, chosen: dict):
    """``da`` (``ds[observable]`` at the selection ``chosen``, loaded), NaN where it means nothing:
    a refrigerator's ``cop`` where the cold bath is not cooled (``MEANINGFUL_WHERE``). Reads the
    current at the same selection only."""
    current = MEANINGFUL_WHERE.get(observable)
    if current is None or current not in ds.data_vars or set(ds[current].dims) != set(ds[observable].dims):
        return da
    where, _ = select(ds[current], [(k, str(v)) for k, v in chosen.items()])
    masked = da.where(where.load() > 0)
    masked.attrs = da.attrs
    return masked


def _squeezed(da):
    """Axes of one value are not plotted."""
    return da.squeeze([d for d in da.dims if da.sizes[d] == 1])


def _sigma_on(ds, observable: str, chosen: dict, dims: tuple):
    """σ on the plotted grid (for the σ < 0 outline), or ``None`` where the file has none there."""
    if "sigma" not in ds.data_vars or observable == "sigma":
        return None
    sigma, _ = select(ds["sigma"], [(k, str(v)) for k, v in chosen.items() if k in ds["sigma"].dims])
    sigma = _squeezed(sigma)
    return sigma.load() if set(sigma.dims) == set(dims) else None  # e.g. an optimisation's trajectory: σ is per start


def _resolve_axes(da, observable: str, x: str | None, y: str | None) -> _Layout:
    """The free axes of ``da`` (after selection) as a line or a map, and panels."""
    free = [d for d in da.dims if da.sizes[d] > 1]
    _check_flags(observable, free, x, y)
    categorical, numeric = _split_axes(da, free, x, y)
    raise_if(len(categorical) > 1 or len(numeric) > 2 or not numeric,
             PlotError(f"{observable} has free axes {_sizes(da, free)}: a plot takes one or two numeric axes (and "
                       "one model option as panels); fix the others with --sel AXIS=VALUE"))
    panel_dim = categorical[0] if categorical else None
    panels = tuple(da[panel_dim].values) if panel_dim else (None,)
    return _Layout(*_xy(observable, numeric, x, y), panel_dim, panels)


def _split_axes(da, free: list[str], x: str | None, y: str | None) -> tuple[list[str], list[str]]:
    """``(categorical, numeric)`` free axes; an axis asked for as ``x`` or ``y`` is numeric."""
    categorical = [d for d in free if da[d].values.dtype.kind not in "fi" and d not in (x, y)]
    return categorical, [d for d in free if d not in categorical]


def _sizes(da, dims: list[str]) -> str:
    return ", ".join(f"{d} ({da.sizes[d]})" for d in dims) or "none"


def _check_flags(observable: str, free: list[str], x: str | None, y: str | None) -> None:
    for name, flag in (("x", x), ("y", y)):
        raise_if(flag is not None and flag not in free,
                 PlotError(f"--{name} {flag}: not a free axis of {observable} here; free axes: {', '.join(free) or 'none'}"))
    raise_if(x is not None and x == y, PlotError(f"--x {x} --y {y}: expected two different axes"))


def _xy(observable: str, numeric: list[str], x: str | None, y: str | None) -> tuple[str, str | None]:
    """``(x axis, y axis or None)``: ``x`` defaults to the innermost numeric axis."""
    if len(numeric) == 1:
        raise_if(y is not None, PlotError(f"--y {y}: {observable} has only one free numeric axis here ({numeric[0]})"))
        return numeric[0], None
    xdim = x or (numeric[1] if y != numeric[1] else numeric[0])
    return xdim, y or next(d for d in numeric if d != xdim)


def changes_sign(values: np.ndarray) -> bool:
    """Whether the finite ``values`` take both signs beyond round-off (``10⁻⁹`` of their largest
    magnitude: a current that vanishes at equilibrium as ``±10⁻¹⁶`` is one-signed)."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return False
    tol = 1e-9 * float(np.abs(finite).max())
    return finite.min() < -tol and finite.max() > tol


def _norm(colors, observable: str, values: np.ndarray, ydim: str | None) -> _Style:
    """A map's colours: centred at the classical bound for an uncertainty ratio, at 0 where the
    data change sign (a diverging map), else a sequential map over the data's range."""
    tur = observable.startswith("tur_")
    finite = values[np.isfinite(values)]
    if ydim is None or not finite.size:
        return _Style("viridis", None, signed(observable, values), tur)
    lo, hi = float(finite.min()), float(finite.max())
    if tur:  # centred at the classical bound: Q < 2 blue, Q > 2 red
        return _Style("RdBu_r", colors.TwoSlopeNorm(vcenter=TUR_BOUND, vmin=min(lo, TUR_BOUND - 1e-3),
                                                    vmax=max(hi, TUR_BOUND + 1e-3)), False, tur)
    if changes_sign(finite):
        vmax = max(-lo, hi)
        return _Style("RdBu_r", colors.TwoSlopeNorm(vcenter=0.0, vmin=-vmax, vmax=vmax), False, tur)
    return _Style("viridis", colors.Normalize(vmin=lo, vmax=hi), False, tur)


def _check_observable(ds, path, observable: str) -> None:
    if observable not in ds.data_vars:
        names = [n for n in ds.data_vars if ds[n].ndim > 0]
        raise PlotError(f"{path} has no observable {observable!r}; it has: {', '.join(names)}")


def _draw_panel(fig, ax, da, sigma, observable: str, layout: _Layout, style: _Style, panel) -> tuple[bool, bool]:
    """The panel of ``panel`` (``None``: the only one): a line or a map, with the σ < 0 region
    and the TUR bound; returns whether each of those two was drawn."""
    xdim, ydim = layout.xdim, layout.ydim
    pick = {} if panel is None else {layout.panel_dim: panel}
    part, sigma = da.sel(pick), None if sigma is None else sigma.sel(pick)
    label = _label(da)
    if panel is not None:
        ax.set_title(f"{layout.panel_dim} = {panel}", fontsize=10)
    if ydim is None:
        _draw_line(ax, part, xdim, label, style)
    else:
        _draw_map(fig, ax, part, xdim, ydim, label, style)
    violated = (sigma is not None or observable == "sigma") and _outline_violation(
        ax, part if sigma is None else sigma, xdim, ydim)
    bound = style.tur and _mark_tur_bound(ax, part, xdim, ydim)
    ax.set_xlabel(_label(part[xdim]))
    _log_axis(ax.set_xscale, part[xdim].values)
    return violated, bound


def _draw_line(ax, part, xdim: str, label: str, style: _Style) -> None:
    """``part`` as a line against ``xdim`` (with the zero line where ``style`` asks)."""
    ax.plot(part[xdim].values, part.values, lw=1.5)
    if style.zero_line:
        ax.axhline(0.0, color="0.4", lw=0.8)
    ax.set_ylabel(label)


def _draw_map(fig, ax, part, xdim: str, ydim: str, label: str, style: _Style) -> None:
    """``part`` as a colour map over ``(xdim, ydim)`` with its colour bar; ``ydim`` logarithmic
    where it was given as a logspace."""
    mesh = ax.pcolormesh(part[xdim].values, part[ydim].values, part.transpose(ydim, xdim).values,
                         cmap=style.cmap, norm=style.norm, shading="nearest")
    fig.colorbar(mesh, ax=ax, label=label, ticks=_two_sided_ticks(style.norm))
    ax.set_ylabel(_label(part[ydim]))
    _log_axis(ax.set_yscale, part[ydim].values)


def _two_sided_ticks(norm) -> np.ndarray | None:
    """Colour-bar ticks on both sides of a ``TwoSlopeNorm``'s centre (each half of the bar spans
    its own range, so one locator over ``[vmin, vmax]`` can leave the short side bare: an
    uncertainty ratio from 1.4 to 20 had none below 2); ``None`` (matplotlib's) otherwise."""
    from matplotlib import colors, ticker

    if not isinstance(norm, colors.TwoSlopeNorm):
        return None
    lo, mid, hi = norm.vmin, norm.vcenter, norm.vmax
    ticks = [*ticker.MaxNLocator(3).tick_values(lo, mid), *ticker.MaxNLocator(4).tick_values(mid, hi)]
    # on the bar, a tick closer than 8 % of its length to the centre's would overprint it
    return np.array([mid, *(t for t in ticks if lo <= t <= hi and abs(float(norm(t)) - 0.5) >= 0.08)])


def _log_axis(set_scale, values: np.ndarray) -> None:
    if spacing(values) == "log":
        set_scale("log")


def _decorate(fig, plt, da, observable: str, chosen: dict, ydim: str | None, violated: bool, bound: bool) -> None:
    """The title (observable, description, selection) and the legend of the σ < 0 region and the TUR bound."""
    where = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}" for k, v in chosen.items())
    description = da.attrs.get("description", observable)
    title = f"{observable}: {description}" if len(description) < 70 else observable
    fig.suptitle(title + (f"\n{where}" if where else ""), fontsize=10)
    handles, labels = _legend(plt, ydim, violated, bound)
    if handles:
        fig.legend(handles, labels, loc="outside lower right", fontsize=8)


def _legend(plt, ydim: str | None, violated: bool, bound: bool) -> tuple[list, list[str]]:
    """The legend's handles and labels: the σ < 0 region (hatched on maps, shaded on lines)
    where ``violated``, the TUR bound where ``bound``."""
    handles, labels = [], []
    if violated:
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="none", edgecolor="k", hatch="//") if ydim is not None
                       else plt.Rectangle((0, 0), 1, 1, facecolor="0.5", alpha=0.25))
        labels.append("σ < 0: second law violated")
    if bound:
        handles.append(plt.Line2D([], [], color="0.3", ls="--", lw=1.2))
        labels.append(f"Q = {TUR_BOUND:g}: classical TUR bound" + (" (maps: colours centred there, Q < 2 blue)"
                                                                    if ydim is not None else ""))
    return handles, labels


def plot(path: str | os.PathLike, observable: str, *, x: str | None = None, y: str | None = None,
         sel: Sequence[str] = (), output: str | os.PathLike | None = None, dpi: int = DPI):
    """Plot ``observable`` of a results file; write it to ``output`` if given.

    With one free axis (after ``sel``), a line against it; with two, a map (``x`` defaults to
    the innermost axis); free categorical axes (model options) beyond that give one panel per
    value. Axes given as a logspace are drawn logarithmic. A map of data that change sign uses
    a diverging colour map centred at 0 (an uncertainty ratio: centred at its classical bound 2);
    where the file holds ``sigma`` on the same grid and it is negative, that region is hatched
    and outlined (maps) or shaded (lines). Points with ``status != 0`` are blank, and so is a
    refrigerator's ``cop`` where ``J_c ≤ 0`` (it does not cool there). Only what is drawn is read
    from the file (``jaxtherm.open`` is lazy), so a selection of a file larger than memory plots.
    A fit's file (``jaxtherm fit``) plots its data and the model at the best fit against a
    condition column (``x``; ``jaxtherm.cli.fitplot``).

    Args:
        path: a results file (complete, unfinished or still being written).
        observable: a variable of the file, e.g. ``"sigma"``, ``"J_a"``, ``"dJ_a_depsilon"``.
        x, y: axes to put on the horizontal / vertical axis.
        sel: ``"AXIS=VALUE"`` selections (nearest grid value; categorical: exact).
        output: image file to write (format from its suffix, e.g. ``.png``, ``.pdf``).
        dpi: resolution, 1 to ``MAX_DPI``; a single panel is ``6.4 × 4.8`` inches.

    Returns:
        The matplotlib ``Figure``.

    Raises:
        PlotError: unknown observable or axis, a selection outside the grid, too many free axes,
            a resolution out of range.
        ResultsError: an unreadable file, or matplotlib/xarray missing.
    """
    _check_dpi(dpi)
    plt = require("matplotlib.pyplot", "jaxtherm plot")
    colors = require("matplotlib.colors", "jaxtherm plot")
    with open_results(path) as ds:  # metadata only; a sweep's file is opened again by _read
        if "fit" in ds.attrs:  # a fit's file (``jaxtherm fit``): data and model against a condition
            from jaxtherm.cli import fitplot  # (it draws with this module's labels and sizes)

            return _save(plt, fitplot.figure(plt, ds, path, observable, x, y, sel, dpi), output, dpi)
    da, sigma, chosen, layout = _read(path, observable, x, y, sel)
    style = _norm(colors, observable, da.values, layout.ydim)
    n = len(layout.panels)
    fig, axes = plt.subplots(1, n, figsize=(FIGSIZE[0] * n, FIGSIZE[1]), dpi=dpi, squeeze=False, layout="constrained")
    drawn = [_draw_panel(fig, ax, da, sigma, observable, layout, style, panel) for ax, panel in zip(axes[0], layout.panels)]
    _decorate(fig, plt, da, observable, chosen, layout.ydim, *map(any, zip(*drawn)))
    return _save(plt, fig, output, dpi)


def _save(plt, fig, output, dpi: int):
    """``fig``, written to ``output`` first if given (an unwritable output leaves no figure open)."""
    if output is not None:
        try:
            fig.savefig(output, dpi=dpi)
        except BaseException:
            plt.close(fig)
            raise
    return fig


def _read(path, observable: str, x: str | None, y: str | None, sel: Sequence[str]):
    """``(observable at the selection, σ there or None, {axis: value chosen}, layout)``, reading only
    those from the file (``jaxtherm.open`` is lazy); a bad request is refused before any read."""
    try:
        with open_results(path) as ds:
            _check_observable(ds, path, observable)
            da, chosen = select(ds[observable], parse_selection(sel))
            layout = _resolve_axes(_squeezed(da), observable, x, y)
            da = _squeezed(_masked(ds, observable, da.load(), chosen))
            return da, _sigma_on(ds, observable, chosen, da.dims), chosen, layout
    except (OSError, RuntimeError) as err:  # a read after opening: the file replaced or damaged since
        why = (str(err).splitlines() or [repr(err)])[0].removeprefix(f"{path}: ")
        raise ResultsError(f"{path}: cannot read it ({why})") from None


def default_output(path: str | os.PathLike, observable: str, sel: Sequence[str]) -> Path:
    """``results/quickstart.h5`` + ``J_a`` (+ ``T_b=0.5``) → ``results/quickstart_J_a_T_b=0.5.png``."""
    path = Path(path)
    suffix = "".join(f"_{s}" for s in sel).replace("/", "-").replace(" ", "")
    return path.with_name(f"{path.stem}_{observable}{suffix}.png")


def panels_size(n_panels: int, dpi: int = DPI) -> tuple[int, int]:
    """Pixel size of a figure of ``n_panels`` panels (what ``plot`` writes)."""
    return math.floor(FIGSIZE[0] * n_panels * dpi), math.floor(FIGSIZE[1] * dpi)
