"""A fresh check imports only what it uses: Jinja2 when a value is a template, the ffmpeg runner
when a media file is measured anew; neither for a plain series whose media facts are kept."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from storyboard.language.cache import incremental
from storyboard.language.compile import compile_path
from tests.fixtures.series_gen import make_series, shot

HERE = Path(__file__).resolve().parents[2]
ONE_CHECK = """
import json, sys
from pathlib import Path
from storyboard.language.compile import compile_path
count = len(compile_path(Path(sys.argv[1])).shots())
print(json.dumps([count, {name: name in sys.modules for name in sys.argv[2:]}]))
"""
WATCHED = ("jinja2", "storyboard.language.expansion.sandbox", "storyboard.media.ffmpeg")
WITH_A_PROBLEM = (8, 9)  # the generated shot kinds with an error (a check stops at them)


def clean_series(root: Path) -> Path:
    """A generated series of one episode of every shot kind but those with an error."""
    root = make_series(root, episodes=0, shots=0)
    lines = ["id: ep01", "title: Episode 1", "shots:"]
    for index in range(12):
        if index not in WITH_A_PROBLEM:
            lines += [line.replace("first_frame: media/", "first_frame: ../media/")
                      for line in shot(index)]
    (root / "episodes" / "01.yaml").write_text("\n".join(lines) + "\n")
    return root


def fresh_check(root: Path) -> tuple[int, dict[str, bool]]:
    """A check in a new process, nothing compiled kept (the media facts are): the shots it
    compiled and which of ``WATCHED`` it imported."""
    for name in ("parsed", "checked"):
        shutil.rmtree(root / ".storyboard" / name, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    done = subprocess.run([sys.executable, "-c", ONE_CHECK, str(root), *WATCHED], env=env,
                          cwd=HERE, check=True, capture_output=True, text=True)
    count, imported = json.loads(done.stdout.strip().splitlines()[-1])
    return count, imported


def test_a_plain_series_is_checked_without_jinja2_or_the_ffmpeg_runner(tmp_path: Path) -> None:
    root = clean_series(tmp_path / "plain")
    incremental.forget()
    expected = len(compile_path(root).shots())  # its media measured, and their facts kept
    count, imported = fresh_check(root)
    assert count == expected > 0
    assert imported == dict.fromkeys(WATCHED, False)


def test_a_template_imports_jinja2_when_it_is_rendered(tmp_path: Path) -> None:
    root = clean_series(tmp_path / "templated")
    series = root / "storyboard.yaml"
    series.write_text(series.read_text().replace("title: Generated",
                                                 "title: \"{{ 'Gen' ~ 'erated' }}\"") +
                      "vars: {}\n")
    incremental.forget()
    expected = len(compile_path(root).shots())
    count, imported = fresh_check(root)
    assert count == expected > 0
    assert imported["jinja2"] and imported["storyboard.language.expansion.sandbox"]
    assert not imported["storyboard.media.ffmpeg"]
