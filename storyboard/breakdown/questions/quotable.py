"""A season shot's lines into the quotes its answer may give: the author's words, each a choice.

A shot's call (``schemas.shot``) lists what its lines may be: every sentence spoken inside
quotation marks in its lines, in any style (``QUOTED``) (and, of a sentence longer than ``LONG``
words, each of its clauses, so a short shot can still say part of a long speech), at most
``MOST``; a schema's ``enum``, so a server that decodes to the schema can only answer the
author's words. A title's full stop ends no sentence (``sentences``: ``He's dying, Dr.
Watson.`` is one choice) in a series whose questions were first asked so; one begun before
keeps the cut at every stop it was asked with (``Chapter.rules``,
``answerstore.AnswerCache.rules``). A screenplay's episode (no quotation marks:
``Chapter.unquoted``) offers its speeches, never its action lines; a tale's episode that quotes
no one offers nothing: narration is never a line.
"""

from __future__ import annotations

import functools
import re

from storyboard.breakdown.source import Chapter
from storyboard.scaffold.fountain import parse_text

# A quoted stretch in every style a story is printed in: straight and curly double quotes, single
# curly quotes (British editions: an apostrophe inside a word is not their end), straight single
# quotes (the same, and closed only after a stop or a comma: a plural's apostrophe, "the rabbits'
# mother", closes nothing), guillemets either way round, and a line that opens on a dialogue
# dash (to the next dash, or its end).
QUOTED = re.compile(r"\"([^\"]{1,1000})\"|“([^”]{1,1000})”"
                    r"|(?<![\w’])‘((?:[^’‘]|’(?=\w)){1,1000})’(?!\w)"
                    r"|(?<![\w'])'(?=\S)((?:[^'\n]|'(?=\w)){1,1000}?[.,!?;:—-])'(?!\w)"
                    r"|«\s?([^»]{1,1000}?)\s?»|»\s?([^«»]{1,1000}?)\s?«"
                    r"|(?:^|(?<=\s\s))[—―]\s?([^—―]{1,1000}?)(?=\s[—―]|\s\s|\s*$)")
SENTENCE = re.compile(r"(?<=[.!?])\s+")
# A title's full stop ends no sentence ("He's dying, Dr. Watson."): read whole in a series whose
# questions were first asked so (``Chapter.rules``), and by the written line in any.
TITLE = r"\b(?:Mr|Mrs|Ms|Dr|St|Mme|Mlle|Messrs|Capt|Col|Gen|Prof|Rev|Sgt|Lt)\."
ENDS_IN_TITLE = re.compile(TITLE + r"$")


def spoken(match: re.Match[str]) -> str:
    """The words a quoted stretch holds (``QUOTED``'s one group that matched)."""
    return next(g for g in match.groups() if g is not None)


CLAUSE = re.compile(r"(?<=[,;:])\s+|\s*--\s*|\s+—\s+")
LONG = 12  # words: a longer sentence is offered by its clauses too
MOST = 30  # choices a shot offers at most (the first, in story order)
SHORTEST = 2  # words a choice has at least


def paragraphs(chapter: Chapter) -> list[str]:
    """The chapter's runs of lines between blank lines, each folded to single spaces (as the
    quote check reads the text)."""
    out, run = [], list[str]()
    for line in (*chapter.lines, ""):
        if line.strip():
            run.append(" ".join(line.split()))
        elif run:
            out.append(" ".join(run))
            run = []
    return out


def quoting(chapter: Chapter) -> bool:
    """Whether any of the chapter's lines quotes someone in quotation marks."""
    return any(QUOTED.search(text) for text in paragraphs(chapter))


def speeches(chapter: Chapter) -> list[str]:
    """A screenplay's speeches (its Fountain dialogue, each speech whole, its acting notes left
    out): what its people say, never its action lines."""
    spans: list[str] = []
    run: list[str] = []
    for element in parse_text("\n".join(chapter.lines), chapter.file).elements:
        if element.kind == "dialogue":
            run.append(element.text)
        elif element.kind != "parenthetical" and run:
            spans, run = [*spans, " ".join(run)], []
    return [*spans, " ".join(run)] if run else spans


def quotable(chapter: Chapter) -> list[str]:
    """The quotes a shot over ``chapter``'s lines may give, in story order, each once (read once
    for a call's schema, its prompt and each answer's judge)."""
    return list(_quotable(chapter))


@functools.lru_cache(maxsize=64)
def _quotable(chapter: Chapter) -> tuple[str, ...]:
    spans = speeches(chapter) if chapter.unquoted else [
        spoken(m) for text in paragraphs(chapter) for m in QUOTED.finditer(text)]
    found: list[str] = []
    for span in spans:
        for sentence in sentences(span, whole_titles=chapter.rules >= 2):
            found.append(sentence)
            if len(sentence.split()) > LONG:
                found += CLAUSE.split(sentence)
    kept = [c.strip().rstrip(",;:").strip() for c in found]
    return tuple(dict.fromkeys(c for c in kept if len(c.split()) >= SHORTEST))[:MOST]


def sentences(span: str, *, whole_titles: bool) -> list[str]:
    """A speech's sentences: cut at every stop, or (``whole_titles``) at every stop but a
    title's (``TITLE``)."""
    cut = SENTENCE.split(span.strip())
    if not whole_titles:
        return cut
    out: list[str] = []
    for part in cut:
        if out and ENDS_IN_TITLE.search(out[-1]):
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out
