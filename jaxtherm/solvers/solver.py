"""Solver objects: which coordinates of ρ are solved for, and by which elimination.

A solver is an immutable, validated configuration (lineax's shape, ``docs/design.md`` §3.3). For
a model it makes a ``Plan`` — the kept real coordinates, the basis, and an
``jaxtherm.linalg.elimination.Elimination`` object — and the plan solves:

* ``Dense`` — all ``d²`` real coordinates (``d² − 1`` unknowns after the trace) by
  ``jaxtherm.solvers.LU``: the reference.
* ``Reduced`` — only the symmetry sector of the steady state
  (``jaxtherm.solvers.symmetry_sector``), global models in the eigenbasis of ``H``, by the
  elimination it is given (``Reduced(elimination="staged")``, or an object) or, by default, the
  one its limits choose (``choose``): ``jaxtherm.solvers.Unrolled`` for a small
  sector whose entries are scalars, ``jaxtherm.solvers.StaticPivots`` or
  ``jaxtherm.solvers.Staged`` for a larger one assembled from constants, by the size of
  its elimination, ``jaxtherm.solvers.Krylov`` (preconditioned GMRES) for a sector of more
  than ``min_krylov`` unknowns without Davies baths (or of ``min_krylov / 4``, a global model in
  the eigenbasis), and ``jaxtherm.solvers.LU`` otherwise.
* ``Auto`` — picks one of the above for the model and says which (``Plan.description``).

Solvers are named in specs, on the command line and in Python (``get``): ``"auto"``,
``"reduced"``, ``"dense"``, and the eliminations ``"lu"``, ``"unrolled"``, ``"static_pivots"``,
``"staged"``, ``"krylov"`` (each: the symmetry sector by that elimination).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxtherm._checks import raise_if
from jaxtherm.linalg import ordering, unrolled
from jaxtherm.linalg.elimination import Elimination, eliminate_trace
from jaxtherm.linalg.krylov import Krylov
from jaxtherm.linalg.lu import LU
from jaxtherm.linalg.staged import Staged
from jaxtherm.linalg.unrolled import StaticPivots, Unrolled
from jaxtherm.models import Model
from jaxtherm.physics import secular
from jaxtherm.solvers.sector import symmetry_sector

ELIMINATIONS: dict[str, type[Elimination]] = {e.name: e for e in (LU, Unrolled, StaticPivots, Staged, Krylov)}
"""The eliminations by name."""

NAMES = ("auto", "reduced", "dense", *ELIMINATIONS)
"""Solver names accepted by ``get``, specs (``[run] solver``) and ``--solver``."""


@dataclasses.dataclass(frozen=True)
class Plan:
    """A solver's decisions for one model: the kept coordinates, the basis and the elimination
    (static), and whether small global models build their generator as scalars."""

    solver: Dense | Reduced
    keep: tuple[int, ...]
    """The kept real coordinates (populations first)."""
    elimination: Elimination
    """How the sector's system is stored, factorised and solved."""
    dim: int
    """Number of populations (Hilbert-space dimension ``d``)."""
    eigenbasis: bool
    """Solve in the eigenbasis of ``H`` (global models, ``jaxtherm.physics.secular``)."""
    scalars: bool = True
    """Build a small global model's generator entries as scalars where
    ``jaxtherm.physics.secular.scalar_code`` allows (the fastest program, but slow to compile with
    tangents: plans for differentiated kernels use arrays)."""

    @property
    def method(self) -> str:
        """The elimination's name: ``"lu"``, ``"unrolled"``, ``"static_pivots"`` or ``"staged"``."""
        return self.elimination.name

    @property
    def static_pivots(self) -> bool:
        """Whether points are eliminated with static pivots, checked, and where the check fails
        solved again by ``fallback`` (status ``STATUS_UNVERIFIED`` until then)."""
        return self.elimination.static_pivots

    @property
    def size(self) -> int:
        """``m``, the number of kept real coordinates (``m − 1`` unknowns)."""
        return len(self.keep)

    @property
    def description(self) -> str:
        """What runs, in words, e.g. ``"reduced: 5 unknowns of 15, unrolled elimination"``."""
        where = ""
        if self.eigenbasis:
            where = " on the zero-frequency block" if self.elimination.matrix_free else ""
            where += " in the eigenbasis of H"
        unknowns = self.size - 1
        return (f"{self.solver.name}: {unknowns} unknown{'s' if unknowns != 1 else ''} of {self.dim ** 2 - 1}{where}, "
                f"{self.elimination.description}")

    def fallback(self) -> Plan:
        """This plan with the elimination that solves the points it cannot vouch for (partial
        pivoting instead of static pivots; itself otherwise)."""
        return dataclasses.replace(self, elimination=self.elimination.fallback())

    def assemble(self, coeffs, supers: np.ndarray, generators, dtype, no_jump=None):
        """``R = Σ_k c_k S_k + Σ_j G_j`` on the kept coordinates in the elimination's form
        (``Elimination.assemble``); ``no_jump``, a function giving the no-jump generator, goes to a
        matrix-free elimination only (its preconditioner), so a direct one keeps four arguments."""
        if self.elimination.matrix_free:
            return self.elimination.assemble(coeffs, supers, generators, dtype, no_jump=no_jump)
        return self.elimination.assemble(coeffs, supers, generators, dtype)

    def init(self, matrix, dtype):
        """Factorise the trace-eliminated ``A`` of ``R`` (``Elimination.init``)."""
        return self.elimination.init(matrix, self.dim, float(jnp.finfo(dtype).eps))

    def solve(self, state, rhs):
        """``x = A⁻¹ rhs`` with the state of ``init`` (``(m−1,)`` in and out)."""
        return self.elimination.solve(state, rhs)

    def steady_state(self, matrix, dtype, guess=()):
        """Steady state of ``R``: ``(r, status, residual, state)`` (``Elimination.steady_state``),
        starting from ``guess`` where the elimination is iterative (``cold_guess``, ``next_guess``)."""
        return self.elimination.steady_state(matrix, self.dim, dtype, guess)

    def cold_guess(self, dtype):
        """The first guess of a loop that carries one from point to point: zeros in the shape of
        ``next_guess`` (``Elimination.cold_guess``; ``()`` for a direct elimination)."""
        return self.elimination.cold_guess(self.size - 1, dtype)


def _elimination(value) -> Elimination | None:
    """An elimination object from a name or an object (``None`` stays ``None``).

    Raises:
        ValueError: for anything else."""
    if value is None or isinstance(value, Elimination):
        return value
    if isinstance(value, str) and value in ELIMINATIONS:
        return ELIMINATIONS[value]()
    raise ValueError(f"elimination must be one of {', '.join(ELIMINATIONS)} or an Elimination object "
                     f"(LU(), Unrolled(), StaticPivots(), Staged()), got {value!r}")


@dataclasses.dataclass(frozen=True)
class Dense:
    """All ``d² − 1`` real unknowns by LU: the reference, and the fallback for any model."""

    name = "dense"

    def plan(self, model: Model, differentiated: bool = False) -> Plan:
        """The plan for ``model`` (``differentiated``: for a kernel with tangents)."""
        return _plan(self, model, differentiated)


@dataclasses.dataclass(frozen=True)
class Reduced:
    """The steady state's symmetry sector, by the given elimination or by the one the limits
    choose (``choose``).

    Args:
        max_unrolled: largest number of unknowns eliminated by ``jaxtherm.solvers.Unrolled``
            (sectors whose entries are scalars: Liouvillians assembled from constants, and
            global models whose eigenbasis entries are scalars,
            ``jaxtherm.physics.secular.scalar_code``). The program grows like ``n³`` (compile time
            too). ``0``: none.
        max_sparse: largest number of multiply–adds (``jaxtherm.linalg.ordering.fill``) of a
            larger sector assembled from constants that ``jaxtherm.solvers.StaticPivots``
            eliminates (the unrolled program grows with the fill). ``0``: none.
        max_staged: largest number of multiply–adds of a sector, larger than ``max_sparse``,
            that ``jaxtherm.solvers.Staged`` eliminates (its program grows with the
            elimination's levels, its constants with the fill). ``0``: none. Other sectors: LU.
        eigenbasis: solve global (Davies-only) models in the eigenbasis of ``H``
            (``jaxtherm.physics.secular``, the default); ``False`` builds their generators on the
            sector by the general construction (``jaxtherm.physics.davies.restricted_generators``),
            the slower cross-check.
        elimination: an elimination (name or object) for every model instead of the limits'
            choice; the static-pivot ones need a Liouvillian assembled from constants (no
            Davies baths), the unrolled one at most 32 unknowns.
        min_krylov: a sector of more unknowns than this, in a model without Davies baths (a
            global, Davies-only, one solved in its eigenbasis: a quarter of it,
            ``GLOBAL_KRYLOV_SHARE``), is
            solved by ``jaxtherm.solvers.Krylov`` (preconditioned GMRES, never an ``n²`` array;
            its default tolerance), before any ordering is computed (the fill-reducing order of
            the 7-qubit chain alone takes minutes). ``0``: never. Below it a sector whose
            elimination is too large for ``max_staged`` takes LU (never fails to converge).

    The defaults' trade-offs (speed against compile time) are measured by
    ``benchmarks/bench_sectors.py`` (``docs/performance.md``).
    """

    max_unrolled: int = 10
    max_sparse: int = 1000
    max_staged: int = 6_000_000
    eigenbasis: bool = True
    elimination: Elimination | str | None = None
    min_krylov: int = 1000
    name = "reduced"

    def __post_init__(self):
        _check_int("max_unrolled", self.max_unrolled, 0, 32)
        _check_int("max_sparse", self.max_sparse, 0)
        _check_int("max_staged", self.max_staged, 0)
        _check_int("min_krylov", self.min_krylov, 0)
        raise_if(not isinstance(self.eigenbasis, bool),
                 ValueError(f"Reduced(eigenbasis=...) must be True or False, got {self.eigenbasis!r}"))
        object.__setattr__(self, "elimination", _elimination(self.elimination))

    def plan(self, model: Model, differentiated: bool = False) -> Plan:
        """The plan for ``model`` (``differentiated``: for a kernel with tangents).

        Raises:
            ValueError: where the given elimination cannot take the model's sector."""
        return _plan(self, model, differentiated)


def _check_int(name: str, value, low: int, high: int | None = None) -> None:
    """Check that ``Reduced``'s ``name`` is an integer (not a bool) in ``[low, high]``
    (``high = None``: no upper limit; ``low`` is 0 for every limit today).

    Raises:
        ValueError: naming the argument and the value."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        expected = "a non-negative integer" if high is None else f"an integer from {low} to {high}"
        raise ValueError(f"Reduced({name}=...) must be {expected}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Auto:
    """Picks the solver for the model and platform: ``Reduced`` with its defaults on every
    platform today (the sector is never larger than the full system, and the unrolled
    elimination of small sectors is the fastest measured on CPU). ``Auto().plan(model).description``
    says what was picked."""

    name = "auto"

    def choose(self, model: Model) -> Dense | Reduced:
        """The concrete solver for ``model`` on the default JAX backend."""
        del model  # its sector (large ones by Krylov: Reduced.min_krylov); the platform does not change it (yet)
        return Reduced()

    def plan(self, model: Model, differentiated: bool = False) -> Plan:
        return self.choose(model).plan(model, differentiated)


Solver = Dense | Reduced | Auto


@functools.lru_cache(maxsize=256)
def _plan(solver: Dense | Reduced, model: Model, differentiated: bool) -> Plan:
    d = model.dim
    if isinstance(solver, Dense):  # the reference: product basis, general Davies construction
        return Plan(solver, tuple(range(d * d)), LU(), d, eigenbasis=False, scalars=not differentiated)
    keep = tuple(int(i) for i in symmetry_sector(model))
    eigenbasis = solver.eigenbasis and secular.in_eigenbasis(model, keep)
    if solver.elimination is None:
        elimination = choose(solver, model, keep, eigenbasis)
    else:
        elimination = _given(solver.elimination, model, keep)
    if elimination.matrix_free:
        # global (Davies) models on their zero-frequency block in the eigenbasis
        # (jaxtherm.kernel.matrix_free); the rest in the product basis, preconditioned by H and the jumps
        elimination, eigenbasis = elimination.prepare_sector(d, keep), eigenbasis and not model.nonsecular
    return Plan(solver, keep, elimination, d, eigenbasis, scalars=not differentiated)


def choose(limits: Reduced, model: Model, keep: tuple[int, ...], eigenbasis: bool) -> Elimination:
    """The elimination of ``model``'s sector ``keep`` by ``limits``' thresholds.

    Unrolled code pays where the entries are scalars: assembly from constants, or the
    eigenbasis entries of global models built as scalars (``jaxtherm.physics.secular.scalar_code``).
    The general Davies construction, and eigenbasis entries built as arrays, are dense traced
    matrices that LU takes faster. Larger sectors assembled from constants are eliminated with
    static pivots, unrolled or staged by the size of the elimination; a structurally zero pivot
    in the threshold order leaves LU. Sectors above ``limits.min_krylov`` unknowns without Davies
    baths, or of a global model in its eigenbasis: preconditioned GMRES (``Krylov``). Measured
    (``docs/performance.md``, the ``bench_large.py`` section): staged beats Krylov and LU up to the 6-qubit chain (923
    unknowns, 2.3×10⁶ multiply–adds) and the oscillators at cutoff 11 (890, 3.4×10⁶: 3× LU); at
    cutoff 12 (7.6×10⁶) it only ties Krylov; the 7-qubit chain's order alone takes minutes."""
    if _iterates(limits, model, keep, eigenbasis):
        return Krylov()
    if _unrolls(limits, model, keep, eigenbasis):
        return Unrolled()
    if not model.davies and (limits.max_sparse or limits.max_staged):
        static = _static(limits, model, keep)
        if static is not None:
            return static
    return LU()


GLOBAL_KRYLOV_SHARE = 4
"""A global model solved in its eigenbasis goes matrix-free above ``min_krylov / 4`` unknowns:
there ``Krylov``'s matrix products beat LU on the entry tables, whose assembly is dense within
each pair of ``H``'s blocks (measured by ``benchmarks/bench_large.py``, ``docs/performance.md``:
the crossover lies between the 4- and 5-qubit global chains)."""


def _iterates(limits: Reduced, model: Model, keep: tuple[int, ...], eigenbasis: bool) -> bool:
    """Whether ``Krylov`` takes the sector: more than ``limits.min_krylov`` unknowns in a model
    without Davies baths (the sparse sector), or more than ``min_krylov / GLOBAL_KRYLOV_SHARE``
    in a global one solved in its eigenbasis (the zero-frequency block,
    ``jaxtherm.kernel.matrix_free``)."""
    if not limits.min_krylov or (model.davies and not (eigenbasis and not model.nonsecular)):
        return False
    least = -(-limits.min_krylov // GLOBAL_KRYLOV_SHARE) if model.davies else limits.min_krylov  # ceil: 1 → 1
    return len(keep) - 1 > least


def _unrolls(limits: Reduced, model: Model, keep: tuple[int, ...], eigenbasis: bool) -> bool:
    """Whether the sector's entries are scalars (assembled from constants, or the eigenbasis
    entries built as scalars) and its ``len(keep) − 1`` unknowns at most ``limits.max_unrolled``."""
    scalar_entries = secular.scalar_code(model) if eigenbasis else not model.davies
    return scalar_entries and len(keep) - 1 <= limits.max_unrolled


def _static(limits: Reduced, model: Model, keep: tuple[int, ...]) -> Elimination | None:
    """Static pivots in the threshold order of the sector's pattern: unrolled up to
    ``limits.max_sparse`` multiply–adds, staged up to ``limits.max_staged``; ``None`` above that,
    or where a pivot is a structural zero in that order."""
    pattern = _pattern(model, keep)
    order = ordering.threshold_order(pattern, _sample(model, keep))
    fill = ordering.fill(pattern, order)
    if fill <= limits.max_sparse:
        return StaticPivots(order)
    if fill <= limits.max_staged:
        try:
            return Staged(order).prepare(pattern, None)
        except ValueError:  # a structurally zero pivot in this order: LU
            pass
    return None


def _given(elimination: Elimination, model: Model, keep: tuple[int, ...]) -> Elimination:
    """The elimination a user named, prepared for the sector.

    Raises:
        ValueError: where it cannot take the sector."""
    unknowns = len(keep) - 1
    raise_if(isinstance(elimination, Unrolled) and not elimination.static_pivots and unknowns > unrolled.MAX_UNKNOWNS,
             ValueError(f"the unrolled elimination takes at most {unrolled.MAX_UNKNOWNS} unknowns; model "
                        f"{model.name!r} has {unknowns} in its sector (use 'static_pivots', 'staged' or 'lu')"))
    if not elimination.needs_pattern:
        return elimination
    raise_if(model.davies,
             ValueError(f"the {elimination.name!r} elimination needs a Liouvillian assembled from constant operators; "
                        f"model {model.name!r} has Davies (global) baths (use 'unrolled' or 'lu')"))
    try:
        return elimination.prepare(_pattern(model, keep), _sample(model, keep))
    except ValueError as e:
        raise ValueError(f"the {elimination.name!r} elimination cannot take model {model.name!r}: {e}") from None


def _pattern(model: Model, keep: tuple[int, ...]) -> np.ndarray:
    """Structural non-zeros of the trace-eliminated ``A`` (``jaxtherm.linalg.lu``) on the
    kept coordinates of a model without Davies thermalizers: ``(m−1, m−1)`` booleans."""
    d, m = model.dim, len(keep)
    index = np.full(d * d, -1)
    index[list(keep)] = np.arange(m)
    r = np.zeros((m, m), bool)
    ops = model.real_operators
    for rows, cols, values in [*ops.hamiltonian, *ops.lindblad]:
        i, j = index[rows[values != 0]], index[cols[values != 0]]
        inside = (i >= 0) & (j >= 0)
        r[i[inside], j[inside]] = True
    a = r[1:, 1:].copy()
    a[:, : d - 1] |= r[1:, :1]  # A_ij = R_ij − R_i0 for the population columns
    return a


def _sample(model: Model, keep: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """The trace-eliminated ``A`` on the kept coordinates at generic parameters (each one
    uniform in 0.5–1.5, a fixed seed) of a model without Davies thermalizers: ``(m−1, m−1)``,
    for ``ordering.threshold_order``."""
    rng = np.random.default_rng(seed)
    p = model.to_parameters({name: float(rng.uniform(0.5, 1.5)) for name in model.parameters})
    n = model.dim ** 2
    ops = model.real_operators
    with jax.ensure_compile_time_eval():  # plans are made while kernels are traced
        coeffs = [float(t.coefficient(p)) for t in model.hamiltonian] + [float(k.rate(p)) for k in model.lindblads]
        r = sum(c * e.dense(n, np.asarray(keep)) for c, e in zip(coeffs, [*ops.hamiltonian, *ops.lindblad]))
        return eliminate_trace(np.asarray(r, float), model.dim)[0]  # NumPy: no program compiled


def identity(solver: Solver, model: Model | None = None) -> str:
    """What a results file records of the solver that wrote it, and what ``--resume`` compares:
    ``"dense"``, ``"reduced"``, or the elimination the user gave (``Elimination.identity``, e.g.
    ``"lu"``, ``"krylov(tol=1e-11, probe=True, probe_tol=1e-06)"``; ``Auto``: what it chooses
    for ``model``). The limits by
    which ``Reduced`` chooses an elimination and its basis are left out: the eliminations it
    chooses from agree within their tolerances, so a file resumed after a new version moved a
    limit or added one still holds one kind of result."""
    if isinstance(solver, Auto):
        solver = solver.choose(model)
    if isinstance(solver, Reduced) and solver.elimination is not None:
        return solver.elimination.identity
    return solver.name


def get(solver: str | Solver) -> Solver:
    """The solver object for a name or the object itself: ``"auto"``, ``"reduced"``, ``"dense"``,
    or an elimination's name (``"lu"``, ``"unrolled"``, ``"static_pivots"``, ``"staged"``,
    ``"krylov"``: ``Reduced(elimination=name)``).

    Raises:
        ValueError: for an unknown name or a non-solver.
    """
    if isinstance(solver, Dense | Reduced | Auto):
        return solver
    if isinstance(solver, str) and solver in ELIMINATIONS:
        return Reduced(elimination=solver)
    if isinstance(solver, str) and solver in NAMES:
        return {"auto": Auto, "reduced": Reduced, "dense": Dense}[solver]()
    raise ValueError(f"solver must be one of {', '.join(NAMES)} or a jaxtherm.solvers object "
                     f"(Auto(), Reduced(max_unrolled=…), Dense()), got {solver!r}")
