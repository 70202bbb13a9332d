"""Shared reference systems and helpers for the tests (no fixtures)."""

import os

import numpy as np

TEST_XLA_FLAGS = {
    "--xla_backend_optimization_level": "0",  # LLVM's optimisations off
    "--xla_cpu_use_fusion_emitters": "false",  # XLA's older elemental emitter: fusions compile faster
}
"""The compiler settings of the tests (``tests/conftest.py`` adds each to ``XLA_FLAGS`` unless the
caller set it; subprocesses inherit them). Users run XLA's defaults."""

PARAMETERS = ("omega_a", "omega_b", "beta_a", "beta_b", "gamma_a", "gamma_b", "epsilon")


def random_points(n: int, seed: int) -> dict[str, np.ndarray]:
    """Random qubit-pair points: detuned and resonant-ish pairs, weak and strong coupling.

    A third of the points have ε² > ω_a ω_b (the global model's E_− < 0 branch).
    """
    rng = np.random.default_rng(seed)
    p = {
        "omega_a": rng.uniform(0.3, 3.0, n),
        "omega_b": rng.uniform(0.3, 3.0, n),
        "beta_a": rng.uniform(0.1, 3.0, n),
        "beta_b": rng.uniform(0.1, 3.0, n),
        "gamma_a": rng.uniform(0.02, 2.0, n),
        "gamma_b": rng.uniform(0.02, 2.0, n),
        "epsilon": rng.uniform(0.01, 1.0, n),
    }
    strong = np.arange(n) % 3 == 0
    p["epsilon"][strong] = np.sqrt(p["omega_a"][strong] * p["omega_b"][strong]) * rng.uniform(1.05, 2.0, strong.sum())
    return p


def gibbs(h: np.ndarray, beta: float) -> np.ndarray:
    """``e^{−βH}/Tr e^{−βH}`` by diagonalisation."""
    e, v = np.linalg.eigh(h)
    w = np.exp(-beta * (e - e.min()))
    return (v * (w / w.sum())) @ v.conj().T


def pair_hamiltonian(coupling: str, omega_a, omega_b, epsilon) -> np.ndarray:
    """``H = ω_a n_a + ω_b n_b (+ ε(a†b + b†a))`` in the basis |n_a n_b⟩, index 2 n_a + n_b."""
    h = np.diag([0.0, omega_b, omega_a, omega_a + omega_b]).astype(complex)
    if coupling != "incoherent":
        h[1, 2] = h[2, 1] = epsilon
    return h


def finished_chunks(out) -> int:
    """Chunks of a sweep that are safe: committed to its results file, or in its journal."""
    from jaxtherm.io import h5read, journal

    return len(h5read.committed_chunks(out) | journal.ids(out))


def default_compiler_env(*flags: str) -> dict[str, str]:
    """``os.environ`` for a subprocess that compiles with XLA's defaults, as users do (the tests'
    ``TEST_XLA_FLAGS`` removed), with ``flags`` added to ``XLA_FLAGS``."""
    kept = [f for f in os.environ.get("XLA_FLAGS", "").split() if f.split("=")[0] not in TEST_XLA_FLAGS]
    return dict(os.environ, XLA_FLAGS=" ".join([*kept, *flags]))
