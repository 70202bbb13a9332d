"""Reading results files with h5py: ``jaxtherm.open``'s lazy arrays (``jaxtherm.io.lazy``) and
``jaxtherm info`` (``jaxtherm.io.read``) read through these functions.

A reader holds no open file between reads. Each read opens the file, reads one region of a few
datasets and closes it (``read_regions``, ``count_int8``), so a Dataset left open never blocks
the sweep that writes the file (HDF5 locks a file for as long as a reader holds it open, and
refuses a second open of it in the same process with other flags). A read checks that the file
at the path is still the one first opened (``describe``'s ``identity``; ``Replaced`` if not).
``describe`` reads every object's metadata in one opening; ``committed_chunks``
reads the record of finished chunks. Files are opened in any state with
``jaxtherm.io.integrity.open_kwargs``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np

from jaxtherm._checks import raise_if
from jaxtherm.io.integrity import LOCK_WAIT, damaged, open_kwargs


class Replaced(OSError):
    """The file at a path is no longer the one a reader opened (``--force`` renamed a new file over it)."""


_HDF5_BOOKKEEPING = ("CLASS", "NAME", "DIMENSION_LIST", "REFERENCE_LIST", "_Netcdf4Dimid", "_Netcdf4Coordinates")


def plain_attrs(obj) -> dict[str, object]:
    """An object's attributes as plain Python values, HDF5's dimension-scale bookkeeping left out."""
    out = {}
    for k, v in obj.attrs.items():
        if k in _HDF5_BOOKKEEPING:
            continue
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, np.generic):
            v = v.item()
        elif isinstance(v, np.ndarray):
            v = v.tolist()
        out[k] = v
    return out


def describe(path: Path, kw: dict) -> dict:
    """What a results file holds, read in one opening (its attributes; every coordinate's
    values, every variable's dims, shape, dtype and storage ``chunks``, every scalar's value,
    each with its attributes) and the file's ``identity`` (device and inode, for
    ``read_regions``).

    Returns:
        ``{"attrs": {…}, "coords": {dim: {"values": array, "attrs": {…}}},
        "variables": {name: {"dims": [...], "shape": (...), "dtype": str, "chunks": (...),
        "attrs": {…}}}, "scalars": {name: {"value": float, "dtype": str, "attrs": {…}}},
        "swmr": bool, "identity": (int, int)}``.

    Raises:
        OSError: HDF5 cannot open the file; ``Unreadable`` for a damaged object.
    """
    out = {"coords": {}, "variables": {}, "scalars": {}, "swmr": bool(kw)}
    where = "the file"
    try:
        with h5py.File(path, "r", **kw) as h5:
            out["identity"] = _identity(h5)
            where = "the file's attributes"
            out["attrs"] = plain_attrs(h5)
            for name in h5:
                where = f"object {name!r}"
                obj = h5[name]
                if isinstance(obj, h5py.Dataset):
                    _describe_dataset(out, name, obj)
    except OSError:
        raise
    except Exception as err:  # noqa: BLE001  (a damaged object: h5py raises KeyError, RuntimeError, …)
        raise damaged(path, err, where) from None
    return out


def _describe_dataset(out: dict, name: str, obj) -> None:
    if obj.is_scale:
        out["coords"][name] = {"values": _scale_values(obj), "attrs": plain_attrs(obj)}
    elif obj.ndim == 0:
        out["scalars"][name] = {"value": obj[()].item(), "dtype": str(obj.dtype), "attrs": plain_attrs(obj)}
    else:
        out["variables"][name] = {"dims": _dim_names(obj), "shape": obj.shape, "dtype": str(obj.dtype),
                                  "attrs": plain_attrs(obj), "chunks": obj.chunks}


def _scale_values(obj) -> np.ndarray:
    """A dimension scale's values, strings decoded (h5py reads variable-length strings as bytes)."""
    values = obj[()]
    if values.dtype.kind in "OS":
        values = np.asarray([v.decode() if isinstance(v, bytes) else str(v) for v in values])
    return values


def _dim_names(obj) -> list[str]:
    """The name of the scale attached to each dimension of ``obj`` (``dim_<i>`` where none is)."""
    return [d[0].name.lstrip("/") if len(d) else f"dim_{i}" for i, d in enumerate(obj.dims)]


def _identity(h5) -> tuple[int, int]:
    """``(device, inode)`` of an open file."""
    st = os.fstat(h5.id.get_vfd_handle())
    return st.st_dev, st.st_ino


@contextlib.contextmanager
def _open_same(path: Path, swmr: bool, identity: tuple[int, int] | None):
    """``path`` open for reading (SWMR where ``swmr``), checked to be the file of ``identity``; waits
    up to ``LOCK_WAIT`` while a writer holds it alone (writing a sweep's final attributes)."""
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            h5 = h5py.File(path, "r", swmr=swmr)
            break
        except FileNotFoundError:
            raise Replaced(f"{path}: the file was removed after it was opened") from None
        except OSError as err:
            if "lock" not in str(err) or time.monotonic() > deadline:
                raise
        time.sleep(0.05)
    with h5:
        raise_if(identity is not None and _identity(h5) != tuple(identity),
                 Replaced(f"{path}: another file has replaced the one opened (e.g. by jaxtherm run --force); "
                          "open it again"))
        yield h5


def read_regions(path: Path, swmr: bool, identity: tuple[int, int] | None, requests: Sequence[tuple[str, tuple]]) -> list:
    """``dataset[key]`` for each ``(name, key)`` of ``requests``, in that order, from one opening of
    the file (a key of slices, integers and at most one increasing integer array, as h5py takes
    it). A file being written shows the points finished by then: request ``status`` first, and
    every point it marks done has its outputs in what follows (the writer writes them before the
    status).

    Raises:
        Replaced: the file at ``path`` is not the one of ``identity``.
        KeyError: no dataset of that name.
    """
    with _open_same(path, swmr, identity) as h5:
        return [np.asarray(h5[name][key]) for name, key in requests]


def count_int8(path: Path, swmr: bool, name: str) -> np.ndarray:
    """How often each value occurs in the int8 dataset ``name`` (``status``), counted a storage
    chunk at a time in slices of 2¹⁸ values: memory stays a few MiB, whatever the file's size.

    Returns:
        ``counts[v + 128]`` for each value ``v`` from −128 to 127.
    """
    counts = np.zeros(256, np.int64)
    step = 1 << 18
    with _open_same(path, swmr, None) as h5:
        ds = h5[name]
        for box in ds.iter_chunks() if ds.chunks is not None else [()]:
            flat = np.ascontiguousarray(ds[box], dtype=np.int8).reshape(-1).view(np.uint8) ^ 0x80  # v + 128
            for k in range(0, flat.size, step):
                counts += np.bincount(flat[k: k + step], minlength=256)
    return counts


def committed_chunks(path: Path) -> set[int]:
    """The chunks a results file has committed (``chunk_done``), read as SWMR readers do (also
    while it is written, or after its writer was killed); empty where it cannot be read."""
    try:
        with h5py.File(path, "r", **open_kwargs(Path(path), truncation_wait=0.0)) as h5:
            return {int(i) for i in np.flatnonzero(h5["_jaxtherm/chunk_done"][()])}
    except (OSError, KeyError, RuntimeError, ValueError):
        return set()
