"""The elimination interface: one class per way of solving a sector's steady-state system.

The steady state solves ``R r = 0`` with ``Σ_{i<d} r_i = Tr ρ = 1``, ``R`` the real ``(m, m)``
Liouvillian on the kept coordinates (populations first). Because ``R`` preserves the trace, the
population rows of ``R`` sum to zero, so the first row is redundant: drop it and substitute
``r_0 = 1 − Σ_{0<i<d} r_i``, leaving ``m − 1`` unknowns ``x = r_{1:}``:

    A x = b,   A_ij = R_ij − R_i0 [j < d],   b_i = −R_i0,   (i, j ≥ 1).

The same ``A`` solves every later system ``L x = y`` with a traceless ``y`` and ``Tr x = 0``
(``x_0 = −Σ_{0<i<d} x_i``, right-hand side ``y_{1:}``): the Drazin inverse that current noise
needs (``docs/design.md`` §2.8) reuses the factorisation.

An ``Elimination`` is an immutable configuration (lineax's ``AbstractLinearSolver`` shape)
that knows patterns and values and nothing of physics:

* ``Elimination.assemble`` — ``R = Σ_k c_k S_k + Σ_j G_j`` in the elimination's own form;
* ``Elimination.init`` — factorise ``A`` (a *state*, with a ``singular`` flag);
* ``Elimination.solve`` — ``x = A⁻¹ rhs`` with that state, implicitly differentiated;
* ``Elimination.steady_state`` — all of it for ``b``, with the status and residual (written
  here; ``Krylov`` adds its convergence check and singularity probe to it).

The implicit derivatives are written once, here (``Elimination.solve``): tangents and
cotangents solve with the same factors, ``ẋ = A⁻¹(ṙhs − Ȧ x)``, through
``lax.custom_linear_solve``; each elimination supplies only ``A x`` (``Elimination.matvec``)
and the substitution with its factors (``Elimination.substitute``). The eliminations:
``jaxtherm.linalg.lu.LU``, ``jaxtherm.linalg.unrolled.Unrolled``,
``jaxtherm.linalg.unrolled.StaticPivots``, ``jaxtherm.linalg.staged.Staged`` and
``jaxtherm.linalg.krylov.Krylov`` (iterative: it also takes a warm start, ``cold_guess`` and
``next_guess``).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxtherm.status import STATUS_INACCURATE, STATUS_NONFINITE, STATUS_OK, STATUS_SINGULAR, STATUS_UNVERIFIED

_COMPILING_FOR: contextvars.ContextVar[str | None] = contextvars.ContextVar("jaxtherm_compiling_for", default=None)


@contextlib.contextmanager
def compiling_for(platform: str):
    """Within it, kernels are traced for ``platform`` (``"cpu"``, ``"gpu"``, …):
    ``jaxtherm.kernel.batch`` traces every kernel it compiles inside it, and an elimination's
    own batching rule asks ``target_platform``."""
    token = _COMPILING_FOR.set(platform)
    try:
        yield
    finally:
        _COMPILING_FOR.reset(token)


def target_platform() -> str:
    """The platform a kernel is being traced for: ``compiling_for``'s, else JAX's default
    backend (a caller's own transformation, e.g. ``pointwise`` under an optimiser's ``vmap``,
    which names none)."""
    return _COMPILING_FOR.get() or jax.default_backend()

VERIFIED_RESIDUAL = 32.0
"""A static-pivot elimination's point passes when its relative residual ``‖R r‖/(‖R‖ ‖r‖)`` is at
most this many machine epsilons (partial pivoting gives ~1; after the refinement step static
pivots give ~1 too, except where the elimination grew its entries beyond what one step repairs;
``benchmarks/bench_sectors.py`` and ``tests/test_solvers.py`` exercise such points)."""


class Sparse(NamedTuple):
    """Entries ``values`` (traced, ``(E,)``) at static ``rows``, ``cols`` (NumPy) of an ``(m, m)``
    matrix: the one sparse container of the kernel (generators, counting operators)."""

    rows: np.ndarray
    cols: np.ndarray
    values: jax.Array


Coo = Sparse


def eliminate_trace(r_matrix, d: int):
    """Reduce ``R r = 0, Tr ρ = 1`` to ``A x = b`` (formula in the module docstring).

    Args:
        r_matrix: real ``(m, m)`` Liouvillian in the Hermitian basis (``m = d²``, or the kept
            coordinates of a symmetry sector, populations first).
        d: number of populations (the Hilbert-space dimension).

    Returns:
        ``A`` of shape ``(m−1, m−1)`` and ``b`` of shape ``(m−1,)``: NumPy arrays for a NumPy
        ``r_matrix`` (no JAX operation, so nothing to compile), JAX arrays for a JAX one.
    """
    n = r_matrix.shape[0]
    is_population = (np.arange(1, n) < d).astype(r_matrix.dtype)
    a = r_matrix[1:, 1:] - r_matrix[1:, :1] * is_population[None, :]
    return a, -r_matrix[1:, 0]


def restore_trace(x, d: int, trace: float = 1.0):
    """``r = (trace − Σ_{0<i<d} x_{i−1}, x)``: all ``m`` coordinates from the ``m − 1`` unknowns."""
    return jnp.concatenate([trace - jnp.sum(x[: d - 1], keepdims=True), x])


@dataclasses.dataclass(frozen=True)
class Elimination:
    """How a sector's trace-eliminated system ``A x = b`` is stored, factorised and solved.

    Subclasses are frozen dataclasses (hashable: they key compiled kernels) and implement
    ``assemble``, ``init``, ``matvec``, ``substitute``, ``trace_rhs`` and
    ``norms``; ``solve`` and ``steady_state`` are written here, once.

    Class data:
        name: the elimination's name (``jaxtherm.solvers.get`` accepts it).
        static_pivots: pivots fixed when the program is traced, so a point's result must pass a
            residual check; one that does not gets ``STATUS_UNVERIFIED`` and is solved again
            by ``fallback`` (by ``jaxtherm.kernel.batch``, the one place that applies it).
        scalars: vectors are lists of scalars (an unrolled program, elementwise over a batch)
            rather than ``(m,)`` arrays (``jaxtherm.linalg.vectors``).
    """

    name: ClassVar[str] = ""
    static_pivots: ClassVar[bool] = False
    scalars: ClassVar[bool] = False
    matrix_free: ClassVar[bool] = False
    """``assemble`` takes the constant superoperators as entries (no ``(m, m)`` arrays) and
    ``no_jump=``, the no-jump generator for its preconditioner (``jaxtherm.linalg.krylov``)."""
    settings: ClassVar[tuple[str, ...]] = ()
    """The fields that change a result beyond round-off (an iterative elimination's tolerances):
    ``identity`` records their values."""

    @property
    def identity(self) -> str:
        """What a results file records of this elimination (``jaxtherm.solvers.identity``): its
        name (a subclass that gives none: its class's name) with the values of its ``settings``,
        e.g. ``"lu"``, ``"krylov(tol=1e-11, probe=True, probe_tol=1e-06)"``. ``--resume``
        continues only with the same. The values are recorded, not "the default", so a default
        that a later version moves never passes for the one a file was written with."""
        kind = type(self)
        name = self.name if "name" in vars(kind) else kind.__name__
        values = [f"{k}={getattr(self, k)!r}" for k in self.settings]
        return f"{name}({', '.join(values)})" if values else name

    # --- configuration

    def prepare(self, pattern: np.ndarray, sample: np.ndarray) -> Elimination:
        """This elimination with its static structure for a sector: ``pattern`` the boolean
        ``(n, n)`` structural non-zeros of ``A``, ``sample`` ``A`` at generic parameters.
        Eliminations without static structure return themselves.

        Raises:
            ValueError: where the elimination cannot take this pattern.
        """
        del pattern, sample
        return self

    @property
    def needs_pattern(self) -> bool:
        """Whether ``prepare`` needs the sector's pattern (a Liouvillian assembled from
        constant operators): static pivots' order is made from it."""
        return self.static_pivots

    def fallback(self) -> Elimination:
        """The elimination that solves the points this one cannot vouch for (itself; the
        static-pivot eliminations name LU with partial pivoting)."""
        return self

    def cpu_compiler_options(self, differentiated: bool) -> dict[str, object]:
        """XLA options for compiling this elimination's kernels for a CPU, with forward-mode
        tangents (``differentiated``) or without (none by default; ``jaxtherm.kernel.batch``
        passes them where the kernel is compiled for a CPU)."""
        del differentiated
        return {}

    def cold_guess(self, n: int, dtype) -> Any:
        """The first guess of a loop that carries guesses from point to point
        (``jaxtherm.kernel.batch.in_blocks``): the shape of ``next_guess`` for ``n`` unknowns of
        the real ``dtype``, holding nothing (zeros, as NumPy arrays: a kernel is cached, and
        must not keep a tracer); ``()`` for a direct elimination, which takes none."""
        del n, dtype
        return ()

    def next_guess(self, state) -> Any:
        """The ``guess`` a neighbouring point's ``steady_state`` may start from, from this point's
        ``state`` (``()``: a direct elimination does not start anywhere)."""
        del state
        return ()

    def block_size(self, platform: str) -> int | None:
        """Points whose whole kernel should run together on ``platform`` (``"cpu"``, ``"gpu"``,
        …: where the kernel runs, which its caller knows; never JAX's default backend), in a
        loop over such blocks (``None``: the whole chunk at once;
        ``jaxtherm.kernel.batch.in_blocks``)."""
        del platform
        return None

    @property
    def description(self) -> str:
        """What it does, in words."""
        raise NotImplementedError

    # --- the four operations each elimination implements

    def assemble(self, coeffs, supers: np.ndarray, generators, dtype) -> Any:
        """``R = Σ_k c_k S_k + Σ_j G_j`` on the kept coordinates in this elimination's form.

        Args:
            coeffs: ``K`` scalars ``c_k``.
            supers: constant ``(K, m, m)`` superoperators ``S_k``.
            generators: ``(m, m)`` arrays or ``Sparse`` entries with a static pattern.
            dtype: the real dtype.

        A ``matrix_free`` elimination also takes ``no_jump=``: ``None``, or a function giving the
        complex ``(d, d)`` ``G = −iH − ½ Σ_k κ_k L_k†L_k`` of the generator without its jumps,
        ``X ↦ G X + X G†``, its preconditioner (``jaxtherm.linalg.krylov``).
        """
        raise NotImplementedError

    def init(self, operator, d: int, eps: float) -> Any:
        """Factorise the trace-eliminated ``A`` of ``operator`` (``assemble``'s form, or an
        ``(m, m)`` array) on its values without derivatives. The state has a boolean
        ``singular`` (smallest pivot ``≤ n ε ×`` the largest, or non-finite) and keeps ``A``
        with its derivatives for ``matvec``."""
        raise NotImplementedError

    def matvec(self, state, x):
        """``A x`` (``(n,)`` arrays), differentiable in ``A``: the implicit derivatives' product."""
        raise NotImplementedError

    def substitute(self, state, matvec, rhs, transpose: bool):
        """``A⁻¹ rhs`` (or ``A⁻ᵀ rhs``) with the factors, not differentiated. ``matvec`` is the
        product with the same matrix (transposed with ``transpose``), for a refinement step."""
        raise NotImplementedError

    def trace_rhs(self, operator):
        """``b = −R_{i0}`` (``i ≥ 1``) in the form ``solve`` takes."""
        raise NotImplementedError

    def norms(self, operator, r):
        """``(‖R‖_∞, ‖r‖_∞, ‖R r‖_∞)`` of the (non-differentiated) solution."""
        raise NotImplementedError

    # --- written once

    def restore(self, x, d: int):
        """All ``m`` coordinates from the ``m − 1`` unknowns (``restore_trace``)."""
        return restore_trace(x, d)

    def stacked(self, r):
        """The coordinates as one ``(m,)`` array."""
        return r

    def solve(self, state, rhs):
        """``x = A⁻¹ rhs`` (``(n,)``) with the state of ``init``, implicitly differentiated
        (``lax.custom_linear_solve``: tangents and cotangents solve with the same factors)."""
        return jax.lax.custom_linear_solve(
            lambda v: self.matvec(state, v),
            rhs,
            solve=lambda mv, v: self.substitute(state, mv, v, transpose=False),
            transpose_solve=lambda mv, v: self.substitute(state, mv, v, transpose=True),
        )

    def steady_state(self, operator, d: int, dtype, guess: Any = ()):
        """Steady state of ``R``: ``(r, status, residual, state)``.

        ``guess``: where an iterative elimination starts (``()``: from zero; ``cold_guess``; or
        a neighbour's ``next_guess``); a direct one ignores it.

        ``r``: the kept real coordinates of ``ρ`` (``(m,)``, ``Tr ρ = 1``); ``status``: int8
        (``STATUS_MEANINGS``; with static pivots also ``STATUS_UNVERIFIED`` where the point must
        be solved again by ``fallback``: a pivot ratio that LU would call singular, a
        non-finite result or a residual above ``VERIFIED_RESIDUAL`` ε); ``residual``:
        ``‖R r‖_∞ / (‖R‖_∞ ‖r‖_∞)``, the backward error of stationarity (``inf`` where singular
        or non-finite); ``state``: for ``solve`` (later right-hand sides).
        """
        del guess
        eps = float(jnp.finfo(dtype).eps)
        state = self.init(operator, d, eps)
        r = self.restore(self.solve(state, self.trace_rhs(operator)), d)
        norms = self.norms(operator, r)
        status, residual = classify(*norms, state.singular, eps)
        if self.static_pivots:  # LU decides every point this one cannot vouch for
            unverified = jnp.isfinite(norms[0]) & ((status != STATUS_OK) | (residual > VERIFIED_RESIDUAL * eps))
            status = jnp.where(unverified, STATUS_UNVERIFIED, status).astype(status.dtype)
        return self.stacked(r), status, residual, state


def classify(matrix_norm, r_max, residual_max, singular, eps):
    """Status and relative residual of a solved steady state (every elimination's ``steady_state``).

    Args:
        matrix_norm: ``‖R‖_∞`` (max absolute row sum; non-finite iff ``R`` has a non-finite entry).
        r_max: ``‖r‖_∞``.
        residual_max: ``‖R r‖_∞``.
        singular: the solver's singularity flag.
        eps: machine epsilon.

    Returns:
        ``(status, residual)``: int8 status (see ``STATUS_MEANINGS``) and
        ``‖R r‖_∞ / (‖R‖_∞ ‖r‖_∞)``, ``inf`` where singular or non-finite.
    """
    scale = matrix_norm * r_max
    residual = residual_max / jnp.where(scale > 0, scale, 1.0)
    matrix_finite = jnp.isfinite(matrix_norm)
    finite = matrix_finite & jnp.isfinite(r_max) & jnp.isfinite(residual_max)
    status = jnp.select(
        [~matrix_finite, singular, ~finite, residual > jnp.sqrt(eps)],
        [STATUS_NONFINITE, STATUS_SINGULAR, STATUS_NONFINITE, STATUS_INACCURATE],
        STATUS_OK,
    ).astype(jnp.int8)
    # singular | ~finite, read off the status: its select is computed once, the norms' chains are not
    return status, jnp.where((status == STATUS_SINGULAR) | (status == STATUS_NONFINITE), jnp.inf, residual)
