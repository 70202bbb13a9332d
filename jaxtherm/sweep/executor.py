"""The chunk loop of a sweep on this process's devices: pad, dispatch, and while chunk k + 1
computes, hand chunk k to the writer (double buffering: JAX dispatches asynchronously)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..batch import pad
from . import devices, grid


def host_outputs(out: dict, size: int, save_rho: bool, dtype: str) -> dict[str, np.ndarray]:
    """A computed chunk's outputs on the host, cut to its ``size`` points, in the file's dtypes
    (``rho`` split into ``rho_re``/``rho_im`` when stored, dropped otherwise)."""
    host = {}
    for k, v in out.items():
        a = np.asarray(v[:size])
        if k == "rho":
            if save_rho:
                host["rho_re"], host["rho_im"] = a.real.astype(dtype), a.imag.astype(dtype)
        elif k == "status":
            host[k] = a
        else:
            host[k] = a.astype(dtype, copy=False)
    return host


def run_chunks(compiled: Sequence, todo: Sequence[grid.Chunk], inputs: Callable[[grid.Chunk], list[np.ndarray]],
               padded: int, devs: list, finish: Callable[[grid.Chunk, dict], None]) -> None:
    """Compute every chunk of ``todo`` and pass its raw outputs to ``finish``, in order.

    Args:
        compiled: one compiled kernel per model (``chunk.model_index``).
        todo: the chunks to compute.
        inputs: ``chunk ↦`` its input arrays (one per kernel input, ``chunk.size`` points each).
        padded: the compiled chunk size; inputs are padded to it.
        devs: the devices a chunk is placed on (split over them when several).
        finish: called with each chunk and its outputs while the next chunk computes.
    """
    pending = None
    for chunk in todo:
        args = [pad(np.asarray(a), padded) for a in inputs(chunk)]
        result = compiled[chunk.model_index](*devices.place(args, devs))  # dispatched asynchronously
        if pending is not None:
            finish(*pending)
        pending = (chunk, result)
    if pending is not None:
        finish(*pending)
