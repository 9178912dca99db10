"""Reading a long story costs the same per name or quote wherever it stands: the free stand-in
tests whether a name opens a sentence from the text just before it (not the whole story up to
it), and the judge reads a chapter's attributed quotes once for all its checks. Both give what
reading the whole prefix, or reading again, gives."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from storyboard.breakdown.source import Chapter
from storyboard.breakdown.stages.faithful import Flat
from storyboard.breakdown.stages.speakers import attributed, missing, read
from storyboard.emulator.chat import names

PIECES = ["Mr.", "Mrs.", "Messrs.", "M.", "St.", "word", "Gretel", ".", "!", "?", ";", ":", "\"",
          "“", "”", "'", "(", "—", " ", "  ", "\n", "\n\n", " " * 30, "x" * 25, "said", "a"]


def whole_prefix(plain: str, start: int) -> bool:
    before = plain[:start]
    return bool(names.STARTS.search(before)) and not names.ABBREVIATION.search(before)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=80), st.data())
def test_a_name_opens_a_sentence_exactly_as_the_whole_text_before_it_says(
        pieces: list[str], data: st.DataObject) -> None:
    plain = " ".join(pieces)
    start = data.draw(st.integers(0, len(plain)))
    assert names._opens_sentence(plain, start) == whole_prefix(plain, start)


def test_far_into_a_story_the_text_before_a_name_is_read_only_near_it() -> None:
    story = "Hans went out. " * 20_000 + "Then Gretel came."
    start = story.rindex("Gretel")
    assert len(names._ending_at(story, start)) <= 80
    assert names._opens_sentence(story, story.rindex("Then"))
    assert not names._opens_sentence(story, start)
    spaced = "It ended." + " " * 200
    assert names._ending_at(spaced, len(spaced)) == spaced  # the stop is further back than 80


def test_a_chapters_quotes_are_read_once_and_by_their_own_line_numbers() -> None:
    lines = ('"Run," said Gretel.', "", '"Where?" asked Hans.')
    first, later = Chapter("s.md", 1, "One", 1, lines), Chapter("s.md", 2, "Two", 40, lines)
    flat, said = read(first)
    assert read(Chapter("s.md", 1, "One", 1, lines)) == (flat, said)  # the same reading
    assert read(first)[0] is flat
    assert said == tuple(attributed(Flat(first)))
    assert [(s.who, s.line) for s in said] == [("Gretel", 1), ("Hans", 3)]
    assert [(s.who, s.line) for s in read(later)[1]] == [("Gretel", 40), ("Hans", 42)]
    assert re.search("'Hans' speaks in this chapter \\(line 42\\)",
                     missing({"characters": [{"name": "Gretel"}]}, later)[0])
