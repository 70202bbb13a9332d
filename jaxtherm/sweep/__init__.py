"""Sweeps: TOML specs (``.spec``, no JAX), their models (``.study``), the grid and its
chunks (``.grid``), start/resume/refuse (``.resume``), devices and chunk sizes
(``.devices``), the chunk loop (``.executor``), the results file's layout (``.layout``)
and ``run_sweep`` (``.run``)."""

from jaxtherm.sweep.resume import RunRefused
from jaxtherm.sweep.run import RunSummary, run_sweep
from jaxtherm.sweep.spec import SpecError, SweepSpec, load_spec, parse_spec
from jaxtherm.sweep.study import Study, resolve

__all__ = ["RunRefused", "RunSummary", "SpecError", "Study", "SweepSpec", "load_spec", "parse_spec", "resolve", "run_sweep"]
