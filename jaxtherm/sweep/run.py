"""``run_sweep``: spec → models → chunks → compiled kernel → journal + HDF5, resumable.

One run:

1. resolve the spec against its models (``.study``), check the output location and take
   its lock, and decide to start, resume or refuse (``.resume``): the run writes the output
   file itself, or, with ``--force`` over an existing file, its staging file ``<out>.partial``;
2. choose the chunk size (from the journal, the options, or tuned to the kernel, at most a
   tenth of the grid so that progress shows early), compile one kernel per model ahead of time;
3. keep the chunks the HDF5 file has committed, re-apply every journaled chunk after checking
   it against the sweep (its checksum, point range, arrays, shapes, and no NaN where its status
   says ok; a bad chunk is named in a warning and computed again), then compute the missing
   chunks (``.executor``), journaling and writing each while the next one computes; a chunk
   leaves the journal once the file has committed it;
4. mark the file complete, close it, rename a staging file over the output (atomic: the old
   file stays whole until then), and only then remove the journal.

A ``RunState`` passed in is kept up to date (phase, where the finished chunks are), for
an interrupt handler that reports what is safe (the CLI's Ctrl-C).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import signal
import sys
import time
from pathlib import Path

import jax
import numpy as np

from jaxtherm import solvers
from jaxtherm._version import __version__
from jaxtherm.io import journal
from jaxtherm.io.hdf5 import BrokenFile, ResultsFile
from jaxtherm.kernel.batch import LANES
from jaxtherm.sweep import devices, outputs, size
from jaxtherm.sweep import resume as guard  # the output file: lock, start, resume or refuse
from jaxtherm.sweep.cluster import ClusterEngine, cluster_address
from jaxtherm.sweep.executor import LocalEngine
from jaxtherm.sweep.layout import now, provenance
from jaxtherm.sweep.progress import Progress
from jaxtherm.sweep.spec import SpecError, SweepSpec
from jaxtherm.sweep.study import Study, resolve


@dataclasses.dataclass(frozen=True)
class RunSummary:
    path: Path
    points: int
    computed: int
    failed: int
    seconds: float
    resumed_chunks: int
    compile_seconds: float = 0.0
    sweep_seconds: float = 0.0
    chunk_size: int = 0
    devices: int = 1
    where: str = ""  # e.g. "on a Dask cluster of 2 worker(s) at tcp://…"; "" for this process
    already_complete: bool = False  # --resume of a complete file: nothing was done
    warnings: tuple[str, ...] = ()  # e.g. journal chunks that were damaged and computed again

    @property
    def points_per_second(self) -> float:
        """Sustained throughput: points computed and written per second of the sweep loop
        (compile time excluded)."""
        return self.computed / self.sweep_seconds if self.sweep_seconds > 0 else float("nan")

    def __str__(self) -> str:
        if self.already_complete:
            return (f"nothing to do: {self.path} already holds the complete sweep of this spec ({self.points:,} points, "
                    f"{self.failed:,} failed); left unchanged")
        resumed = f", {self.resumed_chunks} chunk(s) kept from the interrupted run" if self.resumed_chunks else ""
        devices = f" on {self.devices} devices" if self.devices > 1 else ""
        devices += f" {self.where}" if self.where else ""
        # on a cluster the workers compile at their first chunks, inside the sweep's time
        compile_ = f"workers' compiles {self.compile_seconds:.2f} s in all" if self.where else \
            f"compile {self.compile_seconds:.2f} s"
        return (f"{self.points:,} points ({self.computed:,} computed now{resumed}), {self.failed:,} failed; "
                f"{compile_}, sweep {self.sweep_seconds:.2f} s "
                f"({self.points_per_second:,.0f} points/s, chunks of {self.chunk_size:,}{devices}) -> {self.path}")


@dataclasses.dataclass
class RunState:
    """Where a running sweep is, for an interrupt handler (the CLI's Ctrl-C): ``phase``
    (``"starting"``, ``"compiling"``, ``"computing"``, ``"finishing"``: the file is being
    completed and renamed, ``"done"``), ``output`` (the file asked for), ``journal_of`` (the file
    whose journal holds the finished chunks: the output or its staging file), ``n_chunks``, and
    ``resumable``: whether ``--resume`` continues this run (``False`` while a ``--force`` run
    over an existing file has not yet started its journal: then only ``--force`` starts it)."""

    phase: str = "starting"
    output: Path | None = None
    journal_of: Path | None = None
    n_chunks: int = 0
    resumable: bool = True
    lock: Path | None = None  # the lock file this run holds (removed by an interrupt handler that ends the process)
    committed: int = 0  # chunks this run committed to the file (and so dropped from the journal)

    def safe_chunks(self) -> int:
        """How many finished chunks are safe now: committed to the file by this run, or in the journal."""
        return self.committed + (journal.count(self.journal_of) if self.journal_of is not None else 0)


# the automatic chunk holds at most this fraction of a model's grid (but at least one SIMD
# group per device): the first progress line then comes after a tenth of the sweep, not half
MAX_CHUNK_FRACTION = 10


def _resolve(spec: SweepSpec) -> Study:
    """``.study.resolve``, with a user factory's ``SystemExit`` (``sys.exit()`` at import)
    and ``KeyboardInterrupt`` (raised by the factory, not by Ctrl-C: the CLI turns Ctrl-C into
    an exit of its own) reported as the factory's failure."""
    try:
        return resolve(spec)
    except (SystemExit, KeyboardInterrupt) as err:
        ctrl_c_handled = signal.getsignal(signal.SIGINT) not in (signal.default_int_handler, None)
        if spec.factory is None or (isinstance(err, KeyboardInterrupt) and not ctrl_c_handled):
            raise
        what = f"SystemExit({err.code!r})" if isinstance(err, SystemExit) else f"KeyboardInterrupt({err})"
        raise SpecError(spec.source, "model.factory", f"loading {spec.factory!r} raised {what}; expected the module to "
                        "import and the function to return a jaxtherm Model") from None


def _warn(message: str, stream, found: list[str]) -> None:
    found.append(message)
    out = stream or sys.stderr
    out.write(f"warning: {message}\n")
    out.flush()


def _compile_note(study: Study, then: str = "") -> str:
    """The one line printed before the compile (and ``then``, what follows it)."""
    names = ", ".join(dict.fromkeys(m.name for m in study.models))
    cached = bool(jax.config.jax_compilation_cache_dir)
    when = "first run only: later runs reuse JAX's compilation cache" if cached else \
        "every run: JAX's compilation cache is off"
    return f"compiling the kernel of {names} ({when}){then}…"


def _engine(study: Study, solver, device: str | None, cluster, cpu_devices: int | None = None):
    """Where the chunks run: this process (``cluster`` is ``None``; on ``cpu_devices`` of a CPU's
    devices where given) or a Dask cluster."""
    if cluster is None:
        try:
            return LocalEngine(study, solver, device, cpu_devices)
        except RuntimeError as err:
            raise guard.RunRefused(f"--device {device}: no {device.upper()} visible to JAX ({err}); "
                                  "install jaxtherm[gpu] on a machine with a CUDA GPU, or use --device cpu") from None
    return ClusterEngine(cluster, study, solver, device)


def _write_failure(out: Path, err: OSError) -> str:
    """The message of a run stopped by a failed write: what failed, what is safe, what to do."""
    reason = os.strerror(err.errno) if err.errno else str(err)
    where = f" ({err.filename})" if err.filename else ""
    kept = journal.count(out)
    return (f"writing {out} or its journal failed: {reason}{where}. The run stopped; the chunks committed to the file "
            f"and {kept:,} more in {journal.journal_dir(out)} are safe. Free space (or fix the file system) and run the "
            "same command with --resume: it keeps them, computes the rest, and gives the identical result.")


def _chunk_size(study: Study, output: outputs.Points, meta: dict | None, requested: int | None, engine) -> int:
    """From the journal (resume), the options, or tuned to the largest working set of the models
    on the engine's devices; for a reduced sweep, whole groups where a group fits (``.reduce``)."""
    spec = study.spec
    if meta is not None:
        return int(meta["chunk_size"])
    if requested or spec.chunk_size:
        return output.align(min(requested or spec.chunk_size, max(spec.points_per_model, 1)))
    if spec.points_per_model <= LANES * engine.n_devices:  # the smallest automatic chunk holds it all
        return output.align(max(spec.points_per_model, 1))  # (no probe compile: a few-point sweep compiled twice)
    ws = engine.working_set()
    size = devices.auto_chunk_size(ws.bytes_per_point, ws.platform, ws.n_devices, max(spec.points_per_model, 1),
                                   spec.axis_shape)
    return output.align(min(size, _early_progress_cap(spec.points_per_model, spec.axis_shape, LANES * engine.n_devices)))


def _early_progress_cap(n_points: int, shape: tuple[int, ...], lanes: int) -> int:
    """The largest automatic chunk: a ``MAX_CHUNK_FRACTION`` of the grid, rounded up to
    whole SIMD groups, and down to whole rows of the innermost dims where a row fits."""
    cap = -(-n_points // MAX_CHUNK_FRACTION)
    cap = max(lanes, -(-cap // lanes) * lanes)
    for k in range(1, len(shape)):
        row = int(np.prod(shape[k:], dtype=np.int64))
        if 1 < row <= cap:
            return cap // row * row
    return cap


def run_sweep(
    spec: SweepSpec,
    *,
    output: str | os.PathLike | None = None,
    chunk_size: int | None = None,
    resume: bool = False,
    force: bool = False,
    device: str | None = None,
    cpu_devices: int | None = None,
    solver: str | None = None,
    progress: bool = True,
    stream=None,
    cluster=None,
    state: RunState | None = None,
) -> RunSummary:
    """Run a sweep into its HDF5 file (see the module docstring).

    Args:
        cpu_devices: on a CPU, share each chunk over this many of JAX's CPU devices (at most
            all; ``jaxtherm._config.split_cpu`` makes them); ``None``: all of them for a large
            model solved point by point independently, else one (``jaxtherm.sweep.devices.for_sweep``).
        cluster: compute the chunks on a Dask cluster (``.cluster``): ``"local:N"`` (N worker
            processes on this machine), ``"tcp://HOST:PORT"`` (a running scheduler), or a
            ``distributed.Client``; ``None`` (default) computes in this process. This process
            journals and writes in every case, so the file, ``--resume`` and the results are the same.
        stream: where progress, the compile note and warnings go (default stderr).
        state: a ``RunState`` to keep up to date (for an interrupt handler).

    Raises:
        SpecError: the spec does not fit its model, or the output path is unwritable.
        RunRefused: an existing complete/unfinished file without ``--force``/``--resume``, a file
            that is not a jaxtherm sweep on ``--resume``, another writer, a journal from another
            spec, a missing device, a user model that fails to compile, or a bad or unreachable
            cluster (``jaxtherm.sweep.cluster.ClusterError``, also when a chunk keeps
            killing workers).
    """
    state = state if state is not None else RunState()
    _check_is_a_sweep(spec)
    if solver is not None:
        spec = dataclasses.replace(spec, solver=solver)
    study = _resolve(spec)
    out = state.output = _output_path(spec, output)
    _check_output(study, out, "-o" if output is not None else "output.path", resume)
    if isinstance(cluster, str):
        cluster_address(cluster)  # a malformed --cluster is refused before anything starts

    solver = solvers.get(spec.solver)
    plans = [solver.plan(m) for m in study.models]
    # what runs, e.g. "reduced" or "krylov(tol=1e-11, probe=True, probe_tol=1e-06)": the journal's record for --resume
    solver_used = ", ".join(dict.fromkeys(solvers.identity(p.solver) for p in plans))

    # the devices (or the cluster) before the decision: nothing is started for a run that cannot start
    engine = _engine(study, solver, device, cluster, cpu_devices)
    try:
        with guard.exclusive_lock(out):
            state.lock = guard.lock_path(out)
            try:
                decision = guard.decide(out, spec, solver_used, chunk_size, resume, force)
            except guard.AlreadyComplete as done:
                return RunSummary(out, spec.n_points, 0, done.args[0], 0.0, 0, already_complete=True)
            state.journal_of = decision.target
            state.resumable = not decision.replace or decision.meta is not None
            return _run(study, out, decision, engine, solver_used, plans, chunk_size, progress, stream, state)
    finally:
        engine.close()


def _check_is_a_sweep(spec: SweepSpec) -> None:
    """Raises:
        SpecError: for an ``[optimize]`` or ``[fit]`` spec, naming the command that runs it."""
    if spec.optimize is not None or spec.fit is not None:
        what = "optimize" if spec.optimize is not None else "fit"
        raise SpecError(spec.source, what, f"this spec has a [{what}] table; run it with `jaxtherm {what}`, or drop "
                        f"[{what}] and give [axes] to sweep")


def _output_path(spec: SweepSpec, output: str | os.PathLike | None) -> Path:
    """Where the sweep writes: ``output``, else the spec's path; a symbolic link is followed
    (the file it points to is written, and with ``--force`` replaced, not the link)."""
    out = Path(output) if output is not None else spec.output
    with contextlib.suppress(OSError):  # (a name too long is refused by check_output)
        if out.is_symlink():
            out = out.resolve()
    return out


def _check_output(study: Study, out: Path, key: str, resume: bool) -> None:
    """Refuse an output path that cannot be written (``guard.check_output``), or, for a new run,
    a file that cannot fit (``size.check``); then make its folder.

    Raises:
        SpecError, RunRefused: naming ``key`` (``-o`` or ``output.path``)."""
    guard.check_output(study.spec, out, key)
    if not resume:  # (a resumed run has most of its file already; a full disk then stops it safely)
        size.check(study, out)
    guard.make_parent(study.spec, out, key)


@dataclasses.dataclass(frozen=True)
class DryRun:
    """What ``jaxtherm run --dry-run`` found: the sweep's size against the free space, the chunk
    size, and the time a short timed probe (each model's first chunk, after the compile) predicts;
    ``probe_seconds`` is scaled so that ``probe_points / probe_seconds`` is the predicted mean rate."""

    source: str
    out: Path
    estimate: size.Estimate
    refused: str | None  # why the run would be refused, or None
    chunk_size: int = 0
    n_chunks: int = 0
    compile_seconds: float = 0.0
    probe_points: int = 0
    probe_seconds: float = 0.0
    devices: str = ""

    @property
    def seconds(self) -> float:
        """The predicted sweep time (compile excluded): all points at the probe's rate."""
        return self.estimate.points * self.probe_seconds / self.probe_points if self.probe_points else float("nan")

    def __str__(self) -> str:
        e = self.estimate
        free = f"{size.human(e.free_bytes)} free in {e.where}" if e.free_bytes is not None else f"unknown in {e.where}"
        lines = [f"dry run of {self.source} (nothing was written)",
                 f"  points       {e.points:,}" + (f", reduced to {e.stored:,} groups" if e.stored != e.points else ""),
                 f"  output       {self.out}: about {size.human(e.file_bytes)} ({e.variables} variables); "
                 f"{size.human(e.need_bytes)} free needed while it runs",
                 f"  free space   {free}"]
        if self.refused:
            return "\n".join([*lines, f"  refused      {self.refused}"])
        rate = self.probe_points / self.probe_seconds if self.probe_seconds > 0 else float("inf")
        lines += [f"  chunks       {self.n_chunks:,} of {self.chunk_size:,} points on {self.devices}",
                  f"  time         about {_duration(self.seconds)} at {_rate(rate)} points/s (timed on each model's first "
                  f"chunk, {self.probe_points:,} points), plus a compile of {self.compile_seconds:.1f} s"]
        return "\n".join(lines)


def _rate(points_per_second: float) -> str:
    """``12,345``, or two significant digits below 100 (``0.71``, not ``1``)."""
    if not math.isfinite(points_per_second) or points_per_second >= 100:
        return f"{points_per_second:,.0f}"
    return f"{points_per_second:.2g}"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h" if seconds < 172800 else f"{seconds / 86400:.1f} days"


def dry_run(spec: SweepSpec, *, output: str | os.PathLike | None = None, chunk_size: int | None = None,
            device: str | None = None, solver: str | None = None, cpu_devices: int | None = None,
            stream=None) -> DryRun:
    """Size, free space, chunk size and a timed probe of a sweep, creating no file (no results
    file, journal, lock or directory; JAX's compilation cache may gain an entry). A line saying
    what it compiles and times goes to ``stream`` (e.g. ``sys.stderr``) first, if given: the
    probe of a large model takes a minute.

    Raises:
        SpecError, RunRefused: as ``run_sweep`` for a spec or device that cannot run.
    """
    if solver is not None:
        spec = dataclasses.replace(spec, solver=solver)
    study = _resolve(spec)
    out = _output_path(spec, output)
    estimate = size.estimate(study, out)
    try:
        size.check(study, out)
    except guard.RunRefused as err:
        return DryRun(spec.source, out, estimate, str(err).split(": ", 1)[-1])
    engine = _engine(study, solvers.get(spec.solver), device, None, cpu_devices)
    if stream is not None:
        stream.write(_compile_note(study, ", then timing each model's first chunk") + "\n")
        stream.flush()
    t = time.perf_counter()
    output = outputs.for_study(study)
    chunk = _compile(study, output, None, chunk_size, engine)
    compile_seconds = time.perf_counter() - t
    todo = output.chunks(chunk)
    firsts = list({c.model_index: c for c in reversed(todo)}.values())  # each model's first chunk
    predicted = 0.0  # every model's points at its own first chunk's rate
    for c in firsts:
        t = time.perf_counter()
        engine.host(c, engine.dispatch(c))
        predicted += (time.perf_counter() - t) / c.size * spec.points_per_model
    probed = sum(c.size for c in firsts)
    return DryRun(spec.source, out, estimate, None, chunk, len(todo), compile_seconds, probed,
                  predicted * probed / spec.n_points, engine.description)


def _compile(study: Study, output: outputs.Points, meta: dict | None, chunk_size: int | None, engine) -> int:
    """Choose the chunk size and compile; a user model that cannot be compiled (a coefficient
    that JAX cannot trace, …) is the user's error, reported in one line."""
    try:
        size = _chunk_size(study, output, meta, chunk_size, engine)
        engine.prepare(size)
    except Exception as err:
        if study.spec.factory is None or isinstance(err, (guard.RunRefused, OSError)):
            raise
        first = str(err).strip().split("\n")[0]
        raise guard.RunRefused(f"{study.spec.source}: key 'model.factory': the model of {study.spec.factory!r} cannot "
                              f"be compiled: {type(err).__name__}: {first} (its coefficients must be JAX functions of "
                              "the parameters, e.g. jnp.cos(p['omega']), not float(p['omega']))") from None
    return size


def _fsync(path: Path) -> None:
    """Put a file (or a directory's entries) on disk before the rename that publishes it."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _run(study: Study, out: Path, decision: guard.Decision, engine, solver_used: str, plans, chunk_size: int | None,
         progress: bool, stream, state: RunState) -> RunSummary:
    """The body of ``run_sweep``, with the lock held and the engine connected."""
    spec = study.spec
    target, meta = decision.target, decision.meta
    warned: list[str] = []
    t_compile = time.perf_counter()
    state.phase = "compiling"
    if progress:
        note = stream or sys.stderr
        note.write(_compile_note(study) + "\n")
        note.flush()
    output = outputs.for_study(study)  # (a reduced sweep's holds the parts of unfinished groups)
    size = _compile(study, output, meta, chunk_size, engine)
    compile_seconds = time.perf_counter() - t_compile
    all_chunks = output.chunks(size)
    state.n_chunks = len(all_chunks)
    try:
        meta = _journal_meta(study, target, meta, size, len(all_chunks), solver_used, stream, warned, state)
        attrs = {
            **provenance(spec, "sweep", engine.description, spec.dtype),
            "solver_plan": "; ".join(f"{m.name}: {p.description}" for m, p in zip(study.models, plans)),
            "chunk_size": size,
            "start_time": meta.get("start_time", now()),
        }
        layout = output.layout(len(all_chunks), attrs)
        t0 = time.perf_counter()
        h5 = _results_file(decision, target, layout)
        try:
            done = _replay_journal(output, target, all_chunks, layout, h5, size, stream, warned, state)
            todo = [c for c in all_chunks if c.id not in done]
            computed = sum(c.size for c in todo)
            bar = Progress(computed, stream=stream, enabled=progress, label=out.name)

            def finish(chunk, host):
                """Journal a computed chunk, then write it into the file."""
                journal.write_chunk(target, chunk.id, host, (chunk.model_index, chunk.start, chunk.stop))
                _record(output, h5, target, chunk, host, size, state)
                bar.update(chunk.size)

            state.phase = "computing"
            bar.start_line()
            t_loop = time.perf_counter()
            engine.run(todo, finish)
            _commit(output.flush(h5), h5, target, state)
            loop_seconds = time.perf_counter() - t_loop
            bar.close()
            state.phase = "finishing"
            state.committed += len(h5.commit())
            failed = output.failed_in(h5)
            h5.finish({"end_time": now(), "n_points": spec.n_points, "n_failed": failed, "computed_points": computed,
                       "resumed_chunks": len(done), "compile_seconds": round(compile_seconds + engine.compile_in_loop, 3),
                       "sweep_seconds": round(loop_seconds, 3)})
        except BaseException:
            with contextlib.suppress(OSError):  # a failed close must not hide the first error
                h5.close()
            raise
        h5.close()
        _publish(decision, target, out)
        state.phase = "done"
    except OSError as err:  # a full disk, a quota, a file-size limit, a vanished directory
        raise guard.WriteFailed(_write_failure(target, err)) from None
    return RunSummary(out, spec.n_points, computed, failed, time.perf_counter() - t0, len(done),
                      compile_seconds + engine.compile_in_loop, loop_seconds, size, engine.n_devices, engine.where,
                      warnings=tuple(warned))


def _journal_meta(study: Study, target: Path, meta: dict | None, size: int, n_chunks: int, solver_used: str, stream,
                  warned: list[str], state: RunState) -> dict:
    """The journal's ``meta.json``: created for a new run, or the resumed one's (a chunk count
    that disagrees with this spec is warned about; every chunk is checked against the spec)."""
    spec = study.spec
    if meta is None:
        meta = {"spec": spec.text, "source": spec.source, "chunk_size": size, "n_chunks": n_chunks,
                "solver": solver_used, "start_time": now(), "jaxtherm_version": __version__}
        journal.create(target, meta)
        state.resumable = True
    elif meta.get("n_chunks") != n_chunks:
        _warn(f"{journal.journal_dir(target)}/meta.json records {meta.get('n_chunks')!r} chunks, but this spec "
              f"has {n_chunks:,} of {size:,} points: every journaled chunk is checked against them", stream, warned)
    return meta


def _results_file(decision: guard.Decision, target: Path, layout) -> ResultsFile:
    """The results file: the unfinished one reopened where the decision reuses it, else created
    anew (a damaged file, or one of another spec)."""
    if decision.reuse:
        try:
            return ResultsFile.open(target, layout)
        except BrokenFile:
            pass
    return ResultsFile.create(target, layout)


def _replay_journal(output: outputs.Points, target: Path, all_chunks: list, layout, h5: ResultsFile, size: int, stream,
                    warned: list[str], state: RunState) -> set[int]:
    """The finished chunks of an interrupted run: those the file has committed, and every
    journaled chunk that passes its checks, written into the file; a journaled chunk that fails
    is named in a warning, deleted and left to be computed again. Returns the chunk ids done."""
    done = h5.done_chunks()
    state.committed = len(done)
    for rec in journal.records(target):
        chunk, problem = _checked_record(rec, all_chunks, done, output, layout, size)
        if problem is not None:
            again = f"its {chunk.size:,} points are computed again" if chunk is not None else "ignored"
            _warn(f"journal chunk {rec.path} {problem}; {again}", stream, warned)
            with contextlib.suppress(OSError):
                rec.path.unlink()
        elif chunk is not None:
            _record(output, h5, target, chunk, rec.arrays, size, state)
            done.add(chunk.id)
    _commit(output.flush(h5), h5, target, state)
    return done


def _checked_record(rec: journal.Record, all_chunks: list, done: set[int], output: outputs.Points, layout,
                    size: int) -> tuple:
    """``(chunk, problem)`` of a journal record: the chunk it stands for and why it cannot be
    re-applied (``None`` if it can); ``(None, None)`` for a chunk the file has committed already
    (or the same chunk journaled in both formats)."""
    chunk = all_chunks[rec.chunk_id] if rec.chunk_id is not None and rec.chunk_id < len(all_chunks) else None
    if rec.problem is not None:
        return chunk, rec.problem
    if chunk is None:
        return None, f"is not a chunk of this sweep (it has {len(all_chunks):,})"
    if chunk.id in done:
        return None, None
    return chunk, output.problem(rec, chunk, layout, size)


def _record(output: outputs.Points, h5: ResultsFile, target: Path, chunk, arrays: dict, size: int,
            state: RunState) -> None:
    """A finished chunk into the file; the chunks the file commits leave the journal."""
    _commit(output.write(h5, chunk, arrays, size), h5, target, state)


def _commit(written: list[int], h5: ResultsFile, target: Path, state: RunState) -> None:
    """Mark chunks wholly written into the file done; those it commits leave the journal."""
    for chunk_id in written:
        committed = h5.mark_done(chunk_id)
        journal.discard(target, committed)
        state.committed += len(committed)


def _publish(decision: guard.Decision, target: Path, out: Path) -> None:
    """A complete ``--force`` file takes the old one's place at once (on disk before the rename);
    then the journal goes."""
    if decision.replace:
        _fsync(target)
        os.replace(target, out)
        _fsync(out.parent)
        journal.remove(out)  # an unfinished run's journal of the file just replaced
    journal.remove(target)
