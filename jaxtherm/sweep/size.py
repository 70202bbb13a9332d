"""How much a sweep will write, against the free space where it writes: checked before anything
is computed or created, and printed by ``jaxtherm run --dry-run``.

A sweep's results file holds, per stored point (per group of a ``[reduce]`` sweep), every
variable of its layout; its journal holds only the chunks finished since the file's last commit
(about a second's worth; ``docs/design.md`` §5.3). So a run needs the file's size free where it
writes, with ``JOURNAL_MARGIN`` to spare. The estimate ignores compression (an upper bound where
``compression`` is on) and HDF5's metadata (a few kB).
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import numpy as np

from jaxtherm._checks import raise_if
from jaxtherm.sweep.outputs import for_study
from jaxtherm.sweep.resume import RunRefused
from jaxtherm.sweep.study import Study

MAX_FILE_BYTES = 10**13  # 10 TB: beyond any file a sweep should write, whatever the disk has
JOURNAL_MARGIN = 0.05  # of the file: the journal's uncommitted chunks, and a group's parts not yet combined


@dataclasses.dataclass(frozen=True)
class Estimate:
    """What a sweep writes: ``stored`` points (groups of a reduced sweep) of ``variables``
    variables, ``file_bytes`` in its results file and ``need_bytes`` free while it runs, against
    ``free_bytes`` free in ``where``."""

    points: int
    stored: int
    variables: int
    file_bytes: int
    need_bytes: int
    free_bytes: int | None
    where: Path


def free_space(path: Path) -> tuple[int | None, Path]:
    """Bytes free to this user where ``path`` will be written (its nearest existing directory),
    and that directory; ``None`` where the file system cannot say (also a pseudo file system of
    size 0, such as ``/proc``: writing there fails, and says so, at the output's own checks)."""
    d = Path(path).absolute().parent
    while not d.exists() and d != d.parent:
        d = d.parent
    try:
        usage = shutil.disk_usage(d)
    except OSError:
        return None, d
    return (usage.free if usage.total > 0 else None), d


def estimate(study: Study, out: Path) -> Estimate:
    """The size of ``study``'s results file at ``out`` and the space its run needs."""
    spec = study.spec
    layout = for_study(study).layout(1, {})
    stored = math.prod(layout.shape)
    per_point = sum(np.dtype(v.dtype).itemsize * math.prod(n for _, n in v.extra_dims) for v in layout.variables)
    file_bytes = stored * per_point
    free, where = free_space(out)
    need = file_bytes + int(JOURNAL_MARGIN * file_bytes)
    return Estimate(spec.n_points, stored, len(layout.variables), file_bytes, need, free, where)


def human(n: float) -> str:
    """Bytes as ``12.3 GB`` (powers of 1000, as disks are sold and ``df -H`` shows)."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"


def check(study: Study, out: Path) -> Estimate:
    """Refuse, before anything is created, a sweep whose output cannot fit the free space or is
    beyond any sane size (``MAX_FILE_BYTES``).

    Raises:
        RunRefused: naming the size, the free space and the ways out.
    """
    e = estimate(study, out)
    spec = study.spec
    ways = ("[reduce] over some axes (the file keeps the extremes, where they are, and means), "
            "[output] observables = [...] (fewer variables), [output] dtype = \"float32\" (half the bytes)"
            + (", save_rho = false (ρ is most of it)" if spec.save_rho else "") + ", or a smaller grid")
    what = (f"{e.stored:,} {'groups' if spec.reduce else 'points'} × {e.variables} variables: "
            f"a results file of {human(e.file_bytes)}")
    raise_if(e.file_bytes > MAX_FILE_BYTES,
             RunRefused(f"{spec.source}: {what}, beyond any sane size (at most {human(MAX_FILE_BYTES)}); "
                        f"nothing was started. Ways out: {ways}."))
    if e.free_bytes is not None and e.need_bytes > e.free_bytes:
        raise RunRefused(f"{spec.source}: {what} (about {human(e.need_bytes)} free needed while it runs), but "
                         f"{e.where} has {human(e.free_bytes)} free; nothing was started. Ways out: {ways}; or -o to a "
                         "disk with room.")
    return e
