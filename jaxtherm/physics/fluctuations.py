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
mean, the one whose fluctuations ``S_j`` measures.
"""

from __future__ import annotations

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


def uncertainty_ratio(noise, sigma, mean):
    """``Q = S σ / J²`` (the thermodynamic uncertainty ratio; 0/0, NaN, at equilibrium)."""
    return noise * sigma / (mean * mean)
