"""Who the story says speaks a quoted line, held against the answers: problems sent back to the model.

A quoted stretch of the text (in any style a story is printed in: ``"..."``, ``“...”``,
``‘...’``, guillemets, a dialogue dash) is said by the name a speech verb next to it names: after
it (``"...," said the frog``, ``"..." Gretel cried``, ``said old Mrs. Rabbit``: Mrs. Rabbit) or
before it (``Gretel said: "..."``), or by the named subject of the sentence that leads into it
with no such verb (``Mr. McGregor ..., calling out, "Stop thief!"``). Two checks follow, each
a problem sent back like any other:

- ``missing``: a cast answer that leaves out a person the chapter says speaks (a capitalised
  name, not an ordinary word, that no character's name holds): the video would have no face
  and the line no voice;
- ``misgiven``: an episode's line given to another of the cast than the one the story says
  says it (only where that one is of the cast given).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from storyboard.breakdown.questions.ordinary import ordinary
from storyboard.breakdown.questions.quotable import QUOTED
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.stages.faithful import MARKS, Flat, shorten

VERBS = (r"(?:said|says|asked|asks|cried|cries|answered|answers|replied|replies|shouted|shouts|"
         r"called|calls|whispered|whispers|exclaimed|exclaims|continued)")
TITLE = r"(?:(?:Mr|Mrs|Ms|Dr|St)\.\s+|(?:Mr|Mrs|Ms|Dr|Miss|Mother|Father|Old)\s+)"
DESCRIBED = r"(?:old|young|little|poor|good|dear|big|wicked|kind)"
ADJECTIVE = rf"(?:{DESCRIBED}\s+(?={TITLE}))"
NAME = rf"({TITLE}?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){{0,2}})"
# A speaker in lower case keeps its adjective: "said the little man" is a little man, not
# "little" (whom "the little gentleman" would then be taken for).
WHO = rf"(?:the\s+)?(?:{ADJECTIVE}?{NAME}|((?:{DESCRIBED}\s+)?[a-z][\w'’-]*" \
      rf"(?:\s+[A-Z][\w'’-]*){{0,2}}))"
AFTER = re.compile(rf"^\s*[,—―]?\s*(?:{VERBS}\s+{WHO}|{WHO}\s+{VERBS})\b")
BEFORE = re.compile(rf"{WHO}\s+{VERBS}\s*[,:]?\s*$")
# Speech with no verb of saying: a named subject "came up the path, calling out, ..." before it.
CALLING = re.compile(rf"(?:^|[.!?][\"”’»]?\s+){ADJECTIVE}?{NAME}\b[^.!?\"“‘«»]{{0,160}}"
                     r"(?:,|\s+and)\s*(?:calling|crying|shouting|screaming|saying|whispering|sobbing)"
                     r"(?:\s+out)?\s*[,:]?\s*$")
PRONOUNS = {"he", "she", "they", "i", "we", "you", "it", "his", "her", "one", "who"}


@dataclass(frozen=True)
class Said:
    """A quoted stretch of the flat text (``start``..``end``), who the story says says it, and
    the line it is on."""

    start: int
    end: int
    who: str
    line: int


def _who(match: re.Match[str] | None) -> str:
    if match is None:
        return ""
    name = next((g for g in match.groups() if g), "")
    return "" if any(word in PRONOUNS for word in name.lower().split()) else name  # "As I said"


def attributed(flat: Flat) -> list[Said]:
    """Each quoted stretch of the text (in any style: ``quotable.QUOTED``) whose speaker a
    speech verb next to it names, or the named subject of the sentence that leads into it
    (``Mr. McGregor came after him, calling out, "Stop thief!"``)."""
    out = []
    text = flat.text
    for quote in QUOTED.finditer(text):
        before = text[max(0, quote.start() - 200):quote.start()]
        who = _who(AFTER.match(text[quote.end():quote.end() + 60])) or \
            _who(BEFORE.search(before[-60:])) or _who(CALLING.search(before))
        if who:
            out.append(Said(quote.start(), quote.end(), who, flat.lines[quote.start()]))
    return out


@functools.lru_cache(maxsize=32)
def _read(lines: tuple[str, ...], first: int) -> tuple[Flat, tuple[Said, ...]]:
    """The lines from ``first`` on, folded, and their attributed quotes: read once, as a judge
    reads one chapter's lines for each answer and each check (``named``, ``misgiven``)."""
    flat = Flat(Chapter("", 0, "", first, lines))
    return flat, tuple(attributed(flat))


def read(chapter: Chapter) -> tuple[Flat, tuple[Said, ...]]:
    """``chapter``'s lines folded (``Flat``) and their attributed quotes (``attributed``)."""
    return _read(chapter.lines, chapter.first)


def _fold(name: str) -> str:
    return re.sub(r"^the\s+", "", " ".join(name.lower().split()))


def same(said: str, name: str) -> bool:
    """Whether ``said`` names ``name``: the same words, or one's words among the other's."""
    one, other = set(_fold(said).split()), set(_fold(name).split())
    return bool(one) and bool(other) and (one <= other or other <= one)


def named(chapter: Chapter) -> list[Said]:
    """Each quoted stretch of ``chapter`` whose speaker is a capitalised name, not an ordinary
    word (``missing`` holds a cast to these)."""
    return [said for said in read(chapter)[1]
            if said.who[0].isupper() and not ordinary(said.who)]


def missing(answer: Any, chapter: Chapter, known: tuple[str, ...] = ()) -> list[str]:
    """A person the chapter says speaks (a capitalised name) that the cast answer leaves out
    (``known``: the characters earlier chapters cast, who are not)."""
    if not isinstance(answer, dict):
        return []
    names = [str(e.get("name", "")) for e in answer.get("characters", []) if isinstance(e, dict)]
    names += known
    found: dict[str, Said] = {}
    for said in named(chapter):
        if not any(same(said.who, name) for name in names):
            found.setdefault(said.who, said)
    return [f"characters: {who!r} speaks in this chapter (line {said.line}) and is not in the "
            "cast: add them, with their appearance and voice" for who, said in found.items()]


def speaking(chapter: Chapter, names: list[str]) -> list[str]:
    """Those of ``names`` the story says speak in ``chapter``'s lines (by a capitalised name, as
    ``missing`` reads them), in order."""
    said = [s.who for s in named(chapter)]
    return [name for name in names if any(same(who, name) for who in said)]


def misgiven(answer: Any, chapter: Chapter, characters: list[str],
             around: Chapter | None = None) -> list[str]:
    """Each line of a shots answer given to another character than the one the story says
    says it (where that one is among ``characters``), read in ``chapter``'s lines, or (a season
    asked by rules 2, ``Chapter.rules``) in ``around``'s: its episode's, where the sentence that
    names the speaker may start before the shot's lines (``Mr. McGregor ... calling out,``)."""
    return [f"{where}.speaker: {line['speaker']!r}, but the story says {own} says "
            f"{shorten(wanted, 40)!r}: give the line to {own}"
            for where, line, own, wanted in _misgiven(answer, chapter, characters, around)]


def regiven(answer: Any, chapter: Chapter, characters: list[str],
            around: Chapter | None = None) -> tuple[Any, list[str]]:
    """A shots answer its send-backs did not mend, each line ``misgiven`` given to the
    character the story says says it (Qwen2.5-Coder-1.5B kept Hans's "Why don't you sell your
    feather?" with Schwartz through both), and a note for each (where that character speaks in
    the scene already, the writer joins the two lines: ``chaptershots.spoken``)."""
    owners: dict[int, str] = {}
    notes = []
    for where, line, own, wanted in _misgiven(answer, chapter, characters, around):
        owners[id(line)] = own
        notes.append(f"{where}.speaker: {line['speaker']!r}, but the story says {own} says "
                     f"{shorten(wanted, 40)!r}: given to {own}")
    shots = [{**shot, "scenes": [{**scene, "lines": [
        {**line, "speaker": owners.get(id(line), line["speaker"])} for line in scene["lines"]]}
        for scene in shot["scenes"]]} for shot in answer["shots"]]
    return {**answer, "shots": shots}, notes


def _misgiven(answer: Any, chapter: Chapter, characters: list[str], around: Chapter | None
              ) -> Iterator[tuple[str, dict[str, Any], str, str]]:
    """Each misgiven line: where it is, itself, the story's speaker and its words."""
    flat, said = read(around if around is not None and chapter.rules >= 2 else chapter)
    for s, shot in enumerate(answer["shots"]):
        for c, scene in enumerate(shot["scenes"]):
            for n, line in enumerate(scene["lines"]):
                wanted = " ".join(str(line["quote"]).split()).strip(MARKS + " ")
                who = said_by(flat, said, wanted, chapter.first, chapter.last)
                own = next((name for name in characters if same(who, name)), None) if who \
                    else None
                if own is not None and not same(str(line["speaker"]), own):
                    yield f"shots[{s}].scenes[{c}].lines[{n}]", line, own, wanted


def said_by(flat: Flat, said: Sequence[Said], words: str, first: int, last: int) -> str:
    """Whom ``said`` (``attributed(flat)``) has say ``words``, found on lines ``first`` to
    ``last`` of ``flat``, else where they first are ("" where they are nowhere, or said by no
    one it names)."""
    wanted = " ".join(words.split()).strip(MARKS + " ")
    at = [m.start() for m in re.finditer(re.escape(wanted), flat.text)] if wanted else []
    here = next((a for a in at if first <= flat.lines[a] <= last), at[0] if at else -1)
    return next((s.who for s in said if s.start <= here < s.end), "")
