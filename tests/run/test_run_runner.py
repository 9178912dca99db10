"""The runner against an in-process fake provider: money is never spent twice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storyboard.errors import RateLimited, RequestRejected, ServerError, TransportError
from storyboard.language.request import CompiledEpisode, CompiledShot, Manifest
from storyboard.run import (
    Journal,
    OutputCache,
    RunResult,
    ShotEvent,
    cancel_pending,
    read_lock,
    render,
    status,
)
from storyboard.run.trip.model import Later
from storyboard.targets import TaskStatus
from tests.fixtures.run_fakes import FakeProvider, flags_and_wiring, make_shot


class FakeClock:
    """Virtual time: ``sleep`` advances it at once and remembers how long it was asked to wait."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.delays: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.t += max(seconds, 0.0)
        await asyncio.sleep(0)


@pytest.fixture
def samples(make_media: Callable[..., Path], tmp_path: Path) -> dict[int, Path]:
    return {s: make_media("video", tmp_path / "samples" / f"{s}s.mp4", seconds=s, width=64,
                          height=48) for s in (2, 3)}


@pytest.fixture
def provider(tmp_path: Path, samples: dict[int, Path]) -> FakeProvider:
    return FakeProvider(tmp_path / "provider", samples)


@pytest.fixture
def series(tmp_path: Path) -> Path:
    root = tmp_path / "series"
    root.mkdir()
    return root


Run = Callable[..., RunResult]


@pytest.fixture
def run(series: Path, provider: FakeProvider) -> Run:
    """render() with virtual time; returns the result, events in ``run.events``."""
    events: list[ShotEvent] = []

    def go(shots: list[CompiledShot] | Manifest, **kw: Any) -> RunResult:
        clock = kw.pop("clock", FakeClock())
        kw.setdefault("series_dir", series)
        kw.setdefault("submit_rate", 1000.0)
        kw.setdefault("poll_schedule", (1.0,))
        chosen = kw.pop("provider", provider)
        flags, wiring = flags_and_wiring(sleep=clock.sleep, clock=clock.now,
                                         on_event=events.append, **kw)
        return asyncio.run(render(shots, chosen, flags, wiring))

    go.events = events  # type: ignore[attr-defined]
    return go


def states(result: RunResult) -> dict[str, str]:
    return {s.shot: s.state for s in result.shots}


# --- the everyday paths ---------------------------------------------------------------------------


def test_happy_path_renders_caches_and_reports(run: Run, provider: FakeProvider,
                                               series: Path) -> None:
    shots = [make_shot("a"), make_shot("b"), make_shot("c", duration=3)]
    result = run(shots)
    assert states(result) == {"a": "done", "b": "done", "c": "done"}
    assert provider.created() == {"a": 1, "b": 1, "c": 1}
    assert result.spent == pytest.approx(0.2 + 0.2 + 0.3, abs=1e-3)
    cache = OutputCache(series, "fake")
    for shot in shots:
        assert cache.has(shot.hash)
        assert cache.get(shot.hash).task_id.endswith(shot.id)  # type: ignore[union-attr]
    assert [e.state for e in run.events if e.shot == "a"] == [  # type: ignore[attr-defined]
        "queued", "submitted", "running", "downloading", "done"]
    assert {a.state for a in status(series)} == {"done"}
    assert not list(cache.dir.glob(".*"))  # no temporary file left


def test_cache_hit_submits_nothing(run: Run, provider: FakeProvider) -> None:
    shots = [make_shot("a"), make_shot("b")]
    run(shots)
    provider.calls.clear()
    again = run(shots)
    assert states(again) == {"a": "cached", "b": "cached"}
    assert provider.calls["submit"] == 0 and provider.calls["query"] == 0
    assert again.spent == 0 and again.submits == 0


def test_reverting_an_edit_costs_nothing(run: Run, provider: FakeProvider) -> None:
    run([make_shot("a", prompt="one")])
    run([make_shot("a", prompt="two")])
    back = run([make_shot("a", prompt="one")])
    assert states(back) == {"a": "cached"}
    assert sum(provider.created().values()) == 2


def test_failed_task_is_reported_and_others_continue(run: Run, provider: FakeProvider,
                                                     series: Path) -> None:
    provider.on("b", outcome=TaskStatus.FAILED, code="DataInspectionFailed",
                message="output blocked by moderation")
    result = run([make_shot("a"), make_shot("b"), make_shot("c")])
    assert states(result) == {"a": "done", "b": "failed", "c": "done"}
    failed = result.by_state("failed")[0]
    assert failed.code == "DataInspectionFailed" and "moderation" in failed.message
    # A refused output of a provider that declares nothing is counted as billed (fails closed:
    # DashScope's own failed tasks are free, a gateway's refused output is not).
    assert "failed after the render, billed" in failed.message
    assert result.spent == pytest.approx(0.6)
    row = next(a for a in status(series) if a.shot == "b")
    assert (row.state, row.error_code, row.cost) == ("failed", "DataInspectionFailed",
                                                     pytest.approx(0.2))


def test_next_run_retries_only_the_failed_shots(run: Run, provider: FakeProvider) -> None:
    provider.on("b", outcome=TaskStatus.FAILED, code="InternalError")
    shots = [make_shot("a"), make_shot("b"), make_shot("c")]
    run(shots)
    provider.on("b")  # the service recovered
    again = run(shots)
    assert states(again) == {"a": "cached", "b": "done", "c": "cached"}
    assert provider.created() == {"a": 1, "b": 2, "c": 1}


def test_non_retryable_submit_error_fails_that_shot_only(run: Run,
                                                         provider: FakeProvider) -> None:
    provider.on("a", submit_errors=[RequestRejected("bad", code="InvalidParameter", status=400)])
    result = run([make_shot("a"), make_shot("b")])
    assert states(result) == {"a": "failed", "b": "done"}
    assert result.by_state("failed")[0].code == "InvalidParameter"
    assert provider.calls["submit"] == 2


# --- resume and reconcile: never submit twice -------------------------------------------------------


def test_resumes_a_journaled_task_instead_of_submitting(run: Run, provider: FakeProvider,
                                                        series: Path) -> None:
    shot = make_shot("a")
    with Journal.open(series) as journal:
        attempt = journal.begin(shot, "fake", "fake", estimate=0.2)
        journal.set_task(attempt.id, provider._create(shot))
    result = run([shot])
    assert states(result) == {"a": "done"}
    assert provider.calls["submit"] == 0
    assert provider.created() == {"a": 1}


def test_intent_without_task_id_adopts_the_task_the_provider_has(run: Run,
                                                                 provider: FakeProvider,
                                                                 series: Path) -> None:
    shot = make_shot("a")
    with Journal.open(series) as journal:
        journal.begin(shot, "fake", "fake", estimate=0.2)
    provider._create(shot)  # the submit reached the provider; its answer was never read
    result = run([shot])
    assert states(result) == {"a": "done"}
    assert provider.calls["submit"] == 0 and provider.calls["find"] == 1
    assert provider.created() == {"a": 1}
    [row] = status(series)
    assert row.state == "done" and "reconcile" in (row.note or "")


def test_intent_without_task_at_the_provider_is_submitted_again(run: Run,
                                                                provider: FakeProvider,
                                                                series: Path) -> None:
    shot = make_shot("a")
    with Journal.open(series) as journal:
        journal.begin(shot, "fake", "fake", estimate=0.2)
    result = run([shot])
    assert states(result) == {"a": "done"}
    assert provider.created() == {"a": 1}
    first, second = status(series)
    assert first.state == "lost" and "no task" in (first.note or "")
    assert second.state == "done" and "resubmitted" in (second.note or "")


def test_intent_stays_when_find_keeps_failing(run: Run, provider: FakeProvider,
                                              series: Path) -> None:
    shot = make_shot("a")
    with Journal.open(series) as journal:
        journal.begin(shot, "fake", "fake", estimate=0.2)

    async def broken_find(shot: CompiledShot, since: float) -> None:
        raise RequestRejected("list refused", status=400)

    provider.find = broken_find  # type: ignore[method-assign]
    result = run([shot])
    assert states(result) == {"a": "pending"}
    assert provider.calls["submit"] == 0
    assert [a.state for a in status(series)] == ["intent"]


def test_ambiguous_submit_error_with_task_created_is_adopted(run: Run,
                                                             provider: FakeProvider) -> None:
    provider.on("a", lost_answers=1)
    result = run([make_shot("a")])
    assert states(result) == {"a": "done"}
    assert provider.calls["submit"] == 1 and provider.calls["find"] == 1
    assert provider.created() == {"a": 1}


def test_ambiguous_submit_error_without_task_is_never_resent(run: Run, provider: FakeProvider,
                                                             series: Path) -> None:
    """22.1: a sent submit may land late; the list is asked over ``late_window``, then the shot
    stops as ambiguous and stays so in the next run (settled by ``storyboard task``)."""
    provider.on("a", submit_errors=[TransportError("read timeout")])
    clock = FakeClock()
    result = run([make_shot("a")], clock=clock)
    assert states(result) == {"a": "pending"} and result.shots[0].code == "AmbiguousTask"
    assert "within 150 s" in result.shots[0].message and "task forget" in result.shots[0].message
    assert provider.calls["submit"] == 1 and provider.calls["find"] == 13
    assert provider.created() == {}
    again = run([make_shot("a")])
    assert states(again) == {"a": "pending"} and again.shots[0].code == "AmbiguousTask"
    assert provider.calls["submit"] == 1
    assert [a.state for a in status(series)] == ["intent"]


def test_submit_timeout_goes_through_reconcile(run: Run, provider: FakeProvider,
                                               series: Path) -> None:
    original = provider.submit
    calls = {"n": 0}

    async def slow_then_lost(shot: CompiledShot, first_frame: Path | None) -> str:
        calls["n"] += 1
        task_id = await original(shot, first_frame)
        if calls["n"] == 1:
            await asyncio.sleep(5)  # the answer takes longer than request_timeout
        return task_id

    provider.submit = slow_then_lost  # type: ignore[method-assign]
    result = run([make_shot("a")], request_timeout=0.05)
    assert states(result) == {"a": "done"}
    assert provider.created() == {"a": 1}
    assert calls["n"] == 1 and provider.calls["find"] == 1


def test_429_and_5xx_are_retried_directly_honouring_retry_after(run: Run,
                                                                provider: FakeProvider) -> None:
    provider.on("a", submit_errors=[
        RateLimited("slow down", code="Throttling.RateQuota", status=429, retry_after=7.0),
        ServerError("unavailable", status=503)])
    clock = FakeClock()
    result = run([make_shot("a")], clock=clock)
    assert states(result) == {"a": "done"}
    # A rate limit takes nothing in; a 503 may come after the task was made: the list is asked
    # (it shows none here) before the submit is sent again.
    assert provider.calls["find"] == 1
    assert provider.created() == {"a": 1}
    assert any(7.0 <= d <= 7.8 for d in clock.delays)


def test_retries_give_up_after_max_retries(run: Run, provider: FakeProvider,
                                           series: Path) -> None:
    provider.on("a", submit_errors=[ServerError("down", status=500) for _ in range(10)])
    result = run([make_shot("a")], max_retries=2)
    assert states(result) == {"a": "failed"}
    assert provider.calls["submit"] == 3
    assert [a.state for a in status(series)] == ["failed"]


def test_query_errors_are_retried(run: Run, provider: FakeProvider) -> None:
    provider.on("a", query_errors=[ServerError("blip", status=502), TransportError("reset")])
    result = run([make_shot("a")])
    assert states(result) == {"a": "done"}
    assert provider.created() == {"a": 1}


def test_a_burst_of_query_errors_longer_than_max_retries_is_outlasted(
        run: Run, provider: FakeProvider) -> None:
    """A poll is free and the task runs whatever we do: ten errors in a row (more than
    max_retries, well within query_patience) do not end the shot pending."""
    provider.on("a", query_errors=[ServerError("blip", status=500) for _ in range(10)])
    result = run([make_shot("a")], max_retries=2)
    assert states(result) == {"a": "done"}
    assert provider.created() == {"a": 1}


def test_query_errors_that_last_past_the_patience_leave_the_task_journaled(
        run: Run, provider: FakeProvider, series: Path) -> None:
    provider.on("a", query_errors=[ServerError("down", status=503) for _ in range(500)])
    clock = FakeClock()
    result = run([make_shot("a")], clock=clock)
    assert states(result) == {"a": "pending"}
    assert "cannot ask about the task" in result.shots[0].message
    assert 300 <= clock.t - 1000 <= 300 + 2 * 60 + 2  # the patience, then one capped backoff
    assert provider.calls["query"] < 40  # backoff, not a busy loop
    provider.on("a")
    again = run([make_shot("a")])
    assert states(again) == {"a": "done"}
    assert provider.created() == {"a": 1}


def test_download_failure_is_retried_with_the_same_task(run: Run,
                                                        provider: FakeProvider) -> None:
    provider.on("a", download_failures=1)
    result = run([make_shot("a")])
    assert states(result) == {"a": "done"}
    assert provider.calls["download"] == 2
    assert provider.created() == {"a": 1}


def test_a_burst_of_download_failures_is_outlasted(run: Run, provider: FakeProvider) -> None:
    """Downloads are free and the video waits for hours: eight failures in a row (a CDN's bad
    minute) still end with the video, from the one task, without leaving the shot pending."""
    provider.on("a", download_failures=8)
    result = run([make_shot("a")])
    assert states(result) == {"a": "done"}
    assert provider.calls["download"] == 9
    assert provider.created() == {"a": 1}


def test_download_that_keeps_failing_stays_journaled(run: Run, provider: FakeProvider,
                                                     series: Path) -> None:
    provider.on("a", download_failures=99)
    result = run([make_shot("a")])
    assert states(result) == {"a": "pending"}
    assert [a.state for a in status(series)] == ["downloading"]
    provider.on("a")
    again = run([make_shot("a")])
    assert states(again) == {"a": "done"}
    assert provider.created() == {"a": 1}


def test_unusable_video_fails_verification(run: Run, provider: FakeProvider,
                                           series: Path) -> None:
    provider.on("a", video_seconds=3)  # asked for 2 s
    result = run([make_shot("a")])
    assert states(result) == {"a": "failed"}
    assert result.shots[0].code == "OutputInvalid"
    assert not OutputCache(series, "fake").has(make_shot("a").hash)
    kept = list((series / ".storyboard" / "rejected").glob("*.mp4"))
    assert len(kept) == 1 and kept[0].stat().st_size > 0  # paid for, so kept for a person
    assert str(kept[0]) in result.shots[0].message
    # billed (the task succeeded): counted as spent, journaled, and downloaded twice, not nine times
    assert result.shots[0].cost == pytest.approx(0.2) and result.spent == pytest.approx(0.2)
    assert [(a.state, a.cost) for a in status(series)] == [("failed", pytest.approx(0.2))]
    assert provider.calls["download"] == 2


def test_a_task_that_never_finishes_gives_up_and_resumes_later(run: Run, provider: FakeProvider,
                                                               series: Path) -> None:
    provider.on("a", polls=10**9)
    result = run([make_shot("a")], max_wait=60)
    assert states(result) == {"a": "pending"}
    assert "run again" in result.shots[0].message
    [row] = status(series)
    assert row.state == "running" and row.task_id
    provider.on("a", polls=0)
    again = run([make_shot("a")])
    assert states(again) == {"a": "done"}
    assert provider.created() == {"a": 1}


def test_kill_after_the_move_before_done_is_a_cache_hit(run: Run, provider: FakeProvider,
                                                        series: Path) -> None:
    shot = make_shot("a")
    run([shot])
    with Journal.open(series) as journal:  # as if killed right after the rename
        journal.set_state(journal.attempts()[0].id, "downloading")
    again = run([shot])
    assert states(again) == {"a": "cached"}
    assert provider.created() == {"a": 1}
    [row] = status(series)
    assert row.state == "done" and "recovered" in (row.note or "")


# --- money ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 4])
def test_budget_stops_further_submits(run: Run, provider: FakeProvider,
                                      concurrency: int) -> None:
    shots = [make_shot(f"s{i}") for i in range(5)]  # 0.20 each
    result = run(shots, budget=0.5, concurrency=concurrency)
    assert sum(provider.created().values()) == 2
    assert [s.state for s in result.shots].count("skipped") == 3
    assert result.spent == pytest.approx(0.4)
    assert all("budget" in s.message for s in result.by_state("skipped"))
    assert "skipped" in {e.state for e in run.events}  # type: ignore[attr-defined]


def test_budget_counts_in_flight_estimates(run: Run, provider: FakeProvider) -> None:
    result = run([make_shot("a"), make_shot("b")], budget=0.3, concurrency=2)
    assert [s.state for s in result.shots] == ["done", "skipped"]
    assert sum(provider.created().values()) == 1


def test_shots_asked_once_the_first_are_made_run_in_the_same_run_under_one_budget(
        run: Run, provider: FakeProvider, series: Path) -> None:
    """``Wiring.later`` (a version's passes, asked from its made lines): called once with the
    first shots' results, its shots run in the same run (one lock written with every shot), the
    budget counting what the first shots spent, a shot it leaves out skipped with its reason."""
    first = [make_shot("line1"), make_shot("line2")]  # 0.20 each
    then = [make_shot("pass1"), make_shot("pass2"), make_shot("pass3")]
    seen: list[list[str]] = []

    def later(ended: Any) -> Later:
        seen.append([r.state for r in ended])
        assert all(OutputCache(series, provider.cache_key).has(s.hash) for s in first)
        return Later(then, {then[2].hash: "left out by the budget's cut"})

    result = run(first, budget=0.7, concurrency=1, later=later)
    assert seen == [["done", "done"]]
    assert [s.shot for s in result.shots] == ["line1", "line2", "pass1", "pass2", "pass3"]
    assert [s.state for s in result.shots] == ["done", "done", "done", "skipped", "skipped"]
    assert "budget" in result.shots[3].message and "cut" in result.shots[4].message
    assert result.spent == pytest.approx(0.6) and sum(provider.created().values()) == 3
    locked = read_lock(series / "storyboard.lock").shots
    assert {"demo/ep01/line1", "demo/ep01/pass1"} <= set(locked)


def test_same_request_twice_in_a_run_is_paid_once(run: Run, provider: FakeProvider) -> None:
    one = make_shot("hero", prompt="same", episode="ep01")
    two = make_shot("hero", prompt="same", episode="ep02")
    assert one.hash == two.hash
    result = run([one, two])
    assert [s.state for s in result.shots] == ["done", "cached"]
    assert provider.calls["submit"] == 1


def test_concurrency_is_bounded(run: Run, provider: FakeProvider) -> None:
    in_flight, peak = set(), 0
    original = provider.query

    async def watching(task_id: str) -> Any:
        nonlocal peak
        in_flight.add(task_id)
        peak = max(peak, len(in_flight))
        state = await original(task_id)
        if state.status.finished:
            in_flight.discard(task_id)
        return state

    provider.query = watching  # type: ignore[method-assign]
    for i in range(8):
        provider.on(f"s{i}", polls=3)
    run([make_shot(f"s{i}") for i in range(8)], concurrency=3)
    # never more than the bound; at least two at once (the clock is virtual, but the journal's
    # writes are real: on a loaded machine the third submit can land after the first task ended)
    assert 2 <= peak <= 3


# --- first-frame chains ---------------------------------------------------------------------------


def test_dependency_renders_first_and_hands_its_last_frame(run: Run,
                                                           provider: FakeProvider) -> None:
    shots = [make_shot("next", depends_on="first"), make_shot("first")]
    shots = [shots[1], shots[0]]
    result = run(shots)
    assert states(result) == {"first": "done", "next": "done"}
    assert provider.order == ["first", "next"]
    frame = provider.first_frames["next"]
    assert frame is not None and frame.suffix == ".png" and frame.stat().st_size > 0


def test_shot_after_a_failed_dependency_is_blocked(run: Run, provider: FakeProvider) -> None:
    provider.on("first", outcome=TaskStatus.FAILED, code="InternalError")
    result = run([make_shot("first"), make_shot("next", depends_on="first"),
                  make_shot("other")])
    assert states(result) == {"first": "failed", "next": "blocked", "other": "done"}
    assert "next" not in provider.created()
    assert "blocked" in {e.state for e in run.events}  # type: ignore[attr-defined]


def test_dependency_outside_the_run_comes_from_the_cache(run: Run,
                                                         provider: FakeProvider) -> None:
    run([make_shot("first")])
    result = run([make_shot("next", depends_on="first")])
    assert states(result) == {"next": "done"}


def test_dependency_never_rendered_blocks(run: Run, provider: FakeProvider) -> None:
    result = run([make_shot("next", depends_on="first")])
    assert states(result) == {"next": "blocked"}
    assert provider.calls["submit"] == 0


# --- the lock file, cancel --------------------------------------------------------------------------


def test_lock_file_content_and_stable_order(run: Run, series: Path) -> None:
    shots = [make_shot("b", episode="ep02"), make_shot("a"), make_shot("c")]
    result = run(shots)
    text = (series / "storyboard.lock").read_text()
    data = json.loads(text)
    assert list(data["shots"]) == ["demo/ep01/a", "demo/ep01/c", "demo/ep02/b"]
    entry = data["shots"]["demo/ep01/a"]
    cached = OutputCache(series, "fake").get(shots[1].hash)
    assert cached is not None
    assert entry["hash"] == shots[1].hash and entry["output_sha256"] == cached.sha256
    assert entry["task_id"] == result.shots[1].task_id and entry["provider"] == "fake"
    assert entry["seed"] == 7 and entry["billed_seconds"] == 2 and entry["cost"] == 0.2
    assert entry["parameters"]["duration"] == 2 and len(entry["prompt_sha256"]) == 64
    assert entry["media"]["Image 1"]["url"] == "https://example.com/mia.png"
    assert "Signature" not in text
    run(list(reversed(shots)))  # all cached, another order: the same bytes
    assert (series / "storyboard.lock").read_text() == text


def test_lock_file_drops_deleted_shots_on_a_whole_series_render(run: Run, series: Path) -> None:
    run([make_shot("a"), make_shot("gone")])

    def manifest(shots: list[CompiledShot]) -> Manifest:
        return Manifest("Demo", "demo", series, series / "storyboard.yaml",
                        [CompiledEpisode("ep01", "One", shots)])

    run(manifest([make_shot("a")]))
    assert list(read_lock(series / "storyboard.lock").shots) == ["demo/ep01/a"]


def test_failed_render_keeps_the_previous_lock_entry(run: Run, provider: FakeProvider,
                                                     series: Path) -> None:
    run([make_shot("a", prompt="one")])
    provider.on("a", outcome=TaskStatus.FAILED)
    run([make_shot("a", prompt="two")])
    entry = read_lock(series / "storyboard.lock").shots["demo/ep01/a"]
    assert entry["hash"] == make_shot("a", prompt="one").hash


def test_cancel_pending_cancels_what_it_can(provider: FakeProvider, series: Path) -> None:
    waiting, running, intent = make_shot("waiting"), make_shot("running"), make_shot("intent")
    with Journal.open(series) as journal:
        for shot in (waiting, running):
            journal.set_task(journal.begin(shot, "fake", "fake", estimate=0.2).id,
                             provider._create(shot))
        journal.begin(intent, "fake", "fake", estimate=0.2)
    provider.on("running", polls=10**9)
    asyncio.run(provider.query(provider.tasks()[1]["task_id"]))  # it has started
    outcomes = asyncio.run(cancel_pending(series, provider))
    by_shot = {o.attempt.shot: o for o in outcomes}
    assert by_shot["waiting"].canceled and not by_shot["running"].canceled
    assert not by_shot["intent"].canceled and "no task id" in by_shot["intent"].message
    assert {a.shot: a.state for a in status(series)} == {
        "waiting": "canceled", "running": "submitted", "intent": "intent"}


def test_second_runner_on_the_same_series_is_refused(series: Path) -> None:
    from storyboard.errors import JournalError
    from storyboard.run.state.runlock import run_lock

    with run_lock(series), pytest.raises(JournalError, match="another storyboard render"), \
            run_lock(series):
        pass  # pragma: no cover
