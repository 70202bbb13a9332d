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
STATUS_NOT_POSITIVE = 6
"""The steady state is not a density matrix: its smallest eigenvalue (the observable
``min_eigenvalue``) is below ``−POSITIVITY_TOLERANCE``. Only models with Bloch–Redfield
thermalizers can reach it (``jaxtherm.Redfield``: not of Lindblad form, it loses positivity at
strong coupling). Unlike the other codes the point keeps its numbers — in ``solve``, in results
files and in ``jaxtherm.open`` — so that one can study where the equation breaks
(``keeps_values``)."""

POSITIVITY_TOLERANCE = 1e-4
"""How far below zero ``min_eigenvalue`` may lie before a point is flagged ``STATUS_NOT_POSITIVE``:
``10⁻⁴`` (absolute; ``Tr ρ = 1``). That is eleven orders of magnitude above the solve's round-off
(the eigenvalues of a positive ρ come out ≥ −10⁻¹⁵ or so) and above the small negativity of
Redfield's states at weak system–bath coupling (measured: ≥ −2×10⁻⁶ for the qubit pair where
every rate is at most a tenth of the smallest Bohr frequency, β up to 20; ≥ −5×10⁻⁵ for the
oscillator pair of the bundled ``master_equations`` sweep, ``γ ≈ 0.05 ω``, where states near the
truncation are nearly empty), so that weak coupling is not flagged, while the
violations that change the physics (strong coupling, ``γ ≳ ω``: −0.015 … −0.28, with currents
running the wrong way) are, by orders of magnitude."""

STATUS_UNCONVERGED = 7
"""An iterative solve (``jaxtherm.linalg.krylov.Krylov``) that did not reach its tolerance
(``Krylov.tol``, a relative residual ``‖A x − b‖₂/‖b‖₂``); the point's ``residual`` is the one it
reached."""
STATUS_MEANINGS = {
    STATUS_OK: "ok",
    STATUS_SINGULAR: "no unique steady state (singular Liouvillian: a part no bath reaches, e.g. a mode at zero "
                     "energy, whose transitions Davies baths drop, or g = 0 in a chain)",
    STATUS_NONFINITE: "non-finite parameters or results (a current, σ, an expectation or a derivative; T = 0 is "
                      "β = ∞: take a small T)",
    STATUS_INACCURATE: "relative residual, or first-law imbalance, above tolerance",
    STATUS_DOMAIN: "parameters outside the model's domain (e.g. a negative rate or temperature)",
    STATUS_UNVERIFIED: "static pivots could not vouch for the solution (solved again with partial pivoting)",
    STATUS_NOT_POSITIVE: f"steady state not positive: min_eigenvalue below -{POSITIVITY_TOLERANCE:g} (Redfield at "
                         "strong coupling); its numbers are kept",
    STATUS_UNCONVERGED: "the iterative (Krylov) solve did not reach its tolerance; residual is the one reached",
}


def keeps_values(status):
    """Where a point's outputs are numbers: ``status`` 0 (ok) or ``STATUS_NOT_POSITIVE`` (NumPy,
    JAX or xarray arrays; elementwise)."""
    return (status == STATUS_OK) | (status == STATUS_NOT_POSITIVE)

