"""``run_sweep``: spec → models → chunks → compiled kernel → journal + HDF5, resumable.

One run:

1. resolve the spec against its models (:mod:`.study`), check the output location and take
   its lock, and decide to start, resume or refuse (:mod:`.plan`);
2. choose the chunk size (from the journal, the options, or tuned to the kernel), compile one
   kernel per model ahead of time;
3. re-apply every journaled chunk to the HDF5 file (the journal, not the HDF5 file, is the
   record of finished work), then compute the missing chunks (:mod:`.executor`), journaling and
   writing each while the next one computes;
4. mark the file complete, close it, and only then remove the journal.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from pathlib import Path

import numpy as np

from .. import solvers
from .._version import __version__
from ..batch import LANES
from ..io import journal
from ..io.hdf5 import BrokenFile, ResultsFile
from . import devices, grid, plan
from .cluster import ClusterEngine, cluster_address
from .executor import LocalEngine
from .layout import layout_for, now, provenance
from .progress import Progress
from .spec import SpecError, SweepSpec
from .study import Study, resolve


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

    @property
    def points_per_second(self) -> float:
        """Sustained throughput: points computed and written per second of the sweep loop
        (compile time excluded)."""
        return self.computed / self.sweep_seconds if self.sweep_seconds > 0 else float("nan")

    def __str__(self) -> str:
        if self.already_complete:
            return (f"nothing to do: {self.path} already holds the complete sweep of this spec ({self.points:,} points, "
                    f"{self.failed:,} failed); left unchanged")
        resumed = f", {self.resumed_chunks} chunk(s) taken from the journal" if self.resumed_chunks else ""
        devices = f" on {self.devices} devices" if self.devices > 1 else ""
        devices += f" {self.where}" if self.where else ""
        # on a cluster the workers compile at their first chunks, inside the sweep's time
        compile_ = f"workers' compiles {self.compile_seconds:.2f} s in all" if self.where else \
            f"compile {self.compile_seconds:.2f} s"
        return (f"{self.points:,} points ({self.computed:,} computed now{resumed}), {self.failed:,} failed; "
                f"{compile_}, sweep {self.sweep_seconds:.2f} s "
                f"({self.points_per_second:,.0f} points/s, chunks of {self.chunk_size:,}{devices}) -> {self.path}")


def _engine(study: Study, solver, device: str | None, cluster):
    """Where the chunks run: this process (``cluster`` is ``None``) or a Dask cluster."""
    if cluster is None:
        try:
            return LocalEngine(study, solver, device)
        except RuntimeError as err:
            raise plan.RunRefused(f"--device {device}: no {device.upper()} visible to JAX ({err}); "
                                  "install jaxtherm[gpu] on a machine with a CUDA GPU, or use --device cpu") from None
    return ClusterEngine(cluster, study, solver, device)


def _write_failure(out: Path, err: OSError) -> str:
    """The message of a run stopped by a failed write: what failed, what is safe, what to do."""
    reason = os.strerror(err.errno) if err.errno else str(err)
    where = f" ({err.filename})" if err.filename else ""
    kept = journal.count(out)
    return (f"writing {out} or its journal failed: {reason}{where}. The run stopped; {kept:,} finished chunk(s) are safe "
            f"in {journal.journal_dir(out)}. Free space (or fix the file system) and run the same command with --resume: "
            "it rebuilds the file from the journal and computes the rest, with the identical result.")


def _chunk_size(study: Study, meta: dict | None, requested: int | None, engine) -> int:
    """From the journal (resume), the options, or tuned to the largest working set of the models
    on the engine's devices."""
    spec = study.spec
    if meta is not None:
        return int(meta["chunk_size"])
    if requested or spec.chunk_size:
        return min(requested or spec.chunk_size, max(spec.points_per_model, 1))
    if spec.points_per_model <= LANES * engine.n_devices:  # the smallest automatic chunk holds it all
        return max(spec.points_per_model, 1)  # (no probe compile: a few-point sweep compiled twice)
    ws = engine.working_set()
    return devices.auto_chunk_size(ws.bytes_per_point, ws.platform, ws.n_devices, max(spec.points_per_model, 1),
                                   spec.axis_shape)


def run_sweep(
    spec: SweepSpec,
    *,
    output: str | os.PathLike | None = None,
    chunk_size: int | None = None,
    resume: bool = False,
    force: bool = False,
    device: str | None = None,
    solver: str | None = None,
    progress: bool = True,
    stream=None,
    cluster=None,
) -> RunSummary:
    """Run a sweep into its HDF5 file (see the module docstring).

    Args:
        cluster: compute the chunks on a Dask cluster (:mod:`.cluster`): ``"local:N"`` (N worker
            processes on this machine), ``"tcp://HOST:PORT"`` (a running scheduler), or a
            ``distributed.Client``; ``None`` (default) computes in this process. This process
            journals and writes in every case, so the file, ``--resume`` and the results are the same.

    Raises:
        SpecError: the spec does not fit its model, or the output path is unwritable.
        RunRefused: an existing complete/unfinished file without ``--force``/``--resume``, another
            writer, a journal from another spec, a missing device, or a bad or unreachable cluster
            (:class:`~jaxtherm.sweep.cluster.ClusterError`, also when a chunk keeps killing workers).
    """
    if spec.optimize is not None or spec.fit is not None:
        what, cmd = ("optimize", "optimize") if spec.optimize is not None else ("fit", "fit")
        raise SpecError(spec.source, what, f"this spec has a [{what}] table; run it with `jaxtherm {cmd}`, or drop "
                        f"[{what}] and give [axes] to sweep")
    if solver is not None:
        spec = dataclasses.replace(spec, solver=solver)
    study = resolve(spec)
    out = Path(output) if output is not None else spec.output
    plan.check_output(spec, out, "-o" if output is not None else "output.path")
    if isinstance(cluster, str):
        cluster_address(cluster)  # a malformed --cluster is refused before anything starts

    solver = solvers.get(spec.solver)
    plans = [solver.plan(m) for m in study.models]
    # what runs, e.g. "Reduced(max_unrolled=10, eigenbasis=True)": the journal's record for --resume
    solver_used = ", ".join(dict.fromkeys(repr(p.solver) for p in plans))

    # the devices (or the cluster) before the decision: --force must not delete a file for a run
    # that cannot start
    engine = _engine(study, solver, device, cluster)
    try:
        with plan.exclusive_lock(out):
            try:
                meta = plan.decide(out, spec, solver_used, chunk_size, resume, force)
            except plan.AlreadyComplete as done:
                return RunSummary(out, spec.n_points, 0, done.args[0], 0.0, 0, already_complete=True)
            return _run(study, out, meta, engine, solver_used, plans, chunk_size, progress, stream)
    finally:
        engine.close()


def _run(study: Study, out: Path, meta: dict | None, engine, solver_used: str, plans, chunk_size: int | None,
         progress: bool, stream) -> RunSummary:
    """The body of :func:`run_sweep`, with the lock held and the engine connected."""
    spec = study.spec
    t_compile = time.perf_counter()
    size = _chunk_size(study, meta, chunk_size, engine)
    engine.prepare(size)
    compile_seconds = time.perf_counter() - t_compile
    all_chunks = grid.chunks(spec, size)
    try:
        if meta is None:
            meta = {"spec": spec.text, "source": spec.source, "chunk_size": size, "n_chunks": len(all_chunks),
                    "solver": solver_used, "start_time": now(), "jaxtherm_version": __version__}
            journal.create(out, meta)
        attrs = {
            **provenance(spec, "sweep", engine.description, spec.dtype),
            "solver_plan": "; ".join(f"{m.name}: {p.description}" for m, p in zip(study.models, plans)),
            "chunk_size": size,
            "start_time": meta["start_time"],
        }
        layout = layout_for(study, len(all_chunks), attrs)
        t0 = time.perf_counter()
        h5 = None
        if out.exists():
            try:
                h5 = ResultsFile.open(out, layout)
            except BrokenFile:
                h5 = None
        if h5 is None:
            h5 = ResultsFile.create(out, layout)
        try:
            done, failed = set(), 0
            for chunk_id, arrays in journal.chunks(out):  # the journal, not the HDF5, is the record
                h5.write(grid.chunk_regions(spec, all_chunks[chunk_id]), arrays)
                h5.mark_done(chunk_id)
                done.add(chunk_id)
                failed += int(np.count_nonzero(arrays["status"]))
            todo = [c for c in all_chunks if c.id not in done]
            computed = sum(c.size for c in todo)
            bar = Progress(computed, stream=stream, enabled=progress, label=out.name)

            def finish(chunk, host):
                """Journal and write a computed chunk."""
                nonlocal failed
                journal.write_chunk(out, chunk.id, host)
                h5.write(grid.chunk_regions(spec, chunk), host)
                h5.mark_done(chunk.id)
                bar.update(chunk.size)
                failed += int(np.count_nonzero(host["status"]))

            t_loop = time.perf_counter()
            engine.run(todo, finish)
            loop_seconds = time.perf_counter() - t_loop
            bar.close()
            h5.finish({"end_time": now(), "n_points": spec.n_points, "n_failed": failed,
                       "resumed_chunks": len(done), "compile_seconds": round(compile_seconds + engine.compile_in_loop, 3),
                       "sweep_seconds": round(loop_seconds, 3)})
        except BaseException:
            with contextlib.suppress(OSError):  # a failed close must not hide the first error
                h5.close()
            raise
        h5.close()
        journal.remove(out)
    except OSError as err:  # a full disk, a quota, a file-size limit, a vanished directory
        raise plan.WriteFailed(_write_failure(out, err)) from None
    return RunSummary(out, spec.n_points, computed, failed, time.perf_counter() - t0, len(done),
                      compile_seconds + engine.compile_in_loop, loop_seconds, size, engine.n_devices, engine.where)
