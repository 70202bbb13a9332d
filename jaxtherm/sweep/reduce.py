"""Reduced sweeps (a spec's ``[reduce]`` table): the maximum, minimum and mean of stored variables
over some axes, computed on the device chunk by chunk, so that only the reduced grid reaches the
host and the file.

The axes of a model's sub-grid split into the reduced ones (``over``, in grid order) and the kept
ones. A *group* is one point of the kept grid: the ``R = Π_{a∈over} n_a`` points that share its
kept coordinates. The sweep visits the points with the kept axes outermost and the reduced ones
innermost (C order over ``kept + over``), so every group is ``R`` consecutive points, and
chunks are cut on group boundaries:

* ``R ≤ C`` (``C`` the chunk size, rounded down to whole groups): a chunk holds ``C / R`` whole
  groups, reduced on the device as the rows of a ``(C/R, R)`` array;
* ``R > C``: a group is split into ``⌈R / C⌉`` *parts*, one chunk each (the last part shorter);
  the device reduces each part (one row), and the host combines a group's parts, in part order,
  once all are there (during the run, or from the journal on ``--resume``).

Per row the device returns: ``valid_points`` (points with status 0; failed points, and padding,
are excluded), ``status`` (the largest status code in the row), and for each ``(v, op)`` of the
table with ``op`` max or min: the extreme value ``{v}_{op}``, its index in the row
``index_{v}_{op}`` (the first one, as NumPy's ``argmax``/``argmin``), and every other stored
variable ``w`` there (``{w}_at_{v}_{op}``); with ``op`` mean: ``{v}_sum``. A row's journal
record is exactly this, so that a resumed sweep combines the same numbers in the same order,
bitwise equal to an uninterrupted one.

Per group the file holds ``{v}_{op}``, ``{axis}_at_{v}_{op}`` for each reduced axis (the axis
value at the extreme), ``{w}_at_{v}_{op}``, ``{v}_mean = Σ v / valid_points``, ``valid_points``
and ``status``: 0 where the group has a valid point, else the largest failure code of its points
(its values are then NaN).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxtherm.io.hdf5 import Layout, Variable
from jaxtherm.io.journal import Record
from jaxtherm.status import STATUS_MEANINGS
from jaxtherm.sweep import grid
from jaxtherm.sweep.spec import SweepSpec
from jaxtherm.sweep.study import Study

OPS = ("max", "min", "mean")


@dataclasses.dataclass(frozen=True)
class Reduction:
    """How one reduced sweep visits, reduces and stores its grid.

    Attributes:
        spec: the sweep.
        variables: the stored variables, ``{name: (units, description)}`` (observables, their
            derivatives, ``residual``): what ``{w}_at_{v}_{op}`` takes.
    """

    spec: SweepSpec
    variables: dict

    @property
    def over(self) -> tuple[int, ...]:
        """Positions of the reduced axes in ``spec.axes``."""
        return tuple(i for i, a in enumerate(self.spec.axes) if a.name in self.spec.reduce.over)

    @property
    def kept(self) -> tuple[int, ...]:
        """Positions of the kept axes in ``spec.axes``."""
        return tuple(i for i in range(len(self.spec.axes)) if i not in self.over)

    @property
    def group_size(self) -> int:
        """``R``: the points of one group."""
        return math.prod(len(self.spec.axes[i]) for i in self.over)

    @property
    def kept_shape(self) -> tuple[int, ...]:
        return tuple(len(self.spec.axes[i]) for i in self.kept)

    @property
    def n_groups(self) -> int:
        """Groups of one model's sub-grid."""
        return math.prod(self.kept_shape)

    def aligned(self, size: int) -> int:
        """The chunk size for ``size`` asked: whole groups where a group fits, else ``size``."""
        r = self.group_size
        return size // r * r if r <= size else size

    def row_length(self, size: int) -> int:
        """``L``: the points of one row of a chunk of ``size`` (a group, or a part of one)."""
        return min(self.group_size, size)

    def parts(self, size: int) -> int:
        """Chunks per group (1 where a group fits a chunk)."""
        return -(-self.group_size // size) if self.group_size > size else 1

    # --- the grid, visited with the reduced axes innermost -------------------------------------

    def chunks(self, size: int) -> list[grid.Chunk]:
        """Every chunk, in order; ``start``/``stop`` are flat indices of the visiting order
        (``kept + over``, C order) of the model's sub-grid."""
        r, per_model = self.group_size, self.spec.points_per_model
        if r <= size:
            bounds = [(a, min(a + size, per_model)) for a in range(0, per_model, size)]
        else:
            bounds = [(g * r + p * size, min(g * r + (p + 1) * size, (g + 1) * r))
                      for g in range(self.n_groups) for p in range(self.parts(size))]
        k = len(bounds)
        return [grid.Chunk(m * k + c, m, a, b) for m in range(self.spec.n_models) for c, (a, b) in enumerate(bounds)]

    def rows(self, chunk: grid.Chunk, size: int) -> tuple[int, int, int]:
        """``(first group, number of rows, part)`` of a chunk: its rows are groups
        ``first … first + rows − 1`` (part 0), or part ``part`` of group ``first``."""
        r = self.group_size
        if r <= size:
            return chunk.start // r, chunk.size // r, 0
        return chunk.start // r, 1, (chunk.start % r) // size

    # --- on the device ---------------------------------------------------------------------

    def row_variables(self) -> dict[str, str]:
        """The arrays of a chunk's rows (the device's result, the journal's record): name → dtype."""
        dt, out = self.spec.dtype, {"valid_points": "int64", "status": "int8"}
        for v, op in self.spec.reduce.operations():
            if op == "mean":
                out[f"{v}_sum"] = dt
                continue
            out[f"{v}_{op}"] = dt
            out[f"index_{v}_{op}"] = "int64"
            out.update({f"{w}_at_{v}_{op}": dt for w in self.variables if w != v})
        return out

    def reducer(self, size: int):
        """The jitted device function ``(outputs, count) → rows`` for chunks of ``size`` points:
        ``outputs`` the kernel's ``(P,)`` arrays (``P ≥ size``, padded), ``count`` the chunk's
        real points (a traced scalar: one compile for every chunk)."""
        return _reducer(self.spec.reduce.operations(), tuple(self.variables), size, self.row_length(size))

    def inputs(self, out: dict) -> dict:
        """What the reduction reads of the kernel's outputs: ``status`` and the stored variables."""
        return {k: out[k] for k in ("status", *self.variables)}

    def reduce(self, size: int, out: dict, chunk: grid.Chunk) -> dict:
        """A computed chunk's rows, reduced on the device (dispatched, not waited for)."""
        return self.reducer(size)(self.inputs(out), np.int64(chunk.size))  # not jnp: an op run eagerly each chunk

    def rows_on_host(self, rows: dict, size: int, chunk: grid.Chunk) -> dict[str, np.ndarray]:
        """The device's rows of a chunk (``reduce``) on the host, only the chunk's real rows."""
        n = self.rows(chunk, size)[1]
        types = self.row_variables()
        return {k: v[:n].astype(types[k], copy=False) for k, v in jax.device_get(rows).items()}

    # --- the file --------------------------------------------------------------------------

    def layout(self, study: Study, base: Layout) -> Layout:
        """The reduced file's layout, from the full sweep's ``base``: the kept dims, and the
        variables of the module docstring."""
        spec, dt = self.spec, self.spec.dtype
        dims = spec.categorical + tuple(spec.axes[i].name for i in self.kept)
        coords = {d: base.coords[d] for d in dims}
        over = ", ".join(spec.reduce.over)
        variables = []
        for v, op in spec.reduce.operations():
            units, _ = self.variables[v]
            if op == "mean":
                variables.append(Variable(f"{v}_mean", dt, units, f"mean of {v} over {over} (valid points)"))
                continue
            variables.append(Variable(f"{v}_{op}", dt, units, f"{op}imum of {v} over {over} (valid points)"))
            for i in self.over:
                a = spec.axes[i].name
                variables.append(Variable(f"{a}_at_{v}_{op}", dt, base.coords[a][1], f"{a} where {v} is {op}imal"))
            for w, (wu, _) in self.variables.items():
                if w != v:
                    variables.append(Variable(f"{w}_at_{v}_{op}", dt, wu, f"{w} where {v} is {op}imal over {over}"))
        meanings = "; ".join(f"{k} = {m}" for k, m in STATUS_MEANINGS.items() if k)
        variables.append(Variable("valid_points", "int64", "", f"points of the group (over {over}) with status 0"))
        variables.append(Variable("status", "int8", "", "0 = the group has a valid point; else the largest status of "
                                  f"its points ({meanings}); -1 = not computed"))
        attrs = {**base.attrs, "reduced_over": over, "reduce": _table_text(spec)}
        return Layout(dims, coords, tuple(variables), base.scalars, attrs, base.n_chunks, base.compression)

    def regions(self, model_index: int, first: int, n: int):
        """Boxes of the reduced grid holding groups ``first … first + n − 1`` of a model."""
        shape = self.kept_shape
        regions = grid.grid_regions(shape, first, first + n) if shape else [((), slice(0, 1))]
        lead = tuple(slice(int(i), int(i) + 1) for i in np.unravel_index(model_index, self.spec.model_shape)) \
            if self.spec.categorical else ()
        return [((*lead, *box), part) for box, part in regions]

    def finish_groups(self, parts: list[dict[str, np.ndarray]], size: int) -> dict[str, np.ndarray]:
        """The file's values of groups from their rows: ``parts`` one dict of rows per part (in
        part order; one part where a group fits a chunk), each with the same number of rows."""
        spec, length = self.spec, self.row_length(size)
        valid = sum(p["valid_points"] for p in parts)
        status = np.max([p["status"] for p in parts], axis=0)
        out = {"valid_points": valid, "status": np.where(valid > 0, 0, status).astype(np.int8)}
        none = valid == 0
        for v, op in spec.reduce.operations():
            if op == "mean":
                total = functools.reduce(np.add, (p[f"{v}_sum"] for p in parts))
                out[f"{v}_mean"] = _nan_where(none, total / np.maximum(valid, 1))
            else:
                out.update(self._extreme(parts, v, op, none, length))
        return out

    def _extreme(self, parts: list[dict[str, np.ndarray]], v: str, op: str, none: np.ndarray, length: int) -> dict:
        """The file's ``{v}_{op}``, ``{axis}_at_{v}_{op}`` and ``{w}_at_{v}_{op}`` of groups from
        their parts' rows: each group's values at the first part holding its extreme; NaN where
        the group has no valid point (``none``)."""
        spec = self.spec
        best = _best_part(parts, f"{v}_{op}", op)
        others = [w for w in self.variables if w != v]
        keys = [f"{v}_{op}", f"index_{v}_{op}", *(f"{w}_at_{v}_{op}" for w in others)]
        pick = {k: np.choose(best, [p[k] for p in parts]) for k in keys}
        out = {f"{v}_{op}": _nan_where(none, pick[f"{v}_{op}"])}
        index = pick[f"index_{v}_{op}"] + best * length  # within the group
        coords = np.unravel_index(np.where(none, 0, index), tuple(len(spec.axes[i]) for i in self.over))
        for i, j in zip(self.over, coords):
            out[f"{spec.axes[i].name}_at_{v}_{op}"] = _nan_where(none, spec.axes[i].values[j].astype(spec.dtype))
        for w in others:
            out[f"{w}_at_{v}_{op}"] = _nan_where(none, pick[f"{w}_at_{v}_{op}"])
        return out

    def problem(self, rec: Record, chunk: grid.Chunk, size: int) -> str | None:
        """Why a journal record cannot stand for ``chunk`` of this reduced sweep, or ``None``."""
        expected, arrays = self.row_variables(), rec.arrays
        if set(arrays) != set(expected):
            return "holds other arrays than this reduced sweep's"
        if rec.span is not None and rec.span != (chunk.model_index, chunk.start, chunk.stop):
            return f"holds another chunk than chunk {chunk.id} of this sweep (another chunk size?)"
        n = self.rows(chunk, size)[1]
        for name, dtype in expected.items():
            if arrays[name].shape != (n,) or arrays[name].dtype != np.dtype(dtype):
                return f"has {name} of shape {arrays[name].shape} and type {arrays[name].dtype}; expected ({n},) {dtype}"
        if np.any(arrays["valid_points"] < 0) or np.any(arrays["valid_points"] > chunk.size):
            return "has a count of valid points outside the chunk's size"
        return None


def _nan_where(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(mask, np.nan, values).astype(values.dtype if values.dtype.kind == "f" else np.float64)


def _best_part(parts: list[dict], key: str, op: str) -> np.ndarray:
    """Per row, the first part holding the extreme of ``key`` among parts with a valid point."""
    fill = -np.inf if op == "max" else np.inf
    values = np.stack([np.where(p["valid_points"] > 0, p[key], fill) for p in parts])
    return np.argmax(values, axis=0) if op == "max" else np.argmin(values, axis=0)


def _table_text(spec: SweepSpec) -> str:
    r = spec.reduce
    return "; ".join(f"{k} {', '.join(getattr(r, k))}" for k in OPS if getattr(r, k))


@functools.lru_cache(maxsize=32)
def _reducer(operations: tuple, variables: tuple[str, ...], size: int, length: int):
    n = size // length

    def rows(out: dict, count):
        inside = jnp.arange(size) < count
        status = out["status"][:size]
        valid = ((status == 0) & inside).reshape(n, length)
        res = {"valid_points": valid.sum(axis=1, dtype=jnp.int64),
               "status": jnp.where(inside, status, 0).reshape(n, length).max(axis=1)}
        for v, op in operations:
            x = out[v][:size].reshape(n, length)
            if op == "mean":
                res[f"{v}_sum"] = jnp.where(valid, x, 0).sum(axis=1)
                continue
            masked = jnp.where(valid, x, -jnp.inf if op == "max" else jnp.inf)
            i = (jnp.argmax if op == "max" else jnp.argmin)(masked, axis=1)
            res[f"{v}_{op}"] = jnp.take_along_axis(x, i[:, None], axis=1)[:, 0]
            res[f"index_{v}_{op}"] = i.astype(jnp.int64)
            for w in variables:
                if w != v:
                    res[f"{w}_at_{v}_{op}"] = jnp.take_along_axis(out[w][:size].reshape(n, length), i[:, None], axis=1)[:, 0]
        return res

    return jax.jit(rows)
