"""The installed package is the repository's: every folder of ``jaxtherm/`` with an
``__init__.py`` is listed in ``pyproject.toml``'s packages (the list is explicit, because the
bundled specs of the top-level ``sweeps/`` folder are installed as ``jaxtherm._bundled``), and the
bundled specs are found by name."""

from __future__ import annotations

import tomllib
from pathlib import Path

from jaxtherm.cli import commands as cli

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_installed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "jaxtherm").rglob("__init__.py")}
    assert found <= listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"
    assert {"jaxtherm._bundled", "jaxtherm._bundled.studies"} <= listed


def test_bundled_specs_are_the_sweeps_folder():
    """``jaxtherm run NAME`` and ``jaxtherm optimize NAME`` resolve to the files of ``sweeps/``."""
    sweeps = cli.bundled_sweeps()
    studies = cli.bundled_sweeps("studies")
    assert set(sweeps) == {p.stem for p in (ROOT / "sweeps").glob("*.toml")} and "quickstart" in sweeps
    assert set(studies) == {p.stem for p in (ROOT / "sweeps" / "studies").glob("*.toml")} and studies
    assert sweeps["quickstart"].read_text() == (ROOT / "sweeps" / "quickstart.toml").read_text()


def _lapack_threads(code: str, env: dict) -> str:
    import os
    import subprocess
    import sys

    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "GOTO_NUM_THREADS")
    env = {k: v for k, v in os.environ.items() if k not in names} | env
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-1]


def test_lapack_runs_single_threaded_unless_the_user_chose():
    """``single_threaded_lapack`` sets ``OPENBLAS_NUM_THREADS=1`` before SciPy's OpenBLAS (JAX's CPU
    LAPACK) loads, keeps a value the user set, and says so where SciPy had loaded already."""
    code = "import jaxtherm, os; print(jaxtherm.single_threaded_lapack(), os.environ['OPENBLAS_NUM_THREADS'])"
    assert _lapack_threads(code, {}) == "1"
    assert _lapack_threads(code.replace(", os.environ['OPENBLAS_NUM_THREADS']", ""), {"OPENBLAS_NUM_THREADS": "4"}) == "False"
    assert _lapack_threads(code.replace(", os.environ['OPENBLAS_NUM_THREADS']", ""), {"OMP_NUM_THREADS": "2"}) == "False"
    late = "import scipy.linalg, jaxtherm, os; print(jaxtherm.single_threaded_lapack(), 'OPENBLAS_NUM_THREADS' in os.environ)"
    assert _lapack_threads(late, {}) == "False"
    # the command line turns it on for its own process (`jaxtherm models` loads no LAPACK before)
    cli = "from jaxtherm import cli; import os; cli.main(['models']); print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    assert _lapack_threads(cli, {}) == "1"
