"""Sweeps on a Dask cluster (``jaxtherm run SPEC --cluster …``): workers compute whole chunks;
this process (the client) journals and writes them exactly as a local run does, so the results
file, its journal, ``--resume`` and the numbers are the same (bitwise, on the same kind of device).

* **Where.** ``local:N`` starts a ``LocalCluster`` of N worker processes of one thread each on
  this machine; ``tcp://HOST:PORT`` (or ``tls://…``) connects to a running scheduler, e.g. one
  started by dask-jobqueue's ``SLURMCluster`` or by ``dask scheduler`` in a batch job; from
  Python, ``jaxtherm.sweep.run.run_sweep`` also takes a ``distributed.Client``.
* **Workers.** A task carries the spec as its text (``ChunkJob``), so every worker builds
  the same models; a user factory (``[model] factory``) must be at the same absolute path on the
  workers (a shared file system). Each worker process keeps one
  ``jaxtherm.sweep.executor.LocalEngine`` per sweep and compiles a model's kernel at its
  first chunk of that model (``compile_seconds`` sums the workers' compile times; they fall inside
  the sweep time).
* **Flow.** Chunks are submitted in order with at most ``2 × threads + 2`` in flight (the client
  never holds more than that many results), and journaled and written in the order they land.
* **Failures.** Dask recomputes a lost worker's chunks on other workers: the result is unchanged.
  A chunk whose workers die more than ``distributed.scheduler.allowed-failures`` times (Dask's
  default 3) fails the run with ``ClusterError`` naming the chunk; every finished chunk is in
  the journal. When the client dies, a ``local:N`` cluster's workers die with it (their nanny is
  this process); a remote cluster's workers finish their current tasks and drop them. Either
  way ``jaxtherm run SPEC --resume`` (with or without ``--cluster``) completes the file.
* **GPUs.** A ``local:N`` cluster's workers get ``XLA_PYTHON_CLIENT_PREALLOCATE=false`` so that
  several JAX processes can share a GPU; remote workers need it in their own environment (the
  SLURM recipe in ``docs/cluster.md`` sets it).

Dask is imported only here, and only when a cluster is asked for (the ``[distributed]`` extra).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from jaxtherm.sweep import grid
from jaxtherm.sweep.executor import LocalEngine, WorkingSet
from jaxtherm.sweep.resume import RunRefused
from jaxtherm.sweep.spec import parse_spec
from jaxtherm.sweep.study import Study, resolve

CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler before giving up
LOCAL_ENV = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
_LOCAL = re.compile(r"local:(\d+)")
_ADDRESS = re.compile(r"(tcp|tls|inproc|ucx)://\S+")


class ClusterError(RunRefused):
    """A bad or unreachable ``--cluster``, a missing Dask, or a chunk that keeps killing workers."""


def cluster_address(value: str) -> tuple[str, int | str]:
    """Check a ``--cluster`` value without connecting.

    Returns:
        ``("local", N)`` for ``local:N`` (N ≥ 1) or ``("address", value)`` for a scheduler
        address ``tcp://HOST:PORT`` (also ``tls://``, ``inproc://``, ``ucx://``).

    Raises:
        ClusterError: anything else, with the forms that are accepted.
    """
    m = _LOCAL.fullmatch(value)
    if m and int(m.group(1)) >= 1:
        return "local", int(m.group(1))
    if _ADDRESS.fullmatch(value):
        return "address", value
    raise ClusterError(f"--cluster {value!r}: expected local:N (N ≥ 1 worker processes on this machine) or the "
                       "address of a running Dask scheduler, tcp://HOST:PORT")


@dataclasses.dataclass(frozen=True)
class ChunkJob:
    """Everything a worker needs to compute chunks of one sweep; hashable (the worker's cache key).

    Attributes:
        text, source, base_dir: the spec's text, its file name and (absolute) directory.
        solver: the solver name the client resolved (``--solver`` applied).
        device: ``"cpu"``, ``"gpu"`` or ``None`` (the worker's default platform).
        size: the chunk size (0 while it is being chosen).
    """

    text: str
    source: str
    base_dir: str
    solver: str
    device: str | None
    size: int = 0

    def study(self) -> Study:
        spec = parse_spec(self.text, self.source, base_dir=self.base_dir)
        return resolve(dataclasses.replace(spec, solver=self.solver))


_ENGINES: dict[ChunkJob, LocalEngine] = {}  # per worker process; the last few sweeps


def _engine(job: ChunkJob) -> LocalEngine:
    engine = _ENGINES.get(job)
    if engine is None:
        study = job.study()
        engine = LocalEngine(study, study.spec.solver, job.device)
        if job.size:
            engine.prepare(job.size, eager=False)
        while len(_ENGINES) >= 4:
            _ENGINES.pop(next(iter(_ENGINES)))
        _ENGINES[job] = engine
    return engine


def probe(job: ChunkJob, working_set: bool) -> tuple[str, WorkingSet | None]:
    """On a worker: its devices, and (``working_set``) the kernels' bytes per point there."""
    engine = _engine(job)
    measured = engine.working_set() if working_set else None  # (may leave the engine fewer devices)
    return engine.description, measured


def compute(job: ChunkJob, chunk: grid.Chunk) -> tuple[dict, float]:
    """On a worker: one chunk's host outputs, and the seconds this call spent compiling."""
    engine = _engine(job)
    before = engine.compile_seconds
    host = engine.host(chunk, engine.dispatch(chunk))
    return host, engine.compile_seconds - before


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ClusterError("--cluster needs Dask distributed, from the [distributed] extra: "
                           "pip install 'jaxtherm[distributed]'") from None
    return distributed


class ClusterEngine:
    """Compute a study's chunks on a Dask cluster (see the module docstring).

    Args:
        cluster: ``"local:N"``, a scheduler address, or a ``distributed.Client`` (left open).
        study, solver, device: as for ``jaxtherm.sweep.executor.LocalEngine``; ``device``
            is the workers' platform.

    Raises:
        ClusterError: a bad value, no Dask, or no scheduler within ``CONNECT_TIMEOUT``.
    """

    n_devices = 1

    def __init__(self, cluster, study: Study, solver, device: str | None):
        distributed = _distributed()
        self._own_client = self._local = None
        self.compile_in_loop = 0.0
        if isinstance(cluster, str):
            kind, value = cluster_address(cluster)
            if kind == "local":
                self._local = distributed.LocalCluster(n_workers=value, threads_per_worker=1, processes=True,
                                                       dashboard_address=":0", env=dict(LOCAL_ENV))
                self.client = self._own_client = distributed.Client(self._local)
            else:
                try:
                    self.client = self._own_client = distributed.Client(value, timeout=CONNECT_TIMEOUT)
                except (OSError, TimeoutError, ValueError) as err:
                    raise ClusterError(f"--cluster {value}: no Dask scheduler answered within {CONNECT_TIMEOUT:.0f} s "
                                       f"({err}); start one (dask scheduler, or a SLURMCluster) or check the "
                                       "address") from None
        else:
            self.client = cluster
        self.address = self.client.scheduler.address
        spec = study.spec
        self.job = ChunkJob(spec.text, spec.source, str(Path(spec.base_dir).resolve()), spec.solver, device)
        self._tag = uuid.uuid4().hex[:8]
        self._worker_devices = None
        if not self.client.nthreads():
            print(f"waiting for Dask workers to join {self.address} …", file=sys.stderr, flush=True)

    @property
    def workers(self) -> int:
        return len(self.client.nthreads())

    @property
    def where(self) -> str:
        return f"on a Dask cluster of {self.workers} worker(s) at {self.address}"

    @property
    def description(self) -> str:
        return f"Dask cluster {self.address}, {self.workers} worker(s) with {self._probe(False)[0]}"

    def _probe(self, working_set: bool):
        if working_set or self._worker_devices is None:
            try:
                self._worker_devices = self.client.submit(probe, self.job, working_set, pure=False).result()
            except RuntimeError as err:
                raise ClusterError(f"--device {self.job.device}: a worker has no such device ({err})") from None
        return self._worker_devices

    def working_set(self) -> WorkingSet:
        """Bytes per point on a worker's devices (the workers are assumed alike)."""
        return self._probe(True)[1]

    def prepare(self, size: int, eager: bool = True) -> None:
        """Fix the chunk size; the workers compile at their first chunk of each model."""
        self.job = dataclasses.replace(self.job, size=size)

    def run(self, todo: Sequence[grid.Chunk], finish: Callable[[grid.Chunk, dict], None]) -> None:
        """Compute every chunk of ``todo`` on the workers and pass each chunk's host outputs to
        ``finish`` as it lands (in any order). Only Dask's calls are guarded: an ``OSError`` of
        ``finish`` is the writer's (a full disk), not the cluster's."""
        distributed = _distributed()
        pending = iter(todo)
        inflight: dict[str, tuple[grid.Chunk, object]] = {}
        landed = distributed.as_completed()

        def submit(n: int) -> None:
            for chunk in itertools.islice(pending, max(n, 0)):
                key = f"jaxtherm-chunk-{chunk.id}-{self._tag}"
                inflight[key] = (chunk, self.client.submit(compute, self.job, chunk, key=key, pure=False))
                landed.add(inflight[key][1])

        try:
            with self._scheduler():
                submit(self._window())
            while inflight:
                with self._scheduler():
                    future = next(landed)
                    chunk, _ = inflight.pop(future.key)
                    try:
                        host, compile_seconds = future.result()
                    except distributed.KilledWorker:
                        raise ClusterError(
                            f"chunk {chunk.id} (points {chunk.start:,}–{chunk.stop - 1:,} of model {chunk.model_index}) "
                            "killed every worker that ran it, more than Dask's distributed.scheduler.allowed-failures "
                            "times; the run stopped with every finished chunk in the journal. Look at the workers' "
                            "logs (memory limits?), then run the same command with --resume") from None
                    future.release()
                self.compile_in_loop += compile_seconds
                finish(chunk, host)
                with self._scheduler():
                    submit(self._window() - len(inflight))
        finally:
            if inflight:  # stopped early: drop the chunks still out (a lost scheduler cannot be told)
                with contextlib.suppress(Exception):
                    self.client.cancel([f for _, f in inflight.values()])

    @contextlib.contextmanager
    def _scheduler(self):
        """Talk to the scheduler: losing it (a closed connection, cancelled futures) is a
        ``ClusterError`` that says how to go on."""
        distributed = _distributed()
        try:
            yield
        except (OSError, distributed.CancelledError) as err:
            raise ClusterError(
                f"lost the Dask scheduler at {self.address} ({type(err).__name__}: {err}); the run stopped with every "
                "finished chunk in the journal: run the same command with --resume (with this --cluster once the "
                "scheduler is back, or without one)") from None

    def _window(self) -> int:
        """Chunks in flight: two per worker thread and two more (the client never holds more)."""
        return 2 * sum(self.client.nthreads().values()) + 2

    def close(self) -> None:
        """Close the client and the local cluster this engine started (not a client passed in)."""
        with contextlib.suppress(Exception):  # closing must not hide why the run stopped
            if self._own_client is not None:
                self._own_client.close()
            if self._local is not None:
                self._local.close()

