"""What a sweep keeps of its computed chunks, behind one interface: ``Points`` stores every point
(the default), ``Groups`` the reductions of a ``[reduce]`` table (``.reduce``).

Both answer, for ``.run`` and the engines (``.executor``, ``.cluster``): the chunk size they can
take (``align``), the chunks and the order in which they visit the grid (``visiting_axes``), the
file's layout, a computed chunk's arrays on the host (``to_host``: every stored output, or the
device's reduction of it), whether a journal record stands for a chunk (``problem``), and how a
chunk's arrays go into the file (``write``).
"""

from __future__ import annotations

import dataclasses
import time

import jax
import numpy as np

from jaxtherm.io.hdf5 import COMMIT_SECONDS, Layout, ResultsFile
from jaxtherm.io.journal import Record
from jaxtherm.status import STATUS_MEANINGS, keeps_values
from jaxtherm.sweep import devices, grid
from jaxtherm.sweep.layout import layout_for, stored_variables
from jaxtherm.sweep.reduce import Reduction
from jaxtherm.sweep.study import Study


def host_outputs(out: dict, size: int, keep, save_rho: bool, dtype: str) -> dict[str, np.ndarray]:
    """A computed chunk's stored outputs on the host, cut to its ``size`` points, in the file's
    dtypes: the names in ``keep`` and ``status``, and ``rho`` split into ``rho_re``/``rho_im``
    when ``save_rho``."""
    host = {}
    for k, v in out.items():
        if k == "rho":
            if save_rho:
                a = np.asarray(v)[:size]
                host["rho_re"], host["rho_im"] = a.real.astype(dtype), a.imag.astype(dtype)
        elif k == "status":
            host[k] = np.asarray(v)[:size]
        elif k in keep:
            host[k] = np.asarray(v)[:size].astype(dtype, copy=False)  # a device-side slice cost a JAX dispatch
    return host


class Points:
    """Every point of the grid stored (chunks of flat C-order indices, ``.grid``)."""

    def __init__(self, study: Study):
        self.study, self.spec = study, study.spec
        self.stored = stored_variables(study)

    def align(self, size: int) -> int:
        """The chunk size this output takes for ``size`` asked (any)."""
        return size

    def prepare(self, size: int, compiled_size: int, kernel, n_inputs: int, dtype, devs: list) -> None:
        """Compile what runs after the kernel on each chunk (nothing here)."""

    def chunks(self, size: int) -> list[grid.Chunk]:
        """Every chunk of the sweep, in order (``.grid.chunks``)."""
        return grid.chunks(self.spec, size)

    def visiting_axes(self) -> list:
        """The spec's axes in the order chunks visit the grid (C order: the last innermost),
        from which a chunk's inputs are made (``.devices.chunk_inputs``): the spec's order."""
        return list(self.spec.axes)

    def layout(self, n_chunks: int, attrs: dict) -> Layout:
        """The results file's layout (``.layout.layout_for``)."""
        return layout_for(self.study, n_chunks, attrs)

    def after_kernel(self, size: int, out: dict, chunk: grid.Chunk):
        """Queue what runs on the device after a chunk's kernel (nothing here); what it returns
        is passed back to ``to_host``."""
        return None

    def to_host(self, size: int, out: dict, chunk: grid.Chunk, after=None) -> dict[str, np.ndarray]:
        """A computed chunk's stored outputs on the host (``host_outputs``)."""
        return host_outputs(out, chunk.size, self.stored, self.spec.save_rho, self.spec.dtype)

    def failed_in(self, h5: ResultsFile) -> int:
        """The failed points of a finished file: a status that keeps no numbers (not 0, not 6:
        ``jaxtherm.status.keeps_values``)."""
        return h5.count("status", lambda s: ~keeps_values(s))

    def write(self, h5: ResultsFile, chunk: grid.Chunk, arrays: dict, size: int) -> list[int]:
        """Write a finished chunk's arrays into the file; returns the chunks now wholly in it."""
        h5.write(grid.chunk_regions(self.spec, chunk), arrays)
        return [chunk.id]

    def flush(self, h5: ResultsFile) -> list[int]:
        """Write what ``write`` holds back (nothing here); returns the chunks now wholly in the file."""
        return []

    def problem(self, rec: Record, chunk: grid.Chunk, layout: Layout, size: int) -> str | None:
        """Why a journal record cannot stand for ``chunk`` of this sweep, or ``None``."""
        expected = {v.name: v for v in layout.variables}
        arrays = rec.arrays
        if set(arrays) != set(expected):
            missing, extra = sorted(set(expected) - set(arrays)), sorted(set(arrays) - set(expected))
            return ("holds other arrays than this sweep's" + (f" (missing {', '.join(missing[:3])})" if missing else "")
                    + (f" (unexpected {', '.join(extra[:3])})" if extra else ""))
        if rec.span is not None and rec.span != (chunk.model_index, chunk.start, chunk.stop):
            m, a, b = rec.span
            return (f"holds points [{a}, {b}) of model {m}, but chunk {chunk.id} of this sweep is points "
                    f"[{chunk.start}, {chunk.stop}) of model {chunk.model_index} (another chunk size?)")
        return _shape_problem(arrays, expected, chunk.size) or _value_problem(arrays)


def _shape_problem(arrays: dict, expected: dict, size: int) -> str | None:
    """A journal record's array of another shape or dtype than the layout's, or ``None``."""
    for name, v in expected.items():
        a = arrays[name]
        shape = (size, *(n for _, n in v.extra_dims))
        if a.shape != shape:
            return f"has {name} of shape {a.shape}; expected {shape} (another chunk size?)"
        if a.dtype != np.dtype(v.dtype):
            return f"has {name} as {a.dtype}; expected {v.dtype}"
    return None


def _value_problem(arrays: dict) -> str | None:
    """A status that is no status code, or NaN outputs where the status says ok, or ``None``."""
    status = arrays["status"]
    codes = np.isin(status, np.asarray(list(STATUS_MEANINGS), dtype=status.dtype))
    if not codes.all():
        return f"has status {int(status[~codes][0])}, which is no status code"
    ok = status == 0
    for name, a in arrays.items():
        if a.dtype.kind in "fc" and ok.any():
            n = int(np.count_nonzero(np.isnan(a[ok]).reshape(int(ok.sum()), -1).any(axis=1)))
            if n:
                return f"has NaN {name} at {n:,} point(s) whose status says ok"
    return None


@dataclasses.dataclass
class _Run:
    """Consecutive finished groups ``[start, stop)`` of one model, not yet written."""

    model: int
    start: int
    stop: int
    since: float
    values: list = dataclasses.field(default_factory=list)
    chunk_ids: list = dataclasses.field(default_factory=list)


class Groups(Points):
    """The reductions of a ``[reduce]`` table (``.reduce.Reduction``): chunks on group
    boundaries, reduced on the device; a group split over several chunks is combined and written
    once all its parts are there.

    Finished groups are written in runs of consecutive groups, ``BUFFER_GROUPS`` or
    ``BUFFER_SECONDS``' worth at a time (or when the next group does not follow), not chunk by
    chunk: one chunk holds a few hundred groups, and writing each chunk's ~20 small arrays
    into the file was the largest part of the host's work per chunk
    (``benchmarks/bench_reduce.py``). A chunk leaves the journal only once its groups are
    written and committed, so a run killed meanwhile loses nothing."""

    BUFFER_GROUPS = 1 << 16
    BUFFER_SECONDS = COMMIT_SECONDS / 2

    def __init__(self, study: Study):
        super().__init__(study)
        self.reduction = Reduction(self.spec, self.stored)
        self._parts: dict[tuple[int, int], dict[int, dict]] = {}  # (model, group) -> part -> rows
        self._run: _Run | None = None
        self._arrived = -float("inf")  # when the last finished groups arrived (time.monotonic)

    def align(self, size: int) -> int:
        return self.reduction.aligned(size)

    def chunks(self, size: int) -> list[grid.Chunk]:
        return self.reduction.chunks(size)

    def prepare(self, size: int, compiled_size: int, kernel, n_inputs: int, dtype, devs: list) -> None:
        """Compile the device reduction before the sweep (not inside its first chunk): called once
        on zeros shaped and placed as ``kernel``'s outputs."""
        shapes = jax.eval_shape(kernel, *[jax.ShapeDtypeStruct((compiled_size,), dtype)] * n_inputs)
        zeros = {k: np.zeros(s.shape, s.dtype) for k, s in self.reduction.inputs(shapes).items()}
        placed = dict(zip(zeros, devices.place(list(zeros.values()), devs)))
        jax.block_until_ready(self.reduction.reducer(size)(placed, np.int64(0)))

    def visiting_axes(self) -> list:
        """The kept axes, then the reduced ones (innermost): a group is consecutive points."""
        return [self.spec.axes[i] for i in self.reduction.kept + self.reduction.over]

    def layout(self, n_chunks: int, attrs: dict) -> Layout:
        return self.reduction.layout(self.study, layout_for(self.study, n_chunks, attrs))

    def after_kernel(self, size: int, out: dict, chunk: grid.Chunk):
        """The chunk's reduction, queued on the device behind its kernel."""
        return self.reduction.reduce(size, out, chunk)

    def to_host(self, size: int, out: dict, chunk: grid.Chunk, after=None) -> dict[str, np.ndarray]:
        """The chunk's rows on the host: of the reduction queued by ``after_kernel``, or (where
        ``after`` is ``None``: the outputs came from the fallback) of a new one."""
        return self.reduction.rows_on_host(after if after is not None else self.reduction.reduce(size, out, chunk),
                                           size, chunk)

    def failed_in(self, h5: ResultsFile) -> int:
        """The failed points of a finished file: all points less each group's valid ones."""
        return self.spec.n_points - h5.count("valid_points", lambda v: v)

    def write(self, h5: ResultsFile, chunk: grid.Chunk, arrays: dict, size: int) -> list[int]:
        """Write the groups a chunk completes; returns the chunks now wholly in the file (a
        group's parts only once the group is written: until then they stay in the journal)."""
        first, n, part = self.reduction.rows(chunk, size)
        parts = self.reduction.parts(size)
        if parts == 1:
            return self._hold(h5, chunk.model_index, first, n, self.reduction.finish_groups([arrays], size), [chunk.id])
        got = self._parts.setdefault((chunk.model_index, first), {})
        got[part] = (chunk.id, arrays)
        if len(got) < parts:
            return []
        del self._parts[(chunk.model_index, first)]  # the group is complete: combine its parts in part order
        values = self.reduction.finish_groups([got[p][1] for p in range(parts)], size)
        return self._hold(h5, chunk.model_index, first, 1, values, [got[p][0] for p in range(parts)])

    def _hold(self, h5: ResultsFile, model: int, first: int, n: int, values: dict, chunk_ids: list) -> list[int]:
        """Add groups ``[first, first + n)`` to the run of groups held back, writing the run
        first where they do not follow it, and after where it is due: long enough, begun
        ``BUFFER_SECONDS`` ago, or groups arriving slower than that (a sweep of minutes a chunk,
        and its first chunk, are written at once). Returns the chunks written."""
        written = self.flush(h5) if self._run and (self._run.model, self._run.stop) != (model, first) else []
        now = time.monotonic()
        slow, self._arrived = now - self._arrived >= self.BUFFER_SECONDS, now
        if self._run is None:
            self._run = _Run(model, first, first, now)
        run = self._run
        run.stop += n
        run.values.append(values)
        run.chunk_ids.extend(chunk_ids)
        if slow or run.stop - run.start >= self.BUFFER_GROUPS or now - run.since >= self.BUFFER_SECONDS:
            written += self.flush(h5)
        return written

    def flush(self, h5: ResultsFile) -> list[int]:
        """Write the groups held back, as one run; returns the chunks now wholly in the file."""
        run, self._run = self._run, None
        if run is None:
            return []
        values = {k: np.concatenate([v[k] for v in run.values]) for k in run.values[0]}
        h5.write(self.reduction.regions(run.model, run.start, run.stop - run.start), values)
        return run.chunk_ids

    def problem(self, rec: Record, chunk: grid.Chunk, layout: Layout, size: int) -> str | None:
        return self.reduction.problem(rec, chunk, size)


def for_study(study: Study) -> Points:
    """``Groups`` for a spec with ``[reduce]``, else ``Points``."""
    return Groups(study) if study.spec.reduce is not None else Points(study)
