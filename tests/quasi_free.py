r"""Exact quasi-free (Gaussian) steady states: an independent reference for large models.

Nothing here imports jaxtherm; NumPy and SciPy only. The two models are written from their
physical definition (``docs/design.md`` §2, README "Models"), units ħ = k_B = 1,
``D[L]ρ = LρL† − ½{L†L, ρ}``:

* the XX chain of ``qubit_chain(n, coupling="local")``,
  ``H = Σ_k ω_k n_k + Σ_k g_k (σ_k⁺σ_{k+1}⁻ + σ_{k+1}⁺σ_k⁻)`` with ``n_k = σ_k⁺σ_k⁻`` (the model
  has one ``ω`` and one ``g``; every hopping term has amplitude ``g``, no factor ½, no σᶻσᶻ
  term), bath ``h`` on site 0 and bath ``c`` on site n−1, each a local thermalizer at the site
  frequency: ``k_↓ D[σ⁻] + k_↑ D[σ⁺]``;
* the ``oscillator_pair(coupling="local")`` at infinite cutoff,
  ``H = ω_a a†a + ω_b b†b + ε(a†b + b†a)``, baths ``a`` and ``b`` local thermalizers
  ``k_↓ D[a] + k_↑ D[a†]`` at ``ω_a`` (resp. ``ω_b``).

Rates (``rates``), at the local frequency ``ω`` of the site, with ``x = e^{−βω}`` and
``n̄ = x/(1 − x)``: ``seed`` ``k_↓ = Γ, k_↑ = Γx``; ``bose`` ``γ(1 + n̄), γn̄``; ``ohmic``
``κω e^{−ω/ω_c}(1 + n̄), κω e^{−ω/ω_c} n̄``. Always ``k_↑/k_↓ = e^{−βω}``.

Derivation
==========

**Quadratic generator.** Let ``H = Σ_{kl} h_{kl} c_k† c_l`` (``h`` Hermitian) with modes
``c_k`` that are either fermions (``{c_k, c_l†} = δ_kl``) or bosons (``[c_k, c_l†] = δ_kl``),
and on every mode k a loss ``k_↓^k D[c_k]`` and a gain ``k_↑^k D[c_k†]`` (zero rates where
there is no bath). In the Heisenberg picture ``dX/dt = i[H, X] + Σ_L (L†XL − ½{L†L, X})``.
For ``X = c_i† c_j``, with ``G_ij = ⟨c_i† c_j⟩``:

* ``[c_k†c_l, c_i†c_j] = δ_li c_k†c_j − δ_kj c_i†c_l`` for both statistics, so
  ``i[H, c_i†c_j] → i(hᵀG − Ghᵀ)_ij``.
* loss, both statistics: ``c_k† c_i†c_j c_k − ½{n_k, c_i†c_j} = −½(δ_ik + δ_jk) c_i†c_j``
  (for i, j ≠ k the two terms cancel; for i = k the first vanishes — fermions: ``c_k†c_k† = 0``;
  bosons: it cancels against the anticommutator up to exactly that term).
* gain, fermions: ``c_k c_i†c_j c_k† − ½{c_kc_k†, c_i†c_j} = −½(δ_ik + δ_jk) c_i†c_j + δ_ik δ_jk``
  (e.g. i = j = k: ``c_k n_k c_k† = 1 − n_k`` and ``{1 − n_k, n_k} = 0``, so ``d⟨n_k⟩ = k_↑(1 − ⟨n_k⟩)``).
* gain, bosons: ``+½(δ_ik + δ_jk) c_i†c_j + δ_ik δ_jk``
  (i = j = k: ``a n a† − ½{aa†, n} = (n+1)² − (n+1)n = n + 1``).

With ``K_↓ = diag(k_↓^k)``, ``K_↑ = diag(k_↑^k)`` and ``K = K_↓ + K_↑`` (fermions) or
``K = K_↓ − K_↑`` (bosons), the two-point function obeys the closed linear equation

    dG/dt = X G + G X† + K_↑,        X = i hᵀ − ½ K,

(``X† = −i h̄ − ½K = −i hᵀ − ½K`` because ``h`` is Hermitian), so the steady state solves the
Lyapunov equation ``X G + G X† = −K_↑``: ``scipy.linalg.solve_continuous_lyapunov(X, −K_↑)``,
or the direct linear solve ``(1 ⊗ X + X̄ ⊗ 1) vec G = −vec K_↑`` (column-stacking ``vec``).
It has a unique solution iff ``X`` is stable (every eigenvalue ``Re λ < 0``): every eigenvector
of ``h`` must feel some net damping — for fermions ``k_↓ + k_↑ > 0`` on a site where it does
not vanish (no dark mode; the uniform chain's modes ``∝ sin(πqj/(n+1))`` never vanish at its
ends, so ``g ≠ 0`` suffices), for bosons the net damping ``k_↓ − k_↑ = k_↓(1 − e^{−βω})``, zero
at ``β = 0`` (the Gaussian state then exists only if the other bath damps the mode through ``h``).

**Currents.** ``J_b = Tr(H D_b ρ) = ⟨D_b*(H)⟩ = Σ_{ij} h_ij ⟨D_b*(c_i†c_j)⟩``, and the last
bracket is bath b's part of ``dG_ij/dt`` above: with ``K^b, K_↑^b`` bath b's rates only,

    J_b = Σ_ij h_ij [−½(K^b G + G K^b) + K_↑^b]_ij = Tr(hᵀ D_b(G)),

which for a bath on the single mode k is ``J_b = k_↑^k h_kk − K^b_kk Re Σ_j h_kj G_kj``. The
first law ``Σ_b J_b = 0`` holds exactly at the steady state: ``Σ_b D_b(G) = −(XG + GX†) −
(unitary part) = −i(hᵀG − Ghᵀ)`` and ``Tr(hᵀ(hᵀG − Ghᵀ)) = 0``.

**Jordan–Wigner for the chain.** ``c_k = S_k σ_k⁻`` with ``S_k = Π_{j<k} (1 − 2n_j)`` (site 0
first) gives exactly ``n_k = c_k†c_k`` and ``σ_k⁺σ_{k+1}⁻ = c_k† (1 − 2n_k) c_{k+1} = c_k† c_{k+1}``
(``c_k† n_k = 0``), so the spin ``H`` is the quadratic ``h`` with ``h_kk = ω_k``,
``h_{k,k+1} = h_{k+1,k} = g_k``. The bath on site 0 is exactly quadratic: ``σ_0^± = c_0^(†)``.

The bath on the last site is not: ``σ_{n−1}⁻ = S_{n−1} c_{n−1} = Q (1 − 2n_{n−1}) c_{n−1} = Q c_{n−1}``,
with ``Q = (−1)^N`` the total fermion parity (``(1 − 2n) c = c``), and ``σ_{n−1}⁺ = c_{n−1}† Q``.
The string is harmless for every *even* observable ``X`` (one commuting with ``Q``: ``c_i†c_j``,
``H``, ``n_k``, products of even numbers of ``c``'s): the dissipators' adjoints agree on them,

    D*[Q c] X = c† Q X Q c − ½{c†Q Q c, X} = c† X c − ½{c†c, X} = D*[c] X,

(``Q² = 1``, ``QXQ = X``) and likewise for ``c† Q``, while ``i[H, ·]`` is the same in both. The
even operators form an algebra that both Heisenberg generators map into itself, on which they
coincide; so every even expectation — G, the populations, H, the currents — follows the same
equation of motion from any initial state, and the unique steady state gives them the same
values. (In the Schrödinger picture: for an even ρ, ``Qc ρ c†Q = c QρQ c† = cρc†`` since
``Qc = −cQ``, so the two Liouvillians agree on even states; both conserve ``N``, the steady
state is even, and it is the same density matrix for both.) The quasi-free result is therefore
exact for the spin chain, not an approximation.
(On an interior site the string ``S_k`` is not conserved and does not drop out: a bath there
would not be quasi-free, and ``xx_chain`` puts baths on the two ends only.) Expressed in spins: ``G_kk = ⟨n_k⟩``, ``⟨σ_kᶻ⟩ = 2G_kk − 1`` (``σᶻ = |1⟩⟨1| −
|0⟩⟨0|``, excited = up), ``⟨σ_k⁺σ_{k+1}⁻⟩ = G_{k,k+1}``; for ``i < j``,
``G_ij = ⟨σ_i⁺ Π_{i<m<j}(1 − 2n_m) σ_j⁻⟩``.

For the oscillators no mapping is needed: ``a, b`` are the bosonic modes and the steady state
of the quadratic bosonic generator is Gaussian; the truncated model converges to it as the
cutoff grows.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

SPECTRA = ("seed", "bose", "ohmic")
STATISTICS = ("fermion", "boson")


# ----------------------------------------------------------------------------- rates


def rates(spectrum: str, omega, beta, rate, cutoff=None) -> tuple[np.ndarray, np.ndarray]:
    """``(k_↓, k_↑)`` of a local thermalizer at frequency ``ω > 0`` (NumPy, elementwise).

    ``seed``: ``Γ, Γe^{−βω}``; ``bose``: ``γ(1 + n̄), γn̄``; ``ohmic``: ``κω e^{−ω/ω_c}(1 + n̄),
    κω e^{−ω/ω_c} n̄``, ``n̄ = 1/(e^{βω} − 1)``. ``β = ∞`` gives ``k_↑ = 0``.
    """
    omega, beta, rate = (np.asarray(v, dtype=float) for v in (omega, beta, rate))
    x = np.exp(-beta * omega)  # exactly 0 at β = ∞
    if spectrum == "seed":
        down = rate * np.ones_like(x)
    elif spectrum == "bose":
        down = rate / -np.expm1(-beta * omega)  # γ(1 + n̄) = γ/(1 − x)
    elif spectrum == "ohmic":
        if cutoff is None:
            raise ValueError("the ohmic spectrum needs a cutoff ω_c")
        down = rate * omega * np.exp(-omega / cutoff) / -np.expm1(-beta * omega)
    else:
        raise ValueError(f"spectrum must be one of {SPECTRA}; got {spectrum!r}")
    return down, down * x


# ----------------------------------------------------------------------------- the general solver


def drift(h, down, up, statistics: str) -> np.ndarray:
    """``X = i hᵀ − ½K`` of ``dG/dt = XG + GX† + K_↑`` (``K = K_↓ ± K_↑``, + for fermions)."""
    h = np.asarray(h, dtype=complex)
    down, up = np.asarray(down, dtype=float), np.asarray(up, dtype=float)
    if statistics not in STATISTICS:
        raise ValueError(f"statistics must be one of {STATISTICS}; got {statistics!r}")
    if h.ndim != 2 or h.shape[0] != h.shape[1] or down.shape != (h.shape[0],) or up.shape != down.shape:
        raise ValueError(f"h must be (n, n) and the rates (n,); got {h.shape}, {down.shape}, {up.shape}")
    if not np.allclose(h, h.conj().T, rtol=0, atol=1e-13 * max(1.0, np.abs(h).max())):
        raise ValueError("h must be Hermitian")
    damping = down + up if statistics == "fermion" else down - up
    return 1j * h.T - 0.5 * np.diag(damping)


def two_point(h, down, up, statistics: str, method: str = "lyapunov") -> np.ndarray:
    """Steady ``G_ij = ⟨c_i† c_j⟩`` of ``H = Σ h_ij c_i† c_j`` with loss ``down_k D[c_k]`` and
    gain ``up_k D[c_k†]`` on every mode k (module docstring for the derivation).

    Args:
        h: ``(n, n)`` Hermitian single-particle Hamiltonian.
        down, up: ``(n,)`` loss and gain rates (0 on modes without a bath).
        statistics: ``"fermion"`` or ``"boson"``.
        method: ``"lyapunov"`` (Bartels–Stewart, ``scipy.linalg.solve_continuous_lyapunov``)
            or ``"direct"`` (an ``n² × n²`` LU solve of the vectorised equation).

    Returns:
        ``G``, complex ``(n, n)``, Hermitian.

    Raises:
        ValueError: bad shapes or statistics, or an unstable drift (no unique steady state:
            bosons with ``up ≥ down``, or a dark mode).
    """
    x = drift(h, down, up, statistics)
    eig = np.linalg.eigvals(x)
    if not np.all(eig.real < -1e-12 * max(1.0, np.abs(eig).max())):
        raise ValueError(f"the drift is not stable (max Re λ = {eig.real.max():.3g}): no unique steady state")
    q = -np.diag(np.asarray(up, dtype=complex))
    if method == "lyapunov":
        g = scipy.linalg.solve_continuous_lyapunov(x, q)
    elif method == "direct":
        n = x.shape[0]
        one = np.eye(n)
        a = np.kron(one, x) + np.kron(x.conj(), one)  # vec(XG) + vec(GX†), column stacking
        g = np.linalg.solve(a, q.reshape(-1, order="F")).reshape((n, n), order="F")
    else:
        raise ValueError(f"method must be 'lyapunov' or 'direct'; got {method!r}")
    return 0.5 * (g + g.conj().T)


def bath_current(h, g, down, up, statistics: str) -> float:
    """``J_b = Tr(H D_b ρ) = Σ_ij h_ij [−½(K^b G + G K^b) + K_↑^b]_ij`` for a bath with rates
    ``down, up`` (``(n,)``, zero off its modes); > 0 when heat flows from the bath into the system."""
    h = np.asarray(h, dtype=complex)
    down, up = np.asarray(down, dtype=float), np.asarray(up, dtype=float)
    k = np.diag(down + up if statistics == "fermion" else down - up)
    d = -0.5 * (k @ g + g @ k) + np.diag(up)
    return float(np.real(np.sum(h * d)))


# ----------------------------------------------------------------------------- the XX chain


def chain_hamiltonian(n: int, omega, g) -> np.ndarray:
    """``h`` of the chain: ``h_kk = ω_k``, ``h_{k,k+1} = h_{k+1,k} = g_k`` (scalars broadcast)."""
    omega = np.broadcast_to(np.asarray(omega, dtype=float), (n,))
    g = np.broadcast_to(np.asarray(g, dtype=float), (n - 1,))
    return np.diag(omega) + np.diag(g, 1) + np.diag(g, -1)


def xx_chain(n: int, *, omega, g, beta_h, beta_c, gamma_h, gamma_c, spectrum: str = "seed",
             omega_cutoff=None, method: str = "lyapunov") -> dict:
    """Exact steady state of the XX chain with local thermalizers on its end sites.

    ``H = Σ_k ω_k n_k + Σ_k g_k (σ_k⁺σ_{k+1}⁻ + h.c.)``; bath ``h`` (``β_h``, rate ``γ_h``) on
    site 0, bath ``c`` on site n−1, each at that site's frequency — ``qubit_chain(n,
    coupling="local", spectrum=…)`` when ``ω`` and ``g`` are scalars.

    Args:
        n: number of sites, ≥ 2 (any size: the cost is that of an ``n × n`` Lyapunov solve).
        omega: site frequency, scalar or ``(n,)``; g: hopping, scalar or ``(n−1,)``.
        beta_h, beta_c, gamma_h, gamma_c: the baths' inverse temperatures and rates.
        spectrum, omega_cutoff: the baths' spectrum (``rates``).
        method: ``"lyapunov"`` or ``"direct"`` (``two_point``).

    Returns:
        Dict: ``J_h, J_c`` (``Tr(H D_x ρ)``), ``sigma = −β_h J_h − β_c J_c``, ``n_h, n_c``
        (``⟨n_0⟩, ⟨n_{n−1}⟩``), ``populations`` (``⟨n_k⟩``, ``(n,)``), ``sigma_z``
        (``⟨σ_kᶻ⟩ = 2⟨n_k⟩ − 1``), ``G`` (``⟨c_i†c_j⟩`` of the Jordan–Wigner fermions), ``h``.
    """
    if n < 2:
        raise ValueError(f"n must be ≥ 2; got {n}")
    h = chain_hamiltonian(n, omega, g)
    w = np.diag(h).real
    down, up = {}, {}
    for bath, site, beta, gamma in (("h", 0, beta_h, gamma_h), ("c", n - 1, beta_c, gamma_c)):
        d, u = np.zeros(n), np.zeros(n)
        d[site], u[site] = rates(spectrum, w[site], beta, gamma, omega_cutoff)
        down[bath], up[bath] = d, u
    G = two_point(h, down["h"] + down["c"], up["h"] + up["c"], "fermion", method)
    J = {b: bath_current(h, G, down[b], up[b], "fermion") for b in ("h", "c")}
    pops = np.diag(G).real.copy()
    return {
        "J_h": J["h"],
        "J_c": J["c"],
        "sigma": -beta_h * J["h"] - beta_c * J["c"],
        "n_h": pops[0],
        "n_c": pops[-1],
        "populations": pops,
        "sigma_z": 2 * pops - 1,
        "G": G,
        "h": h,
    }


# ----------------------------------------------------------------------------- the oscillator pair


def oscillator_pair(*, omega_a, omega_b, beta_a, beta_b, gamma_a, gamma_b, epsilon, spectrum: str = "seed",
                    omega_cutoff=None, method: str = "lyapunov") -> dict:
    """Exact (Gaussian, infinite-cutoff) steady state of ``oscillator_pair(coupling="local")``.

    ``H = ω_a a†a + ω_b b†b + ε(a†b + b†a)``, local thermalizers ``k_↓ D[a] + k_↑ D[a†]`` at
    ``ω_a`` (bath a) and at ``ω_b`` (bath b). Needs a stable drift: ``β_a, β_b > 0``, or one
    of them 0 and ``ε ≠ 0`` (``two_point`` raises ``ValueError`` otherwise).

    Returns:
        Dict: ``J_a, J_b``, ``sigma = −β_a J_a − β_b J_b``, ``n_a = ⟨a†a⟩``, ``n_b = ⟨b†b⟩``,
        ``G`` (``[[⟨a†a⟩, ⟨a†b⟩], [⟨b†a⟩, ⟨b†b⟩]]``), ``h``.
    """
    h = np.array([[omega_a, epsilon], [epsilon, omega_b]], dtype=float)
    da, ua = rates(spectrum, omega_a, beta_a, gamma_a, omega_cutoff)
    db, ub = rates(spectrum, omega_b, beta_b, gamma_b, omega_cutoff)
    down = {"a": np.array([da, 0.0]), "b": np.array([0.0, db])}
    up = {"a": np.array([ua, 0.0]), "b": np.array([0.0, ub])}
    G = two_point(h, down["a"] + down["b"], up["a"] + up["b"], "boson", method)
    J = {x: bath_current(h, G, down[x], up[x], "boson") for x in "ab"}
    return {
        "J_a": J["a"],
        "J_b": J["b"],
        "sigma": -beta_a * J["a"] - beta_b * J["b"],
        "n_a": G[0, 0].real,
        "n_b": G[1, 1].real,
        "G": G,
        "h": h,
    }
