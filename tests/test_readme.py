"""Every Python block of the README runs when pasted alone into a fresh interpreter.

Each fenced ```python block is executed in its own subprocess (a fresh interpreter, nothing
imported), with an empty temporary directory as the working directory, so a block cannot lean on
another block, on a results file left by an earlier run, or on this repository's ``results/``.
A block passes when it exits with status 0. Every ```toml block that is a whole sweep spec (it has
a ``[model]`` table) is parsed and checked against its model as ``jaxtherm run`` would, without
running it. Other blocks (bash, plain, spec fragments) are not executed. Blocks that need an optional extra (matplotlib, xarray, optax, optimistix) get it from
the ``[test]`` extra.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
TOML_FENCE = re.compile(r"^```toml[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def python_blocks(text: str, fence: re.Pattern = FENCE) -> list[tuple[int, str]]:
    """``(line, code)`` of every fenced ```python block (or ``fence``'s) of a Markdown text, in order."""
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in fence.finditer(text)]


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))
SPECS = [(line, text) for line, text in python_blocks(README.read_text(encoding="utf-8"), TOML_FENCE)
         if re.search(r"^\[model\]", text, re.MULTILINE)]


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 5


def test_the_readme_fits_its_budget():
    """The README is what a user reads; detail lives in docs/ (at most 25,000 bytes)."""
    assert README.stat().st_size <= 25_000


def test_block_extraction():
    text = "a\n```python\nx = 1\n```\n```bash\nls\n```\n```python\ny = 2\nz = 3\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n"), (9, "y = 2\nz = 3\n")]


@pytest.mark.parametrize("line, code", BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_python_block_runs_alone(line, code, tmp_path):
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"  # plots without a display
    env.pop("PYTHONPATH", None)  # jaxtherm as installed, as a user has it
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"README.md:{line} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}"


def test_the_readme_has_a_spec():
    assert SPECS


@pytest.mark.parametrize("line, text", SPECS, ids=[f"README.md:{line}" for line, _ in SPECS])
def test_a_spec_of_the_readme_is_valid(line, text, tmp_path):
    """A whole spec of the README, copied as it stands, passes every check ``jaxtherm run``
    makes before it computes (the spec's shape, then its model, observables and reductions). A
    spec whose ``factory`` names a file gets the README's Python block just above it as that file."""
    from jaxtherm.sweep import parse_spec, resolve

    factory = re.search(r'^factory = "([\w/]+\.py):', text, re.MULTILINE)
    if factory:
        code = [c for at, c in BLOCKS if at < line][-1]
        (tmp_path / factory.group(1)).write_text(code)
    study = resolve(parse_spec(text, f"README.md:{line}", base_dir=tmp_path))
    assert study.spec.n_points > 0
