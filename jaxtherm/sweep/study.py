"""A sweep resolved against its models: the spec's names, values and options checked by the
models' own metadata (``docs/design.md`` §2.6: the engine knows no model by name).

``resolve`` builds every model of the spec (one per combination of the categorical
``[model]`` options, C order), checks that they agree on what a results file holds (parameters,
observables and, with ``save_rho``, the Hilbert-space dimension), that ``[parameters]`` and
``[axes]`` give every parameter exactly once (directly or by an alias such as ``T_x``), that
fixed values lie in their domains, and that the gradients and the solver exist. Every problem
is a ``jaxtherm.sweep.spec.SpecError`` naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import math

from jaxtherm import models as registry
from jaxtherm import solvers
from jaxtherm._checks import raise_if
from jaxtherm.kernel.batch import gradient_name, scalar_observables
from jaxtherm.models import Model
from jaxtherm.models._model import outside
from jaxtherm.solvers import NAMES as SOLVER_NAMES
from jaxtherm.sweep.spec import SpecError, SweepSpec

DOMAIN_TEXT = {">= 0": "a value ≥ 0", "> 0": "a value > 0"}


@dataclasses.dataclass(frozen=True)
class Study:
    """A resolved sweep: the spec, its models and the input names of the kernel.

    Attributes:
        spec: the ``jaxtherm.sweep.spec.SweepSpec``.
        models: one model per combination of the categorical options (C order).
        names: the parameter names as given (aliases where given), in the models' canonical order.
    """

    spec: SweepSpec
    models: tuple[Model, ...]
    names: tuple[str, ...]

    @property
    def model(self) -> Model:
        """The first model: the one whose metadata describes the results file."""
        return self.models[0]


def _build(spec: SweepSpec, options: dict) -> Model:
    try:
        if spec.factory is not None:
            return registry.from_factory(spec.factory, spec.base_dir, **options)
        return registry.get(spec.model, **options)
    except ValueError as err:
        if spec.factory is not None:
            key = "model.factory"
        elif isinstance(err, registry.OptionError):
            key = f"model.{err.option}"
        else:
            key = "model.name" if spec.model not in registry.available() else "model"
        raise SpecError(spec.source, key, str(err)) from None


def _check_same(spec: SweepSpec, models: tuple[Model, ...]) -> None:
    first = models[0]
    for i, m in enumerate(models[1:], 1):
        options = spec.model_options(i)
        option = next((k for k in spec.categorical if options[k] != spec.model_options(0)[k]), "model")
        for what, a, b in (("parameters", first.parameters, m.parameters),
                           ("observables", tuple(first.observables), tuple(m.observables))):
            raise_if(a != b, SpecError(spec.source, f"model.{option}",
                                       f"every value of a list option must give models with the same {what}; "
                                       f"{first.name} has {', '.join(a)} but {m.name} has {', '.join(b)}"))
        raise_if(spec.save_rho and m.dim != first.dim,
                 SpecError(spec.source, "output.save_rho",
                           f"storing ρ needs one Hilbert-space dimension, but option {option!r} gives models of "
                           f"dimension {first.dim} and {m.dim}; drop save_rho or the list"))


def resolve(spec: SweepSpec) -> Study:
    """Build and check the models of ``spec`` (see the module docstring).

    Raises:
        SpecError: naming the file, the key and what was expected.
    """
    models = registry.share_observables(tuple(_build(spec, spec.model_options(i)) for i in range(spec.n_models)))
    _check_same(spec, models)
    model = models[0]
    if spec.optimize is not None:
        _check_problem(spec, model)
        return Study(spec, models, model.check_names([*spec.fixed, *spec.optimize.variables]))
    if spec.fit is not None:  # the data's columns complete the parameters: checked by the fit
        _check_fixed(spec, model)
        return Study(spec, models, (*spec.fixed, *spec.fit.parameters))
    names = _check_grid_names(spec, model)
    _check_domains(spec, model)
    _check_gradients(spec, names)
    _check_outputs(spec, model)
    _check_solver(spec, models)
    if spec.fluctuations:
        _check_counting(spec, models)
    return Study(spec, models, names)


def _check_grid_names(spec: SweepSpec, model: Model) -> tuple[str, ...]:
    """``[parameters]`` and ``[axes]`` give every parameter once; the names in canonical order."""
    accepted = model.accepted_names()
    for section, keys in (("parameters", spec.fixed), ("axes", [a.name for a in spec.axes])):
        unknown = [key for key in keys if key not in accepted]
        if unknown:
            raise SpecError(spec.source, f"{section}.{unknown[0]}",
                            f"unknown parameter of {model.name}; expected one of {', '.join(accepted)}")
    try:
        return model.check_names([*spec.fixed, *(a.name for a in spec.axes)])
    except ValueError as err:
        raise SpecError(spec.source, "parameters", f"{err} ([parameters] or [axes])") from None


def _refused(domain: str, value: float) -> bool:
    """Whether a spec's fixed ``value`` lies outside ``domain``: ``jaxtherm.models._model.outside``,
    and ``-0.0`` for a non-negative domain (``T = -0.0`` would give ``β = −∞``)."""
    return bool(outside(domain, value)) or (domain != "real" and value == 0 and math.copysign(1.0, value) < 0)


def _check_value(spec: SweepSpec, model: Model, key: str, value: float) -> None:
    units, _, domain = model.describe(key)
    if _refused(domain, value):
        raise SpecError(spec.source, f"parameters.{key}",
                        f"expected {DOMAIN_TEXT[domain]} ({units or 'dimensionless'}); got {value!r}")


def _check_domains(spec: SweepSpec, model: Model) -> None:
    """Fixed values in their domains, and the parameters they give through aliases in theirs."""
    for key, value in spec.fixed.items():
        _check_value(spec, model, key, value)
    given = {**spec.fixed}
    derived = {p: v for p, v in _fixed_parameters(model, given).items() if p not in given}
    for p, value in derived.items():
        alias = model.alias_of(p)
        domain = model.parameter_info[p].domain
        if outside(domain, value):
            raise SpecError(spec.source, f"parameters.{alias.name}",
                            f"gives {alias.formula} = {value!r}, but {p} must be {DOMAIN_TEXT[domain]}")


def _check_gradients(spec: SweepSpec, names: tuple[str, ...]) -> None:
    for g in spec.gradients:
        raise_if(g not in names, SpecError(spec.source, "output.gradients",
                                           f"{g!r} is not a parameter of this sweep; expected some of {', '.join(names)}"))


def _check_outputs(spec: SweepSpec, model: Model) -> None:
    """``[output] observables`` are the model's; ``[reduce]`` names stored variables."""
    available = scalar_observables(model, spec.fluctuations)
    chosen = available if spec.observables is None else spec.observables
    for o in spec.observables or ():
        raise_if(o not in available,
                 SpecError(spec.source, "output.observables",
                           f"{o!r} is not an observable of {model.name}; expected some of {', '.join(available)}"))
    if spec.reduce is not None:
        _check_reduced(spec, available, [*chosen, *(gradient_name(o, g) for g in spec.gradients for o in chosen)])


def _check_reduced(spec: SweepSpec, available: dict, stored: list[str]) -> None:
    """``[reduce]`` names stored variables (an observable left out of ``[output] observables``
    is named as such)."""
    for v, op in spec.reduce.operations():
        if v not in stored:
            hint = " (add it to [output] observables)" if v in available else ""
            raise SpecError(spec.source, f"reduce.{op}",
                            f"{v!r} is not a stored variable of this sweep{hint}; expected one of {', '.join(stored)}")


def _check_solver(spec: SweepSpec, models: tuple[Model, ...]) -> None:
    """A known solver name that can take every model (an elimination with static pivots cannot
    take a model with Davies baths, the unrolled one a sector beyond 32 unknowns)."""
    raise_if(spec.solver not in SOLVER_NAMES,
             SpecError(spec.source, "run.solver", f"expected one of {', '.join(SOLVER_NAMES)}; got {spec.solver!r}"))
    for model in models:
        try:
            solvers.get(spec.solver).plan(model)
        except ValueError as err:
            raise SpecError(spec.source, "run.solver", str(err)) from None


def _check_counting(spec: SweepSpec, models: tuple[Model, ...]) -> None:
    for m in models:
        try:
            m.check_counting()
        except ValueError as err:
            raise SpecError(spec.source, "output.fluctuations", str(err)) from None


def _check_problem(spec: SweepSpec, model: Model) -> None:
    """An ``[optimize]`` spec against its model (``jaxtherm.optimize.problem``)."""
    from jaxtherm.design import optimize

    o = spec.optimize
    _check_fixed(spec, model)
    try:
        optimize.problem(model, o.expression, o.variables, spec.fixed, maximize=o.maximize, constraints=o.constraints)
    except optimize.ProblemError as err:
        part = {"objective": "maximize" if o.maximize else "minimize"}.get(err.part, err.part)
        raise SpecError(spec.source, "parameters" if part == "parameters" else f"optimize.{part}", str(err)) from None


def _check_fixed(spec: SweepSpec, model: Model) -> None:
    """``[parameters]`` names and domains, and ``[run] solver``, of an optimise or fit spec."""
    for key, value in spec.fixed.items():
        raise_if(key not in model.accepted_names(),
                 SpecError(spec.source, f"parameters.{key}",
                           f"unknown parameter of {model.name}; expected one of {', '.join(model.accepted_names())}"))
        _check_value(spec, model, key, value)
    _check_solver(spec, (model,))


def _fixed_parameters(model: Model, given: dict) -> dict:
    """The model parameters that the fixed values alone determine (aliases converted)."""
    out = {p: given[p] for p in model.parameters if p in given}
    for a in model.aliases:
        if a.name in given and all(u in out for u in a.uses):
            try:
                out[a.parameter] = float(a.convert({**given, **out}))
            except ZeroDivisionError:
                out[a.parameter] = math.inf
    return out
