"""Command-line interface: ``jaxtherm run [SPEC] …``, ``jaxtherm info PATH``, ``jaxtherm plot PATH OBS``,
``jaxtherm models [NAME option=value …]`` and ``jaxtherm story``.

Exit status: 0 success; 2 bad spec, bad option or refused run (the message names the file, the
key and what was expected; no traceback); 130 interrupted (Ctrl-C: one line saying what is safe
and how to continue); 1 anything unexpected.

Ctrl-C acts within a moment also while JAX compiles or computes (C++ code that Python's own
handler waits for): the C-level signal handler writes to a wake-up pipe, and a thread that
waits on it reports and ends the process. What is finished is safe then: the journal's chunks
are renamed into place whole, and ``--resume`` rebuilds the results file from them.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import shlex
import signal
import stat
import sys
import threading
from importlib import resources
from pathlib import Path

from jaxtherm._checks import install_hint, raise_if
from jaxtherm._version import __version__

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _CtrlC:
    """Ctrl-C (SIGINT) ends the process at once with exit 130 and the line ``describe()`` returns,
    unless ``defer()`` says the run is finishing its file (then once it has finished).

    Python runs signal handlers only between bytecodes, so a handler alone would wait for a compile
    or a chunk (tens of seconds). The interpreter's C-level handler writes the signal's number to
    the wake-up fd at once; a daemon thread blocked on it acts then (JAX releases the GIL while it
    compiles and computes)."""

    def __init__(self, describe, defer=lambda: False, cleanup=None):
        self.describe, self.defer, self.cleanup = describe, defer, cleanup
        self.pending = False
        self._once = threading.Lock()

    def __enter__(self):
        # a SIGINT ignored by whoever started us (nohup, a shell's background job) stays ignored
        self.active = signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
        if not self.active:
            return self
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._old_handler = signal.signal(signal.SIGINT, lambda signum, frame: self.stop())
        self._old_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, name="jaxtherm-ctrl-c", daemon=True).start()
        return self

    def __exit__(self, *exc):
        if not self.active:
            return False
        signal.set_wakeup_fd(self._old_fd)
        signal.signal(signal.SIGINT, self._old_handler)
        os.close(self._write)  # ends the thread's read
        return False

    def _watch(self) -> None:
        while True:
            try:
                data = os.read(self._read, 64)
            except OSError:
                return
            if not data:
                os.close(self._read)
                return
            if signal.SIGINT in data:
                self.stop()

    def stop(self) -> None:
        if self.defer():
            self.pending = True
            return
        if not self._once.acquire(blocking=False):
            return  # the other thread is ending the process
        try:
            line = self.describe()
            if self.cleanup is not None:
                self.cleanup()
        except Exception:  # noqa: BLE001  (the report must not stop the exit)
            line = "interrupted"
        with_newline = ("\n" if getattr(sys.stderr, "isatty", lambda: False)() else "") + line + "\n"
        try:
            os.write(2, with_newline.encode(errors="replace"))
        finally:
            os._exit(EXIT_INTERRUPTED)


def _command(argv: list[str], resume: bool) -> str:
    """The command line as typed (``jaxtherm …``), for ``resume`` with ``--resume`` instead of ``--force``."""
    words = list(argv)
    if resume:
        words = [w for w in words if w != "--force"]
        if "--resume" not in words:
            words.append("--resume")
    return shlex.join(["jaxtherm", *words])


def _interrupt_line(state, argv: list[str]) -> str:
    """What a Ctrl-C of ``jaxtherm run`` reports: how many chunks are safe and the command that continues
    (``state``: the run's ``jaxtherm.sweep.run.RunState``, ``None`` before it exists)."""
    if state is None or state.output is None or state.phase == "starting" or not state.resumable:
        where = f"; {state.output} is unchanged" if state is not None and state.output is not None else ""
        return (f"jaxtherm run: interrupted before the sweep started{where}; nothing to keep. Run it again with: "
                f"{_command(argv, resume=False)}")
    safe = state.safe_chunks()
    total = f" of {state.n_chunks:,}" if state.n_chunks else ""
    staged = f" (the --force run's file {state.journal_of}; {state.output} stays as it was until it completes)" \
        if state.journal_of != state.output else ""
    return (f"jaxtherm run: interrupted; {safe:,}{total} chunk(s) are safe (in the file and its journal){staged}. "
            f"Continue with: {_command(argv, resume=True)}")


def bundled_sweeps(folder: str = "sweeps") -> dict[str, Path]:
    """The sweeps (``folder="studies"``: the optimisation studies) shipped with jaxtherm, from the
    repository's ``sweeps/`` folder (installed as ``jaxtherm._bundled``): ``{name: path}``."""
    root = resources.files("jaxtherm._bundled")
    if folder == "studies":
        root = root / "studies"
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
    run.add_argument("-o", "--output", help="output HDF5 file (default: [output] path of the spec, else results/<spec>.h5; "
                     "relative paths from the current directory, not the spec's)")
    run.add_argument("--chunk-size", type=int, help="points per compiled chunk (default: [run] chunk_size, else tuned "
                     "to the kernel's working set and the grid's rows); memory grows with it")
    run.add_argument("--resume", action="store_true", help="complete an unfinished (killed) run of the same spec; on a file that "
                     "already holds its complete sweep, do nothing and exit 0 (batch requeues)")
    run.add_argument("--force", action="store_true", help="replace an existing results file: the new sweep is written "
                     "beside it (OUT.h5.partial) and takes its place only when complete")
    run.add_argument("--dry-run", action="store_true", help="write nothing: print the number of points, the file's size "
                     "against the free space, the chunk size, and the time a short timed probe predicts (exit 2 "
                     "where the run would be refused, e.g. for lack of space)")
    run.add_argument("--solver", choices=("auto", "reduced", "dense", "lu", "unrolled", "static_pivots", "staged", "krylov"),
                     help="auto: pick for the model (today: reduced; the results file's solver_plan says what ran); "
                     "reduced: solve only the symmetry sector of the steady state, by the elimination its size calls for; "
                     "dense: the full Liouvillian, the slower reference; lu, unrolled, static_pivots, staged: the sector "
                     "by that elimination (static_pivots and staged: models without Davies baths; krylov: preconditioned GMRES "
                     "for large sectors, points that miss its tolerance get status 7) "
                     "(default: [run] solver, else auto)")
    run.add_argument("--device", choices=("cpu", "gpu"), help="JAX device (default: JAX's default, a GPU if visible)")
    run.add_argument("--cpu-devices", type=int, metavar="N",
                     help="on a CPU, split each chunk over N devices, one core each (default: one per core, up to 8, "
                     "for a model of 100 unknowns or more solved by a direct elimination, whose kernel keeps one "
                     "core busy; else one device: a small model's sweep is bound by writing its file, Krylov's "
                     "points are chained by warm starts, and with jaxlib 0.10 a kernel calling LAPACK stays on one)")
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
        "logarithmic; a map of data that change sign uses a diverging colour map centred at 0 (an uncertainty "
        "ratio tur_*: centred at its classical bound 2), other data a sequential one; where σ < 0 "
        "(the second law violated) the region is hatched and outlined. Points that failed or are not computed "
        "yet are blank. A fit's file (jaxtherm fit) plots its data and the model at the best fit against a "
        "condition column of the data (--x). Needs matplotlib (the [analysis] extra).",
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


def _not_a_file(path: Path, what: str) -> str:
    """Why ``path`` (``what``: "spec", …) cannot be read as a file, or ``""``: reading a FIFO would
    wait forever for a writer, a device may never end, a directory is not a file."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return ""  # missing or unreadable: the reader says so
    if stat.S_ISREG(mode):
        return ""
    kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    return f"{path}: expected a {what} file (TOML); it is {kind}"


def _unknown_spec(name: str, path: Path, folder: str = "sweeps") -> str:
    """Why ``name`` names no spec — neither a file nor a bundled one — with the closest bundled
    names; ``""`` where it does."""
    if path.exists():
        return ""
    bundled = sorted(bundled_sweeps(folder))
    close = difflib.get_close_matches(name, bundled, n=2)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    kind = "sweep" if folder == "sweeps" else "study"
    return f"{name}: no such spec file, and no bundled {kind} of that name; {hint}bundled: {', '.join(bundled)}"


def _load_spec(load_spec, path: Path):
    """``load_spec(path)``, with what its parser does not yet answer as a ``SpecError`` of
    the file: bytes that are not UTF-8, and nesting too deep for Python's TOML parser."""
    from jaxtherm.sweep import SpecError

    try:
        return load_spec(path)
    except UnicodeDecodeError as err:
        raise SpecError(str(path), "", f"expected a UTF-8 text file (TOML); byte {err.start} is not UTF-8 "
                        f"({err.object[err.start:err.start + 1]!r}); save it as UTF-8") from None
    except RecursionError:
        raise SpecError(str(path), "", "is nested too deeply to be a spec; expected TOML tables of "
                        "parameters, axes and options") from None


def _factory_failure(err: BaseException) -> str:
    """A ``SystemExit`` or ``KeyboardInterrupt`` that escaped a user's model code (Ctrl-C itself
    never raises while ``_CtrlC`` is installed)."""
    what = f"SystemExit({err.code!r})" if isinstance(err, SystemExit) else "KeyboardInterrupt"
    return f"the spec's model code raised {what}; expected its model factory to import and return a jaxtherm Model"


def _missing(command: str, module: str, extra: str) -> bool:
    """Print a one-line install hint (exit 2 follows) if an optional dependency is missing."""
    try:
        importlib.import_module(module)
    except ImportError:
        print(f"jaxtherm {command}: error: {install_hint(module, extra)}", file=sys.stderr)
        return True
    return False


def _run(args, argv: list[str]) -> int:
    box: list = []  # the run's RunState, once jaxtherm.sweep (and JAX) are imported
    def remove_lock():  # the lock is released with the process; its file would stay behind
        if box and box[0].lock is not None:
            box[0].lock.unlink(missing_ok=True)

    with _CtrlC(lambda: _interrupt_line(box[0] if box else None, argv),
                defer=lambda: bool(box) and box[0].phase == "finishing", cleanup=remove_lock) as ctrl_c:
        code = _run_sweep(args, box)
    if ctrl_c.pending:  # Ctrl-C while the complete file was being written and renamed
        print(f"jaxtherm run: interrupted as the sweep completed; {box[0].output} is complete", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code


def _run_sweep(args, box: list) -> int:
    spec_path = _resolve_spec(args.spec)
    problem = _run_arguments_problem(args, spec_path)
    if problem:
        print(f"jaxtherm run: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from jaxtherm.sweep import RunRefused, SpecError, load_spec, run_sweep
    from jaxtherm.sweep.resume import WriteFailed
    from jaxtherm.sweep.run import RunState, dry_run

    state = RunState()
    box.append(state)
    try:
        spec = _load_spec(load_spec, spec_path)
        if args.dry_run:
            found = dry_run(spec, output=args.output, chunk_size=args.chunk_size, device=args.device, solver=args.solver,
                            cpu_devices=args.cpu_devices, stream=None if args.quiet else sys.stderr)
            print(found)
            return EXIT_USAGE if found.refused else 0
        summary = run_sweep(spec, output=args.output, chunk_size=args.chunk_size, resume=args.resume,
                            force=args.force, device=args.device, cpu_devices=args.cpu_devices, solver=args.solver,
                            progress=not args.quiet, cluster=args.cluster, state=state)
    except (SystemExit, KeyboardInterrupt) as err:  # a user factory's, reported by run_sweep for its import
        print(f"jaxtherm run: error: {_factory_failure(err)}", file=sys.stderr)
        return EXIT_USAGE
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
    _report(summary, args.quiet, _shown(spec))
    return 0


def _run_arguments_problem(args, spec_path: Path) -> str | None:
    """What is wrong with ``jaxtherm run``'s arguments before the spec is read, or ``None``."""
    if args.chunk_size is not None and args.chunk_size < 1:
        return f"--chunk-size: expected a positive integer; got {args.chunk_size}"
    return _cpu_devices_problem(args.cpu_devices) or _not_a_file(spec_path, "spec") or _unknown_spec(args.spec, spec_path)


def _cpu_devices_problem(count: int | None) -> str | None:
    """What is wrong with ``--cpu-devices`` (1 to the usable cores, or not given), or ``None``."""
    from jaxtherm import _config

    if count is not None and not 1 <= count <= _config.usable_cores():
        return f"--cpu-devices: expected 1 to {_config.usable_cores()}, the cores this process may use; got {count}"
    return None


def _shown(spec) -> str:
    """A variable the finished file holds, for the hint after a run: the first reduction of a
    ``[reduce]`` sweep (``power_max``), else the first chosen observable, else ``sigma``."""
    if spec.reduce is not None:
        v, op = spec.reduce.operations()[0]
        return f"{v}_{op}"
    return spec.observables[0] if spec.observables else "sigma"


def _report(summary, quiet: bool, shown: str) -> None:
    """What ``jaxtherm run`` says at the end: the summary, where to look (``shown``: a variable
    of the file), how many points failed."""
    if summary.already_complete:
        print(summary)
        return
    print(f"done: {summary}")
    if not quiet:
        print(f"look at it: jaxtherm info {summary.path}; jaxtherm plot {summary.path} {shown} (or any observable "
              "info lists); in Python: jaxtherm.open(path)")
    if summary.failed:
        print(f"warning: {summary.failed:,} point(s) have status ≠ 0 (NaN outputs); see the 'status' dataset",
              file=sys.stderr)


def _models(args) -> int:
    from jaxtherm import models

    if args.name is None:
        print("Built-in models (jaxtherm models NAME [option=value …] describes one):")
        for name in models.available():
            opts = ", ".join(f"{k}={v!r}" for k, v in models.options(name).items())
            print(f"  {name:<26} {opts}")
        print("User models: [model] factory = \"my_models.py:function\" (or \"package.module:function\") in a spec.")
        return 0
    try:
        model = models.get(args.name, **_model_options(args.options))
    except ValueError as err:
        print(f"jaxtherm models: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    _describe_model(model)
    return 0


def _model_options(items: list[str]) -> dict:
    """``option=value`` arguments as a dict: each value read as a TOML value (``n=6``,
    ``cutoff=[3, 4]``), or taken as it stands where it is not one (``coupling=global``).

    Raises:
        ValueError: for an argument that is not ``option=value``."""
    import tomllib

    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        raise_if(not sep or not key, ValueError(f"expected option=value; got {item!r}"))
        try:
            options[key] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            options[key] = value  # a bare word, e.g. coupling=global
    return options


def _describe_model(model) -> None:
    """Print what ``jaxtherm models NAME`` says of a model: its Hilbert space and solver, its
    parameters (with units, domain and alias), observables and fluctuation observables."""
    from jaxtherm import solvers

    print(f"{model.name}: {model.description}")
    print(f"Hilbert space d = {model.dim}; solver auto → {solvers.Auto().plan(model).description}")
    print("\nparameters (fixed in [parameters] or swept in [axes]):")
    for p in model.parameter_info.values():
        alias = model.alias_of(p.name)
        domain = f" {alias.domain}" if alias and alias.domain != "real" else ""
        also = f"  (or {alias.name}{domain}: {alias.formula})" if alias else ""
        print(f"  {p.name:<14} {p.units:<22} {p.domain:<5} {p.description}{also}")
    print("\nobservables:")
    for name, (units, description) in model.observables.items():
        print(f"  {name:<14} {units:<22} {description}")
    print("\nwith [output] fluctuations = true (full counting statistics of each bath's heat):")
    try:
        model.check_counting()
    except ValueError as err:
        print(f"  not available: {err}")
        return
    for name, (units, description) in model.fluctuation_observables.items():
        print(f"  {name:<14} {units:<22} {description}")


def _optimize(args) -> int:
    from jaxtherm.sweep import load_spec
    from jaxtherm.sweep.optimization import run_optimization
    from jaxtherm.sweep.progress import Progress

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

    spec_path = _resolve_spec(args.spec, "studies")
    problem = _not_a_file(spec_path, "spec") or _unknown_spec(args.spec, spec_path, "studies")
    if problem:
        print(f"jaxtherm optimize: error: {problem}", file=sys.stderr)
        return EXIT_USAGE

    def run():
        summary = run_optimization(_load_spec(load_spec, spec_path), output=args.output, force=args.force,
                                   starts=args.starts, steps=args.steps, progress=progress)
        if bar is not None:
            bar.close()
        return summary

    return _design_command("optimize", spec_path, run, args.json)


def _fit(args) -> int:
    from jaxtherm.sweep import load_spec
    from jaxtherm.sweep.fit import run_fit

    if _missing("fit", "optimistix", "optimize"):
        return EXIT_USAGE
    if _not_a_file(Path(args.spec), "spec"):
        print(f"jaxtherm fit: error: {_not_a_file(Path(args.spec), 'spec')}", file=sys.stderr)
        return EXIT_USAGE

    def run():
        return run_fit(_load_spec(load_spec, Path(args.spec)), output=args.output, force=args.force, data=args.data)

    return _design_command("fit", args.spec, run, args.json)


def _design_command(name: str, spec_path, run, as_json: bool) -> int:
    """``jaxtherm optimize`` / ``fit`` once the arguments are checked: ``run()`` (the study, its
    file written), its summary printed (a table, or ``--json``), and every failure of the spec
    or the user's factory turned into exit 2 with one line."""
    import json

    from jaxtherm.sweep import RunRefused, SpecError

    try:
        summary = run()
    except (SystemExit, KeyboardInterrupt) as err:  # raised by a user's factory: its failure, not ours
        print(f"jaxtherm {name}: error: {spec_path}: {_factory_failure(err)}", file=sys.stderr)
        return EXIT_USAGE
    except (SpecError, RunRefused) as err:
        print(f"jaxtherm {name}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if as_json:
        print(json.dumps({**summary.result.summary(), "path": str(summary.path)}, indent=1))
    else:
        print(summary.table())
    return 0


def _info(args) -> int:
    import json

    from jaxtherm.io.read import ResultsError, format_info, info

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
    elif found:
        print("\n\n".join(format_info(d) for d in found))
    return status


def _plot(args) -> int:
    from jaxtherm.io.read import ResultsError

    if _missing("plot", "matplotlib", "analysis"):
        return EXIT_USAGE
    import matplotlib

    matplotlib.use("Agg")  # files only: works without a display (batch nodes, ssh)
    import matplotlib.pyplot

    from jaxtherm.cli.plot import default_output, plot

    out = Path(args.output) if args.output else default_output(args.path, args.observable, args.sel)
    if not out.suffix:  # matplotlib adds its default format's suffix: say where the image is
        out = out.with_name(out.name + "." + matplotlib.rcParams["savefig.format"])
    try:
        fig = plot(args.path, args.observable, x=args.x, y=args.y, sel=args.sel, output=out, dpi=args.dpi)
        matplotlib.pyplot.close(fig)  # written: the command keeps no figure (main() may run many in one process)
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
    except KeyboardInterrupt:  # Ctrl-C in a command that writes nothing worth reporting
        print("jaxtherm: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    from jaxtherm import _config

    _config.use_compilation_cache()  # a repeat run loads its kernels instead of compiling them
    _config.single_threaded_lapack()  # small LAPACK calls, one point after another
    if args.command == "run":
        # one device a core, before JAX starts: a large model's sweep uses them (not with --cluster:
        # the workers compute, this process only writes; a bad count is refused with the other arguments)
        if not args.cluster and not _cpu_devices_problem(args.cpu_devices):
            _config.split_cpu(args.cpu_devices)
        return _run(args, argv) if _in_main_thread() else _run_sweep(args, [])
    if args.command in ("optimize", "fit"):
        design = _optimize if args.command == "optimize" else _fit
        if not _in_main_thread():
            return design(args)
        with _CtrlC(lambda: f"jaxtherm {args.command}: interrupted; nothing was written"):
            return design(args)
    command = {"models": _models, "info": _info, "plot": _plot, "story": _story}.get(args.command)
    if command is None:
        parser.print_help()
        return 0
    return command(args)


def _story(args) -> int:
    from jaxtherm.cli.story import story_table

    print(story_table())
    return 0
