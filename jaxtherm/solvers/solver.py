"""Solver objects: which coordinates of ρ are solved for, and by which elimination.

A solver is an immutable, validated configuration (lineax's shape, DESIGN.md §3). For a model it
makes a :class:`Plan` — the kept real coordinates and the elimination — and the plan solves:

* :class:`Dense` — all ``d²`` real coordinates (``d² − 1`` unknowns after the trace), LU with
  partial pivoting (:mod:`jaxtherm.solvers.lu`). The reference.
* :class:`Reduced` — only the symmetry sector of the steady state
  (:func:`jaxtherm.solvers.symmetry_sector`); a sector of at most ``max_unrolled`` unknowns whose
  Liouvillian is assembled from constants (no Davies thermalizer) is eliminated by unrolled
  scalar code (:mod:`jaxtherm.solvers.unrolled`, structural zeros skipped, elementwise over the
  batch); a larger one whose sparse elimination in a fill-reducing order costs at most
  ``max_sparse`` multiply–adds, by that elimination unrolled with static pivots, refined and
  verified (a point that fails the check is solved again by LU with partial pivoting); one
  that costs at most ``max_staged`` by the same elimination in stages, the batch innermost
  (:mod:`jaxtherm.solvers.staged`, refined and verified alike); any other (and a sector with
  Davies baths in the product basis) by LU.
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

import jax
import jax.numpy as jnp
import numpy as np

from .. import secular
from ..models import Model
from . import lu, ordering, staged, unrolled
from .lu import Sparse
from .sector import symmetry_sector
from .status import STATUS_OK, STATUS_UNVERIFIED, classify

VERIFIED_RESIDUAL = 32.0
"""A sparse elimination's point passes when its relative residual ``‖R r‖/(‖R‖ ‖r‖)`` is at most
this many machine epsilons (LU with partial pivoting gives ~1; after the refinement step the
static pivots give ~1 too, except where the elimination grew its entries beyond what one step
repairs: measured 2×10⁻¹⁴ at a growth of 10¹⁰, 10⁻¹² at 10²⁰, on the 4-qubit chain at β = 20)."""

NAMES = ("auto", "reduced", "dense")
"""Solver names accepted by :func:`get`, specs (``[run] solver``) and ``--solver``."""


@dataclasses.dataclass(frozen=True)
class Plan:
    """A solver's decisions for one model: kept coordinates and elimination (static)."""

    solver: Dense | Reduced
    keep: tuple[int, ...]
    """The kept real coordinates (populations first)."""
    method: str
    """``"lu"``, ``"unrolled"`` (partial pivoting), ``"sparse"`` (unrolled, static pivots in
    ``order``) or ``"staged"`` (static pivots in ``order``, level by level, :mod:`.staged`)."""
    dim: int
    """Number of populations (Hilbert-space dimension ``d``)."""
    eigenbasis: bool
    """Solve in the eigenbasis of ``H`` (global models, :mod:`jaxtherm.secular`)."""
    order: tuple[int, ...] | None = None
    """Static pivots: the elimination order of the unknowns (:func:`ordering.threshold_order`)."""
    structure: staged.Structure | None = dataclasses.field(default=None, compare=False, repr=False)
    """``"staged"``: the filled pattern and the stages (:func:`staged.structure`)."""

    @property
    def static_pivots(self) -> bool:
        """Whether points are eliminated with static pivots, checked, and where the check fails
        solved again by :meth:`pivoted` (status ``STATUS_UNVERIFIED`` until then)."""
        return self.method in ("sparse", "staged")

    @property
    def size(self) -> int:
        """``m``, the number of kept real coordinates (``m − 1`` unknowns)."""
        return len(self.keep)

    @property
    def description(self) -> str:
        """What runs, in words, e.g. ``"reduced: 5 unknowns of 15, unrolled elimination"``."""
        how = {"unrolled": "unrolled elimination", "lu": "LU with partial pivoting",
               "sparse": "sparse elimination in a fill-reducing order with static pivots (LU with partial "
                         "pivoting where a point fails its residual check)",
               "staged": "sparse elimination in a fill-reducing order with static pivots, level by level with "
                         "the batch innermost (LU with partial pivoting where a point fails its residual "
                         "check)"}[self.method]
        where = " in the eigenbasis of H" if self.eigenbasis else ""
        return f"{self.solver.name}: {self.size - 1} unknowns of {self.dim ** 2 - 1}{where}, {how}"

    def pivoted(self) -> Plan:
        """This plan with partial pivoting instead of static pivots (the fallback of
        ``"sparse"`` and ``"staged"``)."""
        return dataclasses.replace(self, method="lu", order=None, structure=None) if self.static_pivots else self

    def assemble(self, coeffs, supers: np.ndarray, generators, dtype):
        """``R = Σ_k c_k S_k + Σ_j G_j`` on the kept coordinates, in the elimination's form
        (an ``(m, m)`` array, or a list of rows of scalars with structural zeros).

        ``generators`` are ``(m, m)`` arrays or :class:`Sparse` entries with a static pattern."""
        if self.method == "staged":
            return _assemble_entries(self, coeffs, supers, generators, dtype)
        return (lu if self.method == "lu" else unrolled).assemble(coeffs, supers, generators, dtype)

    def init(self, matrix, dtype):
        """Factorise the trace-eliminated ``A`` of ``R`` (formula in :mod:`jaxtherm.solvers.lu`).

        ``matrix``: the real ``(m, m)`` sector matrix (an array, or :meth:`assemble`'s form)."""
        if self.method == "staged":
            return staged.init(self.structure, _a_entries(self, _entries(self, matrix)), float(jnp.finfo(dtype).eps))
        if self.method != "lu":
            if not isinstance(matrix, list):  # an array: every entry counts
                matrix = [[matrix[i, j] for j in range(self.size)] for i in range(self.size)]
            return unrolled.init(matrix, self.dim, float(jnp.finfo(dtype).eps), self.order)
        return lu.init(matrix, self.dim)

    def solve(self, factors, rhs):
        """``x = A⁻¹ rhs`` with the factors of :meth:`init` (``(m−1,)`` in and out)."""
        if self.method == "staged":
            return staged.solve(factors, rhs)
        if self.method != "lu":
            return unrolled.solve(factors, rhs)
        return lu.solve(factors, rhs)

    def steady_state(self, matrix, dtype):
        """Steady state of ``R``: ``(r, status, residual, factors)``.

        ``r``: the kept real coordinates of ``ρ`` (``(m,)``, ``Tr ρ = 1``); ``status``: int8 (see
        ``STATUS_MEANINGS``; with static pivots also ``STATUS_UNVERIFIED`` where the point must
        be solved again by :meth:`pivoted`: a pivot ratio that LU would call singular, a
        non-finite result or a residual above :data:`VERIFIED_RESIDUAL`); ``residual``: ``‖R r‖_∞ / (‖R‖_∞ ‖r‖_∞)``, the
        backward error of stationarity (``inf`` where singular or non-finite); ``factors``:
        for :meth:`solve`.
        """
        eps = jnp.finfo(dtype).eps
        if self.method == "lu":
            r, factors = lu.steady_state(matrix, self.dim)
            norms = lu.norms(matrix, r)
        elif self.method == "staged":
            matrix = _entries(self, matrix)
            factors = self.init(matrix, dtype)
            x = staged.solve(factors, -_column0(self, matrix))
            r = lu.restore_trace(x, self.dim)
            norms = _sparse_norms(matrix, r)
        else:
            r, factors = unrolled.steady_state(matrix, self.dim, float(eps), self.order)
            norms = unrolled.norms(matrix, r)
            r = jnp.stack(r)
        status, residual = classify(*norms, factors.singular, eps)
        if self.static_pivots:  # LU decides every point this one cannot vouch for
            unverified = jnp.isfinite(norms[0]) & ((status != STATUS_OK) | (residual > VERIFIED_RESIDUAL * eps))
            status = jnp.where(unverified, STATUS_UNVERIFIED, status).astype(status.dtype)
        return r, status, residual, factors


@dataclasses.dataclass(frozen=True)
class Dense:
    """All ``d² − 1`` real unknowns by LU: the reference, and the fallback for any model."""

    name = "dense"

    def plan(self, model: Model) -> Plan:
        return _plan(self, model)


@dataclasses.dataclass(frozen=True)
class Reduced:
    """The steady state's symmetry sector; unrolled elimination up to ``max_unrolled`` unknowns,
    unrolled sparse elimination with static pivots up to ``max_sparse`` multiply–adds, staged
    sparse elimination up to ``max_staged``, LU above (and where the model has Davies baths).

    Args:
        max_unrolled: largest number of unknowns eliminated by unrolled scalar code with partial
            pivoting (for Liouvillians assembled from constants, and global models solved in
            the eigenbasis of ``H`` whose entries are scalars, :func:`jaxtherm.secular.scalar_code`).
            The program grows like ``n³`` (compile time too). ``0``: none.
        max_sparse: largest number of multiply–adds (:func:`jaxtherm.solvers.ordering.fill`) of
            a sector, larger than ``max_unrolled``, that is eliminated by unrolled scalar code in
            a fill-reducing order without pivoting (:func:`jaxtherm.solvers.ordering.threshold_order`;
            Liouvillians assembled from constants). Each solve takes one step of iterative
            refinement, and a point whose relative residual stays above
            :data:`VERIFIED_RESIDUAL` ε (or whose smallest pivot is below ``n ε`` times the largest,
            LU's rule) is solved again by LU with
            partial pivoting, so results are those of a pivoted solve wherever static pivots
            fall short. The default, 1,000, takes the 3-qubit chain (150 multiply–adds for 19
            unknowns: 3.0×10⁶ points/s against LU's 8.8×10⁴ on a 2-core CPU, compiled in 4 s
            against 1 s) and the oscillator pair up to cutoff 3 (268); the 4-qubit chain (2,068
            for 69 unknowns) runs at 3.7×10⁵ points/s with ``max_sparse=2500`` against LU's
            6.5×10³, but compiles for ~30 s (LU: 1.5 s), which pays from about 2×10⁵ points on
            (``benchmarks/bench_sectors.py``). ``0``: none.
        max_staged: largest number of multiply–adds of a sector, larger than ``max_sparse``,
            eliminated in the same fill-reducing order with static pivots, checked alike, but
            level by level with the batch innermost (:mod:`jaxtherm.solvers.staged`; Liouvillians
            assembled from constants): the program grows with the number of levels, its
            constants (index vectors) with the fill. The default, 100,000, takes the 4-qubit
            chain (2,068: 0.8–1.4×10⁵ points/s against LU's 5.5–6.4×10³, compiled in 5 s against 1.7 s),
            the 5-qubit chain (60,529: 5–8×10³ against ~400) and the oscillator pair up to
            cutoff 6 (44,677: 3.6–7.6×10³ against 1.2–1.5×10³); cutoff 8 (345,186) and above stay with
            LU. ``0``: none.
        eigenbasis: solve global (Davies-only) models in the eigenbasis of ``H``
            (:mod:`jaxtherm.secular`, the default); ``False`` builds their generators on the
            sector by the general construction (:func:`jaxtherm.davies.restricted_generators`:
            one ``eigh`` of the full ``H`` and an ``O(m d⁴)`` complex assembly a point), the
            slower cross-check.
    """

    max_unrolled: int = 10
    max_sparse: int = 1000
    max_staged: int = 100_000
    eigenbasis: bool = True
    name = "reduced"

    def __post_init__(self):
        if isinstance(self.max_unrolled, bool) or not isinstance(self.max_unrolled, int) or not 0 <= self.max_unrolled <= 32:
            raise ValueError(f"Reduced(max_unrolled=...) must be an integer from 0 to 32, got {self.max_unrolled!r}")
        if isinstance(self.max_sparse, bool) or not isinstance(self.max_sparse, int) or self.max_sparse < 0:
            raise ValueError(f"Reduced(max_sparse=...) must be a non-negative integer, got {self.max_sparse!r}")
        if isinstance(self.max_staged, bool) or not isinstance(self.max_staged, int) or self.max_staged < 0:
            raise ValueError(f"Reduced(max_staged=...) must be a non-negative integer, got {self.max_staged!r}")
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
    if scalar_entries and len(keep) - 1 <= solver.max_unrolled:
        return Plan(solver, keep, "unrolled", d, eigenbasis)
    if not model.davies and (solver.max_sparse or solver.max_staged):
        pattern = _pattern(model, keep)
        order = ordering.threshold_order(pattern, _sample(model, keep))
        fill = ordering.fill(pattern, order)
        if fill <= solver.max_sparse:
            return Plan(solver, keep, "sparse", d, eigenbasis, order)
        if fill <= solver.max_staged:
            try:
                structure = staged.structure(pattern, order)
            except ValueError:  # a structurally zero pivot in this order: LU
                pass
            else:
                return Plan(solver, keep, "staged", d, eigenbasis, order, structure)
    return Plan(solver, keep, "lu", d, eigenbasis)


def _pattern(model: Model, keep: tuple[int, ...]) -> np.ndarray:
    """Structural non-zeros of the trace-eliminated ``A`` (:mod:`jaxtherm.solvers.lu`) on the
    kept coordinates of a model without Davies thermalizers: ``(m−1, m−1)`` booleans."""
    d, m = model.dim, len(keep)
    index = np.full(d * d, -1)
    index[list(keep)] = np.arange(m)
    r = np.zeros((m, m), bool)
    ops = model.real_operators
    for rows, cols, values in [*ops["hamiltonian"], *ops["lindblad"]]:
        i, j = index[rows[values != 0]], index[cols[values != 0]]
        inside = (i >= 0) & (j >= 0)
        r[i[inside], j[inside]] = True
    a = r[1:, 1:].copy()
    a[:, : d - 1] |= r[1:, :1]  # A_ij = R_ij − R_i0 for the population columns
    return a


def _sample(model: Model, keep: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """The trace-eliminated ``A`` on the kept coordinates at generic parameters (each one
    uniform in 0.5–1.5, a fixed seed) of a model without Davies thermalizers: ``(m−1, m−1)``,
    for :func:`ordering.threshold_order`."""
    rng = np.random.default_rng(seed)
    p = model.to_parameters({name: float(rng.uniform(0.5, 1.5)) for name in model.parameters})
    n = model.dim ** 2
    ops = model.real_operators
    with jax.ensure_compile_time_eval():  # plans are made while kernels are traced
        coeffs = [float(t.coefficient(p)) for t in model.hamiltonian] + [float(k.rate(p)) for k in model.lindblads]
        r = sum(c * e.dense(n, np.asarray(keep)) for c, e in zip(coeffs, [*ops["hamiltonian"], *ops["lindblad"]]))
        return np.asarray(lu.eliminate_trace(jnp.asarray(r), model.dim)[0])


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



# --- the staged elimination's matrices: entries at a static pattern (lu.Sparse)


def _entries(plan: Plan, matrix) -> Sparse:
    """``R`` as its entries: :meth:`Plan.assemble`'s form, or every entry of an ``(m, m)`` array."""
    if isinstance(matrix, Sparse):
        return matrix
    m = plan.size
    rows, cols = np.divmod(np.arange(m * m), m)
    return Sparse(rows, cols, jnp.asarray(matrix).reshape(-1))


def _assemble_entries(plan: Plan, coeffs, supers: np.ndarray, generators, dtype) -> Sparse:
    """``R = Σ_k c_k S_k + Σ_j G_j`` at its structural non-zeros only (one ``(K,) @ (K, E)``
    product: the dense ``(m, m)`` contraction of :func:`lu.assemble` would cost ``K m²`` a point,
    10× the 5-qubit chain's whole elimination)."""
    m = supers.shape[-1]
    pattern = np.any(supers != 0, axis=0)
    for g in generators:
        if isinstance(g, Sparse):
            pattern[g.rows, g.cols] = True
        else:
            pattern[:] = True
    rows, cols = np.nonzero(pattern)
    slot = np.full((m, m), -1)
    slot[rows, cols] = np.arange(len(rows))
    values = (jnp.stack(coeffs) @ jnp.asarray(supers[:, rows, cols], dtype) if len(coeffs)
              else jnp.zeros(len(rows), dtype))
    for g in generators:
        values = (values.at[slot[g.rows, g.cols]].add(g.values) if isinstance(g, Sparse)
                  else values + g[rows, cols])
    return Sparse(rows, cols, values)


def _slots(plan: Plan, matrix: Sparse) -> np.ndarray:
    """``(m, m)`` positions of ``R``'s entries in ``matrix.values``; ``len(values)`` (a zero
    appended by the callers) where an entry is a structural zero."""
    m = plan.size
    slot = np.full((m, m), len(matrix.rows))
    slot[matrix.rows, matrix.cols] = np.arange(len(matrix.rows))
    return slot


def _a_entries(plan: Plan, matrix: Sparse):
    """The entries of the trace-eliminated ``A`` (``A_ij = R_ij − R_i0 [j < d]``, i, j ≥ 1, formula
    in :mod:`jaxtherm.solvers.lu`) at the staged structure's pattern, from ``R``'s entries.

    Raises:
        ValueError: where ``R`` has an entry outside that pattern (it would be dropped)."""
    st, d = plan.structure, plan.dim
    slot = _slots(plan, matrix)
    outside = np.ones((st.n, st.n), bool)
    outside[st.a_rows, st.a_cols] = False
    inner = slot[1:, 1:] < len(matrix.rows)
    inner[:, : d - 1] |= (slot[1:, :1] < len(matrix.rows))
    if np.any(inner & outside):
        raise ValueError("the assembled sector matrix has entries outside the staged elimination's pattern")
    values = jnp.concatenate([matrix.values, jnp.zeros((1,), matrix.values.dtype)])
    i, j = st.a_rows + 1, st.a_cols + 1
    return values[slot[i, j]] - values[np.where(j < d, slot[i, 0], len(matrix.rows))]


def _column0(plan: Plan, matrix: Sparse):
    """``R_i0`` for ``i ≥ 1`` (``−b`` of the trace elimination), ``(m − 1,)``."""
    values = jnp.concatenate([matrix.values, jnp.zeros((1,), matrix.values.dtype)])
    return values[_slots(plan, matrix)[1:, 0]]


def _sparse_norms(matrix: Sparse, r):
    """``(‖R‖_∞, ‖r‖_∞, ‖R r‖_∞)`` of the (non-differentiated) solution, from ``R``'s entries."""
    v, rr = jax.lax.stop_gradient(matrix.values), jax.lax.stop_gradient(r)
    m = r.shape[0]
    row_sums = staged.product(matrix.rows, matrix.cols, m, jnp.abs(v), jnp.ones_like(rr))
    residual = staged.product(matrix.rows, matrix.cols, m, v, rr)
    return jnp.max(row_sums), jnp.max(jnp.abs(rr)), jnp.max(jnp.abs(residual))
