"""A test that listens to ffmpeg's runs (or to a mezzanine's build) counts only its own.

A process remembers what ffmpeg said of a file and the mezzanines it made (``media.memo``), so a
worker that read or made the same bytes for an earlier test runs fewer commands for a later one.
A test that counts runs without emptying the memo first (``tests.fixtures.ffmpeg_runs``:
``nothing_remembered``, which ``runs_with`` calls) would pass or fail by which tests shared its
worker: this check finds such a file before it flakes.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.fixtures.paths import ROOT

# What lies beneath the memo (a spy on ``ffmpeg.probe`` itself counts every ask, remembered or not).
SPIES = re.compile(r"setattr\(\s*(ffmpeg,\s*\"(run|probe_log|_stream_lengths)\""
                   r"|mezzanine,\s*\"_build\")")
EMPTIED = ("nothing_remembered(", "runs_with(")


def spying_without_emptying(root: Path) -> list[str]:
    """The test files under ``root`` that replace a run or a build and never empty the memo."""
    return [str(path.relative_to(root)) for path in sorted(root.rglob("test_*.py"))
            if SPIES.search(text := path.read_text(encoding="utf-8"))
            and not any(word in text for word in EMPTIED)]


def test_every_file_that_spies_on_runs_empties_the_memo_first() -> None:
    assert len(list((ROOT / "tests").rglob("test_*.py"))) > 300
    assert spying_without_emptying(ROOT / "tests") == []


def test_the_check_finds_a_spy_that_does_not(tmp_path: Path) -> None:
    (tmp_path / "test_spy.py").write_text('monkeypatch.setattr(ffmpeg, "run", counted)\n',
                                          encoding="utf-8")
    (tmp_path / "test_emptied.py").write_text(
        'nothing_remembered(monkeypatch)\nmonkeypatch.setattr(mezzanine, "_build", counted)\n',
        encoding="utf-8")
    (tmp_path / "test_quiet.py").write_text("ffmpeg.run(args)\n", encoding="utf-8")
    assert spying_without_emptying(tmp_path) == ["test_spy.py"]
