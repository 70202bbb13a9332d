"""The three-qubit absorption refrigerator (docs/design.md §2.6).

Qubits c, r, h (basis ``|n_c n_r n_h⟩``, c most significant) with energies ``E_c``,
``E_r = E_c + E_h`` and ``E_h``; ``H = Σ_k E_k n_k + g(|0_c 1_r 0_h⟩⟨1_c 0_r 1_h| + h.c.)``; each
qubit has its own bath (``c`` cold, ``r`` room, ``h`` hot), a local thermalizer at its energy or
a thermalizer with ``X_k = a_k + a_k†`` in the eigenbasis of ``H`` (Davies, Bloch–Redfield or
ULE). Heat from the hot bath drives heat out of the
cold one: it cools (``J_c > 0``) iff ``β_c E_c + β_h E_h < β_r E_r`` (the cooling window), with
``cop = J_c / J_h`` at most Carnot's ``(β_r − β_h)/(β_c − β_r)``; the local model runs at
``cop = E_c / E_h`` (tight coupling).
"""

from __future__ import annotations

import itertools

import numpy as np

from jaxtherm.models._model import Bath, Derived, Expectation, Model, Parameter, Term, model_family, parameter
from jaxtherm.models.thermalizers import bath_parameters, check_option, cutoff_parameters, thermalizer
from jaxtherm.physics.operators import lowering, number

COUPLINGS = ("local", "global", "redfield", "ule")
SPECTRA = ("seed", "bose", "ohmic")


def _ket(bits) -> np.ndarray:
    v = np.zeros(8)
    v[int("".join(map(str, bits)), 2)] = 1.0
    return v


def _room_energy(p):
    return p["E_c"] + p["E_h"]


BASIS = tuple("|" + "".join(map(str, bits)) + "⟩" for bits in itertools.product((0, 1), repeat=3))


def _parameters(spectrum: str) -> tuple[Parameter, ...]:
    """``E_c, E_h, g``, then the baths' ``beta_c, beta_r, beta_h, gamma_c, gamma_r, gamma_h`` (and
    the ohmic cutoff)."""
    baths = {k: bath_parameters(k, f"qubit {k}", spectrum) for k in "crh"}
    return (
        Parameter("E_c", "energy", "energy E_c of the cold qubit", "> 0"),
        Parameter("E_h", "energy", "energy E_h of the hot qubit (the room qubit has E_r = E_c + E_h)", "> 0"),
        Parameter("g", "energy", "three-body coupling g (|010⟩⟨101| + h.c.)"),
        *(baths[k][0] for k in "crh"),
        *(baths[k][1] for k in "crh"),
        *cutoff_parameters(spectrum),
    )


DERIVED = (
    Derived("cop", lambda o: o["J_c"] / o["J_h"], "1",
            "coefficient of performance J_c / J_h: heat drawn from the cold bath per heat from the hot bath"),
    Derived("cop_carnot", lambda o: (o["beta_r"] - o["beta_h"]) / (o["beta_c"] - o["beta_r"]), "1",
            "Carnot bound of the cop, (β_r − β_h)/(β_c − β_r) (meaningful where β_c > β_r > β_h)"),
)


def _dissipators(coupling: str, a: dict, spectrum: str) -> tuple:
    """Each qubit's thermalizer (``jaxtherm.models.thermalizers``), in the order c, r, h: the
    room's frequency is ``E_r = E_c + E_h`` (``_room_energy``; the swap ``|010⟩⟨101|`` is then
    resonant)."""
    omega = {"c": "E_c", "r": _room_energy, "h": "E_h"}
    return tuple(
        x for k in "crh"
        for x in thermalizer(coupling, a[k], bath=k, omega=omega[k], beta=f"beta_{k}", gamma=f"gamma_{k}",
                             spectrum=spectrum)
    )


@model_family
def absorption_refrigerator(coupling: str = "local", spectrum: str = "seed") -> Model:
    """The absorption refrigerator with ``local``, ``global`` (Davies), ``redfield``
    (Bloch–Redfield) or ``ule`` (universal Lindblad equation) baths.

    Args:
        coupling: ``"local"``, ``"global"``, ``"redfield"`` or ``"ule"``.
        spectrum: ``"seed"``, ``"bose"`` or ``"ohmic"``.

    Returns:
        The cached ``jaxtherm.models.Model``; parameters ``E_c, E_h, g, beta_c, beta_r,
        beta_h, gamma_c, gamma_r, gamma_h``; observables ``J_c, J_r, J_h, power, sigma``, the
        populations ``n_c, n_r, n_h``, ``cop = J_c/J_h`` and its Carnot bound ``cop_carnot``.
    """
    check_option("coupling", coupling, COUPLINGS)
    check_option("spectrum", spectrum, SPECTRA)
    a = {k: lowering(3, i) for i, k in enumerate("crh")}
    n = {k: number(x) for k, x in a.items()}
    swap = np.outer(_ket((0, 1, 0)), _ket((1, 0, 1)))
    hamiltonian = (
        Term(parameter("E_c"), n["c"] + n["r"], "E_c (n_c + n_r)"),
        Term(parameter("E_h"), n["h"] + n["r"], "E_h (n_h + n_r)"),
        Term(parameter("g"), swap + swap.T, "g (|010⟩⟨101| + h.c.)"),
    )
    dissipators = _dissipators(coupling, a, spectrum)
    return Model(
        name=f"absorption_refrigerator/{coupling}" + ("" if spectrum == "seed" else f"/{spectrum}"),
        dim=8,
        parameters=_parameters(spectrum),
        hamiltonian=hamiltonian,
        dissipators=dissipators,
        baths=tuple(Bath(k, f"beta_{k}") for k in "crh"),
        expectations=tuple(Expectation(f"n_{k}", n[k], f"excitation probability of qubit {k}") for k in "crh"),
        derived=DERIVED,
        basis=BASIS,
        options={"coupling": coupling, "spectrum": spectrum},
        description=__doc__.split("\n\n")[0] + f" {coupling} baths, {spectrum} spectrum.",
    )
