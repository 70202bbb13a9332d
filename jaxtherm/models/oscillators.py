"""Two truncated harmonic oscillators, each with its own bath (docs/design.md §2.6).

The pair's parameters and couplings (see ``jaxtherm.models.qubit_pair``) with modes
``a = destroy(N) ⊗ 1``, ``b = 1 ⊗ destroy(N)`` truncated at ``N = cutoff`` levels each: basis
``|n_a, n_b⟩``, index ``N n_a + n_b``. The cutoff is structural (part of the model, not a swept
parameter); results converge as it grows, geometrically with ratio ``≈ n̄/(1 + n̄)``.
"""

from __future__ import annotations

from jaxtherm._checks import raise_if
from jaxtherm.models._model import Model, model_family
from jaxtherm.models.qubit_pair import COUPLINGS, NONSECULAR, SPECTRA, pair_model
from jaxtherm.models.thermalizers import OptionError, check_option
from jaxtherm.physics.operators import destroy, qeye, tensor


def _check_cutoff(cutoff) -> None:
    """Check that ``cutoff`` is an integer (not a bool) from 2 to 40.

    Raises:
        OptionError: naming the option."""
    raise_if(not isinstance(cutoff, int) or isinstance(cutoff, bool) or not 2 <= cutoff <= 40,
             OptionError("cutoff", f"cutoff must be an integer from 2 to 40; got {cutoff!r}"))


def _basis(cutoff: int) -> tuple[str, ...]:
    """The basis labels ``|n_a n_b⟩`` (comma-separated above 10 levels), index ``N n_a + n_b``."""
    sep = "," if cutoff > 10 else ""
    return tuple(f"|{na}{sep}{nb}⟩" for na in range(cutoff) for nb in range(cutoff))


@model_family
def oscillator_pair(cutoff: int = 6, coupling: str = "local", spectrum: str = "seed") -> Model:
    """Two oscillators truncated at ``cutoff`` levels each, coupled like the qubit pair.

    Args:
        cutoff: levels per mode, 2 … 40 (``d = cutoff²``).
        coupling: ``"local"`` (``ε(a†b + b†a)``, local thermalizers), ``"global"`` (Davies in the
            eigenbasis of the truncated ``H``; its cost grows like ``d⁴`` a point),
            ``"redfield"`` (Bloch–Redfield) or ``"ule"`` (universal Lindblad equation), both with
            the global model's ``H`` and couplings, or ``"incoherent"`` (the noisy exchange
            ``ε(D[a†b] + D[ab†])``).
        spectrum: ``"seed"``, ``"bose"`` or ``"ohmic"``.

    Returns:
        The cached ``jaxtherm.models.Model``; observables ``J_a, J_b, power, sigma, n_a, n_b``.
    """
    _check_cutoff(cutoff)
    check_option("coupling", coupling, COUPLINGS + NONSECULAR)
    check_option("spectrum", spectrum, SPECTRA)
    a, b = tensor(destroy(cutoff), qeye(cutoff)), tensor(qeye(cutoff), destroy(cutoff))
    return pair_model(f"oscillator_pair/cutoff={cutoff}/{coupling}" + ("" if spectrum == "seed" else f"/{spectrum}"),
                      a, b, coupling, spectrum, "oscillator", _basis(cutoff),
                      {"cutoff": cutoff, "coupling": coupling, "spectrum": spectrum},
                      __doc__.split("\n\n")[0] + f" Cutoff {cutoff}, {coupling} coupling, {spectrum} spectrum.")
