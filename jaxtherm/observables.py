"""Thermodynamic observables of a steady state, and their metadata.

With ``H`` the full Hamiltonian, ``L_c`` the dissipator of channel ``c`` and ``ρ`` the steady
state (units ħ = k_B = 1):

* heat current from bath j into the system: ``J_j = Tr(H L_j ρ)`` (``> 0``: heat leaves the bath);
* power delivered by the non-thermal channels: ``P = Σ_{c ∉ baths} Tr(H L_c ρ)``;
* first law in the steady state: ``Σ_j J_j + P = Tr(H L ρ) = 0``;
* entropy production rate: ``σ = −Σ_j β_j J_j`` (≥ 0 for a thermodynamically consistent model).

In the real representation ``Tr(O X) = o · x`` with ``o`` the dual of ``O`` (see
:func:`jaxtherm.liouvillian.real_dual`), so ``J_j = h(p) · (R_j r)``.
"""

from __future__ import annotations


from .models.base import Model


def energy_flow(h_dual, channel_matrix, r):
    """``Tr(H L_c ρ) = h · (R_c r)``: energy flowing into the system through channel c.

    Args:
        h_dual: ``(d²,)`` dual vector of ``H``.
        channel_matrix: ``(d², d²)`` real superoperator ``R_c`` of the channel.
        r: ``(d²,)`` real coordinates of ``ρ``.
    """
    return h_dual @ (channel_matrix @ r)


def entropy_production(betas, currents):
    """``σ = −Σ_j β_j J_j`` for sequences of scalars ``β_j``, ``J_j`` (one per bath).

    Summed term by term rather than reduced over a stacked array, so that under ``vmap`` every
    point is computed by the same elementwise code whatever its batch size and position.
    """
    return -sum((b * j for b, j in zip(betas, currents, strict=True)), 0.0)


def scalar_observables(model: Model) -> dict[str, tuple[str, str]]:
    """Names of the real scalar observables of a model, with ``(unit, description)``.

    Order: ``J_{bath}`` for each bath, ``power``, ``sigma``, then the model's expectations.
    """
    out = {
        f"J_{b.name}": ("energy/time", f"heat current from bath {b.name} into the system, Tr(H L_{b.name} ρ)")
        for b in model.baths
    }
    work = ", ".join(model.work_channels) or "none in this model"
    out["power"] = ("energy/time", f"power delivered by non-thermal channels ({work}), Σ_c Tr(H L_c ρ)")
    out["sigma"] = ("1/time", "entropy production rate, −Σ_j β_j J_j")
    for e in model.expectations:
        out[e.name] = ("1", e.description or f"expectation value of {e.name}")
    return out
