"""The crash-safe record of finished work, kept beside the results file until it is complete.

``<out>.journal/`` holds ``meta.json`` (the spec text, chunk size, chunk count) and one
``chunk_<id>.npz`` per finished chunk with every output array of that chunk. Each file is
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
    """Record a finished chunk's outputs atomically."""
    path = journal_dir(output) / f"chunk_{chunk_id:09d}.npz"
    _atomic_write(path, lambda fh: np.savez(fh, **arrays))


def chunks(output: Path) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """Every recorded chunk: ``(id, arrays)``, in id order."""
    d = journal_dir(output)
    for path in sorted(d.glob("chunk_*.npz")):
        with np.load(path) as data:
            yield int(path.stem.split("_")[1]), {k: data[k] for k in data.files}


def count(output: Path) -> int:
    """How many finished chunks the journal holds."""
    return sum(1 for _ in journal_dir(output).glob("chunk_*.npz"))


def remove(output: Path) -> None:
    shutil.rmtree(journal_dir(output), ignore_errors=True)
