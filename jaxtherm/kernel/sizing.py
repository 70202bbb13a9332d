"""How many points one compiled call may take: the working set of a compiled kernel per point,
from XLA's memory analysis, against a per-platform budget.

Throughput of the vmapped kernel peaks when one chunk's working set (inputs, XLA temporaries and
outputs) fits a budget: a cache size on a CPU (larger chunks spill to memory, smaller ones pay
per-call overhead), a slice of the device's memory on an accelerator (where memory is a hard
limit, and larger chunks keep the device busy). ``jaxtherm.solve`` and the sweeps
(``jaxtherm.sweep.devices.auto_chunk_size``) size their chunks from the same numbers.
"""

from __future__ import annotations

import functools

import jax

# bytes one chunk's working set may take: a cache on a CPU, a slice of device memory elsewhere
WORKING_SET_BUDGET = {"cpu": 24 << 20, "gpu": 2 << 30}
PROBE_POINTS = 1 << 14  # the size the memory analysis is compiled at
MAX_CHUNK = 1 << 22
CPU_SOLVE_CHUNK = 1 << 15  # ``solve``'s chunk on a CPU (measured: docs/performance.md)


def lower_at(fn, n_inputs: int, size: int, dtype, device=None, sharding=None):
    """``fn`` lowered for ``n_inputs`` arrays of ``(size,)`` points of ``dtype``, on ``device``
    (default: JAX's default device), split by ``sharding`` if given (``jax.stages.Lowered``)."""
    shape = jax.ShapeDtypeStruct((size,), dtype, sharding=sharding) if sharding else jax.ShapeDtypeStruct((size,), dtype)
    with jax.default_device(device or jax.devices()[0]):
        return fn.lower(*([shape] * n_inputs))


def compile_at(fn, n_inputs: int, size: int, dtype, device=None, sharding=None):
    """Ahead-of-time compile of ``fn`` as ``lower_at`` lowers it.

    Returns:
        The compiled function (``jax.stages.Compiled``)."""
    return lower_at(fn, n_inputs, size, dtype, device, sharding).compile()


def bytes_per_point(fn, n_inputs: int, dtype, device=None, lanes: int = 64) -> float:
    """Working set of the compiled ``fn`` per point: ``(arguments + temporaries + outputs) / P``
    from XLA's memory analysis of one compile at ``P = PROBE_POINTS`` points (rounded up to
    ``lanes``) on ``device``."""
    return probe(fn, n_inputs, dtype, device, lanes)[0]


def probe(fn, n_inputs: int, dtype, device=None, lanes: int = 64):
    """``(bytes_per_point, lowered)``: the working set per point, and the program it was
    measured on (``jax.stages.Lowered``, e.g. to read which library calls it makes)."""
    size = -(-PROBE_POINTS // lanes) * lanes
    lowered = lower_at(fn, n_inputs, size, dtype, device)
    ma = lowered.compile().memory_analysis()
    return (ma.argument_size_in_bytes + ma.temp_size_in_bytes + ma.output_size_in_bytes) / size, lowered


def largest_chunk(per_point: float, platform: str, lanes: int, n_devices: int = 1) -> int:
    """The largest chunk ``lanes · n_devices · 2^k ≤ MAX_CHUNK`` whose working set
    ``size · per_point`` fits the platform's budget (``WORKING_SET_BUDGET``; platforms not
    named there take the CPU's); at least one block of ``lanes`` per device."""
    budget = WORKING_SET_BUDGET.get(platform, WORKING_SET_BUDGET["cpu"])
    size = lanes * n_devices
    while size * 2 * per_point <= budget and size * 2 <= MAX_CHUNK:
        size *= 2
    return size


def default_platform() -> str:
    """The platform of JAX's default device (``"cpu"``, ``"gpu"``, …): where a kernel runs whose
    caller names none (uncommitted arrays go there). The kernel layer asks it only for such
    callers (``batched_kernel``, ``solve`` inside a transformation): ``solve`` takes its
    inputs' device, a sweep its engine's devices."""
    return jax.devices()[0].platform


def _device(platform: str):
    """A device of ``platform``, or the default device where JAX has none (a test that names
    ``"gpu"`` on a CPU)."""
    try:
        return jax.devices(platform)[0]
    except RuntimeError:
        return None


@functools.lru_cache(maxsize=64)
def _accelerator_chunk(kernels: tuple, n_inputs: int, dtype, platform: str, lanes: int) -> int:
    per_point = max(bytes_per_point(k, n_inputs, dtype, _device(platform), lanes) for k in kernels)
    return largest_chunk(per_point, platform, lanes)


def solve_chunk(kernels, n_inputs: int, dtype, lanes: int, platform: str | None = None) -> int:
    """``jaxtherm.solve``'s chunk where the caller gives none: ``CPU_SOLVE_CHUNK`` on a CPU;
    on an accelerator the largest chunk whose working set fits the platform's budget
    (``largest_chunk``), the working set measured on the largest of ``kernels`` (the plan's
    compiled kernel and its fallback's, which may run on the same chunk): one probe compile per
    kernel, remembered for the process.

    Args:
        kernels: the jitted, vmapped kernels a chunk may run.
        n_inputs: their number of ``(N,)`` input arrays.
        dtype: the inputs' dtype.
        lanes: the chunk's rounding (``jaxtherm.kernel.batch.lanes_of``).
        platform: where the kernels run (``default_platform()`` if ``None``); the working set
            is measured on a device of it.
    """
    platform = platform or default_platform()
    if platform == "cpu":
        return CPU_SOLVE_CHUNK
    return _accelerator_chunk(tuple(kernels), n_inputs, dtype, platform, lanes)
