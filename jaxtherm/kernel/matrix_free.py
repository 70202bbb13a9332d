"""Global (Davies) models solved matrix-free in the eigenbasis of ``H``: the basis and the operator
that ``jaxtherm.linalg.krylov.Krylov`` iterates on, for sectors too large for the entry tables
of ``jaxtherm.physics.secular`` (``docs/design.md`` §3.3).

The steady state lies in the zero-Bohr-frequency block (``jaxtherm.physics.zero_frequency``):
on the kept coordinates whose pair ``(n, n')`` is degenerate, ``R`` is the Davies generator by
matrix products (and the tiny ``−i (E_n − E_n') ρ_nn'``); on every other kept coordinate it is
``−c`` (``c`` the fastest rate), whose solution is the zero the generator's own block gives
there. GMRES's preconditioner solves the populations' classical rate equation exactly (one
``(d − 1)²`` LU a point) and divides each coherence by its decay rate ``−½(G_nn + G_n'n')``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxtherm.linalg import vectors
from jaxtherm.models import Model
from jaxtherm.physics import davies, liouvillian, secular
from jaxtherm.physics import zero_frequency as zf


@functools.lru_cache(maxsize=16)
def _coordinates(d: int, keep: tuple[int, ...]):
    """Static indices between the kept real coordinates and a stack ``(2, d, d)`` of the real and
    imaginary parts of ``ρ``: ``(scatter, pairs, sign, here, (i, j))`` — the flat positions of
    each coordinate and then of the mirror of each pair coordinate (``ρ_ji = ρ̄_ij``; all distinct,
    so the scatter's transpose is a gather), the pair coordinates, their mirrors' signs, each
    coordinate's own position, and its ``(i, j)`` (for the preconditioner's diagonal)."""
    i, j, part = liouvillian._coordinate_meaning(d)[np.asarray(keep)].T
    layer = (part == 2).astype(int)
    here = layer * d * d + i * d + j
    pairs = np.flatnonzero(part != 0)
    mirror = (layer * d * d + j * d + i)[pairs]
    sign = np.where(part[pairs] == 2, -1.0, 1.0)
    return np.concatenate([here, mirror]), pairs, sign, here, (i, j)


class DaviesOperator(NamedTuple):
    """``R`` on the kept coordinates of a global model's sector, matrix-free (module docstring):
    the operator protocol of ``jaxtherm.linalg.krylov.Krylov`` (``apply``, ``frozen``,
    ``row_norm``, ``factor``, ``precondition``)."""

    baths: tuple
    """One ``jaxtherm.physics.zero_frequency.Bath`` per thermalizer."""
    mask: jax.Array
    """``M``, the zero-frequency block, real ``(d, d)``."""
    delta: jax.Array
    """``M ∘ (E_n − E_n')``: the Hamiltonian's part on the block."""
    decay: jax.Array
    """``c``: ``R`` is ``−c`` off the block."""
    keep: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.keep)

    @property
    def dtype(self):
        return self.mask.dtype

    @property
    def dim(self) -> int:
        return self.mask.shape[0]

    def matrices(self, r):
        """The kept coordinates ``r`` (``(m,)``) as the stack ``(2, d, d)`` of ``Re ρ``, ``Im ρ``."""
        d = self.dim
        scatter, pairs, sign, _, _ = _coordinates(d, self.keep)
        values = jnp.concatenate([r, r[pairs] * jnp.asarray(sign, r.dtype)])
        return jnp.zeros(2 * d * d, r.dtype).at[scatter].add(values, unique_indices=True).reshape(2, d, d)

    def apply(self, r):
        """``R r``: the generator on the block, ``−c r`` off it."""
        s = self.matrices(r)
        inside = self.mask * s
        out = zf.action(list(self.baths), self.mask, inside)
        out = out + jnp.stack([self.delta * inside[1], -self.delta * inside[0]]) - self.decay * (s - inside)
        return out.reshape(-1)[_coordinates(self.dim, self.keep)[3]]

    def frozen(self) -> DaviesOperator:
        """This operator without derivatives (``keep`` is static)."""
        fixed = jax.lax.stop_gradient
        return self._replace(baths=fixed(self.baths), mask=fixed(self.mask), delta=fixed(self.delta),
                             decay=fixed(self.decay))

    def row_norm(self):
        """``‖R‖_∞`` to within the real coordinates' pairing: on the block, each ``(n, n')``'s
        ``Σ_j (Σ_m |Z_j,nm|)(Σ_m' |x_j,n'm'|) + ½(Σ_m |G_nm| + Σ_m |G_n'm|) + |E_n − E_n'|``; off it ``c``."""
        def sums(a):
            return jnp.sum(jnp.abs(a), axis=1)

        g = sums(sum(b.g for b in self.baths))
        rows = sum(sums(b.z)[:, None] * sums(b.x)[None, :] for b in self.baths)
        rows = rows + 0.5 * (g[:, None] + g[None, :]) + jnp.abs(self.delta)
        return jnp.maximum(jnp.max(self.mask * rows), self.decay)

    def finite(self):
        leaves = jax.tree.leaves((self.baths, self.delta, self.decay))
        return functools.reduce(jnp.logical_and, [jnp.all(jnp.isfinite(x)) for x in leaves])

    def factor(self, d: int, keep: tuple[int, ...]):
        """The preconditioner: the LU of the populations' trace-eliminated rate matrix
        ``W_ij − W_i0`` (``i, j ≥ 1``) and the coherences' decay rates; and whether ``R`` is finite."""
        del keep
        op = self.frozen()
        w = sum(zf.transitions(b) for b in op.baths)
        w = w - jnp.diag(jnp.sum(w, axis=0))
        a = w[1:, 1:] - w[1:, :1]
        lu = jax.scipy.linalg.lu_factor(a)
        g = jnp.diagonal(sum(b.g for b in op.baths))
        i, j = _coordinates(d, self.keep)[4]
        rate = -0.5 * (g[i] + g[j])
        inside = op.mask[i, j] > 0
        rate = jnp.where(inside & (jnp.abs(rate) > 1e-12 * op.decay), rate, -op.decay)
        return (lu, rate[d:]), self.finite()

    def precondition(self, factors, y, transpose: bool, d: int, keep: tuple[int, ...]):
        del keep
        lu, rate = factors
        pops = jax.scipy.linalg.lu_solve(lu, y[: d - 1], trans=1 if transpose else 0)
        out = jnp.concatenate([pops, y[d - 1:] / rate])
        return jnp.where(jnp.isfinite(out), out, 0.0)


class Counting(vectors.LinearMap):
    """A bath's counting superoperator ``𝒥_k`` on the kept coordinates, by matrix products
    (``jaxtherm.physics.zero_frequency.counting``)."""

    def __init__(self, operator: DaviesOperator, bath: zf.Bath, energies, power: int):
        self.operator, self.bath, self.energies, self.power = operator, bath, energies, power

    def apply(self, v):
        op = self.operator
        s = op.mask * op.matrices(v)
        out = zf.counting(self.bath, self.energies, op.mask, s, self.power)
        return out.reshape(-1)[_coordinates(op.dim, op.keep)[3]]


def eigensystem(model: Model, h_coeffs: list, dtype):
    """``(E, V, tol)`` of ``H = Σ_m h_m H_m``, real: block by block over ``H``'s blocks
    (``jaxtherm.physics.secular.blocks``), blocks of one size in one batched ``eigh`` (each shifted
    by its mean level, degeneracy-safe derivatives: ``jaxtherm.physics.davies.eigh``); eigenvector
    ``k`` of a block in the place of its ``k``-th state; ``tol = √ε (1 + max|H_ij|)``."""
    d = model.dim
    terms = np.stack([np.real(t.operator) for t in model.hamiltonian])
    h = jnp.einsum("k,kij->ij", jnp.stack(h_coeffs).astype(dtype), jnp.asarray(terms, dtype))
    tol = jnp.sqrt(jnp.finfo(dtype).eps) * (1.0 + jnp.max(jnp.abs(h)))
    energies, v = jnp.zeros(d, dtype), jnp.zeros((d, d), dtype)
    by_size: dict[int, list] = {}
    for b in secular.blocks(model):
        by_size.setdefault(len(b), []).append(b)
    for size, group in by_size.items():
        idx = np.stack(group)  # (blocks, size)
        hb = h[idx[:, :, None], idx[:, None, :]]
        shift = jnp.trace(hb, axis1=1, axis2=2) / size
        w, vb = jax.vmap(davies.eigh, in_axes=(0, None))(hb - shift[:, None, None] * jnp.eye(size, dtype=dtype), tol)
        energies = energies.at[idx].set(w + shift[:, None])
        v = v.at[idx[:, :, None], idx[:, None, :]].set(vb)
    return energies, v, tol


class ZeroFrequencyBasis:
    """A global (Davies-only) model's sector system matrix-free in the eigenbasis of ``H``: the
    ``DaviesOperator``, the heat currents, and ``ρ = V ρ_eig Vᵀ`` (the kernel's basis interface,
    as ``jaxtherm.kernel.point``'s product basis and eigenbasis)."""

    rates: tuple = ()  # Davies baths only: no Lindblad rates

    def __init__(self, model: Model, p, plan, ops, h_coeffs: list, dtype, counting: bool):
        del ops, counting
        self.model, self.plan = model, plan
        self.energies, self.v, tol = eigensystem(model, h_coeffs, dtype)
        mask = zf.level_mask(self.energies, tol)
        self.baths = tuple(
            zf.bath(self.energies, self.v, jnp.asarray(np.real(k.coupling), dtype), k.spectrum, jnp.asarray(k.rate(p), dtype),
                    jnp.asarray(k.beta(p), dtype), None if k.cutoff is None else jnp.asarray(k.cutoff(p), dtype), tol, mask)
            for k in model.davies)
        decay = jax.lax.stop_gradient(functools.reduce(jnp.maximum, [zf.rate_scale(b) for b in self.baths]))
        delta = mask * (self.energies[:, None] - self.energies[None, :])
        self.matrix = DaviesOperator(self.baths, mask, delta, jnp.where(decay > 0, decay, 1.0), plan.keep)

    def bath_rates(self) -> list[tuple[str, jnp.ndarray]]:
        """``(channel, fastest rate)`` of every thermalizer (``flow_scales``)."""
        return [(k.channel, zf.rate_scale(b)) for k, b in zip(self.model.davies, self.baths)]

    def flows(self, r_eig) -> list[tuple[str, jnp.ndarray]]:
        """``(channel, Σ_n E_n (D_j ρ)_nn)`` of every thermalizer."""
        s = self.matrix.mask * self.matrix.matrices(r_eig)[0]
        return [(k.channel, zf.heat(b, self.energies, s)) for k, b in zip(self.model.davies, self.baths)]

    def counting(self) -> dict[str, tuple[list, list]]:
        """Each bath's counting operators ``(𝒥₁, 𝒥₂)``, matrix-free (``Counting``)."""
        terms = {b.name: ([], []) for b in self.model.baths}
        for k, b in zip(self.model.davies, self.baths):
            for power, ops_ in enumerate(terms[k.channel], start=1):
                ops_.append(Counting(self.matrix, b, self.energies, power))
        return terms

    def product_coordinates(self, r_eig):
        """The kept coordinates of ``ρ = V ρ_eig Vᵀ`` in the product basis."""
        s = self.matrix.mask * self.matrix.matrices(r_eig)  # off the block: GMRES's round-off, not ρ
        rotated = self.v @ s @ self.v.T
        return rotated.reshape(-1)[_coordinates(self.model.dim, self.plan.keep)[3]]
