"""The README's figure of the four master equations against the exact current.

Run from the repository root after ``jaxtherm run master_equations``::

    python docs/master_equations_figure.py [results/master_equations.h5] [-o docs/master_equations_J_a.png]

Draws the heat current ``J_a`` of the bundled sweep (two oscillators, flat bose baths) against
the inter-mode coupling ε for the local, global, Redfield and ULE equations, the exact Landauer
current (``tests/master_equations.py``, Hofer et al., NJP 19, 123037 (2017)) over it, and below
the relative deviation from it (left). On the right, where each equation breaks: the detuned
qubit pair with bose baths (``REDFIELD_NOT_POSITIVE_BOSE`` of ``tests/master_equations.py``: ω_a = 1,
ω_b = 0.25, T_a = 1, T_b = 0.1, ε = 0.4) with both rates scaled from weak to strong system–bath
coupling (``γ_a = 2γ_b``), computed here by ``jaxtherm.solve``: ``J_a`` and ``min_eigenvalue``.
Points with ``σ < 0`` are marked with a cross, points whose steady state is not positive
(status 6) with a ring.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STYLE = {"local": ("tab:blue", "o"), "global": ("tab:orange", "s"), "redfield": ("tab:green", "^"),
         "ule": ("tab:purple", "v")}


def _draw(ax, x, y, sigma, status, coupling: str, legend: bool) -> None:
    """One equation's line, its σ < 0 points crossed and its status-6 points ringed."""
    from jaxtherm.status import STATUS_NOT_POSITIVE

    color, marker = STYLE.get(coupling, ("gray", "."))
    ax.plot(x, y, marker=marker, ms=4, lw=1, color=color, label=coupling if legend else None)
    neg, flagged = sigma < 0, status == STATUS_NOT_POSITIVE
    ax.plot(x[neg], y[neg], "x", color="red", ms=9, label="σ < 0" if legend and neg.any() else None)
    ax.plot(x[flagged], y[flagged], "o", mfc="none", mec="black", ms=11,
            label="ρ not positive (status 6)" if legend and flagged.any() else None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", nargs="?", default=str(ROOT / "results" / "master_equations.h5"))
    ap.add_argument("-o", "--output", default=str(ROOT / "docs" / "master_equations_J_a.png"))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import jaxtherm
    from jaxtherm.status import POSITIVITY_TOLERANCE
    from tests.master_equations import landauer_current

    ds = jaxtherm.open(args.path)
    eps = ds["epsilon"].values
    p = {k: float(ds[k]) for k in ("omega_a", "omega_b", "gamma_a", "gamma_b", "beta_a", "beta_b")}
    exact = np.array([landauer_current(p["omega_a"], p["omega_b"], e, p["gamma_a"], p["gamma_b"], p["beta_a"],
                                       p["beta_b"]) for e in eps])
    fig, axes = plt.subplots(2, 2, figsize=(11.0, 6.4), dpi=100, sharex="col", layout="constrained",
                             height_ratios=(3, 2))
    (top, right_top), (bottom, right_bottom) = axes
    top.plot(eps, exact, "k-", lw=2.5, alpha=0.35, label="exact (Landauer)")
    for c in ds["coupling"].values:
        row = ds.sel(coupling=c)
        j = row["J_a"].values
        _draw(top, eps, j, row["sigma"].values, row["status"].values, str(c), True)
        _draw(bottom, eps, 100 * (j / exact - 1), row["sigma"].values, row["status"].values, str(c), False)
    top.set(xscale="log", yscale="log", ylabel="heat current J_a", title="two oscillators, flat bose baths (cutoff 8)")
    top.legend(fontsize=8)
    bottom.set(xscale="log", yscale="symlog", xlabel="inter-mode coupling ε", ylabel="J_a / J_exact − 1 (%)")
    bottom.axhspan(-2, 2, color="gray", alpha=0.15, lw=0)
    bottom.axhline(0, color="k", lw=0.5)
    rates = np.logspace(-3, 0.3, 34)
    for c in STYLE:
        out = jaxtherm.solve(jaxtherm.qubit_pair(c, "bose"), omega_a=1.0, omega_b=0.25, T_a=1.0, T_b=0.1,
                             gamma_a=2 * rates, gamma_b=rates, epsilon=0.4)
        sigma, status = np.asarray(out["sigma"]), np.asarray(out["status"])
        _draw(right_top, rates, np.asarray(out["J_a"]), sigma, status, c, True)
        _draw(right_bottom, rates, np.asarray(out["min_eigenvalue"]), sigma, status, c, False)
    right_top.set(xscale="log", yscale="symlog", ylabel="heat current J_a",
                  title="qubit pair, bose baths: weak to strong γ (ε = 0.4)")
    right_top.set_yscale("symlog", linthresh=1e-3)
    right_top.axhline(0, color="k", lw=0.5)
    right_top.legend(fontsize=8)
    right_bottom.set(xscale="log", xlabel="bath rate γ_b (γ_a = 2 γ_b)", ylabel="min_eigenvalue of ρ")
    right_bottom.set_yscale("symlog", linthresh=1e-4)
    right_bottom.axhline(-POSITIVITY_TOLERANCE, color="red", lw=0.8, ls="--")
    fig.savefig(args.output)
    print(args.output)


if __name__ == "__main__":
    main()
