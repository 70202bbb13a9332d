"""The operator vocabulary (jaxtherm.physics.operators): algebra, ordering, conversions, and QuTiP."""

import numpy as np
import pytest

from jaxtherm.physics import operators as ops
from jaxtherm.physics.operators import (
    SIGMA_MINUS,
    as_array,
    create,
    dag,
    destroy,
    embed,
    lowering,
    num,
    number,
    qeye,
    sigmam,
    sigmap,
    sigmax,
    sigmay,
    sigmaz,
    tensor,
)

SWAP = np.array([[0.0, 1.0], [1.0, 0.0]])  # reverses the qubit basis: (|0⟩,|1⟩) ↔ (|↑⟩,|↓⟩)


def comm(x, y):
    return x @ y - y @ x


def random_matrix(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape) + 1j * rng.normal(size=shape)


# ---- modes --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 5, 30])
def test_destroy_matrix_elements_and_truncated_commutator(n):
    a = destroy(n)
    assert a.dtype == np.complex128 and a.shape == (n, n)
    expected = np.zeros((n, n))
    for k in range(1, n):
        expected[k - 1, k] = np.sqrt(k)  # ⟨k−1|a|k⟩ = √k, nothing else
    np.testing.assert_array_equal(a, expected)
    assert np.count_nonzero(a) == n - 1
    # [a, a†] = 1 except the last diagonal entry, which is 1 − n = −(n − 1)
    expected = np.eye(n)
    expected[-1, -1] = -(n - 1)
    np.testing.assert_allclose(comm(a, create(n)), expected, atol=1e-13, rtol=0)


@pytest.mark.parametrize("n", [1, 3, 30])
def test_create_num_qeye(n):
    a = destroy(n)
    np.testing.assert_array_equal(create(n), a.conj().T)
    np.testing.assert_array_equal(num(n), np.diag(np.arange(n)))
    np.testing.assert_allclose(create(n) @ a, num(n), atol=1e-13, rtol=0)  # a†a = num
    np.testing.assert_allclose(number(a), num(n), atol=1e-13, rtol=0)
    np.testing.assert_array_equal(qeye(n), np.eye(n))
    # a lowers the number by one: [num, a] = −a, [num, a†] = a†
    np.testing.assert_allclose(comm(num(n), a), -a, atol=1e-13, rtol=0)
    np.testing.assert_allclose(comm(num(n), create(n)), create(n), atol=1e-13, rtol=0)
    for f in (destroy, create, num, qeye):
        assert f(n).dtype == np.complex128


@pytest.mark.parametrize("bad", [0, -1, 2.0, "3", None, True])
def test_mode_dimension_validated(bad):
    for f in (destroy, create, num, qeye):
        with pytest.raises(ValueError, match="positive integer"):
            f(bad)


# ---- qubits --------------------------------------------------------------------------------


def test_qubit_operators_in_the_excitation_basis():
    np.testing.assert_array_equal(sigmam(), [[0, 1], [0, 0]])  # |0⟩⟨1|: lowers n=1 to n=0
    np.testing.assert_array_equal(sigmam(), SIGMA_MINUS)
    np.testing.assert_array_equal(sigmam(), destroy(2))
    np.testing.assert_array_equal(sigmap(), dag(sigmam()))
    ground, excited = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    np.testing.assert_array_equal(sigmam() @ excited, ground)
    np.testing.assert_array_equal(sigmap() @ ground, excited)
    # σ_z = +1 on the excited state, −1 on the ground state; σ_z = 2n − 1
    assert excited @ sigmaz() @ excited == 1 and ground @ sigmaz() @ ground == -1
    np.testing.assert_array_equal(sigmaz(), 2 * num(2) - qeye(2))


def test_pauli_algebra():
    x, y, z, p, m = sigmax(), sigmay(), sigmaz(), sigmap(), sigmam()
    for s in (x, y, z):
        np.testing.assert_array_equal(s @ s, np.eye(2))
        np.testing.assert_array_equal(s, s.conj().T)
        assert np.trace(s) == 0
    np.testing.assert_array_equal(comm(x, y), 2j * z)
    np.testing.assert_array_equal(comm(y, z), 2j * x)
    np.testing.assert_array_equal(comm(z, x), 2j * y)
    np.testing.assert_array_equal((x + 1j * y) / 2, p)
    np.testing.assert_array_equal((x - 1j * y) / 2, m)
    np.testing.assert_array_equal(comm(z, p), 2 * p)
    np.testing.assert_array_equal(comm(z, m), -2 * m)
    np.testing.assert_array_equal(comm(p, m), z)
    # H = (ω/2) σ_z puts the excited state ω above the ground state
    omega = 1.7
    e = np.linalg.eigvalsh(omega / 2 * z)
    assert e[1] - e[0] == pytest.approx(omega) and (omega / 2 * z)[1, 1].real > (omega / 2 * z)[0, 0].real


def test_constructors_return_fresh_arrays():
    s = sigmam()
    s[0, 1] = 5.0
    assert SIGMA_MINUS[0, 1] == 1.0 and sigmam()[0, 1] == 1.0


# ---- tensor, embed, lowering -------------------------------------------------------------------


def test_tensor_agrees_with_kron_for_mixed_dims():
    a, b, c = random_matrix((2, 2), 1), random_matrix((3, 3), 2), random_matrix((4, 4), 3)
    np.testing.assert_array_equal(tensor(a), a)
    np.testing.assert_array_equal(tensor(a, b), np.kron(a, b))
    np.testing.assert_array_equal(tensor(a, b, c), np.kron(np.kron(a, b), c))
    # first factor most significant: ⟨i j|A ⊗ B|k l⟩ = A_ik B_jl at index (i·3 + j, k·3 + l)
    t = tensor(a, b)
    for i, j, k, l in [(1, 2, 0, 1), (0, 1, 1, 2), (1, 0, 1, 0)]:
        assert t[i * 3 + j, k * 3 + l] == pytest.approx(a[i, k] * b[j, l], rel=1e-15)
    # rectangular factors (kets) too
    ket = tensor(np.array([[0.0], [1.0]]), np.array([[1.0], [0.0], [0.0]]))
    np.testing.assert_array_equal(ket[:, 0], np.eye(6)[3])  # |1⟩ ⊗ |0⟩ is index 1·3 + 0
    with pytest.raises(ValueError, match="at least one"):
        tensor()


@pytest.mark.parametrize("n_qubits", [1, 2, 3, 4])
def test_lowering_is_tensor_of_sigmam(n_qubits):
    for k in range(n_qubits):
        expected = tensor(*(sigmam() if j == k else qeye(2) for j in range(n_qubits)))
        np.testing.assert_array_equal(lowering(n_qubits, k), expected)
        np.testing.assert_array_equal(embed(sigmam(), k, (2,) * n_qubits), expected)


def test_lowering_basis_convention():
    # index of |n_a n_b⟩ is 2 n_a + n_b: a = lowering(2, 0) maps |1 n_b⟩ → |0 n_b⟩
    a, b = lowering(2, 0), lowering(2, 1)
    for n_a in (0, 1):
        for n_b in (0, 1):
            i = 2 * n_a + n_b
            assert number(a)[i, i] == n_a and number(b)[i, i] == n_b
    assert a[0 * 2 + 1, 1 * 2 + 1] == 1 and b[1 * 2 + 0, 1 * 2 + 1] == 1
    # distinct qubits commute; each is a fermionic-like two-level lowering operator
    np.testing.assert_array_equal(comm(a, b), np.zeros((4, 4)))
    np.testing.assert_array_equal(a @ a, np.zeros((4, 4)))


def test_embed_agrees_with_tensor_and_mode_algebra():
    dims = (2, 3, 4)
    for k, d in enumerate(dims):
        op = random_matrix((d, d), 10 + k)
        factors = [op if j == k else np.eye(dj) for j, dj in enumerate(dims)]
        np.testing.assert_array_equal(embed(op, k, dims), tensor(*factors))
    # a mode in a register keeps its algebra; different subsystems commute
    a, b = embed(destroy(3), 1, dims), embed(destroy(4), 2, dims)
    np.testing.assert_allclose(dag(a) @ a, embed(num(3), 1, dims), atol=1e-13, rtol=0)
    np.testing.assert_allclose(comm(a, b), 0, atol=1e-13)
    np.testing.assert_allclose(comm(a, dag(b)), 0, atol=1e-13)
    # total dimension and identity
    np.testing.assert_array_equal(embed(qeye(3), 1, dims), np.eye(24))


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.eye(2), 3, (2, 2)), "subsystem index"),
        ((np.eye(2), -1, (2, 2)), "subsystem index"),
        ((np.eye(3), 0, (2, 2)), r"shape \(2, 2\)"),
        ((np.eye(2), 0, ()), "at least one"),
        ((np.eye(2), 0, (2, 0)), "positive integer"),
    ],
)
def test_embed_validates(args, match):
    with pytest.raises(ValueError, match=match):
        embed(*args)


# ---- conversions ----------------------------------------------------------------------------


class FakeQobj:
    """Anything with ``.full()`` is accepted (duck typing, no QuTiP needed)."""

    def __init__(self, m):
        self._m = np.asarray(m)

    def full(self):
        return self._m


def test_as_array_accepts_arrays_lists_and_full():
    m = [[0, 1], [2, 3j]]
    for x in (np.array(m), m, FakeQobj(m), tuple(map(tuple, m))):
        out = as_array(x)
        assert out.dtype == np.complex128
        np.testing.assert_array_equal(out, np.array(m))
    out = as_array(np.array([[0, 1], [2, 3]], dtype=np.int64))
    assert out.dtype == np.complex128
    np.testing.assert_array_equal(out, [[0, 1], [2, 3]])
    src = np.eye(2)
    out = as_array(src)
    out[0, 0] = 7
    assert src[0, 0] == 1.0  # a copy, never a view


@pytest.mark.parametrize("bad", ["sigmam", None, {"a": 1}, 3.0, np.array([["a", "b"], ["c", "d"]])])
def test_as_array_type_errors(bad):
    with pytest.raises(TypeError, match="NumPy array|numbers"):
        as_array(bad)


@pytest.mark.parametrize("shape", [(2, 2, 2), (4,), (2, 3)])
def test_as_array_shape_errors_name_the_shape(shape):
    with pytest.raises(ValueError, match=rf"\({shape[0]},"):
        as_array(np.zeros(shape))


def test_as_array_ragged_list():
    with pytest.raises(ValueError, match="rectangular"):
        as_array([[1, 2], [3]])


def test_dag_accepts_qobj_likes_and_kets():
    m = random_matrix((3, 3), 5)
    np.testing.assert_array_equal(dag(FakeQobj(m)), m.conj().T)
    np.testing.assert_array_equal(dag(m.tolist()), m.conj().T)
    ket = np.array([[1.0], [1j]])
    np.testing.assert_array_equal(dag(ket), [[1.0, -1j]])
    with pytest.raises(TypeError):
        dag("a")


def test_public_names_exported():
    for name in ("SIGMA_MINUS", "lowering", "dag", "number", "destroy", "create", "num", "qeye", "sigmam",
                 "sigmap", "sigmaz", "sigmax", "sigmay", "tensor", "embed", "as_array"):
        assert name in ops.__all__ and hasattr(ops, name)


# ---- QuTiP -------------------------------------------------------------------------------------


def test_mode_operators_equal_qutip():
    qutip = pytest.importorskip("qutip")
    for n in (2, 5, 30):  # (QuTiP's destroy(1) raises)
        np.testing.assert_array_equal(as_array(qutip.destroy(n)), destroy(n))
        np.testing.assert_array_equal(as_array(qutip.create(n)), create(n))
        np.testing.assert_array_equal(as_array(qutip.num(n)), num(n))
        np.testing.assert_array_equal(as_array(qutip.qeye(n)), qeye(n))
    q = qutip.destroy(5)
    np.testing.assert_array_equal(dag(q), q.dag().full())
    np.testing.assert_array_equal(number(q), (q.dag() * q).full())


def test_tensor_equals_qutip_tensor_for_mixed_dims():
    qutip = pytest.importorskip("qutip")
    factors = [qutip.destroy(3), qutip.sigmax(), qutip.rand_herm(4, seed=1), qutip.num(2)]
    np.testing.assert_array_equal(tensor(*factors), qutip.tensor(*factors).full())
    np.testing.assert_array_equal(tensor(factors[0], factors[2]), qutip.tensor(factors[0], factors[2]).full())
    # NumPy and Qobj factors mix
    np.testing.assert_array_equal(tensor(destroy(3), factors[2]), qutip.tensor(factors[0], factors[2]).full())
    # embed is QuTiP's identity-padded tensor
    dims = (3, 2, 4)
    np.testing.assert_array_equal(
        embed(qutip.destroy(2), 1, dims),
        qutip.tensor(qutip.qeye(3), qutip.destroy(2), qutip.qeye(4)).full(),
    )


def test_qubit_operators_are_qutips_in_the_reversed_basis():
    """QuTiP writes qubits in (|↑⟩, |↓⟩), jaxtherm in (|0⟩, |1⟩) = (|↓⟩, |↑⟩): the matrices are
    conjugate by the basis swap P, and as bare matrices sigmam() is QuTiP's destroy(2) = sigmap()."""
    qutip = pytest.importorskip("qutip")
    pairs = [
        (sigmam(), qutip.sigmam()),
        (sigmap(), qutip.sigmap()),
        (sigmaz(), qutip.sigmaz()),
        (sigmax(), qutip.sigmax()),
        (sigmay(), qutip.sigmay()),
    ]
    for ours, theirs in pairs:
        np.testing.assert_array_equal(ours, SWAP @ theirs.full() @ SWAP)
    np.testing.assert_array_equal(sigmam(), qutip.destroy(2).full())
    np.testing.assert_array_equal(sigmam(), qutip.sigmap().full())
    np.testing.assert_array_equal(sigmap(), qutip.sigmam().full())
    # both lower the excitation: QuTiP's σ₋ maps |↑⟩ = basis(2, 0) to |↓⟩ = basis(2, 1)
    assert (qutip.sigmam() * qutip.basis(2, 0)).full()[1, 0] == 1
    # in both conventions σ_z = +1 on the excited state, and [σ₊, σ₋] = σ_z
    assert qutip.expect(qutip.sigmaz(), qutip.basis(2, 0)) == 1 and sigmaz()[1, 1] == 1
    np.testing.assert_array_equal(comm(qutip.sigmap().full(), qutip.sigmam().full()), qutip.sigmaz().full())
