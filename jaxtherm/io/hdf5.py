"""The results file (DESIGN.md §5) — the only module that imports h5py.

Layout, readable by ``xarray.open_dataset(path, engine="h5netcdf")``:

* one 1-D dataset per grid dimension (each categorical model option, then each axis), made an
  HDF5 dimension scale, with ``units`` / ``description`` attrs; the same for the trailing
  dimensions of per-point arrays (``row``, ``col`` of ρ, labelled by the basis states);
* one grid-shaped dataset per observable, gradient, ``status`` (int8, −1 = not computed yet)
  and ``residual``, with the scales attached; ``rho_re``/``rho_im`` (extra dims ``row``,
  ``col``) when the steady states are kept;
* one scalar dataset per fixed parameter;
* root attrs: the spec text exactly as given, versions, device, precision, start/end time,
  ``complete`` (0/1) and the failed-point count;
* group ``/_jaxtherm`` with ``chunk_done`` (uint8 per chunk), invisible to xarray.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np

COMPRESSION = {"none": {}, "lzf": {"compression": "lzf"}, "gzip": {"compression": "gzip", "compression_opts": 4}}


@dataclasses.dataclass(frozen=True)
class Variable:
    """A grid-shaped dataset: ``name``, dtype, ``units``, ``description``, trailing dims."""

    name: str
    dtype: str
    units: str
    description: str
    extra_dims: tuple[tuple[str, int], ...] = ()


@dataclasses.dataclass(frozen=True)
class Layout:
    """Everything needed to create a results file."""

    dims: tuple[str, ...]
    coords: Mapping[str, tuple[np.ndarray, str, str]]  # name -> (values, units, description), extra dims too
    variables: tuple[Variable, ...]
    scalars: Mapping[str, tuple[float, str, str]]  # fixed parameters
    attrs: Mapping[str, object]
    n_chunks: int
    compression: str = "none"

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(self.coords[d][0]) for d in self.dims)


class BrokenFile(Exception):
    """An existing results file that HDF5 cannot open or that lacks jaxtherm's bookkeeping."""


def _storage_chunks(shape: tuple[int, ...], extra: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """About 1 MiB storage chunks, taken from the trailing (fastest-varying) grid dims."""
    budget = max(1, (1 << 20) // (itemsize * int(np.prod(extra, dtype=np.int64) or 1)))
    out = []
    for n in reversed(shape):
        take = max(1, min(n, budget))
        out.append(take)
        budget = max(1, budget // take)
    return tuple(reversed(out)) + extra


def _describe(ds, units: str, description: str) -> None:
    """``description`` and, when there are any, ``units`` (an empty ``units`` attr would show as
    ``[]`` in xarray's plot labels)."""
    ds.attrs["description"] = description
    if units:
        ds.attrs["units"] = units


class ResultsFile:
    """An open results file being written."""

    def __init__(self, h5: h5py.File):
        self._h5 = h5

    @classmethod
    def create(cls, path: Path, layout: Layout) -> ResultsFile:
        """Create (truncate) ``path`` with every dataset allocated and filled with NaN / −1."""
        h5 = h5py.File(path, "w", libver="latest")
        try:
            scales = {}
            extra_dims = [n for v in layout.variables for n, _ in v.extra_dims]
            for d in dict.fromkeys([*layout.dims, *extra_dims]):
                values, units, description = layout.coords[d]
                if values.dtype.kind in "UO":
                    ds = h5.create_dataset(d, data=np.asarray(values, dtype=object), dtype=h5py.string_dtype())
                else:
                    ds = h5.create_dataset(d, data=values)
                _describe(ds, units, description)
                ds.make_scale(d)
                scales[d] = ds
            for v in layout.variables:
                extra = tuple(s for _, s in v.extra_dims)
                dtype = np.dtype(v.dtype)
                fill = -1 if dtype.kind == "i" else np.nan
                ds = h5.create_dataset(
                    v.name,
                    shape=layout.shape + extra,
                    dtype=dtype,
                    fillvalue=fill,
                    chunks=_storage_chunks(layout.shape, extra, dtype.itemsize),
                    **COMPRESSION[layout.compression],
                )
                _describe(ds, v.units, v.description)
                for i, d in enumerate(layout.dims):
                    ds.dims[i].attach_scale(scales[d])
                for j, (name, _) in enumerate(v.extra_dims):
                    ds.dims[len(layout.dims) + j].attach_scale(scales[name])
            for name, (value, units, description) in layout.scalars.items():
                ds = h5.create_dataset(name, data=np.float64(value))
                _describe(ds, units, description)
            h5.attrs.update({k: v for k, v in layout.attrs.items()})
            h5.attrs["complete"] = 0
            group = h5.create_group("_jaxtherm")
            group.create_dataset("chunk_done", data=np.zeros(layout.n_chunks, np.uint8))
            h5.flush()
        except BaseException:
            h5.close()
            raise
        return cls(h5)

    @classmethod
    def open(cls, path: Path, layout: Layout) -> ResultsFile:
        """Reopen an incomplete file for appending; :class:`BrokenFile` if it cannot be used."""
        try:
            h5 = h5py.File(path, "r+")
        except (OSError, RuntimeError) as err:
            raise BrokenFile(str(err)) from None
        try:
            ok = "_jaxtherm/chunk_done" in h5 and all(
                v.name in h5 and h5[v.name].shape[: len(layout.shape)] == layout.shape for v in layout.variables
            )
        except Exception as err:  # a damaged object header surfaces here
            h5.close()
            raise BrokenFile(str(err)) from None
        if not ok:
            h5.close()
            raise BrokenFile("missing or mis-shaped datasets")
        return cls(h5)

    def write(self, regions: Sequence[tuple[tuple[slice, ...], slice]], arrays: Mapping[str, np.ndarray]) -> None:
        """Write flat per-point ``arrays`` into the grid boxes ``regions`` (see grid.grid_regions)."""
        for name, values in arrays.items():
            ds = self._h5[name]
            for box, part in regions:
                target_shape = tuple(s.stop - s.start for s in box) + values.shape[1:]
                ds[box] = values[part].reshape(target_shape)

    def mark_done(self, chunk_id: int) -> None:
        self._h5["_jaxtherm/chunk_done"][chunk_id] = 1

    def finish(self, attrs: Mapping[str, object]) -> None:
        """Record the final attrs, mark the file complete, flush."""
        self._h5.attrs.update(dict(attrs))
        self._h5.attrs["complete"] = 1
        self._h5.flush()

    def close(self) -> None:
        self._h5.close()


def file_state(path: Path) -> bool | None:
    """Whether an existing results file is complete; ``None`` if it cannot be read."""
    try:
        with h5py.File(path, "r") as h5:
            return bool(h5.attrs.get("complete", 0))
    except (OSError, RuntimeError):
        return None


def h5py_version() -> str:
    return h5py.__version__
