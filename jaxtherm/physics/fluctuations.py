"""Heat-current fluctuations: the zero-frequency noise of each bath's heat, from one more solve.

Full counting statistics (``docs/design.md`` §2.7). Each jump ``L_k`` of bath j moves a quantum ``ν_k`` of
energy between the bath and the system (``+ν`` taken from the bath, ``−ν`` given to it): the
local thermalizers' ``D[a]`` and ``D[a†]`` carry ``∓ω`` (``jaxtherm.models.Lindblad.quantum``),
a Davies thermalizer's transition ``m → n`` carries ``E_n − E_m``. With the counting
superoperators

    𝒥_k^{(j)} ρ = Σ_{jumps of j} ν^k L ρ L†     (k = 1, 2),

the tilted generator ``L(s) = L + Σ (e^{sν} − 1) L·L†`` has the scaled cumulant generating
function of the counted heat ``Q_j`` as its leading eigenvalue ``θ(s)``, and perturbation
theory around ``s = 0`` gives, without eigenvalues,

    J_counted = θ'(0)  = ⟨⟨1|𝒥₁|ρ⟩⟩,
    S         = θ''(0) = ⟨⟨1|𝒥₂|ρ⟩⟩ − 2 ⟨⟨1|𝒥₁ L^D 𝒥₁|ρ⟩⟩ = lim Var(Q_j)/t,

where ``L^D`` is the Drazin inverse of ``L``: ``x = L^D y`` is the traceless solution of
``L x = y`` for traceless ``y = 𝒥₁ρ − J_counted ρ``. That is one more solve with the steady
state's factorisation (``jaxtherm.solvers.Plan.solve``, see ``jaxtherm.linalg.elimination``), on
the symmetry sector: the sector is invariant under every jump as well as under ``L``
(``jaxtherm.solvers.symmetry_sector``), so nothing leaves it.

The thermodynamic uncertainty ratio is ``Q_j = S_j σ / J_counted_j²``: ``≥ 2`` for classical
Markov dynamics (incoherent models, diagonal steady states), possibly below 2 with coherence.

Which mean the counting gives: ``J_counted_j = J_j`` where the jumps are transitions between
eigenstates of the full ``H`` (Davies thermalizers, and local ones whose system has no
coherent coupling, e.g. the incoherent pair); for local thermalizers with a coherent coupling
it is the current of the *local* energy ``Tr(H_j L_j ρ)`` (``H_j`` the mode's own ``ω a†a``),
which differs from ``J_j = Tr(H L_j ρ)`` by the coupling's share. ``tur_j`` uses the counted
mean, the one whose fluctuations ``S_j`` measures. It is NaN (value and derivatives) where
the counted mean or σ is below the resolution of the currents (``uncertainty_ratio``): 0/0 at
equilibrium, a ratio of round-off where the currents are exponentially small.
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxtherm.linalg import vectors


def cumulants(plan, state, r, first, second):
    """Counted mean current and zero-frequency noise of one bath (formulas in the module docstring).

    Args:
        plan, state: the steady state's ``jaxtherm.solvers.Plan`` and its factorisation.
        r: the steady state's kept real coordinates, ``(m,)``.
        first, second: the bath's counting operators ``𝒥₁``, ``𝒥₂`` on the kept coordinates
            (lists of ``(m, m)`` arrays and ``jaxtherm.solvers.Sparse`` entries).

    Returns:
        ``(J_counted, S)``, scalars.
    """
    d = plan.dim
    v = vectors.choose(plan.elimination, (*first, *second), r.dtype)  # as the solves store vectors
    r = v.coordinates(r)
    u = v.apply(first, r)
    mean = v.total(u[:d])
    y = v.sub_scaled(u, mean, r)  # traceless: Q 𝒥₁ ρ
    x = v.traceless(plan.solve(state, y[1:]), d)  # L^D y, traceless
    noise = v.total(v.apply(second, r, d)) - 2.0 * v.total(v.apply(first, x, d))
    return mean, noise


RESOLUTION = 1e3
"""How many round-offs a counted mean and σ must exceed for ``uncertainty_ratio`` to be a
number (see there)."""


def uncertainty_ratio(noise, sigma, mean, resolution, betas=()):
    """``Q = S σ / J²`` (the thermodynamic uncertainty ratio), NaN — value and derivatives —
    where ``J`` or ``σ`` is too close to its round-off for the ratio to mean anything.

    Every current of a steady state solved for the whole system is resolved only to the
    round-off ``δJ = ε_mach F`` of its largest energy flows, ``F = E Γ_max`` (``E`` the energy
    scale, ``Γ_max`` the largest bath rate: ``jaxtherm.kernel.point.flow_scales``; the first law
    holds to ``≤ 2 ε_mach F`` at ordinary points); ``σ = −Σ_j β_j J_j``, which cancels between the
    baths near equilibrium, then to ``δσ = Σ_j |β_j| δJ``. The ratio's relative error is about
    ``2 δJ/|J| + δσ/|σ|``: where ``|J| ≤ 10³ δJ`` or ``|σ| ≤ 10³ δσ`` (``RESOLUTION``) it could exceed
    ~10⁻⁴ (on the Davies pair near equilibrium, where ``Q ≥ 2`` holds exactly, a smaller multiple
    let ``Q`` fall visibly below 2: docs/performance.md), and far below it, at equilibrium, at low
    temperature or where the currents are exponentially small (the global pair at ``ε ≫ T``), it
    is a ratio of round-off of either sign or ``0/0``. There it is NaN, as at equilibrium, never a
    finite garbage value.

    Args:
        noise, sigma, mean: ``S``, ``σ`` and the counted mean ``J`` (scalars).
        resolution: ``ε_mach F``, the currents' round-off.
        betas: the baths' inverse temperatures ``β_j`` (for ``δσ``).
    """
    unresolved = (jnp.abs(mean) <= RESOLUTION * resolution) | (
        jnp.abs(sigma) <= RESOLUTION * resolution * sum((jnp.abs(b) for b in betas), 0.0))
    # a product, not a where: NaN reaches the derivatives too (a where's NaN constant has tangent 0)
    return noise * sigma / (mean * mean) * jnp.where(unresolved, jnp.nan, 1.0)
