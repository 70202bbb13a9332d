"""The single-point kernel: parameters → Liouvillian → steady state → observables.

Written for one parameter point; :mod:`jaxtherm.batch` is the one place that vmaps and jits it.

Assembly is affine where the model is (DESIGN.md §3): with the constant real superoperators
``S`` precomputed by the model, one contraction gives

    R(p) = Σ_m h_m(p) S^H_m + Σ_k κ_k(p) S^D_k  (+ Σ_{Davies} R^Davies(p)),

and the energy flow through each Lindblad term is bilinear in the coefficients,
``Tr(H D_k ρ) = κ_k Σ_m h_m W_mk · r`` with constant ``W_mk = h^dual_m S^D_k``, so no
per-channel matrix is formed. The Davies (global) thermalizers are the nonlinear part, built
from the eigendecomposition of ``H(p)``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from . import config, liouvillian, observables
from .models.base import Model
from .steady_state import STATUS_OK, steady_state


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


def point(model: Model, p, dtype=np.float64) -> dict:
    """Steady state and observables of one parameter point.

    Args:
        model: the model.
        p: mapping of model parameter names to scalars.
        dtype: real dtype (float64 or float32).

    Returns:
        Dict of scalars ``J_{bath}``, ``power``, ``sigma``, the model's expectations, ``rho``
        (complex ``(d, d)``), ``status`` (int8, 0 = ok) and ``residual``. Every observable is
        NaN where ``status ≠ 0``.
    """
    d = model.dim
    ops = model.real_operators
    h_coeffs = _stack([t.coefficient(p) for t in model.hamiltonian], dtype)
    rates = _stack([k.rate(p) for k in model.lindblads], dtype)
    coeffs = jnp.concatenate([h_coeffs, rates])
    supers = np.concatenate([ops["hamiltonian"], ops["lindblad"]])
    total = jnp.einsum("k,kij->ij", coeffs, jnp.asarray(supers, dtype))
    davies = davies_matrices(model, p, h_coeffs, dtype)
    for r_k in davies:
        total = total + r_k
    r, status, residual = steady_state(total, d)

    # energy flow into the system through every channel: Tr(H L_c ρ)
    per_term = rates * (h_coeffs @ (jnp.asarray(ops["energy_flow"], dtype) @ r))  # (K_l,)
    h_dual = h_coeffs @ jnp.asarray(ops["hamiltonian_dual"], dtype)
    flows = {}
    for c in model.channels:
        idx = [i for i, k in enumerate(model.lindblads) if k.channel == c]
        flow = jnp.sum(per_term[np.array(idx, dtype=int)]) if idx else jnp.zeros((), dtype)
        for k, r_k in zip(model.davies, davies):
            if k.channel == c:
                flow = flow + observables.energy_flow(h_dual, r_k, r)
        flows[c] = flow

    currents = jnp.stack([flows[b.name] for b in model.baths])
    betas = jnp.stack([jnp.asarray(p[b.beta], dtype) for b in model.baths])
    out = {f"J_{b.name}": currents[i] for i, b in enumerate(model.baths)}
    out["power"] = sum((flows[c] for c in model.work_channels), jnp.zeros((), dtype))
    out["sigma"] = observables.entropy_production(betas, currents)
    expectations = jnp.asarray(ops["expectation_dual"], dtype) @ r
    for i, e in enumerate(model.expectations):
        out[e.name] = expectations[i]
    out["rho"] = liouvillian.density_matrix(r, d)
    ok = status == STATUS_OK
    out = {k: jnp.where(ok, v, jnp.nan) for k, v in out.items()}
    out["status"] = status
    out["residual"] = residual
    return out
