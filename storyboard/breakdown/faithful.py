"""Quoted lines into the source's own words: each quote found in the chapter, or refused.

The model points at dialogue by quoting it; the line written into the series is cut from the
source, not taken from the answer. A quote matches when it is the same text as a stretch of the
chapter with runs of white space (line breaks included) counted as one space and the quotation
marks around it left off; anything else (a word changed, dropped, translated) is refused with the
reason, to be sent back to the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from storyboard.breakdown.source import Chapter

MARKS = "\"'“”‘’«»「」『』"


@dataclass(frozen=True)
class Found:
    text: str  # the source's words, white space folded
    line: int  # the line of the file it starts on


class Flat:
    """A chapter's text with white space folded, and where each character came from."""

    def __init__(self, chapter: Chapter) -> None:
        chars: list[str] = []
        self.lines: list[int] = []
        for number, text in enumerate(chapter.lines, chapter.first):
            for char in " ".join(text.split()) + " ":
                chars.append(char)
                self.lines.append(number)
        self.text = "".join(chars)

    def find(self, quote: str) -> Found | None:
        wanted = " ".join(quote.split()).strip(MARKS + " ")
        if not wanted:
            return None
        at = self.text.find(wanted)
        if at < 0:
            return None
        return Found(self.text[at:at + len(wanted)], self.lines[at])


def check_quote(flat: Flat, quote: str) -> tuple[Found | None, str]:
    """The quote cut from the source, or None and why it is refused."""
    found = flat.find(quote)
    if found is not None:
        return found, ""
    return None, (f"the quote {shorten(quote)!r} is not in the story's lines: quote the author's "
                  "words exactly, character for character, or leave the line out")


def shorten(text: str, most: int = 80) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"
