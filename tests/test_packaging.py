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
