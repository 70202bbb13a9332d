"""The single-point kernel: parameters → Liouvillian → steady state → observables.

Written for one parameter point; :mod:`jaxtherm.batch` is the one place that vmaps and jits it.

Assembly is affine where the model is (DESIGN.md §3): with the constant real superoperators
``S`` precomputed by the model, one contraction gives

    R(p) = Σ_m h_m(p) S^H_m + Σ_k κ_k(p) S^D_k  (+ Σ_{Davies} R^Davies(p)),

and the energy flow through each Lindblad term is bilinear in the coefficients,
``Tr(H D_k ρ) = κ_k Σ_m h_m W_mk · r`` with constant ``W_mk = h^dual_m S^D_k``, so no
per-channel matrix is formed. The Davies (global) thermalizers are the nonlinear part, built
from the eigendecomposition of ``H(p)``.

Everything is restricted to the coordinates of the steady state's symmetry sector
(:func:`jaxtherm.sector.symmetry_sector`; ``solver="dense"`` keeps all ``d²``). A small sector is
assembled entry by entry as scalars, ``R_ij = Σ_k c_k (S_k)_ij`` over the non-zero constants
only, and solved by :func:`jaxtherm.steady_state.steady_state_unrolled`; the observables are
then sums of scalars too, so the vmapped program is elementwise throughout.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from . import config, liouvillian, observables, unrolled
from .models.base import Model
from .sector import symmetry_sector
from .steady_state import STATUS_OK, steady_state, steady_state_unrolled


def _stack(values, dtype):
    return jnp.stack([jnp.asarray(v, dtype) for v in values]) if values else jnp.zeros((0,), dtype)


def davies_matrices(model: Model, p, h_coeffs, dtype) -> list:
    """Real superoperators ``(d², d²)`` of the model's Davies thermalizers at one point.

    ``H(p) = Σ_m h_m(p) H_m`` is diagonalised once and shared; equal Bohr frequencies are
    grouped within ``√ε_mach (1 + ‖H‖_max)``.
    """
    if not model.davies:
        return []
    ops = model.real_operators
    cdt = config.complex_dtype(dtype)
    h = jnp.einsum("k,kij->ij", h_coeffs.astype(cdt), jnp.asarray(np.stack([t.operator for t in model.hamiltonian]), cdt))
    t_mat = jnp.asarray(ops["basis"], cdt)
    t_inv = jnp.asarray(ops["basis_inverse"], cdt)
    tol = jnp.sqrt(jnp.finfo(dtype).eps) * (1.0 + jnp.max(jnp.abs(h)))
    out = []
    for k in model.davies:
        sup = liouvillian.davies_superoperator(
            h, jnp.asarray(k.coupling, cdt), jnp.asarray(k.rate(p), dtype), jnp.asarray(k.beta(p), dtype), tol
        )
        out.append(jnp.real(t_inv @ sup @ t_mat))
    return out


SOLVERS = ("reduced", "dense")


def _dot(weights: np.ndarray, r):
    """``w · r`` for a constant ``(m,)`` vector and ``r`` an ``(m,)`` array or a list of scalars."""
    if isinstance(r, list):
        v = unrolled.lincomb(weights, r)
        return jnp.zeros_like(r[0]) if v is None else v
    return jnp.asarray(weights, r.dtype) @ r


def _solve_dense(model, coeffs, supers, davies, dtype):
    """Array path: one contraction assembles ``R``, LU solves it. Returns ``(r, status, residual)``."""
    total = jnp.einsum("k,kij->ij", jnp.stack(coeffs), jnp.asarray(supers, dtype))
    for r_k in davies:
        total = total + r_k
    return steady_state(total, model.dim)


def _solve_unrolled(model, coeffs, supers, davies, dtype):
    """Scalar path for small sectors: ``R_ij = Σ_k c_k S_kij`` entry by entry (structural zeros
    skipped), then the unrolled elimination. Returns ``(r, status, residual)``, ``r`` a list."""
    m = supers.shape[-1]
    rows = [
        [
            functools.reduce(unrolled.add, [dk[i, j] for dk in davies], unrolled.lincomb(supers[:, i, j], coeffs))
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
            (:func:`jaxtherm.sector.symmetry_sector`), unrolled when it has at most
            :data:`jaxtherm.unrolled.MAX_UNKNOWNS` unknowns; ``"dense"``: the full ``d² − 1``
            real unknowns by LU, the reference.
        rho: also return the density matrix (``d²`` complex numbers a point: most of the
            memory traffic of a small model, so sweeps ask for it only when they store it).

    Returns:
        Dict of scalars ``J_{bath}``, ``power``, ``sigma``, the model's expectations, ``rho``
        (complex ``(d, d)``, if asked for), ``status`` (int8, 0 = ok) and ``residual``. Every observable is
        NaN where ``status ≠ 0``.
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    d = model.dim
    ops = model.real_operators
    keep = np.arange(d * d) if solver == "dense" else symmetry_sector(model)
    h_coeffs = [jnp.asarray(t.coefficient(p), dtype) for t in model.hamiltonian]
    rates = [jnp.asarray(k.rate(p), dtype) for k in model.lindblads]
    coeffs = h_coeffs + rates
    supers = np.concatenate([ops["hamiltonian"], ops["lindblad"]])[:, keep][:, :, keep]
    # the Davies generators restricted to the sector, once for the solve and the energy flows
    davies = [r_k[np.ix_(keep, keep)] for r_k in davies_matrices(model, p, _stack(h_coeffs, dtype), dtype)]
    small = solver == "reduced" and len(keep) - 1 <= unrolled.MAX_UNKNOWNS
    r, status, residual = (_solve_unrolled if small else _solve_dense)(model, coeffs, supers, davies, dtype)

    # energy flow into the system through every channel: Tr(H L_c ρ)
    energy_flow = ops["energy_flow"][..., keep]  # (K_h, K_l, m)
    h_dual = ops["hamiltonian_dual"][:, keep]
    flows = {c: jnp.zeros((), dtype) for c in model.channels}
    for l, k in enumerate(model.lindblads):
        flow = sum(h * _dot(energy_flow[m_, l], r) for m_, h in enumerate(h_coeffs))
        flows[k.channel] = flows[k.channel] + rates[l] * flow
    for k, r_d in zip(model.davies, davies):
        # Tr(H D ρ) = Σ_m h_m (h^dual_m R_D) · r, with R_D restricted to the sector
        for m_, h in enumerate(h_coeffs):
            flows[k.channel] = flows[k.channel] + h * _dot_dynamic(jnp.asarray(h_dual[m_], dtype) @ r_d, r)

    currents = [flows[b.name] for b in model.baths]
    out = {f"J_{b.name}": currents[i] for i, b in enumerate(model.baths)}
    out["power"] = sum((flows[c] for c in model.work_channels), jnp.zeros((), dtype))
    betas = [jnp.asarray(p[b.beta], dtype) for b in model.baths]
    out["sigma"] = observables.entropy_production(betas, currents)
    for i, e in enumerate(model.expectations):
        out[e.name] = _dot(ops["expectation_dual"][i, keep], r)
    if rho:
        full = jnp.zeros(d * d, dtype).at[keep].set(jnp.stack(r) if isinstance(r, list) else r)
        out["rho"] = liouvillian.density_matrix(full, d)
    ok = status == STATUS_OK
    out = {k: jnp.where(ok, v, jnp.nan) for k, v in out.items()}
    out["status"] = status
    out["residual"] = residual
    return out


def _dot_dynamic(w, r):
    """``w · r`` for a traced ``(m,)`` vector ``w`` and ``r`` an array or a list of scalars."""
    if isinstance(r, list):
        return functools.reduce(lambda acc, t: acc + t, (w[i] * v for i, v in enumerate(r)))
    return w @ r
