"""The Davies generator on its zero-Bohr-frequency block, by matrix products: global models whose
sectors are too large for the entry tables of ``jaxtherm.physics.secular`` (``docs/design.md`` §2.4).

The Davies generator is covariant: it commutes with ``[H, ·]`` (each jump operator ``A(ν)``
lowers the energy by exactly ``ν``), so it maps each Bohr-frequency block
``{ρ_nn' : E_n − E_n' = ν}`` of the eigenbasis into itself. A unique steady state therefore lies
in the ``ν = 0`` block: ``ρ`` block-diagonal over the degenerate levels,

    M_nn' = [E_n and E_n' are one level],   ρ = M ∘ ρ,

and every other block's part of it is zero. On that block the secular condition
``ω_mn = ω_m'n'`` (``ω_mn = E_m − E_n``) holds of itself, so the jump part needs no grouping of
frequencies and is a product of matrices (``x = Vᵀ X V``, real here):

    (K ρ)_nn' = Σ_mm' γ(ω_mn) x_nm ρ_mm' x_m'n' = (Z ρ x)_nn',    Z_nm = γ(ω_mn) x_nm,
    G = M ∘ ½(x Z + Zᵀ x)          (G_m'm = Σ_k x_km' γ(ω_mk) x_km for degenerate m, m'),
    D ρ = M ∘ ½(Z ρ x + x ρ Zᵀ) − ½(G ρ + ρ G),

with ``γ(ω)`` the bath's emission (``ω > tol``) or absorption (``ω < −tol``) rate
(``jaxtherm.physics.davies.bohr_rates``). The two halves of ``K`` (and of ``G``) are equal on the
block; their mean keeps ``D ρ`` Hermitian in round-off. A bath costs four ``(d, d)`` products
where ``jaxtherm.physics.secular`` tabulates every term, and the table is dense within each pair
of ``H``'s blocks (10⁸ terms for the 8-qubit chain). The Hamiltonian's part ``−i[H, ρ]`` is
``−i (E_n − E_n') ρ_nn'`` on the block, at most ``tol`` in size.

Levels are the sorted energies split wherever consecutive ones lie more than ``tol`` apart
(``level_mask``; ``jaxtherm.physics.secular`` groups Bohr frequencies within ``tol`` instead): the
two agree wherever the degeneracies are exact (symmetries), as in the built-in models.

Everything here takes a real ``(d, d)`` matrix or the stack ``(2, d, d)`` of the real part ``S``
(symmetric) and the imaginary part ``T`` (antisymmetric) of ``ρ``; ``D`` is real, so it acts on
each alone.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxtherm.physics import davies


class Bath(NamedTuple):
    """One Davies thermalizer in the eigenbasis of ``H``: real ``(d, d)`` matrices."""

    z: jax.Array
    """``Z_nm = γ(ω_mn) x_nm``: the rate of ``m → n`` times its amplitude."""
    x: jax.Array
    """``x = Vᵀ X V``, the coupling in the eigenbasis."""
    g: jax.Array
    """``G = M ∘ ½(x Z + Zᵀ x)``: the anticommutator's matrix on the zero-frequency block."""


def level_mask(energies, tol):
    """``M_nn' = 1`` where ``E_n`` and ``E_n'`` are one level, as a real ``(d, d)`` array: the
    sorted energies split into levels wherever consecutive ones lie more than ``tol`` apart, so
    the grouping is transitive (three energies ``tol·0.7`` apart are one level) and ``M`` a union
    of blocks, which ``D`` maps into themselves. Not differentiated: the block is fixed where the
    levels are."""
    e = jax.lax.stop_gradient(energies)
    order = jnp.argsort(e)
    level_sorted = jnp.concatenate([jnp.zeros(1, jnp.int32), jnp.cumsum(jnp.diff(e[order]) > tol, dtype=jnp.int32)])
    level = jnp.zeros_like(level_sorted).at[order].set(level_sorted)
    return (level[:, None] == level[None, :]).astype(energies.dtype)


def bath(energies, v, coupling, spectrum, rate, beta, cutoff, tol, mask) -> Bath:
    """One thermalizer's ``Bath`` from the eigensystem ``(E, V)`` (real, ``(d,)`` and ``(d, d)``),
    its real coupling ``X`` ``(d, d)``, the spectrum and its parameters (as
    ``jaxtherm.physics.davies.davies_generator``) and the level mask ``M``."""
    x = v.T @ coupling @ v
    omega = energies[:, None] - energies[None, :]  # omega[m, n] = E_m − E_n
    z = davies.bohr_rates(omega, spectrum, rate, beta, cutoff, tol).T * x
    xz = x @ z
    return Bath(z, x, mask * 0.5 * (xz + xz.T))


def action(baths: list[Bath], mask, s):
    """``Σ_j D_j s`` on the zero-frequency block for real ``s``, ``(d, d)`` or ``(2, d, d)`` (module
    docstring)."""
    out = jnp.zeros_like(s)
    g = sum(b.g for b in baths)
    for b in baths:
        zsx = b.z @ s @ b.x
        out = out + 0.5 * (zsx + jnp.swapaxes(zsx, -1, -2) * _parity(s))
    return mask * out - 0.5 * (g @ s + s @ g)


def _parity(s):
    """``+1`` for the symmetric real part, ``−1`` for the antisymmetric imaginary part of a stack
    ``(2, d, d)``: ``x s Zᵀ = ± (Z s x)ᵀ`` (``x`` symmetric); ``+1`` for a single matrix."""
    if s.ndim == 2:
        return 1.0
    return jnp.asarray([1.0, -1.0], s.dtype).reshape((2,) + (1,) * (s.ndim - 1))


def counting(b: Bath, energies, mask, s, power: int):
    """The bath's counting superoperator ``𝒥_k`` (``k = power``; ``jaxtherm.physics.fluctuations``)
    on the block: the jump part with each transition ``m → n`` weighted by the energy it takes
    from the bath to the power ``k``, ``ν = E_n − E_m``:
    ``M ∘ ½(Z⁽ᵏ⁾ s x + x s Z⁽ᵏ⁾ᵀ)``, ``Z⁽ᵏ⁾_nm = ν_nm^k Z_nm``; ``s`` real, ``(d, d)`` or ``(2, d, d)``."""
    zk = (energies[:, None] - energies[None, :]) ** power * b.z
    zsx = zk @ s @ b.x
    return mask * 0.5 * (zsx + jnp.swapaxes(zsx, -1, -2) * _parity(s))


def heat(b: Bath, energies, s):
    """``J_j = Σ_n E_n (D_j ρ)_nn`` for the real part ``s`` of ``ρ`` (the populations' rates do not
    involve its imaginary part): ``Σ_n E_n ((Z s x)_nn − (G s)_nn)``."""
    return jnp.sum(energies * (jnp.sum(b.z * (s @ b.x).T, axis=1) - jnp.sum(b.g * s.T, axis=1)))


def transitions(b: Bath):
    """``W_nm = γ(ω_mn) x_nm²``, the rate of ``m → n`` between populations (the classical part of
    ``D``: ``ṗ = W p − diag(Σ_n W_nm) p``)."""
    return b.z * b.x


def rate_scale(b: Bath):
    """The bath's fastest rate: the largest transition rate or level decay rate
    (``jaxtherm.kernel.point.flow_scales``)."""
    return jnp.maximum(jnp.max(jnp.abs(transitions(b))), jnp.max(jnp.abs(b.g)))
