"""A season's first guarantee: ``--episodes N`` writes N episodes, or says why not, never silently.

Before anything is asked (``refusal``), the story's sentences are counted: an episode films at
least one, so a story of fewer sentences than the episodes asked is refused with the figure
(``the story has 5 sentences: at most 5 episodes``), before the estimate, the consent or any
request. After the answers, a season whose episodes written are fewer than it asked
(``shortfall``) is a problem that says how many of how many were written and why (the
outline's beats too few, an episode telling no line of the story, a shots answer refused), so
the command never exits 0 with fewer episodes than asked.
"""

from __future__ import annotations

import re

from storyboard.breakdown.source import CHAPTER, Story

SENTENCE_END = re.compile(r"[.!?…]+[\"”’')\]]*(?=\s|$)")
HEADING = re.compile(r"^\s*(#|=+\s*$|-+\s*$|```|~~~)")
LETTER = re.compile(r"[^\W\d_]")


def sentences(story: Story) -> int:
    """How many sentences the story's lines hold (headings and ``Chapter 3`` lines left out):
    each run of words up to a ``.``, ``!``, ``?`` or ``…`` before a space or the end, and a
    paragraph's words after its last such mark."""
    count = 0
    for chapter in story.chapters:
        text: list[str] = []
        for line in [*chapter.lines, ""]:
            if line.strip() and not (HEADING.match(line) or CHAPTER.match(line)):
                text.append(line.strip())
                continue
            count += _in_paragraph(" ".join(text))
            text = []
    return count


def _in_paragraph(text: str) -> int:
    pieces = SENTENCE_END.split(text)
    return sum(1 for piece in pieces if LETTER.search(piece))


def refusal(story: Story, episodes: int) -> str | None:
    """Why a season of ``episodes`` cannot be cut from ``story`` (None: it can be tried)."""
    count = sentences(story)
    if count >= episodes:
        return None
    return (f"the story has {_count(count, 'sentence')}: at most {_count(count, 'episode')}, "
            f"and {episodes} were asked (an episode films at least one sentence); nothing was asked. Ask for "
            f"at most {count} (--episodes, or episodes: in the series' breakdown: block), or "
            "give a longer story")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def shortfall(written: int, wanted: int, reasons: list[str]) -> str | None:
    """The problem of a season that wrote fewer episodes than it asked (None: it wrote them
    all)."""
    if written >= wanted:
        return None
    why = "; ".join(dict.fromkeys(reasons)) or "no shot was written for the others"
    return (f"{written} of {_count(wanted, 'episode')} written: {why}. The series is not the "
            "season asked: ask for fewer episodes (--episodes), or edit season.yaml and run "
            "again")
