"""Quoted lines into the source's own words: each quote found in the chapter, or refused.

The model points at dialogue by quoting it; the line written into the series is cut from the
source, not taken from the answer. A quote matches when it is the same text as a stretch of the
chapter with runs of white space (line breaks included) counted as one space and the quotation
marks around it left off; or, inside one dialogue block, the same with the block's parenthetical
lines (``(pause)``, a screenplay's acting notes) left out, as a model quoting the spoken words
gives them. Anything else (a word changed, dropped, translated) is refused with the reason, to be
sent back to the model. A title's full stop ends no sentence: in a series begun before the
quotes a shot may give were read so, they are cut at every stop (``questions.quotable``), so a
line found ending in ``Mr.`` or starting after it is written as its whole sentence
(``Flat.whole``): ``My directions for Mr. Culverton Smith.``
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storyboard.breakdown.questions.quotable import ENDS_IN_TITLE, TITLE
from storyboard.breakdown.source import Chapter

MARKS = "\"'“”‘’«»「」『』"
# The titles whose full stop goes on to a name (``Mr. Holmes``), never a sentence's end.
AFTER_TITLE = re.compile(TITLE + r" $")
# Where a quoted sentence ends, read onward: a stop before a space, a closing quotation mark (a
# single one not inside a word), a blank line (two spaces in the folded text).
ONWARD = re.compile(r"[.!?](?= |$)|[\"”»」』]|’(?!\w)|(?<=\S)'(?!\w)|  ")
# Where it starts, read back: after a stop and its space, an opening mark, a blank line.
BACKWARD = re.compile(r"[.!?] |[\"“«「『]|‘|(?<!\w)'|  ")


@dataclass(frozen=True)
class Found:
    text: str  # the source's words, white space folded
    line: int  # the line of the file it starts on
    at: tuple[bool, int] = (True, 0)  # where: in the text with its notes (or the spoken), offset


def parenthetical(text: str) -> bool:
    """A line that is wholly an acting note: ``(pause)``, ``(beat)``, ``(to Sam)``."""
    line = text.strip()
    return len(line) > 2 and line.startswith("(") and line.endswith(")")


class Flat:
    """A chapter's text with white space folded, and where each character came from (and the
    same without its parenthetical lines: the words spoken)."""

    def __init__(self, chapter: Chapter) -> None:
        self.text, self.lines = self._folded(chapter, keep_notes=True)
        self.spoken, self.spoken_lines = self._folded(chapter, keep_notes=False)

    @staticmethod
    def _folded(chapter: Chapter, keep_notes: bool) -> tuple[str, list[int]]:
        """The lines folded, each followed by a space, and each character's line number."""
        pieces: list[str] = []
        lines: list[int] = []
        for number, text in enumerate(chapter.lines, chapter.first):
            if not keep_notes and parenthetical(text):
                continue  # a blank line still ends the block: two spaces no quote holds
            piece = " ".join(text.split()) + " "
            pieces.append(piece)
            lines += [number] * len(piece)
        return "".join(pieces), lines

    def find(self, quote: str) -> Found | None:
        wanted = " ".join(quote.split()).strip(MARKS + " ")
        if not wanted:
            return None
        for noted, text, lines in ((True, self.text, self.lines),
                                   (False, self.spoken, self.spoken_lines)):
            at = text.find(wanted)
            if at >= 0:
                return Found(text[at:at + len(wanted)], lines[at], (noted, at))
        return None

    def whole(self, found: Found) -> Found:
        """``found`` as its whole sentence when a title's stop cut it (it ends in ``Mr.``, or
        starts after one); else as it is."""
        noted, at = found.at
        text, lines = (self.text, self.lines) if noted else (self.spoken, self.spoken_lines)
        start, end = at, at + len(found.text)
        if AFTER_TITLE.search(text, max(0, start - 8), start):
            start = _sentence_start(text, start)
        while ENDS_IN_TITLE.search(text, max(0, end - 8), end):
            onward = _onward(text, end)
            if onward <= end:  # its quote closes right after the title
                break
            end = onward
        if (start, end) == (at, at + len(found.text)):
            return found
        words = text[start:end].strip().rstrip(",;:").strip()
        return Found(words, lines[start], (noted, start))


def _onward(text: str, end: int) -> int:
    """Where the sentence a title's stop at ``end`` cut goes on to: its next stop (past it), or
    the mark or blank line that closes its quote (before it)."""
    found = ONWARD.search(text, end)
    if found is None:
        return len(text.rstrip())
    return found.end() if found.group() in ".!?" else found.start()


def _sentence_start(text: str, start: int) -> int:
    """Where the sentence holding ``start`` begins, read back past titles' stops: after the
    last stop, opening mark or blank line before it that is not a title's stop."""
    begin = 0
    for found in BACKWARD.finditer(text, max(0, start - 2000), start):
        if found.group() == ". " and ENDS_IN_TITLE.search(text, max(0, found.start() - 7),
                                                          found.start() + 1):
            continue
        begin = found.end()
    while begin < start and text[begin] == " ":
        begin += 1
    return begin


def check_quote(flat: Flat, quote: str) -> tuple[Found | None, str]:
    """The quote cut from the source, or None and why it is refused."""
    found = flat.find(quote)
    if found is not None:
        return found, ""
    return None, (f"the quote {shorten(quote)!r} is not in the story's lines: quote the author's "
                  "words exactly, character for character, or leave the line out")


def shorten(text: str, most: int = 80) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"
