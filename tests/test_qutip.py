"""Agreement with an independent implementation: QuTiP's ``steadystate`` on random points.

The Liouvillians are built here from QuTiP's own operators (``destroy``, ``tensor``,
``liouvillian``); the Davies jump operators are grouped by Bohr frequency from a NumPy
eigendecomposition, independently of jaxtherm.physics.liouvillian.
"""

import numpy as np
import pytest

import jaxtherm
from tests.helpers import random_points

qutip = pytest.importorskip("qutip")


def qutip_model(coupling, omega_a, omega_b, beta_a, beta_b, gamma_a, gamma_b, epsilon):
    """(H, {channel: c_ops}) in QuTiP, basis |n_a n_b⟩ (tensor order a ⊗ b)."""
    a = qutip.tensor(qutip.destroy(2), qutip.qeye(2))
    b = qutip.tensor(qutip.qeye(2), qutip.destroy(2))
    h = omega_a * a.dag() * a + omega_b * b.dag() * b
    if coupling != "incoherent":
        h += epsilon * (a.dag() * b + b.dag() * a)
    channels = {}
    if coupling == "global":
        energies, vecs = np.linalg.eigh(h.full())
        for name, op, gamma, beta in (("a", a, gamma_a, beta_a), ("b", b, gamma_b, beta_b)):
            x = vecs.conj().T @ (op + op.dag()).full() @ vecs
            groups = {}
            for m in range(4):
                for n in range(4):
                    nu = energies[m] - energies[n]
                    if abs(nu) > 1e-9 and abs(x[n, m]) > 0:
                        key = round(nu, 8)  # group equal Bohr frequencies; keep the exact ν
                        exact, jump = groups.setdefault(key, (nu, np.zeros((4, 4), complex)))
                        jump += x[n, m] * np.outer(vecs[:, n], vecs[:, m].conj())
            c_ops = []
            for nu, jump in groups.values():
                rate = gamma if nu > 0 else gamma * np.exp(-beta * abs(nu))
                c_ops.append(np.sqrt(rate) * qutip.Qobj(jump, dims=h.dims))
            channels[name] = c_ops
    else:
        for name, op, omega, gamma, beta in (("a", a, omega_a, gamma_a, beta_a), ("b", b, omega_b, gamma_b, beta_b)):
            channels[name] = [np.sqrt(gamma) * op, np.sqrt(gamma * np.exp(-beta * omega)) * op.dag()]
        if coupling == "incoherent":
            channels["coupling"] = [np.sqrt(epsilon) * a.dag() * b, np.sqrt(epsilon) * a * b.dag()]
    return h, channels


@pytest.mark.parametrize("coupling", jaxtherm.COUPLINGS)
def test_steady_state_matches_qutip(coupling):
    p = random_points(24, seed=7)
    out = jaxtherm.solve(jaxtherm.qubit_pair(coupling), **p)
    for i in range(24):
        pi = {k: float(v[i]) for k, v in p.items()}
        h, channels = qutip_model(coupling, **pi)
        c_ops = [c for cs in channels.values() for c in cs]
        rho = qutip.steadystate(h, c_ops, method="direct")
        np.testing.assert_allclose(np.asarray(out["rho"][i]), rho.full(), atol=1e-10, rtol=0)
        # heat currents from QuTiP's own dissipators: J_j = Tr(H D_j ρ)
        for bath in ("a", "b"):
            d_rho = qutip.liouvillian(0 * h, channels[bath])(rho)
            j = (h * d_rho).tr().real
            assert float(out[f"J_{bath}"][i]) == pytest.approx(j, rel=1e-7, abs=1e-13)
