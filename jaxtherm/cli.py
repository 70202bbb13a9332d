"""Command-line interface: ``jaxtherm run [SPEC] …``, ``jaxtherm models [NAME option=value …]`` and
``jaxtherm story``.

Exit status: 0 success; 2 bad spec, bad option or refused run (the message names the file, the
key and what was expected; no traceback); 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from ._version import __version__

EXIT_USAGE = 2


def bundled_sweeps() -> dict[str, Path]:
    """The sweeps shipped with jaxtherm: ``{name: path}``."""
    root = resources.files("jaxtherm") / "sweeps"
    return {p.name[: -len(".toml")]: Path(str(p)) for p in root.iterdir() if p.name.endswith(".toml")}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxtherm",
        description="Sweep open quantum thermodynamic systems over parameter grids with JAX: steady states, "
        "heat currents J_j = Tr(H L_j ρ), power, entropy production σ = −Σ β_j J_j and their derivatives, "
        "streamed into a self-describing HDF5 file (ħ = k_B = 1).",
        epilog="Start with `jaxtherm run` (the bundled quickstart sweep), `jaxtherm models` or `jaxtherm story`.",
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
        "options and parameters: `jaxtherm models`. Open a result with xarray.open_dataset(path, engine='h5netcdf').",
    )
    run.add_argument("spec", nargs="?", default="quickstart",
                     help="sweep spec: a TOML file or the name of a bundled sweep (default: quickstart)")
    run.add_argument("-o", "--output", help="output HDF5 file (default: [output] path of the spec, else results/<spec>.h5)")
    run.add_argument("--chunk-size", type=int, help="points per compiled chunk (default: [run] chunk_size, else tuned "
                     "to the kernel's working set and the grid's rows); memory grows with it")
    run.add_argument("--resume", action="store_true", help="complete an unfinished (killed) run of the same spec")
    run.add_argument("--force", action="store_true", help="overwrite an existing results file")
    run.add_argument("--solver", choices=("auto", "reduced", "dense"),
                     help="auto: pick for the model (today: reduced; the results file's solver_plan says what ran); "
                     "reduced: solve only the symmetry sector of the steady state (unrolled for small sectors); "
                     "dense: the full Liouvillian, the slower reference (default: [run] solver, else auto)")
    run.add_argument("--device", choices=("cpu", "gpu"), help="JAX device (default: JAX's default, a GPU if visible)")
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
    sub.add_parser(
        "story",
        help="print J_a, J_b, P and σ of the incoherent, local and global couplings",
        description="The seed's story: the local master equation violates the second law at a detuned "
        "point, the global one does not, and the incoherent coupling is consistent everywhere.",
    )
    return parser


def _resolve_spec(name: str) -> Path:
    path = Path(name)
    if path.exists() or path.suffix == ".toml":
        return path
    bundled = bundled_sweeps()
    if name in bundled:
        return bundled[name]
    return path


def _run(args) -> int:
    from .sweep import RunRefused, SpecError, load_spec, run_sweep

    if args.chunk_size is not None and args.chunk_size < 1:
        print(f"jaxtherm run: error: --chunk-size: expected a positive integer; got {args.chunk_size}", file=sys.stderr)
        return EXIT_USAGE
    try:
        spec = load_spec(_resolve_spec(args.spec))
        summary = run_sweep(spec, output=args.output, chunk_size=args.chunk_size, resume=args.resume,
                            force=args.force, device=args.device, solver=args.solver,
                            progress=not args.quiet)
    except (SpecError, RunRefused) as err:
        print(f"jaxtherm run: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(f"done: {summary}")
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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "models":
        return _models(args)
    if args.command == "story":
        from .story import story_table

        print(story_table())
        return 0
    parser.print_help()
    return 0
