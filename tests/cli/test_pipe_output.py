"""`plan` and `status` in a pipe: one line per row, task ids whole, ``COLUMNS`` and ``NO_COLOR``
honoured. The command runs as a child with its stdout a pipe and its stdin a 64-column
terminal (a pseudo-terminal), as in ``storyboard status my-series | grep``."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import storyboard
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Callable[..., Path]
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])[;m]")  # a foreground colour code
ROOT = Path(__file__).resolve().parents[2]
EPISODES = """\
- id: ep01
  shots:
    - {id: a-rather-long-shot-name-to-fill-the-row, prompt: "@mia waves slowly at the camera"}
    - {id: b-another-long-shot-name, prompt: "@mia waves back"}
"""


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory, make_media: MakeMedia) -> Path:
    root = write_series(tmp_path_factory.mktemp("pipe") / "tiny", make_media, EPISODES,
                        head=MIA_HEAD)
    assert storyboard.render(root, draft=True, yes=True).ok
    return root


@pytest.fixture
def narrow_terminal() -> Iterator[int]:
    """A pseudo-terminal 64 columns wide, for the child's stdin."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 64, 0, 0))
    try:
        yield follower
    finally:
        os.close(follower)
        os.close(leader)


def run(stdin: int, *args: str | Path, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "LINES")}
    environ.update(PYTHONPATH=str(ROOT), TERM="xterm-256color", **env)
    done = subprocess.run([sys.executable, "-m", "storyboard", *map(str, args)], stdin=stdin,
                          capture_output=True, env=environ, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def task_ids(series: Path) -> dict[str, str]:
    """Shot id -> its task id, from ``status --json``."""
    rows = json.loads(run(subprocess.DEVNULL, "status", series, "--json"))
    return {row["shot"]: row["task_id"] for row in rows}


def test_status_in_a_pipe_keeps_each_row_on_one_line(series: Path, narrow_terminal: int) -> None:
    out = run(narrow_terminal, "status", series)
    ids = task_ids(series)
    assert len(ids) == 2
    for shot, task in ids.items():
        row = [line for line in out.splitlines() if shot in line]
        assert len(row) == 1 and task in row[0], out  # the whole task id, on the shot's line
    assert max(len(line) for line in out.splitlines()) > 64


def test_plan_in_a_pipe_keeps_each_row_on_one_line(series: Path, narrow_terminal: int) -> None:
    out = run(narrow_terminal, "plan", series, "--draft")
    for shot in ("a-rather-long-shot-name-to-fill-the-row", "b-another-long-shot-name"):
        assert len([line for line in out.splitlines() if shot in line]) == 1, out


def test_columns_sets_the_width_and_no_color_turns_colour_off(series: Path,
                                                               narrow_terminal: int) -> None:
    out = run(narrow_terminal, "status", series, COLUMNS="100")
    assert max(len(line) for line in out.splitlines()) <= 100
    coloured = run(narrow_terminal, "status", series, FORCE_COLOR="1")
    assert COLOUR.search(coloured)
    plain = run(narrow_terminal, "status", series, FORCE_COLOR="1", NO_COLOR="1")
    assert not COLOUR.search(plain)  # no colour (bold and italics may stay, as NO_COLOR allows)


def test_a_table_in_a_pipe_is_tab_separated_rows_as_wide_as_their_cells(
        series: Path, narrow_terminal: int) -> None:
    """No borders and no padding: a row with a long cell does not widen the others (a long note
    once made every row of a piped table 1,700 characters)."""
    out = run(narrow_terminal, "plan", series, "--draft").splitlines()
    assert "shot\tstatus\twhy\tbilled s\tcost" in out, out
    rows = {line.split("\t")[0]: line.split("\t") for line in out if "\t" in line}
    long, short = "ep01/a-rather-long-shot-name-to-fill-the-row", "ep01/b-another-long-shot-name"
    assert len(rows[long]) == len(rows[short]) == 5
    assert all(cell == cell.strip() for row in rows.values() for cell in row), rows
    assert rows[short][2:] == rows[long][2:] and rows[short][1] == rows[long][1]
    assert not any(border in line for line in out for border in "│┃━─")
    status = run(narrow_terminal, "status", series).splitlines()
    assert status[:2] == ["journal", "shot\tby\tstate\ttask id\tstatus\tcost\tmarks\tnote"]
    ids = task_ids(series)
    for shot, task in ids.items():
        (row,) = [line.split("\t") for line in status if line.split("\t")[0].endswith(shot)]
        assert row[3] == task and row[2] == "done", row
