"""The sweep grid: chunks of flat point indices, and the parameter values of a chunk.

A sweep over models ``m = 0 … M−1`` (the combinations of the categorical ``[model]`` options, C
order) and axes of lengths ``(n_1, …, n_k)`` has ``M`` sub-grids of ``S = Π n_i`` points each,
in C order. Chunk ``c`` of sub-grid ``m`` holds the flat indices
``[c C, min((c+1) C, S))`` for the fixed chunk size ``C``; chunk ids run ``m · K + c`` with
``K = ⌈S / C⌉``. Chunk boundaries depend only on the spec and ``C``, so a resumed run recomputes
exactly the same chunks.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from jaxtherm.sweep.spec import SweepSpec


@dataclasses.dataclass(frozen=True)
class Chunk:
    """Chunk ``id``: flat indices ``[start, stop)`` of the sub-grid of model ``model_index``."""

    id: int
    model_index: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


def chunks(spec: SweepSpec, chunk_size: int) -> list[Chunk]:
    """All chunks of a sweep, in order."""
    per_model = spec.points_per_model
    k = -(-per_model // chunk_size)
    return [
        Chunk(m * k + c, m, c * chunk_size, min((c + 1) * chunk_size, per_model))
        for m in range(spec.n_models)
        for c in range(k)
    ]


def grid_regions(shape: tuple[int, ...], start: int, stop: int) -> list[tuple[tuple[slice, ...], slice]]:
    """Cover the C-order flat range ``[start, stop)`` of an array of ``shape`` by boxes.

    Returns:
        A list of ``(box, part)``: ``box`` a tuple of slices into the array and ``part`` the
        slice of the flat range it holds (in order). At most ``2·ndim − 1`` boxes.
    """
    if start >= stop:
        return []
    if len(shape) <= 1:
        return [((slice(start, stop),), slice(0, stop - start))]
    inner = int(np.prod(shape[1:]))
    first, last = start // inner, (stop - 1) // inner
    out = []

    def sub(row, lo, hi, offset):
        for box, part in grid_regions(shape[1:], lo, hi):
            out.append(((slice(row, row + 1), *box), slice(part.start + offset, part.stop + offset)))

    if first == last:
        sub(first, start - first * inner, stop - first * inner, 0)
        return out
    offset = 0
    row = first
    if start % inner:
        sub(first, start % inner, inner, 0)
        offset = inner - start % inner
        row = first + 1
    full_end = last if stop % inner else last + 1
    if full_end > row:
        n = (full_end - row) * inner
        out.append(((slice(row, full_end), *(slice(0, s) for s in shape[1:])), slice(offset, offset + n)))
        offset += n
    if stop % inner:
        sub(last, 0, stop % inner, offset)
    return out


def chunk_regions(spec: SweepSpec, chunk: Chunk) -> list[tuple[tuple[slice, ...], slice]]:
    """Boxes of the results grid that hold ``chunk``: the model's categorical indices first, then
    ``grid_regions`` of its sub-grid."""
    shape = spec.axis_shape
    regions = grid_regions(shape, chunk.start, chunk.stop) if shape else [((), slice(0, 1))]
    lead = tuple(slice(int(i), int(i) + 1) for i in np.unravel_index(chunk.model_index, spec.model_shape)) \
        if spec.categorical else ()
    return [((*lead, *box), part) for box, part in regions]
