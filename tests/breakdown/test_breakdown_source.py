"""Chapters and quotes as people write them: a title heading over its chapters, a screenplay read
in windows that stay one episode, a quote that skips a dialogue block's acting notes (and only
inside one block), and a look the story does not give marked as the model's."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.breakdown.chat import fitting
from storyboard.breakdown.chat.fitting import Window
from storyboard.breakdown.pipeline import Options, breakdown
from storyboard.breakdown.source import WINDOW, Chapter, read_story
from storyboard.breakdown.stages.cast import merged
from storyboard.breakdown.stages.chaptershots import built
from storyboard.breakdown.stages.faithful import Flat
from storyboard.breakdown.stages.writer import MODELS_LOOK, series_yaml
from storyboard.emulator.server import EmulatorServer
from tests.fixtures.breakdown import KEY_ENV, chat_base

TITLED = "# The Lamp\n\n## One\n\nMia waits.\n\n## Two\n\nSam runs.\n"


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def test_a_title_heading_with_nothing_under_it_joins_the_next_chapter(tmp_path: Path) -> None:
    story = tmp_path / "lamp.md"
    story.write_text(TITLED, encoding="utf-8")
    read = read_story(story)
    assert [(c.title, c.first, c.last) for c in read.chapters] == [("One", 1, 5), ("Two", 7, 9)]
    assert read.title == "The Lamp"


@pytest.mark.parametrize(("text", "chapters"), [
    ("The Ghost\n\nI\n\nThe house was old.\n\nII\n\nThe ghost came.\n\nIII.\n\nIt left.\n",
     [("I", 1, 5), ("II", 7, 9), ("III.", 11, 13)]),  # The Canterville Ghost's headings
    ("\"Who did it?\"\n\nI\n\nSam said nothing.\n", [("Part 1", 1, 5)]),  # one "I": a line
    ("I\nwent home.\n\nII\nwent out.\n", [("Part 1", 1, 5)]),  # a numeral opening a paragraph
], ids=["numerals", "one-numeral", "opening-a-paragraph"])
def test_a_roman_numeral_alone_in_its_paragraph_heads_a_chapter_where_the_story_has_several(
        tmp_path: Path, text: str, chapters: list[tuple[str, int, int]]) -> None:
    story = tmp_path / "ghost.txt"
    story.write_text(text, encoding="utf-8")
    assert [(c.title, c.first, c.last) for c in read_story(story).chapters] == chapters


def screenplay(scenes: int) -> str:
    rows = ["Title: Long Night", ""]
    for n in range(scenes):
        rows += [f"INT. ROOM {n} - NIGHT", "", f"MIA waits in room {n}.", "", "MIA",
                 f"Room {n} is cold.", ""]
    return "\n".join(rows)


def test_a_screenplays_windows_stay_in_one_episode(chat_emulator: EmulatorServer,
                                                   tmp_path: Path) -> None:
    play = tmp_path / "night.fountain"
    play.write_text(screenplay(WINDOW // 3), encoding="utf-8")
    assert len(read_story(play).chapters) == 2  # read in two windows
    series = tmp_path / "series"
    report = breakdown(play, series, Options(base_url=chat_base(chat_emulator), key_env=KEY_ENV,
                                             yes=True))
    assert report.problems == []
    assert [p.name for p in (series / "episodes").glob("*.yaml")] == ["01-part-1.yaml"]


def chapter(*lines: str) -> Chapter:
    return Chapter("play.fountain", 1, "One", 10, tuple(lines))


def test_a_quote_may_skip_the_acting_notes_inside_one_dialogue_block() -> None:
    flat = Flat(chapter("SAM", "(startled)", "Only me.", "(beat)", "The lamp went out.", "",
                        "MIA", "(softly)", "Then we light it."))
    found = flat.find("Only me. The lamp went out.")
    assert found is not None and (found.text, found.line) == ("Only me. The lamp went out.", 12)
    assert flat.find("The lamp went out. Then we light it.") is None  # two blocks: refused
    assert flat.find("Only me. The lamp went out, she said.") is None


DETECTIVE = ('"You can now go and fetch Mr. Culverton Smith, of 13 Lower Burke Street.',
             'My directions for Mr.', 'Culverton Smith." Then he paused.', "",
             "'With your leave or without it, Mr. Holmes, I am going for a doctor this very "
             "hour,' said I.", "", '"Is that you, Mr. Smith?" "Call Mr."')


def test_a_line_a_titles_stop_cut_is_found_as_its_whole_sentence() -> None:
    """Issue 98, item 2: the quotes offered are cut at every stop (``Mr.`` too); the line
    written is the sentence whole, read onward and back past a title's stop to the sentence's
    end or its quote's close, never past the quotation mark; a line no title cut is as found."""
    flat = Flat(Chapter("detective.txt", 1, "One", 1, DETECTIVE))

    def whole(quote: str) -> tuple[str, int]:
        found = flat.find(quote)
        assert found is not None, quote
        return flat.whole(found).text, flat.whole(found).line
    assert whole("My directions for Mr.") == ("My directions for Mr. Culverton Smith.", 2)
    assert whole("Culverton Smith.") == ("My directions for Mr. Culverton Smith.", 2)
    assert whole("Culverton Smith, of 13 Lower Burke Street.") == (
        "You can now go and fetch Mr. Culverton Smith, of 13 Lower Burke Street.", 1)
    assert whole("With your leave or without it, Mr.") == (
        "With your leave or without it, Mr. Holmes, I am going for a doctor this very hour", 5)
    assert whole("Is that you, Mr.") == ("Is that you, Mr. Smith?", 7)
    assert whole("Call Mr.") == ("Call Mr.", 7)  # its quote closes there: nothing to read on
    found = flat.find("Then he paused.")
    assert found is not None and flat.whole(found) is found


def test_a_sentence_given_in_two_picks_is_written_once_whole() -> None:
    chapter_ = Chapter("detective.txt", 1, "One", 1, DETECTIVE)
    cast = merged([(chapter_, {"characters": [{"name": "Holmes", "appearance": "thin",
                                               "voice": "low"}],
                               "places": [], "props": []})])
    lines = [{"speaker": "Holmes", "quote": "My directions for Mr."},
             {"speaker": "Holmes", "quote": "Culverton Smith."}]
    answer = {"shots": [{"from_line": 1, "to_line": 3, "camera": "close", "cast": ["Holmes"],
                         "scenes": [{"seconds": 3, "action": "Holmes speaks.",
                                     "lines": lines[:1]},
                                    {"seconds": 3, "action": "Holmes waits.",
                                     "lines": lines[1:]}]}]}
    shot, = built(answer, chapter_, cast)
    assert [scene.say for scene in shot.scenes] == [
        [("holmes", "My directions for Mr. Culverton Smith.", 2)], []]


def test_a_look_the_story_does_not_give_is_marked_as_the_models() -> None:
    told = chapter("Tom is ten, a small boy with a red cap.")
    cast = merged([(told, {"characters": [
        {"name": "Tom", "appearance": "a small boy of ten in a red cap", "voice": "young"},
        {"name": "Ann", "appearance": "late 30s, bald, a grey suit", "voice": "low"}],
        "places": [], "props": []})])
    text = series_yaml("Caps", cast, "caps.md")
    tom, ann = (next(row for row in text.splitlines() if row.startswith(f"  {k}:"))
                for k in ("tom", "ann"))
    assert MODELS_LOOK not in tom and tom.endswith("# character, first in chapter 1")
    assert ann.endswith(f"# character, first in chapter 1; {MODELS_LOOK}")


def test_an_ordinary_word_is_sent_back_and_never_joins_the_cast() -> None:
    from storyboard.breakdown.stages.cast import problems
    answer = {"characters": [{"name": "All", "appearance": "a", "voice": "v"},
                             {"name": "the little man", "appearance": "small", "voice": "v"}],
              "places": [{"name": "Round", "look": "x"}], "props": [{"name": "my", "look": "y"}]}
    assert problems(answer) == [
        "characters[0].name: 'All' is an ordinary word, not a person, place or prop: leave it out",
        "places[0].name: 'Round' is an ordinary word, not a person, place or prop: leave it out",
        "props[0].name: 'my' is an ordinary word, not a person, place or prop: leave it out"]
    cast = merged([(chapter("The little man spins all my straw round."), answer)])
    assert list(cast.entries) == ["the_little_man"]


LINES = tuple(f"Mia climbed step {n} of the lighthouse, and Sam called up to her." if n % 3 else
              f'"Step {n}," said Sam, "and the lamp is' for n in range(1, 2 * WINDOW + 11))


def test_a_paragraph_longer_than_a_window_is_read_in_windows_cut_where_sentences_end(
        tmp_path: Path) -> None:
    """The Adventures of Buster Bear, one sentence a line (issue 84): 1,001 lines with no blank
    line were one window, whose cast call needed a context of 38k tokens."""
    story = tmp_path / "lines.txt"
    story.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    chapters = read_story(story).chapters
    assert len(chapters) == 3
    assert [c.first for c in chapters] == [1, chapters[0].last + 1, chapters[1].last + 1]
    assert all(0 < len(c.lines) <= WINDOW for c in chapters)
    assert all(c.lines[-1].endswith(".") for c in chapters[:-1])  # never inside a sentence
    assert {c.part_of for c in chapters} == {1}  # one chapter of the story, read in windows


def test_a_season_fits_its_chapters_to_the_window_by_the_cast_call_it_makes(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    """A season asks a chapter its cast alone: a window too small for the shots call a season
    never makes refuses nothing."""
    story = tmp_path / "lines.txt"
    story.write_text("\n".join(LINES[:WINDOW]) + "\n", encoding="utf-8")
    chapter = read_story(story).chapters[0]
    cast = fitting.largest_prompt(chapter, "cast") + fitting.floor("cast", chapter)
    context = cast + fitting.MARGIN + 8
    assert fitting.max_tokens("shots", fitting.largest_prompt(chapter), Window(context, "set"),
                              chapter) is None  # a chapter's shots call could not fit
    options = Options(base_url=chat_base(chat_emulator), key_env=KEY_ENV, yes=True,
                      stream="false", episodes=2, episode_seconds=30.0, ratio="9:16",
                      context=context)
    report = breakdown(story, tmp_path / "series", options)
    assert report.problems == [], report.problems
    assert len(list((tmp_path / "series" / "episodes").glob("*.yaml"))) == 2
