"""Global (secular, Davies) thermalizers, built at one parameter point from the eigenbasis of H.

With ``H = Σ_m E_m |m⟩⟨m|`` and ``X_nm = ⟨n|X|m⟩`` the bath's coupling operator in that
eigenbasis, the jump operators ``A(ν) = Σ_{E_m − E_n = ν} X_nm |n⟩⟨m|`` are grouped by Bohr
frequency ``ν ≠ 0`` (degenerate frequencies share one jump operator, so the generator does not
depend on the choice of eigenvectors within a degenerate level), and

    D ρ = Σ_{ν≠0} γ(ν) (A(ν) ρ A(ν)† − ½{A(ν)†A(ν), ρ}),

    γ(ν) = emission(ν) for ν > 0,   γ(ν) = absorption(|ν|) for ν < 0,

with the bath's spectrum (``jaxtherm.physics.spectra``) evaluated at each exact Bohr frequency.
Frequencies closer than ``tol`` count as equal, and ``|ν| ≤ tol`` is no transition (no
dephasing term).

``restricted_generators`` is the JAX version the kernel evaluates per point (static shapes: the
grouping is a mask over pairs of transitions); ``grouped_transitions`` is a NumPy version of the
grouping at one concrete point, used to find the generator's sparsity pattern (symmetry sectors).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxtherm._checks import raise_if
from jaxtherm.physics import nonsecular


@jax.custom_jvp
def eigh(h, tol):
    """``jnp.linalg.eigh`` of a Hermitian ``h`` whose derivative ignores rotations inside
    (near-)degenerate levels: ``dλ = diag(V† dH V)``, ``dV = V (F ∘ V† dH V)`` with
    ``F_ij = 1/(λ_j − λ_i)`` only where ``|λ_j − λ_i| > tol`` (zero elsewhere). The Davies
    generator is invariant under those rotations (degenerate levels share their jump
    operators), so this gives its derivative where the plain ``eigh`` derivative is NaN."""
    w, v = jnp.linalg.eigh(h)
    return w, v


@eigh.defjvp
def _eigh_jvp(primals, tangents):
    h, tol = primals
    dh, _ = tangents
    w, v = jnp.linalg.eigh(h)
    gap = w[None, :] - w[:, None]
    far = jnp.abs(gap) > tol
    f = jnp.where(far, 1.0 / jnp.where(far, gap, 1.0), 0.0)
    vdv = jnp.conj(v).T @ dh @ v
    return (w, v), (jnp.real(jnp.diagonal(vdv)).astype(w.dtype), v @ (f * vdv))


def _in_eigenbasis(energies, v, coupling, spectrum, rate, beta, cutoff, tol, counting: int = 0,
                   equation: str = "davies"):
    """The Davies superoperator in the eigenbasis ``(E, V)`` of ``H``, ``(d², d²)``; with
    ``counting = k ≥ 1`` only its jump part, each transition ``m → n`` weighted by the energy
    it takes from the bath to the power ``k``: ``Σ_ν ν^k γ(−ν) A(−ν) ρ A(−ν)†`` with
    ``ν = E_n − E_m`` (the counting superoperators of ``jaxtherm.physics.fluctuations``).
    ``equation = "redfield"`` or ``"ule"``: that generator instead
    (``jaxtherm.physics.nonsecular.superoperator``; no counting)."""
    d = v.shape[0]
    x = jnp.conj(v).T @ coupling @ v  # x[n, m] = ⟨n|X|m⟩
    omega = energies[:, None] - energies[None, :]  # omega[m, n] = E_m − E_n
    if equation != "davies":
        raise_if(counting, ValueError(f"current fluctuations are not defined for the {equation} equation"))
        rates = functools.partial(spectrum.rates, beta=beta, rate=rate, cutoff=cutoff)
        gamma = nonsecular.transition_rates(omega, x, rates, spectrum.zero_frequency(beta, rate, cutoff), tol,
                                            jnp.max(jnp.abs(coupling)))
        return nonsecular.superoperator(equation, x, gamma)
    g_mn = bohr_rates(omega, spectrum, rate, beta, cutoff, tol).astype(x.dtype)
    # jump part K[(n,n'),(m,m')] = γ(ω_mn) x_nm x̄_n'm' [ω_mn ≈ ω_m'n']
    w_nm = omega.T  # w_nm[n, m] = ω_mn
    same = jnp.abs(w_nm[:, None, :, None] - w_nm[None, :, None, :]) <= tol  # [n, n', m, m']
    weight = g_mn.T if counting == 0 else g_mn.T * (-w_nm.astype(x.dtype)) ** counting  # ν = E_n − E_m = −ω_mn
    jump = (weight * x)[:, None, :, None] * jnp.conj(x)[None, :, None, :] * same
    jump = jump.reshape(d * d, d * d)
    if counting:
        return jump
    # G[m', m] = Σ_n γ(ω_mn) x̄_nm' x_nm [E_m ≈ E_m']
    same_e = jnp.abs(energies[:, None] - energies[None, :]) <= tol
    g = (jnp.conj(x).T @ (g_mn.T * x)) * same_e
    eye = jnp.eye(d, dtype=x.dtype)
    anti = jnp.kron(g, eye) + jnp.kron(eye, g.T)
    return jump - 0.5 * anti


def bohr_rates(omega, spectrum, rate, beta, cutoff, tol):
    """``γ(ω)`` at every Bohr frequency ``omega[m, n] = E_m − E_n`` of a transition ``m → n``: the
    spectrum's emission rate for ``ω > tol``, its absorption rate at ``|ω|`` for ``ω < −tol``, and
    zero for ``|ω| ≤ tol`` (no transition, no dephasing term); real, the shape of ``omega``."""
    transition = jnp.abs(omega) > tol
    # the spectrum at |ν|, evaluated at a safe frequency where there is no transition
    nu = jnp.where(transition, jnp.abs(omega), 1.0)
    emission, absorption = spectrum.rates(nu, beta, rate, cutoff)
    return jnp.where(transition, jnp.where(omega > 0, emission, absorption), 0.0)


def davies_generator(h, coupling, spectrum, rate, beta, cutoff, tol, equation: str = "davies"):
    """Davies superoperator of one bath, in the product basis (row-major ``vec``) (or, with
    ``equation = "redfield"`` or ``"ule"``, that generator: ``jaxtherm.physics.nonsecular``).

    Args:
        h: complex ``(d, d)`` Hermitian Hamiltonian (JAX).
        coupling: complex ``(d, d)`` Hermitian system–bath coupling operator ``X``.
        spectrum: a ``jaxtherm.physics.spectra.Spectrum``.
        rate, beta, cutoff: the bath's rate parameter, inverse temperature and cutoff (scalars;
            ``cutoff`` only for spectra that need it).
        tol: absolute tolerance for equal Bohr frequencies.

    Returns:
        Complex ``(d², d²)`` superoperator.
    """
    energies, v = eigh(h, tol)
    sup = _in_eigenbasis(energies, v, coupling, spectrum, rate, beta, cutoff, tol, 0, equation)
    u = jnp.kron(v, jnp.conj(v))  # vec(V ρ V†) = (V ⊗ V̄) vec ρ
    return u @ sup @ jnp.conj(u).T


def eigenbasis_generator(h, coupling, spectrum, rate, beta, cutoff, tol, equation: str = "davies"):
    """One bath's generator in the eigenbasis of ``H``: ``(E, V, S)`` with ``S`` the complex
    ``(d², d²)`` superoperator on the row-major ``vec`` of ``ρ_eig = V† ρ V`` (Davies, or with
    ``equation`` Redfield or ULE, ``jaxtherm.physics.nonsecular``). Arguments as
    ``davies_generator``; for tests and for looking at the generators themselves."""
    energies, v = eigh(h, tol)
    return energies, v, _in_eigenbasis(energies, v, coupling, spectrum, rate, beta, cutoff, tol, 0, equation)


def restricted_generators(h, baths, tol, rows, cols, eigensystem=None, counting: int = 0) -> list:
    """The real Davies generators of several baths on chosen real coordinates,
    ``(T⁻¹ U D_j U† T)[keep, keep]``, sharing one eigendecomposition of ``H``.

    ``U = V ⊗ V̄`` maps the eigenbasis to the product basis (``vec(VρV†) = U vec ρ``); only the
    rows of ``T⁻¹`` and columns of ``T`` that are kept are applied, so the cost is
    ``O(m d⁴)`` for ``m`` kept coordinates instead of ``O(d⁶)``.

    Args:
        h, tol: as ``davies_generator``.
        baths: one ``(coupling, spectrum, rate, beta, cutoff)`` per bath, as ``davies_generator``,
            optionally with the equation (``"davies"``, ``"redfield"``, ``"ule"``) as a sixth entry.
        rows: complex ``(m, d²)`` constant, the kept rows of ``T⁻¹``.
        cols: complex ``(d², m)`` constant, the kept columns of ``T``.
        eigensystem: ``(E, V)`` of ``h`` if already known (e.g. block by block); else ``eigh``.
        counting: ``k ≥ 1`` gives the counting superoperators ``𝒥_k`` instead (jump parts
            weighted by the energy quantum to the power ``k``; see ``_in_eigenbasis``).

    Returns:
        One real ``(m, m)`` matrix per bath.
    """
    energies, v = eigh(h, tol) if eigensystem is None else eigensystem
    u = jnp.kron(v, jnp.conj(v))
    left = jnp.asarray(rows, u.dtype) @ u
    right = jnp.conj(u).T @ jnp.asarray(cols, u.dtype)
    return [jnp.real(left @ (_in_eigenbasis(energies, v, *bath[:5], tol, counting, *bath[5:]) @ right))
            for bath in baths]


def grouped_transitions(energies: np.ndarray, v: np.ndarray, coupling: np.ndarray, tol: float):
    """The transitions of one bath grouped by Bohr frequency at one concrete point, NumPy: the
    jump operators ``A(ν) = Σ_{t ∈ ν} x_t |n_t⟩⟨m_t|`` (eigenbasis) without building them.

    Every component ``x_nm = ⟨n|X|m⟩ ≠ 0`` with ``ν = E_m − E_n``, ``|ν| > tol``, is a transition;
    sorted by ``ν``, the groups split where consecutive frequencies differ by more than ``tol``.

    Args:
        energies, v: eigenvalues ``(d,)`` and eigenvectors ``(d, d)`` (columns) of ``H``.
        coupling: ``(d, d)`` Hermitian coupling operator.
        tol: absolute tolerance for equal Bohr frequencies.

    Returns:
        ``(n, m, x, group)``: per transition ``t``, ``(T,)`` arrays of its final level ``n``,
        initial level ``m``, component ``x_t`` and group number ``0 … G−1`` (groups numbered by
        increasing frequency).
    """
    x = np.conj(v).T @ coupling @ v
    omega = energies[None, :] - energies[:, None]  # omega[n, m] = E_m − E_n for |n⟩⟨m|
    n_idx, m_idx = np.nonzero((np.abs(omega) > tol) & (np.abs(x) > 0))
    freqs = omega[n_idx, m_idx]
    order = np.argsort(freqs)
    group = np.empty(len(order), dtype=np.int64)
    group[order] = np.concatenate([[0], np.cumsum(np.diff(freqs[order]) > tol)])[:len(order)]
    return n_idx, m_idx, x[n_idx, m_idx], group
