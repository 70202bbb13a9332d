"""Reusable thermalizers and the parameter declarations that go with them."""

from __future__ import annotations

import numbers

from jaxtherm._checks import raise_if
from jaxtherm.models._model import ULE, Davies, Lindblad, Parameter, Redfield, parameter
from jaxtherm.physics import spectra
from jaxtherm.physics.operators import dag

RATE_UNITS = "energy (rate, ħ = 1)"


def local_thermalizer(a, *, bath: str, omega, beta: str, gamma: str, spectrum="seed",
                      cutoff: str | None = None) -> tuple[Lindblad, Lindblad]:
    """Local thermalizer of a mode (qubit or truncated oscillator) with lowering operator ``a``.

    ``L ρ = k_↓ D[a] ρ + k_↑ D[a†] ρ`` with the spectrum's rates at the *local* frequency ``ω``
    (``jaxtherm.physics.spectra``): ``seed`` ``k_↓ = Γ, k_↑ = Γ e^{−βω}`` (the talk's), ``bose``
    ``γ(1 + n̄), γ n̄``, ``ohmic`` ``κω e^{−ω/ω_c}(1 + n̄), κω e^{−ω/ω_c} n̄``. Detailed balance
    ``k_↑/k_↓ = e^{−βω}`` makes its steady state alone the Gibbs state ``e^{−βω a†a}/Z``.

    Each jump carries its quantum (``Lindblad.quantum``): ``D[a]`` gives ``ω`` to the bath
    (``ν = −ω``), ``D[a†]`` takes ``ω`` from it (``ν = +ω``).

    Args:
        a: lowering operator, shape ``(d, d)``.
        bath: name of the bath the two jumps belong to.
        omega: parameter name of ``ω``, or a coefficient ``p ↦ ω`` (e.g. ``E_c + E_h``).
        beta, gamma: parameter names of ``β`` and of the rate (``Γ``, ``γ`` or ``κ``).
        spectrum: ``"seed"`` (default), ``"bose"`` or ``"ohmic"``.
        cutoff: parameter name of ``ω_c`` for ``ohmic`` (default ``"omega_cutoff"``).
    """
    spec = spectra.get(spectrum)
    cut = (cutoff or spectra.CUTOFF_PARAMETER) if spec.needs_cutoff else None
    frequency = parameter(omega) if isinstance(omega, str) else omega

    def rates(p):
        return spec.rates(frequency(p), p[beta], p[gamma], p[cut] if cut else None)

    def down(p):
        return rates(p)[0]

    def up(p):
        return rates(p)[1]

    def emitted(p):
        return -frequency(p)

    return (
        Lindblad(down, a, bath, label=f"{spec.name} emission D[a_{bath}]", quantum=emitted),
        Lindblad(up, dag(a), bath, label=f"{spec.name} absorption D[a_{bath}†]", quantum=frequency),
    )


EIGENBASIS_THERMALIZERS = {"global": Davies, "redfield": Redfield, "ule": ULE}
"""The couplings whose baths are built in the eigenbasis of the full ``H`` (all with
``X = a + a†`` and the same spectrum): ``global`` (Davies), ``redfield`` (Bloch–Redfield),
``ule`` (universal Lindblad equation)."""


def thermalizer(kind: str, a, *, bath: str, omega, beta: str, gamma: str, spectrum="seed") -> tuple:
    """The bath ``bath`` on the mode with lowering operator ``a``: ``kind = "local"`` gives
    ``local_thermalizer`` at frequency ``omega``; ``"global"``, ``"redfield"`` and ``"ule"`` a
    ``Davies``, ``Redfield`` or ``ULE`` thermalizer with coupling ``X = a + a†`` in the
    eigenbasis of the full Hamiltonian (``EIGENBASIS_THERMALIZERS``)."""
    spec = spectra.get(spectrum)
    if kind == "local":
        return local_thermalizer(a, bath=bath, omega=omega, beta=beta, gamma=gamma, spectrum=spec)
    cls = EIGENBASIS_THERMALIZERS[kind]
    cutoff = parameter(spectra.CUTOFF_PARAMETER) if spec.needs_cutoff else None
    return (cls(a + dag(a), parameter(gamma), parameter(beta), bath, label=f"{cls.__name__} {bath}: a + a†",
                spectrum=spec, cutoff=cutoff),)


def bath_parameters(bath: str, what: str, spectrum="seed") -> tuple[Parameter, Parameter]:
    """``beta_{bath}`` and ``gamma_{bath}`` declared with units, descriptions and domains ≥ 0."""
    spec = spectra.get(spectrum)
    symbol = {"seed": "Γ", "bose": "γ", "ohmic": "κ"}.get(spec.name, "rate")
    return (
        Parameter(f"beta_{bath}", "1/energy", f"inverse temperature of bath {bath}", ">= 0"),
        Parameter(f"gamma_{bath}", RATE_UNITS if spec.name != "ohmic" else "1",
                  f"rate {symbol} of bath {bath} on {what} ({spec.name} spectrum: {spec.formula})", ">= 0"),
    )


def cutoff_parameters(spectrum="seed") -> tuple[Parameter, ...]:
    """``(omega_cutoff,)`` for the ``ohmic`` spectrum, else ``()``."""
    if not spectra.get(spectrum).needs_cutoff:
        return ()
    return (Parameter(spectra.CUTOFF_PARAMETER, "energy", "cutoff frequency ω_c of the ohmic spectra", "> 0"),)


class OptionError(ValueError):
    """A model option with a value the model does not take; ``option`` names it (a spec reports
    it as the key ``model.<option>``)."""

    def __init__(self, option: str, message: str):
        self.option = option
        super().__init__(message)


def _same_kind(value, allowed) -> bool:
    """``3`` and ``np.int64(3)`` are the option ``3``; ``3.0`` and ``True`` are not (``3.0 == 3``)."""
    if isinstance(allowed, numbers.Integral) and not isinstance(allowed, bool):
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    return isinstance(value, type(allowed))


def check_option(name: str, value, allowed) -> None:
    """Raise ``OptionError`` naming the option unless ``value`` is among ``allowed`` (and of
    the same kind: an integer option takes no float)."""
    raise_if(not any(value == a and _same_kind(value, a) for a in allowed),
             OptionError(name, f"{name} must be one of {', '.join(map(str, allowed))}; got {value!r}"))
