"""The people of each take measured as it arrives (``run.boards.ahead.AheadOfPeople``), not one
by one after the run: a board whose cast is drawn in the same run (its pictures in the cache, not
yet in the lock) and a video take, each measured once, on the people thread, and the run's
findings what the end alone would have found."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from storyboard.media.faces import scan
from storyboard.run.boards import ahead as ahead_module
from storyboard.run.state.machinewide import MEASURED_SHARED_ENV
from tests.fixtures.dashscope_cli import Emulator, invoke, render
from tests.run.test_measured_people import series_with_cast

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

DRAWN = """\
storyboard: 1
title: Drawn
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
checks: {freeze_seconds: 60}
boards: {model: wan2.7-image, gate: false}
characters:
  mia: {image: {generate: "barista in her thirties, short red hair, green apron"}}
  ann: {image: media/ann.jpg}
episodes:
  - id: ep01
    shots:
      - {id: hello, prompt: "@mia waves"}
      - {id: duet, prompt: "@ann talks to @mia"}
"""


def measured_where(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Each file measured for its people (not read back): (its kind, the thread that did)."""
    monkeypatch.delenv(MEASURED_SHARED_ENV, raising=False)  # none taken from the run's other tests
    where: list[tuple[str, str]] = []
    real = scan.measure

    def measure(path: Path, kind: str, *args: object, **kwargs: object) -> object:
        where.append((kind, threading.current_thread().name))
        return real(path, kind, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scan, "measure", measure)
    return where


def test_boards_drawn_with_their_cast_are_measured_for_people_as_they_arrive(
        tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    series = series_with_cast(tmp_path / "drawn")
    (series / "storyboard.yaml").write_text(DRAWN, encoding="utf-8")
    emulator(plain_results=False)
    where = measured_where(monkeypatch)
    code, report, err = render(series, "--yes", "boards")
    assert code == 0, err
    boards = [name for kind, name in where if kind == "image"]
    # mia's drawn sheet, ann's photograph and the two boards: each measured once, none after
    assert len(boards) == 4, where
    assert all(name.startswith("storyboard-people") for name in boards), where
    assert report["findings"]["takes"] == {}, report["findings"]
    assert invoke("approve", series, "boards/ep01").exit_code == 0
    code, report, err = render(series, "--yes")  # the videos: each after its file's length
    assert code == 0, err
    videos = [name for kind, name in where if kind == "video"]
    assert len(videos) == 2 and all(n.startswith("storyboard-people") for n in videos), where


def test_what_cannot_be_measured_as_the_end_would_is_left_to_the_end(
        tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """A video whose length is not measured yet is not sampled on the declared length: the end
    measures it, over its measured length, so the record never depends on the threads' race."""
    series = series_with_cast(tmp_path / "late")
    (series / "storyboard.yaml").write_text(DRAWN.replace("boards: {model: wan2.7-image, gate: "
                                                          "false}\n", ""), encoding="utf-8")
    emulator(plain_results=False)
    monkeypatch.setattr(ahead_module.AheadOfMeasure, "_once", lambda self, take: None)
    where = measured_where(monkeypatch)
    code, report, err = render(series, "--yes")
    assert code == 0, err
    videos = [name for kind, name in where if kind == "video"]
    assert len(videos) == 2 and not any(n.startswith("storyboard-people") for n in videos), where
    assert sorted(report["findings"]["takes"]) == [], report["findings"]
