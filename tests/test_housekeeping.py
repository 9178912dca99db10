"""What a series keeps on disk (issue 23): leftovers of killed renders, one copy of each local shot,
``storyboard cache`` and its ``prune``, and lock entries of variations no longer in the matrix."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from compiler_fixtures import MIA_HEAD, write_series

from storyboard.cli import cli

MakeMedia = Callable[..., Path]

TWO_SHOTS = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves"}
    - {id: b, prompt: "@mia smiles"}
"""


def invoke(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args}: {result.exception!r}\n{result.output}")
    assert "Traceback" not in result.output
    return result


def rendered(series: Path, *args: str | Path) -> dict[str, Any]:
    result = invoke("render", series, "--json", "--yes", *args)
    assert result.exit_code == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.fixture
def series(tmp_path: Path, make_media: MakeMedia) -> Path:
    return write_series(tmp_path / "s", make_media, TWO_SHOTS, head=MIA_HEAD)


def dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout)


def test_a_killed_local_renders_leftover_is_removed_by_the_next_run(
        series: Path, tmp_path: Path) -> None:
    local = series / ".storyboard" / "local"
    local.mkdir(parents=True)
    dead = local / f".local-0123456789abcdef-local-r3.p{dead_pid()}.k3x9_q0z.mp4"
    dead.write_bytes(b"half an animatic")
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as alive:
        running = local / f".local-fedcba9876543210-local-r3.p{alive.pid}.ab12cd34.mp4"
        running.write_bytes(b"another run is writing this")
        try:
            rendered(series, "--draft", "-o", tmp_path / "out")
        finally:
            alive.kill()
    assert not dead.exists()
    assert running.exists()  # a living process's file is never touched


MATRIX_HEAD = MIA_HEAD + """\
vars: {lang: en}
variations:
  matrix:
    lang: [en, es, de]
  name: "{{ lang }}"
"""
ONE_SHOT = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves, saying hello in {{ lang }}"}
"""


def locked_variations(series: Path) -> set[str]:
    shots = json.loads((series / "storyboard.lock").read_text(encoding="utf-8"))["shots"]
    return {str(entry["series"]).split("/", 1)[1] for entry in shots.values()}


def test_lock_entries_of_variations_removed_from_the_matrix_are_pruned(
        tmp_path: Path, make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "m", make_media, ONE_SHOT, head=MATRIX_HEAD)
    rendered(series, "-o", tmp_path / "out")
    assert locked_variations(series) == {"en", "es", "de"}
    rendered(series, "--variation", "en", "-o", tmp_path / "out")  # a selection prunes nothing
    assert locked_variations(series) == {"en", "es", "de"}
    yaml = series / "storyboard.yaml"
    yaml.write_text(yaml.read_text().replace("[en, es, de]", "[en, de]"))
    rendered(series, "--variation", "en", "-o", tmp_path / "out")
    assert locked_variations(series) == {"en", "de"}
