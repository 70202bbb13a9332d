"""Superoperators and the real representation of the Lindblad generator.

Conventions:

* ``vec(ρ)`` is row-major: ``vec(ρ)[i d + j] = ρ_ij``, so ``vec(A ρ B) = (A ⊗ Bᵀ) vec(ρ)``.
* The **real representation** writes a Hermitian ``ρ`` as ``ρ = Σ_k r_k B_k`` with real
  ``r ∈ ℝ^{d²}`` and the Hermitian basis ``B``: first the ``d`` populations ``|i⟩⟨i|``, then,
  for every pair ``i < j`` (row-major order), ``|i⟩⟨j| + |j⟩⟨i|`` (coefficient ``Re ρ_ij``)
  and ``i|i⟩⟨j| − i|j⟩⟨i|`` (coefficient ``Im ρ_ij``). A Hermiticity-preserving
  superoperator ``S`` becomes the real ``d²×d²`` matrix ``R = T⁻¹ S T`` with
  ``T = [vec B_0, …, vec B_{d²−1}]``.

Everything that does not depend on the parameters is built here once, in NumPy, when a model
is constructed. The dense ``(d², d²)`` functions are the definitions (and the tests' reference);
models build their operators with the sparse ones (``commutator_entries``,
``dissipator_entries``, ``to_real``), whose cost grows with the operators' non-zeros
rather than like ``d⁶``, so that a 6-qubit chain (``d² = 4096``) or two modes truncated at 10
(``d² = 10⁴``) build in well under a second.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxtherm._checks import raise_if


def commutator_superoperator(h: np.ndarray) -> np.ndarray:
    """Superoperator of ``ρ ↦ −i[H, ρ]``: ``−i (H ⊗ 1 − 1 ⊗ Hᵀ)``, shape ``(d², d²)``."""
    eye = np.eye(h.shape[0])
    return -1j * (np.kron(h, eye) - np.kron(eye, h.T))


def dissipator_superoperator(jump: np.ndarray) -> np.ndarray:
    """Superoperator of ``D[L]ρ = L ρ L† − ½{L†L, ρ}``.

    ``D[L] = L ⊗ L̄ − ½ (L†L ⊗ 1 + 1 ⊗ (L†L)ᵀ)``, shape ``(d², d²)``.
    """
    eye = np.eye(jump.shape[0])
    ldl = np.conj(jump).T @ jump
    return np.kron(jump, np.conj(jump)) - 0.5 * (np.kron(ldl, eye) + np.kron(eye, ldl.T))


def hermitian_basis(d: int) -> np.ndarray:
    """Matrix ``T`` whose column k is ``vec(B_k)`` for the Hermitian basis described above.

    Returns:
        Complex array of shape ``(d², d²)``.
    """
    cols = []
    for i in range(d):
        e = np.zeros((d, d), dtype=complex)
        e[i, i] = 1.0
        cols.append(e.ravel())
    for i in range(d):
        for j in range(i + 1, d):
            re = np.zeros((d, d), dtype=complex)
            re[i, j] = re[j, i] = 1.0
            im = np.zeros((d, d), dtype=complex)
            im[i, j], im[j, i] = 1j, -1j
            cols.extend([re.ravel(), im.ravel()])
    return np.stack(cols, axis=1)


def hermitian_basis_inverse(d: int) -> np.ndarray:
    """``T⁻¹``: maps ``vec(ρ)`` of a Hermitian ρ to its real coordinates ``r``."""
    return np.linalg.inv(hermitian_basis(d))


def real_superoperator(superop: np.ndarray) -> np.ndarray:
    """``R = T⁻¹ S T`` for a Hermiticity-preserving ``S``; real, shape ``(d², d²)``.

    Raises:
        ValueError: if ``S`` does not preserve Hermiticity (``R`` would not be real).
    """
    d = int(round(np.sqrt(superop.shape[0])))
    t = hermitian_basis(d)
    r = np.linalg.solve(t, superop @ t)
    raise_if(np.abs(r.imag).max(initial=0.0) > 1e-12 * max(1.0, np.abs(r).max()),
             ValueError("superoperator does not preserve Hermiticity"))
    return np.ascontiguousarray(r.real)


def real_dual(op: np.ndarray) -> np.ndarray:
    """Real vector ``o`` with ``Tr(O ρ) = o · r`` for Hermitian ``O``: ``o_k = Tr(O B_k)``."""
    d = op.shape[0]
    t = hermitian_basis(d)
    # Tr(O B_k) = Σ_ij O_ji (B_k)_ij = vec(Oᵀ) · vec(B_k)
    o = op.T.ravel() @ t
    raise_if(np.abs(o.imag).max(initial=0.0) > 1e-12 * max(1.0, np.abs(o).max()), ValueError("observable is not Hermitian"))
    return np.ascontiguousarray(o.real)


def density_matrix(r, d: int):
    """Density matrix ``ρ = Σ_k r_k B_k`` from real coordinates.

    Args:
        r: real array of shape ``(d²,)``.
        d: Hilbert-space dimension.

    Returns:
        Complex ``(d, d)`` Hermitian array (JAX).
    """
    pops = r[:d]
    rho = jnp.diag(pops.astype(jnp.result_type(r.dtype, jnp.complex64)))
    iu, ju = np.triu_indices(d, k=1)
    off = r[d:].reshape(-1, 2)
    z = off[:, 0] + 1j * off[:, 1]
    rho = rho.at[iu, ju].set(z)
    return rho.at[ju, iu].set(jnp.conj(z))


def coordinates(rho):
    """The real coordinates ``r`` of a Hermitian ``(d, d)`` ρ (inverse of ``density_matrix``):
    ``ρ_ii``, then ``Re ρ_ij, Im ρ_ij`` for ``i < j`` row-major; shape ``(d²,)``."""
    d = rho.shape[0]
    iu, ju = np.triu_indices(d, k=1)
    off = rho[iu, ju]
    pairs = jnp.stack([jnp.real(off), jnp.imag(off)], axis=1).reshape(-1)
    return jnp.concatenate([jnp.real(jnp.diagonal(rho)), pairs])


# ---- sparse construction ---------------------------------------------------------------------
class Entries(tuple):
    """A sparse matrix as ``(rows, cols, values)`` arrays (coordinate format), shape ``(n, n)``.

    In the *element* basis rows and columns index ``vec(ρ)`` (``i d + j`` for ``ρ_ij``) and values
    are complex; after ``to_real`` they index real coordinates and values are real.
    """

    __slots__ = ()

    def __new__(cls, rows, cols, values):
        return super().__new__(cls, (np.asarray(rows, np.int64), np.asarray(cols, np.int64), np.asarray(values)))

    def dense(self, n: int, keep=None) -> np.ndarray:
        """The dense ``(n, n)`` matrix, or its ``(m, m)`` block on the indices ``keep``."""
        rows, cols, values = self if keep is None else self.block(n, keep)
        size = n if keep is None else len(keep)
        out = np.zeros((size, size), dtype=values.dtype)
        np.add.at(out, (rows, cols), values)
        return out

    def block(self, n: int, keep) -> Entries:
        """The entries of the ``(m, m)`` block on the indices ``keep``, renumbered ``0 … m−1``."""
        rows, cols, values = self
        position = np.full(n, -1)
        position[np.asarray(keep)] = np.arange(len(keep))
        inside = (position[rows] >= 0) & (position[cols] >= 0)
        return Entries(position[rows[inside]], position[cols[inside]], values[inside])


def _left(op: np.ndarray, d: int) -> Entries:
    """``ρ ↦ O ρ``: ``(O ⊗ 1)[(i,j),(k,j)] = O_ik``."""
    i, k = np.nonzero(op)
    j = np.arange(d)
    return Entries((i[:, None] * d + j).ravel(), (k[:, None] * d + j).ravel(), np.repeat(op[i, k], d))


def _right(op: np.ndarray, d: int) -> Entries:
    """``ρ ↦ ρ O``: ``(1 ⊗ Oᵀ)[(i,j),(i,l)] = O_lj``."""
    l, j = np.nonzero(op)
    i = np.arange(d)
    return Entries((i[:, None] * d + j).ravel(), (i[:, None] * d + l).ravel(), np.tile(op[l, j], d))


def _sandwich(op: np.ndarray, d: int) -> Entries:
    """``ρ ↦ O ρ O†``: ``(O ⊗ Ō)[(i,j),(k,l)] = O_ik Ō_jl``."""
    i, k = np.nonzero(op)
    v = op[i, k]
    return Entries((i[:, None] * d + i[None, :]).ravel(), (k[:, None] * d + k[None, :]).ravel(),
                   (v[:, None] * np.conj(v)[None, :]).ravel())


def product_entries(a: np.ndarray, b: np.ndarray) -> Entries:
    """``ρ ↦ A ρ B`` in the element basis: ``(A ⊗ Bᵀ)[(i,j),(k,l)] = A_ik B_lj`` (non-zeros only)."""
    d = a.shape[0]
    i, k = np.nonzero(a)
    l, j = np.nonzero(b)
    return Entries((i[:, None] * d + j[None, :]).ravel(), (k[:, None] * d + l[None, :]).ravel(),
                   (a[i, k][:, None] * b[l, j][None, :]).ravel())


def _concat(*parts: tuple[Entries, complex]) -> Entries:
    return Entries(*(np.concatenate([p[axis] if axis < 2 else w * p[2] for p, w in parts]) for axis in range(3)))


def commutator_entries(h: np.ndarray) -> Entries:
    """Sparse ``commutator_superoperator``: ``ρ ↦ −i[H, ρ]`` in the element basis."""
    d = h.shape[0]
    return _concat((_left(h, d), -1j), (_right(h, d), 1j))


def jump_entries(jump: np.ndarray) -> Entries:
    """The jump part of ``dissipator_entries``, ``ρ ↦ L ρ L†``, in the element basis."""
    return _sandwich(jump, jump.shape[0])


def dissipator_entries(jump: np.ndarray) -> Entries:
    """Sparse ``dissipator_superoperator``: ``D[L]ρ = LρL† − ½{L†L, ρ}`` in the element basis."""
    d = jump.shape[0]
    ldl = np.conj(jump).T @ jump
    return _concat((_sandwich(jump, d), 1.0), (_left(ldl, d), -0.5), (_right(ldl, d), -0.5))


def coordinate_of_pair(i, j, d: int):
    """Real coordinates ``(Re ρ_ij, Im ρ_ij)`` of the pairs ``i < j`` (arrays), in the basis order
    of ``hermitian_basis``: populations ``0 … d−1``, then the pairs row-major."""
    p = i * d - i * (i + 1) // 2 + (j - i - 1)
    return d + 2 * p, d + 2 * p + 1


def to_real(entries: Entries, d: int) -> Entries:
    """Real representation ``R = T⁻¹ S T`` of a Hermiticity-preserving ``S`` given sparsely.

    Column side: ``ρ_kl`` is ``r_k`` (``k = l``), ``r_re + i r_im`` (``k < l``) or
    ``r_re − i r_im`` (``k > l``) of the pair; row side: a population row is ``Re S(ρ)_ii``,
    a pair's rows are ``Re`` and ``Im S(ρ)_ij`` (``i < j``; the rows ``i > j`` are their
    conjugates and are not needed). Duplicates are summed.

    Returns:
        Real ``Entries`` over the ``d²`` real coordinates.
    """
    rows, cols, values = entries
    i, j = np.divmod(rows, d)
    k, l = np.divmod(cols, d)
    upper = i <= j
    i, j, k, l, values = i[upper], j[upper], k[upper], l[upper], values[upper]
    lo, hi = np.minimum(k, l), np.maximum(k, l)
    col_re, col_im = coordinate_of_pair(lo, np.where(hi > lo, hi, lo + 1), d)
    diag_col = k == l
    # contributions of each input coordinate: (column, complex weight, where it exists)
    inputs = [
        (np.where(diag_col, k, col_re), 1.0, np.ones_like(diag_col)),  # population or Re ρ_kl
        (col_im, np.where(k < l, 1j, -1j), ~diag_col),  # Im ρ_kl, off the diagonal only
    ]
    row_re, row_im = coordinate_of_pair(i, np.where(j > i, j, i + 1), d)
    diag_row = i == j
    out_r, out_c, out_v = [], [], []
    for col, weight, valid in inputs:
        z = values * weight
        out_r += [np.where(diag_row, i, row_re)[valid], row_im[valid & ~diag_row]]
        out_c += [col[valid], col[valid & ~diag_row]]
        out_v += [z.real[valid], z.imag[valid & ~diag_row]]
    rows, cols, vals = (np.concatenate(x) for x in (out_r, out_c, out_v))
    n = d * d
    key, inverse = np.unique(rows * n + cols, return_inverse=True)
    summed = np.zeros(len(key))
    np.add.at(summed, inverse, vals)
    nz = summed != 0.0
    return Entries(key[nz] // n, key[nz] % n, summed[nz])


def dual(op: np.ndarray) -> np.ndarray:
    """``real_dual`` without the basis matrix: ``o_i = O_ii``, and ``2 Re O_ij``, ``2 Im O_ij``
    for each pair ``i < j``. Real, shape ``(d²,)``."""
    d = op.shape[0]
    iu, ju = np.triu_indices(d, k=1)
    out = np.empty(d * d)
    out[:d] = np.real(np.diag(op))
    out[d::2] = 2 * np.real(op[iu, ju])
    out[d + 1 :: 2] = 2 * np.imag(op[iu, ju])
    return out


def basis_columns(d: int, keep) -> np.ndarray:
    """``T[:, keep]``: the kept columns ``vec(B_c)`` of ``hermitian_basis``, built directly.
    Complex, shape ``(d², m)``."""
    keep = np.asarray(keep)
    out = np.zeros((d * d, len(keep)), dtype=complex)
    for c, (i, j, part) in enumerate(_coordinate_meaning(d)[keep]):
        if part == 0:
            out[i * d + i, c] = 1.0
        elif part == 1:
            out[i * d + j, c] = out[j * d + i, c] = 1.0
        else:
            out[i * d + j, c], out[j * d + i, c] = 1j, -1j
    return out


def basis_rows(d: int, keep) -> np.ndarray:
    """``T⁻¹[keep, :]``: maps ``vec(ρ)`` to the kept real coordinates (``ρ_ii``,
    ``Re ρ_ij = (ρ_ij + ρ_ji)/2``, ``Im ρ_ij = (ρ_ij − ρ_ji)/(2i)``). Complex, shape ``(m, d²)``."""
    keep = np.asarray(keep)
    out = np.zeros((len(keep), d * d), dtype=complex)
    for c, (i, j, part) in enumerate(_coordinate_meaning(d)[keep]):
        if part == 0:
            out[c, i * d + i] = 1.0
        elif part == 1:
            out[c, i * d + j] = out[c, j * d + i] = 0.5
        else:
            out[c, i * d + j], out[c, j * d + i] = -0.5j, 0.5j
    return out


def _coordinate_meaning(d: int) -> np.ndarray:
    """``(i, j, part)`` of every real coordinate: part 0 population ``ρ_ii``, 1 ``Re ρ_ij``,
    2 ``Im ρ_ij`` (``i < j``). Shape ``(d², 3)``."""
    rows = [(i, i, 0) for i in range(d)]
    for i in range(d):
        for j in range(i + 1, d):
            rows += [(i, j, 1), (i, j, 2)]
    return np.asarray(rows)


def element_of_coordinate(d: int) -> np.ndarray:
    """The matrix element ``i d + j`` (``i ≤ j``) that each real coordinate belongs to; ``(d²,)``."""
    m = _coordinate_meaning(d)
    return m[:, 0] * d + m[:, 1]
