"""Measured data for ``jaxtherm fit``: a table of named columns from a CSV file (a header row of
names, then numbers; ``#`` comments) or an HDF5 file (every 1-D numeric dataset at the root, or
in a group given as ``file.h5:group``), all columns of one length."""

from __future__ import annotations

import warnings
from pathlib import Path

import h5py
import numpy as np

from jaxtherm._checks import raise_if


class TableError(ValueError):
    """A data file that cannot be read as a table (the message says why)."""


def _csv_header(path: Path) -> list[str]:
    """The header row as NumPy's ``genfromtxt(names=True)`` reads it: the first line that is not
    blank, a leading ``#`` dropped, split into names."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            for line in fh:
                line = line.strip().lstrip("#").split("#", 1)[0].strip()
                if line:
                    return [h.strip() for h in line.split(",")]
    except OSError as err:
        raise TableError(f"{path}: cannot be read ({err.strerror})") from None
    return []


def read_table(path: str | Path) -> dict[str, np.ndarray]:
    """Columns of a CSV or HDF5 table, name → ``(N,)`` float array.

    Raises:
        TableError: missing file, unreadable or ragged table, non-numeric values.
    """
    path, group = _located(path)
    cols = _hdf5_columns(path, group) if path.suffix.lower() in (".h5", ".hdf5", ".nc") else _csv_columns(path)
    _check_columns(path, cols)
    return cols


def _located(path: str | Path) -> tuple[Path, str | None]:
    """The file and, for ``FILE.h5:GROUP``, the group; the file must be a regular file.

    Raises:
        TableError: for a missing file, a directory, a FIFO or a device."""
    text = str(path)
    group = None
    if ":" in Path(text).name and not Path(text).exists():
        text, group = text.rsplit(":", 1)
    path = Path(text)
    if path.exists() and not path.is_file():
        kind = "a directory" if path.is_dir() else "a FIFO or device, not a regular file"
        raise TableError(f"{path}: expected a data file (CSV with a header row, or HDF5); it is {kind}")
    raise_if(not path.is_file(), TableError(f"{path}: no such file"))
    return path, group


def _hdf5_columns(path: Path, group: str | None) -> dict[str, np.ndarray]:
    """The 1-D numeric datasets of an HDF5 file (or of one of its groups)."""
    try:
        with h5py.File(path, "r") as h5:
            root = h5[group] if group else h5
            return {k: np.asarray(v[()], float) for k, v in root.items()
                    if isinstance(v, h5py.Dataset) and v.ndim == 1 and v.dtype.kind in "fiu"}
    except (OSError, KeyError) as err:
        raise TableError(f"{path}: cannot read it as an HDF5 table ({err})") from None


def _csv_columns(path: Path) -> dict[str, np.ndarray]:
    """The columns of a CSV table with a header row of distinct names."""
    header = _csv_header(path)
    raise_if(not header, TableError(f"{path}: expected a CSV table with a header row of column names; the file has none"))
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise TableError(f"{path}: column {repeated[0]!r} appears {header.count(repeated[0])} times in the header "
                         "row; expected each column name once")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Empty input file": answered by _check_columns
            data = np.genfromtxt(path, delimiter=",", names=True, dtype=float, comments="#", ndmin=1)
    except (ValueError, IndexError) as err:
        raise TableError(f"{path}: not a CSV table of numbers with a header row ({err})") from None
    raise_if(data.dtype.names is None, TableError(f"{path}: expected a header row of column names"))
    return {k: np.asarray(data[k], float) for k in data.dtype.names}


def _check_columns(path: Path, cols: dict[str, np.ndarray]) -> None:
    """At least one column, rows of one length, every value a finite number."""
    raise_if(not cols, TableError(f"{path}: no numeric columns"))
    lengths = {len(v) for v in cols.values()}
    raise_if(lengths == {0}, TableError(f"{path}: expected rows of data after the header row; there are none"))
    raise_if(len(lengths) != 1, TableError(f"{path}: columns of different lengths {sorted(lengths)}"))
    bad = [k for k, v in cols.items() if not np.all(np.isfinite(v))]
    if bad:
        raise TableError(f"{path}: column {bad[0]!r} has missing or non-numeric values")
