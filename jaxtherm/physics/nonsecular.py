"""Thermalizers beyond the secular approximation: Bloch–Redfield and the universal Lindblad
equation (ULE), built like the Davies generator from the eigenbasis of the full ``H(p)``.

Conventions (``docs/design.md`` §2.4, §2.11): ``H = Σ_m E_m |m⟩⟨m|``, ``x = V† X V`` the bath's
coupling in that eigenbasis, and ``γ[m, n] = γ(E_m − E_n)`` the rate of the transition ``m → n``
(the component ``x_nm |n⟩⟨m|``), from the bath's spectrum exactly as for ``Davies``: emission at
``ν = E_m − E_n > 0`` (the system gives ``ν`` to the bath), absorption at ``|ν|`` for ``ν < 0``.
No Lamb shift in either equation. Where ``|ν| ≤ tol`` the rate is the spectrum's limit at
``ν = 0`` (``Spectrum.zero_frequency``: ``seed`` Γ, ``ohmic`` κ/β, ``bose`` ``+inf``), except
for components below ``COUPLING_ATOL · max|X|``, which are selection-rule zeros and carry no rate.

**Bloch–Redfield**:

    Λ = Σ_mn ½ γ(E_n − E_m) x_mn |m⟩⟨n|,     D ρ = Λ ρ X + X ρ Λ† − X Λ ρ − ρ Λ† X.

**ULE** (Nathan & Rudner, PRB 102, 115109 (2020)):

    L = Σ_mn √γ(E_n − E_m) x_mn |m⟩⟨n|,     D ρ = L ρ L† − ½{L†L, ρ}.

**One form for all three.** Each generator is, entry by entry in the eigenbasis,

    (D ρ)_{nn'} = Σ_{ab} w(a→n, b→n') x_na x̄_n'b ρ_ab − ½ Σ_a G_na ρ_an' − ½ Σ_b ρ_nb G̃_bn',

with a weight for each *pair* of transitions ``(a → n, b → n')``:

| equation | ``w(a→n, b→n')`` | ``G_ab`` (left) | right ``G̃`` |
| --- | --- | --- | --- |
| Davies | ``γ(a→n) [ω_an ≈ ω_bn']`` | ``Σ_k γ(b→k) x̄_ka x_kb [E_a ≈ E_b]`` | ``G`` |
| Redfield | ``½(γ(a→n) + γ(b→n'))`` | ``Σ_k γ(b→k) x̄_ka x_kb`` | ``G†`` |
| ULE | ``√γ(a→n) √γ(b→n')`` | ``Σ_k √γ(a→k) √γ(b→k) x̄_ka x_kb`` | ``G`` |

(``ω_an = E_a − E_n``). Keeping only Redfield's terms with ``ω_an = ω_bn'`` (and ``E_a = E_b``
in ``G``) gives Davies: the secular approximation is the mask. For a real ``H`` and real
couplings every weight and ``x`` is real, so the populations and ``Re ρ`` evolve apart from
``Im ρ`` except through ``−i[H, ·]``: the real eigenbasis construction of
``jaxtherm.physics.secular`` applies to all three unchanged, with these weights
(``pair_weights``, ``anticommutator``).

The heat current of bath j is ``J_j = Tr(H D_j ρ) = Σ_n E_n (D_j ρ)_nn``, with ``D_j`` that
bath's part of the generator alone, so ``Σ_j J_j + P = 0`` exactly as for the other couplings.

Positivity: Redfield's ``D`` is not of Lindblad form, and its steady state may have a negative
eigenvalue at strong coupling (``γ ≳ ω``); the ULE's is completely positive. The kernel reports
the smallest eigenvalue (``jaxtherm.physics.observables.smallest_eigenvalue``) and flags a point
below ``−POSITIVITY_TOLERANCE`` (``jaxtherm.status``).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxtherm._checks import raise_if

EQUATIONS = ("davies", "redfield", "ule")

COUPLING_ATOL = 1e-12
"""Components of a coupling in the eigenbasis below ``COUPLING_ATOL · max|X|`` are selection-rule
zeros (round-off of an exact zero): they carry no rate, also where the spectrum diverges at ``ν = 0``
(``bose``). The same rule as the tests' independent reference (``tests/master_equations.py``)."""


def _check(equation: str) -> None:
    raise_if(equation not in EQUATIONS, ValueError(f"equation must be one of {', '.join(EQUATIONS)}; got {equation!r}"))


def transition_rates(omega, x, rates, zero, tol, scale):
    """``γ[m, n] = γ(ω_mn)``, ``ω_mn = E_m − E_n``, the rate of the transition ``m → n`` for the
    non-secular equations: the spectrum at ``|ω_mn|`` (emission where ``ω_mn > 0``), and where
    ``|ω_mn| ≤ tol`` its ``ν = 0`` limit if ``|x_nm| > COUPLING_ATOL · scale`` (else 0).

    Args:
        omega: ``(d, d)`` Bohr frequencies ``omega[m, n] = E_m − E_n``.
        x: ``(d, d)`` coupling in the eigenbasis, ``x[n, m] = ⟨n|X|m⟩``.
        rates: ``ν ↦ (emission, absorption)`` of the bath at the point (``ν > 0``).
        zero: the rate at ``ν = 0`` (``jaxtherm.physics.spectra.Spectrum.zero_frequency``).
        tol: absolute tolerance for a zero Bohr frequency.
        scale: ``max|X|`` (a constant of the model).

    Returns:
        Real ``(d, d)`` array.
    """
    transition = jnp.abs(omega) > tol
    emission, absorption = rates(jnp.where(transition, jnp.abs(omega), 1.0))  # a safe ν where no transition
    coupled = jnp.abs(x.T) > COUPLING_ATOL * scale  # x.T[m, n] = x_nm
    at_zero = jnp.where(coupled, zero, 0.0)
    return jnp.where(transition, jnp.where(omega > 0, emission, absorption), at_zero)


def safe_sqrt(g):
    """``√g`` for rates ``g ≥ 0``, 0 with a zero derivative where ``g = 0`` (an absorption at
    ``β = ∞``), so that the ULE's derivatives stay finite."""
    positive = g > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, g, 1.0)), 0.0)


def pair_weights(equation: str, g1, g2, same=None):
    """``w(a→n, b→n')`` of the module docstring from ``g1 = γ(a→n)``, ``g2 = γ(b→n')`` (and,
    for Davies, ``same = [ω_an ≈ ω_bn']``); scalars or arrays."""
    _check(equation)
    if equation == "davies":
        return g1 * same
    if equation == "redfield":
        return 0.5 * (g1 + g2)
    return safe_sqrt(g1) * safe_sqrt(g2)


def anticommutator(equation: str, x, gamma, same_e=None):
    """``G_ab`` of the module docstring as a ``(d, d)`` array from ``x`` (``x[n, m] = ⟨n|X|m⟩``)
    and ``γ[m, n]`` (``transition_rates``); ``same_e = [E_a ≈ E_b]`` for Davies. The right
    factor is ``G`` itself for Davies and the ULE and ``G†`` for Redfield (``right_transposed``)."""
    _check(equation)
    if equation == "ule":
        jump = safe_sqrt(gamma).T * x  # L[k, a] = √γ(a→k) x_ka
        return jnp.conj(jump).T @ jump
    g = jnp.conj(x).T @ (gamma.T * x)  # Σ_k γ(b→k) x̄_ka x_kb
    return g * same_e if equation == "davies" else g


def right_transposed(equation: str) -> bool:
    """Whether the right factor of the anticommutator part is ``G†`` (Redfield) instead of ``G``."""
    return equation == "redfield"


def superoperator(equation: str, x, gamma):
    """The Redfield or ULE dissipator of one bath in the eigenbasis, as a complex ``(d², d²)``
    superoperator on row-major ``vec`` (``vec(AρB) = (A ⊗ Bᵀ) vec ρ``).

    Args:
        equation: ``"redfield"`` or ``"ule"``.
        x: ``(d, d)`` coupling in the eigenbasis.
        gamma: ``(d, d)`` ``γ[m, n]`` (``transition_rates``).
    """
    d = x.shape[0]
    eye = jnp.eye(d, dtype=x.dtype)
    g = gamma.T.astype(x.dtype)  # g[m, n] = γ(n → m), the rate of the component x_mn |m⟩⟨n|
    if equation == "redfield":
        lam = 0.5 * g * x
        lam_dag = jnp.conj(lam).T
        return (jnp.kron(lam, x.T) + jnp.kron(x, jnp.conj(lam)) - jnp.kron(x @ lam, eye)
                - jnp.kron(eye, (lam_dag @ x).T))
    if equation == "ule":
        jump = safe_sqrt(gamma).T.astype(x.dtype) * x
        ldl = jnp.conj(jump).T @ jump
        return jnp.kron(jump, jnp.conj(jump)) - 0.5 * (jnp.kron(ldl, eye) + jnp.kron(eye, ldl.T))
    raise ValueError(f"equation must be 'redfield' or 'ule'; got {equation!r}")


def secular_part(superop, energies, tol):
    """The secular part of an eigenbasis superoperator (row-major ``vec``): the elements
    ``(ab ← cd)`` with ``|(E_a − E_b) − (E_c − E_d)| ≤ tol``, the others set to zero. Of
    Redfield's generator it is the Davies generator (module docstring)."""
    bohr = (energies[:, None] - energies[None, :]).reshape(-1)  # ω of vec index a d + b: E_a − E_b
    return jnp.where(jnp.abs(bohr[:, None] - bohr[None, :]) <= tol, superop, 0.0)


def sample_terms(equation: str, v: np.ndarray, coupling: np.ndarray, rng: np.random.Generator) -> list:
    """The products ``ρ ↦ A ρ B`` (product basis) of a Redfield or ULE dissipator at one concrete
    point, with generic positive rates: the union of their patterns is the dissipator's pattern,
    for the symmetry sector (``jaxtherm.solvers.symmetry_sector``). NumPy.

    Redfield: ``(Λ, X), (X, Λ†), (XΛ, 1), (1, Λ†X)``; ULE: ``(L, L†), (L†L, 1), (1, L†L)``
    (module docstring), with rates ``γ`` drawn from ``rng`` (``(d, d)`` uniform in ``[0.5, 1.5]``).

    Args:
        equation: ``"redfield"`` or ``"ule"``.
        v: ``(d, d)`` eigenvectors (columns) of ``H``.
        coupling: ``(d, d)`` Hermitian coupling operator ``X``.
        rng: the generator the rates are drawn from.

    Returns:
        A list of ``(A, B)`` pairs of complex ``(d, d)`` arrays, ``None`` for an identity factor.
    """
    x = np.conj(v).T @ coupling @ v
    x = np.where(np.abs(x) > COUPLING_ATOL * max(np.abs(coupling).max(), 1e-300), x, 0.0)
    g = rng.uniform(0.5, 1.5, x.shape)
    if equation == "ule":
        jump = v @ (np.sqrt(g) * x) @ np.conj(v).T
        ldl = np.conj(jump).T @ jump
        return [(jump, np.conj(jump).T), (ldl, None), (None, ldl)]
    lam = v @ (0.5 * g * x) @ np.conj(v).T
    lam_dag = np.conj(lam).T
    return [(lam, coupling), (coupling, lam_dag), (coupling @ lam, None), (None, lam_dag @ coupling)]
