"""The README's figure of the four master equations against the exact current.

Run from the repository root after ``jaxtherm run master_equations``::

    python docs/master_equations_figure.py [results/master_equations.h5] [-o docs/master_equations_J_a.png]

Draws the heat current ``J_a`` of the bundled sweep (two oscillators, flat bose baths) against
the inter-mode coupling ε for the local, global, Redfield and ULE equations, the exact Landauer
current (``tests/master_equations.py``, Hofer et al., NJP 19, 123037 (2017)) over it, and below
the relative deviation from it. Points with ``σ < 0`` are marked with a cross, points whose
steady state is not positive (status 6) with a ring.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STYLE = {"local": ("tab:blue", "o"), "global": ("tab:orange", "s"), "redfield": ("tab:green", "^"),
         "ule": ("tab:purple", "v")}


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
    from jaxtherm.status import STATUS_NOT_POSITIVE
    from tests.master_equations import landauer_current

    ds = jaxtherm.open(args.path)
    eps = ds["epsilon"].values
    p = {k: float(ds[k]) for k in ("omega_a", "omega_b", "gamma_a", "gamma_b", "beta_a", "beta_b")}
    exact = np.array([landauer_current(p["omega_a"], p["omega_b"], e, p["gamma_a"], p["gamma_b"], p["beta_a"],
                                       p["beta_b"]) for e in eps])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 6.0), dpi=100, sharex=True, layout="constrained",
                                      height_ratios=(3, 2))
    top.plot(eps, exact, "k-", lw=2.5, alpha=0.35, label="exact (Landauer)")
    for c in ds["coupling"].values:
        row = ds.sel(coupling=c)
        color, marker = STYLE.get(str(c), ("gray", "."))
        j = row["J_a"].values
        top.plot(eps, j, marker=marker, ms=4, lw=1, color=color, label=str(c))
        bottom.plot(eps, 100 * (j / exact - 1), marker=marker, ms=4, lw=1, color=color)
        for ax, y in ((top, j), (bottom, 100 * (j / exact - 1))):
            neg = row["sigma"].values < 0
            ax.plot(eps[neg], y[neg], "x", color="red", ms=9, label="σ < 0" if ax is top and neg.any() else None)
            flagged = row["status"].values == STATUS_NOT_POSITIVE
            ax.plot(eps[flagged], y[flagged], "o", mfc="none", mec="black", ms=11,
                    label="ρ not positive (status 6)" if ax is top and flagged.any() else None)
    top.set(xscale="log", yscale="log", ylabel="heat current J_a", title="two oscillators, flat bose baths (cutoff 8)")
    top.legend(fontsize=8)
    bottom.set(xscale="log", yscale="symlog", xlabel="inter-mode coupling ε", ylabel="J_a / J_exact − 1 (%)")
    bottom.axhspan(-2, 2, color="gray", alpha=0.15, lw=0)
    bottom.axhline(0, color="k", lw=0.5)
    fig.savefig(args.output)
    print(args.output)


if __name__ == "__main__":
    main()
