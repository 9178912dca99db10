"""A season's cuts moved by the model (issue 84, item 1): each episode's end may move only to a
nearby unit boundary, within its share of the story, and says why; the episodes after it start
where it ends; an edited season.yaml is its own cuts, asked nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.breakdown.pipeline import Options, Report, breakdown
from storyboard.breakdown.questions import schemas
from storyboard.breakdown.shape import season
from storyboard.breakdown.source import Chapter, read_story
from storyboard.breakdown.stages import cuts
from storyboard.emulator.server import EmulatorServer
from storyboard.language.variations import compile_variations
from tests.breakdown.scripted import Scripted, completion, stage_of
from tests.fixtures.breakdown import KEY_ENV, chat_base

# twelve paragraphs of one length: two episodes of six planned, the sixth ending flat and the
# seventh on a question
PARAGRAPHS = [f"Mia walked on along the grey cliff path, counting her steps, {n}." for n in
              range(1, 13)]
PARAGRAPHS[6] = "Mia stopped at the gate. Who had left the lamp burning in the tower?"


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")
    yield


def story(tmp_path: Path, paragraphs: list[str] = PARAGRAPHS) -> Path:
    source = tmp_path / "cliff.md"
    source.write_text("# The Cliff\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return source


def options(base: str, **changes: Any) -> Options:
    return Options(**{"base_url": base, "key_env": KEY_ENV, "yes": True, "stream": "false",
                      "episodes": 2, "episode_seconds": 30.0, "ratio": "9:16", **changes})


def beats(series: Path) -> list[str]:
    text = (series / "season.yaml").read_text(encoding="utf-8")
    return [line.split('"')[1] for line in text.split("\n") if line.startswith("    beats: ")]


def test_an_end_may_move_only_to_a_near_unit_within_its_share_leaving_the_next_a_unit() -> None:
    found = season.story_units(read_story_of(PARAGRAPHS), 2)
    share = sum(len(u.text) for u in found) / 2
    assert cuts.possible(found, 0, 5, 11, share) == [4, 5, 6]  # a unit is 1/6 of a share
    assert cuts.possible(found, 0, 5, 6, share) == [4, 5]  # the next episode keeps one
    uneven = season.story_units(read_story_of(["A short one."] * 3 + ["x " * 400 + "end."]), 2)
    whole = sum(len(u.text) for u in uneven) / 2
    assert cuts.possible(uneven, 0, 2, 3, whole) == [2]  # never further off its share than planned


def read_story_of(paragraphs: list[str]) -> Any:
    import tempfile
    return read_story(story(Path(tempfile.mkdtemp()), paragraphs))


def test_the_model_moves_a_cut_to_the_question_and_the_next_episode_starts_after_it(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    series = tmp_path / "series"
    report = breakdown(story(tmp_path), series, options(chat_base(chat_emulator)))
    assert report.problems == [], report.problems
    assert beats(series) == ["1.1-1.7", "1.8-1.12"]  # planned 1.1-1.6: moved to the question
    text = (series / "season.yaml").read_text(encoding="utf-8")
    assert "    # ends at 1.7, not 1.6 as planned: it ends on: " in text
    first = (series / "episodes/01-the-cliff.yaml").read_text(encoding="utf-8")
    second = (series / "episodes/02-the-cliff.yaml").read_text(encoding="utf-8")
    assert "lamp burning" in first and "lamp burning" not in second
    assert report.spend is not None and report.spend.by_stage["cut"] == 1  # the last: none
    assert compile_variations(series).diagnostics() == []  # season.yaml's comment read as one
    again = breakdown(story(tmp_path), series, options(chat_base(chat_emulator)))
    assert again.sent == 0 and beats(series) == ["1.1-1.7", "1.8-1.12"]


def test_a_cut_call_is_bounded_to_its_ends_and_a_refused_answer_keeps_the_planned_cut(
        tmp_path: Path) -> None:
    call = Chapter("s.md", 1, "T", 1, (), episode=1, ends=("1.5", "1.6", "1.7"))
    schema = schemas.of("cut", call)
    assert schema["properties"]["end"]["enum"] == ["1.5", "1.6", "1.7"]
    assert schemas.problems("cut", {"end": "1.9", "why": "later"}, call)
    sent = schemas.response_format("cut", "json_schema", call)
    assert sent is not None and '"maxLength": 200' in json.dumps(sent)

    def script(body: dict[str, Any]) -> Any:
        if stage_of(body) == "cut":
            return completion(json.dumps({"end": "2.1", "why": "it is not offered"}))
        return None
    with Scripted(stand_in_or(script)) as server:
        report = breakdown(story(tmp_path), tmp_path / "series",
                           options(server.base_url, model="m", price_in=0.0, price_out=0.0))
    cut_calls = [b for b in server.bodies if stage_of(b) == "cut"]
    assert len(cut_calls) == 3  # sent back twice, then the planned cut kept
    assert beats(tmp_path / "series") == ["1.1-1.6", "1.7-1.12"]
    assert report.problems == []


def stand_in_or(script: Any) -> Any:
    """A script answering its own stages, and every other as the emulator's stand-in does."""
    from storyboard.emulator.chat import episode as stand_in

    def answer(body: dict[str, Any]) -> Any:
        return script(body) or completion(stand_in.content_of(body))
    return answer


def test_a_why_is_written_on_one_line_and_an_edited_season_asks_no_cut(tmp_path: Path) -> None:
    def script(body: dict[str, Any]) -> Any:
        if stage_of(body) == "cut":
            return completion(json.dumps({"end": "1.5", "why": "a turn:\nplaylist: [] # x"}))
        return None
    series = tmp_path / "series"
    with Scripted(stand_in_or(script)) as server:
        given = options(server.base_url, model="m", price_in=0.0, price_out=0.0)
        breakdown(story(tmp_path), series, given)
        text = (series / "season.yaml").read_text(encoding="utf-8")
        assert "    # ends at 1.5, not 1.6 as planned: a turn: playlist: [] # x\n" in text
        assert beats(series) == ["1.1-1.5", "1.6-1.12"]
        (series / "season.yaml").write_text(text.replace('"1.1-1.5"', '"1.1-1.4"').replace(
            '"1.6-1.12"', '"1.5-1.12"'), encoding="utf-8")
        report: Report = breakdown(story(tmp_path), series, given)
    assert report.spend is not None and "cut" not in report.spend.by_stage
    assert beats(series) == ["1.1-1.4", "1.5-1.12"] and report.problems == []


def test_the_estimate_holds_each_cut_call(chat_emulator: EmulatorServer, tmp_path: Path
                                          ) -> None:
    report = breakdown(story(tmp_path), tmp_path / "series",
                       options(chat_base(chat_emulator), dry_run=True))
    assert [p.stage for p in report.estimate.pending].count("cut") == 1


def test_a_seasons_cast_read_from_its_loop_warns_of_a_speaker_it_leaves_out(
        tmp_path: Path) -> None:
    """A season's cast stopped in its loop is read as written whole before the loop (it cannot
    be sent back: the model loops again), and a person the chapter says speaks whom it leaves out
    is a warning at the chapter, by name."""
    source = tmp_path / "gate.md"
    source.write_text('# The Gate\n\n"Open it," said Mia.\n\n"Not tonight," said Sam.\n\n'
                      + "\n\n".join(PARAGRAPHS) + "\n", encoding="utf-8")
    mia = {"name": "Mia", "appearance": "a girl", "voice": "a girl, bright"}
    looping = '{"characters":[' + json.dumps(mia) + "," + json.dumps(mia)[:20]

    def script(body: dict[str, Any]) -> Any:
        if stage_of(body) == "cast":
            return completion(looping, finish="length", completion_tokens=body["max_tokens"])
        return None
    with Scripted(stand_in_or(script)) as server:
        report = breakdown(source, tmp_path / "series",
                           options(server.base_url, model="m", price_in=0.0, price_out=0.0))
    assert report.problems == [], report.problems
    said = "\n".join(w.format() for w in report.warnings)
    assert "gate.md:1:1: warning: the cast answer for chapter 1 (The Gate): read as written " \
        "before the cut, characters: 'Sam' speaks in this chapter (line 5)" in said, said


def test_a_speaker_an_earlier_chapter_cast_is_given_to_a_later_chapter_that_leaves_them_out(
        tmp_path: Path) -> None:
    """The Gift of the Magi on llama-cpp-python: chapter 3's cast left out Della, whom chapter 1
    cast, through its send-backs; the season takes it, says so, and gives her to its shots."""
    source = tmp_path / "gift.md"
    source.write_text('# One\n\n"Jim," said Della, "the money."\n\n# Two\n\nJim came home late.\n\n'
                      '"I sold my hair," said Della.\n', encoding="utf-8")
    della = {"name": "Della", "appearance": "a young wife", "voice": "a woman, soft"}
    jim = {"name": "Jim", "appearance": "a young husband", "voice": "a man, warm"}

    def script(body: dict[str, Any]) -> Any:
        if stage_of(body) == "cast":
            first = json.loads(body["messages"][1]["content"])["chapter"] == "One"
            cast = [della, jim] if first else [jim]
            return completion(json.dumps({"characters": cast, "places": [], "props": []}))
        return None
    with Scripted(stand_in_or(script)) as server:
        report = breakdown(source, tmp_path / "series", options(
            server.base_url, model="m", price_in=0.0, price_out=0.0, episodes=2))
        shots = [b for b in server.bodies if stage_of(b) == "shot"]
    casts = [b for b in server.bodies if stage_of(b) == "cast"]
    assert len(casts) == 1 + 3  # chapter 2's sent back twice: it is not taken at once
    assert report.problems == [], report.problems
    said = "\n".join(w.format() for w in report.warnings)
    assert "the cast answer for chapter 2 (Two): characters: 'Della' speaks in this chapter " \
        "and is not in its cast: given from an earlier chapter's" in said, said
    later = [doc for doc in (json.loads(b["messages"][1]["content"]) for b in shots)
             if doc["lines"][-1][0] >= 7]  # chapter 2's lines
    assert later and all("Della" in doc["characters"] for doc in later)


def test_a_speaker_an_earlier_answer_of_the_same_cast_call_cast_is_taken_from_it(
        tmp_path: Path) -> None:
    """Buster Bear on llama-cpp-python: chapter 8's cast, sent back for Bobby Coon, cast him
    and dropped Sammy Jay, then dropped Bobby again. The season takes the last answer with Bobby
    from the one before, says so, and gives him to his episode's shots."""
    source = tmp_path / "wood.md"
    source.write_text('# One\n\n"Hello," said Sammy Jay.\n\n"Good day," said Bobby Coon.\n',
                      encoding="utf-8")
    sammy = {"name": "Sammy Jay", "appearance": "a blue jay", "voice": "a sharp voice"}
    bobby = {"name": "Bobby Coon", "appearance": "a raccoon", "voice": "a drawl"}
    turns = [[sammy], [bobby], [sammy]]

    def script(body: dict[str, Any]) -> Any:
        if stage_of(body) == "cast":
            cast = turns[(len(body["messages"]) - 2) // 2]  # the turn: each send-back adds two
            return completion(json.dumps({"characters": cast, "places": [], "props": []}))
        return None
    with Scripted(stand_in_or(script)) as server:
        report = breakdown(source, tmp_path / "series", options(
            server.base_url, model="m", price_in=0.0, price_out=0.0, episodes=1))
        shots = [json.loads(b["messages"][1]["content"]) for b in server.bodies
                 if stage_of(b) == "shot"]
    assert report.problems == [], report.problems
    said = "\n".join(w.format() for w in report.warnings)
    assert "the cast answer for chapter 1 (One): characters: 'Bobby Coon' speaks in this " \
        "chapter and the cast's last answer left them out: taken from an earlier answer of the " \
        "same call" in said, said
    assert shots and all({"Sammy Jay", "Bobby Coon"} <= set(doc["characters"]) for doc in shots)
    written = (tmp_path / "series" / "storyboard.yaml").read_text("utf-8")
    assert "a raccoon" in written and "a blue jay" in written
