"""Reusable dissipators: the local thermalizer of a two-level system."""

from __future__ import annotations

import jax.numpy as jnp

from ..operators import dag
from .base import Lindblad


def local_thermalizer(a, *, bath: str, omega: str, beta: str, gamma: str) -> tuple[Lindblad, Lindblad]:
    """Local thermalizer of a two-level system with lowering operator ``a``.

    ``L ρ = Γ D[a] ρ + Γ e^{−βω} D[a†] ρ``: down rate ``Γ``, up rate ``Γ e^{−βω}`` (detailed
    balance at the *local* frequency ``ω``); its steady state alone is the Gibbs state
    ``e^{−βω n}/Z``.

    Args:
        a: lowering operator, shape ``(d, d)``.
        bath: name of the bath the two jumps belong to.
        omega, beta, gamma: parameter names of ``ω``, ``β`` and ``Γ``.
    """

    def down(p):
        return p[gamma]

    def up(p):
        return p[gamma] * jnp.exp(-p[beta] * p[omega])

    return (
        Lindblad(down, a, bath, label=f"{gamma} D[a_{bath}]"),
        Lindblad(up, dag(a), bath, label=f"{gamma} exp(-{beta} {omega}) D[a_{bath}†]"),
    )
