"""The boards example (examples/boards-first), rendered from scratch on ``local``: the loop's
commands, the committed lock byte for byte, and the same bytes from two fresh renders (issue 56
item 7)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from storyboard.media import ffbinary

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "boards-first"


def storyboard(series: Path, *args: str) -> str:
    env = {**os.environ, ffbinary.ENV_VAR: str(ffbinary.bundled_path())}  # the lock's build
    done = subprocess.run([sys.executable, "-m", "storyboard", *args[:1], str(series), *args[1:]],
                          cwd=series.parent, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def rendered(folder: Path) -> dict[str, bytes]:
    """The example copied into ``folder``, its boards rendered, then the rest: what came out."""
    series = shutil.copytree(EXAMPLE, folder / "boards-first",
                             ignore=shutil.ignore_patterns(".storyboard", "out", "*.lock"))
    said = storyboard(series, "render", "boards")
    assert "episode boards/ep01: stitched" in said
    assert not (series / "out" / "ep01.mp4").exists()  # the boards first: no video yet
    storyboard(series, "render")  # on local nothing waits for an approval
    return {name: (series / name).read_bytes() for name in (
        "storyboard.lock", "out/boards/ep01.mp4", "out/boards/ep01.srt", "out/ep01.mp4")}


def test_the_boards_example_renders_its_lock_and_the_same_bytes_twice(tmp_path: Path) -> None:
    first = rendered(tmp_path / "one")
    assert first["storyboard.lock"] == (EXAMPLE / "storyboard.lock").read_bytes()
    assert rendered(tmp_path / "two") == first
    lock = first["storyboard.lock"].decode()
    assert lock.count('"episode": "boards"') == 3  # a board per shot, each in the lock
