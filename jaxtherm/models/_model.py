"""The model: the static structure of an open quantum system, built from operators, and its metadata.

A model is an immutable description, validated when it is made:

* its parameters (``Parameter``: units, description, domain) and the other names they may
  be given by (``Alias``: ``T_x`` for ``beta_x``, a detuning for a frequency);
* the Hamiltonian ``H(p) = Σ_m h_m(p) H_m`` (``Term`` s);
* dissipative channels, each either a Lindblad term ``κ(p) D[L]`` (``Lindblad``) or a
  thermalizer built in the eigenbasis of the full ``H(p)`` — secular (``Davies``), Bloch–Redfield
  (``Redfield``) or the universal Lindblad equation (``ULE``) — each attributed to a *channel*:
  the name of a ``Bath`` (heat) or of a non-thermal channel (work);
* the heat baths, each with the parameter that holds its inverse temperature;
* what it reports besides the currents: expectation values (``Expectation``) and
  functions of the observables (``Derived``, e.g. a refrigerator's ``cop``), each with its
  units and description; and the labels of its basis states.

From these the model derives, once, the constant real superoperators the kernel contracts with
the coefficients (``L(p) = Σ_k c_k(p) S_k``, ``docs/design.md`` §3.1). Coefficients are plain functions of
the parameter mapping, so any JAX-traceable expression (``Γ e^{−βω}``) is allowed. The engine
(spec, sweeps, results files) reads everything it says about a model from here.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import ClassVar

import jax
import numpy as np

from jaxtherm._checks import raise_if
from jaxtherm.models.parameters import DOMAINS, Alias, Parameter, ParameterSpace, outside, temperature_alias
from jaxtherm.physics import liouvillian, spectra
from jaxtherm.physics.operators import as_array

__all__ = ["DOMAINS", "ULE", "Alias", "Bath", "Coefficient", "Davies", "Derived", "Expectation", "Lindblad", "Model",
           "Parameter", "ParameterSpace", "Redfield", "Term", "model_family", "outside", "parameter", "share_observables",
           "temperature_alias"]

Coefficient = Callable[[Mapping[str, object]], object]
"""A function ``p ↦ scalar`` of the parameter mapping (JAX-traceable)."""

def model_family(factory: Callable[..., Model]) -> Callable[..., Model]:
    """Cache a model factory on its *bound* options: ``f(3)``, ``f(n=3)`` and ``f(n=3, coupling=
    "local")`` with ``coupling="local"`` the default return the same (immutable) model, so that
    its compiled kernels are reused."""
    signature = inspect.signature(factory)
    cache: dict = {}

    @functools.wraps(factory)
    def build(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        key = tuple((k, type(v), v) for k, v in bound.arguments.items())  # 3.0 == 3, yet not the option 3
        if key not in cache:
            cache[key] = factory(*bound.args, **bound.kwargs)
        return cache[key]

    return build


def parameter(name: str) -> Coefficient:
    """The coefficient ``p ↦ p[name]``."""

    def coefficient(p):
        return p[name]

    coefficient.__name__ = name
    return coefficient


def _as_operator(op, dim: int | None, what: str, hermitian: bool = False) -> np.ndarray:
    """``op`` as a read-only complex ``(dim, dim)`` array (NumPy, nested lists or a QuTiP ``Qobj``);
    ``ValueError`` naming ``what`` for a wrong shape, or if ``hermitian`` and it is not."""
    try:
        arr = as_array(op)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what}: {err}") from None
    raise_if(arr.ndim != 2 or arr.shape[0] != arr.shape[1], ValueError(f"{what} must be a square matrix, got shape {arr.shape}"))
    raise_if(dim is not None and arr.shape[0] != dim, ValueError(f"{what} must have shape ({dim}, {dim}), got {arr.shape}"))
    raise_if(hermitian and not np.allclose(arr, np.conj(arr).T, atol=1e-12), ValueError(f"{what} is not Hermitian"))
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


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
        jump: jump operator ``L``, shape ``(d, d)`` (a NumPy array or a QuTiP ``Qobj``).
        channel: name of the bath (heat) or non-thermal channel (work) it belongs to.
        quantum: coefficient ``ν(p)``, the energy one jump takes from the bath into the system
            (``+ω`` for an absorption ``D[a†]``, ``−ω`` for an emission ``D[a]``). Only current
            fluctuations need it (``jaxtherm.physics.fluctuations``, the energy-weighted counting
            of the bath's jumps); ``jaxtherm.models.local_thermalizer`` sets it.
    """

    rate: Coefficient
    jump: np.ndarray
    channel: str
    label: str = ""
    quantum: Coefficient | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class Davies:
    """Secular (global, Davies) thermalizer in the eigenbasis of the full ``H(p)``.

    Coupling ``X`` (Hermitian); at every Bohr frequency ``ν > 0`` the bath's spectrum gives the
    emission rate, at ``ν < 0`` the absorption rate at ``|ν|`` (see ``jaxtherm.physics.davies``).

    Attributes:
        coupling: ``X``, shape ``(d, d)``.
        rate: coefficient of the spectrum's rate parameter (``Γ``, ``γ`` or ``κ``).
        beta: coefficient of the inverse temperature.
        channel: the bath it belongs to.
        spectrum: ``"seed"`` (default), ``"bose"``, ``"ohmic"`` or a ``jaxtherm.physics.spectra.Spectrum``.
        cutoff: coefficient of the cutoff frequency ``ω_c`` (``ohmic`` only).
    """

    coupling: np.ndarray
    rate: Coefficient
    beta: Coefficient
    channel: str
    label: str = ""
    spectrum: spectra.Spectrum | str = "seed"
    cutoff: Coefficient | None = None

    equation: ClassVar[str] = "davies"
    """Which generator the eigenbasis of ``H`` builds: ``"davies"``, ``"redfield"`` or ``"ule"``
    (``jaxtherm.physics.nonsecular``)."""

    def __post_init__(self):
        spectrum = spectra.get(self.spectrum)
        object.__setattr__(self, "spectrum", spectrum)
        raise_if(spectrum.needs_cutoff and self.cutoff is None,
                 ValueError(f"{type(self).__name__} thermalizer {self.label!r}: the {spectrum.name} spectrum needs a "
                            "cutoff coefficient"))


@dataclasses.dataclass(frozen=True, eq=False)
class Redfield(Davies):
    """Bloch–Redfield thermalizer: no secular approximation, no Lamb shift.

    The fields, their order and the rates are those of ``Davies`` (coupling ``X``, rate, beta,
    channel, label, spectrum, cutoff). In the eigenbasis of the full ``H(p) = Σ_m E_m |m⟩⟨m|``,
    with ``γ(ν)`` the spectrum's emission rate at ``ν > 0`` and its absorption rate at ``|ν|``
    for ``ν < 0`` (``ν`` the energy the system gives to the bath),

        Λ = Σ_mn ½ γ(E_n − E_m) X_mn |m⟩⟨n|,
        D ρ = Λ ρ X + X ρ Λ† − X Λ ρ − ρ Λ† X.

    Keeping only the terms that pair equal Bohr frequencies gives ``Davies`` exactly. ``D`` is
    not of Lindblad form: the steady state may fail to be positive at strong coupling (status
    ``jaxtherm.status.STATUS_NOT_POSITIVE``, observable ``min_eigenvalue``). Formulas and the
    real-coordinate form: ``jaxtherm.physics.nonsecular``.
    """

    equation: ClassVar[str] = "redfield"


@dataclasses.dataclass(frozen=True, eq=False)
class ULE(Davies):
    """Universal Lindblad equation (Nathan & Rudner, PRB 102, 115109 (2020)), no Lamb shift.

    The fields, their order and the rates are those of ``Davies``. One jump operator per bath in
    the eigenbasis of the full ``H``,

        L = Σ_mn √γ(E_n − E_m) X_mn |m⟩⟨n|,     D ρ = L ρ L† − ½{L†L, ρ},

    with ``γ`` the same spectrum as ``Davies`` (emission at ``ν > 0``). Completely positive at
    every coupling; ``jaxtherm.physics.nonsecular`` has the real-coordinate form.
    """

    equation: ClassVar[str] = "ule"


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
    units: str = "1"


@dataclasses.dataclass(frozen=True, eq=False)
class Derived:
    """A reported function of the other observables, e.g. ``cop = J_c / J_h``.

    Attributes:
        name: output name.
        function: ``observables ↦ value`` over the scalars ``J_{bath}``, ``power``, ``sigma``,
            the expectations and the parameters (JAX-traceable).
        units, description: for results files.
    """

    name: str
    function: Callable[[Mapping[str, object]], object]
    units: str = "1"
    description: str = ""


@dataclasses.dataclass(frozen=True, eq=False)
class Model:
    """An open quantum system: parameters, Hamiltonian terms, dissipators, baths and what it reports.

    Validated at construction: square operators of one dimension, Hermitian Hamiltonian terms,
    coupling operators and observables, every Davies thermalizer on a bath, every coefficient
    using only declared parameters and real-valued, no rate a negative constant, every bath's
    ``beta`` a declared parameter, aliases that name declared parameters and do not clash.
    Names, aliases and domains are the model's ``ParameterSpace`` (``parameter_space``).

    Attributes:
        name: model name (e.g. ``"qubit_pair/local"``).
        dim: Hilbert-space dimension ``d``.
        parameters: the parameters in canonical order: ``Parameter`` s or plain names (a
            name gets the units in ``units``; a bath's inverse temperature the domain ``>= 0``).
            After construction, the tuple of names; ``parameter_info`` holds the metadata
            and ``parameter_space`` the names, aliases and domains together.
        hamiltonian: the terms of ``H(p)``.
        dissipators: ``Lindblad``, ``Davies``, ``Redfield`` and ``ULE`` terms.
        baths: the heat baths; channels not named here are non-thermal (they deliver power).
        expectations: extra observables to report (e.g. populations ``n_a``).
        units: ``{parameter: unit}`` for parameters given by name only.
        description: one paragraph for results files.
        aliases: extra ``Alias`` es; every ``beta…`` parameter also gets ``T…``.
        derived: ``Derived`` observables.
        basis: labels of the basis states, e.g. ``("|00⟩", "|01⟩", …)``.
        options: the structural options the model was built with (``{"coupling": "local"}``).
        report_min_eigenvalue: report the observable ``min_eigenvalue``, the smallest eigenvalue
            of ``ρ``; ``None`` (default): where a thermalizer is ``Redfield`` or ``ULE``. A sweep
            whose models differ (``coupling = ["local", "global", "redfield", "ule"]``) has every
            model report it (``share_observables``). Redfield's and the ULE's states are checked
            (the ULE's is positive by construction); one below ``−POSITIVITY_TOLERANCE`` gets
            status 6.
    """

    name: str
    dim: int
    parameters: tuple
    hamiltonian: tuple[Term, ...]
    dissipators: tuple[Lindblad | Davies, ...]
    baths: tuple[Bath, ...]
    expectations: tuple[Expectation, ...] = ()
    units: Mapping[str, str] = dataclasses.field(default_factory=dict)
    description: str = ""
    aliases: tuple[Alias, ...] = ()
    derived: tuple[Derived, ...] = ()
    basis: tuple[str, ...] | None = None
    options: Mapping[str, object] = dataclasses.field(default_factory=dict)
    report_min_eigenvalue: bool | None = None

    def __post_init__(self):
        raise_if(not isinstance(self.dim, int) or self.dim < 2, ValueError(f"dim must be an integer ≥ 2, got {self.dim!r}"))
        space = ParameterSpace.build(self.name, self.parameters, self.units, {b.beta for b in self.baths}, self.aliases)
        fields = _normalised_operators(self)
        _check_baths(self.baths, space.info, fields["dissipators"])
        fields.update(parameters=space.names, parameter_info=space.info, parameter_space=space, aliases=space.aliases,
                      basis=_basis(self.basis, self.dim), options=MappingProxyType(dict(self.options)))
        for name, value in fields.items():
            object.__setattr__(self, name, value)
        _check_coefficients(self)
        _check_reserved(self)

    # ---- names, aliases and domains (the model's ParameterSpace) -------------------------
    def alias_of(self, parameter: str) -> Alias | None:
        """The alias that may stand for ``parameter`` (at most one), or ``None``."""
        return self.parameter_space.alias_of(parameter)

    def accepted_names(self) -> tuple[str, ...]:
        """Every name ``check_names`` accepts: the parameters and their aliases."""
        return self.parameter_space.accepted_names()

    def describe(self, name: str) -> tuple[str, str, str]:
        """``(units, description, domain)`` of a parameter or an alias."""
        return self.parameter_space.describe(name)

    def check_names(self, names) -> tuple[str, ...]:
        """Validate the names a user gives: each parameter exactly once (directly or by its
        alias), nothing unknown.

        Returns:
            The names in canonical order (model parameter order, the alias where given).

        Raises:
            ValueError: naming an unknown, doubly given or missing parameter.
        """
        return self.parameter_space.check_names(names)

    def check_values(self, values: Mapping[str, object]) -> None:
        """Raise ``ValueError`` naming the first parameter whose value is not real numbers (a
        string such as ``"2.0"``, a complex number, ``None``): what ``jaxtherm.solve`` is
        given, checked before it is converted."""
        self.parameter_space.check_values(values)

    def to_parameters(self, inputs: Mapping[str, object]) -> dict[str, object]:
        """Model parameters from checked inputs, converting aliases (``beta_x = 1/T_x``, …).
        Traceable."""
        return self.parameter_space.to_parameters(inputs)

    def outside_domain(self, params: Mapping[str, object]):
        """``True`` where a parameter leaves its domain (JAX or NumPy scalars or arrays; NaN is
        not outside, it is non-finite). Aliases need no check of their own: ``T_x < 0`` gives
        ``beta_x < 0``."""
        return self.parameter_space.outside_domain(params)

    # ---- what it reports ------------------------------------------------------------------
    @functools.cached_property
    def observables(self) -> dict[str, tuple[str, str]]:
        """The real scalar observables, ``{name: (units, description)}``, in output order:
        ``J_{bath}`` for each bath, ``power``, ``sigma``, the expectations, the derived ones."""
        out = {
            f"J_{b.name}": ("energy/time", f"heat current from bath {b.name} into the system, Tr(H L_{b.name} ρ)")
            for b in self.baths
        }
        work = ", ".join(self.work_channels) or "none in this model"
        out["power"] = ("energy/time", f"power delivered by non-thermal channels ({work}), Σ_c Tr(H L_c ρ)")
        out["sigma"] = ("1/time", "entropy production rate, −Σ_j β_j J_j")
        for e in self.expectations:
            out[e.name] = (e.units, e.description or f"expectation value of {e.name}")
        for x in self.derived:
            out[x.name] = (x.units, x.description or x.name)
        if self.reports_min_eigenvalue:
            out["min_eigenvalue"] = ("1", "smallest eigenvalue of the steady state ρ (a Redfield state below "
                                          "-1e-4 is flagged: status 6, not positive)")
        return out

    @functools.cached_property
    def fluctuation_observables(self) -> dict[str, tuple[str, str]]:
        """What current fluctuations add (``jaxtherm.physics.fluctuations``), ``{name: (units,
        description)}``: for each bath j the counted mean current ``J_counted_j``, the
        zero-frequency noise ``noise_j`` and the uncertainty ratio ``tur_j``."""
        out = {}
        for b in self.baths:
            j = b.name
            out[f"J_counted_{j}"] = ("energy/time", f"mean of the energy-weighted count of bath {j}'s jumps, "
                                                    f"Σ_k ν_k Tr(L_k ρ L_k†) (equals J_{j} where the jumps are "
                                                    "transitions between eigenstates of H)")
            out[f"noise_{j}"] = ("energy^2/time", f"zero-frequency noise of the heat counted in bath {j}, "
                                                  f"S_{j} = lim Var(Q_{j})/t")
            out[f"tur_{j}"] = ("1", f"thermodynamic uncertainty ratio S_{j} σ / J_counted_{j}² "
                                    "(≥ 2 for classical Markov dynamics; NaN where J_counted or σ is below "
                                    "the round-off of the currents, as at equilibrium)")
        return out

    def check_counting(self) -> None:
        """Raise ``ValueError`` unless every jump of every bath says which energy it carries
        (a ``Lindblad`` of a bath needs its ``quantum``; ``Davies`` jumps carry their
        Bohr frequencies): current fluctuations count energy quanta."""
        baths = {b.name for b in self.baths}
        for k in self.davies:
            raise_if(k.equation != "davies",
                     ValueError(
                   f"model {self.name!r}: current fluctuations are not defined for the {type(k).__name__} thermalizer "
                   f"{k.label or k.channel!r}: its dissipator has no jumps that each carry one energy quantum "
                   "(Redfield is not of Lindblad form; the ULE's one jump mixes all Bohr frequencies)"))
        for k in self.lindblads:
            raise_if(k.channel in baths and k.quantum is None,
                     ValueError(
                   f"model {self.name!r}: the jump {k.label or 'Lindblad term'!r} of bath {k.channel!r} has no "
                   "energy quantum; current fluctuations need Lindblad(..., quantum=lambda p: ν), the energy "
                   "one jump takes from the bath (+ω absorbed, −ω emitted; local_thermalizer sets it)"))

    # ---- derived, constant structure ---------------------------------------------------
    @property
    def lindblads(self) -> tuple[Lindblad, ...]:
        return tuple(k for k in self.dissipators if isinstance(k, Lindblad))

    @property
    def davies(self) -> tuple[Davies, ...]:
        """Every thermalizer built in the eigenbasis of ``H``: ``Davies``, ``Redfield`` and ``ULE``
        (``k.equation`` says which)."""
        return tuple(k for k in self.dissipators if isinstance(k, Davies))

    def with_min_eigenvalue(self) -> Model:
        """This model reporting ``min_eigenvalue`` too (itself if it does already): the same object
        for the same model, so that compiled kernels are reused (``share_observables``)."""
        return self if self.reports_min_eigenvalue else _with_min_eigenvalue(self)

    @property
    def reports_min_eigenvalue(self) -> bool:
        """Whether ``min_eigenvalue`` is an observable (``report_min_eigenvalue``, or where
        ``nonsecular``)."""
        return self.nonsecular if self.report_min_eigenvalue is None else bool(self.report_min_eigenvalue)

    @property
    def nonsecular(self) -> bool:
        """Whether a thermalizer is ``Redfield`` or ``ULE``: the model then reports
        ``min_eigenvalue`` and flags points whose steady state is not positive."""
        return any(k.equation != "davies" for k in self.davies)

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
    def real_operators(self) -> RealOperators:
        """Constant parts of the real representation (see ``jaxtherm.physics.liouvillian``), sparse."""
        d = self.dim

        def stack(vectors):
            return np.stack(vectors) if vectors else np.zeros((0, d * d))

        return RealOperators(
            hamiltonian=[liouvillian.to_real(liouvillian.commutator_entries(t.operator), d) for t in self.hamiltonian],
            lindblad=[liouvillian.to_real(liouvillian.dissipator_entries(k.jump), d) for k in self.lindblads],
            jump=[liouvillian.to_real(liouvillian.jump_entries(k.jump), d) for k in self.lindblads],
            hamiltonian_dual=stack([liouvillian.dual(t.operator) for t in self.hamiltonian]),
            expectation_dual=stack([liouvillian.dual(e.operator) for e in self.expectations]),
        )

    def __repr__(self) -> str:
        return f"Model({self.name!r}, dim={self.dim}, parameters={self.parameters})"


@dataclasses.dataclass(frozen=True, eq=False)
class RealOperators:
    """A model's constant superoperators and duals in the real representation of ``ρ``
    (``d²`` coordinates, ``jaxtherm.physics.liouvillian``), as sparse ``Entries`` of ``d² × d²``."""

    hamiltonian: list
    """One ``−i[H_m, ·]`` per Hamiltonian term."""
    lindblad: list
    """One ``D[L_k]`` per Lindblad term."""
    jump: list
    """One jump part ``ρ ↦ L_k ρ L_k†`` per Lindblad term."""
    hamiltonian_dual: np.ndarray
    """``(K_h, d²)``: ``Tr(H_m ρ) = hamiltonian_dual[m] · r``."""
    expectation_dual: np.ndarray
    """``(K_e, d²)``: the duals of the reported expectations."""


@functools.lru_cache(maxsize=256)
def _with_min_eigenvalue(model: Model) -> Model:
    """A copy of ``model`` with ``report_min_eigenvalue=True`` (its derived metadata kept, the
    cached observables recomputed)."""
    new = copy.copy(model)
    object.__setattr__(new, "report_min_eigenvalue", True)
    for cached in ("observables", "fluctuation_observables"):
        new.__dict__.pop(cached, None)
    return new


def share_observables(models: tuple[Model, ...]) -> tuple[Model, ...]:
    """The models of one sweep, each reporting ``min_eigenvalue`` if any does: a categorical
    ``coupling = ["local", "global", "redfield", "ule"]`` gives models that share their
    observables, the local and global ones then reporting the smallest eigenvalue of their
    (positive) states beside Redfield's and the ULE's."""
    if not any(m.reports_min_eigenvalue for m in models):
        return tuple(models)
    return tuple(m.with_min_eigenvalue() for m in models)


# ---- construction steps of Model -----------------------------------------------------------


def _normalise_dissipator(k, d: int) -> Lindblad | Davies:
    if isinstance(k, Lindblad):
        return dataclasses.replace(k, jump=_as_operator(k.jump, d, f"jump operator {k.label!r}"))
    if isinstance(k, Davies):
        return dataclasses.replace(k, coupling=_as_operator(k.coupling, d, f"Davies coupling operator {k.label!r}", True))
    raise TypeError(f"dissipators must be Lindblad or Davies, got {type(k).__name__}")


def _normalised_operators(model: Model) -> dict[str, tuple]:
    """The model's terms with read-only ``(d, d)`` operators, Hermitian where they must be."""
    d = model.dim
    return {
        "hamiltonian": tuple(dataclasses.replace(t, operator=_as_operator(t.operator, d, f"Hamiltonian term {t.label!r}",
                                                                          True)) for t in model.hamiltonian),
        "dissipators": tuple(_normalise_dissipator(k, d) for k in model.dissipators),
        "expectations": tuple(dataclasses.replace(e, operator=_as_operator(e.operator, d, f"observable {e.name!r}", True))
                              for e in model.expectations),
    }


def _check_baths(baths: tuple[Bath, ...], info: Mapping[str, Parameter], dissipators: tuple) -> None:
    """Unique bath names, each bath's ``beta`` a parameter, every Davies thermalizer on a bath."""
    names = [b.name for b in baths]
    raise_if(len(set(names)) != len(names), ValueError(f"bath names must be unique, got {names}"))
    for b in baths:
        raise_if(b.beta not in info, ValueError(f"bath {b.name!r}: beta parameter {b.beta!r} is not a model parameter"))
    for k in dissipators:
        raise_if(isinstance(k, Davies) and k.channel not in names,
                 ValueError(f"Davies thermalizer {k.label!r} must belong to a bath, got {k.channel!r}"))


def _basis(basis, d: int) -> tuple[str, ...]:
    labels = tuple(basis) if basis is not None else tuple(f"|{i}⟩" for i in range(d))
    raise_if(len(labels) != d, ValueError(f"basis must have {d} labels, got {len(labels)}"))
    return labels


def _coefficients(model: Model) -> list[tuple[str, Coefficient, bool]]:
    """Every coefficient of the model as ``(term label, coefficient, is a rate)``."""
    out = [(t.label, t.coefficient, False) for t in model.hamiltonian]
    for k in model.dissipators:
        out.append((k.label, k.rate, True))
        extra = (k.quantum,) if isinstance(k, Lindblad) else (k.beta, k.cutoff)
        out += [(k.label, c, False) for c in extra if c is not None]
    return out


def _evaluate(model: Model, label: str, coefficient: Coefficient, probe: Mapping[str, float]) -> np.ndarray:
    try:
        return np.asarray(coefficient(probe))
    except KeyError as err:
        raise _unknown_parameter(model, label, err) from None


def _unknown_parameter(model: Model, label: str, err: KeyError) -> ValueError:
    """The error for a coefficient of term ``label`` that looked up a parameter the model does
    not declare (``err``: the ``KeyError`` of its lookup)."""
    return ValueError(f"model {model.name!r}: term {label!r} uses parameter {err.args[0]!r}, "
                      f"which is not among {model.parameters}")


def _check_coefficients(model: Model) -> None:
    """Every coefficient (and derived observable) is a function (``_check_callable``) and evaluates
    on the declared parameters alone, to a real value (a complex one would be made real without a
    word); a rate that is a negative constant is refused (one that depends on the parameters can
    only be judged at a point).

    Each coefficient is traced at a probe point (``jax.make_jaxpr``: no program is compiled, so
    building a model costs no XLA compile); only a complex one, or a rate that the trace shows
    not to depend on the parameters, is evaluated, for its value. A coefficient that JAX cannot
    trace is evaluated at two probes, uniform and not, to tell a constant."""
    for x in model.derived:
        _check_callable(model, f"derived observable {x.name!r}", x.function)
    probe = {name: 1.0 for name in model.parameters}
    other = {name: 1.0 + 0.1 * (i + 1) for i, name in enumerate(model.parameters)}
    for label, c, rate in _coefficients(model):
        _check_callable(model, f"term {label!r}", c)
        traced = _trace(model, label, c, probe)
        if traced is None or _complex(traced) or (rate and _constant(traced)):
            _check_value(model, label, c, rate, probe, other if traced is None else None)


def _check_value(model: Model, label: str, coefficient: Coefficient, rate: bool, probe: Mapping[str, float],
                 other: Mapping[str, float] | None) -> None:
    """A coefficient's value at ``probe`` is real and, for a rate, not a negative constant: one
    known to be constant (``other`` is ``None``) or equal at the second probe ``other``.

    Raises:
        ValueError: naming the term and its value."""
    value = _evaluate(model, label, coefficient, probe)
    _check_real(model, label, value)
    if rate and _negative_scalar(value) and (other is None or _evaluate(model, label, coefficient, other) == value):
        raise ValueError(f"model {model.name!r}: the rate of term {label!r} is the constant {float(value):g}; "
                         "expected ≥ 0 (the rate κ of κ D[L])")


def _trace(model: Model, label: str, coefficient: Coefficient, probe: Mapping[str, float]):
    """``coefficient``'s jaxpr at ``probe`` (``jax.make_jaxpr``), or ``None`` where JAX cannot
    trace it (e.g. it converts a parameter to a Python float)."""
    try:
        return jax.make_jaxpr(coefficient)(probe)
    except KeyError as err:
        raise _unknown_parameter(model, label, err) from None
    except (TypeError, IndexError):  # JAX's tracer conversion errors derive from these
        return None


def _complex(traced) -> bool:
    """Whether a traced coefficient's value is complex."""
    return any(np.dtype(a.dtype).kind == "c" for a in traced.out_avals)


def _constant(traced) -> bool:
    """Whether a traced coefficient's value does not depend on the parameters: no path in its
    jaxpr leads from an input to its output (a whole equation counts as depending on its inputs)."""
    jaxpr = traced.jaxpr
    depends = set(jaxpr.invars)
    for eqn in jaxpr.eqns:
        if any(v in depends for v in eqn.invars if not hasattr(v, "val")):  # a literal has a ``val``
            depends.update(eqn.outvars)
    return not any(v in depends for v in jaxpr.outvars if not hasattr(v, "val"))


def _check_callable(model: Model, what: str, coefficient) -> None:
    """A coefficient is a function of the parameter mapping (``Coefficient``), also where it is a
    constant: the kernel calls every coefficient with the point's parameters, and a bare number
    there would fail with "'float' object is not callable" deep inside a sweep.

    Raises:
        ValueError: naming the term, what it got and what is expected."""
    if not callable(coefficient):
        shown = f"{coefficient!r}"[:60]
        example = f"lambda p: {shown}" if isinstance(coefficient, (int, float, np.number)) else "lambda p: 1.0"
        raise ValueError(f"model {model.name!r}: {what}: a coefficient must be a function of the parameter mapping p, "
                         f"e.g. {example} for a constant or jaxtherm.models.parameter('name') for a parameter; "
                         f"got the {type(coefficient).__name__} {shown}")


def _check_real(model: Model, label: str, value: np.ndarray) -> None:
    """Check that a coefficient's value is real.

    Raises:
        ValueError: naming the term and showing the (first) complex value."""
    if value.dtype.kind == "c":
        shown = repr(complex(value.flat[0])) if value.size else "a complex array"
        raise ValueError(f"model {model.name!r}: term {label!r}: coefficients must be real; got {shown}")


def _negative_scalar(value: np.ndarray) -> bool:
    return value.ndim == 0 and value.dtype.kind in "fiu" and bool(value < 0)


def _check_reserved(model: Model) -> None:
    """Expectations and derived observables may not take the name of another output."""
    own = [e.name for e in model.expectations] + [x.name for x in model.derived]
    reserved = (set(model.observables) - set(own)) | {"rho", "status", "residual", "min_eigenvalue"}
    for name in own:
        raise_if(name in reserved, ValueError(f"observable name {name!r} is reserved"))
