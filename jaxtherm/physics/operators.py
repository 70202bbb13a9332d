"""Operators as constant NumPy arrays, in a vocabulary QuTiP users know.

Everything here is plain NumPy (no JAX, no QuTiP): the arrays are the constant operators a
``jaxtherm.Model`` is built from. Every function returns a fresh ``complex128`` array.

Basis conventions:

* **Qubits** are in the excitation-number basis ``(|n=0⟩, |n=1⟩)``: ground state first. A register
  of qubits uses product states ``|n_0 n_1 … n_{N-1}⟩``, ordered by the binary number
  ``n_0 n_1 … n_{N-1}`` (qubit 0 most significant): for a pair (a, b) the index of
  ``|n_a n_b⟩`` is ``2 n_a + n_b``.
* **Modes** (truncated oscillators) are in the Fock basis ``|0⟩, …, |n−1⟩``.
* **Composite systems** use the product basis with the first subsystem most significant, as
  ``np.kron`` and QuTiP's ``tensor`` do: the index of ``|i_0 i_1 … ⟩`` with local dimensions
  ``(d_0, d_1, …)`` is ``((i_0 d_1 + i_1) d_2 + i_2) …``.

QuTiP's qubit operators (``sigmam``, ``sigmaz``, …) are written in the basis
``(|↑⟩, |↓⟩)``, excited state first; jaxtherm's are in ``(|0⟩, |1⟩)``, ground state first.
The two bases are each other's reverse, so every qubit operator here is the QuTiP one
conjugated by the swap ``P = [[0, 1], [1, 0]]``: ``sigmam() == P @ qutip.sigmam().full() @ P``,
and likewise for ``sigmap``, ``sigmaz``, ``sigmax``, ``sigmay``. As bare matrices this means
``sigmam() == qutip.sigmap().full() == qutip.destroy(2).full()``. The mode operators
(``destroy``, ``create``, ``num``, ``qeye``) equal QuTiP's entry by entry.
"""

from __future__ import annotations

import numpy as np

from jaxtherm._checks import raise_if

__all__ = [
    "SIGMA_MINUS",
    "as_array",
    "create",
    "dag",
    "destroy",
    "embed",
    "lowering",
    "num",
    "number",
    "qeye",
    "sigmam",
    "sigmap",
    "sigmax",
    "sigmay",
    "sigmaz",
    "tensor",
]

SIGMA_MINUS = np.array([[0.0, 1.0], [0.0, 0.0]], dtype=complex)
"""Single-qubit lowering operator ``|0⟩⟨1|`` in the basis (n=0, n=1)."""


# ---- conversion ---------------------------------------------------------------------------


def _as_matrix(op, what: str = "operator") -> np.ndarray:
    """``op`` as a fresh complex128 2-D array (any shape ``(m, n)``); see ``as_array``."""
    full = getattr(op, "full", None)
    if callable(full):  # a QuTiP Qobj, or anything that densifies itself the same way
        source = full()
    elif isinstance(op, (np.ndarray, list, tuple)) or hasattr(op, "__array__"):
        source = op
    else:
        raise TypeError(
            f"{what} must be a NumPy array, a nested list of numbers, or an object with a "
            f".full() method (e.g. a QuTiP Qobj); got {type(op).__name__}"
        )
    try:
        arr = np.array(source)  # a copy: callers may not mutate the caller's array through it
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{what} is not a rectangular array of numbers: {err}") from None
    raise_if(arr.dtype.kind not in "biufc",
             TypeError(f"{what} must hold numbers, got an array of dtype {arr.dtype} ({type(op).__name__})"))
    raise_if(arr.ndim != 2, ValueError(f"{what} must be a 2-D matrix, got an array of shape {arr.shape}"))
    return arr.astype(np.complex128, copy=False)


def as_array(op) -> np.ndarray:
    """Convert an operator to a complex128 NumPy array.

    Accepts a NumPy array (or anything NumPy converts via ``__array__``, e.g. a JAX array), a
    nested list of numbers, or any object with a ``.full()`` method returning a dense matrix
    (a QuTiP ``Qobj``; its matrix is taken as it is, in QuTiP's basis).

    Args:
        op: a square matrix, shape ``(d, d)``.

    Returns:
        A new ``complex128`` array of shape ``(d, d)`` (never a view of ``op``).

    Raises:
        TypeError: for anything else (a string, a dict, ``None``, an array of non-numbers).
        ValueError: naming the shape, for an array that is not a square 2-D matrix.
    """
    arr = _as_matrix(op)
    raise_if(arr.shape[0] != arr.shape[1], ValueError(f"operator must be a square matrix, got shape {arr.shape}"))
    return arr


def dag(op) -> np.ndarray:
    """Hermitian conjugate ``op† = (op*)ᵀ``.

    Args:
        op: an array of shape ``(m, n)`` or anything ``as_array`` accepts (a ``Qobj``).

    Returns:
        Complex128 array of shape ``(n, m)``.
    """
    return np.conj(_as_matrix(op)).T


# ---- modes -------------------------------------------------------------------------------


def _check_dim(n, what: str = "dimension n") -> int:
    raise_if(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1,
             ValueError(f"{what} must be a positive integer, got {n!r}"))
    return int(n)


def destroy(n: int) -> np.ndarray:
    """Annihilation operator ``a`` of a mode truncated to the Fock states ``|0⟩ … |n−1⟩``.

    ``a = Σ_{k=1}^{n−1} √k |k−1⟩⟨k|``, i.e. ``⟨k−1|a|k⟩ = √k``; same matrix as ``qutip.destroy(n)``.
    Truncation makes ``[a, a†] = 1 − n |n−1⟩⟨n−1|``.

    Args:
        n: the truncation (Hilbert-space dimension), ``n ≥ 1``.

    Returns:
        Complex128 array of shape ``(n, n)``.
    """
    n = _check_dim(n)
    return np.diag(np.sqrt(np.arange(1, n, dtype=float)), k=1).astype(np.complex128)


def create(n: int) -> np.ndarray:
    """Creation operator ``a† = Σ_{k=1}^{n−1} √k |k⟩⟨k−1|`` of a mode truncated at ``n`` levels.

    Returns:
        Complex128 array of shape ``(n, n)``, the transpose of ``destroy``.
    """
    return dag(destroy(n))


def num(n: int) -> np.ndarray:
    """Number operator ``a†a = diag(0, 1, …, n−1)`` of a mode truncated at ``n`` levels.

    Returns:
        Complex128 array of shape ``(n, n)``.
    """
    n = _check_dim(n)
    return np.diag(np.arange(n, dtype=float)).astype(np.complex128)


def qeye(n: int) -> np.ndarray:
    """Identity ``1`` on an ``n``-dimensional space.

    Returns:
        Complex128 array of shape ``(n, n)``.
    """
    return np.eye(_check_dim(n), dtype=np.complex128)


# ---- qubits (basis |0⟩ = ground, |1⟩ = excited) --------------------------------------------


def sigmam() -> np.ndarray:
    """Qubit lowering operator ``σ₋ = |0⟩⟨1| = [[0, 1], [0, 0]]`` in the basis (n=0, n=1).

    Equal to ``SIGMA_MINUS`` and to ``destroy(2)``. QuTiP's ``sigmam()`` is written in the
    basis ``(|↑⟩, |↓⟩)`` (excited first) and is the matrix ``[[0, 0], [1, 0]]``; the physics is
    the same (it lowers the excitation), the matrices are related by the basis swap
    ``P = [[0, 1], [1, 0]]``: ``sigmam() == P @ qutip.sigmam().full() @ P``. As a bare matrix
    ``sigmam() == qutip.destroy(2).full() == qutip.sigmap().full()``.

    Returns:
        Complex128 array of shape ``(2, 2)``.
    """
    return SIGMA_MINUS.copy()


def sigmap() -> np.ndarray:
    """Qubit raising operator ``σ₊ = |1⟩⟨0| = [[0, 0], [1, 0]]`` (= ``sigmam()†``).

    ``sigmap() == P @ qutip.sigmap().full() @ P`` with the basis swap ``P`` (see ``sigmam``).

    Returns:
        Complex128 array of shape ``(2, 2)``.
    """
    return dag(SIGMA_MINUS)


def sigmaz() -> np.ndarray:
    """Pauli z: ``σ_z = |1⟩⟨1| − |0⟩⟨0| = diag(−1, +1) = 2n − 1`` in the basis (n=0, n=1).

    ``+1`` on the excited state, as in QuTiP (``σ_z|↑⟩ = |↑⟩``) — so ``H = (ω/2) σ_z`` has the
    excited state ``ω`` above the ground state, ``[σ_z, σ_±] = ±2σ_±``, ``[σ₊, σ₋] = σ_z``, and
    ``sigmaz() == P @ qutip.sigmaz().full() @ P``. Note that the matrix is ``diag(−1, +1)``,
    not QuTiP's ``diag(+1, −1)``, because the excited state is the second basis vector here.

    Returns:
        Complex128 array of shape ``(2, 2)``.
    """
    return np.diag([-1.0, 1.0]).astype(np.complex128)


def sigmax() -> np.ndarray:
    """Pauli x: ``σ_x = σ₊ + σ₋ = [[0, 1], [1, 0]]`` (the same matrix as QuTiP's).

    Returns:
        Complex128 array of shape ``(2, 2)``.
    """
    return np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.complex128)


def sigmay() -> np.ndarray:
    """Pauli y: ``σ_y = i(σ₋ − σ₊) = [[0, i], [−i, 0]]`` in the basis (n=0, n=1).

    Chosen so that the algebra is the textbook one with ``sigmaz``: ``[σ_x, σ_y] = 2iσ_z``
    and ``σ_± = (σ_x ± iσ_y)/2``. It is ``P @ qutip.sigmay().full() @ P`` (basis swap ``P``),
    i.e. minus the textbook matrix ``[[0, −i], [i, 0]]``, for the same reason ``sigmaz`` is
    ``diag(−1, +1)``: here the excited state is the second basis vector.

    Returns:
        Complex128 array of shape ``(2, 2)``.
    """
    return np.array([[0.0, 1.0j], [-1.0j, 0.0]], dtype=np.complex128)


# ---- composite systems ---------------------------------------------------------------------


def tensor(*ops) -> np.ndarray:
    """Tensor (Kronecker) product ``op_0 ⊗ op_1 ⊗ …``, the first factor most significant.

    Same ordering as ``np.kron(np.kron(op_0, op_1), …)`` and QuTiP's ``tensor``.

    Args:
        *ops: one or more matrices of shapes ``(m_k, n_k)``: NumPy arrays, nested lists, or
            objects with ``.full()`` (QuTiP ``Qobj``).

    Returns:
        Complex128 array of shape ``(Π m_k, Π n_k)``.

    Raises:
        ValueError: if no operator is given.
    """
    raise_if(not ops, ValueError("tensor needs at least one operator"))
    out = np.ones((1, 1), dtype=np.complex128)
    for k, op in enumerate(ops):
        out = np.kron(out, _as_matrix(op, f"tensor factor {k}"))
    return out


def embed(op, k: int, dims) -> np.ndarray:
    """Operator ``op`` acting on subsystem ``k`` of a register, the identity on the others.

    ``embed(op, k, (d_0, …, d_{N−1})) = 1_{d_0} ⊗ … ⊗ op ⊗ … ⊗ 1_{d_{N−1}}`` (``op`` at slot
    ``k``), in the product basis with subsystem 0 most significant (as ``tensor``). For
    qubits, ``embed(sigmam(), k, (2,) * n) == lowering(n, k)``.

    Args:
        op: operator of subsystem ``k``, shape ``(dims[k], dims[k])`` (array or ``Qobj``).
        k: index of the subsystem, ``0 ≤ k < len(dims)``.
        dims: local dimensions ``(d_0, …, d_{N−1})``.

    Returns:
        Complex128 array of shape ``(Π d_j, Π d_j)``.

    Raises:
        ValueError: for a bad ``dims`` or ``k``, or an ``op`` of the wrong shape.
    """
    dims = tuple(dims)
    raise_if(not dims, ValueError("dims must name at least one subsystem"))
    dims = tuple(_check_dim(d, f"dims[{j}]") for j, d in enumerate(dims))
    raise_if(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < len(dims),
             ValueError(f"subsystem index k must be an integer in [0, {len(dims)}), got {k!r}"))
    arr = as_array(op)
    raise_if(arr.shape != (dims[k], dims[k]),
             ValueError(f"operator on subsystem {k} must have shape {(dims[k], dims[k])}, got {arr.shape}"))
    return tensor(*(arr if j == k else qeye(d) for j, d in enumerate(dims)))


# ---- qubit registers -------------------------------------------------------------------------


def lowering(n_qubits: int, k: int) -> np.ndarray:
    """Lowering operator of qubit ``k`` in an ``n_qubits`` register.

    ``a_k = 1 ⊗ … ⊗ |0⟩⟨1| ⊗ … ⊗ 1`` (the |0⟩⟨1| at slot k).

    Returns:
        Complex array of shape ``(2**n_qubits, 2**n_qubits)``.
    """
    raise_if(not 0 <= k < n_qubits, ValueError(f"qubit index k must be in [0, {n_qubits}), got {k}"))
    out = np.ones((1, 1), dtype=complex)
    for j in range(n_qubits):
        out = np.kron(out, SIGMA_MINUS if j == k else np.eye(2))
    return out


def number(lowering_op) -> np.ndarray:
    """Number operator ``n = a†a`` of a lowering operator ``a`` (array or ``Qobj``), shape ``(d, d)``."""
    a = as_array(lowering_op)
    return dag(a) @ a
