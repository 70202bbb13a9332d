"""Writing the results file (docs/design.md §5): ``Layout`` says what it holds, ``ResultsFile``
creates, reopens, writes, commits and finishes it. Reading it is ``jaxtherm.io.h5read``'s, and
the checks of its bytes (truncation, a killed writer's flags) are ``jaxtherm.io.integrity``'s.

Layout, readable by ``xarray.open_dataset(path, engine="h5netcdf")``:

* one 1-D dataset per grid dimension (each categorical model option, then each axis), made an
  HDF5 dimension scale, with ``units`` / ``description`` attrs; the same for the trailing
  dimensions of per-point arrays (``row``, ``col`` of ρ, labelled by the basis states);
* one grid-shaped dataset per observable, gradient, ``status`` (int8, −1 = not computed yet)
  and ``residual``, with the scales attached; ``rho_re``/``rho_im`` (extra dims ``row``,
  ``col``) when the steady states are kept;
* one scalar dataset per fixed parameter;
* root attrs: the spec text exactly as given, versions, device, precision, start/end time,
  ``complete`` (0/1) and the failed-point count;
* group ``/_jaxtherm`` with ``chunk_done`` (uint8 per chunk), invisible to xarray.

While a sweep runs, the file is in HDF5's single-writer/multiple-reader (SWMR) mode: every
dataset exists from the start, finished chunks are flushed in commits at least
``COMMIT_SECONDS`` apart (``ResultsFile.commit``), and readers that open the file
with ``swmr=True`` (``integrity.open_kwargs``, ``jaxtherm.open``) see the points finished so far
without disturbing the writer, also after the writer was killed. Plain readers
(``xarray.open_dataset`` without ``driver_kwds={"swmr": True}``) can open the file once it is
complete. The final attributes are written after leaving SWMR mode (close, reopen), since
HDF5 does not promise readers consistent attribute changes in it. SWMR needs a local file
system with POSIX write ordering (not NFS).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np

from jaxtherm.io.integrity import clear_writer_flags

COMMIT_SECONDS = 1.0
"""A finished chunk becomes visible to readers (its ``status`` and ``chunk_done`` written and
flushed) when it, or a later chunk, is marked done at least this long after the last commit (the
first chunk at once, the last when the file is finished). A flush writes every touched storage
chunk whole, so flushing after each chunk of a cheap model rewrote its storage chunks over and
over (benchmarks/bench_sweep.py; docs/performance.md). The journal, not this file, is the
crash-safe record, so nothing is lost by committing less often."""
COMPRESSION = {"none": {}, "lzf": {"compression": "lzf"}, "gzip": {"compression": "gzip", "compression_opts": 4}}


@dataclasses.dataclass(frozen=True)
class Variable:
    """A grid-shaped dataset: ``name``, dtype, ``units``, ``description``, trailing dims."""

    name: str
    dtype: str
    units: str
    description: str
    extra_dims: tuple[tuple[str, int], ...] = ()


@dataclasses.dataclass(frozen=True)
class Layout:
    """Everything needed to create a results file."""

    dims: tuple[str, ...]
    coords: Mapping[str, tuple[np.ndarray, str, str]]  # name -> (values, units, description), extra dims too
    variables: tuple[Variable, ...]
    scalars: Mapping[str, tuple[float, str, str]]  # fixed parameters
    attrs: Mapping[str, object]
    n_chunks: int
    compression: str = "none"

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(self.coords[d][0]) for d in self.dims)


class BrokenFile(Exception):
    """An existing results file that HDF5 cannot open or that lacks jaxtherm's bookkeeping."""


def _storage_chunks(shape: tuple[int, ...], extra: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """About 1 MiB storage chunks, taken from the trailing (fastest-varying) grid dims."""
    budget = max(1, (1 << 20) // (itemsize * int(np.prod(extra, dtype=np.int64) or 1)))
    out = []
    for n in reversed(shape):
        take = max(1, min(n, budget))
        out.append(take)
        budget = max(1, budget // take)
    return tuple(reversed(out)) + extra


def _describe(ds, units: str, description: str) -> None:
    """``description`` and, when there are any, ``units`` (an empty ``units`` attr would show as
    ``[]`` in xarray's plot labels)."""
    ds.attrs["description"] = description
    if units:
        ds.attrs["units"] = units


def _io_error(err: Exception, path) -> OSError:
    """An HDF5 write failure as an ``OSError`` with its errno (h5py raises ``RuntimeError`` for a
    failed flush; HDF5's message carries ``errno = N``)."""
    if isinstance(err, OSError) and err.errno:
        return OSError(err.errno, os.strerror(err.errno), str(path))
    m = re.search(r"errno = (\d+)", str(err))
    code = int(m.group(1)) if m else 0
    return OSError(code, os.strerror(code) if code else str(err).split("\n")[0], str(path))


def _write_failure_noise(value) -> bool:
    return isinstance(value, (OSError, RuntimeError)) and "file write failed" in str(value)


def _quiet_hooks() -> None:
    """Drop h5py's complaints about releasing the objects of a file that can no longer be written
    (one traceback per open dataset: Cython prints them through ``sys.excepthook``, then
    ``sys.unraisablehook``): the run reports the failure once, as ``OSError``. Every other
    exception reaches the hooks as before."""
    if getattr(sys.unraisablehook, "jaxtherm", False):
        return
    unraisable, excepthook = sys.unraisablehook, sys.excepthook

    def quiet_unraisable(u):
        if not _write_failure_noise(u.exc_value):
            unraisable(u)

    def quiet_excepthook(kind, value, tb):
        if not _write_failure_noise(value):
            excepthook(kind, value, tb)

    quiet_unraisable.jaxtherm = True
    sys.unraisablehook, sys.excepthook = quiet_unraisable, quiet_excepthook


@contextlib.contextmanager
def _writing(path):
    """Turn HDF5's write failures (full disk, quota, file-size limit) into ``OSError``."""
    _quiet_hooks()  # before the failure: h5py's temporaries complain while it propagates
    try:
        yield
    except (OSError, RuntimeError) as err:
        raise _io_error(err, path) from None


def _create_scales(h5: h5py.File, layout: Layout) -> dict[str, h5py.Dataset]:
    """One dimension scale per grid dimension and per trailing dimension of a variable (``row``,
    ``col``): its values (strings as HDF5 strings), ``units`` and ``description``."""
    scales = {}
    extra_dims = [n for v in layout.variables for n, _ in v.extra_dims]
    for d in dict.fromkeys([*layout.dims, *extra_dims]):
        values, units, description = layout.coords[d]
        if values.dtype.kind in "UO":
            ds = h5.create_dataset(d, data=np.asarray(values, dtype=object), dtype=h5py.string_dtype())
        else:
            ds = h5.create_dataset(d, data=values)
        _describe(ds, units, description)
        ds.make_scale(d)
        scales[d] = ds
    return scales


def _create_variable(h5: h5py.File, layout: Layout, v: Variable, scales: Mapping[str, h5py.Dataset]) -> None:
    """A grid-shaped dataset, filled with −1 (integers) or NaN, stored in chunks of about 1 MiB,
    with its scales attached (the grid's, then its trailing dimensions')."""
    extra = tuple(s for _, s in v.extra_dims)
    dtype = np.dtype(v.dtype)
    fill = -1 if dtype.kind == "i" else np.nan
    ds = h5.create_dataset(
        v.name,
        shape=layout.shape + extra,
        dtype=dtype,
        fillvalue=fill,
        chunks=_storage_chunks(layout.shape, extra, dtype.itemsize),
        **COMPRESSION[layout.compression],
    )
    _describe(ds, v.units, v.description)
    for i, d in enumerate([*layout.dims, *(name for name, _ in v.extra_dims)]):
        ds.dims[i].attach_scale(scales[d])


def _reopen(path: Path) -> h5py.File:
    """``path`` open for writing; where HDF5 refuses it for a killed writer's "open for writing"
    flags, they are cleared first (``clear_writer_flags``). ``BrokenFile`` if it does not open."""
    try:
        return h5py.File(path, "r+", libver="latest")
    except (OSError, RuntimeError) as err:
        if "already open for write" not in str(err) or not clear_writer_flags(path):
            raise BrokenFile(str(err)) from None
    try:
        return h5py.File(path, "r+", libver="latest")
    except (OSError, RuntimeError) as again:
        raise BrokenFile(str(again)) from None


def _holds(h5: h5py.File, layout: Layout) -> bool:
    """Whether an open file has the record of ``layout``'s chunks and each of its variables, with
    the grid's shape."""
    return "_jaxtherm/chunk_done" in h5 and h5["_jaxtherm/chunk_done"].shape == (layout.n_chunks,) and all(
        v.name in h5 and h5[v.name].shape[: len(layout.shape)] == layout.shape for v in layout.variables
    )


class ResultsFile:
    """An open results file being written. A write that fails (full disk) raises ``OSError``;
    HDF5 cannot then close the file cleanly, and may crash at interpreter exit while trying to
    flush it: a process that gets such an error should end with ``os._exit`` (the CLI does)."""

    def __init__(self, h5: h5py.File):
        self._h5 = h5
        self._datasets: dict[str, h5py.h5d.DatasetID] = {}
        self._pending: list[tuple[Sequence, np.ndarray | None, int | None]] = []  # (regions, status, chunk id)
        self._committed = -float("inf")  # the first finished chunk is committed at once

    @classmethod
    def create(cls, path: Path, layout: Layout) -> ResultsFile:
        """Create (truncate) ``path`` with every dataset allocated and filled with NaN / −1."""
        with _writing(path):
            return cls(cls._create(path, layout))

    @staticmethod
    def _create(path: Path, layout: Layout) -> h5py.File:
        h5 = h5py.File(path, "w", libver="latest")
        try:
            scales = _create_scales(h5, layout)
            for v in layout.variables:
                _create_variable(h5, layout, v, scales)
            for name, (value, units, description) in layout.scalars.items():
                _describe(h5.create_dataset(name, data=np.float64(value)), units, description)
            h5.attrs.update({k: v for k, v in layout.attrs.items()})
            h5.attrs["complete"] = 0
            group = h5.create_group("_jaxtherm")
            group.create_dataset("chunk_done", data=np.zeros(layout.n_chunks, np.uint8))
            h5.flush()
            h5.swmr_mode = True
        except BaseException:
            with contextlib.suppress(OSError, RuntimeError):
                h5.close()
            raise
        return h5

    @classmethod
    def open(cls, path: Path, layout: Layout) -> ResultsFile:
        """Reopen an incomplete file for appending; ``BrokenFile`` if it cannot be used.

        A file whose writer was killed keeps HDF5's "open for writing" flags in its superblock
        and cannot be reopened for writing as it is; the caller holds the output's lock (no writer
        runs), so the flags are cleared (``clear_writer_flags``, what ``h5clear -s`` does) and the
        file, as consistent as SWMR keeps it for readers, is reopened."""
        h5 = _reopen(path)
        try:
            ok = _holds(h5, layout)
        except Exception as err:  # a damaged object header surfaces here
            h5.close()
            raise BrokenFile(str(err)) from None
        if not ok:
            h5.close()
            raise BrokenFile("missing or mis-shaped datasets")
        h5.swmr_mode = True
        return cls(h5)

    def write(self, regions: Sequence[tuple[tuple[slice, ...], slice]], arrays: Mapping[str, np.ndarray]) -> None:
        """Write flat per-point ``arrays`` into the grid boxes ``regions`` (see grid.grid_regions).

        ``status`` is written by the next ``commit``, after a flush of everything else: a
        reader of the running sweep that sees a point's status ≠ −1 sees all of its outputs."""
        with _writing(self._h5.filename):
            for name, values in arrays.items():
                if name != "status":
                    self._write(name, regions, values)
        self._pending.append((regions, arrays.get("status"), None))

    def _write(self, name: str, regions, values: np.ndarray) -> None:
        """``values[part]`` into each grid box, by HDF5's own hyperslab write: h5py's
        ``ds[box] = …`` spent 90 µs a call on selections and dtype checks (half the writer's time
        for a cheap model's 13 datasets a chunk)."""
        if name not in self._datasets:
            self._datasets[name] = self._h5[name].id
        ds = self._datasets[name]
        extra = values.shape[1:]
        for box, part in regions:
            block = np.ascontiguousarray(values[part].reshape(tuple(s.stop - s.start for s in box) + extra))
            space = ds.get_space()
            if space.get_simple_extent_ndims() == 0:  # a sweep of one point: scalar datasets
                ds.write(h5py.h5s.create(h5py.h5s.SCALAR), space, block.reshape(()))
                continue
            space.select_hyperslab(tuple(s.start for s in box) + (0,) * len(extra), block.shape)
            ds.write(h5py.h5s.create_simple(block.shape), space, block)

    def done_chunks(self) -> set[int]:
        """The chunks this file has committed (``chunk_done``)."""
        return {int(i) for i in np.flatnonzero(self._h5["_jaxtherm/chunk_done"][()])}

    def mark_done(self, chunk_id: int) -> list[int]:
        """Mark a written chunk done; it is committed with the next ``commit`` that is due
        (``COMMIT_SECONDS``). Returns the chunks committed now (``commit``), often none."""
        self._pending.append(((), None, chunk_id))
        if time.monotonic() - self._committed >= COMMIT_SECONDS:
            return self.commit()
        return []

    def commit(self) -> list[int]:
        """Make every written chunk visible: flush the data, then write the pending statuses and
        ``chunk_done`` flags, and flush again. Returns the chunks committed."""
        if not self._pending:
            return []
        committed = [c for _, _, c in self._pending if c is not None]
        with _writing(self._h5.filename):
            self._h5.flush()
            for regions, status, chunk_id in self._pending:
                if status is not None:
                    self._write("status", regions, status)
                if chunk_id is not None:
                    self._h5["_jaxtherm/chunk_done"][chunk_id] = 1
            self._h5.flush()
        self._pending.clear()
        self._committed = time.monotonic()
        return committed

    def count(self, name: str, predicate) -> int:
        """``Σ predicate(values)`` over a dataset, read a block of its first dimension at a time
        (the failed points at the end of a run, without the whole dataset in memory)."""
        ds = self._h5[name]
        if ds.ndim == 0:
            return int(predicate(np.asarray(ds[()])).sum())
        step = max(1, (1 << 24) // max(1, int(np.prod(ds.shape[1:], dtype=np.int64))))
        return sum(int(predicate(ds[i:i + step]).sum()) for i in range(0, ds.shape[0], step))

    def finish(self, attrs: Mapping[str, object]) -> None:
        """Leave SWMR mode (close), then record the final attrs and mark the file complete."""
        self.commit()
        path = self._h5.filename
        with _writing(path):
            self._h5.close()
            self._datasets.clear()
            self._h5 = h5py.File(path, "r+")
            self._h5.attrs.update(dict(attrs))
            self._h5.attrs["complete"] = 1
            self._h5.flush()

    def close(self) -> None:
        """Commit what was written (best effort: after a failed write the journal is the record),
        then close."""
        with contextlib.suppress(OSError, RuntimeError, ValueError):
            self.commit()
        with _writing(self._h5.filename):
            self._h5.close()

    @classmethod
    def write_whole(cls, path: Path, layout: Layout, arrays: Mapping[str, np.ndarray], attrs: Mapping[str, object]) -> None:
        """Write a file of one chunk at once (optimisation and fit results): every array over the
        whole first dimension, then ``attrs``, complete. It is written beside ``path``
        (``path.partial``) and renamed over it only when complete, so a file already at ``path``
        stays as it was until then, whatever stops the write."""
        n = layout.shape[0]
        staging = path.with_name(path.name + ".partial")
        h5 = cls.create(staging, layout)
        try:
            h5.write([((slice(0, n),), slice(0, n))], arrays)
            h5.mark_done(0)
            h5.finish(attrs)
        except BaseException:
            with contextlib.suppress(OSError):
                h5.close()
                staging.unlink()
            raise
        h5.close()
        os.replace(staging, path)


def h5py_version() -> str:
    return h5py.__version__
