"""Nothing lost, nothing hangs, Ctrl-C answers (issue 30): classes of bad output files, paths
and specs end in exit 2 with one line and leave what was there byte for byte; ``--force`` keeps
the old file until the new sweep is complete, also when killed; damaged journal chunks are
computed again, never copied in; a truncated results file is refused at once and rebuilt from
its journal; SIGINT during compile and compute exits 130 with what is safe and the command that
continues, which then gives the file of an uninterrupted run."""

import io
import json
import os
import shlex
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from jaxtherm.cli import commands as cli
from jaxtherm.io import journal
from jaxtherm.sweep import grid, parse_spec, run_sweep
from tests.helpers import finished_chunks
from tests.test_user_models import FACTORY

TINY = """
[model]
coupling = "incoherent"
[parameters]
omega_a = 1.0
omega_b = 1.0
gamma_a = 1.0
gamma_b = 1.0
T_a = 2.0
[axes]
T_b = { linspace = [0.2, 2.0, 6] }
epsilon = { logspace = [-3, 1, 5] }
[output]
gradients = ["T_b"]
[run]
chunk_size = 4
"""  # 30 points, 8 chunks

# a sweep of 120 chunks of ~10-30 ms each: long enough to be interrupted midway
SLOW = """
[model]
coupling = "global"
[parameters]
omega_a = 1.0
omega_b = 1.2
beta_a = 0.5
gamma_a = 0.3
gamma_b = 0.6
[axes]
beta_b = { linspace = [0.2, 3.0, 300] }
epsilon = { logspace = [-3, 0, 200] }
[output]
gradients = ["epsilon", "beta_b", "gamma_a"]
fluctuations = true
[run]
chunk_size = 500
"""


def read_all(path):
    """Every dataset of a results file (strings decoded)."""
    out = {}
    with h5py.File(path, "r") as h5:
        for k, ds in h5.items():
            if isinstance(ds, h5py.Dataset):
                out[k] = ds.asstr()[()] if ds.dtype.kind == "O" else ds[()]
    return out


def assert_same_data(a, b):
    da, db = read_all(a), read_all(b)
    assert da.keys() == db.keys()
    for k in da:
        assert np.asarray(da[k]).tobytes() == np.asarray(db[k]).tobytes(), k  # bitwise


def cli_main(capsys, *args):
    """``jaxtherm ARGS`` in this process: (exit status, stdout, stderr)."""
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def jaxtherm(*args, env=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "jaxtherm", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout)


# `python -m jaxtherm` with Ctrl-C as in a terminal: a test runner's worker may ignore SIGINT, and
# its children inherit that (jaxtherm leaves an ignored SIGINT ignored, as nohup asks)
AS_IN_A_TERMINAL = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                    "sys.argv[0] = 'jaxtherm'; runpy.run_module('jaxtherm', run_name='__main__', alter_sys=True)")


def start(*args, env=None):
    return subprocess.Popen([sys.executable, "-c", AS_IN_A_TERMINAL, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_for(condition, timeout=180.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.005)


def one_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    return lines[0]


def snapshot(folder):
    """Every entry of ``folder`` with its bytes (files) or kind."""
    out = {}
    for name in sorted(os.listdir(folder)):
        p = folder / name
        out[name] = p.read_bytes() if p.is_file() and not p.is_fifo() else ("fifo" if p.is_fifo() else "dir")
    return out


def _spec_and_reference(tmp_path_factory, name: str, text: str):
    """A spec file ``name.toml`` of ``text`` and its uninterrupted result ``ref.h5``."""
    d = tmp_path_factory.mktemp(name)
    spec = d / f"{name}.toml"
    spec.write_text(text)
    ref = d / "ref.h5"
    run_sweep(parse_spec(text, str(spec)), output=ref, progress=False)
    return spec, ref


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The TINY spec file and its uninterrupted result."""
    return _spec_and_reference(tmp_path_factory, "tiny", TINY)


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    """The SLOW spec file and its uninterrupted result (its kernel then sits in the compilation cache)."""
    return _spec_and_reference(tmp_path_factory, "slow", SLOW)


# --- classes of existing output files that a run must not touch ---------------------------------


def _h5(path, **datasets):
    with h5py.File(path, "w") as h5:
        for k, v in datasets.items():
            h5[k] = v


def _optimisation_file(path, tiny):
    """What ``jaxtherm optimize`` writes, as far as the runner can tell."""
    with h5py.File(path, "w") as h5:
        h5["status"] = np.zeros(4, np.int8)
        h5["_jaxtherm/chunk_done"] = np.ones(1, np.uint8)
        h5.attrs.update(title="jaxtherm optimisation study.toml", spec=TINY, complete=1)


def _complete_other(path, tiny):
    run_sweep(parse_spec(TINY.replace('gradients = ["T_b"]', "gradients = []"), "other.toml"), output=path,
              progress=False)


def _truncated(path, tiny):
    path.write_bytes(tiny[1].read_bytes()[:3000])


def _random(path, tiny):
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 5000, dtype=np.uint8).tobytes())


EXISTING = {
    "text": lambda p, t: p.write_text("my notes\n"),
    "utf16-text": lambda p, t: p.write_bytes("my notes".encode("utf-16")),
    "random-bytes": _random,
    "zeros": lambda p, t: p.write_bytes(bytes(4096)),
    "empty": lambda p, t: p.write_bytes(b""),
    "hdf5-signature-then-garbage": lambda p, t: p.write_bytes(b"\x89HDF\r\n\x1a\n" + b"garbage" * 100),
    "foreign-hdf5": lambda p, t: _h5(p, x=np.arange(3.0)),
    "hdf5-with-only-status": lambda p, t: _h5(p, status=np.zeros((6, 5), np.int8)),
    "jaxtherm-optimisation-file": _optimisation_file,
    "truncated-sweep-without-journal": _truncated,
    "complete-sweep-of-another-spec": _complete_other,
}
NOT_SWEEPS = {"text", "utf16-text", "random-bytes", "zeros", "empty", "hdf5-signature-then-garbage", "foreign-hdf5",
              "hdf5-with-only-status", "jaxtherm-optimisation-file"}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", list(EXISTING))
def test_run_and_resume_refuse_a_file_that_is_not_an_unfinished_sweep_and_leave_it_byte_identical(
        tmp_path, capsys, tiny, kind):
    out = tmp_path / "notes.h5"
    EXISTING[kind](out, tiny)
    before = snapshot(tmp_path)
    for flags in ([], ["--resume"]):
        code, _, err = cli_main(capsys, "run", tiny[0], "-o", out, "-q", *flags)
        line = one_line(err)
        assert code == 2, (flags, err)
        assert str(out) in line
        if kind in NOT_SWEEPS:
            assert "--resume" not in line, line  # no advice to resume what is not a sweep
            assert "not a jaxtherm sweep file" in line or "not a readable jaxtherm results file" in line, line
        if kind == "truncated-sweep-without-journal":
            assert "not a readable jaxtherm results file" in line and "no journal" in line
        if kind == "complete-sweep-of-another-spec":
            assert "complete sweep" in line
        assert snapshot(tmp_path) == before, flags  # byte for byte, and no lock, journal or staging file left


@pytest.mark.timeout(120)
def test_output_paths_that_cannot_hold_a_results_file_exit_2_with_one_line(tmp_path, capsys, tiny):
    spec = tiny[0]
    fifo = tmp_path / "pipe.h5"
    os.mkfifo(fifo)
    (tmp_path / "dir.h5").mkdir()
    (tmp_path / "locked.h5.lock").mkdir()  # the lock path is a directory
    cases = {
        "/dev/null": "character device",
        str(fifo): "FIFO",
        str(tmp_path / "dir.h5"): "directory",
        str(tmp_path / "locked.h5"): "lock",
        "/proc/x.h5": "/proc/x.h5",
        str(tmp_path / ("x" * 300 + ".h5")): "file name of at most",
        str(tmp_path / ("y" * 250 + ".h5")): "file name of at most",  # fits alone, not with .partial.journal
    }
    before = snapshot(tmp_path)
    for path, expected in cases.items():
        for flags in ([], ["--resume"], ["--force"]):
            code, _, err = cli_main(capsys, "run", spec, "-o", path, "-q", *flags)
            line = one_line(err)
            assert code == 2 and expected in line, (path, flags, line)
            assert "use --resume" not in line
    assert snapshot(tmp_path) == before
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_a_spec_that_is_no_regular_file_is_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "spec.toml"
    os.mkfifo(fifo)  # nobody writes it: reading would block forever
    t = time.monotonic()
    res = jaxtherm("run", fifo, "-q", timeout=60)
    assert res.returncode == 2 and "FIFO" in one_line(res.stderr) and str(fifo) in res.stderr
    assert time.monotonic() - t < 30
    for command in ("run", "optimize", "fit"):
        code, _, err = cli_main(capsys, command, tmp_path, *(["-q"] if command != "fit" else []))
        assert code == 2 and "directory" in one_line(err), (command, err)


# --- factories ------------------------------------------------------------------------------------

MODEL_SPEC = """
[model]
factory = "{factory}"
[parameters]
omega = 1.0
T_c = 0.5
gamma_h = 0.2
gamma_c = 0.3
[axes]
T_h = {{ linspace = [0.5, 3.0, 5] }}
"""

BROKEN_FACTORIES = {
    "exit_at_import.py": "import sys\nsys.exit(3)\n",
    "interrupt_at_import.py": "raise KeyboardInterrupt\n",
    "exit_in_factory.py": "import sys\ndef f(**kw):\n    sys.exit(4)\n",
    "interrupt_in_factory.py": "def f(**kw):\n    raise KeyboardInterrupt('user code')\n",
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", list(BROKEN_FACTORIES))
def test_a_factory_that_exits_or_raises_keyboardinterrupt_is_reported_as_its_failure(tmp_path, capsys, name):
    (tmp_path / name).write_text(BROKEN_FACTORIES[name])
    spec = tmp_path / "spec.toml"
    spec.write_text(MODEL_SPEC.format(factory=f"{name}:f"))
    code, _, err = cli_main(capsys, "run", spec, "-o", tmp_path / "out.h5", "-q")
    line = one_line(err)
    assert code == 2 and "model.factory" in line and name in line, line
    assert ("SystemExit" in line) == ("exit" in name)
    assert not (tmp_path / "out.h5").exists()


COMPILE_FAILS = FACTORY + '''

def float_coefficient(**kw):
    """A coefficient that JAX cannot trace: fails when the kernel is compiled."""
    good = qubit_between()
    term = jaxtherm.Term(lambda p: float(p["omega"]), num(2), "omega n")
    return jaxtherm.Model("float_coefficient", 2, good.parameters, (term,), good.dissipators, good.baths,
                          good.expectations)
'''


@pytest.mark.timeout(180)
def test_force_with_a_model_that_fails_to_compile_leaves_the_old_file(tmp_path, capsys):
    (tmp_path / "my_models.py").write_text(COMPILE_FAILS)
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(MODEL_SPEC.format(factory="my_models.py:qubit_between"))
    bad.write_text(MODEL_SPEC.format(factory="my_models.py:float_coefficient"))
    out = tmp_path / "out.h5"
    assert cli_main(capsys, "run", good, "-o", out, "-q")[0] == 0
    before = snapshot(tmp_path)
    code, _, err = cli_main(capsys, "run", bad, "-o", out, "-q", "--force")
    line = one_line(err)
    assert code == 2 and "model.factory" in line and "cannot be compiled" in line, line
    assert snapshot(tmp_path) == before  # the old file byte for byte; no staging file or journal left


# --- --force is atomic; kills and Ctrl-C ---------------------------------------------------------


@pytest.mark.timeout(400)
def test_force_killed_midway_keeps_the_old_file_and_resume_completes_it(tmp_path, tiny, slow):
    spec, ref = slow
    out = tmp_path / "out.h5"
    run_sweep(parse_spec(TINY, str(tiny[0])), output=out, progress=False)  # an old, complete file
    old = out.read_bytes()
    staged = tmp_path / "out.h5.partial"
    proc = start("run", spec, "-o", out, "-q", "--force")
    wait_for(lambda: finished_chunks(staged) >= 3 or proc.poll() is not None)
    proc.kill()
    proc.wait()
    assert finished_chunks(staged) < 120, "the run must be killed midway"
    assert out.read_bytes() == old  # untouched while the new sweep ran, and after it was killed
    refused = jaxtherm("run", spec, "-o", out, "-q")
    assert refused.returncode == 2 and "--resume" in one_line(refused.stderr) and "--force" in refused.stderr
    assert out.read_bytes() == old
    done = jaxtherm("run", spec, "-o", out, "-q", "--resume")
    assert done.returncode == 0, done.stderr
    assert "kept from the interrupted run" in done.stdout
    assert_same_data(out, ref)
    assert sorted(os.listdir(tmp_path)) == ["out.h5"]  # no staging file, journal or lock left


@pytest.mark.timeout(400)
def test_sigint_during_compute_exits_130_at_once_and_resume_equals_an_uninterrupted_run(tmp_path, slow):
    spec, ref = slow
    out = tmp_path / "out.h5"
    proc = start("run", spec, "-o", out, "-q")
    wait_for(lambda: finished_chunks(out) >= 3 or proc.poll() is not None)
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    seconds = time.monotonic() - t
    assert proc.returncode == 130, err
    assert seconds < 3.0, seconds  # not after the chunk, the file or the interpreter's teardown
    line = one_line(err)
    safe = finished_chunks(out)
    assert 3 <= safe < 120
    assert f"{safe} of 120 chunk(s) are safe" in line, line
    command = line.split("Continue with: ")[1]
    assert command == shlex.join(["jaxtherm", "run", str(spec), "-o", str(out), "-q", "--resume"])
    assert not (tmp_path / "out.h5.lock").exists()
    done = jaxtherm(*shlex.split(command)[1:])
    assert done.returncode == 0, done.stderr
    assert f"{safe} chunk(s) kept from the interrupted run" in done.stdout
    assert_same_data(out, ref)


@pytest.mark.timeout(300)
def test_sigint_during_compile_exits_130_at_once_without_traceback(tmp_path, tiny):
    spec, ref = tiny
    out = tmp_path / "out.h5"
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=str(tmp_path / "cold-cache"))  # a cold compile: seconds
    proc = start("run", spec, "-o", out, "-q", env=env)
    wait_for(lambda: (tmp_path / "out.h5.lock").exists() or proc.poll() is not None)
    time.sleep(0.3)  # inside the compile (XLA's C++ code, which Python's own handler waits for)
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    seconds = time.monotonic() - t
    assert proc.returncode == 130, err
    assert seconds < 3.0, seconds
    line = one_line(err)
    assert "0 chunk(s) are safe" in line and line.endswith("--resume"), line
    assert not out.exists() and journal.count(out) == 0
    done = jaxtherm(*shlex.split(line.split("Continue with: ")[1])[1:])
    assert done.returncode == 0, done.stderr
    assert_same_data(out, ref)


# --- damaged journals and results files -------------------------------------------------------------


def _journal_from(ref, spec_text, source, out, chunk_size):
    """A journal for ``out`` holding every chunk of the complete file ``ref`` (as a killed run leaves it)."""
    spec = parse_spec(spec_text, source)
    chunks = grid.chunks(spec, chunk_size)
    journal.create(out, {"spec": spec_text, "source": source, "chunk_size": chunk_size, "n_chunks": len(chunks),
                         "start_time": "2026-01-01T00:00:00+00:00"})
    data = {k: v for k, v in read_all(ref).items() if np.shape(v)[: len(spec.shape)] == spec.shape}
    flat = {k: v.reshape(spec.n_points, *v.shape[len(spec.shape):]) for k, v in data.items()}
    per_chunk = {c.id: {k: v[c.start:c.stop] for k, v in flat.items()} for c in chunks}
    for c in chunks:
        journal.write_chunk(out, c.id, per_chunk[c.id], (c.model_index, c.start, c.stop))
    return chunks, per_chunk


@pytest.mark.timeout(180)
def test_bad_journal_chunks_are_named_and_computed_again_never_copied_in(tmp_path, tiny):
    spec_path, ref = tiny
    out = tmp_path / "out.h5"
    chunks, per_chunk = _journal_from(ref, TINY, str(spec_path), out, 4)
    jdir = journal.journal_dir(out)

    def path(i, ext="npy"):
        return jdir / f"chunk_{i:09d}.{ext}"

    path(1).write_bytes(path(1).read_bytes()[:-100])  # truncated
    path(2).write_bytes(np.random.default_rng(2).integers(0, 256, 3000, dtype=np.uint8).tobytes())  # garbage
    nan = {k: (np.full_like(v, np.nan) if v.dtype.kind == "f" else v) for k, v in per_chunk[3].items()}
    journal.write_chunk(out, 3, nan, (0, 12, 16))  # NaN where status says ok, with a valid checksum
    flipped = bytearray(path(4).read_bytes())
    flipped[-176 - 3] ^= 0x40  # one bit in the data of the last array (before the 176-byte header record)
    path(4).write_bytes(bytes(flipped))
    journal.write_chunk(out, 5, per_chunk[6], (0, 24, 28))  # another chunk's points
    path(6).unlink()
    np.savez(path(6, "npz"), **per_chunk[6])  # an earlier version's record: valid, used
    journal.write_chunk(out, 99, per_chunk[0], (0, 0, 4))  # a chunk the sweep does not have
    (jdir / "chunk_x.npy").write_bytes(b"?")  # not a chunk's name
    stream = io.StringIO()
    summary = run_sweep(parse_spec(TINY, str(spec_path)), output=out, progress=False, resume=True, stream=stream)
    assert summary.resumed_chunks == 3  # chunks 0, 6 (npz) and 7
    assert summary.computed == 5 * 4
    warnings = stream.getvalue()
    for i in (1, 2, 3, 4, 5, 99):
        assert f"chunk_{i:09d}.npy" in warnings, (i, warnings)
    assert "chunk_x.npy" in warnings
    assert "NaN" in warnings and "checksum mismatch" in warnings and "points [24, 28)" in warnings
    assert len(summary.warnings) == 7
    assert_same_data(out, ref)
    assert not jdir.exists()


@pytest.mark.timeout(180)
def test_a_meta_json_edited_to_another_chunk_size_writes_no_other_points_values(tmp_path, tiny):
    spec_path, ref = tiny
    out = tmp_path / "out.h5"
    _journal_from(ref, TINY, str(spec_path), out, 4)
    meta_path = journal.journal_dir(out) / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["chunk_size"] = 5
    meta_path.write_text(json.dumps(meta))
    stream = io.StringIO()
    summary = run_sweep(parse_spec(TINY, str(spec_path)), output=out, progress=False, resume=True, stream=stream)
    assert summary.chunk_size == 5 and summary.resumed_chunks == 0 and summary.computed == 30
    assert "another chunk size" in stream.getvalue()
    assert_same_data(out, ref)


@pytest.mark.timeout(400)
def test_a_truncated_file_is_refused_at_once_and_resume_rebuilds_it_from_its_journal(tmp_path, capsys, slow):
    spec, ref = slow
    out = tmp_path / "out.h5"
    proc = start("run", spec, "-o", out, "-q")
    wait_for(lambda: finished_chunks(out) >= 3 or proc.poll() is not None)
    proc.kill()
    proc.wait()
    assert 3 <= finished_chunks(out) < 120
    safe = journal.count(out)  # the chunks not yet committed: truncating the file loses the others
    with open(out, "r+b") as fh:
        fh.truncate(4000)
    for args in (["info", out], ["info", "--json", out], ["plot", out, "J_a", "-o", tmp_path / "J_a.png"]):
        t = time.monotonic()
        code, _, err = cli_main(capsys, *args)
        assert time.monotonic() - t < 10
        line = one_line(err)
        assert code == 2 and "not a readable jaxtherm results file" in line and str(out) in line, line
    assert not (tmp_path / "J_a.png").exists()
    # the spec gained a comment since: the same sweep, not "another spec"
    commented = tmp_path / "slow.toml"
    commented.write_text("# the same sweep, annotated\n" + SLOW.replace("[run]", "[run]  # chunks\n"))
    done = jaxtherm("run", commented, "-o", out, "-q", "--resume")
    assert done.returncode == 0, done.stderr
    assert (f"{safe} chunk(s) kept from the interrupted run" in done.stdout) == (safe > 0), done.stdout
    assert_same_data(out, ref)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("size", [0, 48, 100, 2048, 4000, 8000])
def test_info_and_plot_of_a_truncated_file_exit_2_naming_it(tmp_path, capsys, tiny, size):
    out = tmp_path / "cut.h5"
    out.write_bytes(tiny[1].read_bytes()[:size])
    before = out.read_bytes()
    for args in (["info", out], ["info", "--json", out], ["plot", out, "J_a", "-o", tmp_path / "p.png"]):
        code, stdout, err = cli_main(capsys, *args)
        line = one_line(err)
        assert code == 2 and str(out) in line, line
        assert stdout == ""
    assert out.read_bytes() == before


# --- progress ---------------------------------------------------------------------------------------


@pytest.mark.timeout(180)
def test_the_compile_is_announced_and_progress_shows_before_the_first_chunk(tmp_path):
    text = TINY.replace("linspace = [0.2, 2.0, 6]", "linspace = [0.2, 2.0, 40]").replace(
        "logspace = [-3, 1, 5]", "logspace = [-3, 1, 25]").replace("chunk_size = 4", "")
    stream = io.StringIO()
    summary = run_sweep(parse_spec(text, "p.toml"), output=tmp_path / "p.h5", stream=stream)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("compiling the kernel of qubit_pair")
    assert " 0.0% 0/1,000 points" in lines[1]  # before any chunk is done
    # the automatic chunk is at most a tenth of the grid (rounded to whole rows of 25 points)
    assert summary.chunk_size <= 125 and summary.chunk_size % 25 == 0


@pytest.mark.timeout(60)
def test_info_and_plot_of_a_fifo_or_directory_exit_2_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "pipe.h5"
    os.mkfifo(fifo)
    for path in (fifo, tmp_path):
        for args in (["info", path], ["plot", path, "J_a", "-o", tmp_path / "p.png"]):
            code, _, err = cli_main(capsys, *args)
            assert code == 2 and str(path) in one_line(err), (args, err)


def test_data_tables_that_are_not_tables_are_refused_by_name(tmp_path):
    from jaxtherm.io.tables import TableError, read_table

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    cases = {
        "empty.csv": ("", "header row"),
        "header_only.csv": ("T_h,J_h\n", "there are none"),
        "twice.csv": ("T_h,J_h,J_h\n1,2,3\n", "'J_h' appears 2 times"),
    }
    for name, (text, expected) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(TableError, match=expected) as err:
            read_table(tmp_path / name)
        assert str(tmp_path / name) in str(err.value)
    with pytest.raises(TableError, match="FIFO"):
        read_table(fifo)
    with pytest.raises(TableError, match="directory"):
        read_table(tmp_path)


@pytest.mark.timeout(120)
def test_force_through_a_symlink_replaces_the_file_it_points_to(tmp_path, tiny):
    spec, ref = tiny
    real = tmp_path / "data" / "real.h5"
    real.parent.mkdir()
    real.write_text("old notes")
    link = tmp_path / "link.h5"
    link.symlink_to(real)
    run_sweep(parse_spec(TINY, str(spec)), output=link, progress=False, force=True)
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert_same_data(real, ref)
    assert sorted(os.listdir(real.parent)) == ["real.h5"]


SPEC_BYTES = {
    "latin-1": '[model]\ncoupling = "locél"\n'.encode("latin-1"),
    "utf-16": TINY.encode("utf-16"),
    "random-bytes": np.random.default_rng(3).integers(0, 256, 2000, dtype=np.uint8).tobytes(),
    "nested-50000-deep": ("a = " + "[" * 50_000 + "]" * 50_000).encode(),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", list(SPEC_BYTES))
def test_a_spec_that_is_not_utf8_toml_exits_2_naming_it(tmp_path, capsys, kind):
    spec = tmp_path / "spec.toml"
    spec.write_bytes(SPEC_BYTES[kind])
    for command in ("run", "optimize", "fit"):
        code, _, err = cli_main(capsys, command, spec, "-o", tmp_path / "out.h5")
        line = one_line(err)
        assert code == 2 and line.startswith(f"jaxtherm {command}: error: {spec}: "), line
    assert sorted(os.listdir(tmp_path)) == ["spec.toml"]


@pytest.mark.timeout(120)
def test_plot_options_are_checked_and_the_written_file_is_named(tmp_path, capsys, tiny):
    ref = tiny[1]
    for args, expected in ((["--dpi", "0"], "--dpi"), (["--dpi", "100000"], "--dpi"),
                           (["--x", "T_b", "--y", "T_b"], "T_b")):
        code, _, err = cli_main(capsys, "plot", ref, "J_a", "-o", tmp_path / "p.png", *args)
        line = one_line(err)
        assert code == 2 and expected in line and "-o" not in line, line  # not blamed on the output
    code, out, _ = cli_main(capsys, "plot", ref, "J_a", "-o", tmp_path / "fig")
    assert code == 0 and out.strip() == f"wrote {tmp_path / 'fig.png'}"
    assert (tmp_path / "fig.png").is_file() and not (tmp_path / "fig").exists()


def test_a_failed_whole_file_write_leaves_the_old_file_as_it_was(tmp_path):
    """Optimisation and fit results are written beside their path and renamed over it only when
    complete (``ResultsFile.write_whole``): a write that fails half-way (here an array of the wrong
    shape) leaves the file that was there byte-identical, and no staging file behind."""
    from jaxtherm.io.hdf5 import Layout, ResultsFile, Variable

    out = tmp_path / "opt.h5"
    layout = Layout(dims=("start",), coords={"start": (np.arange(4), "", "start")},
                    variables=(Variable("x", "float64", "", "a value"), Variable("status", "int8", "", "status")),
                    scalars={}, attrs={"title": "t"}, n_chunks=1)
    ResultsFile.write_whole(out, layout, {"x": np.arange(4.0), "status": np.zeros(4, np.int8)}, {})
    before = out.read_bytes()
    with pytest.raises(Exception):  # noqa: B017  (h5py's error for a shape mismatch)
        ResultsFile.write_whole(out, layout, {"x": np.arange(3.0), "status": np.zeros(4, np.int8)}, {})
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["opt.h5"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("where", [4, 12], ids=["header-version", "header-checksum"])
def test_resume_of_a_damaged_complete_file_exits_2_and_leaves_it_byte_identical(tmp_path, capsys, tiny, where):
    """A complete sweep whose ``J_a`` object header is overwritten (its version byte, or a byte
    its checksum covers): ``--resume`` reads what ``info`` reads, says the file is damaged and
    that ``--force`` recomputes it (exit 2, one line) instead of "nothing to do", and changes no
    byte; ``info`` names the damaged object in words."""
    spec, ref = tiny
    out = tmp_path / "done.h5"
    data = bytearray(ref.read_bytes())
    with h5py.File(ref, "r") as h5:
        addr = h5py.h5o.get_info(h5["J_a"].id).addr
    assert data[addr: addr + 4] == b"OHDR"
    data[addr + where] ^= 0x5A
    out.write_bytes(bytes(data))
    before = snapshot(tmp_path)
    code, _, err = cli_main(capsys, "run", spec, "-o", out, "-q", "--resume")
    line = one_line(err)
    assert code == 2 and str(out) in line, err
    assert "holds a complete sweep of this spec, but it is damaged" in line and "'J_a'" in line, line
    assert "--force" in line and "nothing to do" not in line, line
    assert snapshot(tmp_path) == before
    code, _, err = cli_main(capsys, "info", out)
    line = one_line(err)
    assert code == 2 and "not a readable jaxtherm results file: damaged" in line and "'J_a'" in line, line
    assert "NoneType" not in line and "object has no attribute" not in line, line
