"""The crash-safe record of finished work, kept beside the results file until it is complete.

``<out>.journal/`` holds ``meta.json`` (the spec text, chunk size, chunk count) and one
``chunk_<id>.npy`` per finished chunk with every output array of that chunk: the array of their
names, then each array, in NumPy's ``.npy`` format one after the other (no zip container: its
checksums made NumPy's ``savez`` 3× slower, 4.1 against 1.2 ms for a 20,000-point chunk of 13
arrays, a sixth of a cheap model's sweep). Journals of earlier versions (``chunk_<id>.npz``)
are read too. Each file is
written to a temporary name and renamed into place (atomic on POSIX), so a run killed at any
moment leaves only whole records; ``--resume`` re-applies them to the HDF5 file (rebuilding it
if HDF5 cannot open it) and computes the rest. The journal is removed only after the HDF5 file
is complete and closed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np


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


def load_meta(output: Path) -> dict | None:
    """The journal's meta, or ``None`` if there is no (whole) journal."""
    try:
        return json.loads((journal_dir(output) / "meta.json").read_text())
    except (OSError, ValueError):
        return None


def write_chunk(output: Path, chunk_id: int, arrays: Mapping[str, np.ndarray]) -> None:
    """Record a finished chunk's outputs atomically (format in the module docstring)."""

    def write(fh):
        np.lib.format.write_array(fh, np.array(list(arrays), dtype=str))
        for a in arrays.values():
            np.lib.format.write_array(fh, np.ascontiguousarray(a), allow_pickle=False)

    _atomic_write(journal_dir(output) / f"chunk_{chunk_id:09d}.npy", write)


def _read(path: Path) -> dict[str, np.ndarray]:
    if path.suffix == ".npz":  # an earlier version's journal
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    with open(path, "rb") as fh:
        names = np.lib.format.read_array(fh, allow_pickle=False)
        return {str(k): np.lib.format.read_array(fh, allow_pickle=False) for k in names}


def _chunk_files(output: Path) -> list[Path]:
    return sorted(journal_dir(output).glob("chunk_*.np[yz]"), key=lambda p: p.stem)


def chunks(output: Path) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """Every recorded chunk: ``(id, arrays)``, in id order."""
    for path in _chunk_files(output):
        yield int(path.stem.split("_")[1]), _read(path)


def count(output: Path) -> int:
    """How many finished chunks the journal holds."""
    return len(_chunk_files(output))


def remove(output: Path) -> None:
    shutil.rmtree(journal_dir(output), ignore_errors=True)
