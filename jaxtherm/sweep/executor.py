"""Where a sweep's chunks are computed: ``LocalEngine`` runs them on this process's devices
(the default); ``jaxtherm.sweep.cluster.ClusterEngine`` hands them to Dask workers, each of
which runs a ``LocalEngine`` of its own. Both give the writer the same host arrays per chunk.

An engine answers three questions for ``jaxtherm.sweep.run.run_sweep``: what its devices
are (``LocalEngine.working_set``, for the automatic chunk size), ``LocalEngine.prepare``
(compile for a chunk size), and ``LocalEngine.run`` (compute chunks, calling ``finish`` with
each chunk's outputs).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import jax
import numpy as np

from jaxtherm import solvers
from jaxtherm.kernel import sizing
from jaxtherm.kernel.batch import LANES, ChunkRunner, lanes_of, padded
from jaxtherm.sweep import devices, grid, outputs
from jaxtherm.sweep.study import Study


@dataclasses.dataclass(frozen=True)
class WorkingSet:
    """What the automatic chunk size needs to know of an engine's devices."""

    bytes_per_point: float  # the largest over the study's models
    platform: str
    n_devices: int


class LocalEngine:
    """Compute chunks on this process's devices (the local devices of ``device``'s platform that
    ``jaxtherm.sweep.devices.for_sweep`` picks for the study).

    Args:
        study: the resolved sweep.
        solver: a solver name or object (``jaxtherm.solvers``).
        device: ``"cpu"``, ``"gpu"`` or ``None`` (JAX's default platform).
        n_devices: on a CPU, how many of them to share the chunks over (``None``: ``for_sweep``'s
            choice); fewer where a kernel calls LAPACK with a jaxlib whose LAPACK blocks the
            CPU's thread pool (``_settle``).

    Raises:
        RuntimeError: JAX sees no device of that kind.
    """

    def __init__(self, study: Study, solver, device: str | None, n_devices: int | None = None):
        self.study, self.solver = study, solvers.get(solver)
        self.output = outputs.for_study(study)  # what a chunk's outputs become on the host
        available = devices.devices(device)
        plans = [self.solver.plan(m) for m in study.models]
        chained = any(lanes_of(p, available[0].platform) == 1 for p in plans)  # one point at a time, warm-started
        self.devs = devices.for_sweep(available, max(p.size - 1 for p in plans), chained, n_devices)
        self.dtype = np.dtype(study.spec.dtype)
        self.size = self.compiled_size = 0
        self.inputs: devices.HostInputs | None = None  # made by ``prepare``
        self.compile_seconds = 0.0
        self.compile_in_loop = 0.0  # compiled inside the sweep loop (a pivoted fallback kernel)
        self.n_devices, self.where = len(self.devs), ""
        self._runners: dict[int, ChunkRunner] = {}  # model index -> its chunk runner
        self._settled = False  # (``_settle``)

    @property
    def description(self) -> str:
        """The devices, as the results file's ``device`` attribute records them."""
        return ", ".join(str(d) for d in self.devs)

    def runner(self, model_index: int) -> ChunkRunner:
        """The chunk runner of one of the study's models (``jaxtherm.kernel.batch.ChunkRunner``: the
        plan's kernel, and its fallback's where static pivots cannot vouch for a chunk), its
        kernels compiled ahead of time for this engine's chunk size and devices."""
        if model_index not in self._runners:
            spec = self.study.spec
            self._runners[model_index] = ChunkRunner(
                self.study.models[model_index], self.study.names, spec.gradients, self.dtype, self.solver, spec.save_rho,
                spec.fluctuations, prepare=self._compile, platform=self.devs[0].platform, devices=len(self.devs))
        return self._runners[model_index]

    def _compile(self, fn, fallback: bool):
        t = time.perf_counter()
        compiled = devices.compile_kernel(fn, len(self.study.names), self.compiled_size, self.dtype, self.devs)
        seconds = time.perf_counter() - t
        self.compile_seconds += seconds
        if fallback:  # compiled inside the sweep loop, when a chunk first needs it
            self.compile_in_loop += seconds
        return compiled

    def working_set(self) -> WorkingSet:
        """Bytes per point of the largest model's compiled kernel (one probe compile per model).
        On a GPU, where memory is a hard limit, the fallback kernel, which runs in the same
        chunks, is probed too; on a CPU the budget is a cache size, and a chunk that falls back
        only runs slower, and there a kernel that would run on one device of a split CPU
        (``devices.blocks_pool``) makes the whole sweep run on one, as one device's program."""
        first = {m.name: i for i, m in reversed(list(enumerate(self.study.models)))}.values()
        gpu = self.devs[0].platform != "cpu"
        kernels = [k for i in first for k in (self.runner(i).kernels() if gpu else self.runner(i).kernels()[:1])]
        probes = [devices.probe(k, len(self.study.names), self.dtype, self.devs) for k in kernels]
        self._settle(any(alone for _, alone in probes))
        return WorkingSet(max(per_point for per_point, _ in probes), self.devs[0].platform, len(self.devs))

    def _settle(self, alone: bool | None = None) -> None:
        """Run on one device where a model's kernel would run on one device of a split CPU
        (``devices.blocks_pool``), as one device's program, not one that splits a chunk's blocks
        over devices it does not have. ``alone``: found by the working set's probe; else each
        model's kernel is lowered (for a few points) to find it."""
        if self._settled or not devices.pool_at_risk(self.devs):
            return
        if alone is None:
            n = len(self.study.names)
            alone = any(devices.blocks_pool(sizing.lower_at(self.runner(i).jitted(), n, LANES, self.dtype, self.devs[0]),
                                            self.devs) for i in range(len(self.study.models)))
        self._settled = True
        if alone:
            self.devs, self.n_devices = self.devs[:1], 1
            self._runners.clear()  # their kernels split a chunk's blocks over the devices

    def prepare(self, size: int, eager: bool = True) -> None:
        """Fix the chunk size; compile every model's kernel now (``eager``) or at its first chunk."""
        self._settle()
        lanes = max(self.runner(i).lanes for i in range(len(self.study.models)))  # LANES if any needs it
        self.size, self.compiled_size = size, padded(size, len(self.devs), lanes)
        spec = self.study.spec
        self.inputs = devices.chunk_inputs(self.output.visiting_axes(), spec.fixed, self.study.names,
                                           self.compiled_size, self.dtype, self.devs)
        if eager:
            for i in range(len(self.study.models)):
                self.runner(i).kernel()
            t = time.perf_counter()
            self.output.prepare(size, self.compiled_size, self.runner(0).jitted(), len(self.study.names), self.dtype,
                                self.devs)
            jax.block_until_ready(self.inputs(0, 1))  # on an accelerator, compile the inputs' program too
            self.compile_seconds += time.perf_counter() - t

    def dispatch(self, chunk: grid.Chunk):
        """Start computing ``chunk`` (JAX dispatches asynchronously): ``(inputs, raw device
        outputs, what runs after the kernel)``. The reduction of a ``[reduce]`` sweep is queued
        here, right behind its kernel: queued when the chunk is fetched, it would wait for the
        next chunk's kernel (one queue per device), and the host's writing would no longer
        overlap the device's work."""
        args = self.inputs(chunk.start, chunk.stop)
        result = self.runner(chunk.model_index).kernel()(*args)
        return args, result, self.output.after_kernel(self.size, result, chunk)

    def host(self, chunk: grid.Chunk, dispatched) -> dict[str, np.ndarray]:
        """A dispatched chunk's outputs on the host, after the runner's fallback policy
        (``jaxtherm.kernel.batch.ChunkRunner.finish``): its stored outputs, or their reduction
        on the device (``.outputs``; made again where the fallback replaced the outputs)."""
        args, result, after = dispatched
        final = self.runner(chunk.model_index).finish(result, *args)
        return self.output.to_host(self.size, final, chunk, after if final is result else None)

    def run(self, todo: Sequence[grid.Chunk], finish: Callable[[grid.Chunk, dict], None]) -> None:
        """Compute every chunk of ``todo`` and pass its host outputs to ``finish``, in order, while
        the next chunk computes (double buffering)."""
        pending = None
        for chunk in todo:
            result = self.dispatch(chunk)
            if pending is not None:
                finish(pending[0], self.host(*pending))
            pending = (chunk, result)
        if pending is not None:
            finish(pending[0], self.host(*pending))

    def close(self) -> None:
        """Nothing to release."""
