"""An XX chain of n qubits between a hot and a cold bath (docs/design.md §2.6).

``H = ω Σ_k n_k + g Σ_{k<n−1} (a_k† a_{k+1} + a_{k+1}† a_k)``; bath ``h`` on site 0, bath ``c``
on site n−1, each a local thermalizer at the site frequency ω (``coupling="local"``) or a Davies
thermalizer in the eigenbasis of ``H`` with ``X = a_k + a_k†`` (``coupling="global"``; or
Bloch–Redfield, ``"redfield"``, or the universal Lindblad equation, ``"ule"``, with the same ``X``).
Parameters ``omega, g, beta_h, beta_c, gamma_h, gamma_c`` (temperatures also as ``T_h, T_c``).
Basis ``|n_0 n_1 … n_{n−1}⟩``, site 0 most significant.
"""

from __future__ import annotations

import itertools

from jaxtherm.models._model import Bath, Expectation, Model, Parameter, Term, model_family, parameter
from jaxtherm.models.thermalizers import bath_parameters, check_option, cutoff_parameters, thermalizer
from jaxtherm.physics.operators import dag, lowering, number

COUPLINGS = ("local", "global", "redfield", "ule")
SPECTRA = ("seed", "bose", "ohmic")
SIZES = (2, 3, 4, 5, 6, 7, 8)


@model_family
def qubit_chain(n: int = 3, coupling: str = "local", spectrum: str = "seed") -> Model:
    """An XX chain of ``n`` qubits (2 ≤ n ≤ 8) with baths ``h`` (site 0) and ``c`` (site n−1).

    Args:
        n: number of qubits; the Hilbert space has ``d = 2ⁿ`` (the steady state's symmetry
            sector, fixed excitation number blocks, has ``C(2n, n)`` real coordinates).
        coupling: ``"local"`` (local thermalizers at ω), ``"global"`` (Davies), ``"redfield"``
            (Bloch–Redfield) or ``"ule"`` (universal Lindblad equation), the last three with
            ``X = a_k + a_k†`` in the eigenbasis of ``H``.
        spectrum: ``"seed"``, ``"bose"`` or ``"ohmic"``.

    Returns:
        The cached ``jaxtherm.models.Model``; observables ``J_h, J_c, power, sigma`` and
        the end sites' populations ``n_h = ⟨n_0⟩``, ``n_c = ⟨n_{n−1}⟩``.
    """
    check_option("n", n, SIZES)
    check_option("coupling", coupling, COUPLINGS)
    check_option("spectrum", spectrum, SPECTRA)
    a = [lowering(n, k) for k in range(n)]
    hopping = sum(dag(a[k]) @ a[k + 1] + dag(a[k + 1]) @ a[k] for k in range(n - 1))
    hamiltonian = (
        Term(parameter("omega"), sum(number(x) for x in a), "omega Σ n_k"),
        Term(parameter("g"), hopping, "g Σ (a_k† a_k+1 + h.c.)"),
    )
    dissipators = (
        *thermalizer(coupling, a[0], bath="h", omega="omega", beta="beta_h", gamma="gamma_h", spectrum=spectrum),
        *thermalizer(coupling, a[-1], bath="c", omega="omega", beta="beta_c", gamma="gamma_c", spectrum=spectrum),
    )
    beta_h, gamma_h = bath_parameters("h", "site 0", spectrum)
    beta_c, gamma_c = bath_parameters("c", f"site {n - 1}", spectrum)
    return Model(
        name=f"qubit_chain/n={n}/{coupling}" + ("" if spectrum == "seed" else f"/{spectrum}"),
        dim=2**n,
        parameters=(
            Parameter("omega", "energy", "frequency ω of every qubit", "> 0"),
            Parameter("g", "energy", "nearest-neighbour exchange g"),
            beta_h, beta_c, gamma_h, gamma_c,
            *cutoff_parameters(spectrum),
        ),
        hamiltonian=hamiltonian,
        dissipators=dissipators,
        baths=(Bath("h", "beta_h"), Bath("c", "beta_c")),
        expectations=(
            Expectation("n_h", number(a[0]), "excitation probability of site 0 (bath h), ⟨n_0⟩"),
            Expectation("n_c", number(a[-1]), f"excitation probability of site {n - 1} (bath c), ⟨n_{n - 1}⟩"),
        ),
        basis=tuple("|" + "".join(map(str, bits)) + "⟩" for bits in itertools.product((0, 1), repeat=n)),
        options={"n": n, "coupling": coupling, "spectrum": spectrum},
        description=__doc__.split("\n\n")[0] + f" n = {n}, {coupling} baths, {spectrum} spectrum.",
    )
