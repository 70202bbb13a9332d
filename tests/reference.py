"""Independent QuTiP reference systems for jaxtherm's built-in models (``docs/design.md`` §2).

Nothing here imports jaxtherm. Every model is written from its physical definition with QuTiP's
operators (``destroy``, ``qeye``, ``tensor``), its bath spectra in NumPy, its Davies (global)
thermalizers grouped by Bohr frequency from a NumPy eigendecomposition of the full ``H``, and
its steady state from ``qutip.steadystate(method="direct")``.

A ``System`` holds ``H`` (a ``Qobj``), the collapse operators of each bath and of each
non-thermal channel, and the inverse temperature of each bath. ``solve`` returns the
steady state and the observables ``J_x = Tr(H D_x ρ)`` (``D_x`` from bath x's own collapse
operators), ``power = Σ_channels Tr(H D_c ρ)``, ``sigma = −Σ_x β_x J_x`` and the model's
populations, named as jaxtherm names them.

Conventions (the models' own): ``D[L]ρ = LρL† − ½{L†L, ρ}``; basis of several sites in
``qutip.tensor`` order, site 0 most significant; a qubit's basis is ``(n=0, n=1)`` and its
lowering operator ``a = |0⟩⟨1| = qutip.destroy(2)``.
"""

from __future__ import annotations

import contextlib
import ctypes
from dataclasses import dataclass, field

import numpy as np
import qutip

SPECTRA = ("seed", "bose", "ohmic")
BOHR_TOLERANCE = 1e-8  # Bohr frequencies closer than this are one Davies transition


# ----------------------------------------------------------------------------- bath spectra


def rates(spectrum: str, nu, beta, rate, cutoff=None):
    """``(rate_down, rate_up)`` at a transition of energy ``ν > 0`` (NumPy, elementwise).

    seed:  ``Γ``, ``Γ e^{−βν}``;  bose: ``γ(1 + n̄)``, ``γ n̄``;  ohmic: ``κν e^{−ν/ω_c}(1 + n̄)``,
    ``κν e^{−ν/ω_c} n̄``; ``n̄ = 1/(e^{βν} − 1)``. Written with ``expm1`` so that every value is
    accurate to a few ulps (``1 + n̄ = 1/(1 − e^{−βν})``); ``β = ∞`` gives ``rate_up = 0``.
    """
    nu, beta, rate = np.asarray(nu, float), np.asarray(beta, float), np.asarray(rate, float)
    if np.any(nu <= 0):
        raise ValueError("rates() is for transitions of energy ν > 0")
    with np.errstate(over="ignore"):
        if spectrum == "seed":
            return rate * np.ones_like(nu * beta), rate * np.exp(-beta * nu)
        one_plus_nbar = 1.0 / -np.expm1(-beta * nu)
        nbar = 1.0 / np.expm1(beta * nu)
    if spectrum == "bose":
        return rate * one_plus_nbar, rate * nbar
    if spectrum == "ohmic":
        if cutoff is None:
            raise ValueError("the ohmic spectrum needs a cutoff ω_c")
        s = rate * nu * np.exp(-nu / np.asarray(cutoff, float))
        return s * one_plus_nbar, s * nbar
    raise ValueError(f"unknown spectrum {spectrum!r}")


# ----------------------------------------------------------------------------- thermalizers


def local_thermalizer(a: qutip.Qobj, omega, beta, gamma, spectrum="seed", cutoff=None) -> list[qutip.Qobj]:
    """``rate_down(ω) D[a] + rate_up(ω) D[a†]`` as two collapse operators."""
    down, up = rates(spectrum, omega, beta, gamma, cutoff)
    return [np.sqrt(down) * a, np.sqrt(up) * a.dag()]


@dataclass
class BohrGroups:
    """Davies jump operators of one coupling operator, grouped by Bohr frequency.

    ``frequencies[k]`` is the (mean) ν of group k, ``jumps[k]`` the matrix
    ``A(ν) = Σ_{E_m − E_n = ν} X_nm |n⟩⟨m|`` *in the eigenbasis of H* (sparse there), ``spread``
    the largest difference between frequencies merged into one group, ``gap`` the smallest
    distance between two distinct groups that carry weight (|X_nm| > 1e-12 ‖X‖) — a generic point
    has a gap far above ``BOHR_TOLERANCE``, so that no tolerance between ~1e-12 and ~gap/2
    changes the model.
    """

    frequencies: list = field(default_factory=list)
    jumps: list = field(default_factory=list)
    spread: float = 0.0
    gap: float = np.inf


def bohr_groups(energies: np.ndarray, xe: np.ndarray, tol: float = BOHR_TOLERANCE) -> BohrGroups:
    """Group the transitions ``m → n`` of ``X`` (``xe``: X in the eigenbasis, eigenvalues
    ``energies``) by ``ν = E_m − E_n ≠ 0``: clusters of sorted frequencies with successive
    differences ≤ tol."""
    d = len(energies)
    nus = energies[None, :] - energies[:, None]  # nus[n, m] = E_m − E_n
    n_idx, m_idx = np.nonzero((np.abs(nus) > tol) & (xe != 0))
    order = np.argsort(nus[n_idx, m_idx], kind="stable")
    n_idx, m_idx = n_idx[order], m_idx[order]
    nu_sorted = nus[n_idx, m_idx]
    breaks = np.nonzero(np.diff(nu_sorted) > tol)[0] + 1
    out = BohrGroups()
    weight_floor = 1e-12 * max(np.abs(xe).max(), 1e-300)
    significant = []
    for sl in np.split(np.arange(len(nu_sorted)), breaks):
        if len(sl) == 0:
            continue
        nu_values = nu_sorted[sl]
        jump = np.zeros((d, d), complex)
        jump[n_idx[sl], m_idx[sl]] = xe[n_idx[sl], m_idx[sl]]
        out.frequencies.append(float(nu_values.mean()))
        out.jumps.append(jump)
        out.spread = max(out.spread, float(nu_values.max() - nu_values.min()))
        if np.abs(xe[n_idx[sl], m_idx[sl]]).max() > weight_floor:
            significant.append(float(nu_values.mean()))
    if len(significant) > 1:
        out.gap = float(np.min(np.diff(np.sort(significant))))
    return out


def davies_thermalizer(energies, xe, beta, gamma, spectrum="seed", cutoff=None, tol=BOHR_TOLERANCE):
    """Collapse operators ``√rate(ν) A(ν)`` (in the eigenbasis of H) of the Davies thermalizer
    with coupling operator ``X`` (``xe``, in that eigenbasis): ``rate_down(ν)`` for ``ν > 0``
    (emission), ``rate_up(|ν|)`` for ``ν < 0``. Returns ``(c_ops, BohrGroups)``."""
    groups = bohr_groups(energies, xe, tol)
    c_ops = []
    for nu, jump in zip(groups.frequencies, groups.jumps):
        down, up = rates(spectrum, abs(nu), beta, gamma, cutoff)
        rate = float(down if nu > 0 else up)
        c_ops.append(qutip.Qobj(np.sqrt(rate) * jump).to("csr"))
    return c_ops, groups


# ----------------------------------------------------------------------------- systems


@dataclass
class System:
    """``H``, collapse operators per bath and per non-thermal channel, β per bath.

    Models with Davies baths are stored in the eigenbasis of ``H`` (where the grouped jump
    operators are sparse): then ``vecs`` holds the eigenvectors ``V`` (columns) and every
    operator here is ``V† O V``; ``steady_state`` returns ρ in the model's own basis.
    """

    h: qutip.Qobj
    baths: dict  # bath name → list of collapse operators
    betas: dict  # bath name → β
    channels: dict = field(default_factory=dict)  # non-thermal channel → collapse operators
    populations: dict = field(default_factory=dict)  # observable name → number operator
    groups: dict = field(default_factory=dict)  # bath name → BohrGroups (Davies baths only)
    vecs: np.ndarray | None = None  # eigenvectors of H when the operators are in its eigenbasis
    quanta: dict = field(default_factory=dict)  # bath name → energy each collapse operator takes from the bath

    @property
    def c_ops(self) -> list:
        return [c for cs in (*self.baths.values(), *self.channels.values()) for c in cs]

    def min_bohr_gap(self) -> float:
        return min((g.gap for g in self.groups.values()), default=np.inf)

    def to_model_basis(self, rho_here: np.ndarray) -> np.ndarray:
        return rho_here if self.vecs is None else self.vecs @ rho_here @ self.vecs.conj().T

    def to_here(self, rho: np.ndarray) -> np.ndarray:
        return rho if self.vecs is None else self.vecs.conj().T @ rho @ self.vecs


def dissipate(c_ops, rho: np.ndarray) -> np.ndarray:
    """``Σ_c D[c]ρ`` in NumPy (Schrödinger picture; used for small checks)."""
    out = np.zeros_like(rho, dtype=complex)
    for c in c_ops:
        c = c.full()
        cdc = c.conj().T @ c
        out += c @ rho @ c.conj().T - 0.5 * (cdc @ rho + rho @ cdc)
    return out


def _sparse(op):
    return op.to("csr").data.as_scipy()


def adjoint_dissipator(c_ops, op: qutip.Qobj) -> np.ndarray:
    """Heisenberg picture ``Σ_c (c† O c − ½{c†c, O})`` (sparse arithmetic; dense result), so that
    ``Tr(O D ρ) = Tr(ρ D*(O))`` — cheap even for thousands of Davies jump operators."""
    o = _sparse(op)
    out = 0 * o
    for c in c_ops:
        c = _sparse(c)
        cd = c.conj().T
        cdc = cd @ c
        out = out + cd @ o @ c - 0.5 * (cdc @ o + o @ cdc)
    return np.asarray(out.todense())


def expect(op: np.ndarray, rho: np.ndarray) -> float:
    """``Re Tr(O ρ)``."""
    return float(np.real(np.sum(op * rho.T)))


def _openblas_thread_controls():
    """(get, set) pairs of the OpenBLAS libraries loaded in this process (NumPy's and SciPy's)."""
    controls = []
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line and line.split()[-1].startswith("/")})
    except OSError:
        return controls
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for suffix in ("64_", ""):
            get = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
            set_ = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                controls.append((get, set_))
                break
    return controls


@contextlib.contextmanager
def single_blas_thread():
    """Run SciPy's sparse LU with one OpenBLAS thread, restoring the previous counts after.

    SuperLU's many small BLAS calls with OpenBLAS threading on a busy 2-core machine made one
    ``steadystate`` of a large oscillator pair far slower (``docs/performance.md``,
    "Timings behind the tests' choices"); the result is the same. A no-op where the libraries
    cannot be found.
    """
    controls = _openblas_thread_controls()
    before = [get() for get, _ in controls]
    for _, set_ in controls:
        set_(1)
    try:
        yield
    finally:
        for (_, set_), n in zip(controls, before):
            set_(n)


def steady_state(system: System) -> np.ndarray:
    """``qutip.steadystate(H, c_ops, method="direct")``, as a NumPy array in the model's basis."""
    with single_blas_thread():
        rho = qutip.steadystate(system.h, system.c_ops, method="direct").full()
    return system.to_model_basis(rho)


def _steady_state_system(system: System) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)``: the vectorised Liouvillian (column-stacked vec, NumPy) with its first equation
    replaced by ``Tr ρ = 1``, so that ``a vec(ρ) = b``."""
    h = system.h.full()
    d = h.shape[0]
    eye = np.eye(d)
    lv = -1j * (np.kron(eye, h) - np.kron(h.T, eye))
    for c in system.c_ops:
        c = c.full()
        cdc = c.conj().T @ c
        lv += np.kron(c.conj(), c) - 0.5 * (np.kron(eye, cdc) + np.kron(cdc.T, eye))
    a = lv.copy()
    a[0, :] = eye.reshape(-1)  # Tr ρ = Σ_i ρ_ii; vec index of ρ_ij is i + d j
    b = np.zeros(d * d, complex)
    b[0] = 1.0
    return a, b


def _rho(system: System, x: np.ndarray) -> np.ndarray:
    d = system.h.shape[0]
    rho = x.reshape(d, d, order="F")
    return system.to_model_basis(0.5 * (rho + rho.conj().T))


def steady_state_dense(system: System) -> np.ndarray:
    """A second, plain dense solve (NumPy; column-stacked vec, one equation replaced by Tr ρ = 1)
    with one step of iterative refinement — used only to measure the reference's own accuracy."""
    a, b = _steady_state_system(system)
    x = np.linalg.solve(a, b)
    x += np.linalg.solve(a, b - a @ x)
    return _rho(system, x)


def steady_state_exact(system: System, digits: int = 40) -> tuple[np.ndarray, float]:
    """``(ρ, κ)``: the steady state correct to float64 rounding however ill-conditioned the
    system, and the condition number ``κ`` (2-norm) of the system it solves.

    Iterative refinement with the residual ``b − a x`` and ``x`` itself kept in ``digits``
    decimal digits (mpmath) and the corrections from float64 solves: each step shrinks the error
    by ``~κ ε_mach``, so four steps reach ``10⁻¹⁹`` relative for any ``κ ≲ 10¹³``."""
    import mpmath

    a, b = _steady_state_system(system)
    with mpmath.workdps(digits):
        am = mpmath.matrix(a.tolist())
        bm = mpmath.matrix(b.tolist())
        xm = mpmath.matrix(np.linalg.solve(a, b).tolist())
        for _ in range(4):
            r = np.array((bm - am * xm).tolist(), dtype=complex).ravel()
            xm += mpmath.matrix(np.linalg.solve(a, r).tolist())
        x = np.array(xm.tolist(), dtype=complex).ravel()
    return _rho(system, x), float(np.linalg.cond(a))


def observables(system: System, rho: np.ndarray) -> dict:
    """``J_x = Tr(H D_x ρ)`` per bath, ``power``, ``sigma = −Σ β_x J_x``, populations, ``rho``
    (``rho`` in the model's basis)."""
    r = system.to_here(rho)
    out = {f"J_{name}": expect(adjoint_dissipator(cs, system.h), r) for name, cs in system.baths.items()}
    out["power"] = sum(expect(adjoint_dissipator(cs, system.h), r) for cs in system.channels.values())
    out["sigma"] = -sum(system.betas[name] * out[f"J_{name}"] for name in system.baths)
    for name, op in system.populations.items():
        out[name] = expect(op.full(), r)
    out["rho"] = rho
    return out


def solve(system: System) -> dict:
    """Steady state by QuTiP and its observables."""
    return observables(system, steady_state(system))


# ----------------------------------------------------------------------------- models


def _build(h, spec, coupling, spectrum, cutoff, populations, channels=None):
    """A ``System`` from ``H`` and ``spec = [(bath, a, ω, β, γ), …]``: a local thermalizer on
    ``a`` at ``ω`` per bath, or (``coupling == "global"``) a Davies thermalizer with ``X = a + a†``,
    in which case everything is rotated into the eigenbasis of ``H``."""
    channels = channels or {}
    baths, betas, groups = {}, {}, {}
    quanta = {}
    if coupling != "global":
        for name, a, omega, beta, gamma in spec:
            baths[name] = local_thermalizer(a, omega, beta, gamma, spectrum, cutoff)
            betas[name] = beta
            quanta[name] = [-omega, omega]  # emission gives ω to the bath, absorption takes it
        return System(h, baths, betas, channels, populations, quanta=quanta)
    energies, vecs = np.linalg.eigh(h.full())

    def rotate(op):
        return qutip.Qobj(vecs.conj().T @ op.full() @ vecs)

    for name, a, _, beta, gamma in spec:
        baths[name], groups[name] = davies_thermalizer(energies, rotate(a + a.dag()).full(), beta, gamma, spectrum, cutoff)
        betas[name] = beta
        quanta[name] = [-nu for nu in groups[name].frequencies]  # a jump at Bohr frequency ν > 0 emits ν
    return System(
        qutip.Qobj(np.diag(energies)).to("csr"),
        baths,
        betas,
        {k: [rotate(c) for c in cs] for k, cs in channels.items()},
        {k: rotate(op) for k, op in populations.items()},
        groups,
        vecs,
        quanta,
    )


def qubit_sites(n: int) -> list[qutip.Qobj]:
    """Lowering operators of n qubits, site 0 most significant."""
    return [qutip.tensor([qutip.destroy(2) if k == j else qutip.qeye(2) for k in range(n)]) for j in range(n)]


def _mode_pair(a, b, coupling, omega_a, omega_b, beta_a, beta_b, gamma_a, gamma_b, epsilon, spectrum, omega_cutoff):
    """Two modes with lowering operators ``a``, ``b`` (qubits or truncated oscillators), each with
    its bath, coupled as ``docs/design.md`` §2.5's pair."""
    h = omega_a * a.dag() * a + omega_b * b.dag() * b
    channels = {}
    if coupling == "incoherent":
        channels["coupling"] = [np.sqrt(epsilon) * a.dag() * b, np.sqrt(epsilon) * a * b.dag()]
    else:
        h += epsilon * (a.dag() * b + b.dag() * a)
    spec = [("a", a, omega_a, beta_a, gamma_a), ("b", b, omega_b, beta_b, gamma_b)]
    return _build(
        h,
        spec,
        "global" if coupling == "global" else "local",
        spectrum,
        omega_cutoff,
        {"n_a": a.dag() * a, "n_b": b.dag() * b},
        channels,
    )


def qubit_pair(coupling, omega_a, omega_b, beta_a, beta_b, gamma_a, gamma_b, epsilon, spectrum="seed", omega_cutoff=None):
    """``docs/design.md`` §2.5 qubit pair; basis |n_a n_b⟩, index 2 n_a + n_b."""
    a, b = qubit_sites(2)
    return _mode_pair(a, b, coupling, omega_a, omega_b, beta_a, beta_b, gamma_a, gamma_b, epsilon, spectrum, omega_cutoff)


def qubit_chain(n, coupling, omega, g, beta_h, beta_c, gamma_h, gamma_c, spectrum="seed", omega_cutoff=None):
    """XX chain ``H = ω Σ n_k + g Σ_{k<n−1} (a_k† a_{k+1} + h.c.)``, bath h on site 0, c on n−1."""
    s = qubit_sites(n)
    h = sum(omega * a.dag() * a for a in s)
    for k in range(n - 1):
        h += g * (s[k].dag() * s[k + 1] + s[k + 1].dag() * s[k])
    spec = [("h", s[0], omega, beta_h, gamma_h), ("c", s[-1], omega, beta_c, gamma_c)]
    return _build(h, spec, coupling, spectrum, omega_cutoff, {"n_h": s[0].dag() * s[0], "n_c": s[-1].dag() * s[-1]})


def absorption_refrigerator(
    coupling, E_c, E_h, g, beta_c, beta_r, beta_h, gamma_c, gamma_r, gamma_h, spectrum="seed", omega_cutoff=None
):
    """Three qubits c, r, h (c most significant), ``E_r = E_c + E_h``,
    ``H = Σ E_k n_k + g(|0_c 1_r 0_h⟩⟨1_c 0_r 1_h| + h.c.)``."""
    c, r, hq = qubit_sites(3)
    e_r = E_c + E_h
    k = (
        qutip.tensor(qutip.basis(2, 0), qutip.basis(2, 1), qutip.basis(2, 0))
        * qutip.tensor(qutip.basis(2, 1), qutip.basis(2, 0), qutip.basis(2, 1)).dag()
    )
    h = E_c * c.dag() * c + e_r * r.dag() * r + E_h * hq.dag() * hq + g * (k + k.dag())
    spec = [("c", c, E_c, beta_c, gamma_c), ("r", r, e_r, beta_r, gamma_r), ("h", hq, E_h, beta_h, gamma_h)]
    return _build(h, spec, coupling, spectrum, omega_cutoff, {"n_c": c.dag() * c, "n_r": r.dag() * r, "n_h": hq.dag() * hq})


def refrigerator_observables(system: System, rho=None) -> dict:
    out = observables(system, steady_state(system) if rho is None else rho)
    out["cop"] = out["J_c"] / out["J_h"]
    return out


def oscillator_pair(
    cutoff, coupling, omega_a, omega_b, beta_a, beta_b, gamma_a, gamma_b, epsilon, spectrum="seed", omega_cutoff=None
):
    """Two truncated modes (dim ``cutoff`` each, index ``cutoff·n_a + n_b``); ``ε(a†b + b†a)`` in
    ``H`` (local/global) or the channel ``ε(D[a†b] + D[ab†])`` (incoherent)."""
    a = qutip.tensor(qutip.destroy(cutoff), qutip.qeye(cutoff))
    b = qutip.tensor(qutip.qeye(cutoff), qutip.destroy(cutoff))
    return _mode_pair(a, b, coupling, omega_a, omega_b, beta_a, beta_b, gamma_a, gamma_b, epsilon, spectrum, omega_cutoff)


def single_mode(dim, coupling, omega, beta, gamma, spectrum="seed", omega_cutoff=None):
    """One qubit (dim 2) or truncated oscillator, ``H = ω a†a``, one bath "h"."""
    a = qutip.destroy(dim)
    h = omega * a.dag() * a
    return _build(h, [("h", a, omega, beta, gamma)], coupling, spectrum, omega_cutoff, {"n": a.dag() * a})


# ----------------------------------------------------------------------------- closed forms


def nbar(nu, beta):
    return 1.0 / np.expm1(beta * nu)


def oscillator_resonant_current(omega, beta_a, beta_b, gamma_a, gamma_b, epsilon):
    """``docs/design.md`` §2.6: ``J_a = 4ε²γ_aγ_b ω (n̄_a − n̄_b)/((γ_a + γ_b)(4ε² + γ_aγ_b))`` (untruncated,
    local bose baths, ω_a = ω_b = ω)."""
    return (
        4
        * epsilon**2
        * gamma_a
        * gamma_b
        * omega
        * (nbar(omega, beta_a) - nbar(omega, beta_b))
        / ((gamma_a + gamma_b) * (4 * epsilon**2 + gamma_a * gamma_b))
    )


def gibbs(h: np.ndarray, beta: float) -> np.ndarray:
    e, v = np.linalg.eigh(h)
    w = np.exp(-beta * (e - e.min()))
    return (v * (w / w.sum())) @ v.conj().T


# ----------------------------------------------------------------------------- random points


def chain_points(n_points, seed, n_sites):
    """Generic XX-chain points: ω ∈ [0.8, 2], g ∈ [0.1, 0.35] (so every single-particle energy
    ω + 2g cos(πk/(n+1)) ≥ 0.1 and distinct ones are ≥ 0.07 g apart), β ∈ [0.2, 3] with
    |β_h − β_c| ≥ 0.3 (a current well away from zero), γ ∈ [0.05, 1.5]."""
    rng = np.random.default_rng(seed)
    p = {
        "omega": rng.uniform(0.8, 2.0, n_points),
        "g": rng.uniform(0.1, 0.35, n_points),
        "beta_h": rng.uniform(0.2, 1.2, n_points),
        "gamma_h": rng.uniform(0.05, 1.5, n_points),
        "gamma_c": rng.uniform(0.05, 1.5, n_points),
    }
    p["beta_c"] = p["beta_h"] + rng.uniform(0.3, 1.8, n_points)
    swap = rng.random(n_points) < 0.3  # some points with the cold bath on site 0
    p["beta_h"][swap], p["beta_c"][swap] = p["beta_c"][swap], p["beta_h"][swap].copy()
    return p


def refrigerator_points(n_points, seed):
    """Generic refrigerator points: E_c ∈ [0.5, 1.5], E_h ∈ [1.5, 4], g ∈ [0.03, 0.3] (< E_c:
    the Davies frequencies E_x, E_x ± g are distinct and positive), β_c ∈ [0.5, 3] (cold),
    β_r ∈ [0.3, 1.5] (room), β_h ∈ [0.02, 0.5] (hot), γ ∈ [0.02, 1] — about half of them inside
    the cooling window ``β_c E_c + β_h E_h < β_r E_r``."""
    rng = np.random.default_rng(seed)
    return {
        "E_c": rng.uniform(0.5, 1.5, n_points),
        "E_h": rng.uniform(1.5, 4.0, n_points),
        "g": rng.uniform(0.03, 0.3, n_points),
        "beta_c": rng.uniform(0.5, 3.0, n_points),
        "beta_r": rng.uniform(0.3, 1.5, n_points),
        "beta_h": rng.uniform(0.02, 0.5, n_points),
        "gamma_c": rng.uniform(0.02, 1.0, n_points),
        "gamma_r": rng.uniform(0.02, 1.0, n_points),
        "gamma_h": rng.uniform(0.02, 1.0, n_points),
    }


def oscillator_points(n_points, seed):
    """Generic oscillator-pair points: ω ∈ [0.7, 2], ε ∈ [0.05, 0.4] (ε² < ω_aω_b: H bounded
    below), β ∈ [0.8, 3] (n̄ ≤ 0.8), γ ∈ [0.05, 1]."""
    rng = np.random.default_rng(seed)
    return {
        "omega_a": rng.uniform(0.7, 2.0, n_points),
        "omega_b": rng.uniform(0.7, 2.0, n_points),
        "beta_a": rng.uniform(0.8, 3.0, n_points),
        "beta_b": rng.uniform(0.8, 3.0, n_points),
        "gamma_a": rng.uniform(0.05, 1.0, n_points),
        "gamma_b": rng.uniform(0.05, 1.0, n_points),
        "epsilon": rng.uniform(0.05, 0.4, n_points),
    }


def point(p: dict, i: int) -> dict:
    return {k: float(np.asarray(v)[i]) for k, v in p.items()}
