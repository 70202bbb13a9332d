"""Sweeps: TOML specs (:mod:`.spec`, no JAX), their models (:mod:`.study`), the grid and its
chunks (:mod:`.grid`), start/resume/refuse (:mod:`.plan`), devices and chunk sizes
(:mod:`.devices`), the chunk loop (:mod:`.executor`), the results file's layout (:mod:`.layout`)
and :func:`run_sweep` (:mod:`.run`)."""

from .plan import RunRefused
from .run import RunSummary, run_sweep
from .spec import SpecError, SweepSpec, load_spec, parse_spec
from .study import Study, resolve

__all__ = ["RunRefused", "RunSummary", "SpecError", "Study", "SweepSpec", "load_spec", "parse_spec", "resolve", "run_sweep"]
