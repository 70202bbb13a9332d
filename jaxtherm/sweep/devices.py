"""Where and in what sizes a sweep runs: devices, sharding, chunk size, ahead-of-time compile.

* **Devices.** A sweep uses the local devices of its platform (``--device cpu|gpu``, default
  JAX's default platform): each chunk is split evenly over them along the point axis
  (``NamedSharding`` on a 1-D mesh), so several GPUs, or a CPU split into devices
  (``jaxtherm run`` makes one per core, ``jaxtherm._config.split_cpu``; in Python
  ``XLA_FLAGS=--xla_force_host_platform_device_count=N``), share every chunk. A kernel keeps
  one core busy, so each CPU device adds a core, but sharing a chunk costs time too: on a CPU a
  sweep uses all the devices only where its largest model's sector has ``CPU_SHARED_UNKNOWNS``
  unknowns or more and no kernel chains its points (Krylov's warm starts), one device
  otherwise, unless told how many (``for_sweep``; measured in ``docs/performance.md``).
  **LAPACK on several CPU devices:** the batched LAPACK kernels of jaxlib 0.10 split their batch
  over XLA's CPU thread pool and block a pool thread until its parts are done; as many of them
  at once as the pool has threads (one per core) wait for each other for ever. So with those
  releases (``lapack_blocks_pool``) a sweep whose kernel calls LAPACK (``eigh`` of a global
  model, an LU) runs on one device (``jaxtherm.sweep.executor.LocalEngine``), and a LAPACK
  kernel compiled later, a staged plan's LU fallback, on the first device alone
  (``compile_kernel``; the summary and the file still name every device of the sweep).
* **Chunk size.** Throughput of the vmapped kernel peaks when one chunk's working set (inputs,
  XLA temporaries and outputs, from the compiled kernel's memory analysis) fits a budget,
  ``WORKING_SET_BUDGET`` (``jaxtherm.kernel.sizing``: a cache on a CPU, a slice of memory on a
  GPU); larger chunks spill to memory, smaller ones pay per-call overhead. The automatic size is
  the largest power of two within the budget (``sizing.largest_chunk``), then aligned to
  whole rows of the grid, or of its innermost dimensions when a row is longer than a chunk (so
  one chunk is one box of the results file, written without partial storage chunks).
  A smaller CPU budget speeds some kernels up but slows a cheap model's sweep end to end,
  because its chunks then straddle the grid's rows and the HDF5 storage chunks
  (``benchmarks/bench_sweep.py``; working sets and figures in ``docs/performance.md``).
* **Compile.** The kernel is compiled ahead of time for the padded chunk shape, so compile time
  is measured apart from the sweep's throughput.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import jaxlib
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxtherm.kernel import sizing
from jaxtherm.kernel.batch import LANES


def devices(kind: str | None) -> list:
    """All local devices of ``kind`` (``"cpu"``, ``"gpu"``, or ``None``: the default platform).

    Raises:
        RuntimeError: if JAX sees no such device.
    """
    return jax.local_devices(backend=kind) if kind else jax.local_devices()


CPU_SHARED_UNKNOWNS = 100
"""On a CPU, a sweep whose largest sector has fewer unknowns runs on one device: its sweep is
bound by writing, and splitting its chunks slowed it (``docs/performance.md``)."""


def for_sweep(devs: list, unknowns: int, chained: bool = False, requested: int | None = None) -> list:
    """The devices a sweep shares its chunks over, of ``devs`` (``devices``). On an accelerator
    all. On a CPU ``requested`` of them if given (at most all), else all where the largest sector
    of the sweep's models has at least ``CPU_SHARED_UNKNOWNS`` unknowns (``unknowns``) and no
    model's kernel chains its points (``chained``: one point at a time, each starting from the
    last one's solution, so that a chunk's values would depend on how many devices share it,
    and a file on the machine's cores), the first otherwise."""
    if devs[0].platform != "cpu":
        return devs
    if requested is not None:
        return devs[:max(1, requested)]
    return devs[:1] if chained or unknowns < CPU_SHARED_UNKNOWNS else devs


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version)[:3])


def lapack_blocks_pool(version: str | None = None) -> bool:
    """Whether jaxlib (``version``, default the installed one) may have the batched LAPACK kernels
    that block XLA's CPU thread pool (see the module docstring): 0.10.2 has (its sweeps on two
    devices hung), 0.9.2 has not; later releases count as having them until one is shown not to."""
    return _release(version or jaxlib.__version__) >= (0, 10, 0)


def calls_lapack(lowered) -> bool:
    """Whether the program ``lowered`` (``jax.stages.Lowered``) calls one of jaxlib's LAPACK
    kernels: a StableHLO custom call whose target names LAPACK (``lapack_dgetrf_ffi``, …)."""
    def operations(op):
        for region in op.regions:
            for block in region.blocks:
                for inner in block.operations:
                    yield inner
                    yield from operations(inner)

    return any(op.operation.name == "stablehlo.custom_call" and "lapack_" in str(op.attributes["call_target_name"])
               for op in operations(lowered.compiler_ir().operation))


def sharding(devs: list) -> NamedSharding | None:
    """Split the point axis over ``devs``; ``None`` for a single device."""
    if len(devs) == 1:
        return None
    return NamedSharding(Mesh(np.array(devs), ("points",)), PartitionSpec("points"))


def compile_kernel(fn, n_inputs: int, size: int, dtype, devs: list):
    """Ahead-of-time compile ``fn`` for ``n_inputs`` arrays of ``(size,)`` points, split over
    ``devs``; on a CPU split into devices whose jaxlib's LAPACK blocks the thread pool
    (``lapack_blocks_pool``), a kernel that calls LAPACK for ``devs[0]`` alone.

    Returns:
        The compiled function; it takes arrays placed by ``place`` (moved to ``devs[0]`` first
        where it runs there alone).
    """
    split = sharding(devs)
    lowered = sizing.lower_at(fn, n_inputs, size, dtype, devs[0], split)
    if not (split is not None and blocks_pool(lowered, devs)):
        return lowered.compile()
    alone = sizing.compile_at(fn, n_inputs, size, dtype, devs[0])
    return lambda *args: alone(*jax.device_put(list(args), devs[0]))


class HostInputs:
    """A chunk's input arrays, made on the host and copied to the devices.

    A chunk is the points ``[start, stop)`` of a model's sub-grid in a visiting order (the
    spec's axes in ``axes``' order, C order); point ``i`` takes ``axes[k].values[j_k]`` with
    ``(j_0, j_1, …) = unravel(i, shape)``, and every other input its fixed value; the last point
    is repeated up to the compiled size (``jaxtherm.kernel.batch.pad``). On a CPU this is the
    faster way: the host makes the next chunk's arrays while the device computes the current
    one (``DeviceInputs`` adds its program to the device's queue;
    ``benchmarks/bench_reduce.py``, ``docs/performance.md``).

    Args:
        axes: the spec's axes in visiting order (``.spec.Axis``: ``name`` and ``values``).
        fixed: the fixed inputs, ``{name: value}``.
        names: the kernel's inputs, in its order.
        size: the compiled chunk size (points, padding included).
        dtype: the inputs' dtype.
        devs: the devices; several share each chunk along its points (``sharding``).
    """

    def __init__(self, axes, fixed: dict, names: tuple[str, ...], size: int, dtype, devs: list):
        self.axes, self.names, self.size, self.devs = list(axes), tuple(names), size, devs
        self.dtype = np.dtype(dtype)
        self.shape = tuple(len(a.values) for a in self.axes)
        self.fixed = {n: self.dtype.type(fixed[n]) for n in names if n not in {a.name for a in self.axes}}
        self._host_values = {a.name: np.asarray(a.values).astype(self.dtype, copy=False) for a in self.axes}
        self._placed: dict[str, jax.Array] | None = None  # the fixed inputs on the devices, made once

    def _swept(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """The swept inputs of points ``[start, stop)``, padded: ``{axis name: values}``."""
        flat = np.minimum(np.arange(start, start + self.size), stop - 1)
        idx = np.unravel_index(flat, self.shape) if self.shape else ()
        return {a.name: self._host_values[a.name][j] for a, j in zip(self.axes, idx)}

    def __call__(self, start: int, stop: int) -> list:
        """The inputs of points ``[start, stop)``, padded, on the devices. The fixed inputs are
        the same arrays for every chunk, placed once; the swept ones are copied in one call."""
        if self._placed is None:
            self._placed = dict(zip(self.fixed, place([np.full(self.size, v) for v in self.fixed.values()], self.devs)))
        swept = self._swept(start, stop)
        placed = {**self._placed, **dict(zip(swept, place(list(swept.values()), self.devs)))}
        return [placed[n] for n in self.names]


class DeviceInputs(HostInputs):
    """A chunk's input arrays, made on the devices (``HostInputs``' points, to the bit).

    The axes' values are placed on the devices once; a chunk is then one small compiled program
    of two integers that gathers its points, instead of ``len(names)`` arrays of ``size`` points
    made on the host and copied over. This is for accelerators, where the copy and the host's
    work would bound the sweep well below the kernel (not measured here: no GPU was at hand;
    ``docs/performance.md``)."""

    def __init__(self, axes, fixed: dict, names: tuple[str, ...], size: int, dtype, devs: list):
        super().__init__(axes, fixed, names, size, dtype, devs)
        swept = {a.name: k for k, a in enumerate(self.axes)}
        shape, constants = self.shape, self.fixed
        target = sharding(devs)
        self._whole = NamedSharding(target.mesh, PartitionSpec()) if target is not None else devs[0]
        self._values = [jax.device_put(self._host_values[a.name], self._whole) for a in self.axes]

        def make(values, bounds):
            start, n = bounds[0], bounds[1]
            i = start + jnp.minimum(jnp.arange(size, dtype=bounds.dtype), n - 1)
            idx = jnp.unravel_index(i, shape) if shape else ()
            return tuple(values[swept[name]][idx[swept[name]]] if name in swept else jnp.full(size, constants[name])
                         for name in names)

        self._make = jax.jit(make, out_shardings=target)

    def __call__(self, start: int, stop: int) -> list:
        bounds = jax.device_put(np.asarray([start, stop - start], np.int64), self._whole)
        return list(self._make(self._values, bounds))


def chunk_inputs(axes, fixed: dict, names: tuple[str, ...], size: int, dtype, devs: list) -> HostInputs:
    """How a sweep makes its chunks' inputs on ``devs``: on the host for a CPU (``HostInputs``),
    on the devices for an accelerator (``DeviceInputs``)."""
    kind = HostInputs if devs[0].platform == "cpu" else DeviceInputs
    return kind(axes, fixed, names, size, dtype, devs)


def place(arrays: list[np.ndarray], devs: list) -> list:
    """Put a chunk's input arrays on ``devs`` (split along the points when there are several),
    in one call (JAX copies a list of arrays as one batch)."""
    sh = sharding(devs)
    return list(jax.device_put(list(arrays), sh if sh else devs[0]))


def pool_at_risk(devs: list) -> bool:
    """Whether ``devs`` are a CPU split into devices whose jaxlib's LAPACK blocks the thread pool
    (``lapack_blocks_pool``): where a program that calls LAPACK could deadlock them."""
    return len(devs) > 1 and devs[0].platform == "cpu" and lapack_blocks_pool()


def blocks_pool(lowered, devs: list) -> bool:
    """Whether the program ``lowered`` (``jax.stages.Lowered``) could deadlock ``devs``: they are
    at risk (``pool_at_risk``) and it calls LAPACK."""
    return pool_at_risk(devs) and calls_lapack(lowered)


def probe(fn, n_inputs: int, dtype, devs: list) -> tuple[float, bool]:
    """The compiled kernel's working set per point on ``devs[0]`` (``sizing.probe``), and whether
    it would run on ``devs[0]`` alone (``blocks_pool``)."""
    per_point, lowered = sizing.probe(fn, n_inputs, dtype, devs[0], LANES)
    return per_point, blocks_pool(lowered, devs)


def auto_chunk_size(per_point: float, platform: str, n_devices: int, n_points: int, shape: tuple[int, ...]) -> int:
    """Chunk size for a sweep (see the module docstring).

    Args:
        per_point: working set in bytes per point (``probe``).
        platform: ``"cpu"`` or ``"gpu"`` (others use the CPU budget).
        n_devices: devices sharing each chunk. They share one budget: on a CPU host devices
            share the caches, and on GPUs a chunk this size already fills each device.
        n_points: points per sub-grid (no chunk is larger).
        shape: the sub-grid's shape (axis lengths): chunks hold whole rows of its innermost
            dimensions, the most of them that fit.
    """
    size = sizing.largest_chunk(per_point, platform, LANES, n_devices)
    for k in range(1, len(shape)):  # whole rows of the innermost dims: one box per chunk in the file
        row = int(np.prod(shape[k:], dtype=np.int64))
        if 1 < row <= size:
            size = size // row * row
            break
    return max(1, min(size, n_points))
