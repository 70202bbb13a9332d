"""Thermodynamic observables of a steady state.

With ``H`` the full Hamiltonian, ``L_c`` the dissipator of channel ``c`` and ``ρ`` the steady
state (units ħ = k_B = 1):

* heat current from bath j into the system: ``J_j = Tr(H L_j ρ)`` (``> 0``: heat leaves the bath);
* power delivered by the non-thermal channels: ``P = Σ_{c ∉ baths} Tr(H L_c ρ)``;
* first law in the steady state: ``Σ_j J_j + P = Tr(H L ρ) = 0``;
* entropy production rate: ``σ = −Σ_j β_j J_j`` (≥ 0 for a thermodynamically consistent model).

In the real representation ``Tr(O X) = o · x`` with ``o`` the dual of ``O`` (see
``jaxtherm.physics.liouvillian.dual``), so ``J_j = h(p) · (R_j r)``. Which observables a model
reports, with units and descriptions, is the model's own (``jaxtherm.Model.observables``).
"""

from __future__ import annotations

import jax.numpy as jnp


def entropy_production(betas, currents):
    """``σ = −Σ_j β_j J_j`` for sequences of scalars ``β_j``, ``J_j`` (one per bath).

    Summed term by term rather than reduced over a stacked array, so that under ``vmap`` every
    point is computed by the same elementwise code whatever its batch size and position.
    """
    return -sum((b * j for b, j in zip(betas, currents, strict=True)), 0.0)


def currents(model, flows, dtype) -> dict:
    """``J_j`` for every bath ``j`` and the power ``P``, from the energy flows of the dissipative
    terms: ``flows`` is a sequence of ``(channel, Tr(H L_k ρ))``; ``J_j`` sums the terms of bath
    ``j``'s channel, ``P`` those of the model's work channels (zero if it has none)."""
    total = {c: jnp.zeros((), dtype) for c in model.channels}
    for channel, flow in flows:
        total[channel] = total[channel] + flow
    out = {f"J_{b.name}": total[b.name] for b in model.baths}
    out["power"] = sum((total[c] for c in model.work_channels), jnp.zeros((), dtype))
    return out


def checked(model, fluctuations: bool = False) -> tuple[str, ...]:
    """The observables that must be finite at a point with status 0 (and their derivatives):
    every current, the power, σ, the expectations and, with ``fluctuations``, the counted means
    and noise. Ratios (``tur_j``, a refrigerator's ``cop``) are 0/0 at equilibrium and derived
    observables are the user's: they are not checked."""
    names = [f"J_{b.name}" for b in model.baths] + ["power", "sigma"] + [e.name for e in model.expectations]
    if fluctuations:
        names += [f"{kind}_{b.name}" for b in model.baths for kind in ("J_counted", "noise")]
    return tuple(names)
