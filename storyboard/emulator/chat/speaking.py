"""Who says a story's quoted lines, as the emulator's stand-in model reads them.

``QUOTE`` finds a quote in any of a story's marks (straight or curly, double or single);
``balanced`` pairs the marks of a stretch cut from inside one; ``speakers`` reads who a speech
verb beside a quote names (``said old Mrs. Rabbit``: Mrs. Rabbit, never ``old Mrs``); and
``speaker_of`` gives each quote to one of a shot's characters: the one a speech verb beside it
names, the subject of a sentence that calls it out, else the one named nearest it, never one the
quote names nor one whom ``said he`` or ``said she`` cannot be.
"""

from __future__ import annotations

import re

from storyboard.emulator.chat import names as chat_names

QUOTE = re.compile(r"[\"“]([^\"”]{1,400})[\"”]|(?<!\w)['‘]([^\n]{1,400}?)['’](?!\w)")


def balanced(text: str) -> str:
    """``text`` with its straight double quotes paired: a stretch cut from a story may open
    inside a quote (its first ``"`` closes one: an opening one is put before the text) or end
    inside one (a quote that runs on into the next paragraph: a closing one is put after); and
    one in single marks alone that opens inside a line (``... by Mrs. McGregor.' 'Now run
    along...'``: its first mark closes one after a stop, never an apostrophe) given its opening
    mark."""
    single = next((m for m in SINGLE.finditer(text) if not _in_word(text, m.start())), None)
    if single is not None and not DOUBLE.search(text) and _closes(text, single.start()) and \
            text[single.start() - 1] in ".,!?;:…—–-":  # not a plural's: "three days' time"
        text = ("‘" if single.group() == "’" else "'") + text
    if text.count('"') % 2 == 0:
        return text
    at = text.index('"')
    return f'"{text}' if _closes(text, at) else f'{text}"'


SINGLE = re.compile(r"['‘’`]")  # (`Merry Christmas!': an edition's opening mark)
DOUBLE = re.compile(r"[\"“”]")  # a story quoting in double marks nests its single ones


def _in_word(text: str, at: int) -> bool:
    """An apostrophe, not a quotation mark: a letter on both sides (``don't``, ``McGregor's``)."""
    return at > 0 and text[at - 1].isalpha() and text[at + 1:at + 2].isalpha()


def _closes(text: str, at: int) -> bool:
    """Whether the mark at ``at`` closes a quote: after a word or a stop, before no word."""
    return at > 0 and not text[at - 1].isspace() and not text[at + 1:at + 2].isalnum()


VERBS = (r"(?:said|says|asked|asks|cried|cries|answered|answers|replied|replies|shouted|shouts|"
         r"called|calls|whispered|whispers|exclaimed|exclaims|continued)")
# Who speaks: a name with its title and the adjectives before it read (``said old Mrs. Rabbit``:
# Mrs. Rabbit, never ``old Mrs``), else any word (``said the dog``: not a name, left out).
TITLE = r"(?:(?:Mr|Mrs|Ms|Dr|St)\.\s+|(?:Mr|Mrs|Ms|Dr|Miss)\s+)"
ADJECTIVE = rf"(?:(?:old|young|little|poor|good|dear|big|wicked|kind)\s+(?={TITLE}))"
WHO = (rf"(?:the\s+)?(?:{ADJECTIVE}?({TITLE}?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){{0,2}})"
       r"|([a-z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,2}))")
SAID_AFTER = re.compile(rf"^\s*,?\s*(?:{VERBS}\s+{WHO}|{WHO}\s+{VERBS})\b")
SAID_BEFORE = re.compile(rf"{WHO}\s+{VERBS}\s*[,:]?\s*$")
TITLED = {"madame", "monsieur", "mademoiselle", "majesty", "highness", "bishop"}


def speakers(text: str) -> list[tuple[int, str]]:
    """Who a speech verb next to a quote names (``"...," said the Skin Horse``, ``Della said:
    "..."``), with where: a capitalised name, not ordinary words (a title alone is a name
    here: ``said Madame``). Each is a person, whatever the words around its other mentions."""
    found: dict[str, tuple[int, str]] = {}
    for quote in QUOTE.finditer(text):  # in every style: "...", “...”, '...', ‘...’
        match = SAID_AFTER.match(text[quote.end():quote.end() + 60]) or \
            SAID_BEFORE.search(text[max(0, quote.start() - 60):quote.start()])
        who = next((g for g in match.groups() if g), "") if match else ""
        if who[:1].isupper() and not all(w.lower() in chat_names.STOP - TITLED
                                         for w in re.findall(r"[^\W\d_]+", who)):
            found.setdefault(_folded(who), (quote.start(), who))
    return list(found.values())


def speaker_of(text: str, quote: re.Match[str], characters: list[str]) -> str:
    """Who says the quote: the given character a speech verb next to it names (``said the
    girl``, ``The King said``), else the one named nearest it, outside any quote ("" when none
    is); never one the quote names (``"Well, Watson, ..."``: said to Watson), nor, said by
    ``he`` or ``she``, one who is plainly the other (``said he``: not Mrs. Hudson)."""
    plain = QUOTE.sub(lambda m: " " * len(m.group()), text)
    following = QUOTE.search(text, quote.end())  # a verb after the next quote is that one's
    stop = following.start() if following is not None else len(text)
    after = re.split(r"[.!?\"“]", plain[quote.end():stop], maxsplit=1)[0][:40]
    spans = [(quote.end() + m.start(), quote.end() + m.end()) for m in SAID.finditer(after)]
    spans += [(m.start(), m.end()) for m in reversed(list(SAID.finditer(plain[:quote.start()])))]
    near = _nearest(plain, characters, *spans[0]) if spans else ""
    said_by = PRONOUN_SAID.search(after)
    who = said_by.group(said_by.lastindex or 0).lower() if said_by is not None else ""
    likely = [c for c in characters if not named(spoken(quote), c) and
              (not who or _sex(c) != ("male" if who == "she" else "female"))]
    calling = CALLING.search(plain[:quote.start()])
    if calling is not None:  # "Mr. McGregor ... ran after Peter, calling out": its subject
        first = _subject(plain, likely or characters, calling.start())
        if first:
            return first
    if who:  # "Grandfather Frog looked up at Mr. Sun. "...," said he.": the sentence's subject
        first = _subject(plain, likely, quote.start())
        if first:
            return first
    if near in likely:
        return near
    return _nearest(plain, likely or characters, quote.start(), quote.end())


CALLING = re.compile(r"\b(?:calling|crying|shouting|saying|whispering|exclaiming)(?:\s+out)?"
                     r"\s*[,:]?\s*$", re.I)  # a line said as the sentence's subject does more
PRONOUN_SAID = re.compile(rf"^\s*,?\s*(?:{VERBS}\s+(he|she)|(he|she)\s+{VERBS})\b", re.I)
def _sex(name: str) -> str:
    """``female`` or ``male`` where a name says so by its title (``Mrs. Hudson``), else ""."""
    first = re.match(r"[^\W\d_]+", name)
    return chat_names.title_sex(first.group()) if first else ""


SAID = re.compile(r"\b(said|says|answered|cried|asked|shouted|replied|called|whispered)\b", re.I)


def _nearest(plain: str, characters: list[str], start: int, end: int) -> str:
    places = [(min(abs(m.start() - end), abs(start - m.end())), name)
              for name in characters for m in chat_names.pattern(name).finditer(plain)]
    return min(places)[1] if places else ""


STOPS = re.compile(r"[.!?]")  # a sentence's end, unless a title's (``chat_names.ABBREVIATION``)
SUBJECT_REACH = 600  # characters a sentence is looked for back from a quote


def _subject(plain: str, characters: list[str], end: int) -> str:
    """The character named first in the sentence running up to ``end`` (a quote said in it),
    or, where ``end`` opens a sentence, in the sentence before ("" when none is)."""
    reach = max(0, end - SUBJECT_REACH)
    stops = [m.end() for m in STOPS.finditer(plain, reach, end)  # ``Mr. Sun`` goes on
             if not chat_names.ABBREVIATION.search(plain, max(0, m.end() - 8), m.end())]
    if stops and not plain[stops[-1]:end].strip():
        end = stops.pop()
    return _first(plain, characters, stops[-1] if stops else reach, end)


def _first(plain: str, characters: list[str], start: int, end: int) -> str:
    """The character named first between ``start`` and ``end`` ("" when none is)."""
    found = [(m.start(), name) for name in characters
             for m in chat_names.pattern(name).finditer(plain, start, end)]
    return min(found)[1] if found else ""


def named(text: str, name: str) -> bool:
    return chat_names.pattern(name).search(text) is not None


def spoken(quote: re.Match[str]) -> str:
    """The words inside a double- or single-quoted stretch ("" when it holds none)."""
    return (quote.group(1) or quote.group(2) or "").strip()


def _folded(name: str) -> str:
    return " ".join(re.sub(r"^the\s+", "", name.lower()).split())


def same(one: str, other: str) -> bool:
    """Whether two names name one person: the same words, or one's words among the other's."""
    a, b = set(_folded(one).split()), set(_folded(other).split())
    return bool(a) and bool(b) and (a <= b or b <= a)
