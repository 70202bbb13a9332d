"""Whether a run starts, resumes or is refused, decided from the output file and its journal;
and the output location's checks and lock.

* a fresh location: start;
* ``--force``: remove the file and its journal, start;
* ``--resume``: continue from the journal, if it was made by the same spec, solver and chunk
  size; on a complete file of the same spec, nothing to do (:class:`AlreadyComplete`: batch
  scripts may always rerun with ``--resume`` after a requeue);
* otherwise a complete file, an unfinished file or a journal is refused, with the option that
  would proceed.

The lock is ``fcntl.flock`` on ``<out>.lock``: released by the OS when the process dies, so a
killed run never blocks its ``--resume``; it does not lock across NFS clients.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from ..io import journal
from ..io.hdf5 import file_attrs
from ..solvers import Reduced
from .spec import SpecError, SweepSpec


class RunRefused(Exception):
    """The run would overwrite, clash with another writer, or cannot use the device."""


class WriteFailed(RunRefused):
    """Writing the results file or its journal failed (full disk, quota, file-size limit): the
    run stopped with its journal intact, resumable with ``--resume``."""


class AlreadyComplete(Exception):  # noqa: N818  (not an error: a finished outcome)
    """``--resume`` of a file that already holds the complete sweep of the same spec: nothing to
    do. ``args[0]``: the file's count of failed points."""


def check_output(spec: SweepSpec, out: Path, key: str) -> None:
    """The output path must be a file in a writable directory (created if missing).

    Raises:
        SpecError: naming ``key`` (``output.path`` or ``-o``).
    """
    if out.exists() and out.is_dir():
        raise SpecError(spec.source, key, f"expected a file path; {out} is a directory")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SpecError(spec.source, key, f"expected a writable location; cannot create {out.parent} ({err.strerror})") from None
    if not os.access(out.parent, os.W_OK):
        raise SpecError(spec.source, key, f"expected a writable location; {out.parent} is not writable")


def _lock_path(out: Path) -> Path:
    return out.with_name(out.name + ".lock")


@contextlib.contextmanager
def exclusive_lock(out: Path):
    """Hold ``<out>.lock`` for the duration; :class:`RunRefused` if another run holds it."""
    lock_path = _lock_path(out)
    fh = open(lock_path, "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise RunRefused(f"{out} is being written by another jaxtherm run (lock {lock_path} is held); "
                         "wait for it to finish or write elsewhere with -o") from None
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()
        with contextlib.suppress(OSError):
            lock_path.unlink()


def writer_running(out: Path) -> bool:
    """Whether a jaxtherm run holds ``out``'s lock now (a sweep is writing it)."""
    try:
        fh = open(_lock_path(out))
    except OSError:
        return False
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


# journals written before solver objects (jaxtherm 0.2) record the bare name of what ran, and
# those written before Reduced(max_sparse=…) the default Reduced without it: both resume with
# today's default Reduced, the user's same choice. Its plan for a model can differ from what the
# earlier version ran (the 3-qubit chain: LU then, sparse now), so such a file mixes two solvers'
# results, equal within their tolerance (1e-10 of each quantity's scale), not bitwise
_LEGACY_SOLVERS = {"reduced": repr(Reduced()), "Reduced(max_unrolled=10, eigenbasis=True)": repr(Reduced()),
                   "Reduced(max_unrolled=10, max_sparse=1000, eigenbasis=True)": repr(Reduced()), "dense": "Dense()"}


def decide(out: Path, spec: SweepSpec, solver: str, chunk_size: int | None, resume: bool, force: bool) -> dict | None:
    """Start, resume or refuse (see the module docstring); call with the lock held.

    Returns:
        The journal's metadata to resume from, or ``None`` to start afresh.

    Raises:
        RunRefused: with the reason and the option that would proceed.
    """
    meta = journal.load_meta(out)
    attrs = file_attrs(out) if out.exists() else None
    complete = bool(attrs.get("complete", 0)) if attrs is not None else None
    if force:
        journal.remove(out)
        with contextlib.suppress(FileNotFoundError):
            out.unlink()
        return None
    if resume:
        if meta is None and complete:
            if attrs.get("spec") == spec.text:
                raise AlreadyComplete(int(attrs.get("n_failed", 0)))
            raise RunRefused(f"{out} already holds a complete sweep of another spec; nothing to resume (use --force "
                             "to recompute it with this spec, or -o for another file)")
        if meta is not None and meta.get("spec") != spec.text:
            raise RunRefused(f"{out}: its journal was made by a different spec; resume with the same spec, "
                             "or start over with --force")
        if meta is not None and _LEGACY_SOLVERS.get(meta.get("solver", solver), meta.get("solver", solver)) != solver:
            raise RunRefused(f"{out} was started with --solver {meta['solver']}; resume with the same solver "
                             "so that the file holds one kind of result")
        if meta is not None and chunk_size is not None and chunk_size != meta["chunk_size"]:
            raise RunRefused(f"{out} was started with --chunk-size {meta['chunk_size']}; resume with the same "
                             "chunk size (or none) so the chunks line up")
        return meta
    if complete:
        raise RunRefused(f"{out} already holds a complete sweep; use --force to overwrite it or -o for another file")
    if meta is not None or out.exists():
        raise RunRefused(f"{out} holds an unfinished sweep; use --resume to complete it or --force to start over")
    return None
