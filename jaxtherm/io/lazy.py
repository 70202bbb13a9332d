"""The xarray side of ``jaxtherm.open``: a backend (``xarray.backends.BackendEntrypoint``) whose
arrays read a results file region by region when they are indexed or loaded, never before.

Every variable on the grid is an ``xarray.backends.BackendArray`` wrapped in xarray's
``LazilyIndexedArray``: selecting (``isel``, ``sel``, slicing) only composes indices, and ``.load()``,
``.values`` or ``.compute()`` read the selected region. Each read opens the file, reads and closes
it (``jaxtherm.io.h5read.read_regions``): a Dataset holds no open file, so it never blocks the
sweep writing the file, a ``--resume`` of it or another ``open``, and ``close()`` has nothing to
release. The masking of ``open`` happens inside the read: a masked variable reads its region of
``status`` in the same opening, before its values.

Imported only by ``jaxtherm.open`` (xarray comes from the ``[analysis]`` extra).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import xarray as xr
from xarray.backends import BackendArray, BackendEntrypoint
from xarray.core import indexing

from jaxtherm._checks import raise_if
from jaxtherm.io import h5read, integrity
from jaxtherm.status import keeps_values

NOT_COMPUTED = -1
PLAIN, FAILED, NOT_DONE = "plain", "failed", "not computed"  # what a read sets to NaN


class NotResults(ValueError):
    """A readable HDF5 file that is not a jaxtherm results file."""


@dataclasses.dataclass(frozen=True, eq=False)
class Source:
    """Where a Dataset's arrays read from: the path, SWMR or not, the file's identity (a file
    renamed over it later is refused) and, for a file not complete when opened, ``status`` as it
    was then (``snapshot``: one byte a point), which every read applies, so the Dataset is the
    snapshot ``open`` counted."""

    path: Path
    swmr: bool
    identity: tuple[int, int]
    snapshot: np.ndarray | None

    def read(self, requests) -> list[np.ndarray]:
        return h5read.read_regions(self.path, self.swmr, self.identity, requests)


def outer(array: np.ndarray, key: tuple) -> np.ndarray:
    """``array`` indexed by an outer key (slices, integers, at most one integer array) axis by
    axis, as h5py reads it (NumPy would move the array's axis first beside an integer)."""
    axis = 0
    for k in key:
        array = array[(slice(None),) * axis + (k,)]
        axis += not isinstance(k, (int, np.integer))
    return array


class LazyArray(BackendArray):
    """One grid-shaped dataset, read on indexing; ``rule`` says where it reads NaN: nowhere
    (``PLAIN``), where the status does not keep a point's values (``FAILED``: ``status`` neither 0
    nor 6, ``jaxtherm.status.keeps_values``) or where the point was not computed when
    the file was opened (``NOT_DONE``). ``ngrid``: the leading dimensions that are the grid's."""

    def __init__(self, source: Source, name: str, shape: tuple[int, ...], dtype, rule: str, ngrid: int):
        self.source, self.name, self.shape, self.dtype = source, name, tuple(shape), np.dtype(dtype)
        self.rule, self.ngrid = rule, ngrid

    def __getitem__(self, key: indexing.ExplicitIndexer):
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.OUTER_1VECTOR, self._read)

    def _read(self, key: tuple) -> np.ndarray:
        if self.rule == PLAIN:
            return self.source.read([(self.name, key)])[0]
        grid = key[: self.ngrid]
        if self.source.snapshot is None:  # status first: every point it marks done is written
            status, values = self.source.read([("status", grid), (self.name, key)])
        else:
            (values,) = self.source.read([(self.name, key)])
            status = outer(self.source.snapshot, grid)
        return _nan_where(values, ~keeps_values(status) if self.rule == FAILED else status == NOT_COMPUTED)


def _nan_where(values: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """``values`` with NaN where ``bad`` (a status region: the trailing dimensions of ρ broadcast)."""
    if not bad.any():
        return values
    values = np.array(values)
    bad = bad.reshape(bad.shape + (1,) * (values.ndim - bad.ndim))
    values[np.broadcast_to(bad, values.shape)] = np.nan
    return values


def _rule(name: str, dims: list[str], dtype: np.dtype, grid: list[str], complete: bool, mask: bool) -> str:
    """What a variable reads as NaN: every float output on the grid where ``status != 0`` (with
    ``mask``); ``residual`` where the point was not computed when an unfinished file was opened
    (it is written before the status)."""
    if name == "status" or dims[: len(grid)] != grid or dtype.kind != "f":
        return PLAIN
    if name == "residual":
        return PLAIN if complete else NOT_DONE
    return FAILED if mask else PLAIN


def dataset(path: Path, kw: dict, mask: bool, drop: set[str]) -> xr.Dataset:
    """The lazy Dataset of a results file (``jaxtherm.io.read.open``); ``kw``: ``integrity.open_kwargs``."""
    d = h5read.describe(path, kw)
    status = d["variables"].get("status") or d["scalars"].get("status")
    raise_if(status is None or "spec" not in d["attrs"],
             NotResults(f"{path} is not a jaxtherm results file (no status variable or spec attribute)"))
    complete = bool(d["attrs"].get("complete", 0))
    grid = list(status.get("dims", []))
    snapshot = None
    if not complete:  # status before any value: every point it marks done has its outputs
        snapshot = h5read.read_regions(path, bool(kw), d["identity"], [("status", ())])[0]
    source = Source(path, bool(kw), d["identity"], snapshot)
    coords = {n: xr.Variable((n,), c["values"], c["attrs"]) for n, c in d["coords"].items() if n not in drop}
    variables = {}
    for name in sorted({**d["scalars"], **d["variables"]}.keys() - drop):  # HDF5's order of names
        if name in d["scalars"]:
            variables[name] = _scalar(source, name, d["scalars"][name], grid, complete, mask)
        else:
            variables[name] = _variable(source, name, d["variables"][name], grid, complete, mask)
    done = int(status_size(status) if complete else np.count_nonzero(snapshot != NOT_COMPUTED))
    ds = xr.Dataset(variables, coords=coords, attrs=d["attrs"])
    ds.attrs.update(points_done=done, points_total=status_size(status))
    return ds


def status_size(status: dict) -> int:
    return int(np.prod(status.get("shape", ()), dtype=np.int64))


def _scalar(source: Source, name: str, s: dict, grid: list[str], complete: bool, mask: bool) -> xr.Variable:
    """A 0-d dataset, read at once: a fixed parameter, or an output of a sweep of one point."""
    value = np.asarray(s["value"], dtype=s.get("dtype"))
    rule = _rule(name, [], value.dtype, grid, complete, mask)
    if rule != PLAIN and not grid:
        status = source.snapshot if source.snapshot is not None else source.read([("status", ())])[0]
        value = _nan_where(value, ~keeps_values(status) if rule == FAILED else status == NOT_COMPUTED)
    if name == "status" and source.snapshot is not None:
        value = source.snapshot
    return xr.Variable((), value, s["attrs"])


def _variable(source: Source, name: str, v: dict, grid: list[str], complete: bool, mask: bool) -> xr.Variable:
    dims, dtype = list(v["dims"]), np.dtype(v["dtype"])
    encoding = {"dtype": dtype, "source": str(source.path)}
    if v["chunks"]:
        encoding.update(chunksizes=tuple(v["chunks"]), preferred_chunks=dict(zip(dims, v["chunks"])))
    if name == "status" and source.snapshot is not None:
        return xr.Variable(dims, source.snapshot, v["attrs"], encoding)
    array = LazyArray(source, name, v["shape"], dtype, _rule(name, dims, dtype, grid, complete, mask), len(grid))
    return xr.Variable(dims, indexing.LazilyIndexedArray(array), v["attrs"], encoding)


class Backend(BackendEntrypoint):
    """``xarray.open_dataset(path, engine=Backend, mask=True)``: what ``jaxtherm.open`` calls, so
    that xarray's ``chunks`` (Dask arrays, aligned with the file's storage chunks through
    ``preferred_chunks``) and ``cache`` work as for its own backends."""

    description = "jaxtherm results files, read region by region (jaxtherm.open)"
    open_dataset_parameters = ("filename_or_obj", "drop_variables", "mask")

    def open_dataset(self, filename_or_obj, *, drop_variables=None, mask: bool = True):
        path = Path(filename_or_obj)
        drop = {drop_variables} if isinstance(drop_variables, str) else set(drop_variables or ())
        return dataset(path, integrity.open_kwargs(path), mask, drop)

    def guess_can_open(self, filename_or_obj) -> bool:
        return False
