"""Every speaker read, in every quotation style (issue 98, item 2): who the story says speaks a
line, read with titles and the adjectives before them (``said old Mrs. Rabbit`` is Mrs. Rabbit,
not ``old Mrs``), with no verb of saying after a named subject (``calling out, "Stop thief!"``),
in straight, curly, single curly (British editions), straight single (closed after a stop
or a comma, so a plural's apostrophe closes nothing), guillemet and dialogue-dash quotes; a cast
that leaves such a speaker out is sent back naming them, a line given to another is sent back,
and an episode quoted in single quotes offers its quotes, never its narration.

Beatrix Potter's The Tale of Peter Rabbit (1902) and Grimm in Edgar Taylor's translation are
public domain; the other lines are written here."""

from __future__ import annotations

import pytest

from storyboard.breakdown.questions.quotable import quotable, quoting
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.stages.faithful import Flat
from storyboard.breakdown.stages.speakers import attributed, misgiven, missing, named

PETER = ('"Now, my dears," said old Mrs. Rabbit one morning, "you may go into the fields or '
         'down the lane, but don\'t go into Mr. McGregor\'s garden."')
CALLING = ("But round the end of a cucumber frame, whom should he meet but Mr. McGregor! Mr. "
           "McGregor was on his hands and knees planting out young cabbages, but he jumped up "
           'and ran after Peter, waving a rake and calling out, "Stop thief!"')
# As Project Gutenberg's e-text of Peter Rabbit prints it: straight single quotes.
POTTER = ("'Now my dears,' said old Mrs. Rabbit one morning, 'you may go into the fields or "
          "down the lane, but don't go into Mr. McGregor's garden: your Father had an accident "
          "there; he was put in a pie by Mrs. McGregor.'")
TAYLOR = "‘Good morrow, little miller’s daughter,’ said Rumpelstiltskin; ‘why do you weep?’"


def chapter(*lines: str) -> Chapter:
    spaced: list[str] = []
    for line in lines:
        spaced += [line, ""]
    return Chapter("story.md", 1, "One", 1, tuple(spaced[:-1]))


@pytest.mark.parametrize(("line", "who", "quote"), [
    (PETER, "Mrs. Rabbit", "Now, my dears"),
    (CALLING, "Mr. McGregor", "Stop thief!"),
    (TAYLOR, "Rumpelstiltskin", "Good morrow, little miller’s daughter"),
    (POTTER, "Mrs. Rabbit", "Now my dears"),
    ("'Stop thief!' called Mr. McGregor.", "Mr. McGregor", "Stop thief!"),
    ('“Run, Peter!” cried Dr. Brown.', "Dr. Brown", "Run, Peter!"),
    ("«Where is the key?» asked Marie.", "Marie", "Where is the key?"),
    ("»Where is the key?« asked Marie.", "Marie", "Where is the key?"),
    ("— Where is the key? — asked Marie.", "Marie", "Where is the key?"),
    ('"Hush now," Gretel said.', "Gretel", "Hush now,"),
    ('The witch said: "Come in, my child."', "witch", "Come in, my child."),
    # a speaker in lower case keeps its adjective (The King of the Golden River's dwarf is "the
    # little man": read as "little", he was taken for the little gentleman, the South-West Wind)
    ('"No, it wouldn\'t, Gluck, my boy," said the little man.', "little man",
     "No, it wouldn't, Gluck, my boy"),
    ('Then the old woman said, "Come in."', "old woman", "Come in."),
])
def test_each_quotation_style_and_attribution_is_read(line: str, who: str, quote: str) -> None:
    found = attributed(Flat(chapter(line)))
    assert [s.who for s in found][:1] == [who]
    assert quote.rstrip(",") in quotable(chapter(line))


@pytest.mark.parametrize("line", [
    "The miller’s daughter sat down and wept, for she did not know what to do.",  # an apostrophe
    "It was a very good year for the miller's daughter's ’prentice.",
    "The rabbits' mother said the cats' dinner was late, and 'twas so.",  # plurals', 'twas
    "They sang the rabbits' song, and Peter's and the cats' too.",
])
def test_an_apostrophe_is_no_quotation_mark(line: str) -> None:
    assert not quoting(chapter(line)) and attributed(Flat(chapter(line))) == []


def test_a_cast_that_leaves_out_a_speaker_is_sent_back_naming_them() -> None:
    told = chapter(PETER, CALLING, TAYLOR)
    assert [s.who for s in named(told)] == ["Mrs. Rabbit", "Mr. McGregor", "Rumpelstiltskin"]
    cast = {"characters": [{"name": "Peter", "appearance": "a rabbit", "voice": "small"}],
            "places": [], "props": []}
    said = missing(cast, told)
    assert said == [
        "characters: 'Mrs. Rabbit' speaks in this chapter (line 1) and is not in the cast: add "
        "them, with their appearance and voice",
        "characters: 'Mr. McGregor' speaks in this chapter (line 3) and is not in the cast: add "
        "them, with their appearance and voice",
        "characters: 'Rumpelstiltskin' speaks in this chapter (line 5) and is not in the cast: "
        "add them, with their appearance and voice"]
    whole = {**cast, "characters": [*cast["characters"], *(
        {"name": n, "appearance": "a", "voice": "b"}
        for n in ("Mrs. Rabbit", "McGregor", "Rumpelstiltskin"))]}
    assert missing(whole, told) == []


def test_a_line_given_to_another_than_its_speaker_is_sent_back() -> None:
    told = chapter(PETER, CALLING)
    answer = {"shots": [{"scenes": [{"lines": [{"speaker": "Peter", "quote": "Stop thief!"},
                                               {"speaker": "Mrs. Rabbit",
                                                "quote": "Now, my dears,"}]}]}]}
    said = misgiven(answer, told, ["Peter", "Mrs. Rabbit", "Mr. McGregor"])
    assert said == ["shots[0].scenes[0].lines[0].speaker: 'Peter', but the story says "
                    "Mr. McGregor says 'Stop thief!': give the line to Mr. McGregor"]


def test_an_episode_in_single_quotes_offers_its_quotes_never_its_narration() -> None:
    """Edgar Taylor's Grimm writes dialogue in single curly quotes: read as no dialogue at all,
    every sentence of narration was offered as a line."""
    told = chapter("The miller’s daughter sat down in the corner and wept.", TAYLOR)
    assert quoting(told)
    offered = quotable(told)
    assert "The miller’s daughter sat down in the corner and wept." not in offered
    assert offered == ["Good morrow, little miller’s daughter", "why do you weep?"]
