"""Parameter names a user may give for a model, and their conversion to model parameters.

Aliases, each standing for exactly one model parameter:

* every inverse temperature ``beta_x`` may be given as the temperature ``T_x``:
  ``beta_x = 1 / T_x`` (k_B = 1);
* for a model with ``omega_a`` and ``omega_b``, ``omega_b`` may be given as the detuning
  ``delta = ω_a − ω_b``: ``omega_b = omega_a − delta`` (``omega_a`` is then held as given).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .models.base import Model


DETUNING_MAPPING = "omega_b = omega_a - delta"


def temperature_alias(parameter: str) -> str | None:
    """``"T_a"`` for ``"beta_a"``; ``None`` for a parameter that is not an inverse temperature."""
    return "T_" + parameter[len("beta_") :] if parameter.startswith("beta_") else None


def alias(model: Model, parameter: str) -> str | None:
    """The alternative name of a model parameter (``T_x`` for ``beta_x``, ``delta`` for
    ``omega_b``), or ``None``."""
    if parameter == "omega_b" and "omega_a" in model.parameters:
        return "delta"
    return temperature_alias(parameter)


def accepted_names(model: Model) -> tuple[str, ...]:
    """All names :func:`check_names` accepts: the model parameters and their aliases."""
    aliases = [alias(model, p) for p in model.parameters]
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
            f"expected parameters: {', '.join(model.parameters)} (temperatures may be given as T_x"
            + (", omega_b as the detuning delta = omega_a - omega_b)" if "delta" in known else ")")
        )
    pairs = [(p, alias(model, p)) for p in model.parameters]
    for p, other in pairs:
        if other and p in names and other in names:
            raise ValueError(f"parameter {p!r} given twice, as {p!r} and {other!r}; give one")
    ordered = []
    for p, other in pairs:
        given = [n for n in (p, other) if n and n in names]
        if not given:
            hint = f" (or {other!r})" if other else ""
            raise ValueError(f"missing parameter {p!r}{hint} for model {model.name!r}")
        ordered.append(given[0])
    return tuple(ordered)


def to_model_parameters(model: Model, inputs: Mapping[str, object]) -> dict[str, object]:
    """Map checked inputs to the model's parameters (``beta_x = 1/T_x``,
    ``omega_b = omega_a − delta``). Traceable."""
    out = {}
    for p in model.parameters:
        if p in inputs:
            out[p] = inputs[p]
        elif p.startswith("beta_"):
            out[p] = 1.0 / inputs[temperature_alias(p)]
        else:  # omega_b from the detuning
            out[p] = inputs["omega_a"] - inputs["delta"]
    return out
