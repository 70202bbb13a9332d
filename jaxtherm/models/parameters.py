"""A model's parameters: their metadata (``Parameter``), the other names they may be given
by (``Alias``), their domains, and ``ParameterSpace``, which checks the names a user
gives and converts aliases. Knows no operators and no physics beyond ``β = 1/T``."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

import numpy as np

from jaxtherm._checks import raise_if

DOMAINS = ("real", ">= 0", "> 0")
"""Parameter domains: any real number, non-negative (rates, inverse temperatures), positive."""


def outside(domain: str, value):
    """``True`` where ``value`` lies outside ``domain`` (NumPy or JAX arrays; NaN is not outside:
    it is reported as non-finite instead)."""
    if domain == ">= 0":
        return value < 0
    if domain == "> 0":
        return value <= 0
    return value < -math.inf  # "real": never outside (elementwise False)


@dataclasses.dataclass(frozen=True)
class Parameter:
    """A model parameter and what a results file says about it.

    Attributes:
        name: the parameter's name (``"gamma_a"``).
        units: e.g. ``"energy"`` (ħ = k_B = 1).
        description: one line, e.g. ``"thermalizer rate Γ of qubit A"``.
        domain: ``"real"``, ``">= 0"`` (rates, inverse temperatures) or ``"> 0"``. A value outside
            it is refused by a spec and flagged per point (status 4) by the kernel.
    """

    name: str
    units: str = ""
    description: str = ""
    domain: str = "real"

    def __post_init__(self):
        raise_if(self.domain not in DOMAINS,
                 ValueError(f"parameter {self.name!r}: domain must be one of {DOMAINS}, got {self.domain!r}"))


@dataclasses.dataclass(frozen=True)
class Alias:
    """Another name a parameter may be given by, e.g. ``T_a`` for ``beta_a = 1/T_a``.

    Attributes:
        name: the alias (``"T_a"``).
        parameter: the model parameter it sets (``"beta_a"``).
        formula: how, for descriptions (``"beta_a = 1/T_a"``).
        convert: ``values ↦ parameter value``; ``values`` holds the alias and every model
            parameter named in ``uses`` (JAX-traceable).
        uses: model parameters the conversion needs besides the alias (``("omega_a",)`` for
            ``omega_b = omega_a − delta``); they must be given directly, not by an alias.
        units, description, domain: as for ``Parameter``, of the alias itself.
    """

    name: str
    parameter: str
    formula: str
    convert: Callable[[Mapping[str, object]], object] = dataclasses.field(compare=False)
    uses: tuple[str, ...] = ()
    units: str = ""
    description: str = ""
    domain: str = "real"


def temperature_alias(beta: str, units: str = "energy") -> Alias | None:
    """The temperature alias of an inverse-temperature parameter: ``T_x`` for ``beta_x``
    (``T`` for ``beta``), ``beta_x = 1/T_x`` (k_B = 1), in the domain ``> 0``: ``T = 0`` would
    be ``β = ∞``, a non-finite parameter (status 2), so a spec refuses it; a small ``T`` gives
    the zero-temperature currents (σ grows as ``1/T``). ``None`` if ``beta`` is not so named."""
    if not beta.startswith("beta"):
        return None
    name = "T" + beta[len("beta"):]
    return Alias(name, beta, f"{beta} = 1/{name}", lambda v: 1.0 / v[name], (), units,
                 f"temperature ({beta} = 1/{name})", "> 0")


def _parameter_info(parameters: Iterable, units: Mapping[str, str], betas: set[str]) -> dict[str, Parameter]:
    """``{name: Parameter}`` in the given order; a plain name gets its units from ``units`` and
    the domain ``>= 0`` if it is a bath's inverse temperature (in ``betas``)."""
    info = {}
    for p in parameters:
        p = _as_parameter(p, units, betas)
        raise_if(p.name in info, ValueError(f"parameters must be unique, got {p.name!r} twice"))
        info[p.name] = p
    return info


def _as_parameter(p, units: Mapping[str, str], betas: set[str]) -> Parameter:
    """``p`` itself, or for a plain name a ``Parameter`` with its units from ``units`` and the
    domain ``>= 0`` if it is a bath's inverse temperature (in ``betas``).

    Raises:
        TypeError: for anything else."""
    if isinstance(p, str):
        p = Parameter(p, units.get(p, ""), p, ">= 0" if p in betas else "real")
    raise_if(not isinstance(p, Parameter), TypeError(f"parameters must be names or Parameter objects, got {p!r}"))
    return p


def _with_temperatures(aliases: Iterable[Alias], info: Mapping[str, Parameter]) -> dict[str, Alias]:
    """The given aliases plus ``T…`` for every ``beta…`` parameter not already so named; each
    must set and use parameters and not be a parameter's name itself."""
    out = {a.name: a for a in aliases}
    temperatures = (temperature_alias(p) for p in info)
    out.update({t.name: t for t in temperatures if t is not None and t.name not in out and t.name not in info})
    for a in out.values():
        _check_alias(a, info)
    return out


def _check_alias(a: Alias, info: Mapping[str, Parameter]) -> None:
    raise_if(a.parameter not in info or any(u not in info for u in a.uses),
             ValueError(f"alias {a.name!r} must set and use model parameters; got {a.parameter!r}, {a.uses}"))
    raise_if(a.name in info, ValueError(f"alias {a.name!r} is also a parameter name"))


@dataclasses.dataclass(frozen=True, eq=False)
class ParameterSpace:
    """The parameters of a model and the names they may be given by.

    Attributes:
        model: the model's name, for messages.
        info: ``{name: Parameter}`` in canonical order.
        aliases: the ``Alias`` es, ``T…`` for every ``beta…`` parameter included.
    """

    model: str
    info: Mapping[str, Parameter]
    aliases: tuple[Alias, ...]

    @classmethod
    def build(cls, model: str, parameters: Iterable, units: Mapping[str, str], betas: set[str],
              aliases: Iterable[Alias]) -> ParameterSpace:
        """Checked: unique parameters (names get ``units``; ``betas`` the domain ``>= 0``), aliases
        that set and use parameters and do not clash with them.

        Raises:
            TypeError, ValueError: naming the parameter or alias.
        """
        info = _parameter_info(parameters, units, betas)
        return cls(model, MappingProxyType(info), tuple(_with_temperatures(aliases, info).values()))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.info)

    def alias_of(self, parameter: str) -> Alias | None:
        """The alias that may stand for ``parameter`` (at most one), or ``None``."""
        return next((a for a in self.aliases if a.parameter == parameter), None)

    def alias_named(self, name: str) -> Alias | None:
        return next((a for a in self.aliases if a.name == name), None)

    def accepted_names(self) -> tuple[str, ...]:
        """Every name ``check_names`` accepts: the parameters and their aliases."""
        return self.names + tuple(a.name for a in self.aliases)

    def describe(self, name: str) -> tuple[str, str, str]:
        """``(units, description, domain)`` of a parameter or an alias."""
        x = self.info.get(name) or self.alias_named(name)
        raise_if(x is None, KeyError(name))
        return x.units, x.description, x.domain

    def check_names(self, names: Iterable[str]) -> tuple[str, ...]:
        """Each parameter exactly once (directly or by its alias), nothing unknown; the names in
        canonical order (the alias where given). ``ValueError`` naming the parameter otherwise."""
        names = list(names)
        self._check_known(names)
        self._check_not_twice(names)
        ordered = tuple(self._given(p, names) for p in self.names)
        self._check_uses(ordered)
        return ordered

    def _check_known(self, names: list[str]) -> None:
        known = set(self.accepted_names())
        unknown = [n for n in names if n not in known]
        if unknown:
            hints = "; ".join(f"{a.name} for {a.parameter}" for a in self.aliases)
            raise ValueError(f"unknown parameter {unknown[0]!r} for model {self.model!r}; expected parameters: "
                             f"{', '.join(self.names)}" + (f" (aliases: {hints})" if hints else ""))

    def _check_not_twice(self, names: list[str]) -> None:
        for a in self.aliases:
            raise_if(a.name in names and a.parameter in names,
                     ValueError(f"parameter {a.parameter!r} given twice, as {a.parameter!r} and {a.name!r}; give one"))

    def _given(self, parameter: str, names: list[str]) -> str:
        """The name ``parameter`` is given by: itself or its alias."""
        if parameter in names:
            return parameter
        alias = self.alias_of(parameter)
        if alias is not None and alias.name in names:
            return alias.name
        hint = f" (or {alias.name!r})" if alias else ""
        raise ValueError(f"missing parameter {parameter!r}{hint} for model {self.model!r}")

    def _check_uses(self, ordered: tuple[str, ...]) -> None:
        """An alias's conversion needs the parameters it uses given directly."""
        for n in ordered:
            a = self.alias_named(n)
            bad = [u for u in (a.uses if a else ()) if u not in ordered]
            if bad:
                raise ValueError(f"{n!r} ({a.formula}) needs {bad[0]!r} given directly")

    def check_values(self, values: Mapping[str, object]) -> None:
        """``ValueError`` naming the first value that is not real numbers (a string, a complex
        number, ``None``): a scalar or array of integers, floats or booleans passes; so does a
        JAX array or tracer of such a dtype."""
        for name, value in values.items():
            dtype = getattr(value, "dtype", None)
            if dtype is None:
                try:
                    dtype = np.asarray(value).dtype
                except (TypeError, ValueError):  # ragged nested lists
                    dtype = np.dtype(object)
            if np.dtype(dtype).kind not in "biuf":
                shown = repr(value) if len(repr(value)) <= 60 else f"a {type(value).__name__} of dtype {dtype}"
                raise ValueError(f"parameter {name!r}: expected a real number or an array of real numbers; got {shown}")

    def to_parameters(self, inputs: Mapping[str, object]) -> dict[str, object]:
        """Model parameters from checked inputs, converting aliases. Traceable."""
        out = {p: inputs[p] for p in self.names if p in inputs}
        for p in self.names:
            if p not in out:
                out[p] = self.alias_of(p).convert({**inputs, **out})
        return out

    def outside_domain(self, params: Mapping[str, object]):
        """``True`` where a parameter leaves its domain (see ``Model.outside_domain``)."""
        out = False
        for name, value in params.items():
            out = out | outside(self.info[name].domain, value)
        return out
