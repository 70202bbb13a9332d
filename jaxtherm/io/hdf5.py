"""The results file (DESIGN.md §5) — the only module that imports h5py.

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
with ``swmr=True`` (``open_kwargs``, ``jaxtherm.open``) see the points finished so far
without disturbing the writer, also after the writer was killed. Plain readers
(``xarray.open_dataset`` without ``driver_kwds={"swmr": True}``) can open the file once it is
complete. The final attributes are written after leaving SWMR mode (close, reopen), since
HDF5 does not promise readers consistent attribute changes in it. SWMR needs a local file
system with POSIX write ordering (not NFS).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import re
import stat
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np

LOCK_WAIT = 5.0  # seconds a reader waits for a writer that holds the file alone (finishing it)
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
            for v in layout.variables:
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
                for i, d in enumerate(layout.dims):
                    ds.dims[i].attach_scale(scales[d])
                for j, (name, _) in enumerate(v.extra_dims):
                    ds.dims[len(layout.dims) + j].attach_scale(scales[name])
            for name, (value, units, description) in layout.scalars.items():
                ds = h5.create_dataset(name, data=np.float64(value))
                _describe(ds, units, description)
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
        try:
            h5 = h5py.File(path, "r+", libver="latest")
        except (OSError, RuntimeError) as err:
            if "already open for write" not in str(err) or not clear_writer_flags(path):
                raise BrokenFile(str(err)) from None
            try:
                h5 = h5py.File(path, "r+", libver="latest")
            except (OSError, RuntimeError) as again:
                raise BrokenFile(str(again)) from None
        try:
            ok = "_jaxtherm/chunk_done" in h5 and h5["_jaxtherm/chunk_done"].shape == (layout.n_chunks,) and all(
                v.name in h5 and h5[v.name].shape[: len(layout.shape)] == layout.shape for v in layout.variables
            )
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


SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _lookup3(data: bytes) -> int:
    """Bob Jenkins' lookup3 ``hashlittle`` with seed 0: the checksum HDF5 keeps of a superblock
    of version 2 or 3 (``H5_checksum_lookup3``)."""
    m = 0xFFFFFFFF

    def rot(x, k):
        return ((x << k) | (x >> (32 - k))) & m

    n = len(data)
    a = b = c = (0xDEADBEEF + n) & m
    full = 12 * ((n - 1) // 12) if n else 0  # whole 12-byte blocks mixed before the last 1..12 bytes
    words = [int(w) for w in np.frombuffer(data[:full], dtype="<u4")]
    for i in range(0, len(words), 3):
        a, b, c = (a + words[i]) & m, (b + words[i + 1]) & m, (c + words[i + 2]) & m
        a = (a - c) & m ^ rot(c, 4); c = (c + b) & m  # noqa: E702
        b = (b - a) & m ^ rot(a, 6); a = (a + c) & m  # noqa: E702
        c = (c - b) & m ^ rot(b, 8); b = (b + a) & m  # noqa: E702
        a = (a - c) & m ^ rot(c, 16); c = (c + b) & m  # noqa: E702
        b = (b - a) & m ^ rot(a, 19); a = (a + c) & m  # noqa: E702
        c = (c - b) & m ^ rot(b, 4); b = (b + a) & m  # noqa: E702
    rest = data[4 * len(words):]
    if not rest:
        return c
    tail = [int(w) for w in np.frombuffer(rest + bytes(12 - len(rest)), dtype="<u4")]
    a, b, c = (a + tail[0]) & m, (b + tail[1]) & m, (c + tail[2]) & m
    c = (c ^ b) - rot(b, 14) & m
    a = (a ^ c) - rot(c, 11) & m
    b = (b ^ a) - rot(a, 25) & m
    c = (c ^ b) - rot(b, 16) & m
    a = (a ^ c) - rot(c, 4) & m
    b = (b ^ a) - rot(a, 14) & m
    return (c ^ b) - rot(b, 24) & m


def clear_writer_flags(path: Path) -> bool:
    """Clear the "open for (SWMR) writing" flags a killed writer leaves in a version 2 or 3
    superblock, as ``h5clear -s`` does: byte 11, then the superblock's checksum again. Only a
    superblock at offset 0 whose stored checksum this module reproduces is changed. Call it only
    where no writer can hold the file (the output's lock is held). Returns whether it cleared them."""
    try:
        with open(path, "r+b") as fh:
            head = fh.read(64)
            if head[:8] != SIGNATURE or len(head) < 12 or head[8] not in (2, 3):
                return False
            n = 12 + 4 * head[9]  # signature, versions, 4 addresses of head[9] bytes
            if len(head) < n + 4 or _lookup3(head[:n]) != int.from_bytes(head[n:n + 4], "little"):
                return False
            block = bytearray(head[:n])
            block[11] = 0
            fh.seek(0)
            fh.write(bytes(block) + _lookup3(bytes(block)).to_bytes(4, "little"))
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        return False
    return True
TRUNCATION_WAIT = 1.0
"""Seconds a reader waits for a file shorter than its superblock says to grow: a writer that has
just created it flushes its first metadata within milliseconds; a truncated file stays short."""


class Unreadable(OSError):
    """A file that is not a readable HDF5 results file (truncated, damaged, not HDF5): its
    message starts with "not a readable jaxtherm results file"."""

    def __init__(self, path, reason: str):
        super().__init__(f"not a readable jaxtherm results file: {reason}")
        self.path, self.reason = path, reason


def _stored_eof(path: Path) -> tuple[int, int] | None:
    """``(size on disk, end of file the superblock records)`` of an HDF5 file with a version 2 or
    3 superblock at offset 0 (what ``libver="latest"`` writes), ``None`` for any other file."""
    with open(path, "rb") as fh:
        head = fh.read(48)
        size = os.fstat(fh.fileno()).st_size
    if len(head) < 48 or not head.startswith(SIGNATURE) or head[8] not in (2, 3) or head[9] != 8:
        return None
    base, _, eof = (int.from_bytes(head[12 + 8 * i: 20 + 8 * i], "little") for i in range(3))
    return size, base + eof


def writer_holds_lock(path: Path) -> bool:
    """Whether a jaxtherm run holds ``<path>.lock`` (the sweep runner's lock, see
    ``jaxtherm.sweep.resume``), i.e. the file may be growing now."""
    try:
        fh = open(Path(path).with_name(Path(path).name + ".lock"))
    except OSError:
        return False
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def check_complete_bytes(path: Path, wait: float = TRUNCATION_WAIT) -> None:
    """Refuse a file shorter than its superblock says (a copy cut short, a killed transfer, a
    file truncated by a full disk) before HDF5 reads it: plain readers refuse such a file, but
    SWMR readers skip that check, and reading the attributes of one then never returns.

    Raises:
        Unreadable: the file is short and no writer holds its lock, or it stays short for
            ``wait`` seconds while one does.
    """
    special = not_regular(path)
    if special:
        raise Unreadable(path, special)
    deadline = time.monotonic() + wait
    while True:
        try:
            sizes = _stored_eof(path)
        except IsADirectoryError:
            raise Unreadable(path, "a directory") from None
        if sizes is None or sizes[0] >= sizes[1]:
            return
        if time.monotonic() > deadline or not writer_holds_lock(path):
            raise Unreadable(path, f"truncated or damaged: {sizes[0]:,} bytes, where its superblock says {sizes[1]:,}")
        time.sleep(0.05)


def open_kwargs(path: Path, truncation_wait: float = TRUNCATION_WAIT) -> dict:
    """Keyword arguments for ``h5py.File(path, "r", **kw)`` that open a results file in any state:
    ``{}`` for a closed file, ``{"swmr": True}`` for one being written, or whose writer was
    killed (HDF5 refuses plain readers of those).

    Raises:
        Unreadable: a truncated file (``check_complete_bytes``).
        OSError: HDF5 cannot open it at all.
    """
    check_complete_bytes(path, truncation_wait)
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            with h5py.File(path, "r"):
                return {}
        except FileNotFoundError:
            raise
        except OSError:
            pass
        try:
            with h5py.File(path, "r", swmr=True):
                return {"swmr": True}
        except OSError as err:
            # the writer holds the file alone for a moment while it writes the final attributes
            if "lock" not in str(err) or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


_HDF5_BOOKKEEPING = ("CLASS", "NAME", "DIMENSION_LIST", "REFERENCE_LIST", "_Netcdf4Dimid", "_Netcdf4Coordinates")


def _attrs(obj) -> dict[str, object]:
    """An object's attributes as plain Python values, HDF5's dimension-scale bookkeeping left out."""
    out = {}
    for k, v in obj.attrs.items():
        if k in _HDF5_BOOKKEEPING:
            continue
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, np.generic):
            v = v.item()
        elif isinstance(v, np.ndarray):
            v = v.tolist()
        out[k] = v
    return out


def read_summary(path: Path) -> dict:
    """What a results file holds, without its grid-shaped data (but with ``status``): for
    ``jaxtherm info``. Opens any state of file (``open_kwargs``) and closes it at once.

    Returns:
        ``{"attrs": {…}, "coords": {dim: {"values": array, "attrs": {…}}},
        "variables": {name: {"dims": [...], "shape": (...), "dtype": str, "attrs": {…}}},
        "scalars": {name: {"value": float, "attrs": {…}}}, "status": int8 array or None,
        "chunk_done": uint8 array or None, "swmr": bool}``.

    Raises:
        OSError: HDF5 cannot open the file.
    """
    kw = open_kwargs(path)
    where = ["the file"]
    try:
        return _read_summary(path, kw, where)
    except OSError:
        raise
    except Exception as err:  # noqa: BLE001  (a damaged object: h5py raises KeyError, RuntimeError, …)
        raise damaged(path, err, where[0]) from None


def damaged(path, err: Exception, where: str) -> Unreadable:
    """``Unreadable`` for an error h5py raised while reading ``where`` (``"dataset 'J_a'"``), in
    words: HDF5's own first line (``incorrect metadata checksum``), and for the Python errors that
    h5py lets through where a damaged reference leads nowhere (``'NoneType' object has no attribute
    'lstrip'``, a dimension scale whose name cannot be read) what they mean."""
    if isinstance(err, (AttributeError, TypeError)):
        text = "a reference inside it leads nowhere (its structure is damaged)"
    else:
        text = str(err.args[0] if isinstance(err, KeyError) and err.args else err).split("\n")[0]
        text = text or type(err).__name__
    return Unreadable(path, f"damaged: {where} cannot be read: {text}")


def check_readable(path: Path) -> None:
    """Read what ``jaxtherm info`` reads of a results file — every object's metadata
    (``describe``), every ``status`` value (``count_int8``) and the record of finished chunks —
    and raise where any of it is damaged. For a complete file that ``run --resume`` would
    otherwise leave as it is, unreadable.

    Raises:
        Unreadable: with the damaged object and HDF5's reason, in words.
    """
    kw = open_kwargs(path)
    s = describe(path, kw)
    where = "the status of every point"
    try:
        if "status" in s["variables"] or "status" in s["scalars"]:
            count_int8(path, bool(kw), "status")
        where = "the record of finished chunks"
        with h5py.File(path, "r", **kw) as h5:
            if "_jaxtherm/chunk_done" in h5:
                h5["_jaxtherm/chunk_done"][()]
    except Exception as err:  # noqa: BLE001  (HDF5's errors for a damaged file are of many kinds)
        raise damaged(path, err, where) from None


def _read_summary(path: Path, kw: dict, where: list) -> dict:
    out = {"coords": {}, "variables": {}, "scalars": {}, "swmr": bool(kw)}
    with h5py.File(path, "r", **kw) as h5:
        where[0] = "the file's attributes"
        out["attrs"] = _attrs(h5)
        for name in h5:
            where[0] = f"object {name!r}"
            obj = h5[name]
            if not isinstance(obj, h5py.Dataset):
                continue
            if obj.is_scale:
                values = obj[()]
                if values.dtype.kind in "OS":
                    values = np.asarray([v.decode() if isinstance(v, bytes) else str(v) for v in values])
                out["coords"][name] = {"values": values, "attrs": _attrs(obj)}
            elif obj.ndim == 0:
                out["scalars"][name] = {"value": obj[()].item(), "attrs": _attrs(obj)}
            else:
                dims = [d[0].name.lstrip("/") if len(d) else f"dim_{i}" for i, d in enumerate(obj.dims)]
                out["variables"][name] = {"dims": dims, "shape": obj.shape, "dtype": str(obj.dtype),
                                          "attrs": _attrs(obj)}
        where[0] = "the status of every point"
        out["status"] = h5["status"][()] if "status" in h5 else None
        where[0] = "the record of finished chunks"
        out["chunk_done"] = h5["_jaxtherm/chunk_done"][()] if "_jaxtherm/chunk_done" in h5 else None
    return out


def file_attrs(path: Path) -> dict | None:
    """A results file's root attributes (``complete``, ``spec``, ``n_failed``, …) as plain values;
    ``None`` if it cannot be read."""
    try:
        with h5py.File(path, "r", **open_kwargs(path)) as h5:
            return _attrs(h5)
    except Exception:  # noqa: BLE001  (unreadable in any way: no attributes)
        return None


@dataclasses.dataclass(frozen=True)
class FileCheck:
    """What an existing output path holds (``inspect``).

    ``kind``: ``"missing"``; ``"special"`` (a directory, device, FIFO or socket); ``"empty"``;
    ``"other"`` (not HDF5); ``"damaged"`` (HDF5, or its first bytes, that cannot be read:
    truncated or corrupt); ``"foreign"`` (readable HDF5 without jaxtherm's bookkeeping);
    ``"results"`` (a jaxtherm optimisation or fit file); ``"sweep"``. ``reason`` says why in
    words; ``attrs`` are a sweep's root attributes."""

    kind: str
    reason: str = ""
    attrs: Mapping[str, object] | None = None

    @property
    def complete(self) -> bool:
        return bool(self.attrs and self.attrs.get("complete", 0))


_SPECIAL = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
            (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


def not_regular(path: Path) -> str:
    """What ``path`` is when it exists and is no regular file (``"a directory"``, ``"a FIFO (named
    pipe)"``, …: reading a FIFO would wait for a writer forever); ``""`` otherwise."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return ""
    except OSError as err:
        return f"a path that cannot be examined ({err.strerror})"
    if stat.S_ISREG(mode):
        return ""
    return next((what for test, what in _SPECIAL if test(mode)), "not a regular file")


def inspect(path: Path, truncation_wait: float = 0.0) -> FileCheck:
    """Classify what ``path`` holds without changing it and without hanging on a damaged file
    (``truncation_wait``: see ``check_complete_bytes``; 0 where no writer can be running)."""
    found = _file_kind(path)
    if found is not None:
        return found
    try:
        with h5py.File(path, "r", **open_kwargs(path, truncation_wait)) as h5:
            attrs = _attrs(h5)
            bookkeeping = "status" in h5 and "_jaxtherm/chunk_done" in h5
    except Unreadable as err:
        return FileCheck("damaged", err.reason)
    except Exception as err:  # noqa: BLE001  (HDF5's errors for a damaged file are of many kinds)
        return FileCheck("damaged", damaged(path, err, "its root group").reason)
    return _jaxtherm_kind(attrs, bookkeeping)


def _file_kind(path: Path) -> FileCheck | None:
    """What ``path`` is where that is decided without opening it as HDF5: missing, special, empty,
    unreadable or not HDF5; ``None`` for a file that looks like HDF5."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return FileCheck("missing")
    except OSError as err:
        return FileCheck("special", f"a path that cannot be examined ({err.strerror})")
    if not stat.S_ISREG(st.st_mode):
        return FileCheck("special", next((what for test, what in _SPECIAL if test(st.st_mode)), "not a regular file"))
    if st.st_size == 0:
        return FileCheck("empty", "an empty file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as err:
        return FileCheck("special", f"a file that cannot be read ({err.strerror})")
    if head.startswith(SIGNATURE[:4]):
        return None
    try:
        hdf5 = h5py.is_hdf5(str(path))  # a signature after a user block
    except Exception:  # noqa: BLE001
        hdf5 = False
    return None if hdf5 else FileCheck("other", "not an HDF5 file")


def _jaxtherm_kind(attrs: Mapping[str, object], bookkeeping: bool) -> FileCheck:
    """A readable HDF5 file by its root attributes: foreign, a jaxtherm optimisation or fit file,
    or a sweep."""
    if not bookkeeping or "spec" not in attrs:
        return FileCheck("foreign", "an HDF5 file that jaxtherm did not write (no status, spec or chunk record)")
    title = str(attrs.get("title", "jaxtherm sweep"))
    if not title.startswith("jaxtherm sweep"):
        kind = title.split(" ")[1] if title.startswith("jaxtherm ") and " " in title[9:] else "results"
        return FileCheck("results", f"a jaxtherm {kind} file, not a sweep", attrs)
    return FileCheck("sweep", "a complete sweep" if attrs.get("complete", 0) else "an unfinished sweep", attrs)


def h5py_version() -> str:
    return h5py.__version__


# Reading on demand (``jaxtherm.open``'s lazy arrays, ``jaxtherm info``): a reader holds no open
# file between reads. Each read opens the file, reads one region of a few datasets and closes it,
# so a Dataset left open never blocks the sweep that writes the file (HDF5 locks a file for as long
# as a reader holds it open, and refuses a second open of it in the same process with other flags).


class Replaced(OSError):
    """The file at a path is no longer the one a reader opened (``--force`` renamed a new file over it)."""


def describe(path: Path, kw: dict) -> dict:
    """What a results file holds, read in one opening: ``read_summary``'s dictionary without
    ``status`` and ``chunk_done``, each variable with its storage ``chunks`` too, plus the
    file's ``identity`` (device and inode, for ``read_regions``).

    Raises:
        OSError: HDF5 cannot open the file; ``Unreadable`` for a damaged object.
    """
    out = {"coords": {}, "variables": {}, "scalars": {}, "swmr": bool(kw)}
    where = "the file"
    try:
        with h5py.File(path, "r", **kw) as h5:
            out["identity"] = _identity(h5)
            where = "the file's attributes"
            out["attrs"] = _attrs(h5)
            for name in h5:
                where = f"object {name!r}"
                obj = h5[name]
                if isinstance(obj, h5py.Dataset):
                    _describe_dataset(out, name, obj)
    except OSError:
        raise
    except Exception as err:  # noqa: BLE001  (a damaged object: h5py raises KeyError, RuntimeError, …)
        raise damaged(path, err, where) from None
    return out


def _describe_dataset(out: dict, name: str, obj) -> None:
    if obj.is_scale:
        values = obj[()]
        if values.dtype.kind in "OS":
            values = np.asarray([v.decode() if isinstance(v, bytes) else str(v) for v in values])
        out["coords"][name] = {"values": values, "attrs": _attrs(obj)}
    elif obj.ndim == 0:
        out["scalars"][name] = {"value": obj[()].item(), "dtype": str(obj.dtype), "attrs": _attrs(obj)}
    else:
        dims = [d[0].name.lstrip("/") if len(d) else f"dim_{i}" for i, d in enumerate(obj.dims)]
        out["variables"][name] = {"dims": dims, "shape": obj.shape, "dtype": str(obj.dtype), "attrs": _attrs(obj),
                                  "chunks": obj.chunks}


def _identity(h5) -> tuple[int, int]:
    """``(device, inode)`` of an open file."""
    st = os.fstat(h5.id.get_vfd_handle())
    return st.st_dev, st.st_ino


@contextlib.contextmanager
def _open_same(path: Path, swmr: bool, identity: tuple[int, int] | None):
    """``path`` open for reading (SWMR where ``swmr``), checked to be the file of ``identity``; waits
    up to ``LOCK_WAIT`` while a writer holds it alone (writing a sweep's final attributes)."""
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            h5 = h5py.File(path, "r", swmr=swmr)
            break
        except FileNotFoundError:
            raise Replaced(f"{path}: the file was removed after it was opened") from None
        except OSError as err:
            if "lock" not in str(err) or time.monotonic() > deadline:
                raise
        time.sleep(0.05)
    with h5:
        if identity is not None and _identity(h5) != tuple(identity):
            raise Replaced(f"{path}: another file has replaced the one opened (e.g. by jaxtherm run --force); "
                           "open it again")
        yield h5


def read_regions(path: Path, swmr: bool, identity: tuple[int, int] | None, requests: Sequence[tuple[str, tuple]]) -> list:
    """``dataset[key]`` for each ``(name, key)`` of ``requests``, in that order, from one opening of
    the file (a key of slices, integers and at most one increasing integer array, as h5py takes
    it). A file being written shows the points finished by then: request ``status`` first, and
    every point it marks done has its outputs in what follows (the writer writes them before the
    status).

    Raises:
        Replaced: the file at ``path`` is not the one of ``identity``.
        KeyError: no dataset of that name.
    """
    with _open_same(path, swmr, identity) as h5:
        return [np.asarray(h5[name][key]) for name, key in requests]


def count_int8(path: Path, swmr: bool, name: str) -> np.ndarray:
    """How often each value occurs in the int8 dataset ``name`` (``status``), counted a storage
    chunk at a time in slices of 2¹⁸ values: memory stays a few MiB, whatever the file's size.

    Returns:
        ``counts[v + 128]`` for each value ``v`` from −128 to 127.
    """
    counts = np.zeros(256, np.int64)
    step = 1 << 18
    with _open_same(path, swmr, None) as h5:
        ds = h5[name]
        for box in ds.iter_chunks() if ds.chunks is not None else [()]:
            flat = np.ascontiguousarray(ds[box], dtype=np.int8).reshape(-1).view(np.uint8) ^ 0x80  # v + 128
            for k in range(0, flat.size, step):
                counts += np.bincount(flat[k: k + step], minlength=256)
    return counts


def committed_chunks(path: Path) -> set[int]:
    """The chunks a results file has committed (``chunk_done``), read as SWMR readers do (also
    while it is written, or after its writer was killed); empty where it cannot be read."""
    try:
        with h5py.File(path, "r", **open_kwargs(Path(path), truncation_wait=0.0)) as h5:
            return {int(i) for i in np.flatnonzero(h5["_jaxtherm/chunk_done"][()])}
    except (OSError, KeyError, RuntimeError, ValueError):
        return set()
