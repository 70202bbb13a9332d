"""Preconditioned GMRES: the elimination for large sectors.

``LU`` factorises the sector's ``(n, n)`` array, ``O(n³)`` a point and ``n²`` memory: at
``n = 12,869`` (the 8-qubit chain) that is 1.3 GB and minutes. ``Krylov`` never forms ``A``:

* ``R`` is stored as its non-zero entries (``Σ_k c_k S_k`` over the constant superoperators'
  entries, concatenated, and each generator's entries), so ``A x`` (the trace elimination of
  ``jaxtherm.linalg.elimination``: ``A x = (R (−Σ_{0<i<d} x_i, x))_{1:}``) is one gather,
  product and segment sum.
* ``A x = b`` is solved by restarted GMRES (``jax.scipy.sparse.linalg.gmres``) with a
  *Kronecker-sum* preconditioner: the caller supplies a complex ``(d, d)`` matrix ``G`` (the
  kernel gives ``G = −i H − ½ Σ_k κ_k L_k†L_k``, the no-jump part of a Lindblad generator,
  ``S₀(X) = G X + X G†``); its blocks on the groups of the sector (the connected components of
  the kept pairs ``ρ_ij``: for an excitation-conserving chain the excitation number blocks,
  at most ``C(n, n/2)`` states) are diagonalised (``G_g = V Λ V⁻¹``), and ``S₀⁻¹`` is two
  products with ``V`` each side and a division by ``λ_a + λ̄_b``. The rest of ``R`` (the jump
  terms ``κ L ρ L†``) is what GMRES iterates on.
* The transposed solve (cotangents) uses ``S₀ᴴ(X) = G†X + XG`` with the same ``V``, so
  implicit derivatives cost one more preconditioned solve (``Elimination.solve``).

``Krylov`` asks five things of an operator: ``apply`` (``R r``), ``frozen`` (without derivatives),
``row_norm`` (``‖R‖_∞`` or a bound), ``factor`` (the preconditioner's factors) and
``precondition``. ``KrylovOperator`` above is the sparse sector with the Kronecker-sum
preconditioner; ``jaxtherm.kernel.matrix_free.DaviesOperator`` is a global model's generator by
matrix products in the eigenbasis of ``H``, preconditioned by its populations' rate equation.

Warm starts: where points run one after another (a CPU's ``lax.scan`` over a chunk, whose
consecutive points are grid neighbours), each point's solves start from the least-residual
combination of the last two points' solutions (``_start``); every point is still solved to
``tol``, so its values depend on its neighbours within that tolerance, not bitwise.

Honest failure: after GMRES the true relative residual ``‖A x − b‖₂ / ‖b‖₂`` is computed; a point
above ``Krylov.tol`` gets ``STATUS_UNCONVERGED`` with that residual. A consistent but singular
system (a steady state that is not unique) can converge for one right-hand side; with
``Krylov.probe`` a second solve with a fixed random right-hand side, which a singular ``A`` cannot
satisfy, marks such a point ``STATUS_SINGULAR``.

Where the solution lies in terms of coordinates is a pattern, not physics: the kept real
coordinates ``keep`` of the Hermitian basis (``d`` populations ``ρ_ii``, then ``Re ρ_ij``,
``Im ρ_ij`` for ``i < j`` row-major; ``jaxtherm.physics.liouvillian`` defines it).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxtherm._checks import raise_if
from jaxtherm.linalg import graphs
from jaxtherm.linalg.elimination import Elimination, Sparse, classify
from jaxtherm.status import STATUS_INACCURATE, STATUS_OK, STATUS_SINGULAR, STATUS_UNCONVERGED

__all__ = ["Krylov", "KrylovOperator", "KrylovState"]


class KrylovOperator(NamedTuple):
    """``R`` on the sector as entries sorted by row, and the preconditioner's ``G``."""

    rows: np.ndarray
    cols: np.ndarray
    values: jax.Array
    size: int
    effective: Any = None
    """Complex ``(d, d)`` ``G`` of ``S₀(X) = G X + X G†`` (``None``: the identity preconditioner)."""

    # --- what ``Krylov`` asks of an operator (``jaxtherm.kernel.matrix_free.DaviesOperator`` too)

    @property
    def dtype(self):
        return self.values.dtype

    def apply(self, r):
        """``R r`` (``(m,)``), differentiable in ``R``."""
        return _matvec_r(self, r)

    def frozen(self) -> KrylovOperator:
        """This operator without derivatives."""
        return self._replace(values=jax.lax.stop_gradient(self.values))

    def row_norm(self):
        """``‖R‖_∞``, the largest absolute row sum."""
        return jnp.max(jax.ops.segment_sum(jnp.abs(self.values), self.rows, self.size, indices_are_sorted=True))

    def factor(self, d: int, keep: tuple[int, ...]):
        """The preconditioner's factors (``Krylov.init``) and whether ``R`` is finite."""
        return _kronecker_factors(self, _layout(d, keep))

    def precondition(self, factors, y, transpose: bool, d: int, keep: tuple[int, ...]):
        """``M y ≈ A⁻¹ y`` (or ``A⁻ᵀ y``) on the trace-eliminated unknowns (``(m − 1,)``)."""
        return _kronecker(factors, y, transpose, d, _layout(d, keep))


class KrylovState(NamedTuple):
    """What ``Krylov.init`` keeps: ``R`` with its derivatives and the preconditioner's factors."""

    operator: KrylovOperator
    blocks: tuple
    """Per group size: ``(V, V⁻¹, λ)`` of the blocks ``G_g``, ``(groups, s, s)`` and ``(groups, s)``."""
    singular: jax.Array
    guess: Any = ()
    """Where solves start: ``((x₁, x₂), (y₁, y₂))``, the last two points' solutions for the steady
    state's and the probe's right-hand sides (``Krylov.cold_guess``: zeros), combined to fit
    (``_start``)."""


class _Layout(NamedTuple):
    """Where each kept coordinate lies in the padded blocks of the groups, all by gathers.

    The complex entries are gathered from ``z = (r_pop, r_re + i r_im, r_re − i r_im, 0)``."""

    sources: tuple
    """``(pops, re, im)``: the coordinates feeding ``z``."""
    buckets: tuple
    """Per bucket of similar group sizes: ``(states (groups, s) padded with −1, gather (groups, s, s) into z)``."""
    position: np.ndarray
    """Each kept coordinate's flat position in the buckets' outputs, concatenated."""
    imaginary: np.ndarray
    """Whether a kept coordinate is the imaginary part there."""
    weights: np.ndarray
    """``W``: 1 on populations, 2 on pair coordinates (``‖B_k‖²``, the Hermitian basis's Gram matrix)."""


def _groups(d: int, iu, ju, pair) -> list[list[int]]:
    """The connected components of the states under the kept pairs, ordered by their first."""
    return [g.tolist() for g in graphs.groups(d, iu[pair], ju[pair])]


def _buckets(groups: list[list[int]], ratio: float = 0.85) -> list[list[list[int]]]:
    """Groups in buckets, largest first, each padded to its largest (at least ``ratio`` of it):
    few buckets (one compiled block product each), little padding."""
    ordered = sorted(groups, key=len, reverse=True)
    out: list[list[list[int]]] = []
    for states in ordered:
        if out and len(states) >= ratio * len(out[-1][0]):
            out[-1].append(states)
        else:
            out.append([states])
    return out


@functools.lru_cache(maxsize=32)
def _layout(d: int, keep: tuple[int, ...]) -> _Layout:
    """The groups of the sector (connected components of the kept pairs) and the coordinates' places."""
    keep_arr = np.asarray(keep)
    iu, ju = np.triu_indices(d, k=1)
    pops = keep_arr[keep_arr < d]
    re_coords = keep_arr[(keep_arr >= d) & ((keep_arr - d) % 2 == 0)]
    pair = (re_coords - d) // 2
    index = {k: n for n, k in enumerate(keep)}
    places = _Places(d, index, {int(i): n for n, i in enumerate(pops)},
                     {(int(iu[q]), int(ju[q])): n for n, q in enumerate(pair)}, pair,
                     np.zeros(len(keep), int), np.zeros(len(keep), bool))
    buckets, offset = [], 0
    for members in _buckets(_groups(d, iu, ju, pair)):
        states, gather = _bucket(members, offset, places)
        buckets.append((states, gather))
        offset += states.size * states.shape[1]
    sources = (np.array([index[int(i)] for i in pops], int), np.array([index[int(k)] for k in re_coords], int),
               np.array([index[int(k) + 1] for k in re_coords], int))
    return _Layout(sources, tuple(buckets), places.position, places.imaginary, np.where(keep_arr < d, 1.0, 2.0))


@dataclasses.dataclass
class _Places:
    """The sector's coordinates (populations ``z_pop``, pairs ``i < j`` ``z_pair``, numbered as
    in the gathered vector ``[populations, Re pairs, Im pairs, 0]``) and, filled while the
    blocks are laid out, where each kept coordinate sits in them (``position``, flat index into
    the stacked blocks) and whether it is an imaginary part."""

    d: int
    index: dict
    z_pop: dict
    z_pair: dict
    pair: np.ndarray
    position: np.ndarray
    imaginary: np.ndarray

    @property
    def zero(self) -> int:
        """The gathered vector's last entry, 0: what a block entry outside the sector takes."""
        return len(self.z_pop) + 2 * len(self.z_pair)

    def entry(self, i: int, j: int, flat: int) -> int:
        """The gathered coordinate of ``ρ_ij`` (``ρ_ji``'s conjugate where ``i > j``), recording
        where ``ρ_ij``'s kept coordinates sit (``flat``)."""
        n_pop, n_pair = len(self.z_pop), len(self.z_pair)
        if i == j:
            self.position[self.index[i]] = flat
            return self.z_pop[i]
        if (i, j) in self.z_pair:
            q = self.z_pair[(i, j)]
            re, im = self.index[self.d + 2 * self.pair[q]], self.index[self.d + 2 * self.pair[q] + 1]
            self.position[re] = self.position[im] = flat
            self.imaginary[im] = True
            return n_pop + q
        if (j, i) in self.z_pair:
            return n_pop + n_pair + self.z_pair[(j, i)]
        return self.zero


def _bucket(members: list, offset: int, places: _Places) -> tuple[np.ndarray, np.ndarray]:
    """One bucket's ``(states, gather)``: its groups' states (padded with −1 to the largest
    group, ``s``), and for every group the ``(s, s)`` block's entries as indices into the
    gathered vector (``_Places.entry``); ``offset`` is the bucket's first flat index."""
    s = len(members[0])
    states = np.full((len(members), s), -1)
    gather = np.full((len(members), s, s), places.zero)
    for g, st in enumerate(members):
        states[g, : len(st)] = st
        for a, i in enumerate(st):
            for b, j in enumerate(st):
                gather[g, a, b] = places.entry(i, j, offset + (g * s + a) * s + b)
    return states, gather


def _matvec_r(op: KrylovOperator, r):
    """``R r`` from the sorted entries."""
    return jax.ops.segment_sum(op.values * r[op.cols], op.rows, op.size, indices_are_sorted=True)


def _lift(y, d: int):
    """``(−Σ_{0<i<d} y_i, y)``: the traceless ``m``-vector whose rows ``1:`` are ``y``."""
    return jnp.concatenate([-jnp.sum(y[: d - 1], keepdims=True), y])


def _shift(u, d: int):
    """``u − (Σ_{i<d} u_i / d) Σ_{i<d} e_i``: the coordinates of ``X − (Tr X / d) 1``, traceless
    (a symmetric projection, its own transpose).

    The preconditioner's ``X = S₀⁻¹(Y)`` has a trace that the unknowns (every coordinate but the
    first population) cannot hold. Dropping the first population instead would map
    ``X ∝ |0⟩⟨0|`` to zero wherever ``S₀(|0⟩⟨0|)`` is traceless (``⟨0|Σ κ L†L|0⟩ = 0``: a state no
    jump leaves, like the vacuum of a lossy cavity), a singular preconditioner on which GMRES
    stagnates; ``1`` is never such a state while any jump acts (``Tr S₀(1) = −Tr Σ κ L†L``)."""
    return u.at[:d].add(-jnp.sum(u[:d]) / d)


def _start(matvec, rhs, guesses):
    """The combination ``x = Σ_k c_k g_k`` of the guesses (the last two points' solutions) whose
    residual ``‖rhs − A x‖₂`` is least, by Gram–Schmidt on the ``A g_k``; a direction that adds
    nothing (zero, non-finite, or almost in the span of those before it) is left out, so no start
    is worse than zero's (in exact arithmetic). On a smooth sweep two neighbours' solutions also
    extrapolate (``2 x₁ − x₂`` is in their span); a tangent's or a counting solve's right-hand
    side gets whatever part fits (cotangents, transposed solves, start from zero)."""
    x, r = jnp.zeros_like(rhs), rhs
    basis = []  # (A y, y), the A y orthonormal
    for g in guesses:
        ag = matvec(g)
        whole = jnp.linalg.norm(ag)
        for ab, b in basis:
            c = jnp.vdot(ab, ag)
            ag, g = ag - c * ab, g - c * b
        norm = jnp.linalg.norm(ag)
        fits = jnp.isfinite(norm) & (norm > 1e-10 * whole)  # (false where A g is zero)
        inv = 1.0 / jnp.where(fits, norm, 1.0)
        ab, b = (jnp.where(fits, v * inv, 0.0) for v in (ag, g))
        c = jnp.vdot(ab, r)
        x, r = x + c * b, r - c * ab
        basis.append((ab, b))
    return x


def _scaled(c, rows, cols, values, dtype) -> tuple:
    """A constant superoperator's entries ``(rows, cols, c · values)``."""
    return np.asarray(rows), np.asarray(cols), jnp.asarray(c, dtype) * jnp.asarray(np.asarray(values, float), dtype)


def _entries(g, m: int, dtype) -> tuple:
    """A generator's entries ``(rows, cols, values)``: ``Sparse`` as it is, a dense ``(m, m)`` array
    row-major."""
    if isinstance(g, Sparse):
        return np.asarray(g.rows), np.asarray(g.cols), jnp.asarray(g.values, dtype)
    rows, cols = np.divmod(np.arange(m * m), m)
    return rows, cols, jnp.asarray(g, dtype).reshape(-1)


def _lift_t(u, d: int):
    """The transpose of ``_lift``: ``u_{1:} − u_0 [i < d]``."""
    return u[1:].at[: d - 1].add(-u[0])


def _kronecker_factors(operator: KrylovOperator, layout: _Layout):
    """The Kronecker-sum preconditioner's eigendecompositions, bucket by bucket (groups padded with
    a separated ``−(1 + 10 ‖G‖_∞)`` on the diagonal), and whether ``R`` and ``G`` are finite. Each
    bucket's LAPACK calls depend on the last's results, so that no two run at once
    (``jaxtherm.linalg.lu``: jaxlib's CPU kernels can deadlock when they do)."""
    finite = jnp.all(jnp.isfinite(jax.lax.stop_gradient(operator.values)))
    g = operator.effective
    if g is None:
        return (), finite
    g = jax.lax.stop_gradient(g)
    finite = finite & jnp.all(jnp.isfinite(g))
    g = jnp.where(finite, g, -jnp.eye(g.shape[0], dtype=g.dtype))
    shift = -(1.0 + 10.0 * jnp.max(jnp.sum(jnp.abs(g), axis=1)))  # beyond every eigenvalue (Gershgorin)
    blocks, chain = [], jnp.zeros((), g.dtype)
    for states, _ in layout.buckets:
        s = states.shape[1]
        inside = (states[:, :, None] >= 0) & (states[:, None, :] >= 0)
        gb = jnp.where(inside, g[states[:, :, None], states[:, None, :]], jnp.where(np.eye(s, dtype=bool), shift, 0))
        lam, v = jnp.linalg.eig(gb + 0.0 * chain)
        vinv = jnp.linalg.inv(v + 0.0 * lam[0, 0])
        chain = vinv[0, 0, 0]
        blocks.append((v, vinv, lam))
    return tuple(blocks), finite


def _kronecker(blocks, y, transpose: bool, d: int, layout: _Layout):
    """``M y ≈ A⁻¹ y`` (or ``A⁻ᵀ y``) from ``S₀⁻¹`` (module docstring), by gathers only."""
    if not blocks:
        return y
    weights = jnp.asarray(layout.weights, y.dtype)
    u = _shift(jnp.concatenate([jnp.zeros(1, y.dtype), y]), d) / weights if transpose else _lift(y, d)
    pops, re, im = layout.sources
    z = u[re] + 1j * u[im]
    z = jnp.concatenate([u[pops].astype(z.dtype), z, jnp.conj(z), jnp.zeros(1, z.dtype)])
    outs = []
    for (_, gather), (v, vinv, lam) in zip(layout.buckets, blocks):
        den = lam[:, :, None] + jnp.conj(lam)[:, None, :]
        # a zero λ_a + λ̄_b (no decay in G: Davies baths are not in it) is replaced by a decay
        scale = jnp.max(jnp.abs(den)) + jnp.finfo(y.dtype).tiny
        den = jnp.where(jnp.abs(den) > 1e-8 * scale, den, -scale)
        x = z[gather]
        if transpose:  # S₀ᴴ(X) = G†X + XG: X = V⁻ᴴ X̃ V⁻¹, X̃ = V†YV / (λ̄_a + λ_b)
            vh = jnp.conj(jnp.swapaxes(v, 1, 2))
            xt = vh @ x @ v / jnp.conj(den)
            vih = jnp.conj(jnp.swapaxes(vinv, 1, 2))
            x = vih @ xt @ vinv
        else:  # S₀(X) = GX + XG†: X = V X̃ V†, X̃ = V⁻¹YV⁻ᴴ / (λ_a + λ̄_b)
            xt = vinv @ x @ jnp.conj(jnp.swapaxes(vinv, 1, 2)) / den
            x = v @ xt @ jnp.conj(jnp.swapaxes(v, 1, 2))
        outs.append(x.reshape(-1))
    flat = jnp.concatenate(outs)[layout.position]
    out = jnp.where(layout.imaginary, jnp.imag(flat), jnp.real(flat))
    return _lift_t(out * weights, d) if transpose else _shift(out, d)[1:]


@dataclasses.dataclass(frozen=True)
class Krylov(Elimination):
    """Restarted GMRES with the operator's preconditioner (module docstring): the sparse sector
    with the Kronecker-sum one, or a global model's zero-frequency block with its rate equation.

    Args:
        tol: the relative residual ``‖A x − b‖₂ / ‖b‖₂`` a solve must reach (``tolerance``: at
            least ``100 ε`` of the dtype); a steady state above it gets ``STATUS_UNCONVERGED`` (7)
            and that residual. Every solve (steady state, tangents, cotangents, counting
            statistics) iterates to it; only the steady state's is checked (``substitute``).
        restart: the Krylov subspace's dimension: one GMRES cycle (memory: ``restart`` vectors of
            the sector's size a point), after which the true residual is computed. The default
            is measured in ``docs/performance.md`` (``bench_large.py``, "Krylov's cycles").
        maxiter: cycles at most (so at most ``restart × maxiter`` products with ``A``).
        probe: also solve with a fixed random right-hand side to ``probe_tol`` and mark the point
            singular (``STATUS_SINGULAR``) where that fails while ``b`` converged: a consistent
            singular system (a steady state that is not unique) converges for ``b``, but stalls
            at a relative residual of order one for a generic right-hand side (one more solve,
            to the looser ``probe_tol``; ``probe=False`` trusts convergence alone).
        warm_start: start each point's GMRES from the last two points' solutions where a loop
            runs points one after another (``block_size("cpu") == 1``: a chunk's consecutive grid
            points are neighbours), combined to fit the new right-hand side best (``_start``; a
            point that failed passes on the guess it got). Off, every point starts from zero
            and its values do not depend on its batch. Either way each point is solved to
            ``tol``; the results differ within it.
        dim, keep: the sector (set by ``prepare_sector``; ``Krylov()`` names the elimination).
    """

    tol: float = 1e-11
    restart: int = 60
    maxiter: int = 20
    probe: bool = True
    probe_tol: float = 1e-6
    warm_start: bool = True
    dim: int = 0
    keep: tuple[int, ...] = ()

    name: ClassVar[str] = "krylov"
    matrix_free: ClassVar[bool] = True
    settings: ClassVar[tuple[str, ...]] = ("tol", "probe", "probe_tol")

    def __post_init__(self):
        """Validate the settings and store them as Python numbers (``np.float64(1e-11)`` is
        ``1e-11``: a results file records their ``repr``, ``identity``).

        Raises:
            ValueError: naming a tolerance that is not a positive finite number, a ``restart``
                or ``maxiter`` that is not an integer ≥ 1, or a ``probe`` or ``warm_start`` that
                is not a bool.
        """
        for field in ("tol", "probe_tol"):
            value = getattr(self, field)
            ok = isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool | np.bool_)
            raise_if(not (ok and 0 < value < np.inf),
                     ValueError(f"Krylov: {field} must be a positive finite number; got {value!r}"))
            object.__setattr__(self, field, float(value))
        for field in ("restart", "maxiter"):
            value = getattr(self, field)
            ok = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
            raise_if(not (ok and value >= 1), ValueError(f"Krylov: {field} must be an integer ≥ 1; got {value!r}"))
            object.__setattr__(self, field, int(value))
        for field in ("probe", "warm_start"):
            value = getattr(self, field)
            raise_if(not isinstance(value, bool | np.bool_),
                     ValueError(f"Krylov: {field} must be True or False; got {value!r}"))
            object.__setattr__(self, field, bool(value))

    def prepare_sector(self, d: int, keep: tuple[int, ...]) -> Krylov:
        """This elimination for the sector ``keep`` of a ``d``-state system."""
        return dataclasses.replace(self, dim=int(d), keep=tuple(int(k) for k in keep))

    def block_size(self, platform: str) -> int | None:
        """One point at a time on a CPU (``lax.scan``, each from the last one's solutions with
        ``warm_start``): vmapped, the iteration ran slower a point (``docs/design.md`` §3.3,
        measured by ``benchmarks/bench_large.py``); the whole chunk at once on other platforms
        (a GPU: cold starts)."""
        return 1 if platform == "cpu" else None

    def cold_guess(self, n: int, dtype):
        """Zeros for the last two solutions of the steady state's and the probe's solves
        (``KrylovState.guess``): NumPy, so that a kernel cached while traced inside a caller's
        ``jit`` holds no tracer."""
        zeros = np.zeros(n, jax.dtypes.canonicalize_dtype(dtype))
        return ((zeros, zeros), (zeros, zeros)) if self.warm_start else ()

    def next_guess(self, state: KrylovState):
        """The solutions this point's ``steady_state`` reached with the last point's, or the
        guess it got where it failed (``steady_state`` puts them in ``state.guess``)."""
        return state.guess

    @property
    def description(self) -> str:
        return f"preconditioned GMRES (tolerance {self.tol:g})"

    # --- the operations

    def assemble(self, coeffs, supers, generators, dtype, no_jump=None) -> KrylovOperator:
        """``R`` as entries sorted by row: ``supers`` a sequence of constant entries ``(rows, cols,
        values)`` (one per coefficient, scaled by it), ``generators`` ``Sparse`` entries or dense
        ``(m, m)`` arrays; ``no_jump()``'s ``G`` preconditions (``None``: GMRES unpreconditioned)."""
        m = len(self.keep)
        terms = [_scaled(c, r, cc, v, dtype) for c, (r, cc, v) in zip(coeffs, supers)]
        terms += [_entries(g, m, dtype) for g in generators]
        if not terms:
            return KrylovOperator(np.zeros(0, int), np.zeros(0, int), jnp.zeros(0, dtype), m)
        rows = np.concatenate([t[0] for t in terms])
        order = np.argsort(rows, kind="stable")
        values = jnp.concatenate([t[2] for t in terms])[order]
        cols = np.concatenate([t[1] for t in terms])[order]
        return KrylovOperator(rows[order], cols, values, m, None if no_jump is None else no_jump())

    def init(self, operator, d: int, eps: float) -> KrylovState:
        """The preconditioner's factors (``operator.factor``: for sparse entries, the Kronecker sum's
        eigendecompositions, ``_kronecker_factors``) and a ``singular`` flag where ``R`` is not finite."""
        del d, eps
        factors, finite = operator.factor(self.dim, self.keep)
        return KrylovState(operator, factors, ~finite)

    def matvec(self, state: KrylovState, x):
        return state.operator.apply(_lift(x, self.dim))[1:]

    def _precondition(self, state: KrylovState, y, transpose: bool):
        """``M y ≈ A⁻¹ y`` (or ``A⁻ᵀ y``): the operator's own preconditioner."""
        return state.operator.precondition(state.blocks, y, transpose, self.dim, self.keep)

    def tolerance(self, dtype) -> float:
        """The relative residual a solve must reach in ``dtype``: ``tol``, but never below
        ``100 ε`` (float32: 1.2×10⁻⁵; GMRES cannot go much below its round-off)."""
        return max(self.tol, 100 * float(jnp.finfo(dtype).eps))

    def _probe_tolerance(self, dtype) -> float:
        return max(self.probe_tol, 1000 * float(jnp.finfo(dtype).eps))

    def _gmres(self, state: KrylovState, matvec, rhs, transpose: bool, tol: float | None = None, guess=None):
        """``x`` with ``‖matvec(x) − rhs‖ ≤ tol ‖rhs‖`` where GMRES gets there (``tol``:
        ``tolerance``), and that relative residual; from ``_start(guess)`` (zero without one)."""
        tol = self.tolerance(rhs.dtype) if tol is None else tol
        def precondition(y):
            return self._precondition(state, y, transpose)

        scale = jnp.linalg.norm(rhs)
        safe = jnp.where(scale > 0, scale, 1.0)

        def relative(x):
            return jnp.linalg.norm(rhs - matvec(x)) / safe

        def body(carry):
            k, x, _ = carry
            # one cycle of ``restart`` Arnoldi steps, then the true residual decides. The first
            # cycle ends early where its own estimate (of the preconditioned residual, scaled)
            # is below a tenth of the target; later ones run whole: short cycles stagnate (the
            # oscillators at cutoff 16 stalled at 1.001 × tol from a neighbour's start). jax's
            # loop compares the preconditioned residual with this bound before the cycle: where
            # that is already below it the cycle is skipped, and the next (whole) one runs
            # (one product and one of ``maxiter`` lost; the true residual decides as ever)
            early = jnp.where(k == 0, 0.1 * tol * safe, 0.0)
            dx, _ = jax.scipy.sparse.linalg.gmres(matvec, rhs - matvec(x), tol=0.0, atol=early,
                                                  restart=self.restart, maxiter=1, M=precondition,
                                                  solve_method="incremental")
            x = x + dx
            return k + 1, x, relative(x)

        def more(carry):
            k, _, res = carry
            return (k < self.maxiter) & (res > tol)

        start = jnp.zeros_like(rhs) if guess is None else _start(matvec, rhs, guess)
        _, x, res = jax.lax.while_loop(more, body, (0, start, jnp.asarray(jnp.inf, rhs.dtype)))
        return x, res

    def substitute(self, state: KrylovState, matvec, rhs, transpose: bool):
        """GMRES's ``x`` for every solve (the steady state, tangents, cotangents, counting).

        Only the steady state's solve is checked against ``tolerance`` (``steady_state``: status
        7); a tangent or cotangent solve that misses it is not flagged (its residual is not
        returned by ``lax.custom_linear_solve``). It runs with the same preconditioner on the
        same operator as a steady state that converged; ``tests/test_large.py`` checks the
        derivatives against finite differences."""
        guess = state.guess[0] if state.guess and not transpose else None
        return self._gmres(state, matvec, rhs, transpose, guess=guess)[0]

    def trace_rhs(self, operator):
        e0 = jnp.zeros(operator.size, operator.dtype).at[0].set(1.0)
        return -operator.apply(e0)[1:]

    def norms(self, operator, r):
        op = operator.frozen()
        rr = jax.lax.stop_gradient(r)
        return op.row_norm(), jnp.max(jnp.abs(rr)), jnp.max(jnp.abs(op.apply(rr)))

    def steady_state(self, operator, d: int, dtype, guess=()):
        """``Elimination.steady_state``, with ``STATUS_UNCONVERGED`` where the solve's relative
        residual stays above ``tolerance`` (the reported residual is then the larger of the one it
        reached and the backward error), and, with ``probe``, ``STATUS_SINGULAR`` where a random
        right-hand side cannot be solved. Both solves start from ``guess`` (``KrylovState.guess``),
        and the state it returns holds the next point's (``next_guess``)."""
        eps = float(jnp.finfo(dtype).eps)
        guess = jax.lax.stop_gradient(guess) if self.warm_start and guess else ()
        state = self.init(operator, d, eps)._replace(guess=guess)
        b = self.trace_rhs(operator)
        x = self.solve(state, b)
        r = self.restore(x, d)
        status, residual = classify(*self.norms(operator, r), state.singular, eps)
        fixed = jax.lax.stop_gradient
        frozen = state._replace(operator=state.operator.frozen())

        def mv(v):
            return self.matvec(frozen, v)

        reached = jnp.linalg.norm(fixed(b) - mv(fixed(x))) / jnp.maximum(jnp.linalg.norm(fixed(b)), jnp.finfo(dtype).tiny)
        unconverged = ~(reached <= self.tolerance(dtype))
        probed = None
        if self.probe:
            probe = jnp.asarray(np.random.default_rng(7).standard_normal(len(b)), dtype)
            probed, probe_residual = self._gmres(frozen, mv, probe, transpose=False, tol=self._probe_tolerance(dtype),
                                                 guess=guess[1] if guess else None)
            singular = ~(probe_residual <= self._probe_tolerance(dtype)) & ~unconverged
        else:
            singular = jnp.zeros((), bool)
        ok = status == STATUS_OK
        # an unconverged solve is the cause of a large residual: its own status, not "inaccurate"
        missed = unconverged & (ok | (status == STATUS_INACCURATE))
        status = jnp.where(ok & singular, STATUS_SINGULAR, jnp.where(missed, STATUS_UNCONVERGED, status))
        residual = jnp.where(status == STATUS_SINGULAR, jnp.inf, jnp.where(unconverged, jnp.maximum(reached, residual), residual))
        if guess:  # the next point starts from these solutions and the last ones, unless this one failed
            solved = status == STATUS_OK
            latest = (fixed(x), guess[0][0]), (probed, guess[1][0]) if self.probe else guess[1]
            state = state._replace(guess=jax.tree.map(lambda new, old: jnp.where(solved, new, old), latest, guess))
        return self.stacked(r), status.astype(jnp.int8), residual, state
