"""The per-user ledger: its interface (table-driven over its states), where it lives, and the
runner's use of it with the in-process fake provider (twins, ambiguity, a lost journal)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storyboard.errors import JournalError, TransportError
from storyboard.language.request import CompiledShot
from storyboard.run import Journal, RunOptions, RunResult, Wiring, render, status
from storyboard.run.state.tasks import settle
from storyboard.run.team.ledger import LEDGER_NAME, SqliteLedger, default_ledger, find_key, state_dir
from storyboard.targets import PriceTable
from tests.fixtures.dashscope_cli import invoke
from tests.fixtures.run_fakes import FakeProvider, make_shot

# --- the interface ---------------------------------------------------------------------------


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteLedger:
    return SqliteLedger(tmp_path / "state" / LEDGER_NAME)


def test_an_entry_goes_from_intent_to_task_to_settled(ledger: SqliteLedger) -> None:
    key = find_key("wan2.7-r2v", "Image 1 smiles")
    entry = ledger.intend("dashscope", "h1", key, series="/s", shot="ep01/a")
    assert entry.open and entry.task_id is None
    assert [e.id for e in ledger.open_for_key("dashscope", key)] == [entry.id]
    ledger.record_task(entry.id, "t-1")
    assert ledger.knows_task("dashscope", "t-1")
    assert not ledger.knows_task("other", "t-1")  # keyed by provider
    (read,) = ledger.entries("dashscope", "h1")
    assert read.task_id == "t-1" and read.open and read.shot == "ep01/a"
    ledger.settle(entry.id, "done")
    assert ledger.open_for_key("dashscope", key) == []
    assert [e.state for e in ledger.entries("dashscope", "h1")] == ["done"]


def test_entries_are_per_provider_and_hash_oldest_first(ledger: SqliteLedger) -> None:
    first = ledger.intend("p", "h", "k", series="/s", shot="e/a", intent_at=10.0)
    ledger.settle(first.id, "lost")  # one open entry per shot at a time (the claim)
    second = ledger.intend("p", "h", "k", series="/s", shot="e/a", intent_at=20.0)
    ledger.intend("p", "other", "k", series="/s", shot="e/b")
    ledger.intend("q", "h", "k", series="/s", shot="e/a")
    assert [e.id for e in ledger.entries("p", "h")] == [first.id, second.id]


def test_the_ledger_survives_its_process(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_NAME
    one = SqliteLedger(path)
    entry = one.intend("p", "h", "k", series="/s", shot="e/a")
    one.record_task(entry.id, "t-9")
    one.close()
    two = SqliteLedger(path)
    assert two.entries("p", "h")[0].task_id == "t-9"


def test_the_find_key_ignores_surrounding_space_but_not_the_model() -> None:
    assert find_key("m", " Image 1 smiles\n") == find_key("m", "Image 1 smiles")
    assert find_key("m", "Image 1 smiles") != find_key("n", "Image 1 smiles")


@pytest.mark.parametrize(("env", "expected"), [
    ({"STORYBOARD_STATE_DIR": "/x/state"}, "/x/state"),
    ({"XDG_STATE_HOME": "/x/xdg"}, "/x/xdg/storyboard"),
    ({"HOME": "/x/home"}, "/x/home/.local/state/storyboard"),
])
def test_the_state_directory(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                             expected: str) -> None:
    for name in ("STORYBOARD_STATE_DIR", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert state_dir() == Path(expected)


def test_an_unusable_state_directory_is_one_clear_error(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("STORYBOARD_STATE_DIR", str(blocker / "state"))
    with pytest.raises(JournalError, match="STORYBOARD_STATE_DIR"):
        default_ledger()


# --- the runner with it -------------------------------------------------------------------------


@pytest.fixture
def samples(make_media: Callable[..., Path], tmp_path: Path) -> dict[int, Path]:
    return {2: make_media("video", tmp_path / "samples" / "2s.mp4", seconds=2, width=64,
                          height=48)}


@pytest.fixture
def provider(tmp_path: Path, samples: dict[int, Path]) -> FakeProvider:
    return FakeProvider(tmp_path / "provider", samples)


@pytest.fixture
def series(tmp_path: Path) -> Path:
    root = tmp_path / "series"
    root.mkdir()
    return root


class VirtualTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.0)
        await asyncio.sleep(0)


def go(shots: list[CompiledShot], provider: FakeProvider, series: Path,
       notices: list[str] | None = None) -> RunResult:
    time = VirtualTime()
    return asyncio.run(render(shots, provider, RunOptions(
        submit_rate=1000.0, poll_schedule=(1.0,), max_wait=30.0), Wiring(
        series_dir=series, sleep=time.sleep, clock=time.now,
        on_notice=None if notices is None else notices.append)))


def twins() -> list[CompiledShot]:
    return [make_shot("a", prompt="Image 1 smiles", seed=1),
            make_shot("b", prompt="Image 1 smiles", seed=2)]


def states(result: RunResult) -> dict[str, str]:
    return {r.shot: r.state for r in result.shots}


@pytest.mark.parametrize("lost", [("a",), ("b",), ("a", "b")])
def test_twins_with_lost_answers_each_adopt_their_own_task(
        provider: FakeProvider, series: Path, lost: tuple[str, ...]) -> None:
    for shot in lost:
        provider.on(shot, lost_answers=1)
    result = go(twins(), provider, series)
    assert states(result) == {"a": "done", "b": "done"}
    assert provider.created() == {"a": 1, "b": 1}
    tasks = {r.shot: r.task_id for r in result.shots}
    assert tasks["a"] != tasks["b"]
    assert all(task_id is not None and task_id.endswith(shot) for shot, task_id in tasks.items())


def test_a_task_nobody_recorded_with_the_same_prompt_stops_the_shot(
        provider: FakeProvider, series: Path) -> None:
    """A task with this prompt from outside storyboard: the lost submit cannot be told apart."""
    provider._create(make_shot("stranger", prompt="Image 1 smiles", seed=99))
    provider.on("a", lost_answers=1)
    result = go(twins()[:1], provider, series)
    (shot,) = result.shots
    assert shot.state == "pending" and shot.code == "AmbiguousTask"
    assert "cannot tell which task is this shot's" in shot.message
    assert "task-0001-stranger" in shot.message and "console" in shot.message
    assert provider.created() == {"a": 1, "stranger": 1}  # never resubmitted
    assert [a.state for a in status(series)] == ["intent"]  # still open for the next run


def test_an_unresolved_twin_elsewhere_holds_back_the_submit(
        provider: FakeProvider, series: Path, tmp_path: Path) -> None:
    """Another series' submit with this prompt was never answered: do not add a second
    unknown task with the same prompt; say which shot to render first."""
    other = tmp_path / "other"
    with Journal.open(other, default_ledger()) as journal:
        journal.begin(make_shot("x", prompt="Image 1 smiles", series="other"), "fake", "fake",
                      estimate=0.2)
    result = go(twins()[:1], provider, series)
    (shot,) = result.shots
    assert shot.state == "pending" and "render that series first" in shot.message
    assert str(other) in shot.message and "ep01/x" in shot.message
    assert provider.created() == {}


def test_a_deleted_journal_resumes_tasks_from_the_ledger(provider: FakeProvider,
                                                         series: Path) -> None:
    shots = [make_shot("a"), make_shot("b")]
    provider.on("a", lost_answers=1, polls=10**6)  # a: answer lost, then runs "forever"
    provider.on("b", polls=10**6)
    first = go(shots, provider, series)
    assert states(first) == {"a": "pending", "b": "pending"}  # max_wait ran out
    shutil.rmtree(series / ".storyboard")
    provider.on("a", polls=0)
    provider.on("b", polls=0)
    notices: list[str] = []
    second = go(shots, provider, series, notices)
    assert states(second) == {"a": "done", "b": "done"}
    assert provider.created() == {"a": 1, "b": 1}
    assert len(notices) == 1 and "2 unfinished task(s)" in notices[0]
    assert all("restored from the ledger" in (a.note or "") or a.state == "done"
               for a in status(series))


def test_a_cached_result_deleted_with_its_journal_is_downloaded_again(
        provider: FakeProvider, series: Path) -> None:
    shots = [make_shot("a")]
    assert states(go(shots, provider, series)) == {"a": "done"}
    shutil.rmtree(series / ".storyboard")
    again = go(shots, provider, series)
    assert states(again) == {"a": "done"}
    assert provider.created() == {"a": 1}  # the same task, fetched again


def test_a_lost_answer_that_created_nothing_is_sent_again_only_once_forgotten(
        provider: FakeProvider, series: Path) -> None:
    """22.1: a reset may come after the request arrived, so it is never resent by itself; a
    person's ``task forget`` lets the next run send it (journaled, and settled in the ledger)."""
    provider.on("a", submit_errors=[TransportError("reset before it arrived")])
    result = go(twins()[:1], provider, series)
    assert states(result) == {"a": "pending"} and result.shots[0].code == "AmbiguousTask"
    assert provider.created() == {}
    settle.forget(series, "a")
    again = go(twins()[:1], provider, series)
    assert states(again) == {"a": "done"} and provider.created() == {"a": 1}


def test_a_result_the_provider_has_forgotten_is_rendered_anew(provider: FakeProvider,
                                                              series: Path) -> None:
    shots = [make_shot("a")]
    assert states(go(shots, provider, series)) == {"a": "done"}
    shutil.rmtree(series / ".storyboard")
    for task in provider.folder.glob("*.json"):
        task.rename(task.with_suffix(".json.expired"))  # 24 hours later: the task is forgotten
    again = go(shots, provider, series)
    assert states(again) == {"a": "done"}
    rows = status(series)
    assert [a.state for a in rows] == ["lost", "done"]
    assert "resubmitted: the earlier result has expired" in (rows[1].note or "")


def test_free_providers_stay_out_of_the_ledger(samples: dict[int, Path], tmp_path: Path,
                                               series: Path) -> None:
    free = FakeProvider(tmp_path / "free", samples, name="free")
    free.prices = PriceTable({"720P": 0.0, "1080P": 0.0})
    assert states(go([make_shot("a")], free, series)) == {"a": "done"}
    assert default_ledger().entries("free", make_shot("a").hash) == []
    assert default_ledger().entries("fake", make_shot("a").hash) == []


def test_runs_opening_a_new_ledger_at_the_same_moment_all_open_it(tmp_path: Path) -> None:
    """SQLite answers "database is locked" at once, without waiting, to the loser of the race to
    set up a new file (the switch to WAL, the first CREATE): each run must open it anyway."""
    import threading

    from storyboard.run.team.ledger import SqliteLedger
    failures: list[BaseException] = []
    for round_ in range(12):
        path = tmp_path / f"round{round_}" / "ledger.sqlite"
        start = threading.Barrier(6)

        def open_it(path: Path = path, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                SqliteLedger(path).close()
            except BaseException as error:
                failures.append(error)
        threads = [threading.Thread(target=open_it) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert failures == []


ONE_SHOT = """\
storyboard: 1
title: Twice
defaults: {resolution: 720P, ratio: "16:9", duration: 2, model: wan2.7-t2v}
provider: {name: dashscope, poll: [0.1]}
output: {loudness: null}
episodes:
  - id: ep01
    shots:
      - {id: a, prompt: "A cup of coffee steams on a wooden counter"}
"""


@pytest.mark.usefixtures("env")
def test_a_request_another_folder_rendered_today_is_planned_as_render_fetches_it(
        tmp_path: Path, emulator: Callable[..., Any]) -> None:
    """The same request in a second folder: render downloads the first folder's result again (the
    ledger) and pays nothing, so plan prices it at nothing and says why."""
    emu = emulator()
    first, second = tmp_path / "first", tmp_path / "second"
    for root in (first, second):
        root.mkdir()
        (root / "storyboard.yaml").write_text(ONE_SHOT, encoding="utf-8")
    assert invoke("render", first, "--yes").exit_code == 0
    planned = json.loads(invoke("plan", second, "--json").stdout)
    row = planned["shots"][0]
    assert (row["status"], row["cost"]) == ("ledger", 0.0), row
    assert planned["counts"]["ledger"] == 1 and planned["counts"]["in flight"] == 0
    assert "paid by an earlier render of the same request" in row["note"], row
    sent = emu.stats()["submissions"]["total"]
    done = invoke("render", second, "--yes", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["spent"] == 0.0
    assert emu.stats()["submissions"]["total"] == sent
