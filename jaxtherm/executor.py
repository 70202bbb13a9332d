"""The sweep executor: spec → chunks → compiled kernel → journal + HDF5, resumable.

One run:

1. check the output location, take an exclusive lock on ``<out>.lock`` (``fcntl.flock``: it is
   released by the OS when the process dies, so a killed run never blocks its ``--resume``; it
   does not lock across NFS clients);
2. decide, from the existing file and journal, whether to start, resume or refuse;
3. for every chunk still missing: pad it to the fixed chunk size (nothing recompiles), dispatch
   it to the device, and while it computes, journal and write the previous chunk;
4. mark the file complete, close it, and only then remove the journal.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import json
import os
import time
from pathlib import Path

import jax
import numpy as np

from . import __version__, grid, journal, tuning
from .batch import batched_kernel, gradient_name
from .io_hdf5 import BrokenFile, Layout, ResultsFile, Variable, file_state, h5py_version
from .observables import scalar_observables
from .parameters import DETUNING_MAPPING, check_names
from .progress import Progress
from .spec import SpecError, SweepSpec
from .steady_state import STATUS_MEANINGS

PARAMETER_INFO = {
    "omega_a": ("energy", "frequency of qubit A"),
    "omega_b": ("energy", "frequency of qubit B"),
    "delta": ("energy", f"detuning omega_a - omega_b ({DETUNING_MAPPING})"),
    "beta_a": ("1/energy", "inverse temperature of bath a"),
    "beta_b": ("1/energy", "inverse temperature of bath b"),
    "T_a": ("energy", "temperature of bath a (beta_a = 1/T_a)"),
    "T_b": ("energy", "temperature of bath b (beta_b = 1/T_b)"),
    "gamma_a": ("energy", "thermalizer rate Γ of qubit A (down rate Γ, up rate Γ e^{-βω})"),
    "gamma_b": ("energy", "thermalizer rate Γ of qubit B"),
    "epsilon": ("energy", "coupling strength ε"),
}


class RunRefused(Exception):
    """The run would overwrite, clash with another writer, or cannot use the device."""


@dataclasses.dataclass(frozen=True)
class RunSummary:
    path: Path
    points: int
    computed: int
    failed: int
    seconds: float
    resumed_chunks: int
    compile_seconds: float = 0.0
    sweep_seconds: float = 0.0
    chunk_size: int = 0
    devices: int = 1

    @property
    def points_per_second(self) -> float:
        """Sustained throughput: points computed and written per second of the sweep loop
        (compile time excluded)."""
        return self.computed / self.sweep_seconds if self.sweep_seconds > 0 else float("nan")

    def __str__(self) -> str:
        resumed = f", {self.resumed_chunks} chunk(s) taken from the journal" if self.resumed_chunks else ""
        devices = f" on {self.devices} devices" if self.devices > 1 else ""
        return (f"{self.points:,} points ({self.computed:,} computed now{resumed}), {self.failed:,} failed; "
                f"compile {self.compile_seconds:.2f} s, sweep {self.sweep_seconds:.2f} s "
                f"({self.points_per_second:,.0f} points/s, chunks of {self.chunk_size:,}{devices}) -> {self.path}")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _check_output(spec: SweepSpec, out: Path, key: str) -> None:
    if out.exists() and out.is_dir():
        raise SpecError(spec.source, key, f"expected a file path; {out} is a directory")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SpecError(spec.source, key, f"expected a writable location; cannot create {out.parent} ({err.strerror})") from None
    if not os.access(out.parent, os.W_OK):
        raise SpecError(spec.source, key, f"expected a writable location; {out.parent} is not writable")


@contextlib.contextmanager
def _exclusive_lock(out: Path):
    lock_path = out.with_name(out.name + ".lock")
    fh = open(lock_path, "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise RunRefused(f"{out} is being written by another jaxtherm run (lock {lock_path} is held); "
                         "wait for it to finish or write elsewhere with -o") from None
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()
        with contextlib.suppress(OSError):
            lock_path.unlink()


def _devices(kind: str | None) -> list:
    try:
        return tuning.devices(kind)
    except RuntimeError as err:
        raise RunRefused(f"--device {kind}: no {kind.upper()} visible to JAX ({err}); "
                         "install jaxtherm[gpu] on a machine with a CUDA GPU, or use --device cpu") from None


def layout_for(spec: SweepSpec, n_chunks: int, attrs: dict) -> Layout:
    """The HDF5 layout of a sweep."""
    model = spec.models()[0]
    coords = {}
    if spec.coupling_axis:
        coords["coupling"] = (np.asarray(spec.couplings), "", "how the two qubits are coupled (DESIGN.md §2)")
    for a in spec.axes:
        units, description = PARAMETER_INFO.get(a.name, ("", a.name))
        coords[a.name] = (a.values, units, f"{description}; axis {a.rule}")
    observables = scalar_observables(model)
    dt = spec.dtype
    variables = [Variable(n, dt, u, d) for n, (u, d) in observables.items()]
    for g in spec.gradients:
        gu = PARAMETER_INFO.get(g, ("", ""))[0]
        for n, (u, d) in observables.items():
            variables.append(Variable(gradient_name(n, g), dt, f"({u})/({gu})", f"derivative of {n} with respect to {g} (autodiff)"))
    variables.append(Variable("status", "int8", "", "0 = ok; " + "; ".join(f"{k} = {v}" for k, v in STATUS_MEANINGS.items() if k) + "; -1 = not computed"))
    variables.append(Variable("residual", dt, "1", "relative residual ‖L ρ‖∞ / (‖L‖∞ ‖ρ‖∞) of the steady state"))
    if spec.save_rho:
        d = model.dim
        extra = (("row", d), ("col", d))
        variables.append(Variable("rho_re", dt, "1", "real part of the steady state ρ (basis |n_a n_b⟩, index 2 n_a + n_b)", extra))
        variables.append(Variable("rho_im", dt, "1", "imaginary part of the steady state ρ", extra))
    scalars = {k: (v, *PARAMETER_INFO.get(k, ("", k))) for k, v in spec.fixed.items()}
    return Layout(spec.dims, coords, tuple(variables), scalars, attrs, n_chunks, spec.compression)


def _host_outputs(out: dict, size: int, save_rho: bool, dtype: str) -> dict[str, np.ndarray]:
    host = {}
    for k, v in out.items():
        a = np.asarray(v[:size])
        if k == "rho":
            if save_rho:
                host["rho_re"], host["rho_im"] = a.real.astype(dtype), a.imag.astype(dtype)
        elif k == "status":
            host[k] = a
        else:
            host[k] = a.astype(dtype, copy=False)
    return host


def run_sweep(
    spec: SweepSpec,
    *,
    output: str | os.PathLike | None = None,
    chunk_size: int | None = None,
    resume: bool = False,
    force: bool = False,
    device: str | None = None,
    solver: str | None = None,
    progress: bool = True,
    stream=None,
) -> RunSummary:
    """Run a sweep into its HDF5 file (see module docstring).

    Raises:
        SpecError: unwritable output path.
        RunRefused: existing complete/unfinished file without ``--force``/``--resume``, another
            writer, a journal from another spec, or a missing device.
    """
    out = Path(output) if output is not None else spec.output
    solver = solver or spec.solver
    key = "-o" if output is not None else "output.path"
    _check_output(spec, out, key)
    devs = _devices(device)
    platform = devs[0].platform
    models = spec.models()
    names = check_names(models[0], [*spec.fixed, *(a.name for a in spec.axes)])
    dtype = np.dtype(spec.dtype)

    def kernel(model):
        return batched_kernel(model, names, spec.gradients, dtype, solver, spec.save_rho)

    with _exclusive_lock(out):
        meta = journal.load_meta(out)
        complete, _ = file_state(out) if out.exists() else (None, None)
        if force:
            journal.remove(out)
            with contextlib.suppress(FileNotFoundError):
                out.unlink()
            meta, complete = None, None
        elif resume:
            if meta is None and complete:
                raise RunRefused(f"{out} already holds a complete sweep; nothing to resume (use --force to recompute)")
            if meta is not None and meta.get("spec") != spec.text:
                raise RunRefused(f"{out}: its journal was made by a different spec; resume with the same spec, "
                                 "or start over with --force")
            if meta is not None and meta.get("solver", solver) != solver:
                raise RunRefused(f"{out} was started with --solver {meta['solver']}; resume with the same solver "
                                 "so that the file holds one kind of result")
            if meta is not None and chunk_size is not None and chunk_size != meta["chunk_size"]:
                raise RunRefused(f"{out} was started with --chunk-size {meta['chunk_size']}; resume with the same "
                                 "chunk size (or none) so the chunks line up")
        elif complete:
            raise RunRefused(f"{out} already holds a complete sweep; use --force to overwrite it or -o for another file")
        elif meta is not None or out.exists():
            raise RunRefused(f"{out} holds an unfinished sweep; use --resume to complete it or --force to start over")

        t_compile = time.perf_counter()
        if meta is not None:
            size = int(meta["chunk_size"])
        elif chunk_size or spec.chunk_size:
            size = min(chunk_size or spec.chunk_size, max(spec.points_per_model, 1))
        else:
            per_point = tuning.bytes_per_point(kernel(models[0]), len(names), dtype, devs)
            row = int(np.prod(spec.axis_shape[1:], dtype=np.int64)) if len(spec.axes) > 1 else 1
            size = tuning.auto_chunk_size(per_point, platform, len(devs), max(spec.points_per_model, 1), row)
        padded = tuning.padded_chunk(size, len(devs))
        compiled = {}
        for m, model in enumerate(models):
            compiled[m], _ = tuning.compile_kernel(kernel(model), len(names), padded, dtype, devs)
        compile_seconds = time.perf_counter() - t_compile
        all_chunks = grid.chunks(spec, size)
        if meta is None:
            meta = {"spec": spec.text, "source": spec.source, "chunk_size": size, "n_chunks": len(all_chunks),
                    "solver": solver,
                    "start_time": _now(), "jaxtherm_version": __version__}
            journal.create(out, meta)
        attrs = {
            "title": f"jaxtherm sweep {spec.source}",
            "spec": spec.text,
            "spec_source": spec.source,
            "model": spec.model,
            "couplings": json.dumps(list(spec.couplings)),
            "parameter_mapping": f"beta_x = 1/T_x; {DETUNING_MAPPING}",
            "units": "hbar = k_B = 1; J and power in energy/time, sigma in 1/time",
            "sign_convention": "J_j > 0: heat flows from bath j into the system; sum_j J_j + power = 0; sigma = -sum_j beta_j J_j",
            "jaxtherm_version": __version__,
            "jax_version": jax.__version__,
            "h5py_version": h5py_version(),
            "numpy_version": np.__version__,
            "device": ", ".join(str(d) for d in devs),
            "precision": spec.dtype,
            "solver": solver,
            "chunk_size": size,
            "start_time": meta["start_time"],
        }
        layout = layout_for(spec, len(all_chunks), attrs)
        t0 = time.perf_counter()
        h5 = None
        if out.exists():
            with contextlib.suppress(BrokenFile):
                h5 = ResultsFile.open(out, layout)
        if h5 is None:
            h5 = ResultsFile.create(out, layout)
        try:
            done = set()
            failed = 0
            for chunk_id, arrays in journal.chunks(out):  # the journal, not the HDF5, is the record
                c = all_chunks[chunk_id]
                h5.write(_regions(spec, c), arrays)
                h5.mark_done(chunk_id)
                done.add(chunk_id)
                failed += int(np.count_nonzero(arrays["status"]))
            todo = [c for c in all_chunks if c.id not in done]
            computed = sum(c.size for c in todo)
            bar = Progress(computed, stream=stream, enabled=progress, label=out.name)
            pending = None

            def finish(item) -> int:
                """Journal and write a computed chunk; returns its number of failed points."""
                chunk, result = item
                host = _host_outputs(result, chunk.size, spec.save_rho, spec.dtype)
                journal.write_chunk(out, chunk.id, host)
                h5.write(_regions(spec, chunk), host)
                h5.mark_done(chunk.id)
                bar.update(chunk.size)
                return int(np.count_nonzero(host["status"]))

            t_loop = time.perf_counter()
            for chunk in todo:
                inputs = grid.chunk_inputs(spec, chunk, names)
                args = [np.concatenate([inputs[n], np.repeat(inputs[n][-1:], padded - chunk.size)]).astype(dtype)
                        for n in names]
                result = compiled[chunk.model_index](*tuning.place(args, devs))  # dispatched asynchronously
                if pending is not None:
                    failed += finish(pending)
                pending = (chunk, result)
            if pending is not None:
                failed += finish(pending)
            loop_seconds = time.perf_counter() - t_loop
            bar.close()
            h5.finish({"end_time": _now(), "n_points": spec.n_points, "n_failed": failed,
                       "resumed_chunks": len(done), "compile_seconds": round(compile_seconds, 3),
                       "sweep_seconds": round(loop_seconds, 3)})
        finally:
            h5.close()
        journal.remove(out)
    return RunSummary(out, spec.n_points, computed, failed, time.perf_counter() - t0, len(done),
                      compile_seconds, loop_seconds, size, len(devs))


def _regions(spec: SweepSpec, chunk: grid.Chunk):
    """Boxes of the results grid that hold ``chunk`` (the coupling index first, if any)."""
    shape = spec.axis_shape
    regions = grid.grid_regions(shape, chunk.start, chunk.stop) if shape else [((), slice(0, 1))]
    if spec.coupling_axis:
        m = chunk.model_index
        regions = [((slice(m, m + 1), *box), part) for box, part in regions]
    return regions
