"""Quoted lines into the source's own words: each quote found in the chapter, or refused.

The model points at dialogue by quoting it; the line written into the series is cut from the
source, not taken from the answer. A quote matches when it is the same text as a stretch of the
chapter with runs of white space (line breaks included) counted as one space and the quotation
marks around it left off; or, inside one dialogue block, the same with the block's parenthetical
lines (``(pause)``, a screenplay's acting notes) left out, as a model quoting the spoken words
gives them. Anything else (a word changed, dropped, translated) is refused with the reason, to be
sent back to the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from storyboard.breakdown.source import Chapter

MARKS = "\"'“”‘’«»「」『』"


@dataclass(frozen=True)
class Found:
    text: str  # the source's words, white space folded
    line: int  # the line of the file it starts on


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
        for text, lines in ((self.text, self.lines), (self.spoken, self.spoken_lines)):
            at = text.find(wanted)
            if at >= 0:
                return Found(text[at:at + len(wanted)], lines[at])
        return None


def check_quote(flat: Flat, quote: str) -> tuple[Found | None, str]:
    """The quote cut from the source, or None and why it is refused."""
    found = flat.find(quote)
    if found is not None:
        return found, ""
    return None, (f"the quote {shorten(quote)!r} is not in the story's lines: quote the author's "
                  "words exactly, character for character, or leave the line out")


def shorten(text: str, most: int = 80) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"
