"""Who the story says speaks a quoted line, held against the answers: problems sent back to the model.

A quoted stretch of the text (in any style a story is printed in: ``"..."``, ``“...”``,
``‘...’``, guillemets, a dialogue dash) is said by the name a speech verb next to it names: after
it (``"...," said the frog``, ``"..." Gretel cried``, ``said old Mrs. Rabbit``: Mrs. Rabbit) or
before it (``Gretel said: "..."``), or by the named subject of the sentence that leads into it
with no such verb (``Mr. McGregor ..., calling out, "Stop thief!"``). A series asked by rules 4
(``Chapter.rules``) reads more: no quote runs past its paragraph (a speech of several paragraphs
leaves each unclosed but the last: its next paragraph's mark opens, never closes), a wider list of
speech verbs (``declared Little Joe``), and a cry whose subject is not the sentence's first name
(``..., and behind him Blacky the Crow, trying to catch up and yelling as loud as he could,
"Caw, caw, caw!"``). Two checks follow, each a problem sent back like any other:

- ``missing``: a cast answer that leaves out a person the chapter says speaks (a capitalised
  name, not an ordinary word, that no character's name holds): the video would have no face
  and the line no voice;
- ``misgiven``: an episode's line given to another of the cast than the one the story says
  says it (only where that one is of the cast given); by rules 4 also a line given to the one
  it speaks to by name (``"No, it wouldn't, Gluck, my boy," said the little man`` is not
  Gluck's), unless the story says that one says it.
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

SAYING = (r"said|says|asked|asks|cried|cries|answered|answers|replied|replies|shouted|shouts|"
          r"called|calls|whispered|whispers|exclaimed|exclaims|continued")
VERBS = rf"(?:{SAYING})"
TITLE = r"(?:(?:Mr|Mrs|Ms|Dr|St)\.\s+|(?:Mr|Mrs|Ms|Dr|Miss|Mother|Father|Old)\s+)"
DESCRIBED = r"(?:old|young|little|poor|good|dear|big|wicked|kind)"
ADJECTIVE = rf"(?:{DESCRIBED}\s+(?={TITLE}))"
NAME = rf"({TITLE}?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){{0,2}})"
# A speaker in lower case keeps its adjective: "said the little man" is a little man, not
# "little" (whom "the little gentleman" would then be taken for).
WHO = rf"(?:the\s+)?(?:{ADJECTIVE}?{NAME}|((?:{DESCRIBED}\s+)?[a-z][\w'’-]*" \
      rf"(?:\s+[A-Z][\w'’-]*){{0,2}}))"


def _around(verbs: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A speaker named after a quote by ``verbs`` (``"...," said Gretel``), and before one."""
    return (re.compile(rf"^\s*[,—―]?\s*(?:{verbs}\s+{WHO}|{WHO}\s+{verbs})\b"),
            re.compile(rf"{WHO}\s+{verbs}\s*[,:]?\s*$"))


AFTER, BEFORE = _around(VERBS)
CRYING = "calling|crying|shouting|screaming|saying|whispering|sobbing"
# Speech with no verb of saying: a named subject "came up the path, calling out, ..." before it.
CALLING = re.compile(rf"(?:^|[.!?][\"”’»]?\s+){ADJECTIVE}?{NAME}\b[^.!?\"“‘«»]{{0,160}}"
                     rf"(?:,|\s+and)\s*(?:{CRYING})(?:\s+out)?"
                     r"\s*[,:]?\s*$")
# Rules 4 (``Chapter.rules``): more verbs of saying, a cry with words after it ("yelling as loud
# as he could,"), its subject the last one named acting in the sentence where its first word is
# none ("Sammy Jay flying just behind him and screaming,").
SPEECH = rf"(?:{SAYING}|declared|declares|added|adds|repeated|repeats|muttered|mutters|" \
         r"murmured|murmurs|screamed|screams|sobbed|sobs|gasped|gasps|growled|growls|grumbled|" \
         r"grumbles|demanded|demands|insisted|insists|explained|explains|remarked|remarks|" \
         r"observed|observes|yelled|yells|roared|roars|retorted|retorts|inquired|inquires|" \
         r"enquired|enquires|protested|protests|pleaded|pleads|snapped|snaps|sneered|sneers)"
AFTER4, BEFORE4 = _around(SPEECH)
CRIED = re.compile(rf"(?:,|\s+and)\s*(?:{CRYING}|yelling|roaring|bawling)(?:\s+out)?"
                   r"(?:\s+[a-z][^,.!?;:\"“”‘’«»]{0,40})?\s*[,:]?\s*$")
OPENING = re.compile(rf"^\s*{ADJECTIVE}?{NAME}\b")
ACTING = re.compile(rf"{ADJECTIVE}?{NAME}(?:\s+the\s+[A-Z][\w'’-]*)?,?\s+[a-z]+ing\b")
NOT_TITLE = r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)"  # a stop after none of these
SENTENCE_END = re.compile(rf"{NOT_TITLE}[.!?][\"”’»]?\s+|[\"“”‘«»]")  # a title's stop ends no sentence
# A name a line speaks to: at its start or after a stop or a comma, then a comma, a stop or its
# end ("Hollo! Gluck, my boy", "No, it wouldn't, Gluck, my boy", "Come back, Peter!"); never
# after a title's stop ("that Dr. Ainstree, the greatest living authority": spoken of).
ADDRESSED = re.compile(rf"(?:^|{NOT_TITLE}[.!?]\s*|[,;:—]\s*)"
                       rf"(?:(?:my|dear|poor|little|old)\s+)?"
                       rf"({TITLE}?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?)(?=\s*(?:[,.!?;]|$))")
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


def attributed(flat: Flat, rules: int = 1) -> list[Said]:
    """Each quoted stretch of the text (in any style: ``quotable.QUOTED``) whose speaker a
    speech verb next to it names, or the named subject of the sentence that leads into it
    (``Mr. McGregor came after him, calling out, "Stop thief!"``); by ``rules`` 4, read as the
    module says (``_attributed``)."""
    if rules >= 4:
        return _attributed(flat)
    out = []
    text = flat.text
    for quote in QUOTED.finditer(text):
        before = text[max(0, quote.start() - 200):quote.start()]
        who = _who(AFTER.match(text[quote.end():quote.end() + 60])) or \
            _who(BEFORE.search(before[-60:])) or _who(CALLING.search(before))
        if who:
            out.append(Said(quote.start(), quote.end(), who, flat.lines[quote.start()]))
    return out


def _attributed(flat: Flat) -> list[Said]:
    """``attributed`` by rules 4: each paragraph's quotes (a blank line folds to two spaces, which
    no quote crosses), the wider ``SPEECH`` verbs, and a cry's subject (``_crier``)."""
    out, text, at = [], flat.text, 0
    for paragraph in text.split("  "):
        for quote in QUOTED.finditer(paragraph):
            start, end = at + quote.start(), at + quote.end()
            before = text[max(0, start - 200):start]
            who = _who(AFTER4.match(text[end:end + 60])) or \
                _who(BEFORE4.search(before[-60:])) or _crier(before)
            if who:
                out.append(Said(start, end, who, flat.lines[start]))
        at += len(paragraph) + 2
    return out


def _crier(before: str) -> str:
    """Who cries the quote that ``before`` leads into with no verb of saying (``CRIED``): the
    sentence's first name, else the last one named acting in it (``Sammy Jay flying``)."""
    cry = CRIED.search(before)
    if cry is None:
        return ""
    ends = list(SENTENCE_END.finditer(before, 0, cry.start()))
    sentence = before[ends[-1].end() if ends else 0:cry.start()]
    first = OPENING.match(sentence)
    if first is not None and not ordinary(first.group(1)) and _who(first):
        return _who(first)
    acting = list(ACTING.finditer(sentence))
    return _who(acting[-1]) if acting else ""


def addressed(words: str) -> list[str]:
    """The names ``words`` speak to (``ADDRESSED``), ordinary words left out."""
    return [name for name in ADDRESSED.findall(words) if not ordinary(name)]


@functools.lru_cache(maxsize=32)
def _read(lines: tuple[str, ...], first: int, rules: int) -> tuple[Flat, tuple[Said, ...]]:
    """The lines from ``first`` on, folded, and their attributed quotes: read once, as a judge
    reads one chapter's lines for each answer and each check (``named``, ``misgiven``)."""
    flat = Flat(Chapter("", 0, "", first, lines))
    return flat, tuple(attributed(flat, rules))


def read(chapter: Chapter) -> tuple[Flat, tuple[Said, ...]]:
    """``chapter``'s lines folded (``Flat``) and their attributed quotes (``attributed``, by its
    rules)."""
    return _read(chapter.lines, chapter.first, 4 if chapter.rules >= 4 else 1)


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
    names the speaker may start before the shot's lines (``Mr. McGregor ... calling out,``); by
    rules 4, a line given to the one it speaks to by name (``Wrong.to``)."""
    return [f"{wrong.where}.speaker: {wrong.line['speaker']!r}, but {wrong.why()}: "
            f"give the line to {wrong.own}" if wrong.own else
            f"{wrong.where}.speaker: {wrong.line['speaker']!r}, but {wrong.why()}: give the line "
            "to the one who says it, or leave it out"
            for wrong in _misgiven(answer, chapter, characters, around)]


def regiven(answer: Any, chapter: Chapter, characters: list[str],
            around: Chapter | None = None) -> tuple[Any, list[str]]:
    """A shots answer its send-backs did not mend, each line ``misgiven`` given to the
    character the story says says it (Qwen2.5-Coder-1.5B kept Hans's "Why don't you sell your
    feather?" with Schwartz through both), and a note for each (where that character speaks in
    the scene already, the writer joins the two lines: ``chaptershots.spoken``); a line given to
    the one it speaks to, whose speaker is none of ``characters``, is left out."""
    owners: dict[int, str] = {}
    notes = []
    for wrong in _misgiven(answer, chapter, characters, around):
        owners[id(wrong.line)] = wrong.own
        notes.append(f"{wrong.where}.speaker: {wrong.line['speaker']!r}, but {wrong.why()}: "
                     + (f"given to {wrong.own}" if wrong.own else "the line is left out"))
    shots = [{**shot, "scenes": [{**scene, "lines": [
        {**line, "speaker": owners.get(id(line), line["speaker"])} for line in scene["lines"]
        if owners.get(id(line), True)]} for scene in shot["scenes"]]} for shot in answer["shots"]]
    return {**answer, "shots": shots}, notes


@dataclass(frozen=True)
class Wrong:
    """A misgiven line: where it is, itself, its words, the character the story says says it
    ("" where none of the cast), and (by rules 4) the name it speaks to, its speaker's."""

    where: str
    line: dict[str, Any]
    wanted: str
    own: str
    to: str = ""
    who: str = ""

    def why(self) -> str:
        if not self.to:
            return f"the story says {self.own} says {shorten(self.wanted, 40)!r}"
        said = f" (the story: {self.who})" if self.who else ""
        return f"{shorten(self.wanted, 40)!r} speaks to {self.to}, so another says it{said}"


def _misgiven(answer: Any, chapter: Chapter, characters: list[str], around: Chapter | None
              ) -> Iterator[Wrong]:
    """Each misgiven line (``Wrong``)."""
    flat, said = read(around if around is not None and chapter.rules >= 2 else chapter)
    for s, shot in enumerate(answer["shots"]):
        for c, scene in enumerate(shot["scenes"]):
            for n, line in enumerate(scene["lines"]):
                wanted = " ".join(str(line["quote"]).split()).strip(MARKS + " ")
                who = said_by(flat, said, wanted, chapter.first, chapter.last)
                own = next((name for name in characters if same(who, name)), None) if who \
                    else None
                where, speaker = f"shots[{s}].scenes[{c}].lines[{n}]", str(line["speaker"])
                if own is not None and not same(speaker, own):
                    yield Wrong(where, line, wanted, own)
                elif own is None and chapter.rules >= 4 and not (who and same(who, speaker)):
                    to = next((name for name in addressed(wanted) if same(name, speaker)), "")
                    if to:
                        yield Wrong(where, line, wanted, "", to, who)


def said_by(flat: Flat, said: Sequence[Said], words: str, first: int, last: int) -> str:
    """Whom ``said`` (``attributed(flat)``) has say ``words``, found on lines ``first`` to
    ``last`` of ``flat``, else where they first are ("" where they are nowhere, or said by no
    one it names)."""
    wanted = " ".join(words.split()).strip(MARKS + " ")
    at = [m.start() for m in re.finditer(re.escape(wanted), flat.text)] if wanted else []
    here = next((a for a in at if first <= flat.lines[a] <= last), at[0] if at else -1)
    return next((s.who for s in said if s.start <= here < s.end), "")
