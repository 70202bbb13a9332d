"""The journal holds only what the results file has not committed, and a file whose SWMR writer
was killed is reopened (its superblock's writer flags cleared, as ``h5clear -s`` does)."""

import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

from jaxtherm.io import h5read, integrity, journal

from .helpers import finished_chunks
from .test_sweep import RESUME_SPEC, read_all

KILLED_WRITER = """
import os, signal, sys
import h5py, numpy as np
f = h5py.File(sys.argv[1], "w", libver="latest")
d = f.create_dataset("x", shape=(100,), dtype="f8", fillvalue=np.nan, chunks=(10,))
f.swmr_mode = True
d[:10] = 1.0
f.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_swmr_writers_flags_are_cleared_and_the_file_reopens(tmp_path):
    path = tmp_path / "k.h5"
    subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path)])
    try:
        h5py.File(path, "r+", libver="latest")
        raise AssertionError("HDF5 should refuse a killed writer's file")
    except OSError as err:
        assert "already open for write" in str(err)
    assert integrity.clear_writer_flags(path)
    with h5py.File(path, "r+", libver="latest") as f:
        assert np.array_equal(f["x"][:12], [1.0] * 10 + [np.nan] * 2, equal_nan=True)
        f["x"][10:20] = 2.0
    with h5py.File(path, "r") as f:
        assert (f["x"][10:20] == 2.0).all()


def test_a_superblock_whose_checksum_is_not_reproduced_is_left_alone(tmp_path):
    path = tmp_path / "k.h5"
    subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path)])
    raw = bytearray(path.read_bytes())
    raw[47] ^= 0xFF  # the superblock's checksum (version 3, 8-byte addresses: bytes 44..47)
    path.write_bytes(bytes(raw))
    assert not integrity.clear_writer_flags(path) and path.read_bytes() == bytes(raw)
    assert not integrity.clear_writer_flags(tmp_path / "missing.h5")
    (tmp_path / "text.h5").write_text("not HDF5")
    assert not integrity.clear_writer_flags(tmp_path / "text.h5")


def test_after_a_kill_the_journal_holds_only_uncommitted_chunks_and_resume_keeps_the_files(tmp_path):
    spec = tmp_path / "resume.toml"
    spec.write_text(RESUME_SPEC)
    out = tmp_path / "killed.h5"
    cmd = [sys.executable, "-m", "jaxtherm", "run", str(spec), "-o", str(out), "--chunk-size", "500", "-q"]
    proc = subprocess.Popen(cmd)
    deadline = time.time() + 120
    while time.time() < deadline and not (h5read.committed_chunks(out) and journal.count(out) >= 3):
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    committed, journaled = h5read.committed_chunks(out), journal.ids(out)
    assert committed and journaled and len(committed | journaled) < 400, "killed midway"
    assert committed - journaled  # committed chunks left the journal (all but a commit's worth being dropped now)
    n = finished_chunks(out)
    done = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
    assert done.returncode == 0 and f"{n} chunk(s) kept from the interrupted run" in done.stdout, done.stdout
    ref = tmp_path / "ref.h5"
    subprocess.run([*cmd[:6], str(ref), *cmd[7:]], check=True)
    a, b = read_all(out), read_all(ref)
    assert a.keys() == b.keys() and all(a[k].tobytes() == b[k].tobytes() for k in a)
