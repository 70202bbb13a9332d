"""Command-line interface: ``jaxtherm run [SPEC] …``, ``jaxtherm info PATH``, ``jaxtherm plot PATH OBS``,
``jaxtherm models [NAME option=value …]`` and ``jaxtherm story``.

Exit status: 0 success; 2 bad spec, bad option or refused run (the message names the file, the
key and what was expected; no traceback); 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from importlib import resources
from pathlib import Path

from ._version import __version__

EXIT_USAGE = 2


def bundled_sweeps(folder: str = "sweeps") -> dict[str, Path]:
    """The sweeps (``folder="studies"``: the optimisation studies) shipped with jaxtherm: ``{name: path}``."""
    root = resources.files("jaxtherm") / folder
    return {p.name[: -len(".toml")]: Path(str(p)) for p in root.iterdir() if p.name.endswith(".toml")}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxtherm",
        description="Sweep open quantum thermodynamic systems over parameter grids with JAX: steady states, "
        "heat currents J_j = Tr(H L_j ρ), power, entropy production σ = −Σ β_j J_j and their derivatives, "
        "streamed into a self-describing HDF5 file (ħ = k_B = 1); then look at it (info, plot), optimise a machine "
        "over its parameters (optimize) or fit a model to measured currents (fit).",
        epilog="Start with `jaxtherm run` (the bundled quickstart sweep), then `jaxtherm info results/quickstart.h5` "
        "and `jaxtherm plot results/quickstart.h5 J_a`; `jaxtherm models` lists what a spec may name.",
    )
    parser.add_argument("--version", action="version", version=f"jaxtherm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = ", ".join(sorted(bundled_sweeps()))
    run = sub.add_parser(
        "run",
        help="run a sweep spec (TOML) into an HDF5 file",
        description="Run a sweep: every point of the spec's grid gets its steady state, heat currents, power, "
        "entropy production and the requested derivatives (with [output] fluctuations = true also each bath's "
        "heat noise and uncertainty ratio), written chunk by chunk into HDF5. A killed run "
        "leaves a journal beside the file; run again with --resume to complete it.",
        epilog=f"Bundled sweeps (give the name instead of a path): {names}. The models a spec may name, their "
        "options and parameters: `jaxtherm models`. Look at a result with `jaxtherm info FILE` and "
        "`jaxtherm plot FILE OBS`, or in Python with jaxtherm.open(FILE) (an xarray.Dataset; also while the sweep runs).",
    )
    run.add_argument("spec", nargs="?", default="quickstart",
                     help="sweep spec: a TOML file or the name of a bundled sweep (default: quickstart)")
    run.add_argument("-o", "--output", help="output HDF5 file (default: [output] path of the spec, else results/<spec>.h5)")
    run.add_argument("--chunk-size", type=int, help="points per compiled chunk (default: [run] chunk_size, else tuned "
                     "to the kernel's working set and the grid's rows); memory grows with it")
    run.add_argument("--resume", action="store_true", help="complete an unfinished (killed) run of the same spec; on a file that "
                     "already holds its complete sweep, do nothing and exit 0 (batch requeues)")
    run.add_argument("--force", action="store_true", help="overwrite an existing results file")
    run.add_argument("--solver", choices=("auto", "reduced", "dense"),
                     help="auto: pick for the model (today: reduced; the results file's solver_plan says what ran); "
                     "reduced: solve only the symmetry sector of the steady state (unrolled for small sectors); "
                     "dense: the full Liouvillian, the slower reference (default: [run] solver, else auto)")
    run.add_argument("--device", choices=("cpu", "gpu"), help="JAX device (default: JAX's default, a GPU if visible)")
    run.add_argument("--cluster", metavar="local:N|tcp://HOST:PORT",
                     help="compute the chunks on a Dask cluster: local:N starts N worker processes on this machine, "
                     "tcp://HOST:PORT uses a running scheduler (e.g. a dask-jobqueue SLURMCluster's); this process "
                     "still journals and writes, so the file, --resume and the results are those of a local run "
                     "(needs the [distributed] extra)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress output, only the summary")
    models = sub.add_parser(
        "models",
        help="list the built-in models, or describe one: parameters, aliases, observables",
        description="Without a name: every registered model family with its options and their defaults. With a "
        "name (and options as option=value): the model's parameters with units, domains and descriptions, the "
        "aliases a spec may use instead (T_x for beta_x, …), its observables, and the size of its Hilbert space "
        "and of the steady state's symmetry sector.",
        epilog="Examples: `jaxtherm models`, `jaxtherm models qubit_chain n=4 coupling=global`. In a spec, the "
        "options go in [model] (a list of values adds a dimension), the parameters in [parameters] or [axes].",
    )
    models.add_argument("name", nargs="?", help="a model name (see the list)")
    models.add_argument("options", nargs="*", metavar="option=value", help="model options, e.g. n=4 coupling=global")
    studies = ", ".join(sorted(bundled_sweeps("studies")))
    opt = sub.add_parser(
        "optimize",
        help="maximise or minimise an observable (or an expression of them) over bounded parameters",
        description="Optimise a machine: the spec's [model] and [parameters] as for `run`, and an [optimize] table "
        "with maximize or minimize (an observable or an expression such as \"J_c / J_h\"), variables with bounds "
        "(a third number is a start), optional constraints (\"cop >= 0.3\"), and starts: that many starting "
        "points optimised together (one vmapped computation), by Adam on the variables scaled to the unit box with "
        "exact forward-mode gradients, projected onto the bounds. Prints the best optimum; writes every start's "
        "optimum, observables, gradients and trajectory to HDF5.",
        epilog=f"Bundled studies (give the name instead of a path): {studies}. Example: `jaxtherm optimize "
        "refrigerator_cooling --json`.",
    )
    opt.add_argument("spec", help="spec (TOML) with an [optimize] table, or the name of a bundled study")
    opt.add_argument("-o", "--output", help="output HDF5 file (default: [output] path, else results/<spec>.h5)")
    opt.add_argument("--starts", type=int, help="number of starts (default: [optimize] starts, else 16)")
    opt.add_argument("--steps", type=int, help="optimiser steps (default: [optimize] steps, else 2000)")
    opt.add_argument("--force", action="store_true", help="overwrite an existing results file")
    opt.add_argument("--json", action="store_true", help="print one JSON object: objective, variables, observables, "
                     "constraints, status, path")
    opt.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    fit = sub.add_parser(
        "fit",
        help="fit model parameters to measured observables (least squares, with uncertainties)",
        description="Fit parameters of a model to measured observables: the spec's [model] and [parameters] as for "
        "`run`, and a [fit] table with parameters (name = start, [lo, hi] or [lo, hi, start]), data (a CSV file with a "
        "header row, or an HDF5 file of 1-D datasets: one column per varying parameter, per fitted observable, and "
        "optionally sigma_<observable> standard errors) and observables (the columns fitted). Levenberg–Marquardt "
        "(optimistix) with exact derivatives; uncertainties from the Gauss–Newton covariance s²(JᵀJ)⁻¹, with s² the "
        "residual variance when no sigma column is given.",
        epilog="Writes the data, the model at the best fit and the residuals per row to HDF5.",
    )
    fit.add_argument("spec", help="spec (TOML) with a [fit] table")
    fit.add_argument("data", nargs="?", help="data table (default: [fit] data)")
    fit.add_argument("-o", "--output", help="output HDF5 file (default: [output] path, else results/<spec>.h5)")
    fit.add_argument("--force", action="store_true", help="overwrite an existing results file")
    fit.add_argument("--json", action="store_true", help="print one JSON object: parameters (value, error), chi2, dof")
    info = sub.add_parser(
        "info",
        help="what a results file holds: model, axes, observables, progress, failures, timings",
        description="Summarise a results file written by `jaxtherm run`, complete, unfinished (killed) or still "
        "being written: model and options, axes with ranges, spacing and units, fixed parameters, observables and "
        "gradients, points computed and failed (by status), timings, solver plan, device and versions.",
        epilog="Examples: `jaxtherm info results/quickstart.h5`, `jaxtherm info results/*.h5` (a week of sweeps: "
        "which are done, which failed where), `jaxtherm info results/quickstart.h5 --json`.",
    )
    info.add_argument("paths", nargs="+", metavar="PATH", help="results file(s) (.h5), e.g. results/*.h5")
    info.add_argument("--json", action="store_true", help="print one JSON object (a list of them for several files) "
                      "instead of text, for scripts")
    plot = sub.add_parser(
        "plot",
        help="plot an observable of a results file: a line for one free axis, a map for two",
        description="Plot one observable (or gradient, status, residual) of a results file into an image. One free "
        "axis gives a line, two a map; fix the other axes with --sel (the nearest grid value; a model option "
        "takes its exact value). A free model option makes one panel per value. Axes given as a logspace are "
        "logarithmic; currents, power, σ and derivatives use a diverging colour map centred at 0; where σ < 0 "
        "(the second law violated) the region is hatched and outlined. Points that failed or are not computed "
        "yet are blank. Needs matplotlib (the [analysis] extra).",
        epilog="Examples: `jaxtherm plot results/quickstart.h5 J_a`, `jaxtherm plot results/second_law.h5 sigma "
        "--sel coupling=local`, `jaxtherm plot results/quickstart.h5 J_a --sel T_b=0.5 -o J_a.png`.",
    )
    plot.add_argument("path", help="results file (.h5)")
    plot.add_argument("observable", help="a variable of the file, e.g. J_a, sigma, dJ_a_depsilon (`jaxtherm info` lists them)")
    plot.add_argument("--x", help="axis on the horizontal axis (default: the innermost free axis)")
    plot.add_argument("--y", help="axis on the vertical axis of a map")
    plot.add_argument("--sel", action="extend", nargs="+", default=[], metavar="AXIS=VALUE",
                      help="fix an axis at the nearest grid value (repeatable); values outside the axis are refused")
    plot.add_argument("-o", "--output", help="image file; the format follows the suffix (default: "
                      "<results file>_<observable>[_<sel>].png beside the results file)")
    plot.add_argument("--dpi", type=int, default=100, help="resolution; one panel is 6.4 × 4.8 inches (default 100: 640 × 480)")
    sub.add_parser(
        "story",
        help="print J_a, J_b, P and σ of the incoherent, local and global couplings",
        description="The seed's story: the local master equation violates the second law at a detuned "
        "point, the global one does not, and the incoherent coupling is consistent everywhere.",
    )
    return parser


def _resolve_spec(name: str, folder: str = "sweeps") -> Path:
    """A spec file's path, or the bundled spec (sweep or, ``folder="studies"``, study) of that name."""
    path = Path(name)
    if path.exists() or path.suffix == ".toml":
        return path
    return bundled_sweeps(folder).get(name, path)


def _missing(command: str, module: str, extra: str) -> bool:
    """Print a one-line install hint (exit 2 follows) if an optional dependency is missing."""
    try:
        importlib.import_module(module)
    except ImportError:
        print(f"jaxtherm {command}: error: needs {module}, from the [{extra}] extra: pip install 'jaxtherm[{extra}]'",
              file=sys.stderr)
        return True
    return False


def _run(args) -> int:
    from .sweep import RunRefused, SpecError, load_spec, run_sweep
    from .sweep.plan import WriteFailed

    if args.chunk_size is not None and args.chunk_size < 1:
        print(f"jaxtherm run: error: --chunk-size: expected a positive integer; got {args.chunk_size}", file=sys.stderr)
        return EXIT_USAGE
    try:
        spec = load_spec(_resolve_spec(args.spec))
        summary = run_sweep(spec, output=args.output, chunk_size=args.chunk_size, resume=args.resume,
                            force=args.force, device=args.device, solver=args.solver,
                            progress=not args.quiet, cluster=args.cluster)
    except WriteFailed as err:
        print(f"jaxtherm run: error: {err}", file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
        # HDF5 cannot close a file it can no longer write, and crashes trying again at exit; the
        # journal (renamed into place chunk by chunk) is complete, so leave at once
        os._exit(EXIT_USAGE)
    except (SpecError, RunRefused) as err:
        print(f"jaxtherm run: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if summary.already_complete:
        print(summary)
        return 0
    print(f"done: {summary}")
    if not args.quiet:
        print(f"look at it: jaxtherm info {summary.path}; jaxtherm plot {summary.path} sigma (or any observable "
              "info lists); in Python: jaxtherm.open(path)")
    if summary.failed:
        print(f"warning: {summary.failed:,} point(s) have status ≠ 0 (NaN outputs); see the 'status' dataset",
              file=sys.stderr)
    return 0


def _models(args) -> int:
    import tomllib

    from . import models, solvers

    if args.name is None:
        print("Built-in models (jaxtherm models NAME [option=value …] describes one):")
        for name in models.available():
            opts = ", ".join(f"{k}={v!r}" for k, v in models.options(name).items())
            print(f"  {name:<26} {opts}")
        print("User models: [model] factory = \"my_models.py:function\" (or \"package.module:function\") in a spec.")
        return 0
    options = {}
    for item in args.options:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"jaxtherm models: error: expected option=value; got {item!r}", file=sys.stderr)
            return EXIT_USAGE
        try:
            options[key] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            options[key] = value  # a bare word, e.g. coupling=global
    try:
        model = models.get(args.name, **options)
    except ValueError as err:
        print(f"jaxtherm models: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{model.name}: {model.description}")
    print(f"Hilbert space d = {model.dim}; solver auto → {solvers.Auto().plan(model).description}")
    print("\nparameters (fixed in [parameters] or swept in [axes]):")
    for p in model.parameter_info.values():
        alias = model.alias_of(p.name)
        also = f"  (or {alias.name}: {alias.formula})" if alias else ""
        print(f"  {p.name:<14} {p.units:<22} {p.domain:<5} {p.description}{also}")
    print("\nobservables:")
    for name, (units, description) in model.observables.items():
        print(f"  {name:<14} {units:<22} {description}")
    print("\nwith [output] fluctuations = true (full counting statistics of each bath's heat):")
    try:
        model.check_counting()
    except ValueError as err:
        print(f"  not available: {err}")
    else:
        for name, (units, description) in model.fluctuation_observables.items():
            print(f"  {name:<14} {units:<22} {description}")
    return 0


def _optimize(args) -> int:
    import json

    from .sweep import RunRefused, SpecError, load_spec
    from .sweep.optimization import run_optimization
    from .sweep.progress import Progress

    if _missing("optimize", "optax", "optimize"):
        return EXIT_USAGE
    for flag in ("starts", "steps"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            print(f"jaxtherm optimize: error: --{flag}: expected a positive integer; got {value}", file=sys.stderr)
            return EXIT_USAGE
    bar = None

    def progress(done, total):
        nonlocal bar
        if bar is None:
            bar = Progress(total, enabled=not (args.quiet or args.json), label="optimize")
        bar.update(done - bar.done)

    try:
        spec = load_spec(_resolve_spec(args.spec, "studies"))
        summary = run_optimization(spec, output=args.output, force=args.force, starts=args.starts, steps=args.steps,
                                   progress=progress)
    except (SpecError, RunRefused) as err:
        print(f"jaxtherm optimize: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if bar is not None:
        bar.close()
    if args.json:
        print(json.dumps({**summary.result.summary(), "path": str(summary.path)}, indent=1))
    else:
        print(summary.table())
    return 0


def _fit(args) -> int:
    import json

    from .sweep import RunRefused, SpecError, load_spec
    from .sweep.fit import run_fit

    if _missing("fit", "optimistix", "optimize"):
        return EXIT_USAGE
    try:
        summary = run_fit(load_spec(args.spec), output=args.output, force=args.force, data=args.data)
    except (SpecError, RunRefused) as err:
        print(f"jaxtherm fit: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps({**summary.result.summary(), "path": str(summary.path)}, indent=1))
    else:
        print(summary.table())
    return 0


def _info(args) -> int:
    import json

    from .results import ResultsError, format_info, info

    found, status = [], 0
    for path in args.paths:
        try:
            found.append(info(path))
        except ResultsError as err:
            print(f"jaxtherm info: error: {err}", file=sys.stderr)
            status = EXIT_USAGE
    if args.json:
        if found:
            print(json.dumps(found[0] if len(args.paths) == 1 else found, indent=1, ensure_ascii=False))
    else:
        print("\n\n".join(format_info(d) for d in found))
    return status


def _plot(args) -> int:
    from .results import ResultsError

    if _missing("plot", "matplotlib", "analysis"):
        return EXIT_USAGE
    import matplotlib

    matplotlib.use("Agg")  # files only: works without a display (batch nodes, ssh)
    from .plotting import default_output, plot

    out = Path(args.output) if args.output else default_output(args.path, args.observable, args.sel)
    try:
        plot(args.path, args.observable, x=args.x, y=args.y, sel=args.sel, output=out, dpi=args.dpi)
    except ResultsError as err:
        print(f"jaxtherm plot: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, ValueError) as err:  # e.g. an unwritable output or an unknown image format
        print(f"jaxtherm plot: error: -o {out}: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # output piped into `head` and cut short: not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's documented recipe
        return 1


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "models":
        return _models(args)
    if args.command == "optimize":
        return _optimize(args)
    if args.command == "fit":
        return _fit(args)
    if args.command == "info":
        return _info(args)
    if args.command == "plot":
        return _plot(args)
    if args.command == "story":
        from .story import story_table

        print(story_table())
        return 0
    parser.print_help()
    return 0
