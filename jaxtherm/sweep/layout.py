"""What a sweep's results file holds, from the models' own metadata: coordinates with units and
descriptions, one variable per observable and gradient, ``status``, ``residual``, optionally ρ,
the fixed parameters as scalars, and the attributes that make the file explain itself."""

from __future__ import annotations

import datetime
import json

import jax
import numpy as np

from jaxtherm._version import __version__
from jaxtherm.io.hdf5 import Layout, Variable, h5py_version
from jaxtherm.kernel.batch import gradient_name, scalar_observables
from jaxtherm.solvers import STATUS_MEANINGS
from jaxtherm.sweep.study import Study

UNITS_NOTE = "hbar = k_B = 1; J and power in energy/time, sigma in 1/time"
SIGN_CONVENTION = "J_j > 0: heat flows from bath j into the system; sum_j J_j + power = 0; sigma = -sum_j beta_j J_j"


def _parameter_info(study: Study, name: str) -> tuple[str, str]:
    units, description, domain = study.model.describe(name)
    return units, description + ("" if domain == "real" else f" (domain {domain})")


def now() -> str:
    """The time in UTC, ISO 8601 to the second (``start_time``, ``end_time``)."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def provenance(spec, kind: str, devices: str, precision: str) -> dict[str, object]:
    """Root attributes every results file carries: title, the spec text and file, versions,
    device, precision and solver (``kind``: "sweep", "optimisation" or "fit")."""
    return {
        "title": f"jaxtherm {kind} {spec.source}",
        "spec": spec.text,
        "spec_source": spec.source,
        "jaxtherm_version": __version__,
        "jax_version": jax.__version__,
        "h5py_version": h5py_version(),
        "numpy_version": np.__version__,
        "device": devices,
        "precision": precision,
        "solver": spec.solver,
    }


def model_attrs(study: Study) -> dict[str, object]:
    """Root attributes describing the model(s) of a sweep."""
    spec, model = study.spec, study.model
    return {
        "model": spec.model or spec.factory,
        "model_names": json.dumps([m.name for m in study.models]),
        "model_options": json.dumps({k: list(v) if k in spec.categorical else v[0] for k, v in spec.options.items()}),
        "model_description": model.description,
        "parameter_mapping": "; ".join(a.formula for a in model.aliases),
        "basis": json.dumps(list(model.basis), ensure_ascii=False),
        "units": UNITS_NOTE,
        "sign_convention": SIGN_CONVENTION,
    }


RESIDUAL = ("1", "relative residual ‖L ρ‖∞ / (‖L‖∞ ‖ρ‖∞) of the steady state")


def stored_variables(study: Study) -> dict[str, tuple[str, str]]:
    """The per-point variables a sweep stores, ``{name: (units, description)}``: the observables
    (``[output] observables``, default all), their derivatives (``[output] gradients``), then
    ``residual``."""
    spec = study.spec
    observables = scalar_observables(study.model, spec.fluctuations)
    if spec.observables is not None:
        observables = {n: observables[n] for n in spec.observables}
    out = dict(observables)
    for g in spec.gradients:
        gu = _parameter_info(study, g)[0]
        for n, (u, _) in observables.items():
            out[gradient_name(n, g)] = (f"({u})/({gu})", f"derivative of {n} with respect to {g} (autodiff)")
    out["residual"] = RESIDUAL
    return out


def layout_for(study: Study, n_chunks: int, attrs: dict) -> Layout:
    """The HDF5 layout of a sweep (see ``jaxtherm.io.hdf5``)."""
    spec, model = study.spec, study.model
    coords = _coordinates(study)
    variables = [Variable(n, spec.dtype, u, d) for n, (u, d) in stored_variables(study).items() if n != "residual"]
    dt = spec.dtype
    meanings = "; ".join(f"{k} = {v}" for k, v in STATUS_MEANINGS.items() if k)
    variables.append(Variable("status", "int8", "", f"0 = ok; {meanings}; -1 = not computed"))
    variables.append(Variable("residual", dt, *RESIDUAL))
    if spec.save_rho:
        labels = np.asarray(model.basis)
        for dim in ("row", "col"):
            coords[dim] = (labels, "", f"{dim} of ρ: basis state ({model.name})")
        extra = (("row", model.dim), ("col", model.dim))
        variables.append(Variable("rho_re", dt, "1", "real part of the steady state ρ (rows, columns: basis states)", extra))
        variables.append(Variable("rho_im", dt, "1", "imaginary part of the steady state ρ", extra))
    scalars = {k: (v, *_parameter_info(study, k)) for k, v in spec.fixed.items()}
    return Layout(spec.dims, coords, tuple(variables), scalars, {**model_attrs(study), **attrs}, n_chunks, spec.compression)


def _coordinates(study: Study) -> dict:
    """``{dim: (values, units, description)}`` of the grid: a categorical model option's values
    (numbers, else their text), then every axis's, with the parameter's units."""
    spec, coords = study.spec, {}
    for option in spec.categorical:
        values = spec.options[option]
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        arr = np.asarray(values) if numbers else np.asarray([str(v) for v in values])
        coords[option] = (arr, "", f"model option {option!r} ({', '.join(m.name for m in study.models)})")
    for a in spec.axes:
        units, description = _parameter_info(study, a.name)
        coords[a.name] = (a.values, units, f"{description}; axis {a.rule}")
    return coords
