"""CI's README lines into steps that fail: `.ci/readme-line` fails when any command of a line fails.

Under `set -e`, bash goes on when a command before the last of an `a && b && c` line fails, so a
failed `pip install -e ".[dev]"` in `.ci/run` skipped the tests and CI passed. These run the helper
on failing lines (a plain `false && true && true`, and the README's own test line over a fake
`python3` whose venv's pip fails) and read `.ci/run` to prove each README line goes through it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HELPER = REPO / ".ci" / "readme-line"
TEST_LINE = ('python3 -m venv .venv && .venv/bin/pip install -c constraints/dev.txt -e ".[dev]"'
             ' && .venv/bin/python -m pytest')


def readme_lines() -> list[str]:
    """The README's set-up lines, without their trailing comments."""
    block = (REPO / "README.md").read_text(encoding="utf-8").split("```sh\n", 1)[1].split("```", 1)[0]
    return [re.sub(r"\s*#.*$", "", line) for line in block.splitlines() if line.strip()]


def run_in(folder: Path, script: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`script` through bash under `set -e`, as `.ci/run` runs, in `folder`."""
    return subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_failing_first_command_fails_the_step(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("false && true && true\n", encoding="utf-8")
    bare = run_in(tmp_path, "false && true && true\necho went-on")
    assert bare.returncode == 0 and "went-on" in bare.stdout  # the bug: set -e does not stop here
    helped = run_in(tmp_path, f"{HELPER} 'false && true && true'\necho went-on")
    assert helped.returncode == 1 and "went-on" not in helped.stdout
    assert "README line failed (exit 1)" in helped.stderr


def fake_python3(folder: Path) -> Path:
    """A `python3` whose `-m venv .venv` makes a venv with a failing pip and a python that leaves a mark."""
    bin_dir = folder / "fakebin"
    bin_dir.mkdir()
    venv_bin = folder / ".venv" / "bin"
    pip, python = shlex.quote(str(venv_bin / "pip")), shlex.quote(str(venv_bin / "python"))
    script = (f"#!/bin/sh\nmkdir -p {shlex.quote(str(venv_bin))}\n"
              f"printf '#!/bin/sh\\necho no such package >&2\\nexit 1\\n' > {pip}\n"
              f"printf '#!/bin/sh\\ntouch \"$PWD/pytest-ran\"\\n' > {python}\n"
              f"chmod +x {pip} {python}\n")
    (bin_dir / "python3").write_text(script, encoding="utf-8")
    (bin_dir / "python3").chmod(0o755)
    return bin_dir


def test_a_failing_dev_install_fails_the_step_and_runs_no_tests(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text((REPO / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    env = {**os.environ, "PATH": f"{fake_python3(tmp_path)}:{os.environ['PATH']}"}
    bare = run_in(tmp_path, TEST_LINE + "\necho went-on", env)
    assert bare.returncode == 0 and "went-on" in bare.stdout  # the bug, with the README's own line
    helped = run_in(tmp_path, f"{HELPER} {shlex.quote(TEST_LINE)}\necho went-on", env)
    assert helped.returncode == 1 and "went-on" not in helped.stdout
    assert "no such package" in helped.stderr and not (tmp_path / "pytest-ran").exists()


def test_a_passing_line_passes(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("true && echo ran   # a comment\n", encoding="utf-8")
    done = run_in(tmp_path, f"{HELPER} 'true && echo ran'")
    assert done.returncode == 0 and done.stdout == "ran\n"


def test_a_line_not_in_the_readme_is_refused(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("true\n", encoding="utf-8")
    done = run_in(tmp_path, f"{HELPER} 'touch made'")
    assert done.returncode == 2 and "not a line of README.md" in done.stderr
    assert not (tmp_path / "made").exists()


def test_ci_runs_each_readme_line_through_the_helper() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    lines = readme_lines()
    assert TEST_LINE in lines and len(lines) == 2
    for line in lines:
        assert line not in ci, f".ci/run runs a README line bare (its failure would not fail CI): {line}"
        assert f".ci/readme-line {shlex.quote(line)}" in ci
