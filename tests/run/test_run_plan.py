"""plan: cached / new / changed (and why) / waits, and the cost, without network or ffmpeg."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from storyboard.errors import BudgetExceeded, StoryboardError
from storyboard.language.request import CompiledShot, MediaItem, MediaRef
from storyboard.run import OutputCache, apply_price_overrides, check_consent, plan
from storyboard.run.state.lock.lockfile import describe, lock_path, update_lock
from storyboard.targets import PriceTable
from tests.fixtures.run_fakes import make_shot

PRICES = PriceTable({"720P": 0.10, "1080P": 0.15})


def cache(root: Path, *shots: CompiledShot) -> None:
    store = OutputCache(root, "fake")
    store.dir.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        store.path(shot.hash).write_bytes(b"mp4")


def lock(root: Path, *shots: CompiledShot) -> None:
    update_lock(lock_path(root), [describe(s, root) for s in shots])


def with_file(root: Path, shot_id: str, sha: str, *, name: str = "mia.png",
              **kw: object) -> CompiledShot:
    path = root / "media" / name
    media = (MediaItem("reference_image", MediaRef(path=path), "Image 1", "mia"),)
    return make_shot(shot_id, media=media, inputs={str(path): sha}, **kw)  # type: ignore[arg-type]


def the_plan(root: Path, shots: list[CompiledShot], **kw: object):  # type: ignore[no-untyped-def]
    return plan(shots, provider="fake", prices=PRICES, series_dir=root, **kw)  # type: ignore[arg-type]


def test_new_and_cached_shots_and_the_total(tmp_path: Path) -> None:
    a, b, c = make_shot("a"), make_shot("b"), make_shot("c", resolution="1080P", duration=4)
    cache(tmp_path, a)
    result = the_plan(tmp_path, [a, b, c])
    assert [s.status for s in result.shots] == ["cached", "new", "new"]
    assert [s.cost for s in result.shots] == [0.0, 0.2, 0.6]
    assert result.total_cost == pytest.approx(0.8)
    assert result.total_billed_seconds == 6
    assert result.counts()["cached"] == 1 and result.currency == "USD"


def test_changed_prompt(tmp_path: Path) -> None:
    lock(tmp_path, make_shot("a", prompt="Image 1 waves"))
    [shot] = the_plan(tmp_path, [make_shot("a", prompt="Image 1 dances")]).shots
    assert shot.status == "changed"
    assert [(c.kind, c.what) for c in shot.changes] == [("prompt", "prompt")]


def test_changed_reference_file_names_the_reference(tmp_path: Path) -> None:
    lock(tmp_path, with_file(tmp_path, "a", "1" * 64))
    [shot] = the_plan(tmp_path, [with_file(tmp_path, "a", "2" * 64)]).shots
    assert shot.status == "changed"
    [change] = shot.changes
    assert change.kind == "reference" and change.what == "Image 1 (mia)"
    assert "media/mia.png" in change.detail


def test_renamed_reference_file_is_no_change(tmp_path: Path) -> None:
    lock(tmp_path, with_file(tmp_path, "a", "1" * 64, name="old.png"))
    renamed = with_file(tmp_path, "a", "1" * 64, name="new.png", seed=8)
    [shot] = the_plan(tmp_path, [renamed]).shots
    assert [(c.kind, c.what) for c in shot.changes] == [("parameter", "seed")]


def test_changed_parameter_says_which_and_how(tmp_path: Path) -> None:
    lock(tmp_path, make_shot("a", duration=2))
    [shot] = the_plan(tmp_path, [make_shot("a", duration=3)]).shots
    assert [str(c) for c in shot.changes] == ["duration: 2 -> 3"]


def test_reverted_edit_is_cached_not_changed(tmp_path: Path) -> None:
    old, new = make_shot("a", prompt="one"), make_shot("a", prompt="two")
    cache(tmp_path, old, new)
    lock(tmp_path, new)
    assert the_plan(tmp_path, [old]).shots[0].status == "cached"


def test_waits_on_an_uncached_dependency(tmp_path: Path) -> None:
    first, after = make_shot("first"), make_shot("next", depends_on="first")
    result = the_plan(tmp_path, [first, after])
    assert [s.waits_on for s in result.shots] == [None, "first"]
    cache(tmp_path, first)
    assert the_plan(tmp_path, [first, after]).shots[1].waits_on is None


def test_duplicate_requests_are_counted_once(tmp_path: Path) -> None:
    one, two = make_shot("x", prompt="same"), make_shot("x", prompt="same", episode="ep02")
    result = the_plan(tmp_path, [one, two])
    assert result.shots[1].same_as == "demo/ep01/x"
    assert result.total_cost == pytest.approx(0.2)


def test_reference_video_seconds(tmp_path: Path) -> None:
    media = (MediaItem("reference_video", MediaRef(url="https://x/sam.mp4"), "Video 1", "sam"),)
    shot = make_shot("v", media=media, duration=2)
    unknown = the_plan(tmp_path, [shot]).shots[0]
    assert unknown.billed_seconds == 7  # the cap (5) is assumed: never an underestimate
    known = the_plan(tmp_path, [shot], reference_video_seconds=lambda s: 3.0).shots[0]
    assert known.billed_seconds == 5 and known.cost == pytest.approx(0.5)
    long = the_plan(tmp_path, [shot], reference_video_seconds=lambda s: 30.0).shots[0]
    assert long.billed_seconds == 7


def test_price_overrides(tmp_path: Path) -> None:
    result = the_plan(tmp_path, [make_shot("a")],
                      price_overrides={"720P": 0.5, "currency": "EUR"})
    assert result.total_cost == pytest.approx(1.0) and result.currency == "EUR"
    with pytest.raises(StoryboardError, match="720P"):
        apply_price_overrides(PRICES, {"720P": "cheap"})


def test_consent() -> None:
    paid = plan([make_shot("a")], provider="fake", prices=PRICES, series_dir=Path("/nonexistent"))
    assert check_consent(paid, yes=True, budget=None, interactive=False) == "proceed"
    assert check_consent(paid, yes=False, budget=1.0, interactive=False) == "proceed"
    assert check_consent(paid, yes=False, budget=None, interactive=True) == "ask"
    with pytest.raises(BudgetExceeded, match=r"--yes.*--budget"):
        check_consent(paid, yes=False, budget=None, interactive=False)
    free = plan([make_shot("a")], provider="local", prices=PriceTable({"720P": 0.0}),
                series_dir=Path("/nonexistent"))
    assert check_consent(free, yes=False, budget=None, interactive=False,
                         paid=False) == "proceed"
    with pytest.raises(BudgetExceeded):  # a paid provider at prices of 0 still needs consent
        check_consent(free, yes=False, budget=None, interactive=False, paid=True)
    for odd in (math.nan, math.inf, -1.0):
        with pytest.raises(BudgetExceeded, match="finite"):
            check_consent(paid, yes=False, budget=odd, interactive=False)


def test_noop_plan_of_2000_shots_is_fast(tmp_path: Path) -> None:
    shots = [make_shot(f"s{i:04d}", episode=f"ep{i // 100:02d}") for i in range(2000)]
    cache(tmp_path, *shots)
    lock(tmp_path, *shots)
    # this thread's CPU time, not the wall clock: what the plan costs, whatever else the machine
    # runs (a parallel test worker); the plan reads the cache and the lock in this thread
    started = time.thread_time()
    result = the_plan(tmp_path, shots)
    elapsed = time.thread_time() - started
    assert result.counts()["cached"] == 2000 and result.total_cost == 0
    assert elapsed < 1.0
