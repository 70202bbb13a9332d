"""Guard clauses: ``raise_if(condition, error)`` raises ``error`` where ``condition`` holds.

Input checks (a spec's keys, a solver's arguments, a results file's layout) are long runs of
one-line conditions, each with its own message: written as calls they read as the list of rules
they are. The error is built before the condition is known, so its message may only use what
the checks before it have established."""

from __future__ import annotations

__all__ = ["raise_if"]


def raise_if(condition: object, error: BaseException) -> None:
    """Raise ``error`` if ``condition`` is true."""
    if condition:
        raise error
