"""Superoperators and the real representation."""

import jax.numpy as jnp
import numpy as np

from jaxtherm.physics import davies, liouvillian, spectra


def _random_hermitian(d, rng):
    m = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return m + m.conj().T


def test_real_representation_acts_like_the_superoperator():
    rng = np.random.default_rng(0)
    d = 4
    h = _random_hermitian(d, rng)
    jump = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = _random_hermitian(d, rng)
    expected = -1j * (h @ rho - rho @ h) + jump @ rho @ jump.conj().T - 0.5 * (jump.conj().T @ jump @ rho + rho @ jump.conj().T @ jump)
    sup = liouvillian.commutator_superoperator(h) + liouvillian.dissipator_superoperator(jump)
    np.testing.assert_allclose((sup @ rho.ravel()).reshape(d, d), expected, atol=1e-12)
    r = np.real(liouvillian.hermitian_basis_inverse(d) @ rho.ravel())
    np.testing.assert_allclose(np.asarray(liouvillian.density_matrix(jnp.asarray(r), d)), rho, atol=1e-13)
    real = liouvillian.real_superoperator(sup)
    out = np.asarray(liouvillian.density_matrix(jnp.asarray(real @ r), d))
    np.testing.assert_allclose(out, expected, atol=1e-12)
    # trace preservation: population rows sum to zero; Tr(O ρ) = o · r
    np.testing.assert_allclose(real[:d].sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(liouvillian.real_dual(h) @ r, np.trace(h @ rho).real, rtol=1e-12)


def test_davies_superoperator_is_a_thermalizer():
    """Alone with the unitary part, one Davies bath thermalizes to the Gibbs state of H."""
    rng = np.random.default_rng(1)
    d = 4
    h = _random_hermitian(d, rng)
    x = _random_hermitian(d, rng)
    beta = 0.7
    sup = np.asarray(davies.davies_generator(jnp.asarray(h), jnp.asarray(x), spectra.get("seed"), 0.3, beta, None, 1e-9))
    e, v = np.linalg.eigh(h)
    gibbs = (v * np.exp(-beta * e) / np.exp(-beta * e).sum()) @ v.conj().T
    np.testing.assert_allclose(sup @ gibbs.ravel(), 0.0, atol=1e-13)
    np.testing.assert_allclose(liouvillian.commutator_superoperator(h) @ gibbs.ravel(), 0.0, atol=1e-12)
    # trace preserving and Hermiticity preserving
    real = liouvillian.real_superoperator(sup)
    np.testing.assert_allclose(real[:d].sum(axis=0), 0.0, atol=1e-13)


def test_sparse_construction_equals_the_dense_definition():
    """Models build their superoperators sparsely (element entries, then ``to_real`` by index
    arithmetic); that equals ``T⁻¹ S T`` of the dense definitions, and the duals and the kept
    basis rows/columns equal the dense ``real_dual`` and ``T``, ``T⁻¹``."""
    rng = np.random.default_rng(2)
    for d in (2, 3, 5):
        h = _random_hermitian(d, rng)
        h[0, 1] = h[1, 0] = 0.0  # structural zeros must stay zeros
        jump = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
        jump[1, :] = 0.0
        for dense, sparse in ((liouvillian.commutator_superoperator(h), liouvillian.commutator_entries(h)),
                              (liouvillian.dissipator_superoperator(jump), liouvillian.dissipator_entries(jump))):
            np.testing.assert_allclose(sparse.dense(d * d), dense, atol=1e-13)
            real = liouvillian.to_real(sparse, d)
            np.testing.assert_allclose(real.dense(d * d), liouvillian.real_superoperator(dense), atol=1e-12)
            keep = np.array([0, 1, d, d + 1]) if d > 2 else np.array([0, 2, 3])
            np.testing.assert_allclose(real.dense(d * d, keep), liouvillian.real_superoperator(dense)[np.ix_(keep, keep)],
                                       atol=1e-12)
            np.testing.assert_allclose(liouvillian.basis_columns(d, keep), liouvillian.hermitian_basis(d)[:, keep])
            np.testing.assert_allclose(liouvillian.basis_rows(d, keep), liouvillian.hermitian_basis_inverse(d)[keep],
                                       atol=1e-14)
        np.testing.assert_allclose(liouvillian.dual(h), liouvillian.real_dual(h), atol=1e-13)
