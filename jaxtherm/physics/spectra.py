"""Bath spectra: the emission and absorption rates of a thermalizer at a transition energy ν.

A thermalizer moves a quantum ``ν > 0`` between the system and its bath; the rates come from
the bath's spectrum (``docs/design.md`` §2.3). Every spectrum obeys detailed balance,
``absorption / emission = e^{−βν}``:

============  ==============================  ==============================
spectrum      emission (down)                 absorption (up)
============  ==============================  ==============================
``seed``      ``Γ``                           ``Γ e^{−βν}``
``bose``      ``γ (1 + n̄(ν))``                ``γ n̄(ν)``
``ohmic``     ``κ ν e^{−ν/ω_c} (1 + n̄(ν))``   ``κ ν e^{−ν/ω_c} n̄(ν)``
============  ==============================  ==============================

with ``n̄(ν) = 1/(e^{βν} − 1)`` and the rate parameter ``Γ, γ`` or ``κ`` of the bath. They are
written with ``x = e^{−βν} ∈ [0, 1]``: ``1 + n̄ = 1/(1 − x)`` and ``n̄ = x/(1 − x)``, so that
``β → ∞`` (``x → 0``) gives emission only, with finite derivatives. At ``ν → 0``: ``seed``
tends to ``Γ``, ``ohmic`` to ``κ/β`` (both finite, evaluated exactly at ``ν = 0``);
``bose`` diverges like ``γ/(βν)`` (a flat spectral density times the Bose occupation), which
is physics, not a numerical accident. Every function is JAX-traceable and differentiable in
``ν, β``, the rate and ``ω_c``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax.numpy as jnp

from jaxtherm._checks import raise_if

SPECTRA = ("seed", "bose", "ohmic")
CUTOFF_PARAMETER = "omega_cutoff"
"""Name of the cutoff-frequency parameter ``ω_c`` that models with an ``ohmic`` bath take."""


def _boltzmann(nu, beta):
    """``(x, 1 − x)`` with ``x = e^{−βν}``; exactly ``(0, 1)`` at ``β = ∞``, with zero (not NaN)
    derivatives there. ``1 − x`` is computed as ``−expm1(−βν)``, accurate for small ``βν``."""
    finite = jnp.isfinite(beta)
    b = jnp.where(finite, beta, 0.0)
    x = jnp.where(finite, jnp.exp(-b * nu), 0.0)
    return x, jnp.where(finite, -jnp.expm1(-b * nu), 1.0)


def _seed(nu, beta, rate, cutoff):
    x, _ = _boltzmann(nu, beta)
    return rate, rate * x


def _bose(nu, beta, rate, cutoff):
    x, one_minus_x = _boltzmann(nu, beta)
    emission = rate / one_minus_x
    return emission, emission * x


def _ohmic(nu, beta, rate, cutoff):
    # ν/(1 − e^{−βν}) → 1/β + ν/2 as βν → 0: the limit is taken there, and the other branch is
    # evaluated at a safe argument so that its (discarded) derivatives stay finite
    small = jnp.abs(beta * nu) < 1e-8
    safe_nu = jnp.where(small, 1.0, nu)
    x, one_minus_x = _boltzmann(safe_nu, jnp.where(small, 1.0, beta))
    ratio = jnp.where(small, 1.0 / jnp.where(small, beta, 1.0) + nu / 2, safe_nu / one_minus_x)
    emission = rate * ratio * jnp.exp(-nu / cutoff)
    return emission, emission * _boltzmann(nu, beta)[0]


@dataclasses.dataclass(frozen=True)
class Spectrum:
    """A bath spectrum: ``rates(ν, β, rate, cutoff) → (emission, absorption)``.

    Attributes:
        name: ``"seed"``, ``"bose"`` or ``"ohmic"``.
        formula: the emission and absorption rates, for descriptions.
        needs_cutoff: whether it takes the cutoff frequency ``ω_c`` (``CUTOFF_PARAMETER``).
    """

    name: str
    formula: str
    needs_cutoff: bool
    _rates: Callable = dataclasses.field(repr=False)

    def rates(self, nu, beta, rate, cutoff=None):
        """``(emission, absorption)`` at transition energy ``ν > 0`` (scalars or arrays)."""
        return self._rates(nu, beta, rate, cutoff)

    def emission(self, nu, beta, rate, cutoff=None):
        """Down rate: the system gives ``ν`` to the bath."""
        return self._rates(nu, beta, rate, cutoff)[0]

    def absorption(self, nu, beta, rate, cutoff=None):
        """Up rate: the system takes ``ν`` from the bath; ``= emission · e^{−βν}``."""
        return self._rates(nu, beta, rate, cutoff)[1]

    def zero_frequency(self, beta, rate, cutoff=None):
        """The rate at ``ν = 0`` (the limit ``ν → 0``, where emission and absorption agree):
        ``seed`` ``Γ``, ``ohmic`` ``κ/β`` (0 at ``β = ∞``), ``bose`` ``+inf`` (finite
        temperature; ``γ`` at ``β = ∞``). Only the non-secular equations need it, for a
        coupling with a component between equal energies (``jaxtherm.physics.nonsecular``);
        written without dividing by zero, so that its derivatives are finite where it is."""
        if self.name == "seed":
            return rate * jnp.ones_like(beta)
        if self.name == "ohmic":
            finite = jnp.isfinite(beta)
            return jnp.where(finite, rate / jnp.where(finite, beta, 1.0), 0.0)
        if self.name == "bose":
            return jnp.where(jnp.isfinite(beta), jnp.inf, rate)
        return self._rates(jnp.zeros_like(beta), beta, rate, cutoff)[0]


_SPECTRA = {
    "seed": Spectrum("seed", "emission Γ, absorption Γ e^{-βν}", False, _seed),
    "bose": Spectrum("bose", "emission γ(1 + n̄), absorption γ n̄, n̄ = 1/(e^{βν} - 1)", False, _bose),
    "ohmic": Spectrum("ohmic", "emission κ ν e^{-ν/ω_c}(1 + n̄), absorption κ ν e^{-ν/ω_c} n̄", True, _ohmic),
}


def get(name: str | Spectrum) -> Spectrum:
    """The spectrum called ``name`` (one of ``SPECTRA``); a ``Spectrum`` passes through.

    Raises:
        ValueError: for an unknown name.
    """
    if isinstance(name, Spectrum):
        return name
    raise_if(name not in _SPECTRA, ValueError(f"spectrum must be one of {', '.join(SPECTRA)}; got {name!r}"))
    return _SPECTRA[name]
