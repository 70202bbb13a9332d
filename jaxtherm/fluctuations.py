"""Heat-current fluctuations: the zero-frequency noise of each bath's heat, from one more solve.

Full counting statistics (DESIGN.md §2). Each jump ``L_k`` of bath j moves a quantum ``ν_k`` of
energy between the bath and the system (``+ν`` taken from the bath, ``−ν`` given to it): the
local thermalizers' ``D[a]`` and ``D[a†]`` carry ``∓ω`` (:attr:`jaxtherm.models.Lindblad.quantum`),
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
state's factorisation (:meth:`jaxtherm.solvers.Plan.solve`, see :mod:`jaxtherm.solvers.lu`), on
the symmetry sector: the sector is invariant under every jump as well as under ``L``
(:func:`jaxtherm.solvers.symmetry_sector`), so nothing leaves it.

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

import jax.numpy as jnp
import numpy as np

from .solvers import Sparse, lu, unrolled

_SCALAR_ENTRIES = 256
"""Up to this many entries a counting operator is applied as sums of scalars (elementwise over a
batch, like the unrolled solver); above it by a scatter-add or a matrix–vector product."""


def apply(ops, r, rows: int | None = None):
    """``(Σ_o o) r`` for counting operators ``ops``: ``(m, m)`` arrays and/or
    :class:`~jaxtherm.solvers.Sparse` entries. Returns ``(m,)``, or only its first ``rows``."""
    m = r.shape[0]
    rows = m if rows is None else rows
    out = jnp.zeros((rows,), r.dtype)
    sparse = [o for o in ops if isinstance(o, Sparse)]
    for o in ops:
        if not isinstance(o, Sparse):
            out = out + (o[:rows] @ r)
    if not sparse:
        return out
    if sum(int(np.count_nonzero(o.rows < rows)) for o in sparse) > _SCALAR_ENTRIES:
        for o in sparse:
            inside = o.rows < rows
            out = out.at[o.rows[inside]].add(o.values[inside] * r[o.cols[inside]])
        return out
    zero = jnp.zeros((), r.dtype)
    return out + jnp.stack([zero if a is None else a for a in _apply_scalars(sparse, [r[i] for i in range(m)], rows)])


def _apply_scalars(ops, v: list, rows: int) -> list:
    """The first ``rows`` entries of ``(Σ_o o) v`` as scalars (``None`` where no term reaches),
    for :class:`~jaxtherm.solvers.Sparse` operators and ``v`` a list of scalars or ``None``."""
    acc = [None] * rows
    for o in ops:
        for e, (i, c) in enumerate(zip(o.rows.tolist(), o.cols.tolist())):
            if i < rows and v[c] is not None:
                acc[i] = unrolled.add(acc[i], o.values[e] * v[c])
    return acc


def _total(values: list, like):
    """``Σ values`` over the scalars that are not ``None`` (0 if none is)."""
    out = None
    for v in values:
        out = unrolled.add(out, v)
    return jnp.zeros((), like.dtype) if out is None else out


def cumulants(plan, factors, r, first, second):
    """Counted mean current and zero-frequency noise of one bath (formulas in the module docstring).

    Args:
        plan, factors: the steady state's :class:`~jaxtherm.solvers.Plan` and its factorisation.
        r: the steady state's kept real coordinates, ``(m,)``.
        first, second: the bath's counting operators ``𝒥₁``, ``𝒥₂`` on the kept coordinates
            (lists of terms, see :func:`apply`).

    Returns:
        ``(J_counted, S)``, scalars.
    """
    d = plan.dim
    if plan.method in ("unrolled", "sparse") and all(isinstance(o, Sparse) for o in (*first, *second)):
        return _scalar_cumulants(plan, factors, [r[i] for i in range(r.shape[0])], first, second)
    u = apply(first, r)
    mean = jnp.sum(u[:d])
    y = u - mean * r  # traceless: Q 𝒥₁ ρ
    x = lu.restore_trace(plan.solve(factors, y[1:]), d, 0.0)  # L^D y, traceless
    noise = jnp.sum(apply(second, r, d)) - 2.0 * jnp.sum(apply(first, x, d))
    return mean, noise


def _scalar_cumulants(plan, factors, r: list, first, second):
    """:func:`cumulants` with every coordinate a scalar (unrolled plans: elementwise over a batch)."""
    d = plan.dim
    u = _apply_scalars(first, r, len(r))
    mean = _total(u[:d], r[0])
    y = [unrolled.sub_mul(ui, mean, ri) for ui, ri in zip(u, r)]  # traceless: Q 𝒥₁ ρ
    x = unrolled.solve(factors, y[1:])
    x = [_total([-xi for xi in x[: d - 1]], r[0]), *x]  # L^D y, traceless
    noise = _total(_apply_scalars(second, r, d), r[0]) - 2.0 * _total(_apply_scalars(first, x, d), r[0])
    return mean, noise


def uncertainty_ratio(noise, sigma, mean):
    """``Q = S σ / J²`` (the thermodynamic uncertainty ratio; 0/0, NaN, at equilibrium)."""
    return noise * sigma / (mean * mean)
