"""Status codes of a solved point, and the classification of a steady state by its residual."""

from __future__ import annotations

import jax.numpy as jnp

STATUS_OK = 0
STATUS_SINGULAR = 1
STATUS_NONFINITE = 2
STATUS_INACCURATE = 3
STATUS_DOMAIN = 4
STATUS_UNVERIFIED = 5
"""An elimination with static pivots that cannot vouch for its solution (a small pivot or a
residual above the check, ``jaxtherm.solvers.StaticPivots``, ``jaxtherm.solvers.Staged``).
``solve``, sweeps, fits and optimisations solve such a point again with the plan's fallback
(``jaxtherm.batch.ChunkRunner``), so it never reaches their results; only the bare
kernels (``jaxtherm.batch.batched_kernel``, ``jaxtherm.kernel.point``) return it."""
STATUS_MEANINGS = {
    STATUS_OK: "ok",
    STATUS_SINGULAR: "no unique steady state (singular Liouvillian)",
    STATUS_NONFINITE: "non-finite parameters or results (a current, σ, an expectation or a derivative)",
    STATUS_INACCURATE: "relative residual, or first-law imbalance, above tolerance",
    STATUS_DOMAIN: "parameters outside the model's domain (e.g. a negative rate or temperature)",
    STATUS_UNVERIFIED: "static pivots could not vouch for the solution (solved again with partial pivoting)",
}


def classify(matrix_norm, r_max, residual_max, singular, eps):
    """Status and relative residual of a solved steady state (shared by both solvers).

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
