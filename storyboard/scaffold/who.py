"""A character's own words into who it is: a woman or a man, an age, and its voice's description.

The words are only those about the character (``cast`` cuts them out of its introduction): its
name onward, the role right before its name (``his mother SANDRA``: ``mother``, never ``his``), and
the next sentence when nobody else is named first. A sex is read from nouns (``woman``, ``father``)
and subject pronouns (``she``, ``himself``), never from ``her``, ``him`` or ``his`` alone (they are
as often someone else's); after the name, a relation (``his wife``, ``her mother's boots``) is
someone else, but whose relation it is (``his``) is the character's; words that disagree settle
nothing. An age is read from ``(30s)``, ``40's``, ``AGE 3``, ``aged 10``, ``8 years old``,
``NAME, 8`` (anywhere), ``is 10`` and ``in her forties``; ``boy``,
``girl`` and ``kid`` make a child when no age is given. What is not settled is left out of the
design (never a guess such as "a man" or "an adult") and named by ``unsettled``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DESIGN = "a natural, clear speaking voice at an even pace, neutral accent"
WOMAN = {"she", "herself", "woman", "girl", "lady", "mother", "mom", "mum", "wife", "sister",
         "daughter", "grandmother", "grandma", "aunt", "queen", "actress", "waitress", "niece",
         "widow", "bride", "girlfriend", "granddaughter", "stepmother"}
MAN = {"he", "himself", "man", "boy", "gentleman", "father", "dad", "husband", "brother", "son",
       "grandfather", "grandpa", "uncle", "king", "actor", "waiter", "nephew", "widower",
       "groom", "boyfriend", "grandson", "stepfather"}
YOUNG = {"boy", "girl", "kid", "child", "toddler", "baby", "infant"}
WORDS = re.compile(r"[a-z]+")
AGES = [re.compile(pattern, re.I) for pattern in (
    r"\((\d{1,2})\s*['’]?s?\)",  # (30s), (8)
    r"\b(\d{1,2})['’]?s\b",  # 40's, 30s
    r"\b(\d{1,2})[\s-]*(?:years?|yrs?)[\s-]*old\b",  # 8 years old, 10-year-old
    r"\bage[ds]?\s*:?\s*(\d{1,2})\b",  # AGE 3, aged 10
    r"\bis\s+(?:now\s+)?(\d{1,2})(?=\s*(?:[,.;:!?)]|$|and\b|but\b))")]  # is 10.
NAMED_AGE = re.compile(r"(?<![\w'’])[A-Z][A-Z'’.-]+(?:\s+[A-Z][A-Z'’.-]+)*,\s*(\d{1,2})"
                       r"(?=\s*(?:[,.;:!?)]|$|and\b))")  # RUTHIE, 8 (a name in capitals, anywhere)
NAME = re.compile(r"(?<![\w'’])[A-Z][A-Z'’.-]+\b")  # where the character's name begins
RELATION = re.compile(r"\b(his|her)\s+([a-z]+)", re.I)  # "his wife": someone else, his
DECADE = re.compile(r"\b(twenties|thirties|forties|fifties|sixties|seventies|eighties|"
                    r"nineties)\b", re.I)
DECADES = {2: "twenties", 3: "thirties", 4: "forties", 5: "fifties", 6: "sixties",
           7: "seventies", 8: "eighties", 9: "nineties"}


@dataclass(frozen=True)
class Who:
    """What a character's own words settle: ``sex`` ``"woman"``, ``"man"`` or ``""``; ``years``
    (0: none said); ``decade`` (``"forties"``, from words); ``young`` (a child's word)."""

    sex: str = ""
    years: int = 0
    decade: str = ""
    young: bool = False

    @property
    def aged(self) -> bool:
        return bool(self.years or self.decade or self.young)


def who_of(words: str) -> Who:
    """Who the words (all about one character, its name first) say it is."""
    found = _sexed(words)
    women, men = "woman" in found, "man" in found
    sex = "woman" if women and not men else "man" if men and not women else ""
    decade = DECADE.search(words)
    return Who(sex, _years(words), decade.group(1).lower() if decade else "",
               any(w in YOUNG for w in WORDS.findall(words.lower())))


def _sexed(words: str) -> set[str]:
    """The sexes the words give the character: its own nouns and pronouns; after its name, a
    relation (``his wife``, ``her mother's boots``) is someone else, but whose it is (``his``)
    is the character's."""
    name = NAME.search(words)
    after = name.start() if name else 0
    sexes = set()

    def whose(relation: re.Match[str]) -> str:
        if not _sex_of(relation.group(2).lower()):
            return relation.group(0)
        sexes.add("man" if relation.group(1).lower() == "his" else "woman")
        return " "

    rest = words[:after] + RELATION.sub(whose, words[after:])
    return (sexes | {_sex_of(w) for w in WORDS.findall(rest.lower())}) - {""}


def _sex_of(word: str) -> str:
    return "woman" if word in WOMAN else "man" if word in MAN else ""


def _years(words: str) -> int:
    """The first age the words give (0: none)."""
    found = [match for pattern in (NAMED_AGE, *AGES) if (match := pattern.search(words))]
    first = min(found, key=lambda match: match.start(), default=None)
    return int(next(g for g in first.groups() if g)) if first else 0


def design(who: Who) -> str:
    """A neutral voice description of what is settled; what is not is left out."""
    if (0 < who.years < 13) or (who.young and not who.years):
        child = {"woman": "A girl", "man": "A boy"}.get(who.sex, "A child")
        return f"{child}{_of(who)}: {DESIGN}"
    if 13 <= who.years < 20:
        teen = {"woman": "A teenage girl", "man": "A teenage boy"}.get(who.sex, "A teenager")
        return f"{teen}{_of(who)}: {DESIGN}"
    decade = DECADES.get(who.years // 10, "") if who.years else who.decade
    their = {"woman": "her", "man": "his"}.get(who.sex, "their")
    when = f" in {their} {decade}" if decade else ""
    subject = {"woman": "A woman", "man": "A man"}.get(who.sex, "An adult" if when else "")
    if not subject:
        return DESIGN[:1].upper() + DESIGN[1:]
    return f"{subject}{when}: {DESIGN}"


def _of(who: Who) -> str:
    """A young character's years in words: `` of 8`` (``""``: none said)."""
    return f" of {who.years}" if who.years else ""


def unsettled(who: Who) -> str:
    """What the words left open, in words (``""`` when nothing): ``a woman or a man? the age?``."""
    child = (0 < who.years < 20) or (who.young and not who.years)
    open_ = ["a woman or a man?" if not who.sex and not child else "",
             "the age?" if not who.aged else ""]
    return " ".join(part for part in open_ if part)
