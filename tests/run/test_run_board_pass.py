"""The board pass's pace on the emulator (issue 56, bench/boards.py): a submit holds its prompt's
lock only for the journal and the request, and a board's first poll waits for the time its
model's cast sheet was seen to take."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import storyboard
from storyboard.run.trip import submit
from storyboard.run.trip.model import ShotEvent
from tests.fixtures.dashscope_cli import Emulator

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SERIES = """\
storyboard: 1
title: Board pass
defaults: {{resolution: 720P, ratio: "16:9", duration: 5, seed: 7}}
provider: {{name: dashscope, poll: [0.02], submit_rate: 1000}}
{boards}characters:
  mia: {{image: {{generate: "barista in her thirties, short red hair, green apron"}}}}
  sam: {{image: {{generate: "a tall regular in a grey coat with a guitar case"}}}}
episodes:
  - id: ep01
    shots:
{shots}"""


def write(root: Path, shots: int, *, boards: bool) -> Path:
    lines = "".join(f"      - {{id: s{n}, prompt: \"Wide shot: @mia waits, beat {n}\"}}\n"
                    for n in range(shots))
    root.mkdir(parents=True)
    (root / "storyboard.yaml").write_text(SERIES.format(
        boards="boards: {model: wan2.7-image}\n" if boards else "", shots=lines),
        encoding="utf-8")
    return root


def test_two_sheets_of_one_model_are_snapshotted_at_once(tmp_path: Path, emulator: Emulator,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Image submits of one model go one at a time (a lost answer is matched by the model
    alone), but the inputs' snapshot comes before that lock: both sheets' snapshots meet."""
    emu = emulator()
    series = write(tmp_path / "series", 1, boards=False)
    both = threading.Barrier(2, timeout=10)
    snapshot = submit.snapshot_inputs

    def met(shot: Any, root: Path) -> Any:
        if shot.asset is not None:
            both.wait()  # under the lock, the second would never come: broken after 10 s
        return snapshot(shot, root)

    monkeypatch.setattr(submit, "snapshot_inputs", met)
    report = storyboard.render(series, yes=True, provider="dashscope", concurrency=4)
    assert report.ok, report
    assert emu.stats()["cast"]["images"] == 2


def test_a_boards_first_poll_waits_for_its_models_time(tmp_path: Path,
                                                       emulator: Emulator) -> None:
    """The cast's sheet is polled on the schedule (every 0.02 s); the boards after it, one at a
    time, are first asked once they have run as long as the sheet took: one query each, or two
    (a few more on a loaded machine, where a task runs past the time learned: 3 a board was
    seen with the suite's four workers on two cores), instead of one every 0.02 s (the query
    bucket's 15 a second, about 12 a board) for the whole latency."""
    emu = emulator(latency=0.8)
    series = write(tmp_path / "series", 4, boards=True)
    at_cast: list[int] = []

    def heard(event: ShotEvent) -> None:
        if event.state == "done" and event.shot == "mia":
            at_cast.append(emu.stats()["requests"]["query"])

    report = storyboard.render(series, yes=True, boards=True, provider="dashscope",
                               concurrency=1, on_event=heard)
    assert report.ok, report
    cast_queries, queries = at_cast[0], emu.stats()["requests"]["query"]
    assert cast_queries >= 5  # polled on the schedule while it ran
    assert queries - cast_queries <= 4 * 4, (cast_queries, queries)  # not about 12 * 4



def test_a_submits_turn_has_a_journal_thread_of_its_own(
        tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """The intent and the task id of a submit holding its model's turn go to the journal on a
    thread of their own, in order (a task id before the next intent), never queued behind the
    other shots' reads and state changes."""
    from storyboard.run.state.tasks.journal import Journal

    emulator()
    series = write(tmp_path / "series", 1, boards=False)
    calls: list[tuple[str, str]] = []

    def on_thread(name: str) -> Any:
        method = getattr(Journal, name)

        def noted(journal: Journal, *args: Any, **kwargs: Any) -> Any:
            calls.append((name, threading.current_thread().name))
            return method(journal, *args, **kwargs)
        return noted

    for name in ("begin", "set_task", "elsewhere", "set_state"):
        monkeypatch.setattr(Journal, name, on_thread(name))
    report = storyboard.render(series, yes=True, provider="dashscope", concurrency=4)
    assert report.ok, report
    turn = {thread for name, thread in calls if name in ("begin", "set_task")}
    others = {thread for name, thread in calls if name in ("elsewhere", "set_state")}
    assert len(turn) == 1 and len(others) == 1 and not turn & others, calls
    money = [name for name, _ in calls if name in ("begin", "set_task")]
    assert money == ["begin", "set_task"] * 3, money  # two sheets and the video, one by one
