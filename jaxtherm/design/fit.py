"""Least-squares fits of model parameters to measured observables, with Gauss–Newton
uncertainties.

Data: ``N`` rows, each with the values of some parameters (the conditions of a measurement,
e.g. ``T_h``) and of some observables (e.g. ``J_c``), optionally their standard errors
``sigma_{obs}``. The fitted parameters ``θ`` are shared by every row; the rest are fixed. With

    r_i(θ) = (O(θ, conditions_i) − O_i) / σ_i        (σ_i = 1 where none is given)

the fit minimises ``Σ r_i²`` by Levenberg–Marquardt (optimistix), the model's observables and
their Jacobian ``J = ∂r/∂θ`` computed by the batched kernel with exact forward-mode derivatives.
Uncertainties are the Gauss–Newton ones, ``cov = s² (JᵀJ)⁻¹``, with ``s² = Σ r²/(N − p)`` (the
residual variance) when no ``sigma`` is given and ``s² = 1`` when it is (errors taken as
absolute). The fit works in the parameters scaled by their starting values' magnitudes so that
the solver's tolerances mean the same for a rate of 1e-3 as for an energy of 2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxtherm import solvers
from jaxtherm._checks import optional, raise_if
from jaxtherm.kernel import batch
from jaxtherm.models import Model


class FitError(ValueError):
    """Data or parameters that do not fit the model; ``part`` is ``"parameters"``, ``"data"``
    or ``"observables"``."""

    def __init__(self, part: str, message: str):
        self.part = part
        super().__init__(message)


@dataclasses.dataclass(frozen=True)
class FitResult:
    """Best-fit ``values`` (name → float), ``errors`` (1σ), ``covariance`` ``(p, p)``,
    ``residuals`` ``(N, m)`` (model − data, unscaled), ``chi2`` = Σ r², ``dof`` = N·m − p,
    ``converged`` and the solver's ``steps``."""

    names: tuple[str, ...]
    values: Mapping[str, float]
    errors: Mapping[str, float]
    covariance: np.ndarray
    residuals: np.ndarray
    observables: tuple[str, ...]
    chi2: float
    dof: int
    converged: bool
    steps: int

    def summary(self) -> dict:
        return {"parameters": {n: {"value": self.values[n], "error": self.errors[n]} for n in self.names},
                "chi2": self.chi2, "dof": self.dof, "reduced_chi2": self.chi2 / max(self.dof, 1),
                "converged": self.converged, "steps": self.steps}


def check_data(model: Model, fitted: Sequence[str], fixed: Mapping[str, float],
               columns: Sequence[str] | Mapping[str, np.ndarray], observables: Sequence[str]) -> tuple[list[str], list[str]]:
    """Which data columns are conditions (parameters) and which are fitted observables; every
    model parameter must come from exactly one of ``fixed``, ``fitted`` or the conditions. Given
    the data themselves (a mapping of columns) rather than their names, the fitted observables'
    ``sigma_`` uncertainties are checked too (``_check_uncertainties``).

    Returns:
        ``(conditions, observables)``.

    Raises:
        FitError: naming the column, observable or parameter that does not fit.
    """
    for o in observables:
        _check_observable(model, o, list(columns))
    if isinstance(columns, Mapping):
        _check_uncertainties(columns, observables)
    columns = list(columns)
    conditions = [c for c in columns if _is_condition(model, c, fitted, fixed, observables)]
    accepted = set(model.accepted_names())
    for name in fitted:
        raise_if(name not in accepted, FitError("parameters", f"unknown parameter {name!r} of {model.name}; expected one of "
                                                f"{', '.join(model.accepted_names())}"))
    try:
        model.check_names([*fixed, *fitted, *conditions])
    except ValueError as err:
        raise FitError("data", f"{err} (from [parameters], [fit] parameters or the data's columns)") from None
    return conditions, list(observables)


def _check_uncertainties(data: Mapping[str, np.ndarray], observables: Sequence[str]) -> None:
    """Every given ``sigma_{obs}`` of a fitted observable is finite and ``> 0``: the residuals are
    divided by it (``(model − data)/σ``), so a zero makes them infinite — the fit then reads as a
    model that cannot be solved — and a negative one is no uncertainty at all (its sign would
    vanish in χ² and leave a wrong error bar unnoticed).

    Raises:
        FitError: naming the column, its first bad row (counted from 1, the first data row) and
            its value."""
    for o in observables:
        name = f"sigma_{o}"
        if name not in data:
            continue
        values = np.asarray(data[name], float).ravel()
        bad = np.flatnonzero(~(np.isfinite(values) & (values > 0)))
        if bad.size:
            raise FitError("data", f"column {name!r}: expected uncertainties of {o} that are finite and > 0 (the "
                           f"residuals are divided by them); row {bad[0] + 1} has {values[bad[0]]:g} "
                           f"({bad.size} of {values.size} rows are not > 0)")


def _check_observable(model: Model, o: str, columns: Sequence[str]) -> None:
    """Check that the fitted observable ``o`` is one of the model's and a column of the data.

    Raises:
        FitError: where it is not."""
    known = set(model.observables)
    raise_if(o not in known,
             FitError("observables", f"unknown observable {o!r} of {model.name}; expected some of {', '.join(known)}"))
    if o not in columns:
        raise FitError("data", f"no column {o!r} in the data (columns: {', '.join(columns)})")


def _is_condition(model: Model, c: str, fitted: Sequence[str], fixed: Mapping[str, float],
                  observables: Sequence[str]) -> bool:
    """Whether column ``c`` is a condition (a parameter given per row), not an observable,
    measured (fitted or not) or its ``sigma_`` uncertainty.

    Raises:
        FitError: for a column that is neither a parameter nor an observable, or a parameter that
            is also fitted or fixed."""
    if c in observables or (c.startswith("sigma_") and c[len("sigma_"):] in observables):
        return False
    known = set(model.observables)
    if c in known:
        return False  # a measured observable that is not fitted
    raise_if(c not in set(model.accepted_names()),
             FitError("data", f"column {c!r} is neither a parameter nor an observable of {model.name}; parameters: "
                      f"{', '.join(model.accepted_names())}; observables: {', '.join(known)}"))
    raise_if(c in fitted, FitError("data", f"column {c!r} is a fitted parameter; a fitted parameter is shared by all rows"))
    raise_if(c in fixed, FitError("data", f"column {c!r} is also fixed in [parameters]; give it in one place"))
    return True


def _start(model: Model, name: str, given: Sequence[float]) -> float:
    """A fitted parameter's start: the given one, else the middle of ``[lo, hi]``.

    Raises:
        FitError: unless ``given`` is ``[start]``, ``[lo, hi]`` or ``[lo, hi, start]`` with ``lo < hi``,
            every number inside the parameter's domain (as ``optimize`` requires of its bounds)."""
    b = [float(v) for v in given]
    raise_if(len(b) not in (1, 2, 3) or (len(b) >= 2 and not b[0] < b[1]),
             FitError("parameters", f"{name}: expected [start], [lo, hi] or [lo, hi, start] with lo < hi; got {b}"))
    domain = model.describe(name)[2]
    raise_if((domain == "> 0" and min(b) <= 0) or (domain == ">= 0" and min(b) < 0),
             FitError("parameters", f"{name}: {b} leaves the parameter's domain ({name} {domain})"))
    return b[-1] if len(b) in (1, 3) else (b[0] + b[1]) / 2


def _columns(data: Mapping[str, np.ndarray], names: Sequence[str]) -> jax.Array:
    """The columns ``names`` of ``data`` stacked as ``(N, len(names))`` floats."""
    return jnp.asarray(np.stack([np.asarray(data[o], float) for o in names], axis=1))


def _fitter(model: Model, parameters, data, observables, fixed, solver, max_steps):
    """The fit as jitted functions: ``solve(w, y)`` (row weights ``(N,)``, data ``(N, m)``) →
    ``(θ, scaled residuals, ∂r/∂θ, converged, steps)``, and ``predict(θ)`` → ``(N, m)``."""
    optx = optional("optimistix", "jaxtherm.fit", "optimize")
    names = tuple(parameters)
    conditions, obs = check_data(model, names, fixed, data, observables)
    y = _columns(data, obs)
    has_sigma = all(f"sigma_{o}" in data for o in obs)
    sigma = _columns(data, [f"sigma_{o}" for o in obs]) if has_sigma else jnp.ones_like(y)
    cond = {c: jnp.asarray(np.asarray(data[c], float)) for c in conditions}
    start = [_start(model, name, parameters[name]) for name in names]
    scale = jnp.asarray([abs(s) if s != 0 else 1.0 for s in start])
    fixed_j = {k: jnp.asarray(v, float) for k, v in fixed.items()}
    single = batch.pointwise(model, solver, np.float64)

    def predict(theta):
        def row(c):
            out = single({**fixed_j, **dict(zip(names, theta)), **c})
            return jnp.stack([out[o] for o in obs])

        return jax.vmap(row, axis_size=y.shape[0])(cond)  # a table of repeats has no condition columns

    def residuals(z, data):
        w, yy = data
        return (jnp.sqrt(w)[:, None] * (predict(z * scale) - yy) / sigma).ravel()

    lm = optx.LevenbergMarquardt(rtol=1e-10, atol=1e-12)

    def solve(w, yy):
        sol = optx.least_squares(residuals, lm, jnp.asarray(start) / scale, args=(w, yy), max_steps=max_steps,
                                 throw=False)
        z = sol.value
        jac = jax.jacfwd(residuals)(z, (w, yy)) / scale  # ∂r/∂θ
        return z * scale, residuals(z, (w, yy)), jac, sol.result == optx.RESULTS.successful, sol.stats["num_steps"]

    return names, tuple(obs), has_sigma, y, jax.jit(solve), jax.jit(predict)


def fit(model: Model, parameters: Mapping[str, Sequence[float]], data: Mapping[str, np.ndarray], *,
        observables: Sequence[str], fixed: Mapping[str, float] | None = None, solver: str | solvers.Solver = "auto",
        max_steps: int = 200) -> FitResult:
    """Fit ``parameters`` (name → ``[start]``, ``[lo, hi]`` or ``[lo, hi, start]``; the start
    defaults to the middle of the bounds, which only choose it) to ``data`` (column → ``(N,)``).

    Args:
        model: the model.
        parameters: the fitted parameters and their starts.
        data: conditions (parameter columns), the fitted ``observables``, optional ``sigma_{obs}``.
        observables: the observables to fit.
        fixed: the other parameters.
        solver: steady-state solver.
        max_steps: Levenberg–Marquardt steps.

    Raises:
        FitError: data that do not match the model's parameters or observables.
    """
    fixed = dict(fixed or {})
    names, obs, has_sigma, y, solve, predict = _fitter(model, parameters, data, observables, fixed, solver, max_steps)
    n = y.shape[0]
    theta, r, jac, ok, steps = solve(jnp.ones(n), y)
    theta, r, jac = np.asarray(theta), np.asarray(r), np.asarray(jac)
    chi2 = float(r @ r)
    raise_if(not np.isfinite(chi2),
             FitError("data", f"the model could not be solved at {int(np.count_nonzero(~np.isfinite(r)))} of "
                      f"{r.size} data values at the fitted parameters (χ² is not finite); expected conditions and "
                      "parameter ranges where every row has a steady state"))
    dof = r.size - len(names)
    # without sigma_ columns the scale of the errors comes from the residuals: none without dof
    s2 = 1.0 if has_sigma else (chi2 / dof if dof > 0 else np.nan)
    cov = s2 * np.linalg.pinv(jac.T @ jac)
    resid = np.asarray(predict(jnp.asarray(theta))) - np.asarray(y)
    return FitResult(names, {k: float(v) for k, v in zip(names, theta)},
                     {k: float(np.sqrt(cov[i, i])) for i, k in enumerate(names)}, cov, resid, obs, chi2, dof,
                     bool(ok), int(steps))


def bootstrap(model: Model, parameters: Mapping[str, Sequence[float]], data: Mapping[str, np.ndarray], *,
              observables: Sequence[str], fixed: Mapping[str, float] | None = None, samples: int = 200, seed: int = 0,
              kind: str = "residuals", solver: str | solvers.Solver = "auto", max_steps: int = 200) -> np.ndarray:
    """Refit ``samples`` bootstrap data sets in one vmapped computation (every refit has the same
    shape, so the fit compiles once).

    ``kind="residuals"`` (the default, for a fixed design such as a grid of conditions): the
    best fit plus its residuals resampled by row with replacement. ``kind="rows"``: the rows
    resampled with replacement (as multinomial row weights).

    Returns:
        ``(samples', p)`` fitted parameters of the refits that converged; their standard
        deviations estimate the fit's uncertainties.
    """
    raise_if(kind not in ("residuals", "rows"), ValueError(f"kind: expected 'residuals' or 'rows'; got {kind!r}"))
    fixed = dict(fixed or {})
    names, obs, has_sigma, y, solve, predict = _fitter(model, parameters, data, observables, fixed, solver, max_steps)
    n = y.shape[0]
    rng = np.random.default_rng(seed)
    theta, _, _, _, _ = solve(jnp.ones(n), y)
    fitted = np.asarray(predict(theta))
    if kind == "rows":
        w = rng.multinomial(n, np.full(n, 1.0 / n), size=samples).astype(float)
        ys = np.broadcast_to(np.asarray(y), (samples, *y.shape))
    else:
        w = np.ones((samples, n))
        ys = fitted + (np.asarray(y) - fitted)[rng.integers(0, n, size=(samples, n))]
    theta, _, _, ok, _ = jax.jit(jax.vmap(solve))(jnp.asarray(w), jnp.asarray(ys))
    return np.asarray(theta)[np.asarray(ok)]
