"""A tale's words into the people and places it names, as the emulator's stand-in model finds them.

A name is a run of capitalised words outside quotes, accents and hyphens and all (``Tomás``,
``Ines Barros``, ``Porto Velho``, ``Notre-Dame de la Garde``, ``Château d'If``: the particles
``de``, ``van``, ``d'``... inside a run). A leading ``The``, ``His``, ``Old``, ``Poor`` or title
is left off (``Old Marley``: ``Marley``), and at a sentence's start ``Whilst``, ``Great``... too. A word that
only ever opens a sentence is a name only when the text never writes it in lower case and also
capitalises it inside a sentence or has it do something (``Sam stood``; not ``Throughout the
night``); a word in ``STOP`` (``None``, ``Whilst``, ``Old``, a season, a number written
out: ``Twenty-one``) never is, nor a word with its verb run on (``Don't``, ``You'll``). A word that is part of
one longer name found is that name (``Ines`` is ``Ines Barros``). A name is a place when it is
made like one (``Fort ...``, ``... Street``, ``Kaatskill mountains``) or every mention of it is
after ``in``, ``at``, ``the``... (or in a list after such a place); else a person. Each
person's voice is worded from what the tale says of them (``she``, ``old``, ``the girl``) and
from its name, so no two sound alike by default.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field

TOKEN = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
STARTS = re.compile(r"(?:^|[.!?:;\"“”'‘’(—]\s*|\n\s*)$")  # a paragraph opens one too
COPULAS = {"is", "are", "was", "were", "be", "been", "being", "am", "become", "becomes",
           "became", "seem", "seems", "seemed", "him", "them", "me", "us"}  # made him Real
COLOURS = {"white", "black", "red", "green", "blue", "brown", "grey", "gray", "yellow", "pink",
           "golden", "silver", "scarlet", "crimson", "purple", "dark", "pale"}  # White fingers
ABBREVIATION = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|M|Mme|Mlle|Messrs|Capt|Col|Gen|Rev)\.\s*$")
PARTICLES = {"de", "da", "do", "dos", "das", "del", "della", "di", "du", "des", "la", "le",
             "van", "von", "der", "den", "ter", "y"}
JOINERS = {"of", "in"}  # inside a name only after "the": the Parliament of Aix
DROPPED = {"the", "a", "an", "his", "her", "their", "my", "our", "your", "its", "to", "in", "on",
           "at", "and", "but", "or", "so", "as", "of", "for", "from", "with", "by", "if", "then",
           "mr", "mrs", "ms", "miss", "dr", "sir", "madam", "majesty", "highness", "bishop",
           "monsieur", "madame", "mademoiselle", "m", "old", "young", "poor", "little", "good",
           "dear"}
AT_START = {"great", "even", "now", "yes", "no", "well", "oh", "ah"}
_STOP_WORDS = """
i he she it we they you me him us them this that these those there here then when what where
why how who whom whose which while whilst whereas whereupon thereupon throughout although though
because since until unless whether however indeed besides afterwards meanwhile suddenly
presently perhaps only still yet soon just again instead therefore thus hardly scarcely none
nothing everything something anything everyone everybody nobody someone somebody anyone all
every each some any many most few both neither either nor not one ones other another such same
after before once later first last next chapter part book lo alas hello goodbye please thank
thanks hush look come go let quick hurry wait stop listen behold whirr aye nay amen lord lady
god heaven devil day night morning evening today tomorrow tonight yesterday monday tuesday
wednesday thursday friday saturday sunday january february march april may june july august
september october november december christmas easter third second fourth fifth sixth
outside inside away down up out off over under through without within upon into above below
beyond between among along across around toward towards near never always often ever also
whoever whatever wherever whenever despite beneath beside amid amidst during times long twice
hence thence nevertheless nonetheless moreover furthermore accordingly otherwise certainly
surely truly true false sure everywhere somewhere nowhere anywhere mind bah humbug
about against anybody bad behind big ha hers hey master mine mistress much new onto others ours
own past round self than theirs thing things time way yours twas tis
spring summer autumn winter
two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred
thousand million
"""
STOP = {*DROPPED, *AT_START, *_STOP_WORDS.split()}  # never a name (a word of one, at most)
# A word with its verb or "not" run on (``Don't``, ``You'll``, ``I'd``): never a name.
CONTRACTION = re.compile(r"^[^\W\d_]+['’](?:t|ll|re|ve|d|m)$", re.I)
PEOPLE = ("little man", "old woman", "old man", "miller", "daughter", "king", "queen", "prince",
          "princess", "girl", "boy", "maiden", "mother", "father", "stepmother", "wife",
          "husband", "son", "sister", "brother", "witch", "wolf", "hunter", "huntsman",
          "soldier", "messenger", "servant", "giant", "dwarf", "tailor", "fisherman", "manikin",
          "robber", "thief", "child", "woman", "man")
# Animals that act in a tale (The Tinder-Box's dogs, a fable's crow): cast by what they are
# where the tale names one so at least twice (an animal named once in passing does not act).
ANIMALS = ("dog", "cat", "horse", "frog", "fox", "bird", "crow", "mouse", "rabbit", "bear",
           "duck", "duckling", "goose", "hen", "cock", "donkey", "ass", "pig", "toad", "stork",
           "owl", "wolf", "lion", "goat", "sparrow", "raven", "hare", "tortoise", "sheep", "cow")
TITLES = {*PEOPLE, "duke", "duchess", "count", "countess", "emperor", "empress", "captain",
          "doctor", "colonel", "general", "major", "baron", "baroness", "abbot", "abbess"}
PLACE_BEFORE = {"in", "at", "into", "near", "inside", "towards", "toward", "from", "across",
                "through", "the", "visiting"}
PLACE_FIRST = {"Fort", "Cape", "Mount", "Lake", "Port", "Porto", "San", "Santa", "Santo", "São",
               "New", "Isle", "Rio", "La", "Las", "Los", "El", "Notre-Dame", "Castle"}
PLACE_LAST = {"Street", "Road", "Lane", "Square", "Hall", "Hollow", "Town", "City", "River",
              "Bay", "Island", "Islands", "Mountains", "Mountain", "Hill", "Hills", "Park",
              "Bridge", "Church", "Abbey", "Castle", "Palace", "Harbour", "Harbor", "Inn",
              "Forest", "Woods", "Valley", "Village", "Court", "Yard"}
PLACE_NOUNS = {"mountains", "mountain", "island", "islands", "river", "docks", "street", "town",
               "village", "hills", "sea", "bay", "lake", "valley", "forest", "road", "harbour",
               "harbor", "castle", "port", "basin", "woods", "city"}
PLACE_OF = {*PLACE_NOUNS, "province", "kingdom", "county", "siege", "country", "state",
            "republic", "isle", "duchy", "bishop", "parliament", "streets", "shores", "heart",
            "outskirts", "suburbs", "centre", "center", "resident", "native"}
DETERMINERS = {"the", "a", "an", "his", "her", "their", "my", "our", "your", "its", "this",
               "that", "these", "those", "all", "every", "each", "some", "no", "any", "one"}
PRONOUNS = {"he", "she", "it", "they", "we", "i", "you"}  # "Thereafter he kept": no one acts
LIST_GAP = re.compile(r"^\s*(?:,|,?\s+(?:and|or))\s*$")
FEMALE = {"she", "herself"}  # who does (her, his: often whom it is done to)
MALE = {"he", "himself"}
FEMALE_KINDS = {"woman", "girl", "queen", "princess", "mother", "stepmother", "wife", "daughter",
                "sister", "witch", "maiden", "old woman"}
# The titles that say who is a woman or a man (``Mrs. Hudson``, ``Uncle Jack``): a name's voice
# and whom ``said she`` can be (``speaking``).
FEMALE_TITLES = {"mrs", "miss", "ms", "madame", "mme", "mademoiselle", "mlle", "lady", "dame",
                 "queen", "princess", "aunt"}
MALE_TITLES = {"mr", "sir", "monsieur", "lord", "messrs", "king", "prince", "uncle", "father"}
YOUNG_KINDS = {"girl", "boy", "child", "prince", "princess", "maiden", "son", "daughter"}
OLD_KINDS = {"old woman", "old man", "king", "queen", "witch"}
TIMBRES = ("warm and low", "bright and clear", "soft and breathy", "dry and gravelly",
           "rich and resonant", "light and husky")
PACES = ("at an even pace", "quick and lively", "slow and measured", "hesitant, with pauses")


@dataclass
class Name:
    words: tuple[str, ...]
    first: int  # where it is first named
    place: bool = True  # every mention so far reads as a place's
    shaped: bool = False  # made like a place's name (Fort ..., ... Street)
    mentions: list[int] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.words)


def capitalised(token: str) -> bool:
    """A word that starts with a capital and is not all capitals (``THE``), or ``d'If``."""
    if token[:2] in ("d'", "d’") and token[2:3].isupper():
        return True
    return len(token) > 1 and token[0].isupper() and not token.isupper()


def _opens_sentence(plain: str, start: int) -> bool:
    before = _ending_at(plain, start)
    return bool(STARTS.search(before)) and not ABBREVIATION.search(before)


def _ending_at(plain: str, start: int, reach: int = 80) -> str:
    """The text before ``start`` as far back as ``STARTS`` and ``ABBREVIATION`` read (both end
    at its end): its last ``reach`` characters, which hold any abbreviation or stop with the white
    space after it unless white space fills nearly all of them (then all of it), so a name's test
    costs the same wherever in a novel it stands, not the length before it."""
    if start <= reach:
        return plain[:start]
    tail = plain[start - reach:start]
    return tail if len(tail.rstrip()) > 12 else plain[:start]


def _word_before(plain: str, start: int) -> str:
    found = re.search(r"([^\W\d_]+)\s+$", plain[max(0, start - 40):start])
    return found.group(1).lower() if found else ""


def _two_before(plain: str, start: int) -> tuple[str, str]:
    """The two words before ``start`` (lower case; "" where there are none)."""
    words = ["", "", *re.findall(r"[^\W\d_]+", plain[max(0, start - 60):start].lower())]
    return words[-2], words[-1]


def _runs(plain: str) -> list[list[re.Match[str]]]:
    """Runs of capitalised words one space apart (particles inside them)."""
    runs: list[list[re.Match[str]]] = []
    current: list[re.Match[str]] = []
    for token in TOKEN.finditer(plain):
        word = token.group()
        if current and plain[current[-1].end():token.start()] == " " and (
                capitalised(word) or word in PARTICLES or (
                    word in JOINERS and _word_before(plain, current[0].start()) == "the")):
            current.append(token)
            continue
        if current:
            runs.append(current)
        current = [token] if capitalised(word) else []
    return [*runs, current] if current else runs


def _trimmed(run: list[re.Match[str]], plain: str) -> list[re.Match[str]]:
    """The run without a leading ``The`` or title, or (at a sentence's start) ``Old``,
    ``Whilst``...; and without trailing particles."""
    run = list(run)
    while run and (run[0].group().lower() in DROPPED or (
            run[0].group().lower() in STOP and _opens_sentence(plain, run[0].start()))):
        run.pop(0)
    while run and not capitalised(run[-1].group()):
        run.pop()
    while run and not capitalised(run[0].group()):
        run.pop(0)
    return run


def _bare(word: str) -> str:
    return re.sub(r"['’]s$", "", word)


def _demonym(run: list[re.Match[str]], plain: str) -> bool:
    """``the great Appalachian family``, ``an Asiatic disease``: a single word like a people's
    adjective before a noun."""
    after = re.match(r" ([a-z]+)", plain[run[-1].end():])
    return len(run) == 1 and re.search(r"(?:ian|ish|ese|atic)$", run[0].group()) is not None and \
        after is not None and after.group(1) not in ("said", "was", "had", "is", "went")


def _placed(run: list[re.Match[str]], words: tuple[str, ...], plain: str,
            after_place: int) -> bool:
    """Whether this mention reads as a place's: after ``in``, ``at``, ``the``...; or in a list
    right after one (``after_place``: where the last place mention ended, -1 if none)."""
    before = _word_before(plain, run[0].start())
    if before == "the" and words[0].lower() in TITLES:
        return False
    if before in PLACE_BEFORE:
        return True
    if before == "of" and _two_before(plain, run[0].start())[0] in PLACE_OF:
        return True
    return after_place >= 0 and bool(LIST_GAP.match(plain[after_place:run[0].start()]))


def _shaped(run: list[re.Match[str]], words: tuple[str, ...], plain: str) -> bool:
    following = re.match(r" ([a-z]+)", plain[run[-1].end():])
    return words[0] in PLACE_FIRST or words[-1] in PLACE_LAST or (
        following is not None and following.group(1) in PLACE_NOUNS)


def found_names(plain: str, written: str = "") -> list[Name]:
    """Every run that is a name, one ``Name`` for each (mentions and place reading merged);
    ``written``: the whole text, quotes and all, where a word written in lower case is read."""
    names: dict[tuple[str, ...], Name] = {}
    starts: dict[tuple[str, ...], list[int]] = {}
    after_place = -1
    for raw in _runs(plain):
        run = _trimmed(raw, plain)
        if not run or _demonym(run, plain):
            continue
        words = (*(t.group() for t in run[:-1]), _bare(run[-1].group()))
        if all(w.lower() in STOP or _numbered(w) for w in words) or \
                any(CONTRACTION.match(w) for w in words):
            continue
        placed = _placed(run, words, plain, after_place)
        after_place = run[-1].end() if placed or _shaped(run, words, plain) else -1
        if len(words) == 1 and _word_before(plain, run[0].start()) in COPULAS:
            continue  # "he was Real", "made him Real": what one is, not who
        if len(words) == 1 and _opens_sentence(plain, run[0].start()):
            starts.setdefault(words, []).append(run[0].start())
            continue
        name = names.setdefault(words, Name(words, run[0].start()))
        name.place = name.place and placed
        name.shaped = name.shaped or _shaped(run, words, plain)
        name.mentions.append(run[0].start())
    _confirmed(names, starts, plain, written)
    return _merged(_not_opening(names, written or plain))


def _numbered(word: str) -> bool:
    """A number written out (``Twenty-one``): what there are so many of, no one."""
    return all(part.lower() in STOP for part in word.split("-"))


def _not_opening(names: dict[tuple[str, ...], Name], written: str) -> dict[tuple[str, ...], Name]:
    """The names less each word alone that the text also writes in lower case (``you are
    Real``, and ``a real rabbit``): an ordinary word, wherever it is capitalised (one that
    speaks is a person all the same: ``said the Rabbit``)."""
    lower = {w for w in TOKEN.findall(written) if w[0].islower()}
    return {words: name for words, name in names.items()
            if len(words) > 1 or words[0].lower() not in lower}


def _confirmed(names: dict[tuple[str, ...], Name], starts: dict[tuple[str, ...], list[int]],
               plain: str, written: str = "") -> None:
    """A word found only opening sentences is a name when the text (``written``: the whole
    tale, its quotes too) never writes it in lower case and either capitalises it inside a
    sentence too or has it do something (``Sam stood``: a word after it, not ``the`` or
    ``his`` as after ``Throughout``)."""
    lower = {w.lower() for w in TOKEN.findall(written or plain) if w[0].islower()}
    for words, where in starts.items():
        word = words[0]
        inside = words in names or any(word in n.words for n in names.values())
        acts = any(_acts(plain, start + len(word)) for start in where)
        if (inside or acts) and word.lower() not in lower | COLOURS and \
                not word.endswith(("ly", "ing")):
            name = names.setdefault(words, Name(words, min(where), place=False))
            name.first = min(name.first, *where)
            name.place = False
            name.mentions += where


def _acts(plain: str, end: int) -> bool:
    """Whether the word ending at ``end`` is followed by one in lower case that is not a
    determiner or a pronoun (``Sam stood``, not ``Throughout the night`` or ``Thereafter he
    kept``)."""
    after = re.match(r"(?:['’]s)? ([a-z]+)", plain[end:])
    return after is not None and after.group(1) not in DETERMINERS | PRONOUNS


def _merged(names: dict[tuple[str, ...], Name]) -> list[Name]:
    """Each name that is a part of one longer name found joins it (``Ines``: ``Ines Barros``;
    ``Van Winkles``: the family of ``Rip Van Winkle``); a part of several stays out."""
    out: dict[tuple[str, ...], Name] = {}
    for words, name in sorted(names.items(), key=lambda item: -len(item[0])):
        whole = [n for n in out.values() if _part_of(words, n.words)]
        if not whole:
            out[words] = name
        elif len(whole) == 1:
            whole[0].first = min(whole[0].first, name.first)
            whole[0].mentions += name.mentions
            whole[0].place = whole[0].place and name.place
    return sorted(out.values(), key=lambda n: n.first)


def _part_of(words: tuple[str, ...], longer: tuple[str, ...]) -> bool:
    if words[-1].endswith("s") and len(words) > 1:
        words = (*words[:-1], words[-1][:-1])
    size = len(words)
    return size < len(longer) and any(longer[i:i + size] == words
                                      for i in range(len(longer) - size + 1))


def is_place(name: Name) -> bool:
    return name.shaped or name.place


@functools.lru_cache(maxsize=1024)
def pattern(name: str) -> re.Pattern[str]:
    """``name`` as written (any case), or one of its own words (``Holmes`` for ``Sherlock
    Holmes``), capitalised, as a whole word."""
    parts = [re.escape(w) for w in name.split() if len(w) > 2 and w.lower() not in PARTICLES
             and w.lower() not in STOP and w != name]
    either = "|".join([rf"(?i:{re.escape(name)})", *parts])
    return re.compile(rf"(?<![\w@])(?:{either})(?![\w])")


def title_sex(word: str) -> str:
    """``female`` or ``male`` when ``word`` (a dot after it or not) is a title of one, else ""."""
    word = word.lower().rstrip(".")
    return "female" if word in FEMALE_TITLES else "male" if word in MALE_TITLES else ""


def titled_sex(before: str) -> str:
    """The sex of the title ``before`` ends in, right before a name (``Mrs. ``: "Mrs. Hudson" is
    a woman whatever pronouns surround her name), else ""."""
    found = re.search(r"([^\W\d_]+\.?) $", before)
    return title_sex(found.group(1)) if found else ""


def voice(name: str, text: str) -> str:
    """A voice to design for ``name``: its age and sex as the tale tells them (a kind word, an
    ``old`` before it, the pronouns after it), its timbre and pace from its name."""
    mentions = list(pattern(name).finditer(text))
    near = " ".join(text[m.start():m.end() + 160] for m in mentions).lower()
    ahead = [text[max(0, m.start() - 16):m.start()] for m in mentions]  # a title's room
    before = " ".join(room[-12:] for room in ahead).lower()
    kind = name.lower()
    words = re.findall(r"[a-z]+", near)
    titled = {sex for room in ahead if (sex := titled_sex(room))}
    female = kind in FEMALE_KINDS or titled == {"female"} or (
        kind not in TITLES and titled != {"male"} and
        sum(w in FEMALE for w in words) > sum(w in MALE for w in words))
    age = "A young" if kind in YOUNG_KINDS or "young" in before or "little" in before else \
        "An older" if kind in OLD_KINDS or "old" in before.split() else "An adult"
    digest = hashlib.sha256(name.encode()).digest()
    who = "woman's" if female else "man's"
    return f"{age} {who} voice: {TIMBRES[digest[0] % len(TIMBRES)]}, " \
           f"{PACES[digest[1] % len(PACES)]}"
