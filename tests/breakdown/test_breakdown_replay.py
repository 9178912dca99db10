"""The real model's answers kept in ``bench/answers/novel-100000.tar.xz`` (Qwen2.5-Coder-1.5B on
llama-server, ``json_schema``, the suite's 100,000-word novel) replayed from the cache, nothing
sent: each repair that fires on them, counted by mode, and every answer stored still read."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.breakdown.chat.cost import Spend
from storyboard.breakdown.pipeline import Options, asker_for, price_for, walked
from storyboard.breakdown.source import read_story
from tests.fixtures.breakdown import novel
from tests.fixtures.corpus import extracted

STORED = Path(__file__).resolve().parents[2] / "bench" / "answers" / "novel-100000.tar.xz"
KEY_ENV = "STORYBOARD_TEST_REPLAY_KEY"


@pytest.mark.parametrize(("episodes", "cached", "counts"), [
    (80, 169, [("none-entry", 59), ("cut-cast", 21)]),  # a season: its casts (episodes not kept)
    (None, 291, [("none-entry", 59), ("cut-outline", 36), ("cut-summary", 1), ("cut-cast", 21)]),
])
def test_the_novels_stored_answers_replay_with_each_repair_counted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, episodes: int | None, cached: int,
        counts: list[tuple[str, int]]) -> None:
    monkeypatch.setenv(KEY_ENV, "none")
    series = tmp_path / "series"
    extracted(STORED, series / ".storyboard" / "breakdown")
    source = novel(tmp_path / "novel.md", 100_000)
    options = Options(model="local-model", base_url="http://127.0.0.1:9/v1", key_env=KEY_ENV,
                      price_in=0.0, price_out=0.0, stream="true", context=12288,
                      episodes=episodes, yes=True)
    asker = asker_for(series, options, Spend(price_for(options), 0.0), lambda _text: None)
    asker.planning = True  # the cache alone: a call not stored is counted, never sent
    walked(read_story(source), asker, options)
    assert asker.cached == cached and asker.sent == 0
    assert [(r["name"], r["mode"], r["count"]) for r in asker.judge.counted()] == [
        (name, "json_schema", count) for name, count in counts]
    assert sum(count for _name, count in counts) <= len(asker.judge.notes)  # each one said
