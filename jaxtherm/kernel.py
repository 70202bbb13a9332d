"""The single-point kernel: parameters → Liouvillian → steady state → observables.

Written for one parameter point; :mod:`jaxtherm.batch` is the one place that vmaps and jits it.

Everything is restricted to the real coordinates ``keep`` of the steady state's symmetry sector
(:func:`jaxtherm.solvers.symmetry_sector`; ``solver="dense"`` keeps all ``d²``). Assembly is
affine where the model is (DESIGN.md §3): with the constant real superoperators ``S`` restricted
once per model (:func:`operators_on`), one contraction gives

    R(p) = Σ_m h_m(p) S^H_m + Σ_k κ_k(p) S^D_k  (+ Σ_{Davies} R^Davies(p)),

and the energy flow through each Lindblad term is bilinear in the coefficients,
``Tr(H D_k ρ) = κ_k Σ_m h_m W_mk · r`` with constant ``W_mk = h^dual_m S^D_k``, so no
per-channel matrix is formed. The Davies (global) thermalizers are the nonlinear part, built
from the eigendecomposition of ``H(p)`` directly on the kept coordinates
(:func:`jaxtherm.davies.restricted_generators`).

With ``fluctuations``, each bath's counting superoperators (its jump parts weighted by their
energy quanta) give the heat's counted mean and zero-frequency noise by one more solve with the
steady state's factorisation (:mod:`jaxtherm.fluctuations`).

How ``R`` is stored and eliminated is the solver's business (:mod:`jaxtherm.solvers`): a
small sector is assembled entry by entry as scalars over the non-zero constants only and
eliminated unrolled; the observables are sums over the non-zero weights, so for small sectors
the vmapped program is elementwise throughout.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from . import _config, davies, liouvillian, observables, secular, solvers
from . import fluctuations as fluctuations_
from ._fusion import once
from .models import Model
from .solvers import STATUS_DOMAIN, STATUS_OK, STATUS_UNVERIFIED, Sparse, unrolled


@functools.cache
def operators_on(model: Model, keep: tuple[int, ...]) -> dict:
    """The model's constant operators restricted to the kept real coordinates ``keep``.

    Returns:
        Dict of NumPy arrays (``m`` kept coordinates, ``K_h`` Hamiltonian terms, ``K_l``
        Lindblad terms, ``K_e`` expectations): ``keep`` ``(m,)``; ``supers`` ``(K_h + K_l, m, m)``;
        ``h_dual`` ``(K_h, m)``; ``energy_flow`` ``(K_h, K_l, m)`` with
        ``Tr(H_m D[L_k] ρ) = energy_flow[m, k] · r``; ``expectation_dual`` ``(K_e, m)``;
        ``jumps``: per Lindblad term the entries ``(rows, cols, values)`` of its jump part
        ``ρ ↦ L_k ρ L_k†`` on the kept coordinates (for :mod:`jaxtherm.fluctuations`); and, for
        Davies models, ``basis_rows`` ``(m, d²)`` and ``basis_cols`` ``(d², m)`` (complex).
    """
    d = model.dim
    n = d * d
    keep = np.asarray(keep)
    ops = model.real_operators
    m = len(keep)
    supers = np.stack([e.dense(n, keep) for e in [*ops["hamiltonian"], *ops["lindblad"]]]).reshape(-1, m, m)
    h_dual = ops["hamiltonian_dual"][:, keep]
    out = {
        "keep": keep,
        "supers": supers,
        "h_dual": h_dual,
        # energy_flow[m, k] · r = Tr(H_m D[L_k] ρ): each superoperator maps the sector into itself
        "energy_flow": np.einsum("mi,kij->mkj", h_dual, supers[len(h_dual):]),
        "expectation_dual": ops["expectation_dual"][:, keep],
        "jumps": [e.block(n, keep) for e in ops["jump"]],
    }
    if model.davies:
        out["basis_rows"] = liouvillian.basis_rows(d, keep)
        out["basis_cols"] = liouvillian.basis_columns(d, keep)
    return out


def davies_matrices(model: Model, p, h_coeffs, dtype, keep: tuple[int, ...], counting: int = 0) -> list:
    """Real ``(m, m)`` generators of the model's Davies thermalizers at one point, on the kept
    coordinates ``keep`` (with ``counting = k ≥ 1``: their counting superoperators ``𝒥_k``,
    :mod:`jaxtherm.fluctuations`).

    ``H(p) = Σ_m h_m(p) H_m`` is diagonalised once for all baths (block by block, each block
    shifted by its mean level, where :func:`jaxtherm.secular.applies`: eigenvectors of
    near-degenerate levels then stay accurate, and so do derivatives); equal Bohr frequencies
    are grouped within ``√ε_mach (1 + ‖H‖_max)``.
    """
    if not model.davies:
        return []
    ops = operators_on(model, keep)
    cdt = _config.complex_dtype(dtype)
    h = jnp.einsum("k,kij->ij", h_coeffs.astype(cdt), jnp.asarray(np.stack([t.operator for t in model.hamiltonian]), cdt))
    tol = jnp.sqrt(jnp.finfo(dtype).eps) * (1.0 + jnp.max(jnp.abs(h)))
    baths = [
        (jnp.asarray(k.coupling, cdt), k.spectrum, jnp.asarray(k.rate(p), dtype), jnp.asarray(k.beta(p), dtype),
         None if k.cutoff is None else jnp.asarray(k.cutoff(p), dtype))
        for k in model.davies
    ]
    eig = None
    if secular.applies(model):
        energies, v, tol = secular.eigensystem(model, secular.blocks(model), list(h_coeffs.astype(dtype)), dtype)
        eig = (jnp.stack(energies), secular.v_matrix(v, model.dim, cdt))
    generators = davies.restricted_generators(h, baths, tol, ops["basis_rows"].astype(cdt), ops["basis_cols"].astype(cdt),
                                              eig, counting)
    return [g.astype(dtype) for g in generators]


def point(model: Model, p, dtype=np.float64, solver: str | solvers.Solver = "auto", rho: bool = True,
          scalars: bool = True, fluctuations: bool = False, retry: bool = True, pivoted: bool = False) -> dict:
    """Steady state and observables of one parameter point.

    Args:
        model: the model.
        p: mapping of model parameter names to scalars.
        dtype: real dtype (float64 or float32).
        solver: a solver object or name (:mod:`jaxtherm.solvers`): ``"auto"`` (default) solves
            the steady state's symmetry sector, ``"dense"`` all ``d² − 1`` real unknowns.
        rho: also return the density matrix (``d²`` complex numbers a point: most of the
            memory traffic of a small model, so sweeps ask for it only when they store it).
        scalars: let small global models build their generator as scalars
            (:func:`jaxtherm.secular.scalar_code`: fastest, but slow to compile with many tangents).
        fluctuations: also count each bath's heat (:mod:`jaxtherm.fluctuations`): one more
            solve with the steady state's factorisation per bath.
        retry: where the plan eliminates with static pivots (``"sparse"``, ``"staged"``), solve a point
            that fails its residual check again with partial pivoting (``lax.cond``: under
            ``vmap`` both are computed for every point, so :func:`jaxtherm.batch.batched_kernel`
            passes ``False`` and retries whole chunks instead); ``False`` returns such a point
            with status ``STATUS_UNVERIFIED``.
        pivoted: solve with partial pivoting even where the plan has static pivots.

    Returns:
        Dict of scalars: ``J_{bath}``, ``power``, ``sigma``, the model's expectations and derived
        observables, with ``fluctuations`` ``J_counted_{bath}``, ``noise_{bath}`` and
        ``tur_{bath}`` (:attr:`jaxtherm.Model.fluctuation_observables`), ``rho`` (complex
        ``(d, d)``, if asked for), ``status`` (int8, 0 = ok; 4 where a parameter is outside the
        model's domain) and ``residual``. Every observable is NaN where ``status ≠ 0``.
    """
    plan = solvers.get(solver).plan(model)
    if pivoted:
        plan = plan.pivoted()
    out = _point(model, p, dtype, plan, rho, scalars, fluctuations)
    if retry and plan.static_pivots:
        out = jax.lax.cond(out["status"] == STATUS_UNVERIFIED,
                           lambda: _point(model, p, dtype, plan.pivoted(), rho, scalars, fluctuations), lambda: out)
    return out


def _point(model: Model, p, dtype, plan, rho: bool, scalars: bool, fluctuations: bool) -> dict:
    """:func:`point` with its plan."""
    d = model.dim
    ops = operators_on(model, plan.keep)
    h_coeffs = [jnp.asarray(t.coefficient(p), dtype) for t in model.hamiltonian]
    if fluctuations:
        model.check_counting()
    if plan.eigenbasis:
        out, r = _global_point(model, p, plan, ops, h_coeffs, dtype, scalars, fluctuations)
    else:
        out, r = _product_point(model, p, plan, ops, h_coeffs, dtype, fluctuations)
    status, residual = out.pop("status"), out.pop("residual")
    if fluctuations:  # currents and noise feed σ and the TUR ratios: stored once (measured 5 % faster)
        out = once(out)
    betas = [jnp.asarray(p[b.beta], dtype) for b in model.baths]
    out["sigma"] = observables.entropy_production(betas, [out[f"J_{b.name}"] for b in model.baths])
    if fluctuations:
        out["sigma"] = once(out["sigma"])
        for b in model.baths:
            j = b.name
            out[f"tur_{j}"] = fluctuations_.uncertainty_ratio(out[f"noise_{j}"], out["sigma"], out[f"J_counted_{j}"])
    for i, e in enumerate(model.expectations):
        out[e.name] = _dot(ops["expectation_dual"][i], r)
    for x in model.derived:
        out[x.name] = jnp.asarray(x.function({**p, **out}), dtype)
    if rho:
        out["rho"] = liouvillian.density_matrix(jnp.zeros(d * d, dtype).at[ops["keep"]].set(r), d)
    status = jnp.where(model.outside_domain(p), STATUS_DOMAIN, status).astype(jnp.int8)
    ok = status == STATUS_OK
    out = {k: jnp.where(ok, v, jnp.nan) for k, v in out.items()}
    out["status"] = status
    out["residual"] = residual
    return out


def _product_point(model: Model, p, plan, ops, h_coeffs, dtype, counting: bool):
    """Steady state in the product basis: ``({J_j, power, status, residual}, r)``, ``r`` the kept
    real coordinates of ``ρ`` (with ``counting``, the fluctuations' ``J_counted_j``, ``noise_j``)."""
    rates = [jnp.asarray(k.rate(p), dtype) for k in model.lindblads]
    h_vector = jnp.stack(h_coeffs) if h_coeffs else jnp.zeros((0,), dtype)
    generators = davies_matrices(model, p, h_vector, dtype, plan.keep)
    matrix = plan.assemble(h_coeffs + rates, ops["supers"], generators, dtype)
    r, status, residual, factors = plan.steady_state(matrix, dtype)
    # energy flow into the system through every channel: Tr(H L_c ρ)
    flows = {c: jnp.zeros((), dtype) for c in model.channels}
    for k_, k in enumerate(model.lindblads):
        flow = sum(h * _dot(ops["energy_flow"][m_, k_], r) for m_, h in enumerate(h_coeffs))
        flows[k.channel] = flows[k.channel] + rates[k_] * flow
    for k, r_d in zip(model.davies, generators):
        # Tr(H D ρ) = Σ_m h_m (h^dual_m R_D) · r, with R_D on the sector
        for m_, h in enumerate(h_coeffs):
            flows[k.channel] = flows[k.channel] + h * ((jnp.asarray(ops["h_dual"][m_], dtype) @ r_d) @ r)
    out = {f"J_{b.name}": flows[b.name] for b in model.baths}
    out["power"] = sum((flows[c] for c in model.work_channels), jnp.zeros((), dtype))
    if counting:
        terms = {b.name: ([], []) for b in model.baths}  # 𝒥₁, 𝒥₂ of each bath
        for k_, k in enumerate(model.lindblads):
            if k.channel in terms:
                rows, cols, values = ops["jumps"][k_]
                nu = jnp.asarray(k.quantum(p), dtype)
                for power, ops_ in enumerate(terms[k.channel], start=1):
                    ops_.append(Sparse(rows, cols, (rates[k_] * nu**power) * jnp.asarray(values, dtype)))
        if model.davies:
            for power in (1, 2):
                for k, g in zip(model.davies, davies_matrices(model, p, h_vector, dtype, plan.keep, power)):
                    terms[k.channel][power - 1].append(g)
        out.update(_counted(model, plan, factors, r, terms))
    return {**out, "status": status, "residual": residual}, r


def _counted(model: Model, plan, factors, r, terms) -> dict:
    """``J_counted_j`` and ``noise_j`` of every bath from its counting operators ``terms[j]``."""
    out = {}
    for b in model.baths:
        out[f"J_counted_{b.name}"], out[f"noise_{b.name}"] = fluctuations_.cumulants(plan, factors, r, *terms[b.name])
    return out


def _global_point(model: Model, p, plan, ops, h_coeffs, dtype, scalars, counting: bool):
    """Steady state of a global (Davies-only) model in the eigenbasis of ``H``
    (:mod:`jaxtherm.secular`): ``({J_j, power, status, residual}, r)`` with ``r`` the kept real
    coordinates of ``ρ = V ρ_eig Vᵀ`` in the product basis."""
    st = secular.structure(model, plan.keep)
    # computed once where they feed an unrolled elimination's many fused loops (global pair 1.5
    # -> 2.2×10⁶ points/s); an LU's assembly reads them once anyway (the divisions cost 5–10 %)
    stored = once if plan.method == "unrolled" else (lambda x: x)
    energies, v, tol = stored(secular.eigensystem(model, st.blocks, h_coeffs, dtype))
    ham, baths = stored(secular.generators(model, st, p, energies, v, tol, dtype, scalars, counting))
    if counting:
        counted = [bath[1:] for bath in baths]
        baths = [bath[0] for bath in baths]
    m = plan.size
    matrix = plan.assemble([], np.zeros((0, m, m)), [solvers.Sparse(st.rows, st.cols, g) for g in (ham, *baths)], dtype)
    r_eig, status, residual, factors = plan.steady_state(matrix, dtype)
    flows = {c: jnp.zeros((), dtype) for c in model.channels}
    for k, values in zip(model.davies, baths):
        flows[k.channel] = flows[k.channel] + secular.heat(st, energies, values, r_eig, scalars)
    out = {f"J_{b.name}": flows[b.name] for b in model.baths}
    out["power"] = sum((flows[c] for c in model.work_channels), jnp.zeros((), dtype))
    if counting:
        terms = {b.name: ([], []) for b in model.baths}
        for k, values in zip(model.davies, counted):
            for ops_, v_ in zip(terms[k.channel], values):
                ops_.append(Sparse(st.rows, st.cols, v_))
        out.update(_counted(model, plan, factors, r_eig, terms))
    r = secular.product_coordinates(model, plan.keep, v, r_eig, scalars)
    return {**out, "status": status, "residual": residual}, r


_SPARSE_DOT = 16


def _dot(weights: np.ndarray, r):
    """``w · r`` for a constant ``(m,)`` vector: a sum over its non-zero entries, so that a small
    sector's observables stay elementwise over a batch (no matrix–vector product)."""
    nonzero = np.flatnonzero(weights)
    if len(nonzero) == 0:
        return jnp.zeros((), r.dtype)
    if len(nonzero) > _SPARSE_DOT:
        return jnp.asarray(weights, r.dtype) @ r
    return unrolled.lincomb(weights[nonzero], [r[i] for i in nonzero])
