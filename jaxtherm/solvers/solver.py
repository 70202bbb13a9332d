"""Solver objects: which coordinates of ρ are solved for, and by which elimination.

A solver is an immutable, validated configuration (lineax's shape, DESIGN.md §3). For a model it
makes a :class:`Plan` — the kept real coordinates and the elimination — and the plan solves:

* :class:`Dense` — all ``d²`` real coordinates (``d² − 1`` unknowns after the trace), LU with
  partial pivoting (:mod:`jaxtherm.solvers.lu`). The reference.
* :class:`Reduced` — only the symmetry sector of the steady state
  (:func:`jaxtherm.solvers.symmetry_sector`); a sector of at most ``max_unrolled`` unknowns whose
  Liouvillian is assembled from constants (no Davies thermalizer) is eliminated by unrolled
  scalar code (:mod:`jaxtherm.solvers.unrolled`, structural zeros skipped, elementwise over the
  batch), a larger one by LU on the sector.
* :class:`Auto` — picks one of the above for the model and platform and says which
  (:meth:`Plan.description`).

``plan.init(R)`` factorises the trace-eliminated system ``A`` (see :mod:`jaxtherm.solvers.lu`)
and ``plan.solve(factors, rhs)`` solves ``A x = rhs`` with it, so later right-hand sides
(current noise, sensitivities) reuse the factorisation; ``plan.steady_state(R)`` does both for
``b`` and returns the status and residual too.

Solvers are named in specs and on the command line: ``"auto"``, ``"reduced"``, ``"dense"``
(:func:`get`).
"""

from __future__ import annotations

import dataclasses
import functools

import jax.numpy as jnp
import numpy as np

from .. import secular
from ..models import Model
from . import lu, unrolled
from .sector import symmetry_sector
from .status import classify

NAMES = ("auto", "reduced", "dense")
"""Solver names accepted by :func:`get`, specs (``[run] solver``) and ``--solver``."""


@dataclasses.dataclass(frozen=True)
class Plan:
    """A solver's decisions for one model: kept coordinates and elimination (static)."""

    solver: Dense | Reduced
    keep: tuple[int, ...]
    """The kept real coordinates (populations first)."""
    method: str
    """``"lu"`` or ``"unrolled"``."""
    dim: int
    """Number of populations (Hilbert-space dimension ``d``)."""
    eigenbasis: bool
    """Solve in the eigenbasis of ``H`` (global models, :mod:`jaxtherm.secular`)."""

    @property
    def size(self) -> int:
        """``m``, the number of kept real coordinates (``m − 1`` unknowns)."""
        return len(self.keep)

    @property
    def description(self) -> str:
        """What runs, in words, e.g. ``"reduced: 5 unknowns of 15, unrolled elimination"``."""
        how = "unrolled elimination" if self.method == "unrolled" else "LU with partial pivoting"
        where = " in the eigenbasis of H" if self.eigenbasis else ""
        return f"{self.solver.name}: {self.size - 1} unknowns of {self.dim ** 2 - 1}{where}, {how}"

    def assemble(self, coeffs, supers: np.ndarray, generators, dtype):
        """``R = Σ_k c_k S_k + Σ_j G_j`` on the kept coordinates, in the elimination's form
        (an ``(m, m)`` array, or a list of rows of scalars with structural zeros).

        ``generators`` are ``(m, m)`` arrays or :class:`Sparse` entries with a static pattern."""
        return (unrolled if self.method == "unrolled" else lu).assemble(coeffs, supers, generators, dtype)

    def init(self, matrix, dtype):
        """Factorise the trace-eliminated ``A`` of ``R`` (formula in :mod:`jaxtherm.solvers.lu`).

        ``matrix``: the real ``(m, m)`` sector matrix (an array, or :meth:`assemble`'s form)."""
        if self.method == "unrolled":
            if not isinstance(matrix, list):  # an array: every entry counts
                matrix = [[matrix[i, j] for j in range(self.size)] for i in range(self.size)]
            return unrolled.init(matrix, self.dim, float(jnp.finfo(dtype).eps))
        return lu.init(matrix, self.dim)

    def solve(self, factors, rhs):
        """``x = A⁻¹ rhs`` with the factors of :meth:`init` (``(m−1,)`` in and out)."""
        if self.method == "unrolled":
            return unrolled.solve(factors, rhs)
        return lu.solve(factors, rhs)

    def steady_state(self, matrix, dtype):
        """Steady state of ``R``: ``(r, status, residual, factors)``.

        ``r``: the kept real coordinates of ``ρ`` (``(m,)``, ``Tr ρ = 1``); ``status``: int8 (see
        ``STATUS_MEANINGS``); ``residual``: ``‖R r‖_∞ / (‖R‖_∞ ‖r‖_∞)``, the backward error of
        stationarity (``inf`` where singular or non-finite); ``factors``: for :meth:`solve`.
        """
        eps = jnp.finfo(dtype).eps
        if self.method == "unrolled":
            r, factors = unrolled.steady_state(matrix, self.dim, float(eps))
            norms = unrolled.norms(matrix, r)
            r = jnp.stack(r)
        else:
            r, factors = lu.steady_state(matrix, self.dim)
            norms = lu.norms(matrix, r)
        status, residual = classify(*norms, factors.singular, eps)
        return r, status, residual, factors


@dataclasses.dataclass(frozen=True)
class Dense:
    """All ``d² − 1`` real unknowns by LU: the reference, and the fallback for any model."""

    name = "dense"

    def plan(self, model: Model) -> Plan:
        return _plan(self, model)


@dataclasses.dataclass(frozen=True)
class Reduced:
    """The steady state's symmetry sector; unrolled elimination up to ``max_unrolled`` unknowns.

    Args:
        max_unrolled: largest number of unknowns eliminated by unrolled scalar code (for
            Liouvillians assembled from constants, and global models solved in the eigenbasis
            of ``H`` whose entries are scalars, :func:`jaxtherm.secular.scalar_code`); larger
            sectors use LU. The unrolled program grows like ``n³`` (compile time
            too). ``max_unrolled=19`` runs the 3-qubit chain 15× faster than LU (1.5×10⁶ against
            1.0×10⁵ points/s on a 2-core CPU, compiled in 7–13 s against 1–2 s), but is not the
            default: at ill-conditioned points (a coupling g = 10⁻⁶ leaves the middle qubit
            relaxing at ~g², condition number 3×10¹¹) its ρ differs from LU's by up to 3×10⁻⁷,
            where both are that far from a 50-digit solution. ``0`` always uses LU.
        eigenbasis: solve global (Davies-only) models in the eigenbasis of ``H``
            (:mod:`jaxtherm.secular`, the default); ``False`` builds their generators on the
            sector by the general construction (:func:`jaxtherm.davies.restricted_generators`:
            one ``eigh`` of the full ``H`` and an ``O(m d⁴)`` complex assembly a point), the
            slower cross-check.
    """

    max_unrolled: int = 10
    eigenbasis: bool = True
    name = "reduced"

    def __post_init__(self):
        if isinstance(self.max_unrolled, bool) or not isinstance(self.max_unrolled, int) or not 0 <= self.max_unrolled <= 32:
            raise ValueError(f"Reduced(max_unrolled=...) must be an integer from 0 to 32, got {self.max_unrolled!r}")
        if not isinstance(self.eigenbasis, bool):
            raise ValueError(f"Reduced(eigenbasis=...) must be True or False, got {self.eigenbasis!r}")

    def plan(self, model: Model) -> Plan:
        return _plan(self, model)


@dataclasses.dataclass(frozen=True)
class Auto:
    """Picks the solver for the model and platform: :class:`Reduced` with its defaults on every
    platform today (the sector is never larger than the full system, and the unrolled
    elimination of small sectors is the fastest measured on CPU). ``Auto().plan(model).description``
    says what was picked."""

    name = "auto"

    def choose(self, model: Model) -> Dense | Reduced:
        """The concrete solver for ``model`` on the default JAX backend."""
        del model  # every model: its sector; the platform does not change the choice (yet)
        return Reduced()

    def plan(self, model: Model) -> Plan:
        return self.choose(model).plan(model)


Solver = Dense | Reduced | Auto


@functools.cache
def _plan(solver: Dense | Reduced, model: Model) -> Plan:
    d = model.dim
    if isinstance(solver, Dense):  # the reference: product basis, general Davies construction
        return Plan(solver, tuple(range(d * d)), "lu", d, eigenbasis=False)
    keep = tuple(int(i) for i in symmetry_sector(model))
    eigenbasis = solver.eigenbasis and secular.structure(model, keep) is not None
    # unrolled code pays where the entries are scalars: assembly from constants, or the
    # eigenbasis entries of global models built as scalars (secular.scalar_code; measured, global
    # refrigerator, 9 unknowns: unrolled 705,000 against LU's 250,000 points/s, compile 8 s
    # against 5.7 s; global pair, 5 unknowns). The general Davies construction, and eigenbasis
    # entries built as arrays, are dense traced matrices that LU takes faster (with arrays, the
    # refrigerator's 9 unrolled ran 1.15× LU for 3× the compile time)
    scalar_entries = secular.scalar_code(model) if eigenbasis else not model.davies
    small = scalar_entries and len(keep) - 1 <= solver.max_unrolled
    return Plan(solver, keep, "unrolled" if small else "lu", d, eigenbasis)


def get(solver: str | Solver) -> Solver:
    """The solver object for a name (``"auto"``, ``"reduced"``, ``"dense"``) or the object itself.

    Raises:
        ValueError: for an unknown name or a non-solver.
    """
    if isinstance(solver, Dense | Reduced | Auto):
        return solver
    if isinstance(solver, str) and solver in NAMES:
        return {"auto": Auto, "reduced": Reduced, "dense": Dense}[solver]()
    raise ValueError(f"solver must be one of {', '.join(NAMES)} or a jaxtherm.solvers object "
                     f"(Auto(), Reduced(max_unrolled=…), Dense()), got {solver!r}")

