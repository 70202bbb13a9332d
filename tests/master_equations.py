"""Independent references for master equations beyond the secular one: Bloch–Redfield and the
universal Lindblad equation (ULE), plus the exact (Landauer) heat current of two coupled
oscillators.

Nothing here imports jaxtherm or QuTiP: NumPy and SciPy only, written from the physics. The
local and global (Davies) references live in ``tests.reference`` (QuTiP); the tests compare
against them there.

Conventions (``docs/design.md`` §2): ħ = k_B = 1; ``J_j > 0`` means heat leaves bath j and enters
the system; a qubit's basis is ``(|0⟩, |1⟩)`` with lowering operator ``a = |0⟩⟨1|``; several
sites in ``np.kron`` order, site 0 most significant (the pair ``|n_a n_b⟩`` has index
``2 n_a + n_b``, two modes truncated at ``N`` levels ``N n_a + n_b``).

**Bath spectrum as one function of a signed frequency.** Bath j couples through a Hermitian
operator ``X_j``; in the eigenbasis of ``H = Σ_m E_m |m⟩⟨m|`` the component ``X_mn |m⟩⟨n|``
takes the system from ``n`` to ``m`` and gives the bath the energy ``ν = E_n − E_m``. Its rate is
``γ_j(ν)``, a callable of the signed ``ν`` (NumPy arrays in, arrays out):

    γ(ν) = emission(ν)        for ν > 0   (the system gives ν to the bath),
    γ(ν) = absorption(|ν|)    for ν < 0   (the system takes |ν| from the bath),

with jaxtherm's spectra (``jaxtherm/spectra.py``, ``docs/design.md`` §2.3; ``n̄(ν) =
1/(e^{βν} − 1)``): ``seed`` ``Γ`` / ``Γ e^{−β|ν|}``; ``bose`` ``γ(1 + n̄(ν))`` / ``γ n̄(|ν|)``;
``ohmic`` ``κν e^{−ν/ω_c}(1 + n̄(ν))`` / ``κ|ν| e^{−|ν|/ω_c} n̄(|ν|)``. This is exactly the rate
the Davies thermalizer of ``jaxtherm/davies.py`` (and ``tests.reference.davies_thermalizer``)
gives the transition at Bohr frequency ν. Detailed balance: ``γ(−ν) = e^{−βν} γ(ν)``. At ``ν = 0``
the helpers return the limit: ``seed`` Γ, ``ohmic`` κ/β, ``bose`` ``+inf`` (a flat density times
the Bose occupation diverges; a generator that would need it raises).

**QuTiP's convention** (``qutip.bloch_redfield_tensor``/``brterm``, QuTiP 5): the power spectrum
``S(ω)`` of an ``a_op`` is evaluated at ``ω = E_c − E_a`` for the term that takes ``c → a``
(tensor element ``R_{ab,cd} ∋ ½ A_ac A_db S(E_c − E_a)``): positive ``ω`` is emission, and the
½ is QuTiP's. So QuTiP's ``S`` *is* our ``γ``: ``a_ops=[[X, γ]]`` with no factor 2 and no sign
flip. QuTiP takes only ``S`` (real), no principal-value part: its tensor has no Lamb shift,
like the references here. ``sec_cutoff=-1`` turns the secular cut off. QuTiP evaluates ``S`` at
``ω = 0`` for every diagonal element, so a ``bose`` spectrum must be given a finite value there
(the product with ``X_mm = 0`` drops it) — see ``qutip_spectrum``.

**Bloch–Redfield** (no secular approximation, no Lamb shift):

    Λ_j = Σ_mn ½ γ_j(E_n − E_m) X_mn |m⟩⟨n|,
    D_j ρ = Λ_j ρ X_j + X_j ρ Λ_j† − X_j Λ_j ρ − ρ Λ_j† X_j.

Its secular restriction (keeping the tensor elements ``(ab ← cd)`` with
``|(E_a − E_b) − (E_c − E_d)| ≤ tol``) is the Davies generator.

**ULE** (Nathan & Rudner, PRB 102, 115109 (2020)), no Lamb shift: one jump operator per bath,

    L_j = Σ_mn √γ_j(E_n − E_m) X_mn |m⟩⟨n|,     D_j ρ = L_j ρ L_j† − ½{L_j†L_j, ρ}.

**Steady state**: ``𝓛 = −i[H, ·] + Σ_j D_j``, solved as ``𝓛ρ = 0`` with ``Tr ρ = 1`` (one
population equation replaced by the trace) by a dense NumPy solve in the eigenbasis, on the
block of coordinates coupled to the populations (the rest of ρ is zero when the steady state is
unique); heat current ``J_j = Tr(H D_j ρ)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.integrate
import scipy.linalg
import scipy.sparse
import scipy.sparse.csgraph

Gamma = Callable[[np.ndarray], np.ndarray]
"""A bath spectrum ``γ(ν)`` of the signed transition energy ν (see the module docstring)."""

COUPLING_ATOL = 1e-12
"""Matrix elements of a coupling operator in the eigenbasis below ``COUPLING_ATOL · max|X|`` are
round-off of an exact zero (a selection rule) and are set to zero."""


# ----------------------------------------------------------------------------- spectra


def _boltzmann(nu, beta):
    """``e^{−β|ν|}`` and ``1 − e^{−β|ν|}`` (``expm1``), exactly ``(0, 1)`` at ``β = ∞``."""
    a = np.abs(nu)
    if np.isinf(beta):
        return np.zeros_like(a), np.ones_like(a)
    return np.exp(-beta * a), -np.expm1(-beta * a)


def bose_occupation(nu, beta):
    """``n̄(ν) = 1/(e^{βν} − 1)`` for ``ν > 0`` (0 at ``β = ∞``)."""
    nu = np.asarray(nu, float)
    if np.isinf(beta):
        return np.zeros_like(nu)
    return 1.0 / np.expm1(beta * nu)


def seed_spectrum(rate: float, beta: float) -> Gamma:
    """``γ(ν) = Γ`` for ``ν ≥ 0``, ``Γ e^{−β|ν|}`` for ``ν < 0`` (the talk's thermalizer)."""

    def gamma(nu):
        nu = np.asarray(nu, float)
        x, _ = _boltzmann(nu, beta)
        return np.where(nu >= 0, rate, rate * x)

    return gamma


def bose_spectrum(rate: float, beta: float) -> Gamma:
    """Flat density times Bose occupation: ``γ(ν) = γ(1 + n̄(ν))`` for ``ν > 0``, ``γ n̄(|ν|)``
    for ``ν < 0``, i.e. ``γ/(1 − e^{−β|ν|})`` times ``1`` resp. ``e^{−β|ν|}``; ``+inf`` at
    ``ν = 0`` (finite temperature)."""

    def gamma(nu):
        nu = np.asarray(nu, float)
        x, one_minus_x = _boltzmann(nu, beta)
        with np.errstate(divide="ignore", invalid="ignore"):
            emission = rate / one_minus_x
        out = np.where(nu > 0, emission, emission * x)
        return np.where(nu == 0, rate if np.isinf(beta) else np.inf, out)

    return gamma


def ohmic_spectrum(rate: float, beta: float, cutoff: float) -> Gamma:
    """``γ(ν) = κ ν e^{−|ν|/ω_c} / (1 − e^{−βν})`` for all ``ν ≠ 0`` — emission
    ``κν e^{−ν/ω_c}(1 + n̄(ν))`` at ``ν > 0`` and absorption ``κ|ν| e^{−|ν|/ω_c} n̄(|ν|)`` at
    ``ν < 0`` are the same analytic expression — and the limit ``κ/β`` at ``ν = 0``
    (``β = ∞``: ``κν e^{−ν/ω_c}`` for ``ν > 0``, else 0)."""

    def gamma(nu):
        nu = np.asarray(nu, float)
        a = np.abs(nu)
        damp = rate * np.exp(-a / cutoff)
        if np.isinf(beta):
            return np.where(nu > 0, damp * a, 0.0)
        safe = np.where(nu == 0, 1.0, nu)
        ratio = np.where(nu == 0, 1.0 / beta, safe / -np.expm1(-beta * safe))
        return damp * ratio

    return gamma


def spectrum(name: str, rate: float, beta: float, cutoff: float | None = None) -> Gamma:
    """``γ(ν)`` of jaxtherm's spectrum ``name`` (``"seed"``, ``"bose"``, ``"ohmic"``)."""
    if name == "seed":
        return seed_spectrum(rate, beta)
    if name == "bose":
        return bose_spectrum(rate, beta)
    if name == "ohmic":
        if cutoff is None:
            raise ValueError("the ohmic spectrum needs a cutoff ω_c (parameter omega_cutoff)")
        return ohmic_spectrum(rate, beta, cutoff)
    raise ValueError(f"unknown spectrum {name!r}")


def qutip_spectrum(gamma: Gamma, zero: float = 0.0):
    """``γ`` as QuTiP 5 wants a spectrum (a function of exactly one argument named ``w``), with
    ``ν = 0`` (where QuTiP always evaluates it) sent to ``zero`` when ``γ(0)`` is not finite."""

    def s(w):
        value = float(gamma(np.asarray(w, float)))
        return value if np.isfinite(value) else zero

    return s


# ----------------------------------------------------------------------------- models


def _lowering_qubits(n: int, k: int) -> np.ndarray:
    """``1 ⊗ … ⊗ |0⟩⟨1| ⊗ … ⊗ 1`` (slot k of n qubits, site 0 most significant)."""
    sm = np.array([[0.0, 1.0], [0.0, 0.0]])
    out = np.ones((1, 1))
    for j in range(n):
        out = np.kron(out, sm if j == k else np.eye(2))
    return out


def _destroy(n: int) -> np.ndarray:
    return np.diag(np.sqrt(np.arange(1.0, n)), 1)


def _rate(p: dict, bath: str, spectrum_name: str) -> Gamma:
    return spectrum(spectrum_name, p[f"gamma_{bath}"], p[f"beta_{bath}"], p.get("omega_cutoff"))


def _pair(a: np.ndarray, b: np.ndarray, p: dict, spectrum_name: str):
    h = p["omega_a"] * a.T @ a + p["omega_b"] * b.T @ b + p["epsilon"] * (a.T @ b + b.T @ a)
    return h, {"a": (a + a.T, _rate(p, "a", spectrum_name)), "b": (b + b.T, _rate(p, "b", spectrum_name))}


def qubit_pair(p: dict, spectrum: str = "seed"):
    """``H = ω_a n_a + ω_b n_b + ε(a†b + b†a)`` (basis ``|n_a n_b⟩``, index ``2 n_a + n_b``),
    baths ``a``, ``b`` coupling through ``X = a + a†``, ``b + b†``. ``p``: ``omega_a, omega_b,
    beta_a, beta_b, gamma_a, gamma_b, epsilon`` (and ``omega_cutoff`` for ohmic).

    Returns ``(H, {bath: (X, γ)})``."""
    return _pair(_lowering_qubits(2, 0), _lowering_qubits(2, 1), p, spectrum)


def qubit_chain(p: dict, n: int = 3, spectrum: str = "seed"):
    """XX chain ``H = ω Σ_k n_k + g Σ_{k<n−1}(a_k† a_{k+1} + h.c.)``; bath ``h`` on site 0
    (``X = a_0 + a_0†``), ``c`` on site n−1. ``p``: ``omega, g, beta_h, beta_c, gamma_h, gamma_c``.

    Returns ``(H, {bath: (X, γ)})``."""
    a = [_lowering_qubits(n, k) for k in range(n)]
    h = p["omega"] * sum(x.T @ x for x in a)
    h = h + p["g"] * sum(a[k].T @ a[k + 1] + a[k + 1].T @ a[k] for k in range(n - 1))
    return h, {"h": (a[0] + a[0].T, _rate(p, "h", spectrum)), "c": (a[-1] + a[-1].T, _rate(p, "c", spectrum))}


def absorption_refrigerator(p: dict, spectrum: str = "seed"):
    """Qubits c, r, h (c most significant), ``E_r = E_c + E_h``,
    ``H = Σ_k E_k n_k + g(|0_c 1_r 0_h⟩⟨1_c 0_r 1_h| + h.c.)``, bath k coupling through
    ``a_k + a_k†``. ``p``: ``E_c, E_h, g, beta_c, beta_r, beta_h, gamma_c, gamma_r, gamma_h``.

    Returns ``(H, {bath: (X, γ)})`` with baths in the order c, r, h."""
    a = {k: _lowering_qubits(3, i) for i, k in enumerate("crh")}
    energy = {"c": p["E_c"], "r": p["E_c"] + p["E_h"], "h": p["E_h"]}
    swap = np.zeros((8, 8))
    swap[0b010, 0b101] = 1.0
    h = sum(energy[k] * a[k].T @ a[k] for k in "crh") + p["g"] * (swap + swap.T)
    return h, {k: (a[k] + a[k].T, _rate(p, k, spectrum)) for k in "crh"}


def oscillator_pair(p: dict, cutoff: int, spectrum: str = "seed"):
    """Two modes truncated at ``cutoff`` levels each (``a = destroy(N) ⊗ 1``,
    ``b = 1 ⊗ destroy(N)``, index ``N n_a + n_b``) with the qubit pair's ``H`` and couplings.

    Returns ``(H, {bath: (X, γ)})``."""
    d = _destroy(cutoff)
    one = np.eye(cutoff)
    return _pair(np.kron(d, one), np.kron(one, d), p, spectrum)


# ----------------------------------------------------------------------------- generators


def coupling_in_eigenbasis(x: np.ndarray, vecs: np.ndarray, atol: float = COUPLING_ATOL) -> np.ndarray:
    """``V† X V`` with entries below ``atol · max|X|`` set to exactly zero."""
    xe = vecs.conj().T @ x @ vecs
    xe[np.abs(xe) < atol * max(np.abs(xe).max(), 1e-300)] = 0.0
    return xe


def rates(energies: np.ndarray, xe: np.ndarray, gamma: Gamma) -> np.ndarray:
    """``R_mn = γ(E_n − E_m)`` where ``X_mn ≠ 0`` (the rate of the component ``X_mn |m⟩⟨n|``),
    0 elsewhere; the spectrum is evaluated only where a transition exists.

    Raises:
        ValueError: if a transition needs a non-finite rate (a ``bose`` bath at ``ν = 0``)."""
    nu = energies[None, :] - energies[:, None]  # nu[m, n] = E_n − E_m
    out = np.zeros(xe.shape)
    where = xe != 0
    out[where] = gamma(nu[where])
    if not np.all(np.isfinite(out)):
        bad = nu[where][~np.isfinite(out[where])]
        raise ValueError(f"the spectrum is not finite at transition energies {bad}")
    return out


def redfield_lambda(energies: np.ndarray, xe: np.ndarray, gamma: Gamma) -> np.ndarray:
    """``Λ = Σ_mn ½γ(E_n − E_m) X_mn |m⟩⟨n|`` (in the eigenbasis)."""
    return 0.5 * rates(energies, xe, gamma) * xe


def ule_jump(energies: np.ndarray, xe: np.ndarray, gamma: Gamma) -> np.ndarray:
    """``L = Σ_mn √γ(E_n − E_m) X_mn |m⟩⟨n|`` (in the eigenbasis)."""
    return np.sqrt(rates(energies, xe, gamma)) * xe


def redfield_apply(x: np.ndarray, lam: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """``D ρ = Λ ρ X + X ρ Λ† − X Λ ρ − ρ Λ† X``."""
    ld = lam.conj().T
    return lam @ rho @ x + x @ rho @ ld - x @ lam @ rho - rho @ ld @ x


def lindblad_apply(c: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """``D[c] ρ = c ρ c† − ½{c†c, ρ}``."""
    cd = c.conj().T
    cdc = cd @ c
    return c @ rho @ cd - 0.5 * (cdc @ rho + rho @ cdc)


def vec(rho: np.ndarray) -> np.ndarray:
    """Column-stacked ``vec``: ``ρ_ij`` at index ``i + d j``, so ``vec(AρB) = (Bᵀ ⊗ A) vec ρ``."""
    return rho.reshape(-1, order="F")


def unvec(v: np.ndarray) -> np.ndarray:
    d = int(round(np.sqrt(v.size)))
    return v.reshape(d, d, order="F")


def _sp(a):
    return scipy.sparse.csr_matrix(a)


def redfield_superoperator(x: np.ndarray, lam: np.ndarray) -> scipy.sparse.csr_matrix:
    """``redfield_apply`` as a sparse ``(d², d²)`` matrix on ``vec``:
    ``Xᵀ ⊗ Λ + Λ* ⊗ X − 1 ⊗ XΛ − (Λ†X)ᵀ ⊗ 1``."""
    eye = scipy.sparse.identity(x.shape[0], format="csr")
    ld = lam.conj().T
    return (scipy.sparse.kron(_sp(x.T), _sp(lam)) + scipy.sparse.kron(_sp(lam.conj()), _sp(x))
            - scipy.sparse.kron(eye, _sp(x @ lam)) - scipy.sparse.kron(_sp((ld @ x).T), eye)).tocsr()


def lindblad_superoperator(c: np.ndarray) -> scipy.sparse.csr_matrix:
    """``lindblad_apply`` on ``vec``: ``c* ⊗ c − ½(1 ⊗ c†c + (c†c)ᵀ ⊗ 1)``."""
    eye = scipy.sparse.identity(c.shape[0], format="csr")
    cdc = c.conj().T @ c
    return (scipy.sparse.kron(_sp(c.conj()), _sp(c))
            - 0.5 * (scipy.sparse.kron(eye, _sp(cdc)) + scipy.sparse.kron(_sp(cdc.T), eye))).tocsr()


def secular_mask(energies: np.ndarray, superop: scipy.sparse.spmatrix, tol: float) -> scipy.sparse.csr_matrix:
    """Keep the elements ``(ab ← cd)`` of an eigenbasis superoperator with
    ``|(E_a − E_b) − (E_c − E_d)| ≤ tol`` (the secular approximation, element by element)."""
    d = energies.size
    idx = np.arange(d * d)
    omega = energies[idx % d] - energies[idx // d]  # ω of vec index i + d j: E_i − E_j
    coo = superop.tocoo()
    keep = np.abs(omega[coo.row] - omega[coo.col]) <= tol
    return scipy.sparse.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=superop.shape)


@dataclass
class SteadyState:
    """A steady state and its heat currents.

    Attributes:
        rho: ρ in the model's (product) basis.
        currents: ``{bath: J_j = Tr(H D_j ρ)}``.
        energies, vecs: the eigendecomposition of ``H`` (columns of ``vecs``).
        rho_eig: ρ in the eigenbasis.
        dissipators: ``{bath: D_j}`` as sparse eigenbasis superoperators on ``vec``.
        block: the vec indices solved for (the rest of ρ is zero).
        residual: ``max|𝓛 vec ρ|``.
    """

    rho: np.ndarray
    currents: dict
    energies: np.ndarray
    vecs: np.ndarray
    rho_eig: np.ndarray
    dissipators: dict = field(repr=False)
    block: np.ndarray = field(repr=False)
    residual: float = 0.0


def dissipators(h: np.ndarray, baths: dict, method: str, secular_tol: float | None = None):
    """``(E, V, {bath: D_j})``: the eigendecomposition of ``H`` and each bath's dissipator as a
    sparse superoperator in the eigenbasis. ``method``: ``"redfield"`` or ``"ule"``;
    ``secular_tol`` (Redfield only) keeps only its secular elements (``secular_mask``)."""
    energies, vecs = np.linalg.eigh(h)
    out = {}
    for name, (x, gamma) in baths.items():
        xe = coupling_in_eigenbasis(x, vecs)
        if method == "redfield":
            sup = redfield_superoperator(xe, redfield_lambda(energies, xe, gamma))
            if secular_tol is not None:
                sup = secular_mask(energies, sup, secular_tol)
        elif method == "ule":
            if secular_tol is not None:
                raise ValueError("secular_tol is for the Redfield equation")
            sup = lindblad_superoperator(ule_jump(energies, xe, gamma))
        else:
            raise ValueError(f"method must be 'redfield' or 'ule'; got {method!r}")
        out[name] = sup
    return energies, vecs, out


def solve_generator(energies: np.ndarray, generator: scipy.sparse.spmatrix) -> tuple[np.ndarray, np.ndarray, float]:
    """``(ρ_eig, block, residual)``: the steady state of an eigenbasis generator (``vec``).

    The vec coordinates split into blocks that the generator does not connect (its sparsity
    graph's components; e.g. the parity of the excitation-number difference); with a unique
    steady state only the block of the populations is non-zero. That block is solved densely,
    its first population equation replaced by ``Tr ρ = 1``, plus one step of refinement."""
    d = energies.size
    pattern = abs(generator) + abs(generator).T
    _, labels = scipy.sparse.csgraph.connected_components(pattern, directed=False)
    populations = np.arange(d) * (d + 1)
    if len(set(labels[populations])) != 1:
        raise ValueError("the populations fall into several unconnected blocks: no unique steady state")
    block = np.nonzero(labels == labels[populations[0]])[0]
    a = generator[block][:, block].toarray()
    residual_rows = a.copy()
    trace_row = np.isin(block, populations).astype(complex)
    first = int(np.nonzero(block == populations[0])[0][0])
    a[first] = trace_row
    b = np.zeros(block.size, complex)
    b[first] = 1.0
    lu = scipy.linalg.lu_factor(a)
    v = scipy.linalg.lu_solve(lu, b)
    v += scipy.linalg.lu_solve(lu, b - a @ v)
    full = np.zeros(d * d, complex)
    full[block] = v
    return unvec(full), block, float(np.abs(residual_rows @ v).max())


def steady_state(h: np.ndarray, baths: dict, method: str = "redfield", secular_tol: float | None = None) -> SteadyState:
    """Steady state of ``𝓛 = −i[H, ·] + Σ_j D_j`` (``method`` ``"redfield"`` or ``"ule"``) and
    the heat currents ``J_j = Tr(H D_j ρ) = Σ_n E_n (D_j ρ)_nn`` (eigenbasis).

    Args:
        h: the Hamiltonian (Hermitian, ``(d, d)``).
        baths: ``{bath: (X_j, γ_j)}`` (the model builders' second return value).
        method: ``"redfield"`` or ``"ule"``.
        secular_tol: Redfield only: keep only the secular elements (the Davies generator).
    """
    energies, vecs, ds = dissipators(h, baths, method, secular_tol)
    d = energies.size
    idx = np.arange(d * d)
    unitary = scipy.sparse.diags(-1j * (energies[idx % d] - energies[idx // d]))
    generator = (unitary + sum(ds.values())).tocsr()
    rho_eig, block, residual = solve_generator(energies, generator)
    populations = np.arange(d) * (d + 1)
    v = vec(rho_eig)
    currents = {name: float(np.real(energies @ (sup @ v)[populations])) for name, sup in ds.items()}
    return SteadyState(vecs @ rho_eig @ vecs.conj().T, currents, energies, vecs, rho_eig, ds, block, residual)


def redfield(h, baths, secular_tol=None) -> SteadyState:
    """``steady_state(h, baths, "redfield", secular_tol)``."""
    return steady_state(h, baths, "redfield", secular_tol)


def ule(h, baths) -> SteadyState:
    """``steady_state(h, baths, "ule")``."""
    return steady_state(h, baths, "ule")


# ----------------------------------------------------------------------------- exact current


def landauer_current(omega_a, omega_b, epsilon, gamma_a, gamma_b, beta_a, beta_b, lower=0.0, epsabs=0.0, epsrel=1e-11):
    """Exact heat current out of bath a for two bilinearly coupled oscillators with flat
    (``bose``) baths (Hofer et al., NJP 19, 123037 (2017)):

        J_a = (1/2π) ∫ dω ω γ_a γ_b |G_ab(ω)|² (n̄_a(ω) − n̄_b(ω)),
        G(ω) = (ω − h + iΓ/2)⁻¹,  h = [[ω_a, ε], [ε, ω_b]],  Γ = diag(γ_a, γ_b),

    so ``G_ab = ε / ((ω − ω_a + iγ_a/2)(ω − ω_b + iγ_b/2) − ε²)``; ``J_b = −J_a``, and
    ``T_a > T_b`` gives ``J_a > 0`` (heat from bath a into the system).

    The flat density is a wide-band idealisation: ``lower = 0`` (default) integrates over the
    physical bath frequencies ``ω > 0``; ``lower = −inf`` over the whole line with
    ``n̄(−ω) = −1 − n̄(ω)`` (so ``n̄_a − n̄_b`` is odd in ω). The two differ by the
    off-resonant ``ω < 0`` tail, a relative ``O(γ/ω)`` amount that grows as the lower normal
    mode approaches 0 (γ_a = 0.1, γ_b = 0.15, ε = 0.73, ω = 1, β = 1.5, 3: 2.4 %; Redfield at
    cutoff 8 is −0.3 % from ``lower = 0`` and −2.6 % from ``lower = −inf`` there, so ``0`` is the
    default); compare with master equations only where the difference is negligible. The range is split at 0 and at the normal-mode
    frequencies ``(ω_a+ω_b)/2 ± √((ω_a−ω_b)²/4 + ε²)`` (the peaks of ``|G_ab|²``) for ``quad``.
    """

    def occupation_difference_times_omega(w):
        a = abs(w)
        if a == 0.0:  # ω n̄(ω) → T
            return (0.0 if np.isinf(beta_a) else 1.0 / beta_a) - (0.0 if np.isinf(beta_b) else 1.0 / beta_b)
        with np.errstate(over="ignore"):  # far tails: n̄ = 0
            na = 0.0 if np.isinf(beta_a) else 1.0 / np.expm1(beta_a * a)
            nb = 0.0 if np.isinf(beta_b) else 1.0 / np.expm1(beta_b * a)
        return a * (na - nb)  # ω (n̄_a(ω) − n̄_b(ω)) is even in ω

    def integrand(w):
        g = epsilon / ((w - omega_a + 0.5j * gamma_a) * (w - omega_b + 0.5j * gamma_b) - epsilon**2)
        return gamma_a * gamma_b * abs(g) ** 2 * occupation_difference_times_omega(w) / (2 * np.pi)

    mean, radius = 0.5 * (omega_a + omega_b), np.hypot(0.5 * (omega_a - omega_b), epsilon)
    width = max(gamma_a, gamma_b, 1e-300)
    points = sorted({lower, 0.0, mean - radius, mean + radius} - {-np.inf})
    points = [p for p in points if p >= lower]
    # a finite stretch around the peaks, then the tails to ±∞
    top = max(points) + 200 * width + 50 * radius + 50 * max(abs(omega_a), abs(omega_b))
    edges = points + [top]
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        if hi > lo:
            total += scipy.integrate.quad(integrand, lo, hi, epsabs=epsabs, epsrel=epsrel, limit=500)[0]
    total += scipy.integrate.quad(integrand, top, np.inf, epsabs=epsabs, epsrel=epsrel, limit=500)[0]
    if np.isinf(lower) and lower < 0:
        total += scipy.integrate.quad(integrand, -np.inf, min(points), epsabs=epsabs, epsrel=epsrel, limit=500)[0]
    return total


# ----------------------------------------------------------------------------- recorded points

REDFIELD_NOT_POSITIVE_BOSE = {
    "model": "qubit_pair",
    "spectrum": "bose",
    "params": dict(omega_a=1.0, omega_b=0.25, beta_a=1.0, beta_b=10.0, gamma_a=2.0, gamma_b=1.0, epsilon=0.4),
}
"""A strong-coupling qubit-pair point (γ ≳ ω) where the Redfield steady state is not positive
(smallest eigenvalue ≈ −0.283) and its current runs the wrong way (``J_a ≈ −0.212`` although
``T_a = 1 > T_b = 0.1``), while the ULE state is positive (smallest eigenvalue ≈ +0.097). With
both rates divided by 100 the Redfield state is positive (≈ +0.100)."""

REDFIELD_NOT_POSITIVE_SEED = {
    "model": "qubit_pair",
    "spectrum": "seed",
    "params": dict(omega_a=1.0, omega_b=0.5, beta_a=10.0, beta_b=2.0, gamma_a=0.5, gamma_b=2.0, epsilon=0.4),
}
"""The same for the default ``seed`` spectrum: Redfield's smallest eigenvalue ≈ −0.0195 and
``J_a ≈ +0.0095`` out of the colder bath a (σ < 0); the ULE's smallest eigenvalue ≈ +0.0179."""

REDFIELD_NOT_POSITIVE_CHAIN = {
    "model": "qubit_chain",
    "spectrum": "bose",
    "params": dict(omega=1.0, g=0.3, beta_h=0.5, beta_c=10.0, gamma_h=2.0, gamma_c=2.0),
}
"""A 3-qubit chain point: Redfield's smallest eigenvalue ≈ −0.0153, the ULE's ≈ +3.8e-5."""

OSCILLATOR_LANDAUER = {
    "cutoff": 8,
    "params": dict(omega_a=1.0, omega_b=1.0, beta_a=1.5, beta_b=3.0, gamma_a=0.05, gamma_b=0.075),
    "epsilons": (0.005, 0.05, 0.365),
}
"""Oscillator pair (flat ``bose`` baths, cutoff 8) where the Redfield current is within 2 % of
the Landauer current from the local (ε = γ_a/10) to the global regime (ε ≈ 7γ_a): measured
−0.21 %, −0.22 %, −0.12 % (and −0.65 %, −0.58 %, −0.19 % with ``omega_b = 0.8``). The statement
fails for larger rates (γ_a = 0.2ω: −2.5 % … −3.7 %; the gap grows like γ², Redfield's
O(γ²) error — the local master equation stays within 0.6 % there) and for hotter baths at
this cutoff (β_a = 0.5: −23 % in the local regime, the truncation at 8 levels; the local
master equation is off by the same amount)."""
