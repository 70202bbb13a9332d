"""Two qubits A and B, each with its own heat bath, coupled in one of three ways (docs/design.md §2.5),
or with Bloch–Redfield or ULE baths (§2.11).

Parameters: ``omega_a, omega_b`` (frequencies), ``beta_a, beta_b`` (inverse temperatures),
``gamma_a, gamma_b`` (thermalizer rates), ``epsilon`` (coupling strength ε); aliases ``T_a``,
``T_b`` and the detuning ``delta`` (``omega_b = omega_a − delta``). Basis ``|n_a n_b⟩``, index
``2 n_a + n_b``; ``H_0 = ω_a n_a + ω_b n_b``.

* ``incoherent``: ``H = H_0``; local thermalizers; and the noisy exchange
  ``ε (D[a†b] + D[ab†])`` (``L^K ρ = ε(a†b ρ b†a + ab† ρ ba† − ½{n_a + n_b − 2 n_a n_b, ρ})``),
  a non-thermal channel ``"coupling"`` whose energy flow is the power ``P``.
* ``local``: ``H = H_0 + ε(a†b + b†a)``; local thermalizers (inconsistent when detuned: σ < 0
  is possible and reported).
* ``global``: the same ``H``; each bath a Davies thermalizer in the eigenbasis of ``H`` with
  coupling ``a + a†`` (resp. ``b + b†``).
* ``redfield``, ``ule``: the same ``H`` and couplings, each bath a Bloch–Redfield or a universal
  Lindblad (ULE) thermalizer with the same spectrum (``jaxtherm.models.Redfield``,
  ``jaxtherm.models.ULE``); they add the observable ``min_eigenvalue``.
"""

from __future__ import annotations

from jaxtherm.models._model import Alias, Bath, Expectation, Lindblad, Model, Parameter, Term, model_family, parameter
from jaxtherm.models.thermalizers import RATE_UNITS, bath_parameters, check_option, cutoff_parameters, thermalizer
from jaxtherm.physics.operators import dag, lowering, number

COUPLINGS = ("incoherent", "local", "global")
"""The seed's three couplings (``jaxtherm story``, the ``second_law`` sweep)."""
NONSECULAR = ("redfield", "ule")
"""The master equations beyond the secular one, with the global model's ``H`` and couplings."""
SPECTRA = ("seed", "bose", "ohmic")


def pair_parameters(what: str, spectrum: str) -> tuple[Parameter, ...]:
    """Parameters of a pair of modes a, b (qubits or oscillators) with their baths."""
    return (
        Parameter("omega_a", "energy", f"frequency ω_a of {what} A", "> 0"),
        Parameter("omega_b", "energy", f"frequency ω_b of {what} B", "> 0"),
        *(bath_parameters(bath, f"{what} {bath.upper()}", spectrum)[0] for bath in "ab"),  # beta_a, beta_b
        *(bath_parameters(bath, f"{what} {bath.upper()}", spectrum)[1] for bath in "ab"),  # gamma_a, gamma_b
        Parameter("epsilon", RATE_UNITS, "coupling strength ε (exchange amplitude, or the noisy exchange's rate)", ">= 0"),
        *cutoff_parameters(spectrum),
    )


DETUNING = Alias("delta", "omega_b", "omega_b = omega_a - delta", lambda v: v["omega_a"] - v["delta"], ("omega_a",),
                 "energy", "detuning omega_a - omega_b (omega_b = omega_a - delta)")


def pair_model(name: str, a, b, coupling: str, spectrum: str, what: str, basis, options, description: str) -> Model:
    """Two modes with lowering operators ``a``, ``b`` and baths ``a``, ``b``, coupled ``coupling``-ly
    (shared by ``qubit_pair`` and the oscillator pair)."""
    n_a, n_b = number(a), number(b)
    hamiltonian = [Term(parameter("omega_a"), n_a, "omega_a n_a"), Term(parameter("omega_b"), n_b, "omega_b n_b")]
    if coupling != "incoherent":
        hamiltonian.append(Term(parameter("epsilon"), dag(a) @ b + dag(b) @ a, "epsilon (a†b + b†a)"))
    kind = "local" if coupling == "incoherent" else coupling
    dissipators = [
        *thermalizer(kind, a, bath="a", omega="omega_a", beta="beta_a", gamma="gamma_a", spectrum=spectrum),
        *thermalizer(kind, b, bath="b", omega="omega_b", beta="beta_b", gamma="gamma_b", spectrum=spectrum),
    ]
    if coupling == "incoherent":
        dissipators += [
            Lindblad(parameter("epsilon"), dag(a) @ b, "coupling", label="epsilon D[a†b]"),
            Lindblad(parameter("epsilon"), a @ dag(b), "coupling", label="epsilon D[ab†]"),
        ]
    return Model(
        name=name,
        dim=a.shape[0],
        parameters=pair_parameters(what, spectrum),
        hamiltonian=tuple(hamiltonian),
        dissipators=tuple(dissipators),
        baths=(Bath("a", "beta_a"), Bath("b", "beta_b")),
        expectations=(
            Expectation("n_a", n_a, f"mean excitation number of {what} A, ⟨a†a⟩"),
            Expectation("n_b", n_b, f"mean excitation number of {what} B, ⟨b†b⟩"),
        ),
        aliases=(DETUNING,),
        basis=basis,
        options=options,
        description=description,
    )


@model_family
def qubit_pair(coupling: str = "incoherent", spectrum: str = "seed") -> Model:
    """Two qubits with local baths, coupled ``incoherent``-ly, ``local``-ly or ``global``-ly.

    Args:
        coupling: ``"incoherent"`` (noisy exchange dissipator), ``"local"`` (coherent exchange
            with local thermalizers), ``"global"`` (coherent exchange with Davies thermalizers),
            ``"redfield"`` (Bloch–Redfield, no secular approximation) or ``"ule"`` (universal
            Lindblad equation); the last two also report ``min_eigenvalue``.
        spectrum: the baths' spectrum, ``"seed"`` (default: down Γ, up Γe^{−βν}), ``"bose"`` or
            ``"ohmic"`` (adds the parameter ``omega_cutoff``).

    Returns:
        The (cached, immutable) ``jaxtherm.models.Model`` with parameters
        ``omega_a, omega_b, beta_a, beta_b, gamma_a, gamma_b, epsilon``, baths ``a`` and ``b``
        and expectations ``n_a``, ``n_b``.

    Raises:
        ValueError: for an unknown coupling or spectrum.
    """
    check_option("coupling", coupling, COUPLINGS + NONSECULAR)
    check_option("spectrum", spectrum, SPECTRA)
    name = f"qubit_pair/{coupling}" + ("" if spectrum == "seed" else f"/{spectrum}")
    basis = tuple(f"|{na}{nb}⟩" for na in (0, 1) for nb in (0, 1))
    return pair_model(name, lowering(2, 0), lowering(2, 1), coupling, spectrum, "qubit", basis,
                      {"coupling": coupling, "spectrum": spectrum},
                      __doc__.split("\n\n")[0] + " Basis |n_a n_b⟩, index 2 n_a + n_b.")
