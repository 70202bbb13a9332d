"""The model: the static structure of an open quantum system, built from operators.

A model is an immutable description, validated when it is made:

* the Hamiltonian ``H(p) = Σ_m h_m(p) H_m`` (:class:`Term` s);
* dissipative channels, each either a Lindblad term ``κ(p) D[L]`` (:class:`Lindblad`) or a
  secular global thermalizer (:class:`Davies`), each attributed to a *channel*: the name of a
  :class:`Bath` (heat) or of a non-thermal channel (work);
* the heat baths, each with the parameter that holds its inverse temperature;
* named expectation values (populations) to report.

From these the model derives, once, the constant real superoperators the kernel contracts with
the coefficients (``L(p) = Σ_k c_k(p) S_k``, DESIGN.md §3). Coefficients are plain functions of
the parameter mapping, so any JAX-traceable expression (``Γ e^{−βω}``) is allowed.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping

import numpy as np

from .. import liouvillian

Coefficient = Callable[[Mapping[str, object]], object]
"""A function ``p ↦ scalar`` of the parameter mapping (JAX-traceable)."""


def parameter(name: str) -> Coefficient:
    """The coefficient ``p ↦ p[name]``."""

    def coefficient(p):
        return p[name]

    coefficient.__name__ = name
    return coefficient


def _as_operator(op, dim: int | None, what: str) -> np.ndarray:
    arr = np.asarray(op, dtype=complex)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{what} must be a square matrix, got shape {arr.shape}")
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"{what} must have shape ({dim}, {dim}), got {arr.shape}")
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


def _is_hermitian(op: np.ndarray) -> bool:
    return np.allclose(op, np.conj(op).T, atol=1e-12)


@dataclasses.dataclass(frozen=True, eq=False)
class Term:
    """A Hamiltonian term ``coefficient(p) · operator`` (operator Hermitian)."""

    coefficient: Coefficient
    operator: np.ndarray
    label: str = ""


@dataclasses.dataclass(frozen=True, eq=False)
class Lindblad:
    """A Lindblad dissipator ``rate(p) · D[jump]``, ``D[L]ρ = LρL† − ½{L†L, ρ}``.

    Attributes:
        rate: coefficient ``κ(p) ≥ 0``.
        jump: jump operator ``L``, shape ``(d, d)``.
        channel: name of the bath (heat) or non-thermal channel (work) it belongs to.
    """

    rate: Coefficient
    jump: np.ndarray
    channel: str
    label: str = ""


@dataclasses.dataclass(frozen=True, eq=False)
class Davies:
    """Secular (global, Davies) thermalizer in the eigenbasis of the full ``H(p)``.

    Coupling ``X`` (Hermitian), emission rate ``Γ(p)`` at every Bohr frequency ``ν > 0``,
    absorption ``Γ e^{−β ν}``; see :func:`jaxtherm.liouvillian.davies_superoperator`.
    """

    coupling: np.ndarray
    rate: Coefficient
    beta: Coefficient
    channel: str
    label: str = ""


@dataclasses.dataclass(frozen=True)
class Bath:
    """A heat bath: its name (currents are ``J_{name}``) and its inverse-temperature parameter."""

    name: str
    beta: str


@dataclasses.dataclass(frozen=True, eq=False)
class Expectation:
    """A reported expectation value ``⟨O⟩ = Tr(O ρ)`` of a Hermitian operator."""

    name: str
    operator: np.ndarray
    description: str = ""


@dataclasses.dataclass(frozen=True, eq=False)
class Model:
    """An open quantum system: Hamiltonian terms, dissipators, baths and reported observables.

    Validated at construction: square operators of one dimension, Hermitian Hamiltonian terms,
    coupling operators and observables, every channel's bath or work channel named, every
    coefficient using only declared parameters, every bath's ``beta`` a declared parameter.

    Attributes:
        name: model name (e.g. ``"qubit_pair/local"``).
        dim: Hilbert-space dimension ``d``.
        parameters: the parameter names, in canonical order.
        hamiltonian: the terms of ``H(p)``.
        dissipators: :class:`Lindblad` and :class:`Davies` terms.
        baths: the heat baths; channels not named here are non-thermal (they deliver power).
        expectations: extra observables to report (e.g. populations ``n_a``).
        units: ``{parameter: unit}`` for documentation and results files.
    """

    name: str
    dim: int
    parameters: tuple[str, ...]
    hamiltonian: tuple[Term, ...]
    dissipators: tuple[Lindblad | Davies, ...]
    baths: tuple[Bath, ...]
    expectations: tuple[Expectation, ...] = ()
    units: Mapping[str, str] = dataclasses.field(default_factory=dict)
    description: str = ""

    def __post_init__(self):
        d = self.dim
        if not isinstance(d, int) or d < 2:
            raise ValueError(f"dim must be an integer ≥ 2, got {d!r}")
        if len(set(self.parameters)) != len(self.parameters):
            raise ValueError(f"parameters must be unique, got {self.parameters}")
        hamiltonian = tuple(
            dataclasses.replace(t, operator=_as_operator(t.operator, d, f"Hamiltonian term {t.label!r}"))
            for t in self.hamiltonian
        )
        for t in hamiltonian:
            if not _is_hermitian(t.operator):
                raise ValueError(f"Hamiltonian term {t.label!r} is not Hermitian")
        dissipators = []
        for k in self.dissipators:
            if isinstance(k, Lindblad):
                k = dataclasses.replace(k, jump=_as_operator(k.jump, d, f"jump operator {k.label!r}"))
            elif isinstance(k, Davies):
                k = dataclasses.replace(k, coupling=_as_operator(k.coupling, d, f"coupling {k.label!r}"))
                if not _is_hermitian(k.coupling):
                    raise ValueError(f"Davies coupling operator {k.label!r} is not Hermitian")
            else:
                raise TypeError(f"dissipators must be Lindblad or Davies, got {type(k).__name__}")
            dissipators.append(k)
        expectations = tuple(
            dataclasses.replace(e, operator=_as_operator(e.operator, d, f"observable {e.name!r}"))
            for e in self.expectations
        )
        for e in expectations:
            if not _is_hermitian(e.operator):
                raise ValueError(f"observable {e.name!r} is not Hermitian")
        bath_names = [b.name for b in self.baths]
        if len(set(bath_names)) != len(bath_names):
            raise ValueError(f"bath names must be unique, got {bath_names}")
        for b in self.baths:
            if b.beta not in self.parameters:
                raise ValueError(f"bath {b.name!r}: beta parameter {b.beta!r} is not a model parameter")
        for k in dissipators:
            if isinstance(k, Davies) and k.channel not in bath_names:
                raise ValueError(f"Davies thermalizer {k.label!r} must belong to a bath, got {k.channel!r}")
        object.__setattr__(self, "hamiltonian", hamiltonian)
        object.__setattr__(self, "dissipators", tuple(dissipators))
        object.__setattr__(self, "expectations", expectations)
        object.__setattr__(self, "parameters", tuple(self.parameters))
        self._check_coefficients()

    def _check_coefficients(self):
        """Every coefficient must evaluate on the declared parameters alone."""
        probe = {name: 1.0 for name in self.parameters}
        coefficients = [(t.label, t.coefficient) for t in self.hamiltonian]
        for k in self.dissipators:
            coefficients.append((k.label, k.rate))
            if isinstance(k, Davies):
                coefficients.append((k.label, k.beta))
        for label, c in coefficients:
            try:
                c(probe)
            except KeyError as err:
                raise ValueError(
                    f"model {self.name!r}: term {label!r} uses parameter {err.args[0]!r}, "
                    f"which is not among {self.parameters}"
                ) from None

    # ---- derived, constant structure ---------------------------------------------------
    @property
    def lindblads(self) -> tuple[Lindblad, ...]:
        return tuple(k for k in self.dissipators if isinstance(k, Lindblad))

    @property
    def davies(self) -> tuple[Davies, ...]:
        return tuple(k for k in self.dissipators if isinstance(k, Davies))

    @property
    def channels(self) -> tuple[str, ...]:
        """All channel names, baths first, in order of appearance."""
        names = [b.name for b in self.baths]
        for k in self.dissipators:
            if k.channel not in names:
                names.append(k.channel)
        return tuple(names)

    @property
    def work_channels(self) -> tuple[str, ...]:
        """Channels that are not heat baths: their energy flow is power."""
        baths = {b.name for b in self.baths}
        return tuple(c for c in self.channels if c not in baths)

    @functools.cached_property
    def real_operators(self) -> dict[str, np.ndarray]:
        """Constant arrays of the real representation (see :mod:`jaxtherm.liouvillian`).

        Keys:
            ``hamiltonian``: ``(K_h, d², d²)`` real superoperators of ``−i[H_m, ·]``;
            ``hamiltonian_dual``: ``(K_h, d²)`` with ``Tr(H_m ρ) = dual_m · r``;
            ``lindblad``: ``(K_l, d², d²)`` real superoperators of ``D[L_k]``;
            ``energy_flow``: ``(K_h, K_l, d²)`` with ``Tr(H_m D[L_k] ρ) = energy_flow[m, k] · r``;
            ``expectation_dual``: ``(K_e, d²)`` duals of the reported observables;
            ``basis``, ``basis_inverse``: ``T`` and ``T⁻¹`` (complex, ``(d², d²)``).
        """
        d = self.dim
        n = d * d

        def stack(mats, shape):
            return np.stack(mats) if mats else np.zeros((0, *shape))

        hamiltonian = stack(
            [liouvillian.real_superoperator(liouvillian.commutator_superoperator(t.operator)) for t in self.hamiltonian],
            (n, n),
        )
        hamiltonian_dual = stack([liouvillian.real_dual(t.operator) for t in self.hamiltonian], (n,))
        lindblad = stack(
            [liouvillian.real_superoperator(liouvillian.dissipator_superoperator(k.jump)) for k in self.lindblads],
            (n, n),
        )
        return {
            "hamiltonian": hamiltonian,
            "hamiltonian_dual": hamiltonian_dual,
            "lindblad": lindblad,
            # energy_flow[m, k] · r = Tr(H_m D[L_k] ρ): the heat/work bookkeeping of each term
            "energy_flow": np.einsum("mi,kij->mkj", hamiltonian_dual, lindblad),
            "expectation_dual": stack([liouvillian.real_dual(e.operator) for e in self.expectations], (n,)),
            "basis": liouvillian.hermitian_basis(d),
            "basis_inverse": liouvillian.hermitian_basis_inverse(d),
        }

    def __repr__(self) -> str:
        return f"Model({self.name!r}, dim={self.dim}, parameters={self.parameters})"
