"""Status codes of a solved point and what they mean. JAX-free, so that reading a results file
(``jaxtherm.io``) never imports JAX; the classification of a solve is ``jaxtherm.linalg.elimination.classify``."""

from __future__ import annotations

STATUS_OK = 0
STATUS_SINGULAR = 1
STATUS_NONFINITE = 2
STATUS_INACCURATE = 3
STATUS_DOMAIN = 4
STATUS_UNVERIFIED = 5
"""An elimination with static pivots that cannot vouch for its solution (a small pivot or a
residual above the check, ``jaxtherm.solvers.StaticPivots``, ``jaxtherm.solvers.Staged``).
``solve``, sweeps, fits and optimisations solve such a point again with the plan's fallback
(``jaxtherm.kernel.batch.ChunkRunner``), so it never reaches their results; only the bare
kernels (``jaxtherm.kernel.batch.batched_kernel``, ``jaxtherm.kernel.point.point``) return it."""
STATUS_UNCONVERGED = 7
"""An iterative solve (``jaxtherm.linalg.krylov.Krylov``) that did not reach its tolerance
(``Krylov.tol``, a relative residual ``‖A x − b‖₂/‖b‖₂``); the point's ``residual`` is the one it
reached. (6 is reserved.)"""
STATUS_MEANINGS = {
    STATUS_OK: "ok",
    STATUS_SINGULAR: "no unique steady state (singular Liouvillian)",
    STATUS_NONFINITE: "non-finite parameters or results (a current, σ, an expectation or a derivative)",
    STATUS_INACCURATE: "relative residual, or first-law imbalance, above tolerance",
    STATUS_DOMAIN: "parameters outside the model's domain (e.g. a negative rate or temperature)",
    STATUS_UNVERIFIED: "static pivots could not vouch for the solution (solved again with partial pivoting)",
    STATUS_UNCONVERGED: "the iterative (Krylov) solve did not reach its tolerance; residual is the one reached",
}

