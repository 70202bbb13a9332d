"""Checks of a results file's bytes, and opening it for reading in any state.

HDF5 itself trusts a file: a reader with ``swmr=True`` reads a truncated file's attributes
forever, and a writer killed in SWMR mode leaves "open for writing" flags in the superblock
that refuse every later writer. So before h5py reads a file, this module checks what is on disk:

* ``check_complete_bytes``: the file is no shorter than its superblock says (``_stored_eof``),
  waiting briefly while a running writer (``writer_holds_lock``) may still be growing it;
  ``not_regular`` refuses directories, devices and FIFOs (reading a FIFO waits forever);
* ``open_kwargs``: the keyword arguments that open the file in whatever state it is (closed,
  being written, or left by a killed writer), waiting ``LOCK_WAIT`` for a writer that holds it
  alone while it finishes;
* ``clear_writer_flags``: what ``h5clear -s`` does, for the writer's ``ResultsFile.open`` once
  the output's lock is held (its own ``_lookup3``, the superblock's checksum);
* ``Unreadable`` and ``damaged``: a file that cannot be read, with the reason in words.

Both the writer (``jaxtherm.io.hdf5``) and the readers (``jaxtherm.io.h5read``,
``jaxtherm.io.triage``) build on it; it imports no other module of the package.
"""

from __future__ import annotations

import fcntl
import os
import stat
import time
from pathlib import Path

import h5py
import numpy as np

from jaxtherm._checks import raise_if

SIGNATURE = b"\x89HDF\r\n\x1a\n"
LOCK_WAIT = 5.0  # seconds a reader waits for a writer that holds the file alone (finishing it)
TRUNCATION_WAIT = 1.0
"""Seconds a reader waits for a file shorter than its superblock says to grow: a writer that has
just created it flushes its first metadata within milliseconds; a truncated file stays short."""


class Unreadable(OSError):
    """A file that is not a readable HDF5 results file (truncated, damaged, not HDF5): its
    message starts with "not a readable jaxtherm results file"."""

    def __init__(self, path, reason: str):
        super().__init__(f"not a readable jaxtherm results file: {reason}")
        self.path, self.reason = path, reason


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


_SPECIAL = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
            (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


def special_kind(mode: int) -> str:
    """What a path of ``st_mode`` ``mode`` that is no regular file is, in words (``"a directory"``, …)."""
    return next((what for test, what in _SPECIAL if test(mode)), "not a regular file")


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
    return special_kind(mode)


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
    raise_if(special, Unreadable(path, special))
    deadline = time.monotonic() + wait
    while True:
        try:
            sizes = _stored_eof(path)
        except IsADirectoryError:
            raise Unreadable(path, "a directory") from None
        if sizes is None or sizes[0] >= sizes[1]:
            return
        raise_if(time.monotonic() > deadline or not writer_holds_lock(path),
                 Unreadable(path, f"truncated or damaged: {sizes[0]:,} bytes, where its superblock says {sizes[1]:,}"))
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
