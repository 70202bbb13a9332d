"""What an existing output path holds, for the runner's start / resume / refuse decision
(``jaxtherm.sweep.resume``).

``inspect`` classifies the path without changing it and without hanging on a damaged file
(``FileCheck``: missing, not a regular file, empty, not HDF5, damaged, foreign HDF5, another
jaxtherm file, a sweep); ``check_readable`` reads a complete sweep as ``jaxtherm info`` does,
before ``--resume`` leaves it as it is. Built on the byte checks of ``jaxtherm.io.integrity``
and the reading of ``jaxtherm.io.h5read``.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Mapping
from pathlib import Path

import h5py

from jaxtherm.io.h5read import count_int8, describe, plain_attrs
from jaxtherm.io.integrity import SIGNATURE, Unreadable, damaged, open_kwargs, special_kind


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


def inspect(path: Path, truncation_wait: float = 0.0) -> FileCheck:
    """Classify what ``path`` holds without changing it and without hanging on a damaged file
    (``truncation_wait``: see ``integrity.check_complete_bytes``; 0 where no writer can be running)."""
    found = _file_kind(path)
    if found is not None:
        return found
    try:
        with h5py.File(path, "r", **open_kwargs(path, truncation_wait)) as h5:
            attrs = plain_attrs(h5)
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
        return FileCheck("special", special_kind(st.st_mode))
    if st.st_size == 0:
        return FileCheck("empty", "an empty file")
    return _content_kind(path)


def _content_kind(path: Path) -> FileCheck | None:
    """A non-empty regular file by its bytes: unreadable, or not HDF5 (no signature at its start,
    nor after a user block); ``None`` for a file that looks like HDF5."""
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
