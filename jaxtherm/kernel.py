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

A small sector of a model without Davies thermalizers is assembled entry by entry as scalars, ``R_ij = Σ_k c_k (S_k)_ij`` over the
non-zero constants only, and solved by :func:`jaxtherm.solvers.steady_state_unrolled`; the
observables are then sums of scalars too, so the vmapped program is elementwise throughout.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from . import _config, davies, liouvillian, observables
from .models import Model
from .solvers import SOLVERS, STATUS_DOMAIN, STATUS_OK, symmetry_sector, unrolled
from .solvers.steady_state import steady_state, steady_state_unrolled


@functools.cache
def operators_on(model: Model, solver: str) -> dict:
    """The model's constant operators restricted to the coordinates the solver keeps.

    Returns:
        Dict of NumPy arrays (``m`` kept coordinates, ``K_h`` Hamiltonian terms, ``K_l``
        Lindblad terms, ``K_e`` expectations): ``keep`` ``(m,)``; ``supers`` ``(K_h + K_l, m, m)``;
        ``h_dual`` ``(K_h, m)``; ``energy_flow`` ``(K_h, K_l, m)`` with
        ``Tr(H_m D[L_k] ρ) = energy_flow[m, k] · r``; ``expectation_dual`` ``(K_e, m)``; and, for
        Davies models, ``basis_rows`` ``(m, d²)`` and ``basis_cols`` ``(d², m)`` (complex).
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    d = model.dim
    n = d * d
    keep = np.arange(n) if solver == "dense" else symmetry_sector(model)
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
    }
    if model.davies:
        out["basis_rows"] = liouvillian.basis_rows(d, keep)
        out["basis_cols"] = liouvillian.basis_columns(d, keep)
    return out


def davies_matrices(model: Model, p, h_coeffs, dtype, solver: str = "reduced") -> list:
    """Real ``(m, m)`` generators of the model's Davies thermalizers at one point, on the kept
    coordinates of ``solver``.

    ``H(p) = Σ_m h_m(p) H_m`` is diagonalised once for all baths; equal Bohr frequencies are
    grouped within ``√ε_mach (1 + ‖H‖_max)``.
    """
    if not model.davies:
        return []
    ops = operators_on(model, solver)
    cdt = _config.complex_dtype(dtype)
    h = jnp.einsum("k,kij->ij", h_coeffs.astype(cdt), jnp.asarray(np.stack([t.operator for t in model.hamiltonian]), cdt))
    tol = jnp.sqrt(jnp.finfo(dtype).eps) * (1.0 + jnp.max(jnp.abs(h)))
    baths = [
        (jnp.asarray(k.coupling, cdt), k.spectrum, jnp.asarray(k.rate(p), dtype), jnp.asarray(k.beta(p), dtype),
         None if k.cutoff is None else jnp.asarray(k.cutoff(p), dtype))
        for k in model.davies
    ]
    generators = davies.restricted_generators(h, baths, tol, ops["basis_rows"].astype(cdt), ops["basis_cols"].astype(cdt))
    return [g.astype(dtype) for g in generators]


def _dot(weights: np.ndarray, r):
    """``w · r`` for a constant ``(m,)`` vector and ``r`` an ``(m,)`` array or a list of scalars."""
    if isinstance(r, list):
        v = unrolled.lincomb(weights, r)
        return jnp.zeros_like(r[0]) if v is None else v
    return jnp.asarray(weights, r.dtype) @ r


def _dot_dynamic(w, r):
    """``w · r`` for a traced ``(m,)`` vector ``w`` and ``r`` an array or a list of scalars."""
    if isinstance(r, list):
        return functools.reduce(lambda acc, t: acc + t, (w[i] * v for i, v in enumerate(r)))
    return w @ r


def _solve_dense(model, coeffs, supers, generators, dtype):
    """Array path: one contraction assembles ``R``, LU solves it. Returns ``(r, status, residual)``."""
    total = jnp.einsum("k,kij->ij", jnp.stack(coeffs), jnp.asarray(supers, dtype))
    for r_k in generators:
        total = total + r_k
    return steady_state(total, model.dim)


def _solve_unrolled(model, coeffs, supers, generators, dtype):
    """Scalar path for small sectors: ``R_ij = Σ_k c_k S_kij`` entry by entry (structural zeros
    skipped), then the unrolled elimination. Returns ``(r, status, residual)``, ``r`` a list."""
    m = supers.shape[-1]
    rows = [
        [
            functools.reduce(unrolled.add, [g[i, j] for g in generators], unrolled.lincomb(supers[:, i, j], coeffs))
            for j in range(m)
        ]
        for i in range(m)
    ]
    return steady_state_unrolled(rows, model.dim, float(jnp.finfo(dtype).eps))


def point(model: Model, p, dtype=np.float64, solver: str = "reduced", rho: bool = True) -> dict:
    """Steady state and observables of one parameter point.

    Args:
        model: the model.
        p: mapping of model parameter names to scalars.
        dtype: real dtype (float64 or float32).
        solver: ``"reduced"`` (default): solve only the symmetry sector of the steady state
            (:func:`jaxtherm.solvers.symmetry_sector`), unrolled when it has at most
            :data:`jaxtherm.solvers.unrolled.MAX_UNKNOWNS` unknowns and no Davies
            thermalizer, else by LU on the sector; ``"dense"``: the full
            ``d² − 1`` real unknowns by LU, the reference.
        rho: also return the density matrix (``d²`` complex numbers a point: most of the
            memory traffic of a small model, so sweeps ask for it only when they store it).

    Returns:
        Dict of scalars: ``J_{bath}``, ``power``, ``sigma``, the model's expectations and derived
        observables, ``rho`` (complex ``(d, d)``, if asked for), ``status`` (int8, 0 = ok; 4 where
        a parameter is outside the model's domain) and ``residual``. Every observable is NaN
        where ``status ≠ 0``.
    """
    d = model.dim
    ops = operators_on(model, solver)
    keep = ops["keep"]
    h_coeffs = [jnp.asarray(t.coefficient(p), dtype) for t in model.hamiltonian]
    rates = [jnp.asarray(k.rate(p), dtype) for k in model.lindblads]
    coeffs = h_coeffs + rates
    supers = ops["supers"]
    generators = davies_matrices(model, p, jnp.stack(h_coeffs) if h_coeffs else jnp.zeros((0,), dtype), dtype, solver)
    # unrolled scalar code pays where the assembly is from constants (structural zeros known); a
    # Davies generator is a dense traced matrix, and the array LU compiles 3–10× faster and runs
    # 1.5× faster for it (measured: global pair 40,000 vs 25,000 points/s, refrigerator 2.3 vs 22 s compile)
    small = solver == "reduced" and not model.davies and len(keep) - 1 <= unrolled.MAX_UNKNOWNS
    r, status, residual = (_solve_unrolled if small else _solve_dense)(model, coeffs, supers, generators, dtype)

    # energy flow into the system through every channel: Tr(H L_c ρ)
    flows = {c: jnp.zeros((), dtype) for c in model.channels}
    for k_, k in enumerate(model.lindblads):
        flow = sum(h * _dot(ops["energy_flow"][m_, k_], r) for m_, h in enumerate(h_coeffs))
        flows[k.channel] = flows[k.channel] + rates[k_] * flow
    for k, r_d in zip(model.davies, generators):
        # Tr(H D ρ) = Σ_m h_m (h^dual_m R_D) · r, with R_D on the sector
        for m_, h in enumerate(h_coeffs):
            flows[k.channel] = flows[k.channel] + h * _dot_dynamic(jnp.asarray(ops["h_dual"][m_], dtype) @ r_d, r)

    currents = [flows[b.name] for b in model.baths]
    out = {f"J_{b.name}": currents[i] for i, b in enumerate(model.baths)}
    out["power"] = sum((flows[c] for c in model.work_channels), jnp.zeros((), dtype))
    betas = [jnp.asarray(p[b.beta], dtype) for b in model.baths]
    out["sigma"] = observables.entropy_production(betas, currents)
    for i, e in enumerate(model.expectations):
        out[e.name] = _dot(ops["expectation_dual"][i], r)
    for x in model.derived:
        out[x.name] = jnp.asarray(x.function({**p, **out}), dtype)
    if rho:
        full = jnp.zeros(d * d, dtype).at[keep].set(jnp.stack(r) if isinstance(r, list) else r)
        out["rho"] = liouvillian.density_matrix(full, d)
    status = jnp.where(model.outside_domain(p), STATUS_DOMAIN, status).astype(jnp.int8)
    ok = status == STATUS_OK
    out = {k: jnp.where(ok, v, jnp.nan) for k, v in out.items()}
    out["status"] = status
    out["residual"] = residual
    return out
