"""Guard clauses: ``raise_if(condition, error)`` raises ``error`` where ``condition`` holds.

Input checks (a spec's keys, a solver's arguments, a results file's layout) are long runs of
one-line conditions, each with its own message: written as calls they read as the list of rules
they are. The error is built before the condition is known, so its message may only use what
the checks before it have established."""

from __future__ import annotations

__all__ = ["install_hint", "optional", "raise_if"]


def raise_if(condition: object, error: BaseException) -> None:
    """Raise ``error`` if ``condition`` is true."""
    if condition:
        raise error


def optional(module: str, what: str, extra: str):
    """``module`` imported, for ``what`` (e.g. ``"jaxtherm.optimize"``); where it is not installed,
    a ``ModuleNotFoundError`` that names the extra to install (``pip install 'jaxtherm[extra]'``)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name is None or module.split(".")[0] != err.name.split(".")[0]:
            raise  # the module is there, and something it imports is not
        raise ModuleNotFoundError(f"{what} {install_hint(module, extra)}", name=err.name) from None


def install_hint(module: str, extra: str) -> str:
    """``"needs {module}, from the [{extra}] extra: pip install 'jaxtherm[{extra}]'"``: what a
    missing optional dependency's message says (``optional``, ``jaxtherm.io.read.require``, the CLI)."""
    return f"needs {module}, from the [{extra}] extra: pip install 'jaxtherm[{extra}]'"
