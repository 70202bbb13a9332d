"""The single-point kernel: parameters → Liouvillian → steady state → observables.

Written for one parameter point; ``jaxtherm.kernel.batch`` is the one place that vmaps and jits it.

Everything is restricted to the real coordinates ``keep`` of the steady state's symmetry sector
(``jaxtherm.solvers.symmetry_sector``; ``solver="dense"`` keeps all ``d²``). Assembly is
affine where the model is (``docs/design.md`` §3.1): with the constant real superoperators ``S`` restricted
once per model (``operators_on``), one contraction gives

    R(p) = Σ_m h_m(p) S^H_m + Σ_k κ_k(p) S^D_k  (+ Σ_{Davies} R^Davies(p)),

and the energy flow through each Lindblad term is bilinear in the coefficients,
``Tr(H D_k ρ) = κ_k Σ_m h_m W_mk · r`` with constant ``W_mk = h^dual_m S^D_k``, so no
per-channel matrix is formed. The Davies (global) thermalizers are the nonlinear part, built
from the eigendecomposition of ``H(p)`` directly on the kept coordinates
(``jaxtherm.physics.davies.restricted_generators``).

With ``fluctuations``, each bath's counting superoperators (its jump parts weighted by their
energy quanta) give the heat's counted mean and zero-frequency noise by one more solve with the
steady state's factorisation (``jaxtherm.physics.fluctuations``).

How ``R`` is stored and eliminated is the solver's business (``jaxtherm.solvers``): a
small sector is assembled entry by entry as scalars over the non-zero constants only and
eliminated unrolled; the observables are sums over the non-zero weights, so for small sectors
the vmapped program is elementwise throughout.
"""

from __future__ import annotations

import dataclasses
import functools

import jax.numpy as jnp
import numpy as np

from jaxtherm import _config, solvers
from jaxtherm.kernel import matrix_free
from jaxtherm.linalg import vectors
from jaxtherm.linalg._fusion import once
from jaxtherm.models import Model
from jaxtherm.physics import davies, liouvillian, observables, secular
from jaxtherm.physics import fluctuations as fluctuations_
from jaxtherm.solvers import STATUS_DOMAIN, STATUS_INACCURATE, STATUS_NONFINITE, STATUS_OK, Sparse
from jaxtherm.status import POSITIVITY_TOLERANCE, STATUS_NOT_POSITIVE, keeps_values


@dataclasses.dataclass(frozen=True, eq=False)
class SectorOperators:
    """A model's constant operators on the kept real coordinates (``operators_on``): ``m`` kept
    coordinates, ``K_h`` Hamiltonian terms, ``K_l`` Lindblad terms, ``K_e`` expectations."""

    keep: np.ndarray
    """``(m,)``: the kept coordinates of the real ``d²`` representation."""
    supers: np.ndarray | list
    """``(K_h + K_l, m, m)``: ``−i[H_m, ·]`` then ``D[L_k]``; a matrix-free elimination's (``sparse``)
    a list of entries ``(rows, cols, values)`` instead, no ``m²`` array."""
    h_dual: np.ndarray
    """``(K_h, m)``: ``Tr(H_m ρ) = h_dual[m] · r``."""
    energy_flow: np.ndarray
    """``(K_h, K_l, m)``: ``Tr(H_m D[L_k] ρ) = energy_flow[m, k] · r`` (each superoperator maps the
    sector into itself)."""
    expectation_dual: np.ndarray
    """``(K_e, m)``: the reported expectations ``Tr(O_e ρ) = expectation_dual[e] · r``."""
    jumps: list
    """Per Lindblad term the entries ``(rows, cols, values)`` of its jump part ``ρ ↦ L_k ρ L_k†``
    (``jaxtherm.physics.fluctuations``)."""


@functools.lru_cache(maxsize=256)
def operators_on(model: Model, keep: tuple[int, ...], sparse: bool = False) -> SectorOperators:
    """The model's constant operators (``Model.real_operators``) restricted to the kept real
    coordinates ``keep``; with ``sparse`` (a matrix-free elimination, ``jaxtherm.linalg.krylov``)
    the superoperators as entries."""
    d = model.dim
    n = d * d
    keep = np.asarray(keep)
    ops = model.real_operators
    m = len(keep)
    terms = [*ops.hamiltonian, *ops.lindblad]
    h_dual = ops.hamiltonian_dual[:, keep]
    if sparse:
        supers = [e.block(n, keep) for e in terms]
        flow = np.zeros((len(h_dual), len(ops.lindblad), m))
        for k, (rows, cols, values) in enumerate(supers[len(h_dual):]):
            for m_ in range(len(h_dual)):
                np.add.at(flow[m_, k], cols, h_dual[m_, rows] * values)
    else:
        supers = np.stack([e.dense(n, keep) for e in terms]).reshape(-1, m, m)
        flow = np.einsum("mi,kij->mkj", h_dual, supers[len(h_dual):])
    return SectorOperators(keep, supers, h_dual, flow, ops.expectation_dual[:, keep],
                           [e.block(n, keep) for e in ops.jump])


@functools.lru_cache(maxsize=16)
def _davies_basis(d: int, keep: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``(basis_rows (m, d²), basis_cols (d², m))``, complex, for the general Davies construction
    (``jaxtherm.physics.davies.restricted_generators``)."""
    return liouvillian.basis_rows(d, keep), liouvillian.basis_columns(d, keep)


def davies_matrices(model: Model, p, h_coeffs, dtype, keep: tuple[int, ...], counting: int = 0) -> list:
    """Real ``(m, m)`` generators of the model's Davies thermalizers at one point, on the kept
    coordinates ``keep`` (with ``counting = k ≥ 1``: their counting superoperators ``𝒥_k``,
    ``jaxtherm.physics.fluctuations``).

    ``H(p) = Σ_m h_m(p) H_m`` is diagonalised once for all baths (block by block, each block
    shifted by its mean level, where ``jaxtherm.physics.secular.applies``: eigenvectors of
    near-degenerate levels then stay accurate, and so do derivatives); equal Bohr frequencies
    are grouped within ``√ε_mach (1 + ‖H‖_max)``.
    """
    if not model.davies:
        return []
    cdt = _config.complex_dtype(dtype)
    h = jnp.einsum("k,kij->ij", h_coeffs.astype(cdt), jnp.asarray(np.stack([t.operator for t in model.hamiltonian]), cdt))
    tol = jnp.sqrt(jnp.finfo(dtype).eps) * (1.0 + jnp.max(jnp.abs(h)))
    baths = [
        (jnp.asarray(k.coupling, cdt), k.spectrum, jnp.asarray(k.rate(p), dtype), jnp.asarray(k.beta(p), dtype),
         None if k.cutoff is None else jnp.asarray(k.cutoff(p), dtype), k.equation)
        for k in model.davies
    ]
    eig = None
    if secular.applies(model):
        energies, v, tol = secular.eigensystem(model, secular.blocks(model), list(h_coeffs.astype(dtype)), dtype)
        eig = (jnp.stack(energies), secular.v_matrix(v, model.dim, cdt))
    rows, cols = _davies_basis(model.dim, keep)
    generators = davies.restricted_generators(h, baths, tol, rows.astype(cdt), cols.astype(cdt), eig, counting)
    return [g.astype(dtype) for g in generators]


def no_jump_generator(model: Model, h_coeffs: list, rates: list, dtype):
    """``G = −i H − ½ Σ_k κ_k L_k†L_k`` (complex ``(d, d)``): the Lindblad generator without its
    jumps is ``X ↦ G X + X G†``, the preconditioner of ``jaxtherm.linalg.krylov.Krylov``
    (models with Davies thermalizers get none: GMRES unpreconditioned)."""
    cdt = _config.complex_dtype(dtype)
    g = jnp.zeros((model.dim, model.dim), cdt)
    for h, t in zip(h_coeffs, model.hamiltonian):
        g = g - 1j * h.astype(cdt) * jnp.asarray(t.operator, cdt)
    for rate, k in zip(rates, model.lindblads):
        jump = np.asarray(k.jump)
        g = g - 0.5 * rate.astype(cdt) * jnp.asarray(jump.conj().T @ jump, cdt)
    return g


def point(model: Model, p, plan: solvers.Plan, dtype=np.float64, rho: bool = True, fluctuations: bool = False) -> dict:
    """Steady state and observables of one parameter point (``point_from`` with no neighbour).

    Args:
        model: the model.
        p: mapping of model parameter names to scalars.
        plan: the solver's plan for ``model`` (``jaxtherm.solvers.Reduced.plan``): the kept
            coordinates, the basis and the elimination. A point that a static-pivot elimination
            cannot vouch for comes back with status ``STATUS_UNVERIFIED``; ``jaxtherm.kernel.batch``
            applies the fallback (the one place that does).
        dtype: real dtype (float64 or float32).
        rho: also return the density matrix (``d²`` complex numbers a point: most of the
            memory traffic of a small model, so sweeps ask for it only when they store it).
        fluctuations: also count each bath's heat (``jaxtherm.physics.fluctuations``): one more
            solve with the steady state's factorisation per bath.

    Returns:
        Dict of scalars: ``J_{bath}``, ``power``, ``sigma``, the model's expectations and derived
        observables, with ``fluctuations`` ``J_counted_{bath}``, ``noise_{bath}`` and
        ``tur_{bath}`` (``jaxtherm.Model.fluctuation_observables``), ``rho`` (complex
        ``(d, d)``, if asked for), ``status`` (int8, 0 = ok; 4 where a parameter is outside the
        model's domain or a rate is negative; 6 where a Redfield steady state is not positive)
        and ``residual``; models with Redfield or ULE thermalizers also ``min_eigenvalue``, the
        smallest eigenvalue of ``ρ``.
        Every observable is NaN where ``status`` is neither 0 nor 6 (``jaxtherm.status.keeps_values``).
    """
    return point_from(model, p, plan, (), dtype, rho, fluctuations)[0]


def point_from(model: Model, p, plan: solvers.Plan, guess, dtype=np.float64, rho: bool = True,
               fluctuations: bool = False) -> tuple[dict, object]:
    """``point``, its steady state's solve starting from ``guess`` (``()``: from nothing;
    ``plan.cold_guess``: zeros of the shape a guess has, the start of a loop that carries one;
    or what a neighbouring point left: an iterative elimination starts there, a direct one
    ignores it).

    Returns:
        ``(outputs, next_guess)``: ``point``'s outputs, and where the next point may start
        (``Elimination.next_guess``; ``jaxtherm.kernel.batch.in_blocks`` carries it along a chunk).
    """
    ops = operators_on(model, plan.keep, plan.elimination.matrix_free)
    h_coeffs = [jnp.asarray(t.coefficient(p), dtype) for t in model.hamiltonian]
    if fluctuations:
        model.check_counting()
    basis = _basis(plan)(model, p, plan, ops, h_coeffs, dtype, fluctuations)
    solved, status, residual, state = plan.steady_state(basis.matrix, dtype, guess)
    out = observables.currents(model, basis.flows(solved), dtype)
    bath_rates = basis.bath_rates()
    status = _energy_balance(model, out, status, h_coeffs, bath_rates, dtype)
    if fluctuations:  # currents and noise feed σ and the TUR ratios: stored once
        for b, (first, second) in basis.counting().items():
            out[f"J_counted_{b}"], out[f"noise_{b}"] = fluctuations_.cumulants(plan, state, solved, first, second)
        out = once(out)
    r = basis.product_coordinates(solved)
    betas = [jnp.asarray(p[b.beta], dtype) for b in model.baths]
    out["sigma"] = observables.entropy_production(betas, [out[f"J_{b.name}"] for b in model.baths])
    if fluctuations:
        _uncertainty_ratios(model, out, betas, h_coeffs, bath_rates, dtype)
    _state_observables(model, p, out, ops, r, plan.keep, rho, dtype)
    status = _final_status(model, p, out, status, basis.rates, fluctuations, dtype)
    ok = keeps_values(status)
    out = {k: jnp.where(ok, v, jnp.nan) for k, v in out.items()}
    out["status"] = status
    out["residual"] = residual
    return out, plan.elimination.next_guess(state)


def _basis(plan: solvers.Plan) -> type:
    """Where the plan solves: the product basis, the eigenbasis of ``H`` by entry tables
    (``jaxtherm.physics.secular``), or the eigenbasis matrix-free (``jaxtherm.kernel.matrix_free``)."""
    if not plan.eigenbasis:
        return _ProductBasis
    return matrix_free.ZeroFrequencyBasis if plan.elimination.matrix_free else _Eigenbasis


def _uncertainty_ratios(model: Model, out: dict, betas: list, h_coeffs: list, rates: list, dtype) -> None:
    """Add ``tur_j = S_j σ / J_j²`` for every bath ``j`` to ``out`` (which holds ``sigma`` and
    every bath's ``noise_j`` and ``J_counted_j``; ``sigma`` is stored once): ratios below the
    currents' round-off ``ε E F`` (``flow_scales``, ``energy_scale``) are not resolved
    (``jaxtherm.physics.fluctuations.uncertainty_ratio``)."""
    out["sigma"] = once(out["sigma"])
    scale = flow_scales(model, rates, dtype)  # the currents' round-off, ε F (flow_scales)
    fastest = functools.reduce(jnp.maximum, scale.values(), jnp.zeros((), dtype))
    resolution = float(np.finfo(dtype).eps) * energy_scale(model, h_coeffs, dtype) * fastest
    for b in model.baths:
        j = b.name
        out[f"tur_{j}"] = fluctuations_.uncertainty_ratio(out[f"noise_{j}"], out["sigma"], out[f"J_counted_{j}"],
                                                          resolution, betas)


def _state_observables(model: Model, p, out: dict, ops: SectorOperators, r, keep, rho: bool, dtype) -> None:
    """Add to ``out`` what the steady state's kept coordinates ``r`` give: the model's
    expectations ``Tr(O ρ)``, its derived observables (functions of the parameters and of
    everything in ``out``, expectations included), ``ρ`` itself where asked, and where the
    model reports it the smallest eigenvalue of ``ρ``."""
    for i, e in enumerate(model.expectations):
        out[e.name] = vectors.dot(ops.expectation_dual[i], r)
    for x in model.derived:
        out[x.name] = jnp.asarray(x.function({**p, **out}), dtype)
    if rho:
        d = model.dim
        out["rho"] = liouvillian.density_matrix(jnp.zeros(d * d, dtype).at[ops.keep].set(r), d)
    if model.reports_min_eigenvalue:  # Redfield may lose positivity: report it, flag it, keep the numbers
        out["min_eigenvalue"] = observables.smallest_eigenvalue(r, model.dim, keep)


def _final_status(model: Model, p, out: dict, status, rates, fluctuations: bool, dtype):
    """The point's status (int8) from the solve's: ``STATUS_NONFINITE`` where an observable is
    not finite, ``STATUS_NOT_POSITIVE`` where a non-secular ``ρ`` has an eigenvalue below
    ``−POSITIVITY_TOLERANCE``, ``STATUS_DOMAIN`` where a parameter is outside the model's domain
    or a rate is negative (this last overrides every other code)."""
    # one test for all: a sum is finite only where every term is (or it overflows: beyond range too)
    finite = jnp.isfinite(sum(out[k] for k in observables.checked(model, fluctuations)))
    status = jnp.where((status == STATUS_OK) & ~finite, STATUS_NONFINITE, status)
    if model.nonsecular:
        negative = out["min_eigenvalue"] < -POSITIVITY_TOLERANCE  # float32's round-off is far below it too
        status = jnp.where((status == STATUS_OK) & negative, STATUS_NOT_POSITIVE, status)
    return jnp.where(model.outside_domain(p) | _negative_rate(model, p, rates, dtype), STATUS_DOMAIN,
                     status).astype(jnp.int8)


def _energy_balance(model: Model, currents: dict, status, h_coeffs: list, rates: list, dtype):
    """``status`` with ``STATUS_INACCURATE`` where the first law ``Σ_j J_j + P = 0`` visibly fails.

    Each bath's current is resolved to round-off of the largest energy flows of the whole system.
    Where one bath's rates are orders of magnitude beyond another's (10¹³ beside 0.1), the weak
    bath's physics lies below that round-off; the residual, relative to the whole ``R``, cannot
    see it, and the first law can. A point is flagged where the imbalance ``|Σ_j J_j + P|``
    exceeds both ``ε^{1/4}`` of the currents ``Σ_j |J_j| + |P|`` (the law visibly broken:
    1.2×10⁻⁴ in float64) and ``ε^{1/2}/16`` of the weakest bath's natural flow scale
    ``min_j E Γ_j`` (``E = Σ_m |h_m| ‖H_m‖₂``; ``Γ_j`` the bath's rate, ``flow_scales``): more
    than round-off explains where the currents are tiny, at equilibrium or at low temperature.
    Baths whose rates are all zero are left out.

    Args:
        rates: ``(channel, Γ)`` pairs, one per dissipative term (``_ProductBasis.bath_rates``).
    """
    scale = flow_scales(model, rates, dtype)
    if not scale:
        return status
    eps = float(np.finfo(dtype).eps)
    energy = energy_scale(model, h_coeffs, dtype)
    weakest = energy * functools.reduce(jnp.minimum, [jnp.where(g > 0, g, jnp.inf) for g in scale.values()])
    total = [currents[f"J_{b.name}"] for b in model.baths] + [currents["power"]]
    imbalance = jnp.abs(sum(total[1:], total[0]))
    net = sum((jnp.abs(t) for t in total[1:]), jnp.abs(total[0]))
    broken = (imbalance > eps ** 0.25 * net) & (imbalance > eps ** 0.5 / 16 * weakest)
    return jnp.where((status == STATUS_OK) & broken, STATUS_INACCURATE, status)


def flow_scales(model: Model, rates: list, dtype) -> dict:
    """Each bath's rate ``Γ_j``, ``{bath: Γ_j}``, from ``(channel, Γ)`` pairs of its terms (summed).

    A Lindblad term ``κ_k D[L_k]`` contributes ``|κ_k|``; a Davies (or Redfield, ULE) thermalizer,
    whose rates live in its spectrum, the largest magnitude of its generator's entries on the
    sector, ``max |G_j|``: the fastest rate at which it moves population or damps a coherence
    (``γ(ν) |X_mn|²``, in the product basis or the eigenbasis of ``H``). For a local thermalizer
    the two agree: ``D[a]`` on a qubit empties ``|1⟩`` at the rate ``κ``, its largest entry. Times
    ``E`` (``energy_scale``) it is the bath's natural flow scale ``E Γ_j``: its current is a sum of
    energies times rates times populations, so round-off in a solve of the whole system leaves it
    resolved to ``ε_mach E Γ_max``, and below ``ε_mach E Γ_j`` its own physics is not resolved."""
    baths = {b.name for b in model.baths}
    scale: dict[str, object] = {}
    for channel, g in rates:
        if channel in baths:
            scale[channel] = scale.get(channel, jnp.zeros((), dtype)) + jnp.abs(g).astype(dtype)
    return scale


def energy_scale(model: Model, h_coeffs: list, dtype):
    """``E = Σ_m |h_m| ‖H_m‖₂``, a bound on ``‖H(p)‖₂``: the energy scale of the system."""
    return sum((jnp.abs(h) * _norm(t.operator) for h, t in zip(h_coeffs, model.hamiltonian)), jnp.zeros((), dtype))


def _negative_rate(model: Model, p, rates: list, dtype):
    """Whether a rate is negative at this point: a Lindblad term's ``κ_k(p)`` (``rates``) or a
    Davies thermalizer's rate parameter. ``κ D[L]`` with ``κ < 0`` is not a dissipator (not
    completely positive: the "steady state" of a qubit with ``κ = −3γ`` has populations −0.61 and
    1.61), so the point is outside the model's domain, however the rate came about. A constant
    negative rate is refused when the model is made (``jaxtherm.Model``); one that depends on the
    parameters is judged here, point by point. NaN is not negative (it is non-finite)."""
    rates = [*rates, *(jnp.asarray(k.rate(p), dtype) for k in model.davies)]
    return functools.reduce(jnp.logical_or, [r < 0 for r in rates], jnp.zeros((), bool))


def _norm(operator: np.ndarray) -> float:
    """``‖H_m‖₂``, a Hamiltonian term's largest singular value (a constant of the model)."""
    return float(np.linalg.norm(np.asarray(operator), 2))


class _ProductBasis:
    """A point's sector system in the product basis: ``R = Σ_m h_m S^H_m + Σ_k κ_k S^D_k`` from the
    constant superoperators (and the Davies generators, built from the eigendecomposition of
    ``H(p)``), the energy flow of each channel, and the baths' counting operators."""

    def __init__(self, model: Model, p, plan, ops: SectorOperators, h_coeffs: list, dtype, counting: bool):
        self.model, self.p, self.plan, self.ops, self.h, self.dtype = model, p, plan, ops, h_coeffs, dtype
        self.rates = [jnp.asarray(k.rate(p), dtype) for k in model.lindblads]
        self.h_vector = jnp.stack(h_coeffs) if h_coeffs else jnp.zeros((0,), dtype)
        self.generators = davies_matrices(model, p, self.h_vector, dtype, plan.keep)
        no_jump = None if model.davies else functools.partial(no_jump_generator, model, h_coeffs, self.rates, dtype)
        self.matrix = plan.assemble(h_coeffs + self.rates, ops.supers, self.generators, dtype, no_jump)

    def bath_rates(self) -> list[tuple[str, jnp.ndarray]]:
        """``(channel, Γ)`` of every dissipative term (``flow_scales``): ``κ_k`` of a Lindblad term,
        the largest entry ``max |G|`` of a Davies generator."""
        return ([(k.channel, rate) for k, rate in zip(self.model.lindblads, self.rates)]
                + [(k.channel, jnp.max(jnp.abs(g))) for k, g in zip(self.model.davies, self.generators)])

    def flows(self, r) -> list[tuple[str, jnp.ndarray]]:
        """``(channel, Tr(H L_k ρ))`` of every dissipative term: ``κ_k Σ_m h_m W_mk · r`` for a
        Lindblad term, ``Σ_m h_m (h^dual_m R_D) · r`` for a Davies thermalizer."""
        out = []
        for k_, k in enumerate(self.model.lindblads):
            flow = sum(h * vectors.dot(self.ops.energy_flow[m_, k_], r) for m_, h in enumerate(self.h))
            out.append((k.channel, self.rates[k_] * flow))
        for k, r_d in zip(self.model.davies, self.generators):
            for m_, h in enumerate(self.h):
                out.append((k.channel, h * ((jnp.asarray(self.ops.h_dual[m_], self.dtype) @ r_d) @ r)))
        return out

    def counting(self) -> dict[str, tuple[list, list]]:
        """Each bath's counting operators ``(𝒥₁, 𝒥₂)``: its jumps weighted by their quanta ``ν``, ``ν²``."""
        terms = {b.name: ([], []) for b in self.model.baths}
        for k_, k in enumerate(self.model.lindblads):
            if k.channel in terms:
                rows, cols, values = self.ops.jumps[k_]
                nu = jnp.asarray(k.quantum(self.p), self.dtype)
                for order, ops_ in enumerate(terms[k.channel], start=1):
                    ops_.append(Sparse(rows, cols, (self.rates[k_] * nu**order) * jnp.asarray(values, self.dtype)))
        for order in (1, 2) if self.model.davies else ():
            for k, g in zip(self.model.davies, davies_matrices(self.model, self.p, self.h_vector, self.dtype,
                                                               self.plan.keep, order)):
                terms[k.channel][order - 1].append(g)
        return terms

    def product_coordinates(self, r):
        """The kept coordinates in the product basis: the solution itself."""
        return r


class _Eigenbasis:
    """A global (Davies-only) model's sector system in the eigenbasis of ``H``
    (``jaxtherm.physics.secular``), its heat currents, counting operators, and ``ρ = V ρ_eig Vᵀ``."""

    rates: tuple = ()  # Davies baths only: no Lindblad rates

    def __init__(self, model: Model, p, plan, ops: SectorOperators, h_coeffs: list, dtype, counting: bool):
        self.model, self.plan = model, plan
        self.code = secular.code_for(model, plan.scalars)
        self.st = st = secular.structure(model, plan.keep)
        # computed once where they feed an unrolled elimination's many fused loops; an LU's
        # assembly reads them once anyway (benchmarks/bench_models.py)
        stored = once if plan.elimination.scalars else (lambda x: x)
        self.energies, self.v, tol = stored(secular.eigensystem(model, st.blocks, h_coeffs, dtype))
        ham, baths = stored(secular.generators(model, st, p, self.energies, self.v, tol, dtype, self.code, counting))
        self.counted = [bath[1:] for bath in baths] if counting else []
        self.baths = [bath[0] for bath in baths] if counting else baths
        m = plan.size
        self.matrix = plan.assemble([], np.zeros((0, m, m)), [Sparse(st.rows, st.cols, g) for g in (ham, *self.baths)],
                                    dtype)

    def bath_rates(self) -> list[tuple[str, jnp.ndarray]]:
        """``(channel, max |G|)`` of every thermalizer: its generator's largest entry (``flow_scales``)."""
        return [(k.channel, jnp.max(jnp.abs(values))) for k, values in zip(self.model.davies, self.baths)]

    def flows(self, r_eig) -> list[tuple[str, jnp.ndarray]]:
        """``(channel, Σ_n E_n (D_j ρ)_nn)`` of every Davies thermalizer."""
        return [(k.channel, self.code.heat(self.st, self.energies, values, r_eig))
                for k, values in zip(self.model.davies, self.baths)]

    def counting(self) -> dict[str, tuple[list, list]]:
        """Each bath's counting operators ``(𝒥₁, 𝒥₂)`` on the sector, in the eigenbasis."""
        terms = {b.name: ([], []) for b in self.model.baths}
        for k, values in zip(self.model.davies, self.counted):
            for ops_, v_ in zip(terms[k.channel], values):
                ops_.append(Sparse(self.st.rows, self.st.cols, v_))
        return terms

    def product_coordinates(self, r_eig):
        """The kept coordinates of ``ρ = V ρ_eig Vᵀ`` in the product basis."""
        return self.code.product_coordinates(self.model, self.plan.keep, self.v, r_eig)
