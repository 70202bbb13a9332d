"""Parameter names a user may give for a model, and their conversion to model parameters.

Every model parameter ``beta_x`` (an inverse temperature) may be given instead as the
temperature ``T_x``; the model always receives ``beta_x = 1 / T_x`` (k_B = 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .models.base import Model


def temperature_alias(parameter: str) -> str | None:
    """``"T_a"`` for ``"beta_a"``; ``None`` for a parameter that is not an inverse temperature."""
    return "T_" + parameter[len("beta_") :] if parameter.startswith("beta_") else None


def accepted_names(model: Model) -> tuple[str, ...]:
    """All names :func:`resolve` accepts: the model parameters and their ``T_x`` aliases."""
    aliases = [temperature_alias(p) for p in model.parameters]
    return model.parameters + tuple(a for a in aliases if a)


def check_names(model: Model, names: Iterable[str]) -> tuple[str, ...]:
    """Validate a set of input names: each parameter given exactly once, nothing unknown.

    Returns:
        The names in canonical order (model parameter order, ``T_x`` where given).

    Raises:
        ValueError: naming an unknown parameter, a parameter given twice (``beta_a`` and
            ``T_a``) or a missing one.
    """
    names = list(names)
    known = set(accepted_names(model))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"unknown parameter {unknown[0]!r} for model {model.name!r}; "
            f"expected parameters: {', '.join(model.parameters)} (temperatures may be given as T_x)"
        )
    ordered = []
    for p in model.parameters:
        alias = temperature_alias(p)
        given = [n for n in (p, alias) if n and n in names]
        if len(given) > 1:
            raise ValueError(f"parameter {p!r} given twice, as {given[0]!r} and {given[1]!r}; give one")
        if not given:
            hint = f" (or {alias!r})" if alias else ""
            raise ValueError(f"missing parameter {p!r}{hint} for model {model.name!r}")
        ordered.append(given[0])
    return tuple(ordered)


def to_model_parameters(model: Model, inputs: Mapping[str, object]) -> dict[str, object]:
    """Map checked inputs to the model's parameters (``beta_x = 1/T_x``). Traceable."""
    out = {}
    for p in model.parameters:
        alias = temperature_alias(p)
        out[p] = inputs[p] if p in inputs else 1.0 / inputs[alias]
    return out
