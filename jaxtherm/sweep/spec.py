"""Sweep specs: TOML in, an immutable, schema-checked ``SweepSpec`` out (``docs/design.md`` §4).

    [model]
    name = "qubit_pair"                # a registered model (jaxtherm.models.available()), or
    # factory = "my_models.py:fridge"  # a user factory: file relative to the spec, or module:function
    coupling = ["local", "global"]     # the model's options; a list adds a categorical dimension

    [parameters]                       # fixed values
    omega_a = 1.0
    T_a = 2.0                          # temperatures as T_x or beta_x

    [axes]                             # grid axes, in this order
    T_b     = { linspace = [0.5, 2.0, 50] }
    epsilon = { logspace = [-3, 0, 40] }   # 10^-3 … 10^0
    delta   = { values = [-0.2, 0.0, 0.2] } # detuning: omega_b = omega_a - delta

    [output]
    path = "results/example.h5"        # default: results/<spec name>.h5
    gradients = ["epsilon", "T_b"]     # d{observable}_d{parameter}
    compression = "none"               # none | lzf | gzip
    save_rho = false                   # also store the steady states
    fluctuations = false               # also each bath's heat noise and uncertainty ratio
    dtype = "float64"                  # or float32
    observables = ["J_a", "power"]     # store only these (and their derivatives); default: all

    [reduce]                           # optional: reduce over axes on the device, store the result only
    over = ["epsilon"]                 # axes reduced away; the file keeps the others as dimensions
    max  = ["power"]                   # -> power_max, epsilon_at_power_max, <other>_at_power_max
    min  = ["sigma"]                   # -> sigma_min, epsilon_at_sigma_min, <other>_at_sigma_min
    mean = ["J_a"]                     # -> J_a_mean

    [run]
    chunk_size = 131072                # points per compiled call (default: tuned at start)
    solver = "auto"                    # or "reduced" (symmetry sector), "dense" (the full-Liouvillian reference)

A spec for ``jaxtherm optimize`` has no ``[axes]`` but an ``[optimize]`` table instead::

    [optimize]
    maximize = "J_c"                   # or minimize = "..."; an expression of observables
    variables = { E_c = [0.2, 2.5], g = [0.005, 0.05, 0.02] }   # bounds, optional start
    constraints = ["cop >= 0.3"]       # optional
    starts = 16                        # run together, vmapped
    steps = 2000
    seed = 0
    learning_rate = 0.05               # first Adam step, in units of each variable's range

This module checks the file's shape only and knows no model and no JAX: which parameters,
options and values a model takes is checked against the model itself when the sweep is
resolved (``jaxtherm.sweep.study``). Every problem raises ``SpecError``, whose message
names the file, the key and what was expected: also a file that is not UTF-8 text, TOML nested
too deeply to read or with a dotted key too long to read quickly (``MAX_KEY_PARTS``), and a
grid too large to allocate (``MAX_AXIS_POINTS`` on one axis, ``MAX_GRID_POINTS`` in all),
refused before anything is allocated.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np

from jaxtherm._checks import raise_if

SECTIONS = {
    "model": None,  # name or factory, plus the model's own options
    "parameters": None,  # keys are parameter names
    "axes": None,
    "output": ("path", "gradients", "compression", "save_rho", "fluctuations", "dtype", "observables"),
    "reduce": ("over", "max", "min", "mean"),
    "run": ("chunk_size", "solver"),
    "optimize": ("maximize", "minimize", "variables", "constraints", "starts", "steps", "seed", "learning_rate"),
    "fit": ("parameters", "data", "observables"),
}
COMPRESSIONS = ("none", "lzf", "gzip")
DTYPES = ("float64", "float32")
AXIS_RULES = ("linspace", "logspace", "values")
MAX_AXIS_POINTS = 10**8  # one axis's values: 800 MB of float64
MAX_GRID_POINTS = 10**11  # a results file of 0.8 TB per observable; far beyond any sweep run so far
BOM = "\ufeff"
MAX_KEY_PARTS = 100
"""The most parts of one dotted key (``axes.epsilon.linspace`` has 3). Python's ``tomllib``
takes time quadratic in a dotted key's length (timings in docs/performance.md), so longer keys
are refused by a linear scan before it reads the file; a sweep spec never needs more than a
handful."""
# a bare key starts where no bare-key character precedes it, and its runs never give characters
# back (possessive): a long run of dashes in a string is then passed over in linear time
_SIMPLE_KEY = r"""(?:(?<![A-Za-z0-9_-])[A-Za-z0-9_-]++|"[^"\n]*+"|'[^'\n]*+')"""
_DEEP_KEY = re.compile(rf"{_SIMPLE_KEY}(?:[ \t]*+\.[ \t]*+{_SIMPLE_KEY}){{{MAX_KEY_PARTS}}}")
DEFAULT_MODEL = "qubit_pair"


class SpecError(ValueError):
    """A sweep spec that cannot be run: names the file, the key and what was expected."""

    def __init__(self, source: str, key: str, expected: str):
        self.source, self.key, self.expected = source, key, expected
        where = f"{source}: " + (f"key '{key}': " if key else "")
        super().__init__(f"{where}{expected}")


@dataclasses.dataclass(frozen=True)
class Axis:
    """One grid axis: the parameter it sweeps (as named in the spec) and its values."""

    name: str
    values: np.ndarray
    rule: str  # how it was given, e.g. "linspace = [0.1, 5.0, 200]"

    def __len__(self) -> int:
        return len(self.values)


@dataclasses.dataclass(frozen=True)
class OptimizeSettings:
    """The ``[optimize]`` table of a spec (``jaxtherm optimize``), syntax-checked: the objective
    ``expression`` (``maximize`` or ``minimize``), ``variables`` name → ``(lo, hi)`` or
    ``(lo, hi, start)``, ``constraints`` (texts), ``starts``, ``steps``, ``seed`` and
    ``learning_rate`` (``jaxtherm.optimize``)."""

    expression: str
    maximize: bool
    variables: Mapping[str, tuple[float, ...]]
    constraints: tuple[str, ...] = ()
    starts: int = 16
    steps: int = 2000
    seed: int = 0
    learning_rate: float = 0.05


@dataclasses.dataclass(frozen=True)
class FitSettings:
    """The ``[fit]`` table (``jaxtherm fit``): the fitted ``parameters`` name → ``(start,)``,
    ``(lo, hi)`` or ``(lo, hi, start)``, the ``data`` file (relative to the spec; CSV or HDF5)
    and the ``observables`` fitted (``jaxtherm.design.fit``)."""

    parameters: Mapping[str, tuple[float, ...]]
    data: Path
    observables: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class ReduceSettings:
    """The ``[reduce]`` table: the axes reduced away (``over``, in grid order) and the stored
    variables whose maximum, minimum and mean over them are kept (``jaxtherm.sweep.reduce``)."""

    over: tuple[str, ...]
    max: tuple[str, ...] = ()
    min: tuple[str, ...] = ()
    mean: tuple[str, ...] = ()

    def operations(self) -> tuple[tuple[str, str], ...]:
        """``(variable, op)`` pairs, ops in the order max, min, mean."""
        return tuple((v, op) for op in ("max", "min", "mean") for v in getattr(self, op))


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A sweep as the file gives it, schema-checked.

    Attributes:
        source, text: the file name and its exact text (kept in the results file).
        model: the ``[model] name`` (``None`` with a factory).
        factory: the ``[model] factory`` reference, resolved against ``base_dir``.
        options: every other ``[model]`` key, each as a tuple of values (one unless a list).
        categorical: the options given as lists, in file order: each adds a leading dimension.
        fixed, axes: ``[parameters]`` and ``[axes]`` as given (names not yet checked).
        output, gradients, compression, save_rho, dtype, fluctuations, observables: ``[output]``
            (``observables`` ``None``: all of the model's).
        reduce: ``[reduce]``, or ``None`` (every point stored).
        chunk_size, solver: ``[run]``.
        base_dir: the spec file's directory (user factories are found relative to it).
    """

    source: str
    text: str
    model: str | None
    factory: str | None
    options: Mapping[str, tuple]
    categorical: tuple[str, ...]
    fixed: Mapping[str, float]
    axes: tuple[Axis, ...]
    output: Path
    gradients: tuple[str, ...]
    compression: str
    save_rho: bool
    dtype: str
    chunk_size: int | None
    solver: str = "auto"
    base_dir: Path = Path(".")
    fluctuations: bool = False
    optimize: OptimizeSettings | None = None
    fit: FitSettings | None = None
    observables: tuple[str, ...] | None = None
    reduce: ReduceSettings | None = None

    @property
    def axis_shape(self) -> tuple[int, ...]:
        """Shape of one model's sub-grid: one entry per axis."""
        return tuple(len(a) for a in self.axes)

    @property
    def model_shape(self) -> tuple[int, ...]:
        """One entry per categorical option: the number of models is its product."""
        return tuple(len(self.options[k]) for k in self.categorical)

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape: the categorical options, then ``axis_shape``."""
        return self.model_shape + self.axis_shape

    @property
    def dims(self) -> tuple[str, ...]:
        return self.categorical + tuple(a.name for a in self.axes)

    @property
    def n_models(self) -> int:
        return math.prod(self.model_shape)

    @property
    def points_per_model(self) -> int:
        return math.prod(self.axis_shape)

    @property
    def n_points(self) -> int:
        return self.points_per_model * self.n_models

    def model_options(self, index: int) -> dict[str, object]:
        """The options of model ``index`` (C order over the categorical options)."""
        picks = np.unravel_index(index, self.model_shape) if self.categorical else ()
        chosen = dict(zip(self.categorical, (int(i) for i in picks)))
        return {k: v[chosen.get(k, 0)] for k, v in self.options.items()}


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _numbers(x, finite: bool = False) -> bool:
    """Whether ``x`` is a list of numbers (finite ones if ``finite``); ``[]`` is."""
    return isinstance(x, list) and all(_is_number(v) and (not finite or math.isfinite(v)) for v in x)


AXIS_EXPECTED = (
    "a table with exactly one of linspace = [start, stop, num], logspace = [start_exponent, "
    "stop_exponent, num] or values = [v1, v2, …]"
)


def _axis_rule(source: str, name: str, rule) -> tuple[str, list, int]:
    """``(kind, arguments, number of points)`` of an ``[axes]`` entry, checked without building
    its values (a grid too large is refused before anything is allocated)."""
    key = f"axes.{name}"
    raise_if(not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in AXIS_RULES,
             SpecError(source, key, f"expected {AXIS_EXPECTED}; got {rule!r}"))
    kind, arg = next(iter(rule.items()))
    if kind == "values":
        raise_if(not _numbers(arg) or not arg,
                 SpecError(source, f"{key}.values", f"expected a non-empty list of numbers; got {arg!r}"))
        return kind, arg, len(arg)
    return kind, arg, _num(source, f"{key}.{kind}", arg)


def _num(source: str, key: str, arg) -> int:
    """The ``num`` of a ``[start, stop, num]`` rule, at most ``MAX_AXIS_POINTS``."""
    raise_if(not (isinstance(arg, list) and len(arg) == 3 and _numbers(arg[:2]) and _is_int(arg[2]) and arg[2] >= 1),
             SpecError(source, key, f"expected [start, stop, num] with num a positive integer; got {arg!r}"))
    raise_if(arg[2] > MAX_AXIS_POINTS,
             SpecError(source, key, f"expected at most {MAX_AXIS_POINTS:,} points on one axis; got num = {arg[2]:,}"))
    return arg[2]


def _axis(source: str, name: str, kind: str, arg: list) -> Axis:
    """The axis of a checked rule (``_axis_rule``): its values, finite and distinct."""
    key = f"axes.{name}"
    if kind == "values":
        values = np.asarray(arg, dtype=np.float64)
    else:
        fn = np.linspace if kind == "linspace" else np.logspace
        values = fn(float(arg[0]), float(arg[1]), int(arg[2]))
    if not np.all(np.isfinite(values)):
        raise SpecError(source, key, f"expected finite values; got {values}")
    raise_if(len(np.unique(values)) != len(values), SpecError(source, key, "expected distinct values (an axis is a coordinate)"))
    values.setflags(write=False)
    return Axis(name, values, f"{kind} = {arg!r}")


def _model_table(source: str, table: dict):
    """``(name, factory, options, categorical)`` of the ``[model]`` table."""
    name, factory = _model_source(source, table.get("name"), table.get("factory"))
    options = {key: _model_option(source, key, value) for key, value in table.items() if key not in ("name", "factory")}
    categorical = tuple(key for key, value in table.items() if key in options and isinstance(value, list))
    return name, factory, MappingProxyType(options), categorical


def _model_source(source: str, name, factory) -> tuple[str | None, str | None]:
    """``[model] name`` (default ``DEFAULT_MODEL``) or ``factory``, not both."""
    raise_if(name is not None and factory is not None,
             SpecError(source, "model.factory", "give either [model] name or [model] factory, not both"))
    raise_if(factory is not None and (not isinstance(factory, str) or ":" not in factory),
             SpecError(source, "model.factory",
                       f"expected 'path/to/file.py:function' or 'package.module:function'; got {factory!r}"))
    if factory is None:
        name = DEFAULT_MODEL if name is None else name
        raise_if(not isinstance(name, str) or not name, SpecError(source, "model.name", f"expected a model name; got {name!r}"))
    return name, factory


def _model_option(source: str, key: str, value) -> tuple:
    """A model option's values: one, or a list of distinct values (a categorical dimension)."""
    raise_if(isinstance(value, dict),
             SpecError(source, f"model.{key}", f"expected a value or a list of values; got a table {value!r}"))
    if not isinstance(value, list):
        return (value,)
    raise_if(not value or len({repr(v) for v in value}) != len(value),
             SpecError(source, f"model.{key}", f"expected a non-empty list of distinct values; got {value!r}"))
    raise_if(any(isinstance(v, (list, dict)) for v in value),
             SpecError(source, f"model.{key}", f"expected a list of strings or numbers; got {value!r}"))
    return tuple(value)


def _positive_int(source: str, key: str, value, default: int | None) -> int | None:
    """``value`` if a positive integer, ``default`` if absent (``None``); else ``SpecError``."""
    if value is None:
        return default
    raise_if(not _is_int(value) or value < 1, SpecError(source, key, f"expected a positive integer; got {value!r}"))
    return value


def _bounds(source: str, key: str, b, fixed: bool, role: str, lengths: tuple[int, ...]) -> tuple[float, ...]:
    """A variable's ``[lo, hi]``, ``[lo, hi, start]`` (or, where ``lengths`` allows, ``[start]``)."""
    forms = " or ".join({1: "a start", 2: "[lo, hi]", 3: "[lo, hi, start]"}[n] for n in lengths)
    raise_if(not (_numbers(b, finite=True) and len(b) in lengths),
             SpecError(source, key, f"expected {forms} of finite numbers; got {b!r}"))
    raise_if(len(b) >= 2 and not b[0] < b[1], SpecError(source, key, f"expected lo < hi (empty bounds); got {b!r}"))
    raise_if(len(b) == 3 and not b[0] <= b[2] <= b[1], SpecError(source, key, f"expected the start inside [lo, hi]; got {b!r}"))
    raise_if(fixed, SpecError(source, key, f"is also fixed in [parameters]; a parameter is either fixed or {role}"))
    return tuple(float(v) for v in b)


def _objective(source: str, table: dict) -> str:
    """``"maximize"`` or ``"minimize"``, whichever ``[optimize]`` gives, its expression parsed."""
    from jaxtherm.design import expressions

    raise_if(("maximize" in table) == ("minimize" in table),
             SpecError(source, "optimize", "expected exactly one of maximize = \"EXPR\" or minimize = \"EXPR\" "
                       "(an observable or an expression of observables, e.g. \"J_c\" or \"J_c / J_h\")"))
    sense = "maximize" if "maximize" in table else "minimize"
    try:
        expressions.parse(table[sense])
    except expressions.ExpressionError as err:
        raise SpecError(source, f"optimize.{sense}", str(err)) from None
    return sense


def _constraints(source: str, constraints) -> list[str]:
    from jaxtherm.design import expressions

    raise_if(not isinstance(constraints, list),
             SpecError(source, "optimize.constraints", f"expected a list such as [\"cop >= 0.3\"]; got {constraints!r}"))
    for c in constraints:
        try:
            expressions.parse_constraint(c)
        except expressions.ExpressionError as err:
            raise SpecError(source, "optimize.constraints", str(err)) from None
    return constraints


def _optimize_table(source: str, table: dict, fixed: Mapping, axes: list) -> OptimizeSettings:
    """Check ``[optimize]``'s shape and its expressions' syntax (names are checked by the model)."""
    sense = _objective(source, table)
    variables = table.get("variables")
    raise_if(not isinstance(variables, dict) or not variables,
             SpecError(source, "optimize.variables",
                       f"expected a table of bounds, e.g. {{ E_c = [0.2, 2.5], g = [0.005, 0.05, 0.02] }}; got {variables!r}"))
    checked = {name: _bounds(source, f"optimize.variables.{name}", b, name in fixed, "a variable", (2, 3))
               for name, b in variables.items()}
    raise_if(axes, SpecError(source, "axes", "an [optimize] spec takes no [axes]: its variables are in [optimize] variables"))
    constraints = _constraints(source, table.get("constraints", []))
    lr = table.get("learning_rate", 0.05)
    raise_if(not _is_number(lr) or not 0 < lr <= 1,
             SpecError(source, "optimize.learning_rate", f"expected a number in (0, 1] (of each variable's range); got {lr!r}"))
    seed = table.get("seed", 0)
    raise_if(not _is_int(seed) or seed < 0, SpecError(source, "optimize.seed", f"expected a non-negative integer; got {seed!r}"))
    return OptimizeSettings(table[sense].strip(), sense == "maximize", MappingProxyType(checked), tuple(constraints),
                            _positive_int(source, "optimize.starts", table.get("starts"), 16),
                            _positive_int(source, "optimize.steps", table.get("steps"), 2000), seed, float(lr))


def _fit_table(source: str, table: dict, fixed: Mapping, axes: list, base_dir: Path) -> FitSettings:
    params = table.get("parameters")
    raise_if(not isinstance(params, dict) or not params,
             SpecError(source, "fit.parameters", f"expected a table of starts or bounds, e.g. {{ g = [0.005, 0.05, 0.02] }}; "
                       f"got {params!r}"))
    checked = {name: _bounds(source, f"fit.parameters.{name}", [b] if _is_number(b) else b, name in fixed, "fitted",
                             (1, 2, 3)) for name, b in params.items()}
    raise_if(axes, SpecError(source, "axes", "a [fit] spec takes no [axes]: the data file gives the conditions of each row"))
    data = _text(source, "fit.data", table.get("data"), "the path of a CSV or HDF5 table")
    return FitSettings(MappingProxyType(checked), base_dir / data, _fit_observables(source, table.get("observables")))


def _fit_observables(source: str, observables) -> tuple[str, ...]:
    raise_if(not (isinstance(observables, list) and observables and all(isinstance(o, str) for o in observables)),
             SpecError(source, "fit.observables", f"expected a list of observables, e.g. [\"J_c\"]; got {observables!r}"))
    return tuple(observables)


def _deep_key_line(text: str) -> int | None:
    """The first line holding a dotted key of more than ``MAX_KEY_PARTS`` parts (a key is on one
    line), or ``None``; only lines with that many dots are searched."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.count(".") >= MAX_KEY_PARTS and _DEEP_KEY.search(line):
            return number
    return None


def _toml(source: str, text: str) -> dict:
    line = _deep_key_line(text)
    raise_if(line is not None,
             SpecError(source, "", f"is not a sweep spec: line {line} has a dotted key of more than {MAX_KEY_PARTS} "
                       "parts; expected keys such as axes.epsilon.linspace"))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(source, "", f"is not valid TOML ({err})") from None
    except RecursionError:  # tomllib recurses once per nesting level
        raise SpecError(source, "", "is not a sweep spec: arrays or tables nested too deeply to read") from None


def _check_sections(source: str, data: dict) -> None:
    """Known sections, each a table, holding only the keys it takes."""
    for section, value in data.items():
        raise_if(section not in SECTIONS,
                 SpecError(source, section, f"unknown section; expected one of [{'], ['.join(SECTIONS)}]"))
        raise_if(not isinstance(value, dict), SpecError(source, section, f"expected a [{section}] table"))
        allowed = SECTIONS[section]
        unknown = [key for key in value if allowed is not None and key not in allowed]
        if unknown:
            raise SpecError(source, f"{section}.{unknown[0]}", f"unknown key; [{section}] takes {', '.join(allowed)}")


def _parameters_table(source: str, table: dict) -> dict[str, float]:
    fixed = {}
    for key, value in table.items():
        raise_if(not _is_number(value) or not math.isfinite(value),
                 SpecError(source, f"parameters.{key}", f"expected a finite number; got {value!r}"))
        fixed[key] = float(value)
    return fixed


def _axes_table(source: str, table: dict, fixed: Mapping, options: Mapping, categorical: tuple) -> list[Axis]:
    """The ``[axes]``: each a parameter neither fixed nor a model option, the whole grid of a
    sane size (checked before any axis's values are made)."""
    rules = {}
    for key, rule in table.items():
        raise_if(key in fixed,
                 SpecError(source, f"axes.{key}", "is also fixed in [parameters]; a parameter is either fixed or an axis"))
        raise_if(key in categorical, SpecError(source, f"axes.{key}", "is also a [model] option; an axis sweeps a parameter"))
        rules[key] = _axis_rule(source, key, rule)
    counts = {key: n for key, (_, _, n) in rules.items()} | {f"model.{k}": len(options[k]) for k in categorical}
    total = math.prod(counts.values())
    if total > MAX_GRID_POINTS:
        detail = " × ".join(f"{k} {n:,}" for k, n in counts.items())
        raise SpecError(source, "axes", f"expected a grid of at most {MAX_GRID_POINTS:,} points; got {total:,} ({detail})")
    return [_axis(source, key, kind, arg) for key, (kind, arg, _) in rules.items()]


def _text(source: str, key: str, value, what: str) -> str:
    """``value`` if a non-empty string; else ``SpecError`` expecting ``what``."""
    raise_if(not isinstance(value, str) or not value, SpecError(source, key, f"expected {what}; got {value!r}"))
    return value


def _choice(source: str, key: str, value, choices: tuple[str, ...]) -> str:
    """``value`` if one of ``choices``; else ``SpecError`` listing them."""
    raise_if(value not in choices, SpecError(source, key, f"expected one of {', '.join(choices)}; got {value!r}"))
    return value


def _flag(source: str, key: str, value) -> bool:
    raise_if(not isinstance(value, bool), SpecError(source, key, f"expected true or false; got {value!r}"))
    return value


def _output_table(source: str, table: dict, default_path: str) -> dict:
    """``[output]`` as ``SweepSpec`` fields."""
    path = _text(source, "output.path", table.get("path", default_path), "a file path string")
    gradients = _names(source, "output.gradients", table.get("gradients", []), "parameter names", empty=True)
    compression = _choice(source, "output.compression", table.get("compression", "none"), COMPRESSIONS)
    save_rho = _flag(source, "output.save_rho", table.get("save_rho", False))
    fluctuations = _flag(source, "output.fluctuations", table.get("fluctuations", False))
    dtype = _choice(source, "output.dtype", table.get("dtype", "float64"), DTYPES)
    observables = table.get("observables")
    if observables is not None:
        observables = tuple(_names(source, "output.observables", observables, "observable names"))
    return dict(output=Path(path), gradients=tuple(gradients), compression=compression, save_rho=save_rho,
                fluctuations=fluctuations, dtype=dtype, observables=observables)


def _names(source: str, key: str, value, what: str, empty: bool = False) -> list[str]:
    """A list of distinct, non-empty strings (``empty``: may be ``[]``)."""
    raise_if(not isinstance(value, list) or not all(isinstance(v, str) and v for v in value) or not (value or empty),
             SpecError(source, key, f"expected a {'' if empty else 'non-empty '}list of {what}; got {value!r}"))
    raise_if(len(set(value)) != len(value), SpecError(source, key, f"expected distinct {what}; got {value!r}"))
    return value


def _reduce_table(source: str, table: dict, axes: list[Axis], save_rho: bool) -> ReduceSettings | None:
    """``[reduce]``: ``over`` names axes of ``[axes]`` (kept in grid order), at least one of
    ``max``/``min``/``mean`` names variables (checked against the model in ``.study``)."""
    if not table:
        return None
    over = _reduced_axes(source, table.get("over"), [a.name for a in axes])
    ops = {op: tuple(_names(source, f"reduce.{op}", table.get(op, []), "observable names", empty=True))
           for op in ("max", "min", "mean")}
    raise_if(not any(ops.values()), SpecError(source, "reduce", "expected at least one of max, min, mean (lists of observables)"))
    raise_if(save_rho, SpecError(source, "output.save_rho", "the steady states cannot be stored by a [reduce] sweep; drop "
                                 "save_rho or [reduce]"))
    return ReduceSettings(over=over, **ops)


def _reduced_axes(source: str, over, names: list[str]) -> tuple[str, ...]:
    """``[reduce] over``: some of the axes ``names``, returned in grid order."""
    over = _names(source, "reduce.over", over, "axis names of [axes]")
    for name in over:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (is axes.{close[0]} a misspelling of {name}, or the other way round?)" if close else ""
            raise SpecError(source, "reduce.over", f"{name!r} is not an axis of [axes]; expected some of "
                            f"{', '.join(names) or '(no axes)'}{hint}")
    return tuple(n for n in names if n in over)


def _run_table(source: str, table: dict) -> dict:
    """``[run]`` as ``SweepSpec`` fields."""
    chunk_size = _positive_int(source, "run.chunk_size", table.get("chunk_size"), None)
    solver = _text(source, "run.solver", table.get("solver", "auto"), "a solver name")
    return dict(chunk_size=chunk_size, solver=solver)


def _design_tables(source: str, data: dict, fixed: Mapping, axes: list, categorical: tuple,
                   base_dir: Path) -> dict:
    """``[optimize]`` or ``[fit]`` (at most one, with one model) as ``SweepSpec`` fields."""
    optimize = _optimize_table(source, data["optimize"], fixed, axes) if "optimize" in data else None
    fit = _fit_table(source, data["fit"], fixed, axes, base_dir) if "fit" in data else None
    raise_if(optimize is not None and fit is not None,
             SpecError(source, "fit", "a spec either optimises ([optimize]) or fits ([fit]), not both"))
    if (optimize is not None or fit is not None) and categorical:
        raise SpecError(source, f"model.{categorical[0]}",
                        f"an [{'optimize' if optimize else 'fit'}] spec takes one model; give one value")
    return dict(optimize=optimize, fit=fit)


def parse_spec(text: str, source: str = "<spec>", default_output: str | None = None,
               base_dir: str | os.PathLike = ".") -> SweepSpec:
    """Check a TOML sweep spec's shape.

    Args:
        text: the TOML text (kept verbatim in the results file, less a leading byte-order mark).
        source: file name for messages.
        default_output: output path when ``[output] path`` is absent (default
            ``results/<source stem>.h5``).
        base_dir: where a ``[model] factory`` file is looked for.

    Raises:
        SpecError: naming the file, the key and what was expected.
    """
    text = text.removeprefix(BOM)  # what some editors put first in a UTF-8 file; TOML itself has none
    data = _toml(source, text)
    _check_sections(source, data)
    name, factory, options, categorical = _model_table(source, data.get("model", {}))
    fixed = _parameters_table(source, data.get("parameters", {}))
    axes = _axes_table(source, data.get("axes", {}), fixed, options, categorical)
    output = _output_table(source, data.get("output", {}), default_output or f"results/{Path(source).stem}.h5")
    run = _run_table(source, data.get("run", {}))
    design = _design_tables(source, data, fixed, axes, categorical, Path(base_dir))
    reduce = _reduce_table(source, data.get("reduce", {}), axes, output["save_rho"])
    raise_if(reduce is not None and (design["optimize"] or design["fit"]),
             SpecError(source, "reduce", "only a sweep ([axes]) reduces; drop [reduce] from this spec"))
    return SweepSpec(source=source, text=text, model=name, factory=factory, options=options, categorical=categorical,
                     fixed=MappingProxyType(fixed), axes=tuple(axes), base_dir=Path(base_dir), **output, **run,
                     **design, reduce=reduce)


def decode(data: bytes, source: str) -> str:
    """A spec file's bytes as text: UTF-8 (a leading byte-order mark is dropped); anything else
    is a ``SpecError`` that says which encoding was found, where it could be told."""
    raise_if(data.startswith((b"\xff\xfe", b"\xfe\xff")),
             SpecError(source, "", "is UTF-16 text; expected UTF-8 (save it as UTF-8)"))
    try:
        return data.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError as err:
        raise SpecError(source, "", f"is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
                        "expected a TOML file saved as UTF-8") from None


def load_spec(path: str | os.PathLike) -> SweepSpec:
    """Read and check a spec file; the default output is ``results/<file stem>.h5``."""
    path = Path(path)
    if path.exists() and not path.is_file() and not path.is_dir():  # a FIFO or a device would block or never end
        raise SpecError(str(path), "", "is not a regular file; expected a TOML spec file")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SpecError(str(path), "", f"cannot be read ({err.strerror})") from None
    return parse_spec(decode(data, str(path)), str(path), base_dir=path.parent)
