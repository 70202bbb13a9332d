"""Two qubits A and B, each with its own heat bath, coupled in one of three ways (DESIGN.md §2).

Parameters: ``omega_a, omega_b`` (frequencies), ``beta_a, beta_b`` (inverse temperatures),
``gamma_a, gamma_b`` (thermalizer rates Γ), ``epsilon`` (coupling strength ε). Basis
``|n_a n_b⟩``, index ``2 n_a + n_b``; ``H_0 = ω_a n_a + ω_b n_b``.

* ``incoherent``: ``H = H_0``; local thermalizers; and the noisy exchange
  ``ε (D[a†b] + D[ab†])`` (``L^K ρ = ε(a†b ρ b†a + ab† ρ ba† − ½{n_a + n_b − 2 n_a n_b, ρ})``),
  a non-thermal channel ``"coupling"`` whose energy flow is the power ``P``.
* ``local``: ``H = H_0 + ε(a†b + b†a)``; local thermalizers (inconsistent when detuned: σ < 0
  is possible and reported).
* ``global``: the same ``H``; each bath a Davies thermalizer in the eigenbasis of ``H`` with
  coupling ``a + a†`` (resp. ``b + b†``).
"""

from __future__ import annotations

import functools

from ..operators import dag, lowering, number
from .base import Bath, Davies, Expectation, Lindblad, Model, Term, parameter
from .thermalizers import local_thermalizer

COUPLINGS = ("incoherent", "local", "global")
PARAMETERS = ("omega_a", "omega_b", "beta_a", "beta_b", "gamma_a", "gamma_b", "epsilon")
UNITS = {
    "omega_a": "energy",
    "omega_b": "energy",
    "beta_a": "1/energy",
    "beta_b": "1/energy",
    "gamma_a": "energy (rate, ħ = 1)",
    "gamma_b": "energy (rate, ħ = 1)",
    "epsilon": "energy (rate, ħ = 1)",
}


@functools.cache
def qubit_pair(coupling: str = "incoherent") -> Model:
    """Two qubits with local baths, coupled ``incoherent``-ly, ``local``-ly or ``global``-ly.

    Args:
        coupling: ``"incoherent"`` (noisy exchange dissipator), ``"local"`` (coherent exchange
            with local thermalizers) or ``"global"`` (coherent exchange with Davies thermalizers).

    Returns:
        The (cached, immutable) :class:`~jaxtherm.models.base.Model` with parameters
        ``omega_a, omega_b, beta_a, beta_b, gamma_a, gamma_b, epsilon``, baths ``a`` and ``b``
        and expectations ``n_a``, ``n_b``.

    Raises:
        ValueError: for an unknown coupling.
    """
    if coupling not in COUPLINGS:
        raise ValueError(f"coupling must be one of {', '.join(COUPLINGS)}; got {coupling!r}")
    a, b = lowering(2, 0), lowering(2, 1)
    n_a, n_b = number(a), number(b)
    hamiltonian = [Term(parameter("omega_a"), n_a, "omega_a n_a"), Term(parameter("omega_b"), n_b, "omega_b n_b")]
    if coupling in ("local", "global"):
        hamiltonian.append(Term(parameter("epsilon"), dag(a) @ b + dag(b) @ a, "epsilon (a†b + b†a)"))
    if coupling == "global":
        dissipators = [
            Davies(a + dag(a), parameter("gamma_a"), parameter("beta_a"), "a", label="Davies a + a†"),
            Davies(b + dag(b), parameter("gamma_b"), parameter("beta_b"), "b", label="Davies b + b†"),
        ]
    else:
        dissipators = [
            *local_thermalizer(a, bath="a", omega="omega_a", beta="beta_a", gamma="gamma_a"),
            *local_thermalizer(b, bath="b", omega="omega_b", beta="beta_b", gamma="gamma_b"),
        ]
    if coupling == "incoherent":
        dissipators += [
            Lindblad(parameter("epsilon"), dag(a) @ b, "coupling", label="epsilon D[a†b]"),
            Lindblad(parameter("epsilon"), a @ dag(b), "coupling", label="epsilon D[ab†]"),
        ]
    return Model(
        name=f"qubit_pair/{coupling}",
        dim=4,
        parameters=PARAMETERS,
        hamiltonian=tuple(hamiltonian),
        dissipators=tuple(dissipators),
        baths=(Bath("a", "beta_a"), Bath("b", "beta_b")),
        expectations=(
            Expectation("n_a", n_a, "excitation probability of qubit A, ⟨a†a⟩"),
            Expectation("n_b", n_b, "excitation probability of qubit B, ⟨b†b⟩"),
        ),
        units=UNITS,
        description=__doc__.split("\n\n")[0],
    )
