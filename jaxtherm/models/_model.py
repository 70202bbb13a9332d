"""The model: the static structure of an open quantum system, built from operators, and its metadata.

A model is an immutable description, validated when it is made:

* its parameters (:class:`Parameter`: units, description, domain) and the other names they may
  be given by (:class:`Alias`: ``T_x`` for ``beta_x``, a detuning for a frequency);
* the Hamiltonian ``H(p) = Σ_m h_m(p) H_m`` (:class:`Term` s);
* dissipative channels, each either a Lindblad term ``κ(p) D[L]`` (:class:`Lindblad`) or a
  secular global thermalizer (:class:`Davies`), each attributed to a *channel*: the name of a
  :class:`Bath` (heat) or of a non-thermal channel (work);
* the heat baths, each with the parameter that holds its inverse temperature;
* what it reports besides the currents: expectation values (:class:`Expectation`) and
  functions of the observables (:class:`Derived`, e.g. a refrigerator's ``cop``), each with its
  units and description; and the labels of its basis states.

From these the model derives, once, the constant real superoperators the kernel contracts with
the coefficients (``L(p) = Σ_k c_k(p) S_k``, DESIGN.md §3). Coefficients are plain functions of
the parameter mapping, so any JAX-traceable expression (``Γ e^{−βω}``) is allowed. The engine
(spec, sweeps, results files) reads everything it says about a model from here.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np

from .. import liouvillian, spectra
from ..operators import as_array

Coefficient = Callable[[Mapping[str, object]], object]
"""A function ``p ↦ scalar`` of the parameter mapping (JAX-traceable)."""

DOMAINS = ("real", ">= 0", "> 0")
"""Parameter domains: any real number, non-negative (rates, inverse temperatures), positive."""


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
        key = tuple(bound.arguments.items())
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


def outside(domain: str, value):
    """``True`` where ``value`` lies outside ``domain`` (NumPy or JAX arrays; NaN is not outside:
    it is reported as non-finite instead)."""
    if domain == ">= 0":
        return value < 0
    if domain == "> 0":
        return value <= 0
    return value < -math.inf  # "real": never outside (elementwise False)


@dataclasses.dataclass(frozen=True)
class Parameter:
    """A model parameter and what a results file says about it.

    Attributes:
        name: the parameter's name (``"gamma_a"``).
        units: e.g. ``"energy"`` (ħ = k_B = 1).
        description: one line, e.g. ``"thermalizer rate Γ of qubit A"``.
        domain: ``"real"``, ``">= 0"`` (rates, inverse temperatures) or ``"> 0"``. A value outside
            it is refused by a spec and flagged per point (status 4) by the kernel.
    """

    name: str
    units: str = ""
    description: str = ""
    domain: str = "real"

    def __post_init__(self):
        if self.domain not in DOMAINS:
            raise ValueError(f"parameter {self.name!r}: domain must be one of {DOMAINS}, got {self.domain!r}")


@dataclasses.dataclass(frozen=True)
class Alias:
    """Another name a parameter may be given by, e.g. ``T_a`` for ``beta_a = 1/T_a``.

    Attributes:
        name: the alias (``"T_a"``).
        parameter: the model parameter it sets (``"beta_a"``).
        formula: how, for descriptions (``"beta_a = 1/T_a"``).
        convert: ``values ↦ parameter value``; ``values`` holds the alias and every model
            parameter named in ``uses`` (JAX-traceable).
        uses: model parameters the conversion needs besides the alias (``("omega_a",)`` for
            ``omega_b = omega_a − delta``); they must be given directly, not by an alias.
        units, description, domain: as for :class:`Parameter`, of the alias itself.
    """

    name: str
    parameter: str
    formula: str
    convert: Callable[[Mapping[str, object]], object] = dataclasses.field(compare=False)
    uses: tuple[str, ...] = ()
    units: str = ""
    description: str = ""
    domain: str = "real"


def temperature_alias(beta: str, units: str = "energy") -> Alias | None:
    """The temperature alias of an inverse-temperature parameter: ``T_x`` for ``beta_x``
    (``T`` for ``beta``), ``beta_x = 1/T_x`` (k_B = 1); ``None`` if ``beta`` is not so named."""
    if not beta.startswith("beta"):
        return None
    name = "T" + beta[len("beta"):]
    return Alias(name, beta, f"{beta} = 1/{name}", lambda v: 1.0 / v[name], (), units,
                 f"temperature ({beta} = 1/{name})", ">= 0")


def _as_operator(op, dim: int | None, what: str, hermitian: bool = False) -> np.ndarray:
    """``op`` as a read-only complex ``(dim, dim)`` array (NumPy, nested lists or a QuTiP ``Qobj``);
    ``ValueError`` naming ``what`` for a wrong shape, or if ``hermitian`` and it is not."""
    try:
        arr = as_array(op)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what}: {err}") from None
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{what} must be a square matrix, got shape {arr.shape}")
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"{what} must have shape ({dim}, {dim}), got {arr.shape}")
    if hermitian and not np.allclose(arr, np.conj(arr).T, atol=1e-12):
        raise ValueError(f"{what} is not Hermitian")
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
            fluctuations need it (:mod:`jaxtherm.fluctuations`, the energy-weighted counting
            of the bath's jumps); :func:`~jaxtherm.models.local_thermalizer` sets it.
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
    emission rate, at ``ν < 0`` the absorption rate at ``|ν|`` (see :mod:`jaxtherm.davies`).

    Attributes:
        coupling: ``X``, shape ``(d, d)``.
        rate: coefficient of the spectrum's rate parameter (``Γ``, ``γ`` or ``κ``).
        beta: coefficient of the inverse temperature.
        channel: the bath it belongs to.
        spectrum: ``"seed"`` (default), ``"bose"``, ``"ohmic"`` or a :class:`~jaxtherm.spectra.Spectrum`.
        cutoff: coefficient of the cutoff frequency ``ω_c`` (``ohmic`` only).
    """

    coupling: np.ndarray
    rate: Coefficient
    beta: Coefficient
    channel: str
    label: str = ""
    spectrum: spectra.Spectrum | str = "seed"
    cutoff: Coefficient | None = None

    def __post_init__(self):
        spectrum = spectra.get(self.spectrum)
        object.__setattr__(self, "spectrum", spectrum)
        if spectrum.needs_cutoff and self.cutoff is None:
            raise ValueError(f"Davies thermalizer {self.label!r}: the {spectrum.name} spectrum needs a cutoff coefficient")


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
    using only declared parameters, every bath's ``beta`` a declared parameter, aliases that
    name declared parameters and do not clash.

    Attributes:
        name: model name (e.g. ``"qubit_pair/local"``).
        dim: Hilbert-space dimension ``d``.
        parameters: the parameters in canonical order: :class:`Parameter` s or plain names (a
            name gets the units in ``units``; a bath's inverse temperature the domain ``>= 0``).
            After construction, the tuple of names; :attr:`parameter_info` holds the metadata.
        hamiltonian: the terms of ``H(p)``.
        dissipators: :class:`Lindblad` and :class:`Davies` terms.
        baths: the heat baths; channels not named here are non-thermal (they deliver power).
        expectations: extra observables to report (e.g. populations ``n_a``).
        units: ``{parameter: unit}`` for parameters given by name only.
        description: one paragraph for results files.
        aliases: extra :class:`Alias` es; every ``beta…`` parameter also gets ``T…``.
        derived: :class:`Derived` observables.
        basis: labels of the basis states, e.g. ``("|00⟩", "|01⟩", …)``.
        options: the structural options the model was built with (``{"coupling": "local"}``).
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

    def __post_init__(self):
        d = self.dim
        if not isinstance(d, int) or d < 2:
            raise ValueError(f"dim must be an integer ≥ 2, got {d!r}")
        bath_betas = {b.beta for b in self.baths}
        info = {}
        for p in self.parameters:
            if isinstance(p, str):
                p = Parameter(p, self.units.get(p, ""), p, ">= 0" if p in bath_betas else "real")
            if not isinstance(p, Parameter):
                raise TypeError(f"parameters must be names or Parameter objects, got {p!r}")
            if p.name in info:
                raise ValueError(f"parameters must be unique, got {p.name!r} twice")
            info[p.name] = p
        names = tuple(info)
        hamiltonian = tuple(
            dataclasses.replace(t, operator=_as_operator(t.operator, d, f"Hamiltonian term {t.label!r}", True))
            for t in self.hamiltonian
        )
        dissipators = []
        for k in self.dissipators:
            if isinstance(k, Lindblad):
                k = dataclasses.replace(k, jump=_as_operator(k.jump, d, f"jump operator {k.label!r}"))
            elif isinstance(k, Davies):
                k = dataclasses.replace(k, coupling=_as_operator(k.coupling, d, f"Davies coupling operator {k.label!r}", True))
            else:
                raise TypeError(f"dissipators must be Lindblad or Davies, got {type(k).__name__}")
            dissipators.append(k)
        expectations = tuple(
            dataclasses.replace(e, operator=_as_operator(e.operator, d, f"observable {e.name!r}", True))
            for e in self.expectations
        )
        bath_names = [b.name for b in self.baths]
        if len(set(bath_names)) != len(bath_names):
            raise ValueError(f"bath names must be unique, got {bath_names}")
        for b in self.baths:
            if b.beta not in info:
                raise ValueError(f"bath {b.name!r}: beta parameter {b.beta!r} is not a model parameter")
        for k in dissipators:
            if isinstance(k, Davies) and k.channel not in bath_names:
                raise ValueError(f"Davies thermalizer {k.label!r} must belong to a bath, got {k.channel!r}")
        aliases = {a.name: a for a in self.aliases}
        for p in names:
            t = temperature_alias(p)
            if t is not None and t.name not in aliases and t.name not in info:
                aliases[t.name] = t
        for a in aliases.values():
            if a.parameter not in info or any(u not in info for u in a.uses):
                raise ValueError(f"alias {a.name!r} must set and use model parameters; got {a.parameter!r}, {a.uses}")
            if a.name in info:
                raise ValueError(f"alias {a.name!r} is also a parameter name")
        basis = tuple(self.basis) if self.basis is not None else tuple(f"|{i}⟩" for i in range(d))
        if len(basis) != d:
            raise ValueError(f"basis must have {d} labels, got {len(basis)}")
        object.__setattr__(self, "hamiltonian", hamiltonian)
        object.__setattr__(self, "dissipators", tuple(dissipators))
        object.__setattr__(self, "expectations", expectations)
        object.__setattr__(self, "parameters", names)
        object.__setattr__(self, "parameter_info", MappingProxyType(info))
        object.__setattr__(self, "aliases", tuple(aliases.values()))
        object.__setattr__(self, "basis", basis)
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))
        self._check_coefficients()
        reserved = set(self.observables) - {e.name for e in expectations} - {x.name for x in self.derived}
        for name in [e.name for e in expectations] + [x.name for x in self.derived]:
            if name in reserved or name in ("rho", "status", "residual"):
                raise ValueError(f"observable name {name!r} is reserved")

    def _check_coefficients(self):
        """Every coefficient must evaluate on the declared parameters alone."""
        probe = {name: 1.0 for name in self.parameters}
        coefficients = [(t.label, t.coefficient) for t in self.hamiltonian]
        for k in self.dissipators:
            coefficients.append((k.label, k.rate))
            if isinstance(k, Lindblad) and k.quantum is not None:
                coefficients.append((k.label, k.quantum))
            if isinstance(k, Davies):
                coefficients += [(k.label, k.beta)] + ([(k.label, k.cutoff)] if k.cutoff else [])
        for label, c in coefficients:
            try:
                c(probe)
            except KeyError as err:
                raise ValueError(
                    f"model {self.name!r}: term {label!r} uses parameter {err.args[0]!r}, "
                    f"which is not among {self.parameters}"
                ) from None

    # ---- names, aliases and domains ------------------------------------------------------
    def alias_of(self, parameter: str) -> Alias | None:
        """The alias that may stand for ``parameter`` (at most one), or ``None``."""
        return next((a for a in self.aliases if a.parameter == parameter), None)

    def accepted_names(self) -> tuple[str, ...]:
        """Every name :meth:`check_names` accepts: the parameters and their aliases."""
        return self.parameters + tuple(a.name for a in self.aliases)

    def describe(self, name: str) -> tuple[str, str, str]:
        """``(units, description, domain)`` of a parameter or an alias."""
        if name in self.parameter_info:
            p = self.parameter_info[name]
            return p.units, p.description, p.domain
        a = next(a for a in self.aliases if a.name == name)
        return a.units, a.description, a.domain

    def check_names(self, names) -> tuple[str, ...]:
        """Validate the names a user gives: each parameter exactly once (directly or by its
        alias), nothing unknown.

        Returns:
            The names in canonical order (model parameter order, the alias where given).

        Raises:
            ValueError: naming an unknown, doubly given or missing parameter.
        """
        names = list(names)
        known = set(self.accepted_names())
        unknown = [n for n in names if n not in known]
        if unknown:
            hints = "; ".join(f"{a.name} for {a.parameter}" for a in self.aliases)
            raise ValueError(f"unknown parameter {unknown[0]!r} for model {self.name!r}; expected parameters: "
                             f"{', '.join(self.parameters)}" + (f" (aliases: {hints})" if hints else ""))
        ordered = []
        for a in self.aliases:
            if a.name in names and a.parameter in names:
                raise ValueError(f"parameter {a.parameter!r} given twice, as {a.parameter!r} and {a.name!r}; give one")
        for p in self.parameters:
            alias = self.alias_of(p)
            given = [n for n in (p, alias.name if alias else None) if n and n in names]
            if not given:
                hint = f" (or {alias.name!r})" if alias else ""
                raise ValueError(f"missing parameter {p!r}{hint} for model {self.name!r}")
            ordered.append(given[0])
        for n in ordered:
            a = next((a for a in self.aliases if a.name == n), None)
            bad = [u for u in (a.uses if a else ()) if u not in ordered]
            if bad:
                raise ValueError(f"{n!r} ({a.formula}) needs {bad[0]!r} given directly")
        return tuple(ordered)

    def to_parameters(self, inputs: Mapping[str, object]) -> dict[str, object]:
        """Model parameters from checked inputs, converting aliases (``beta_x = 1/T_x``, …).
        Traceable."""
        out = {p: inputs[p] for p in self.parameters if p in inputs}
        for p in self.parameters:
            if p not in out:
                alias = self.alias_of(p)
                out[p] = alias.convert({**inputs, **out})
        return out

    def outside_domain(self, params: Mapping[str, object]):
        """``True`` where a parameter leaves its domain (JAX or NumPy scalars or arrays; NaN is
        not outside, it is non-finite). Aliases need no check of their own: ``T_x < 0`` gives
        ``beta_x < 0``."""
        out = False
        for name, value in params.items():
            out = out | outside(self.parameter_info[name].domain, value)
        return out

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
        return out

    @functools.cached_property
    def fluctuation_observables(self) -> dict[str, tuple[str, str]]:
        """What current fluctuations add (:mod:`jaxtherm.fluctuations`), ``{name: (units,
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
                                    "(≥ 2 for classical Markov dynamics)")
        return out

    def check_counting(self) -> None:
        """Raise ``ValueError`` unless every jump of every bath says which energy it carries
        (a :class:`Lindblad` of a bath needs its ``quantum``; :class:`Davies` jumps carry their
        Bohr frequencies): current fluctuations count energy quanta."""
        baths = {b.name for b in self.baths}
        for k in self.lindblads:
            if k.channel in baths and k.quantum is None:
                raise ValueError(
                    f"model {self.name!r}: the jump {k.label or 'Lindblad term'!r} of bath {k.channel!r} has no "
                    "energy quantum; current fluctuations need Lindblad(..., quantum=lambda p: ν), the energy "
                    "one jump takes from the bath (+ω absorbed, −ω emitted; local_thermalizer sets it)")

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
    def real_operators(self) -> dict:
        """Constant parts of the real representation (see :mod:`jaxtherm.liouvillian`), sparse.

        Keys:
            ``hamiltonian``: one real :class:`~jaxtherm.liouvillian.Entries` of ``−i[H_m, ·]``
            per term; ``lindblad``: one of ``D[L_k]`` per Lindblad term; ``jump``: one of its
            jump part ``ρ ↦ L_k ρ L_k†`` (all ``d² × d²``);
            ``hamiltonian_dual``: ``(K_h, d²)`` with ``Tr(H_m ρ) = dual_m · r``;
            ``expectation_dual``: ``(K_e, d²)`` duals of the reported expectations.
        """
        d = self.dim

        def stack(vectors):
            return np.stack(vectors) if vectors else np.zeros((0, d * d))

        return {
            "hamiltonian": [liouvillian.to_real(liouvillian.commutator_entries(t.operator), d) for t in self.hamiltonian],
            "lindblad": [liouvillian.to_real(liouvillian.dissipator_entries(k.jump), d) for k in self.lindblads],
            "jump": [liouvillian.to_real(liouvillian.jump_entries(k.jump), d) for k in self.lindblads],
            "hamiltonian_dual": stack([liouvillian.dual(t.operator) for t in self.hamiltonian]),
            "expectation_dual": stack([liouvillian.dual(e.operator) for e in self.expectations]),
        }

    def __repr__(self) -> str:
        return f"Model({self.name!r}, dim={self.dim}, parameters={self.parameters})"
