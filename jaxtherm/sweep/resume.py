"""Whether a run starts, resumes or is refused, decided from the output file and its journal;
and the output location's checks and lock.

What the output path holds is classified first (``jaxtherm.io.triage.inspect``), without
changing it: a sweep (complete or not), a damaged results file (truncated, corrupt), another
jaxtherm file, a foreign HDF5 file, a file that is not HDF5, or no regular file at all.

* a fresh location: start;
* ``--force``: start over, but leave an existing file byte for byte until the new sweep is
  complete: the run writes the *staging* file ``<out>.partial`` (with its own journal) and
  renames it over ``<out>`` at the end (``Decision`` ``replace``). A run that fails or is
  killed leaves the old file as it was;
* ``--resume``: continue an unfinished ``--force`` run (its staging file and journal) if there
  is one; else continue ``<out>`` from its journal, if it was made by the same spec (compared
  parsed: comments and layout do not count), solver and chunk size, rebuilding a damaged file
  from the journal; on a complete file of the same spec, nothing to do
  (``AlreadyComplete``: batch scripts may always rerun with ``--resume`` after a requeue) —
  provided it reads as ``jaxtherm info`` reads it (``jaxtherm.io.triage.check_readable``): a
  complete file damaged since is refused, left as it is, with ``--force`` to recompute it.
  Anything that is not an unfinished jaxtherm sweep is refused and left as it was;
* otherwise a complete file, an unfinished file, a journal or any other file is refused, with
  the option that would proceed.

The lock is ``fcntl.flock`` on ``<out>.lock``: released by the OS when the process dies, so a
killed run never blocks its ``--resume``; it does not lock across NFS clients.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import fcntl
import os
import re
import tomllib
from pathlib import Path

import numpy as np

from jaxtherm import solvers
from jaxtherm._checks import raise_if
from jaxtherm.io import journal
from jaxtherm.io.integrity import Unreadable, not_regular
from jaxtherm.io.triage import FileCheck, check_readable, inspect
from jaxtherm.sweep.spec import SpecError, SweepSpec

STAGING_SUFFIX = ".partial"
_LONGEST_SUFFIX = STAGING_SUFFIX + ".journal"  # the longest name derived from the output's


class RunRefused(Exception):
    """The run would overwrite, clash with another writer, or cannot use the device."""


class WriteFailed(RunRefused):
    """Writing the results file or its journal failed (full disk, quota, file-size limit): the
    run stopped with its journal intact, resumable with ``--resume``."""


class AlreadyComplete(Exception):  # noqa: N818  (not an error: a finished outcome)
    """``--resume`` of a file that already holds the complete sweep of the same spec: nothing to
    do. ``args[0]``: the file's count of failed points."""


@dataclasses.dataclass(frozen=True)
class Decision:
    """What a run does: write ``target`` (``out``, or its staging file), from the journal's
    ``meta`` (``None``: afresh), and when complete rename it over ``out`` (``replace``).
    ``reuse``: an unfinished sweep file of the same spec is there, which the run may reopen
    instead of creating the file anew."""

    target: Path
    meta: dict | None
    replace: bool = False
    reuse: bool = False


def staging_path(out: Path) -> Path:
    """Where a ``--force`` run writes until it is complete (then renamed to ``out``)."""
    return out.with_name(out.name + STAGING_SUFFIX)


def _name_max(directory: Path) -> int:
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def check_output(spec: SweepSpec, out: Path, key: str) -> None:
    """The output path must be a regular file (or none yet) in a writable directory (or one that
    can be made: its nearest existing ancestor is a writable directory), with a name short enough
    for the files jaxtherm keeps beside it. Creates nothing (``make_parent`` does).

    Raises:
        SpecError: naming ``key`` (``output.path`` or ``-o``).
    """
    limit = _name_max(out.parent if out.parent.is_dir() else Path(".")) - len(_LONGEST_SUFFIX)
    raise_if(len(os.fsencode(out.name)) > limit,
             SpecError(spec.source, key, f"expected a file name of at most {limit} bytes (jaxtherm keeps "
                       f"{out.name[:20]}…{_LONGEST_SUFFIX} beside it); got one of {len(os.fsencode(out.name))}"))
    kind = inspect_special(out)
    raise_if(kind, SpecError(spec.source, key, f"expected a path for a results file; {out} is {kind}"))
    existing = out.absolute().parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    raise_if(not existing.is_dir(), SpecError(spec.source, key, f"expected a writable location; {existing} is not a directory"))
    raise_if(not os.access(existing, os.W_OK),
             SpecError(spec.source, key, f"expected a writable location; {existing} is not writable"))


def make_parent(spec: SweepSpec, out: Path, key: str) -> None:
    """Create the output's directory (after ``check_output``).

    Raises:
        SpecError: naming ``key``, where it cannot be made.
    """
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SpecError(spec.source, key, f"expected a writable location; cannot create {out.parent} "
                        f"({err.strerror})") from None


def inspect_special(path: Path) -> str:
    """``"a directory"``, ``"a FIFO (named pipe)"``, … for a path that exists and is no regular
    file; ``""`` otherwise."""
    return not_regular(path)


def lock_path(out: Path) -> Path:
    return out.with_name(out.name + ".lock")


@contextlib.contextmanager
def exclusive_lock(out: Path):
    """Hold ``<out>.lock`` for the duration; ``RunRefused`` if another run holds it or the
    lock file cannot be made."""
    lock = lock_path(out)
    try:
        fh = open(lock, "a+")
    except OSError as err:
        raise RunRefused(f"{out}: cannot create its lock file {lock} ({err.strerror or err}); expected a "
                         "writable location where jaxtherm may keep <output>.lock (remove or rename what is there, "
                         "or write elsewhere with -o)") from None
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise RunRefused(f"{out} is being written by another jaxtherm run (lock {lock} is held); "
                         "wait for it to finish or write elsewhere with -o") from None
    except OSError as err:
        fh.close()
        raise RunRefused(f"{out}: cannot lock {lock} ({err.strerror or err}); write elsewhere with -o") from None
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()
        with contextlib.suppress(OSError):
            lock.unlink()


def same_spec(a, b) -> bool:
    """Whether two spec texts describe the same sweep: equal as parsed TOML (a comment, blank
    lines or another key order do not make another spec), else equal as text."""
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    if a == b:
        return True
    try:
        return tomllib.loads(a) == tomllib.loads(b)
    except (tomllib.TOMLDecodeError, RecursionError):
        return False


def recorded_solver(text) -> str:
    """The identity (``jaxtherm.solvers.identity``) of what a journal records. Journals written
    before solver objects (jaxtherm 0.2) hold the bare name (``"reduced"``, ``"dense"``), later
    ones the solver's ``repr`` (``"Reduced(max_unrolled=10, …, elimination=Krylov(tol=1e-11, …))"``),
    today's the identity: each is read as the identity it stands for, so a limit moved or added
    since never refuses a resume (the eliminations ``Reduced`` chooses from agree within their
    tolerance; the 3-qubit chain ran by LU then and by static pivots now). A record that is not
    text (a damaged journal) stands for no solver of today's."""
    if not isinstance(text, str):
        return repr(text)
    text = re.sub(r"np\.(True|False)_", r"\1", re.sub(r"np\.(\w+)\(([^()]*)\)", _numpy_scalar, text))
    if text.startswith("Dense("):
        return "dense"
    today = re.fullmatch(r"(\w+)\(([^()]*)\)", text)  # today's identity: name(setting=value, …)
    if today is not None and today.group(1) in solvers.ELIMINATIONS:
        kind, fields = solvers.ELIMINATIONS[today.group(1)], today.group(2)
    elif not text.startswith("Reduced("):
        return text
    else:
        given = re.search(r"elimination=(\w+)\(([^()]*)", text)
        if given is None:
            return "reduced"
        kind = {cls.__name__: cls for cls in solvers.ELIMINATIONS.values()}.get(given.group(1))
        if kind is None:  # a user's elimination, known by its class's name
            return given.group(1)
        fields = given.group(2)
    return _identity(kind, dict(item.split("=", 1) for item in fields.split(", ") if "=" in item))


UNREADABLE = (ValueError, SyntaxError, TypeError, OverflowError, MemoryError, RecursionError)
"""What reading a damaged record's value may raise (``ast.literal_eval``, a NumPy scalar of it,
a conversion to the setting's type): such a value stays as written."""


def _numpy_scalar(match: re.Match) -> str:
    """A NumPy 2 scalar's repr (``np.float32(1e-06)``) as the Python number it stores, as
    today's identity writes it (``9.999999974752427e-07``); left as written where it does not
    read as one."""
    kind = getattr(np, match.group(1), None)
    try:
        value = ast.literal_eval(match.group(2))
        return repr(kind(value).item()) if isinstance(kind, type) and issubclass(kind, np.generic) else match.group(0)
    except UNREADABLE:
        return match.group(0)


def _identity(kind, fields: dict[str, str]) -> str:
    """The identity of elimination class ``kind`` with the settings an old record gives as text."""
    default = kind()  # a setting an old repr lacks had its default then, as now
    values = [f"{k}={_setting(fields[k], getattr(default, k)) if k in fields else repr(getattr(default, k))}"
              for k in kind.settings]
    return f"{kind.name}({', '.join(values)})" if values else kind.name


def _setting(text: str, default) -> str:
    """A setting's value as an old ``repr`` wrote it, as today's identity writes it: of its
    default's type (``tol=1`` is ``tol=1.0``; a value that does not read stays as written, and
    matches no identity of today's)."""
    try:
        value = ast.literal_eval(text)
        same = isinstance(value, bool) == isinstance(default, bool) and isinstance(value, int | float)
        return repr(type(default)(value)) if same else text
    except UNREADABLE:
        return text


def _valid_meta(meta: dict | None) -> bool:
    size = meta.get("chunk_size") if meta is not None else None
    return isinstance(size, int) and not isinstance(size, bool) and size >= 1 and isinstance(meta.get("spec"), str)


def _check_journal(out: Path, meta: dict, spec: SweepSpec, solver: str, chunk_size: int | None, what: str) -> None:
    """``meta`` (of ``what``: "its journal", …) must be from the same spec, solver and chunk size."""
    raise_if(not same_spec(meta.get("spec"), spec.text),
             RunRefused(f"{out}: {what} was made by a different spec ({meta.get('source', '?')}); resume with the "
                        "same spec, or start over with --force"))
    recorded = recorded_solver(meta.get("solver", solver))
    raise_if(recorded != solver, RunRefused(f"{out} was started with --solver {recorded}; resume with the same solver "
                                            "so that the file holds one kind of result"))
    if chunk_size is not None and chunk_size != meta["chunk_size"]:
        raise RunRefused(f"{out} was started with --chunk-size {meta['chunk_size']}; resume with the same "
                         "chunk size (or none) so the chunks line up")


def _not_a_sweep(out: Path, found: FileCheck, resume: bool = False) -> str:
    nothing = " and holds nothing to resume" if resume else ""
    return (f"{out} is not a jaxtherm sweep file ({found.reason}){nothing}; jaxtherm leaves it as it is: write "
            "elsewhere with -o, or give --force to replace it (the old file stays until the new sweep is complete)")


def decide(out: Path, spec: SweepSpec, solver: str, chunk_size: int | None, resume: bool, force: bool) -> Decision:
    """Start, resume or refuse (see the module docstring); call with the lock held. Changes
    nothing on disk except, with ``--force``, an earlier staging file and its journal, and, on
    ``--resume`` of a complete file, a journal left behind after it was completed.

    Raises:
        RunRefused: with the reason and the option that would proceed.
        AlreadyComplete: ``--resume`` of a complete file of the same spec.
    """
    found = inspect(out)
    stage = staging_path(out)
    raise_if(found.kind == "special", RunRefused(f"{out} is {found.reason}, not a results file; write elsewhere with -o"))
    if force:
        return _forced(out, found, stage)
    if journal.exists(stage):  # an unfinished --force run
        return _unfinished_force(out, stage, spec, solver, chunk_size, resume)
    if not resume:
        return _fresh(out, found, journal.exists(out))
    return _resumed(out, found, spec, solver, chunk_size)


def _forced(out: Path, found: FileCheck, stage: Path) -> Decision:
    """``--force``: a missing file is written in place; an existing one is left alone, and the new
    sweep written beside it (``stage``) to be renamed over it when complete."""
    staged = inspect(stage)
    raise_if(staged.kind in ("special", "other", "foreign", "results") and not journal.exists(stage),
             RunRefused(f"{stage}, where --force writes until the new sweep is complete, holds something else "
                        f"({staged.reason}); move it away or write elsewhere with -o"))
    journal.remove(stage)
    with contextlib.suppress(FileNotFoundError):
        stage.unlink()
    if found.kind == "missing":
        journal.remove(out)  # a killed run's journal without its file: start over
        return Decision(out, None)
    return Decision(stage, None, replace=True)


def _unfinished_force(out: Path, stage: Path, spec: SweepSpec, solver: str, chunk_size: int | None,
                      resume: bool) -> Decision:
    """An earlier ``--force`` run's staging file: continued by ``--resume``, refused otherwise."""
    meta = journal.load_meta(stage)
    raise_if(not resume, RunRefused(f"{out} has an unfinished --force run ({stage}); use --resume to complete it (the old "
                                    f"file stays until then) or --force to start over"))
    raise_if(not _valid_meta(meta),
             RunRefused(f"{out}: the journal of its unfinished --force run ({journal.journal_dir(stage)}) is "
                        "damaged (meta.json); start over with --force"))
    _check_journal(out, meta, spec, solver, chunk_size, "its unfinished --force run")
    staged = inspect(stage)
    return Decision(stage, meta, replace=True, reuse=staged.kind == "sweep" and not staged.complete
                    and same_spec(staged.attrs.get("spec"), spec.text))


def _fresh(out: Path, found: FileCheck, has_journal: bool) -> Decision:
    """Neither flag: start where nothing is, refuse anything else with the option that proceeds."""
    raise_if(found.kind == "sweep" and found.complete and not has_journal,
             RunRefused(f"{out} already holds a complete sweep; use --force to overwrite it or -o for another file"))
    raise_if(found.kind in ("sweep", "damaged", "empty", "missing") and has_journal or found.kind == "sweep",
             RunRefused(f"{out} holds an unfinished sweep; use --resume to complete it or --force to start over"))
    raise_if(found.kind == "damaged",
             RunRefused(f"{out} is not a readable jaxtherm results file ({found.reason}) and has no journal to "
                        "rebuild it from; write elsewhere with -o, or give --force to replace it"))
    raise_if(found.kind != "missing", RunRefused(_not_a_sweep(out, found)))
    return Decision(out, None)


def _resumed(out: Path, found: FileCheck, spec: SweepSpec, solver: str, chunk_size: int | None) -> Decision:
    """``--resume``: continue an unfinished sweep of the same spec from its file and journal."""
    meta = journal.load_meta(out)
    has_journal = journal.exists(out)
    _check_something_to_resume(out, found, has_journal)
    if found.kind == "sweep":
        _check_resumable_sweep(out, found, meta, spec)
    reuse = found.kind == "sweep" and same_spec(found.attrs.get("spec"), spec.text)
    if has_journal and not _valid_meta(meta):
        if found.kind == "sweep":
            return Decision(out, None, reuse=reuse)  # the file's own record: every chunk is computed again
        raise RunRefused(f"{out}: its journal ({journal.journal_dir(out)}) is damaged (meta.json) and the file "
                         f"cannot be used ({found.reason or 'missing'}); start over with --force")
    if meta is not None:
        _check_journal(out, meta, spec, solver, chunk_size, "its journal")
    return Decision(out, meta, reuse=reuse)


def _check_something_to_resume(out: Path, found: FileCheck, has_journal: bool) -> None:
    """Raises:
        RunRefused: for what holds no sweep to resume: another kind of file, or an empty or
            damaged one without a journal to rebuild it from."""
    raise_if(found.kind in ("other", "foreign", "results") or found.kind == "empty" and not has_journal,
             RunRefused(_not_a_sweep(out, found, resume=True)))
    raise_if(found.kind == "damaged" and not has_journal,
             RunRefused(f"{out} is not a readable jaxtherm results file ({found.reason}) and has no journal to "
                        "rebuild it from; nothing to resume (write elsewhere with -o, or --force to replace it)"))


def _check_resumable_sweep(out: Path, found: FileCheck, meta: dict | None, spec: SweepSpec) -> None:
    """A sweep file given to ``--resume``: complete and readable (nothing to do), or unfinished and
    of this spec.

    Raises:
        AlreadyComplete: a complete file of the same spec that reads as ``jaxtherm info`` reads it
            (``jaxtherm.io.triage.check_readable``).
        RunRefused: a file of another spec, or a complete one that is damaged."""
    same = same_spec(found.attrs.get("spec"), spec.text)
    if found.complete:
        raise_if(not same, RunRefused(f"{out} already holds a complete sweep of another spec; nothing to resume (use "
                                      "--force to recompute it with this spec, or -o for another file)"))
        try:  # "nothing to do" only for a file that info and plot can read
            check_readable(out)
        except (Unreadable, OSError) as err:
            reason = err.reason if isinstance(err, Unreadable) else str(err).split("\n")[0]
            raise RunRefused(f"{out} holds a complete sweep of this spec, but it is {reason}; info, plot and "
                             "jaxtherm.open cannot read it, and jaxtherm leaves it as it is: recompute it with --force "
                             "(the damaged file stays until the new sweep is complete), or write elsewhere with -o"
                             ) from None
        journal.remove(out)  # left by a run killed between completing the file and removing it
        raise AlreadyComplete(int(found.attrs.get("n_failed", 0)))
    raise_if(not same and not (meta is not None and same_spec(meta.get("spec"), spec.text)),
             RunRefused(f"{out} holds an unfinished sweep of another spec; resume with the spec that started it "
                        "(its 'spec' attribute), or start over with --force"))
