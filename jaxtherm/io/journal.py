"""The crash-safe record of finished work not yet committed to the results file.

``<out>.journal/`` holds ``meta.json`` (the spec text, chunk size, chunk count) and one
``chunk_<id>.npy`` per finished chunk that the results file has not committed yet (``discard``
drops a record once ``ResultsFile.commit`` has flushed its chunk), with every output array of that chunk: the array of their
names, then each array, in NumPy's ``.npy`` format one after the other (no zip container: NumPy's
``savez`` was several times slower; benchmarks/bench_sweep.py, docs/performance.md). The last
name is ``HEADER`` and the last array the chunk's header: format version, chunk id, the model
index and the flat point range ``[start, stop)`` it holds (``-1`` when not given), and a CRC-32
of everything written before it, so that a truncated, damaged or foreign record is recognised
(``records``) and recomputed, never copied into the results file. Journals of earlier
versions (``chunk_<id>.npz``, or ``.npy`` without a header) are read too; the runner validates
their shapes against the sweep. Each file is written to a temporary name and renamed into place
(atomic on POSIX), so a run killed at any moment leaves only whole records; ``--resume``
keeps the chunks the HDF5 file committed, re-applies these records and computes the rest. The
journal directory is removed after the HDF5 file is complete and closed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json
import os
import re
import shutil
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from jaxtherm._checks import raise_if

HEADER = "__jaxtherm_chunk__"
FORMAT = 2
_NAME = re.compile(r"^chunk_(\d{1,18})\.np[yz]$")


def journal_dir(output: Path) -> Path:
    return output.with_name(output.name + ".journal")


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:  # a full disk: leave no partial file behind
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def create(output: Path, meta: Mapping[str, object]) -> None:
    """Start a fresh journal (removing any old one) with ``meta``."""
    d = journal_dir(output)
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    _atomic_write(d / "meta.json", lambda fh: fh.write(json.dumps(dict(meta), indent=1).encode()))


def exists(output: Path) -> bool:
    """Whether ``output`` has a journal directory (whole or not)."""
    return journal_dir(output).is_dir()


def load_meta(output: Path) -> dict | None:
    """The journal's meta, or ``None`` if there is no (whole) journal."""
    try:
        meta = json.loads((journal_dir(output) / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


class _Crc:
    """A file wrapper that keeps the CRC-32 of what is written through it."""

    def __init__(self, fh):
        self.fh, self.crc = fh, 0

    def write(self, data) -> int:
        self.crc = zlib.crc32(data, self.crc)
        return self.fh.write(data)


def write_chunk(output: Path, chunk_id: int, arrays: Mapping[str, np.ndarray],
                span: tuple[int, int, int] | None = None) -> None:
    """Record a finished chunk's outputs atomically (format in the module docstring).

    Args:
        span: ``(model_index, start, stop)``: the points the chunk holds (checked on resume).
    """
    model_index, start, stop = span if span is not None else (-1, -1, -1)

    def write(fh):
        w = _Crc(fh)
        np.lib.format.write_array(w, np.array([*arrays, HEADER], dtype=str))
        for a in arrays.values():
            a = np.ascontiguousarray(a)
            raise_if(a.dtype.hasobject, ValueError("journal arrays hold numbers, not Python objects"))
            w.write(_npy_header(a.dtype.str, a.shape))
            w.write(a.data.cast("B") if a.size else b"")
        header = np.array([FORMAT, chunk_id, model_index, start, stop, w.crc], dtype=np.int64)
        np.lib.format.write_array(fh, header, allow_pickle=False)

    _atomic_write(journal_dir(output) / f"chunk_{chunk_id:09d}.npy", write)


@functools.lru_cache(maxsize=512)
def _npy_header(dtype: str, shape: tuple[int, ...]) -> bytes:
    """The ``.npy`` header ``np.lib.format.write_array`` writes before an array of ``dtype``
    (its ``.str``) and ``shape`` in C order: the same bytes, made once (every chunk's record
    repeats the same ~20 headers; ``benchmarks/bench_reduce.py``)."""
    view = np.broadcast_to(np.zeros((), np.dtype(dtype)), shape)  # the shape without its memory
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, np.lib.format.header_data_from_array_1_0(view))
    return buf.getvalue()


@dataclasses.dataclass
class Record:
    """One file of the journal as read: ``chunk_id`` (``None`` for a file name that is not a
    chunk's), its ``arrays`` and ``span`` ``(model_index, start, stop)`` (``None`` where not
    recorded), or the ``problem`` that makes it unusable."""

    path: Path
    chunk_id: int | None
    arrays: dict[str, np.ndarray] | None = None
    span: tuple[int, int, int] | None = None
    problem: str | None = None


class _Reader:
    """A file wrapper that keeps the CRC-32 of what is read through it."""

    def __init__(self, fh):
        self.fh, self.crc = fh, 0

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.crc = zlib.crc32(data, self.crc)
        return data

    def readline(self, n: int = -1) -> bytes:
        data = self.fh.readline(n)
        self.crc = zlib.crc32(data, self.crc)
        return data


def _read_npy(path: Path, chunk_id: int) -> tuple[dict[str, np.ndarray], tuple[int, int, int] | None]:
    with open(path, "rb") as fh:
        r = _Reader(fh)
        names = _read_names(r)
        framed = bool(names) and names[-1] == HEADER
        arrays = _read_arrays(r, names[:-1] if framed else names)
        span = None
        if framed:
            crc = r.crc  # of everything before the header
            span = _check_header(np.lib.format.read_array(fh, allow_pickle=False), crc, chunk_id)
        raise_if(fh.read(1), ValueError("extra bytes after its last array"))
    return arrays, span


def _read_names(r: _Reader) -> list[str]:
    """A record's first array: the names of the arrays that follow (``HEADER`` last, where framed)."""
    names = np.lib.format.read_array(r, allow_pickle=False)
    raise_if(names.ndim != 1 or names.dtype.kind != "U", ValueError("no list of array names"))
    return [str(k) for k in names]


def _read_arrays(r: _Reader, names: list[str]) -> dict[str, np.ndarray]:
    """The arrays of ``names``, one after the other; a name given twice is a damaged record."""
    arrays = {}
    for k in names:
        raise_if(k in arrays, ValueError(f"array {k!r} twice"))
        arrays[k] = np.lib.format.read_array(r, allow_pickle=False)
    return arrays


def _check_header(header: np.ndarray, crc: int, chunk_id: int) -> tuple[int, int, int] | None:
    """A record's header checked (format, the CRC-32 ``crc`` of everything before it, the chunk id
    its file name gives): the point range ``(model_index, start, stop)`` it records, ``None``
    where none was given."""
    raise_if(header.shape != (6,) or header.dtype != np.int64 or int(header[0]) != FORMAT, ValueError("a damaged header"))
    raise_if(int(header[5]) != crc, ValueError("checksum mismatch"))
    raise_if(int(header[1]) != chunk_id, ValueError(f"it holds chunk {int(header[1])}"))
    if int(header[3]) >= 0:
        return int(header[2]), int(header[3]), int(header[4])
    return None


def _read(path: Path, chunk_id: int) -> tuple[dict[str, np.ndarray], tuple[int, int, int] | None]:
    if path.suffix == ".npz":  # an earlier version's journal
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}, None
    return _read_npy(path, chunk_id)


def _chunk_files(output: Path) -> list[Path]:
    try:
        entries = list(journal_dir(output).iterdir())
    except OSError:
        return []
    return sorted((p for p in entries if p.name.startswith("chunk_") and p.suffix in (".npy", ".npz")),
                  key=lambda p: p.name)


def records(output: Path) -> Iterator[Record]:
    """Every chunk file of the journal, in name order, read and checked for its own integrity
    (complete, checksum, its name's chunk id); a file that fails carries its ``problem``."""
    for path in _chunk_files(output):
        m = _NAME.match(path.name)
        if m is None:
            yield Record(path, None, problem="is not a chunk file name (chunk_<id>.npy)")
            continue
        try:
            arrays, span = _read(path, int(m.group(1)))
        except Exception as err:  # noqa: BLE001  (truncated, garbage, a zip bomb's error: all mean "bad")
            reason = str(err).split("\n")[0] or type(err).__name__
            yield Record(path, int(m.group(1)), problem=f"is unreadable ({reason})")
            continue
        yield Record(path, int(m.group(1)), arrays, span)


def chunks(output: Path) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """Every readable chunk: ``(id, arrays)``, in id order (no validation against a sweep)."""
    for rec in records(output):
        if rec.problem is None:
            yield rec.chunk_id, rec.arrays


def count(output: Path) -> int:
    """How many finished chunks the journal holds."""
    return len(_chunk_files(output))


def ids(output: Path) -> set[int]:
    """The chunk ids the journal holds records of (by file name; not validated)."""
    return {int(m.group(1)) for m in map(_NAME.match, (f.name for f in _chunk_files(output))) if m}


def discard(output: Path, chunk_ids) -> None:
    """Drop the records of chunks the results file has committed (``ResultsFile.commit``)."""
    d = journal_dir(output)
    for i in chunk_ids:
        for suffix in (".npy", ".npz"):
            with contextlib.suppress(OSError):
                (d / f"chunk_{i:09d}{suffix}").unlink()


def remove(output: Path) -> None:
    shutil.rmtree(journal_dir(output), ignore_errors=True)
