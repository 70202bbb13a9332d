"""The model registry: built-in model families by name, and user factories.

``get(name, **options)`` builds a registered model (``available()`` lists the names);
``from_factory("my_models.py:fridge", **options)`` or ``from_factory("package.module:function")``
calls a user's function that returns a ``jaxtherm.models.Model``. Options are the
factory's keyword arguments; both check them against the factory's signature, so an unknown
option is named before anything is built.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path

from jaxtherm._checks import raise_if
from jaxtherm.models._model import Model
from jaxtherm.models.absorption_refrigerator import absorption_refrigerator
from jaxtherm.models.oscillators import oscillator_pair
from jaxtherm.models.qubit_chain import qubit_chain
from jaxtherm.models.qubit_pair import qubit_pair
from jaxtherm.models.thermalizers import OptionError

_REGISTRY: dict[str, Callable[..., Model]] = {
    "qubit_pair": qubit_pair,
    "qubit_chain": qubit_chain,
    "absorption_refrigerator": absorption_refrigerator,
    "oscillator_pair": oscillator_pair,
}


class FactoryError(ValueError):
    """A model factory that cannot be found, called or that does not return a model."""


class UnknownOption(FactoryError, OptionError):
    """A factory was given an option it does not take."""


def available() -> tuple[str, ...]:
    """Names of the registered model families."""
    return tuple(_REGISTRY)


def register(name: str, factory: Callable[..., Model]) -> None:
    """Make ``factory`` available as ``get(name, …)`` and as ``[model] name`` in specs run from
    this Python process."""
    raise_if(not callable(factory), TypeError(f"factory must be callable, got {factory!r}"))
    _REGISTRY[name] = factory


def options(factory_or_name) -> dict[str, object]:
    """The keyword options of a factory (or registered name) with their defaults
    (``inspect.Parameter.empty`` where required)."""
    factory = _REGISTRY[factory_or_name] if isinstance(factory_or_name, str) else factory_or_name
    fn = getattr(factory, "__wrapped__", factory)
    return {n: p.default for n, p in inspect.signature(fn).parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


# what a user's code may raise that is its failure, not jaxtherm's: also sys.exit() and a
# KeyboardInterrupt of its own making (reported as the factory's, never a traceback)
USER_FAILURES = (Exception, SystemExit, KeyboardInterrupt)


def _takes_any(factory: Callable[..., Model]) -> bool:
    """Whether the factory takes ``**kwargs``."""
    fn = getattr(factory, "__wrapped__", factory)
    return any(p.kind == p.VAR_KEYWORD for p in inspect.signature(fn).parameters.values())


def _check_options(factory: Callable[..., Model], what: str, kwargs: dict) -> None:
    """Every option given is one the factory takes (unless it takes ``**kwargs``); every
    required one is given."""
    accepted = options(factory)
    if not _takes_any(factory):
        _check_known(what, kwargs, accepted)
    missing = [k for k, v in accepted.items() if v is inspect.Parameter.empty and k not in kwargs]
    if missing:
        raise FactoryError(f"{what} needs the option {missing[0]!r}")


def _check_known(what: str, kwargs: dict, accepted: dict) -> None:
    """Check that every option given is one of ``accepted``.

    Raises:
        UnknownOption: naming the first that is not."""
    unknown = [k for k in kwargs if k not in accepted]
    if unknown:
        raise UnknownOption(unknown[0], f"{what} takes no option {unknown[0]!r}; its options are "
                            f"{', '.join(accepted) or 'none'}")


def _call(factory: Callable[..., Model], what: str, kwargs: dict) -> Model:
    _check_options(factory, what, kwargs)
    try:
        model = factory(**kwargs)
    except USER_FAILURES as err:  # the factory's own message is what the user needs
        raise FactoryError(f"{what} raised {type(err).__name__}: {err}") from err
    raise_if(not isinstance(model, Model),
             FactoryError(f"{what} must return a jaxtherm Model, but returned {type(model).__name__}"))
    return model


def get(name: str, **kwargs) -> Model:
    """The registered model ``name`` built with ``kwargs`` (e.g. ``get("qubit_chain", n=4)``).

    Raises:
        ValueError: an unknown name; ``OptionError`` (a ``ValueError`` naming the option) for
            an unknown option or a value the factory refuses.
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(_REGISTRY)}")
    try:
        return _call(_REGISTRY[name], f"model {name!r}", kwargs)
    except UnknownOption:
        raise
    except FactoryError as err:  # a built-in factory's own refusal (e.g. an OptionError), unwrapped
        raise (err.__cause__ if isinstance(err.__cause__, ValueError) else ValueError(str(err))) from None


def load_factory(reference: str, base: str | os.PathLike | None = None) -> Callable[..., Model]:
    """The function named by ``"path/to/file.py:function"`` (relative to ``base``) or
    ``"package.module:function"``.

    Raises:
        FactoryError: a malformed reference, a missing file or module, an import that fails, or
            no such callable.
    """
    where, sep, attr = reference.rpartition(":")
    raise_if(not sep or not where or not attr,
             FactoryError(f"expected 'file.py:function' or 'module:function'; got {reference!r}"))
    module = _load_file(where, base) if where.endswith(".py") else _import_module(where)
    factory = getattr(module, attr, None)
    raise_if(not callable(factory), FactoryError(f"{where!r} has no function {attr!r}"))
    return factory


def _load_file(where: str, base: str | os.PathLike | None):
    """The module of a user's ``.py`` file (relative to ``base``)."""
    path = Path(where)
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    raise_if(path.is_dir(), FactoryError(f"{str(path)!r} is a directory; expected a Python file"))
    raise_if(not path.is_file(), FactoryError(f"no such file {str(path)!r}"))
    module_name = f"jaxtherm_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except USER_FAILURES as err:
        del sys.modules[module_name]
        raise FactoryError(f"importing {str(path)!r} raised {type(err).__name__}: {err}") from err
    return module


def _import_module(where: str):
    try:
        return importlib.import_module(where)
    except USER_FAILURES as err:
        raise FactoryError(f"cannot import module {where!r} ({type(err).__name__}: {err})") from err


def from_factory(reference: str, base: str | os.PathLike | None = None, **kwargs) -> Model:
    """Load a user factory (``load_factory``) and call it with ``kwargs``.

    Raises:
        FactoryError: as ``load_factory``; or the factory raised, returned something that is
            not a ``jaxtherm.models.Model``, or was given an option it does not take.
    """
    return _call(load_factory(reference, base), f"factory {reference!r}", kwargs)
