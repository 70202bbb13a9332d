"""Reading results files: ``jaxtherm.open`` (a lazy ``xarray.Dataset``: ``jaxtherm.io.lazy``) and
``jaxtherm info``.

A results file can be read in any state (``docs/design.md`` §5): complete, unfinished (its run was
killed; ``jaxtherm run --resume`` completes it) or being written by a running sweep (HDF5's
SWMR mode: the points finished so far are visible, the writer is not disturbed). Points not
computed yet have ``status == -1``; points that could not be solved have ``status > 0``
(``jaxtherm.STATUS_MEANINGS``); ``open`` masks both to NaN in every observable.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

import numpy as np

from jaxtherm._checks import install_hint, raise_if
from jaxtherm.io import h5read, integrity, journal
from jaxtherm.status import STATUS_MEANINGS, keeps_values

NOT_COMPUTED = -1


class ResultsError(Exception):
    """A path that is not a readable jaxtherm results file, or a missing optional dependency."""


def require(module: str, what: str):
    """Import an optional dependency or raise ``ResultsError`` with the install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ResultsError(f"{what} {install_hint(module, 'analysis')}") from None


def state(path: Path, complete: bool) -> str:
    """``"complete"``, ``"running"`` (a sweep holds its lock) or ``"unfinished"`` (killed or stopped)."""
    if complete:
        return "complete"
    return "running" if integrity.writer_holds_lock(path) else "unfinished"


def _check(path: Path) -> Path:
    path = Path(path)
    raise_if(not path.exists(), ResultsError(f"{path}: no such file"))
    raise_if(path.is_dir(), ResultsError(f"{path} is a directory; expected a results file (.h5) written by `jaxtherm run`"))
    return path


def open(path: str | os.PathLike, *, mask: bool = True, chunks=None):  # noqa: A001  (jaxtherm.open, as the issue names it)
    """A sweep's results as a lazy ``xarray.Dataset``: nothing but its coordinates and attributes
    is read until asked for.

    Coordinates are the grid's dimensions (model options, then axes) with ``units`` and
    ``description``; one variable per observable and gradient (``d{obs}_d{param}``), ``status``
    (0 ok; ``-1`` not computed yet; others: ``jaxtherm.STATUS_MEANINGS``), ``residual``, ρ when
    kept, and the fixed parameters as scalars. ``attrs`` hold the spec text that made the file
    (``spec``), the model, solver plan, versions, device and timings, plus ``state``
    (``"complete"``, ``"running"`` or ``"unfinished"``), ``points_done`` and ``points_total``.

    Selecting (``sel``, ``isel``, slicing) stays lazy; ``.values`` and ``.compute()`` read only the
    region selected and the Dataset keeps nothing of it (``.load()`` keeps it), so a file far
    larger than memory can be opened and sliced. Masking happens inside each read. The Dataset
    holds no open file (each read opens the file, reads and closes it): it never blocks the sweep
    writing the file or a ``--resume`` of it, and ``close()`` is optional. Arithmetic or a
    reduction over a whole variable (``ds.J_a.mean()``) reads that variable; with ``chunks``
    (``"auto"``, or ``{}`` for the file's storage chunks of about 1 MiB; Dask arrays, aligned with
    the storage chunks; needs Dask) it runs chunk by chunk.

    Works on a sweep still running and on one that was killed, without disturbing the writer:
    the Dataset shows the points finished when it was opened (``status`` is read then, one byte
    a point, and every later read applies it); open again for more. A file replaced after it was
    opened (``jaxtherm run --force``) is refused when read.

    Args:
        path: the HDF5 file.
        mask: read every observable, gradient and ρ as NaN where ``status`` is neither 0 nor 6
            (points not computed or not solved; 6, a non-positive Redfield state, keeps its
            numbers); ``status`` and ``residual`` are kept as written.
        chunks: passed to ``xarray.open_dataset``: ``None`` (default) for lazily indexed NumPy
            arrays, else Dask arrays of these chunks (``{}``: the storage chunks).

    Raises:
        ResultsError: not a readable results file, or xarray missing.
    """
    path = _check(path)
    xr = require("xarray", "jaxtherm.open")
    from jaxtherm.io import lazy

    try:
        ds = xr.open_dataset(path, engine=lazy.Backend, chunks=chunks, cache=False, mask=mask)
    except lazy.NotResults as err:
        raise ResultsError(str(err)) from None
    except integrity.Unreadable as err:
        raise ResultsError(f"{path}: {err}") from None
    except OSError as err:
        raise ResultsError(f"{path}: HDF5 cannot open it ({err})") from None
    ds.attrs["state"] = state(path, bool(ds.attrs.get("complete", 0)))
    return ds


def spacing(values: np.ndarray) -> str:
    """``"log"`` for a geometric axis (``logspace``), ``"linear"`` for an arithmetic one, else ``"values"``."""
    if values.dtype.kind not in "fi" or values.size < 3:
        return "values"
    v = values.astype(float)
    if np.allclose(np.diff(v), v[1] - v[0], rtol=1e-6, atol=0):
        return "linear"
    if np.all(v > 0) and np.allclose(np.diff(np.log(v)), np.log(v[1] / v[0]), rtol=1e-6, atol=0):
        return "log"
    return "values"


def info(path: str | os.PathLike) -> dict:
    """What a user checks first about a results file, as plain JSON-ready values: its state,
    model, axes (range, spacing, units), fixed parameters, observables and gradients, how much
    is done, failed points by status, timings, solver plan, device and versions. Reads only
    metadata and ``status``, counted a storage chunk at a time (no xarray needed; memory stays
    flat in the file's size).

    Raises:
        ResultsError: not a readable results file.
    """
    path = _check(path)
    s = _summary(path)
    a = s["attrs"]
    spec = _spec_table(a.get("spec", ""))
    gradients = list(spec.get("output", {}).get("gradients", []))
    fixed, outputs = _split_scalars(s, set(spec.get("parameters", {})))
    counts = s["status_counts"]
    total = int(np.prod(s["status_shape"], dtype=np.int64))
    done = int(total - counts.get(NOT_COMPUTED, 0))
    return {
        "path": str(path),
        "state": state(path, bool(a.get("complete", 0))),
        "file_mb": round(path.stat().st_size / 2**20, 3),
        "model": a.get("model"),
        "model_names": json.loads(a.get("model_names", "[]")),
        "model_options": json.loads(a.get("model_options", "{}")),
        "description": a.get("model_description", ""),
        "axes": {d: _axis_info(s["coords"][d]) for d in _grid_dims(s)},
        "fixed": {k: {"value": v["value"], "units": v["attrs"].get("units", "")} for k, v in fixed.items()},
        "observables": _observables(outputs, gradients, a.get("reduced_over")),
        "gradients": gradients,
        "reduced": _reduced(a),
        "rho": "rho_re" in s["variables"],
        "points": {"total": total, "done": done,  # failed: no numbers kept (status 6 keeps them: flagged, not failed)
                   "failed": int(sum(c for k, c in counts.items() if k > 0 and not keeps_values(k)))},
        "chunks": _chunks(path, s["chunk_done"]),
        "status": {str(k): {"count": c, "meaning": _MEANINGS.get(k, "unknown")} for k, c in sorted(counts.items())},
        "timing": _timing(a, done),
        "solver_plan": _singular_unknowns(a.get("solver_plan", "")) or a.get("solver", ""),
        "result": _result(a),
        "device": a.get("device", ""),
        "precision": a.get("precision", ""),
        "versions": _versions(a),
        "spec_source": a.get("spec_source", ""),
    }


def _result(attrs) -> dict | None:
    """What a fit or an optimisation found (``None`` for a sweep): of a fit, each parameter's
    value and standard error, χ² and the degrees of freedom; of an optimisation, the best
    objective, its sense, the variables there and the start that reached it."""
    if "fit" in attrs:
        fit = json.loads(attrs["fit"])
        return {"kind": "fit", "parameters": fit.get("parameters", {}), "chi2": float(attrs.get("chi2", np.nan)),
                "dof": int(attrs.get("dof", 0))}
    if "best_objective" in attrs:
        return {"kind": "optimum", "objective": attrs.get("objective", ""), "sense": attrs.get("sense", ""),
                "value": float(attrs["best_objective"]), "variables": json.loads(attrs.get("best_variables", "{}")),
                "start": int(attrs.get("best_start", -1))}
    return None


def _result_line(r: dict) -> str:
    if r["kind"] == "fit":
        values = ", ".join(f"{k} = {_num(p['value'])} ± {_num(p['error'])}" for k, p in r["parameters"].items())
        return f"  fit          {values}; χ² = {_num(r['chi2'])} for {r['dof']} degrees of freedom"
    where = ", ".join(f"{k} = {_num(v)}" for k, v in r["variables"].items())
    return f"  optimum      {r['objective']} = {_num(r['value'])} ({r['sense']}) at {where} (start {r['start']})"


def _reduced(attrs) -> dict | None:
    """Of a reduced file (``[reduce]``): the reduced axes, the table, and once it is complete
    the grid's points and those that failed (its ``points`` count groups)."""
    if "reduced_over" not in attrs:
        return None
    grid = {k: int(attrs[a]) for k, a in (("grid_points", "n_points"), ("grid_failed", "n_failed")) if a in attrs}
    return {"over": attrs["reduced_over"], "table": attrs.get("reduce", ""), **grid}


def _versions(attrs) -> dict:
    """The package versions the file records, ``package → version``."""
    return {k[: -len("_version")]: attrs[k] for k in ("jaxtherm_version", "jax_version", "h5py_version",
                                                      "numpy_version") if k in attrs}


_MEANINGS = {**{int(k): v for k, v in STATUS_MEANINGS.items()}, NOT_COMPUTED: "not computed yet"}
_NOT_OBSERVABLES = {"status", "residual", "rho_re", "rho_im"}


def _summary(path: Path) -> dict:
    """What ``info`` shows of a results file, or ``ResultsError``: ``jaxtherm.io.h5read.describe``'s
    metadata, ``status_counts`` (``code → count``, codes present only; counted a storage chunk at
    a time), ``status_shape`` and ``chunk_done``. Nothing else of the grid is read."""
    try:
        kw = integrity.open_kwargs(path)
        s = h5read.describe(path, kw)
        status = s["variables"].get("status") or s["scalars"].get("status")
        raise_if(status is None or "spec" not in s["attrs"],
                 ResultsError(f"{path} is not a jaxtherm results file (no status variable or spec attribute)"))
        counts = h5read.count_int8(path, bool(kw), "status")
        s["status_counts"] = {int(v) - 128: int(c) for v, c in enumerate(counts) if c}
        s["status_shape"] = status.get("shape", ())
        s["chunk_done"] = _chunk_done(path, kw, s["identity"])
    except integrity.Unreadable as err:
        raise ResultsError(f"{path}: {err}") from None
    except OSError as err:
        raise ResultsError(f"{path}: HDF5 cannot open it ({err})") from None
    return s


def _chunk_done(path: Path, kw: dict, identity) -> np.ndarray | None:
    """The sweep's record of finished chunks (``/_jaxtherm/chunk_done``), ``None`` if it has none."""
    try:
        return h5read.read_regions(path, bool(kw), identity, [("_jaxtherm/chunk_done", ())])[0]
    except KeyError:
        return None


def _spec_table(text: str) -> dict:
    """The spec a file was made with, as TOML data (``{}`` if it does not parse)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def _grid_dims(s: dict) -> list[str]:
    """The grid's dimensions: those of ``status``, none for a sweep of one point (no axes)."""
    status = s["variables"].get("status")
    return list(status["dims"]) if status is not None else []


def _split_scalars(s: dict, fixed_names: set[str]) -> tuple[dict, dict]:
    """``(fixed parameters, outputs)``: the file's variables without a grid dimension are the
    fixed parameters, except in a sweep of one point, where the outputs are scalars too and the
    spec's ``[parameters]`` tell them apart."""
    if _grid_dims(s):
        return s["scalars"], s["variables"]
    fixed = {k: v for k, v in s["scalars"].items() if k in fixed_names}
    outputs = {k: v for k, v in s["scalars"].items() if k not in fixed_names}
    return fixed, {**s["variables"], **outputs}


def _observables(outputs: dict, gradients: list[str], reduced: str | None = None) -> dict[str, str]:
    """``{observable: units}``: the outputs less status, residual, ρ and the gradients; of a
    reduced file, the reductions ``{v}_{op}`` (not the values ``…_at_{v}_{op}`` at each extreme)."""
    if reduced is not None:
        return {n: v["attrs"].get("units", "") for n, v in outputs.items()
                if "_at_" not in n and n.rsplit("_", 1)[-1] in ("max", "min", "mean")}
    grad_names = {f"d{o}_d{g}" for o in outputs for g in gradients}
    return {n: v["attrs"].get("units", "") for n, v in outputs.items() if n not in _NOT_OBSERVABLES | grad_names}


def _axis_info(c: dict) -> dict:
    values = c["values"]
    numeric = values.dtype.kind in "fi"
    return {"size": int(values.size), "units": c["attrs"].get("units", ""),
            "description": c["attrs"].get("description", ""),
            "min": float(values.min()) if numeric else None, "max": float(values.max()) if numeric else None,
            "spacing": spacing(values) if numeric else "categorical",
            "values": values.tolist() if not numeric or values.size <= 8 else None}


def _chunks(path: Path, chunks) -> dict | None:
    if chunks is None:
        return None
    journaled = journal.count(path) if journal.journal_dir(path).exists() else None
    return {"total": int(chunks.size), "done": int(chunks.sum()), "journaled": journaled}


def _timing(a: dict, done: int) -> dict:
    timing = {k: a[k] for k in ("start_time", "end_time", "compile_seconds", "sweep_seconds") if k in a}
    if a.get("sweep_seconds"):  # the points the last run computed (a resumed run computed only the rest)
        computed = int(a.get("computed_points", done))
        timing["points_per_second"] = round(computed / a["sweep_seconds"]) if computed else None
    return timing


def _singular_unknowns(plan: str) -> str:
    """``"1 unknowns"`` → ``"1 unknown"`` in a solver plan's description (as older files and
    today's solvers write it)."""
    return re.sub(r"(?<![\d.,])1 unknowns\b", "1 unknown", plan)


def _num(x: float) -> str:
    return f"{x:.6g}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def format_info(d: dict) -> str:
    """``info`` as the text ``jaxtherm info`` prints."""
    lines = [*_header_lines(d), *_axis_lines(d), *_content_lines(d), *_progress_lines(d)]
    if d.get("result"):
        lines.append(_result_line(d["result"]))
    lines.append(f"  solver       {d['solver_plan']}")
    lines.append(f"  device       {d['device']}, {d['precision']}")
    lines.append("  versions     " + ", ".join(f"{k} {v}" for k, v in d["versions"].items()))
    if d["state"] == "unfinished":
        lines.append("  to complete: jaxtherm run SPEC -o FILE --resume (with the spec that made it; the file's "
                     "'spec' attribute holds its text)")
    return "\n".join(lines)


def _header_lines(d: dict) -> list[str]:
    p = d["points"]
    shape = " × ".join(f"{k} {v['size']}" for k, v in d["axes"].items()) or "no axes"
    options = ", ".join(f"{k} ∈ {{{', '.join(map(str, v))}}}" if isinstance(v, list) else f"{k}={v}"
                        for k, v in d["model_options"].items())
    r = d.get("reduced")
    unit, failed = ("group", "without a valid point") if r else ("point", "failed")
    grid = f"; {r['grid_points']:,} grid points, {r['grid_failed']:,} failed" if r and "grid_points" in r else ""
    return [f"{d['path']}: {d['state']} ({p['done']:,} of {_plural(p['total'], unit)} computed, {p['failed']:,} "
            f"{failed}{grid}; {d['file_mb']:.1f} MB)",
            f"  model        {d['model']}" + (f" ({options})" if options else ""),
            f"  grid         {_plural(p['total'], unit)}: {shape}"]


def _axis_lines(d: dict) -> list[str]:
    lines = []
    for name, ax in d["axes"].items():
        units = f" [{ax['units']}]" if ax["units"] else ""
        if ax["spacing"] == "categorical":
            rng = ", ".join(map(str, ax["values"]))
        else:
            rng = f"{_num(ax['min'])} … {_num(ax['max'])} ({ax['spacing']}, {ax['size']})"
        lines.append(f"    {name:<12} {rng}{units}")
    return lines


def _content_lines(d: dict) -> list[str]:
    """Fixed parameters, observables, gradients and ρ."""
    lines = []
    if d["fixed"]:
        lines.append("  fixed        " + ", ".join(f"{k} = {_num(v['value'])}" for k, v in d["fixed"].items()))
    lines.append("  observables  " + ", ".join(f"{k} [{u}]" if u else k for k, u in d["observables"].items()))
    if d.get("reduced"):
        lines.append(f"  reduced      over {d['reduced']['over']} ({d['reduced']['table']}); at each max or min also "
                     "the reduced axes' values and every stored variable: NAME_at_{observable}_{max|min}; "
                     "valid_points counts a group's points with status 0")
    if d["gradients"] and not d.get("reduced"):
        lines.append(f"  gradients    d(each observable)/d({', '.join(d['gradients'])})")
    if d["rho"]:
        lines.append("  rho          steady states kept (rho_re, rho_im)")
    return lines


def _progress_lines(d: dict) -> list[str]:
    """Status counts, chunks and timing."""
    lines = [f"  status {k:>3}   {v['count']:>12,}  {v['meaning']}" for k, v in d["status"].items()]
    if d["chunks"]:
        c = d["chunks"]
        kept = f"; {c['journaled']:,} safe in the journal (--resume uses them)" if c["journaled"] is not None else ""
        lines.append(f"  chunks       {c['done']:,} of {c['total']:,} written{kept}")
    if d["timing"]:
        lines.append("  timing       " + _timing_text(d["timing"]))
    return lines


def _timing_text(t: dict) -> str:
    parts = [f"started {t['start_time']}" if "start_time" in t else "",
             f"ended {t['end_time']}" if "end_time" in t else "",
             f"compile {t['compile_seconds']:.1f} s" if "compile_seconds" in t else "",
             f"sweep {t['sweep_seconds']:.1f} s" if "sweep_seconds" in t else "",
             f"{t['points_per_second']:,} points/s" if t.get("points_per_second") else ""]
    return ", ".join(x for x in parts if x)
