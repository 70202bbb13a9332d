"""Operators on a register of qubits, as constant NumPy arrays.

Basis convention: product states ``|n_0 n_1 … n_{N-1}⟩`` with ``n_k ∈ {0, 1}`` the excitation
number of qubit k, ordered by the binary number ``n_0 n_1 … n_{N-1}`` (qubit 0 most
significant). For a pair (a, b) the index of ``|n_a n_b⟩`` is ``2 n_a + n_b``.
"""

from __future__ import annotations

import numpy as np

SIGMA_MINUS = np.array([[0.0, 1.0], [0.0, 0.0]], dtype=complex)
"""Single-qubit lowering operator ``|0⟩⟨1|`` in the basis (n=0, n=1)."""


def lowering(n_qubits: int, k: int) -> np.ndarray:
    """Lowering operator of qubit ``k`` in an ``n_qubits`` register.

    ``a_k = 1 ⊗ … ⊗ |0⟩⟨1| ⊗ … ⊗ 1`` (the |0⟩⟨1| at slot k).

    Returns:
        Complex array of shape ``(2**n_qubits, 2**n_qubits)``.
    """
    if not 0 <= k < n_qubits:
        raise ValueError(f"qubit index k must be in [0, {n_qubits}), got {k}")
    out = np.ones((1, 1), dtype=complex)
    for j in range(n_qubits):
        out = np.kron(out, SIGMA_MINUS if j == k else np.eye(2))
    return out


def dag(op: np.ndarray) -> np.ndarray:
    """Hermitian conjugate ``op†``."""
    return np.conj(op).T


def number(lowering_op: np.ndarray) -> np.ndarray:
    """Number operator ``n = a†a`` of a lowering operator ``a``."""
    return dag(lowering_op) @ lowering_op
