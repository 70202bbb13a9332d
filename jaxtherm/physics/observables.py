"""Thermodynamic observables of a steady state.

With ``H`` the full Hamiltonian, ``L_c`` the dissipator of channel ``c`` and ``ρ`` the steady
state (units ħ = k_B = 1):

* heat current from bath j into the system: ``J_j = Tr(H L_j ρ)`` (``> 0``: heat leaves the bath);
* power delivered by the non-thermal channels: ``P = Σ_{c ∉ baths} Tr(H L_c ρ)``;
* first law in the steady state: ``Σ_j J_j + P = Tr(H L ρ) = 0``;
* entropy production rate: ``σ = −Σ_j β_j J_j`` (≥ 0 for a thermodynamically consistent model).

In the real representation ``Tr(O X) = o · x`` with ``o`` the dual of ``O`` (see
``jaxtherm.physics.liouvillian.dual``), so ``J_j = h(p) · (R_j r)``. Which observables a model
reports, with units and descriptions, is the model's own (``jaxtherm.Model.observables``).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from jaxtherm.linalg import graphs
from jaxtherm.physics import davies, liouvillian


def entropy_production(betas, currents):
    """``σ = −Σ_j β_j J_j`` for sequences of scalars ``β_j``, ``J_j`` (one per bath).

    Summed term by term rather than reduced over a stacked array, so that under ``vmap`` every
    point is computed by the same elementwise code whatever its batch size and position.
    """
    return -sum((b * j for b, j in zip(betas, currents, strict=True)), 0.0)


def currents(model, flows, dtype) -> dict:
    """``J_j`` for every bath ``j`` and the power ``P``, from the energy flows of the dissipative
    terms: ``flows`` is a sequence of ``(channel, Tr(H L_k ρ))``; ``J_j`` sums the terms of bath
    ``j``'s channel, ``P`` those of the model's work channels (zero if it has none)."""
    total = {c: jnp.zeros((), dtype) for c in model.channels}
    for channel, flow in flows:
        total[channel] = total[channel] + flow
    out = {f"J_{b.name}": total[b.name] for b in model.baths}
    out["power"] = sum((total[c] for c in model.work_channels), jnp.zeros((), dtype))
    return out


def checked(model, fluctuations: bool = False) -> tuple[str, ...]:
    """The observables that must be finite at a point with status 0 (and their derivatives):
    every current, the power, σ, the expectations and, with ``fluctuations``, the counted means
    and noise. Ratios (``tur_j``, a refrigerator's ``cop``) are 0/0 at equilibrium (``tur_j`` is
    NaN also where its current or σ is below round-off, ``fluctuations.uncertainty_ratio``) and
    derived observables are the user's: they are not checked."""
    names = [f"J_{b.name}" for b in model.baths] + ["power", "sigma"] + [e.name for e in model.expectations]
    if model.reports_min_eigenvalue:
        names.append("min_eigenvalue")
    if fluctuations:
        names += [f"{kind}_{b.name}" for b in model.baths for kind in ("J_counted", "noise")]
    return tuple(names)


@functools.lru_cache(maxsize=256)
def density_blocks(d: int, keep: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """The blocks of ``ρ`` that the kept real coordinates allow: the connected components of the
    states under the kept pairs ``(i, j)`` (``ρ`` is block diagonal over them, so its
    eigenvalues are theirs). Static (NumPy)."""
    meaning = liouvillian._coordinate_meaning(d)[np.asarray(keep)]
    return tuple(tuple(int(i) for i in g) for g in graphs.groups(d, meaning[:, 0], meaning[:, 1]))


def smallest_eigenvalue(r, d: int, keep: tuple[int, ...]):
    """The smallest eigenvalue of ``ρ`` from its kept real coordinates ``r`` (``(m,)``, product
    basis): block by block (``density_blocks``), a population for a block of one state, the
    closed form ``(a + b)/2 − √(((a − b)/2)² + |c|²)`` of ``[[a, c], [c̄, b]]`` for two, and
    ``eigh`` of the block's Hermitian matrix for more (``jaxtherm.physics.davies.eigh``: finite
    derivatives where eigenvalues are equal, as for the empty levels of a cold system). Scalar;
    its derivative is exact where the smallest eigenvalue is simple."""
    slot = {(i, j, part): c for c, (i, j, part) in enumerate(liouvillian._coordinate_meaning(d)[np.asarray(keep)].tolist())}
    zero = jnp.zeros((), r.dtype)

    def element(i, j, part):
        return r[slot[i, j, part]] if (i, j, part) in slot else zero

    values = []
    for block in density_blocks(d, tuple(keep)):
        if len(block) == 1:
            values.append(element(block[0], block[0], 0))
        elif len(block) == 2:
            i, j = block
            a, b = element(i, i, 0), element(j, j, 0)
            c2 = element(i, j, 1) ** 2 + element(i, j, 2) ** 2
            half = 0.5 * (a - b)
            radius2 = half * half + c2
            positive = radius2 > 0
            values.append(0.5 * (a + b) - jnp.where(positive, jnp.sqrt(jnp.where(positive, radius2, 1.0)), 0.0))
        else:
            tol = jnp.sqrt(jnp.finfo(r.dtype).eps)  # derivatives ignore rotations among (near-)equal eigenvalues
            values.append(davies.eigh(_block_matrix(r, block, slot), tol)[0][0])
    return functools.reduce(jnp.minimum, values)


def _block_matrix(r, block: tuple[int, ...], slot: dict):
    """The Hermitian ``(k, k)`` block of ``ρ`` on the states ``block`` (kept entries only)."""
    k = len(block)
    diag, re_idx, re_src, im_src = [], [], [], []
    for a, i in enumerate(block):
        diag.append(slot[i, i, 0])
        for b in range(a + 1, k):
            j = block[b]
            if (i, j, 1) in slot:
                re_idx.append((a, b))
                re_src.append(slot[i, j, 1])
                im_src.append(slot[i, j, 2])
    cdt = jnp.result_type(r.dtype, jnp.complex64)
    rho = jnp.diag(r[np.asarray(diag)].astype(cdt))
    if re_idx:
        ia, ib = np.asarray(re_idx).T
        z = r[np.asarray(re_src)] + 1j * r[np.asarray(im_src)]
        rho = rho.at[ia, ib].set(z).at[ib, ia].set(jnp.conj(z))
    return rho
