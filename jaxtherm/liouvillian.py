"""Superoperators and the real representation of the Lindblad generator.

Conventions:

* ``vec(ρ)`` is row-major: ``vec(ρ)[i d + j] = ρ_ij``, so ``vec(A ρ B) = (A ⊗ Bᵀ) vec(ρ)``.
* The **real representation** writes a Hermitian ``ρ`` as ``ρ = Σ_k r_k B_k`` with real
  ``r ∈ ℝ^{d²}`` and the Hermitian basis ``B``: first the ``d`` populations ``|i⟩⟨i|``, then,
  for every pair ``i < j`` (row-major order), ``|i⟩⟨j| + |j⟩⟨i|`` (coefficient ``Re ρ_ij``)
  and ``i|i⟩⟨j| − i|j⟩⟨i|`` (coefficient ``Im ρ_ij``). A Hermiticity-preserving
  superoperator ``S`` becomes the real ``d²×d²`` matrix ``R = T⁻¹ S T`` with
  ``T = [vec B_0, …, vec B_{d²−1}]``.

Everything that does not depend on the parameters is built here once, in NumPy, when a model
is constructed; :func:`davies_superoperator` is the one piece evaluated inside the kernel,
because the global thermalizer depends on the eigenbasis of ``H(p)``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np


def commutator_superoperator(h: np.ndarray) -> np.ndarray:
    """Superoperator of ``ρ ↦ −i[H, ρ]``: ``−i (H ⊗ 1 − 1 ⊗ Hᵀ)``, shape ``(d², d²)``."""
    eye = np.eye(h.shape[0])
    return -1j * (np.kron(h, eye) - np.kron(eye, h.T))


def dissipator_superoperator(jump: np.ndarray) -> np.ndarray:
    """Superoperator of ``D[L]ρ = L ρ L† − ½{L†L, ρ}``.

    ``D[L] = L ⊗ L̄ − ½ (L†L ⊗ 1 + 1 ⊗ (L†L)ᵀ)``, shape ``(d², d²)``.
    """
    eye = np.eye(jump.shape[0])
    ldl = np.conj(jump).T @ jump
    return np.kron(jump, np.conj(jump)) - 0.5 * (np.kron(ldl, eye) + np.kron(eye, ldl.T))


def hermitian_basis(d: int) -> np.ndarray:
    """Matrix ``T`` whose column k is ``vec(B_k)`` for the Hermitian basis described above.

    Returns:
        Complex array of shape ``(d², d²)``.
    """
    cols = []
    for i in range(d):
        e = np.zeros((d, d), dtype=complex)
        e[i, i] = 1.0
        cols.append(e.ravel())
    for i in range(d):
        for j in range(i + 1, d):
            re = np.zeros((d, d), dtype=complex)
            re[i, j] = re[j, i] = 1.0
            im = np.zeros((d, d), dtype=complex)
            im[i, j], im[j, i] = 1j, -1j
            cols.extend([re.ravel(), im.ravel()])
    return np.stack(cols, axis=1)


def hermitian_basis_inverse(d: int) -> np.ndarray:
    """``T⁻¹``: maps ``vec(ρ)`` of a Hermitian ρ to its real coordinates ``r``."""
    return np.linalg.inv(hermitian_basis(d))


def real_superoperator(superop: np.ndarray) -> np.ndarray:
    """``R = T⁻¹ S T`` for a Hermiticity-preserving ``S``; real, shape ``(d², d²)``.

    Raises:
        ValueError: if ``S`` does not preserve Hermiticity (``R`` would not be real).
    """
    d = int(round(np.sqrt(superop.shape[0])))
    t = hermitian_basis(d)
    r = np.linalg.solve(t, superop @ t)
    if np.abs(r.imag).max(initial=0.0) > 1e-12 * max(1.0, np.abs(r).max()):
        raise ValueError("superoperator does not preserve Hermiticity")
    return np.ascontiguousarray(r.real)


def real_dual(op: np.ndarray) -> np.ndarray:
    """Real vector ``o`` with ``Tr(O ρ) = o · r`` for Hermitian ``O``: ``o_k = Tr(O B_k)``."""
    d = op.shape[0]
    t = hermitian_basis(d)
    # Tr(O B_k) = Σ_ij O_ji (B_k)_ij = vec(Oᵀ) · vec(B_k)
    o = op.T.ravel() @ t
    if np.abs(o.imag).max(initial=0.0) > 1e-12 * max(1.0, np.abs(o).max()):
        raise ValueError("observable is not Hermitian")
    return np.ascontiguousarray(o.real)


def density_matrix(r, d: int):
    """Density matrix ``ρ = Σ_k r_k B_k`` from real coordinates.

    Args:
        r: real array of shape ``(d²,)``.
        d: Hilbert-space dimension.

    Returns:
        Complex ``(d, d)`` Hermitian array (JAX).
    """
    pops = r[:d]
    rho = jnp.diag(pops.astype(jnp.result_type(r.dtype, jnp.complex64)))
    iu, ju = np.triu_indices(d, k=1)
    off = r[d:].reshape(-1, 2)
    z = off[:, 0] + 1j * off[:, 1]
    rho = rho.at[iu, ju].set(z)
    return rho.at[ju, iu].set(jnp.conj(z))


def davies_superoperator(h, coupling, rate, beta, tol):
    """Secular (Davies) thermalizer of one bath in the eigenbasis of the full Hamiltonian.

    With ``H = Σ_m E_m |m⟩⟨m|`` and ``X_nm = ⟨n|X|m⟩`` the bath coupling operator in that
    eigenbasis, the jump operators ``A(ν) = Σ_{E_m − E_n = ν} X_nm |n⟩⟨m|`` are grouped by Bohr
    frequency ``ν ≠ 0`` (degenerate frequencies share one jump operator), and

        D ρ = Σ_{ν≠0} γ(ν) (A(ν) ρ A(ν)† − ½{A(ν)†A(ν), ρ}),
        γ(ν) = Γ for ν > 0 (emission),  γ(ν) = Γ e^{−β|ν|} for ν < 0 (absorption).

    Two frequencies count as equal when they differ by less than ``tol``.

    Args:
        h: complex ``(d, d)`` Hermitian Hamiltonian (JAX).
        coupling: complex ``(d, d)`` Hermitian system–bath coupling operator ``X``.
        rate: scalar ``Γ``.
        beta: scalar inverse temperature ``β``.
        tol: absolute tolerance for equal Bohr frequencies.

    Returns:
        Complex ``(d², d²)`` superoperator in the product basis (row-major ``vec``).
    """
    d = h.shape[0]
    energies, v = jnp.linalg.eigh(h)
    x = jnp.conj(v).T @ coupling @ v  # x[n, m] = ⟨n|X|m⟩
    omega = energies[:, None] - energies[None, :]  # omega[m, n] = E_m − E_n
    emits = omega > tol
    gamma = jnp.where(emits, rate, rate * jnp.exp(-beta * jnp.abs(omega)))
    gamma = jnp.where(jnp.abs(omega) > tol, gamma, 0.0)  # no ν = 0 term
    g_mn = gamma.astype(x.dtype)
    # jump part K[(n,n'),(m,m')] = γ(ω_mn) x_nm x̄_n'm' [ω_mn ≈ ω_m'n']
    w_nm = omega.T  # w_nm[n, m] = ω_mn
    same = jnp.abs(w_nm[:, None, :, None] - w_nm[None, :, None, :]) <= tol  # [n, n', m, m']
    jump = (g_mn.T * x)[:, None, :, None] * jnp.conj(x)[None, :, None, :] * same
    jump = jump.reshape(d * d, d * d)
    # G[m', m] = Σ_n γ(ω_mn) x̄_nm' x_nm [E_m ≈ E_m']
    same_e = jnp.abs(energies[:, None] - energies[None, :]) <= tol
    g = (jnp.conj(x).T @ (g_mn.T * x)) * same_e
    eye = jnp.eye(d, dtype=x.dtype)
    anti = jnp.kron(g, eye) + jnp.kron(eye, g.T)
    u = jnp.kron(v, jnp.conj(v))  # vec(V ρ V†) = (V ⊗ V̄) vec ρ
    return u @ (jump - 0.5 * anti) @ jnp.conj(u).T
