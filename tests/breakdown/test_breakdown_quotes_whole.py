"""The quotes a shot may give, never cut at a title's full stop in a series begun so (issue 98,
item 2): ``He's dying, Dr. Watson.`` is one choice, not ``He's dying, Dr.`` and ``Watson.``. A
series whose answers were stored before keeps the cut it was asked with (asked otherwise, each of
its calls would be paid again: the kept real-model runs replay with no call,
``test_breakdown_corpus_replay.py``); ``.storyboard/breakdown/questions.json`` pins the rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyboard.breakdown.pipeline import Options, breakdown
from storyboard.breakdown.questions.quotable import quotable, sentences
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.state.answerstore import FOLDER, QUESTIONS, RULES, AnswerCache
from storyboard.emulator.server import EmulatorServer
from tests.fixtures.breakdown import KEY_ENV, chat_base, requests

SICKROOM = """\
# The Sickroom

"He's dying, Dr. Watson," said Mrs. Hudson. "He has not eaten for three days."

"Then fetch Mr. Culverton Smith at once, Mrs. Hudson," said Holmes. "Tell him I am dying."

Watson waited by the door. "Mr. Holmes, you must let me look at you," he said.

"You will stay where you are, Dr. Watson," said Holmes. "Mr. Smith will come."
"""


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def test_a_speech_is_cut_at_every_stop_but_a_titles_in_a_series_begun_so() -> None:
    said = "He's dying, Dr. Watson. Fetch Mr. Smith! Is it you, Mrs. Hudson? Call Mr."
    assert sentences(said, whole_titles=True) == [
        "He's dying, Dr. Watson.", "Fetch Mr. Smith!", "Is it you, Mrs. Hudson?", "Call Mr."]
    assert sentences(said, whole_titles=False) == [
        "He's dying, Dr.", "Watson.", "Fetch Mr.", "Smith!", "Is it you, Mrs.", "Hudson?",
        "Call Mr."]
    lines = tuple(SICKROOM.splitlines()[2:5])
    whole = quotable(Chapter("sickroom.md", 1, "One", 3, lines, rules=2))
    cut = quotable(Chapter("sickroom.md", 1, "One", 3, lines))
    assert whole == ["He's dying, Dr. Watson", "He has not eaten for three days.",
                     "Then fetch Mr. Culverton Smith at once, Mrs. Hudson", "Tell him I am dying."]
    assert "He's dying, Dr." in cut and not any("Dr. Watson" in q for q in cut)


def test_the_rule_is_pinned_for_a_fresh_series_and_an_older_one_keeps_its_cut(
        tmp_path: Path) -> None:
    fresh = AnswerCache(tmp_path / "fresh")
    assert fresh.rules(pin=False) == RULES == 4
    assert not (tmp_path / "fresh" / FOLDER / QUESTIONS).exists()
    assert fresh.rules(pin=True) == 4  # a run that asks pins it
    pinned = tmp_path / "fresh" / FOLDER / QUESTIONS
    assert json.loads(pinned.read_text("utf-8")) == {"rules": 4}
    fresh.put("a" * 64, {"content": "{}"})
    assert fresh.rules(pin=True) == 4  # pinned: answers stored since change nothing
    older = AnswerCache(tmp_path / "older")
    older.put("b" * 64, {"content": "{}"})  # answers stored before the rules, and no pin
    assert older.rules(pin=True) == 1
    assert not (tmp_path / "older" / FOLDER / QUESTIONS).exists()
    pinned = tmp_path / "older" / FOLDER / QUESTIONS
    for text in ("not json", '{"rules": 5}', '{"rules": 0}', '{"rules": 2.0}', '{"rules": true}', "[]"):
        pinned.write_text(text, encoding="utf-8")  # read as no pin: its answers decide
        assert older.rules(pin=True) == 1, text
    pinned.write_text('{"rules": 1}', encoding="utf-8")
    assert fresh.rules(pin=True) == 4 and older.rules(pin=True) == 1
    pinned.write_text('{"rules": 2}', encoding="utf-8")  # a series begun by rules 2 keeps them
    assert older.rules(pin=True) == 2
    pinned.write_text('{"rules": 3}', encoding="utf-8")  # and one begun by rules 3, its own
    assert older.rules(pin=True) == 3


def test_a_fresh_season_is_asked_whole_sentences_and_replays_them_with_no_call(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    source, series = tmp_path / "sickroom.md", tmp_path / "series"
    source.write_text(SICKROOM, encoding="utf-8")
    options = Options(base_url=chat_base(chat_emulator), key_env=KEY_ENV, yes=True,
                      stream="false", episodes=1, episode_seconds=30.0, ratio="9:16")
    report = breakdown(source, series, options)
    assert report.problems == [], report.problems
    assert json.loads((series / FOLDER / QUESTIONS).read_text("utf-8")) == {"rules": 4}
    quotes = [line["quote"] for path in sorted((series / FOLDER / "answers").glob("*.json"))
              for shot in [json.loads(json.loads(path.read_text("utf-8"))["content"])]
              if isinstance(shot, dict) and "scenes" in shot
              for scene in shot["scenes"] for line in scene.get("lines", [])]
    assert quotes and any(". " in q and ("Dr. " in q or "Mr. " in q or "Mrs. " in q)
                          for q in quotes), quotes  # a sentence past a title's stop, asked whole
    assert not any(q.endswith(("Dr.", "Mr.", "Mrs.")) for q in quotes), quotes
    before = requests(chat_emulator)
    again = breakdown(source, series, options)
    assert again.problems == [] and requests(chat_emulator) == before  # the same asks: stored


def test_a_series_broken_down_by_chapters_is_pinned_too(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    source, series = tmp_path / "sickroom.md", tmp_path / "series"
    source.write_text(SICKROOM, encoding="utf-8")
    options = Options(base_url=chat_base(chat_emulator), key_env=KEY_ENV, yes=True,
                      stream="false")
    assert breakdown(source, series, options).problems == []  # chapters: no quote is offered
    assert json.loads((series / FOLDER / QUESTIONS).read_text("utf-8")) == {"rules": 4}
    assert AnswerCache(series).rules(pin=False) == 4  # its answers stored since change nothing
