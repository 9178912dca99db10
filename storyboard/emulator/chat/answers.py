"""A chat request into the answer a language model might give: deterministic, from the text given.

It reads the breakdown's user message (a JSON document: the stage, the chapter's numbered lines and
what earlier stages decided) and answers in that stage's shape: an outline from the paragraphs'
first sentences (each line's, in a paragraph whose every line ends a sentence); a cast: a
screenplay's cues, the people and places a tale names (``chat_names``:
``Ines Barros``, ``Porto Velho``, ``Tomás``, never an ordinary word such as ``All``, ``None`` or
``Whilst``), and the people it names by what they are (``the miller``, ``the little man``), each
drawn from the sentence that first names it and voiced from what the tale says of it, with a
screenplay's scene headings as places; one shot per paragraph (code and headings left out), its
quoted speech given back as the author's words, spoken by the given character named nearest the
quote, each shot showing the people it names (else the last one seen, so no shot shows nobody).
A version's translation (``stage: translate``) is answered by ``versionwords``. A request of another
shape gets ``{}`` when it asks for JSON, else an echo.
A shots request sent back with a word that refers to another shot is answered without it, and
one with a line the story gives to another with the line given to them (``heeded``). The faults
bend an answer as real models and servers fail (``faults.bent``).
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any, NamedTuple

from storyboard.emulator.chat import names as chat_names
from storyboard.emulator.chat import versionwords
from storyboard.emulator.chat.speaking import (
    QUOTE,
    TITLE,
    balanced,
    named,
    same,
    speaker_of,
    speakers,
    spoken,
)

# A sentence ends at a stop, never at a title's (``Mrs. McGregor``).
SENTENCE = re.compile(r"(?<=[.!?])(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)\s+")
_KINDS = "|".join(kind.replace(" ", r"\s+") for kind in (*chat_names.PEOPLE,
                                                          *chat_names.ANIMALS))
KIND_WORDS = re.compile(rf"\b(?:the|a|an|his|her|their|poor|young)\s+(?:\w+\s+)??({_KINDS})(s)?\b",
                        re.I)
CUE = re.compile(r"^@?([A-Z][A-Z0-9 .'-]{0,30}?)\s*(\([^)]*\))*\s*\^?$")
HEADING = re.compile(r"^\.?(INT\./EXT|INT/EXT|I/E|INT|EXT|EST)[. ]\s*(.+?)(\s+-\s+.*)?$", re.I)
ANYONE = ("Man", "Woman", "Child")  # named so with "a" or "an": no one in particular
UNDERLINE = re.compile(r"^(=+|-+)$")
INDENTED = re.compile(r"^(?: {4}|\t)")
CAMERAS = ("wide shot, static", "medium shot, slow push in", "close-up, handheld")


def request_document(messages: list[Any]) -> dict[str, Any] | None:
    """The first user message, when it is the breakdown's JSON document."""
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "user":
            try:
                document = json.loads(str(message.get("content", "")))
            except ValueError:
                return None
            return document if isinstance(document, dict) and "stage" in document else None
    return None


class Para(NamedTuple):
    first: int
    last: int
    rows: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.rows)


def paragraphs(lines: list[list[Any]]) -> list[Para]:
    """Each run of consecutive lines (chapter headings left out: ``#``, ``Chapter 3``, and a
    line underlined with ``===`` or ``---``; code too: a fenced block, and lines indented by
    four spaces or more that do not go on a paragraph, as CommonMark reads them)."""
    out: list[Para] = []
    fenced, code = False, -2
    for number, raw in ((int(n), str(t)) for n, t in lines):
        text = raw.strip()
        if text.startswith(("```", "~~~")) or fenced:
            fenced = fenced != text.startswith(("```", "~~~"))
            continue
        if INDENTED.match(raw) and (code == number - 1 or not out or out[-1].last != number - 1):
            code = number  # an indented block: a title set out, a caption, a list of plates
            continue
        if UNDERLINE.match(text):  # a setext heading's line: the text above it is the heading
            if out and out[-1].last == number - 1:
                out[-1] = Para(out[-1].first, number, ())
            continue
        if text.startswith("#") or re.match(r"^(chapter|part)\b", text, re.I):
            continue
        if out and out[-1].last == number - 1:
            out[-1] = Para(out[-1].first, number, (*out[-1].rows, text))
        else:
            out.append(Para(number, number, (text,)))
    return [para for para in out if para.rows]


def heading(para: Para) -> str | None:
    """A Fountain scene heading's place (``INT. CAFE - DAY``: ``Cafe``)."""
    match = HEADING.match(para.rows[0]) if len(para.rows) == 1 else None
    return match.group(2).strip().title() if match else None


def dialogue(para: Para) -> tuple[str, str] | None:
    """A Fountain dialogue block's (speaker, words): a cue in capitals, then its lines."""
    cue = CUE.match(para.rows[0])
    if len(para.rows) < 2 or cue is None or HEADING.match(para.rows[0]) or \
            para.rows[0].endswith(":"):
        return None
    words = [row for row in para.rows[1:] if not (row.startswith("(") and row.endswith(")"))]
    return (cue.group(1).strip().title(), " ".join(words)) if words else None


def _first_sentence(text: str) -> str:
    return SENTENCE.split(QUOTE.sub("", text).strip() or text)[0][:300] or "A moment passes."


ENDS = re.compile(r"[.!?…;:][\"”’')\]]*$")


def units(para: Para) -> list[str]:
    """What a paragraph tells as beats: itself, or each of its lines when every line ends a
    sentence (a story pasted one sentence a line, with no blank line between)."""
    if len(para.rows) > 1 and all(ENDS.search(row) for row in para.rows):
        return list(para.rows)
    return [para.text]


def outline(document: dict[str, Any]) -> dict[str, Any]:
    parts = [p for p in paragraphs(document.get("lines", [])) if heading(p) is None]
    beats = [_first_sentence(text) for p in parts for text in units(p)][:60]
    return {"title": str(document.get("chapter") or "Untitled")[:60],
            "summary": " ".join(beats[:2])[:2000] or "Nothing happens.", "beats": beats}


def kinds(plain: str, named: list[str]) -> list[tuple[int, str]]:
    """The people a tale names by what they are (``the miller``; a band of them, ``the
    robbers``, as one), and the animals that act in it (``the dog``), with where, unless a name
    found is the same word (an animal a name holds: ``Rabbit`` of ``Velveteen Rabbit``). An
    animal or a band named so once in passing does not act: twice or more, it does."""
    found: dict[str, int] = {}
    times: dict[str, int] = {}
    bands: set[str] = set()
    for m in KIND_WORDS.finditer(plain):
        kind = " ".join(m.group(1).split()).capitalize()
        if m.group(2):  # the robbers: a band, one of the cast; animals in the plural are not
            if kind.lower() in chat_names.ANIMALS or " " in kind:
                continue
            kind += "s"
            bands.add(kind)
        if kind in ANYONE and m.group().lower().startswith(("a ", "an ")):
            continue  # "an excellent man of business": no one in particular
        times[kind] = times.get(kind, 0) + 1
        if not any(kind.lower() == n.lower() or kind.lower() in n.lower().split() for n in named):
            found.setdefault(kind, m.start(1))
    return [(where, kind) for kind, where in found.items()
            if (kind.lower() not in chat_names.ANIMALS and kind not in bands)
            or times[kind] >= 2]


def names(text: str) -> tuple[list[str], list[str]]:
    """The people and the places ``text`` names outside quotes (``chat_names``), in order of
    first appearance, the people named by what they are among them, and every one a speech
    verb names as speaking (``speakers``) or speeches call by name (``addressed``): a person,
    never a place."""
    plain = QUOTE.sub("\n", SPEECH.sub("\n", PLACEHOLDER.sub(_blank, CAPTION.sub(_blank, text))))
    # (the word after a quote may open a sentence)
    found = chat_names.found_names(plain, text)
    talking = speakers(text)
    speaks = [n for n in found if any(same(who, n.text) for _, who in talking)]
    people = [(n.first, _titled(n.text, talking)) for n in found
              if (not chat_names.is_place(n) or n in speaks) and not _kind(n.text)]
    people += kinds(plain, [n.text for n in found])
    people += [(where, who) for where, who in talking + addressed(text, found)
               if not any(same(who, name) for _, name in people)]
    return [name for _, name in sorted(people)], \
        [n.text for n in found if chat_names.is_place(n) and n not in speaks]


# A name a speech calls someone by after a comma, set off by another or ending it (``"Well,
# Watson, ..."``, ``"... my dear Watson."``): one who is there, though named only in speech (a
# narrator). Never at a speech's start: ``"Nitre," I replied`` answers, it calls no one.
VOCATIVE = re.compile(r"(?:[,;]\s+|\bdear\s+)(?:(?:Mr|Mrs|Ms|Dr)\.\s+)?([A-Z][a-z]+)"
                      r"(?=\s*(?:[,!?]|\.\s*$|--|—))")
ADDRESSED = 2  # times a name is called by, at least


def addressed(text: str, found: list[chat_names.Name]) -> list[tuple[int, str]]:
    """Whom the speeches of ``text`` call by name at least ``ADDRESSED`` times (``VOCATIVE``),
    with where first; never a place of ``found``, nor a word the story writes in lower case."""
    places = [n.text for n in found if chat_names.is_place(n)]
    lower = {word for word in chat_names.TOKEN.findall(text) if word[0].islower()}
    seen: dict[str, list[int]] = {}
    for quote in SPEECH.finditer(text):
        for call in VOCATIVE.finditer(quote.group()[1:-1]):
            who = call.group(1)  # ``Dr. Watson`` and ``Watson``: one, untitled
            if who.lower() not in chat_names.STOP | lower and \
                    not any(same(who, p) for p in places):
                seen.setdefault(who, []).append(quote.start())
    return [(where[0], who) for who, where in seen.items() if len(where) >= ADDRESSED]


# A speech in double marks inside one paragraph, however long (``QUOTE`` takes 400 characters
# at most: a longer one paired its close with the next one's opening, and a speech's names, "of
# Tapanuli fever", were read as the story's cast).
SPEECH = re.compile(r"[\"“][^\"”\n]*[\"”]")
PLACEHOLDER = re.compile(r"\[[^\]\n]{0,60}\]")  # an edition's "[Illustration]": no one
# An edition's plate and its caption, over lines (``[Illustration: "Here's your trout, Mr.`` /
# ``_Page 5._]``): the story's words again, and the page's.
CAPTION = re.compile(r"\[(?:Illustration|Frontispiece|Plate)\b[^\]]{0,400}\]", re.I)
RULE = re.compile(r"^[\s_*=~.·•—–-]*$")  # an edition's rule or row of stars: no words


def furniture(row: str) -> bool:
    """Whether a line is an edition's furniture, not the story: a placeholder alone on it
    (``[Illustration]``) or a rule (``_____``, ``* * *``); nothing happens in it."""
    return RULE.match(PLACEHOLDER.sub("", row)) is not None


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _titled(name: str, talking: list[tuple[int, str]]) -> str:
    """``name`` as a speech verb names it with its title (``Rabbit`` said as ``Mrs. Rabbit``)."""
    return next((who for _, who in talking if same(who, name) and len(who) > len(name)
                 and re.match(TITLE, who)), name)


def _kind(name: str) -> bool:
    """A kind of animal named in the plural (``four little Rabbits``): what they are, no one."""
    return name.endswith("s") and name[:-1].lower() in chat_names.ANIMALS


def _scene_place(title: str) -> str:
    """A chapter's own place, for a chapter that names no one: its title (``The Morning
    scene`` when the title is only ordinary words)."""
    words = re.findall(r"[^\W\d_]+", title.lower())
    return f"{title} scene" if all(w in chat_names.STOP for w in words) else title


TITLE_ROWS = 12  # a title page is on a story's first rows


def title_page(parts: list[Para]) -> int:
    """How many paragraphs at a story's head are its title page (``The Adventure of the Dying
    Detective`` / ``By`` / ``Sir Arthur Conan Doyle``): each a line or two of a few words, no
    sentence's end and no quote, on the story's first rows, the story after them. No one in
    it acts: the author is no one of the cast."""
    if not parts or parts[0].first > TITLE_ROWS:
        return 0
    count = 0
    while count < min(len(parts) - 1, 4) and _title_row(parts[count]):
        count += 1
    return count


def _title_row(para: Para) -> bool:
    text = para.text
    return len(para.rows) <= 2 and len(text.split()) <= 8 and not ENDS.search(text) and \
        QUOTE.search(text) is None and heading(para) is None and dialogue(para) is None


def cast(document: dict[str, Any]) -> dict[str, Any]:
    parts = paragraphs(document.get("lines", []))
    parts = parts[title_page(parts):]
    text = "\n\n".join(balanced(p.text) for p in parts  # no name runs on into the next
                         if dialogue(p) is None and heading(p) is None)
    cues = [said[0] for said in map(dialogue, parts) if said is not None]
    named, spots = names(text)
    chosen: dict[str, str] = {}
    for name in [*cues, *named]:
        chosen.setdefault(name.lower(), name)  # MIA's cue and Mia in the action: one person
    used: set[str] = set()
    people = [{"name": name, "appearance": f"{name}, as the story tells: "
               f"{_mention(text, name, used)}"[:2000], "voice": chat_names.voice(name, text)}
              for name in list(chosen.values())[:60]]
    looks = {place: f"{place}, an establishing view" for place in map(heading, parts) if place}
    for spot in spots:  # a place the tale names: the sentence that first names it
        looks.setdefault(spot, f"{spot}, an establishing view: {_mention(text, spot, used)}"
                         [:2000])
    places = [{"name": place, "look": look} for place, look in looks.items()
              if place.lower() not in chosen][:60]
    if not people and not places:  # a chapter that names no one: its own place, so a shot
        title = _scene_place(str(document.get("chapter") or "The place")[:60])  # shows one
        places = [{"name": title, "look": f"{title}: {_first_sentence(text)}"[:2000]}]
    return {"characters": people, "places": places, "props": []}


@functools.lru_cache(maxsize=8)
def _sentences(text: str) -> tuple[str, ...]:
    """``text`` cut into sentences, once for all the names an answer looks up in it."""
    return tuple(SENTENCE.split(text))


def _mention(text: str, name: str, used: set[str]) -> str:
    """The first sentence that names ``name`` and no entry before it was given (``used``), so
    that no two entries say the same words (a model that did would read as one in a loop);
    else the words around its first mention."""
    said = chat_names.pattern(name)
    naming = [s[:300] for s in _sentences(text) if said.search(s)]
    fresh = next((s for s in naming if s not in used), None)
    if fresh is None:
        found = said.search(text)
        words = text[max(0, found.start() - 60):found.end() + 60].split()[1:-1] if found else []
        fresh = " ".join(words) or name
    used.add(fresh)
    return fresh


def _seconds(words: int, rate: float) -> float:
    return min(6.0, max(1.0, math.ceil(words / rate * 2) / 2))


def _timed(action: str, said: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """An action scene, then one scene a line; 14 s at most in all, the action 2 s at least."""
    lengths = [_seconds(len(action.split()), 3.0), *(_seconds(len(q.split()), 2.5)
                                                     for _, q in said)]
    scale = min(1.0, 14 / sum(lengths))
    lengths = [max(0.5, math.floor(length * scale * 2) / 2) for length in lengths]
    lengths[0] = max(lengths[0], 2.0)
    scenes: list[dict[str, Any]] = [{"seconds": lengths[0], "action": action[:2000], "lines": []}]
    scenes += [{"seconds": length, "action": f"{who} speaks",
                "lines": [{"speaker": who, "quote": quote}]}
               for length, (who, quote) in zip(lengths[1:], said, strict=True)]
    return scenes


def _given(document: dict[str, Any], key: str) -> list[str]:
    return [str(n) for n in document.get(key, [])]


def shot(index: int, para: Para, place: str | None, document: dict[str, Any],
         last: list[str]) -> dict[str, Any]:
    """One paragraph's shot; ``last``: who the chapter showed last (updated)."""
    characters = _given(document, "characters")
    given = characters + _given(document, "places") + _given(document, "props")
    block = dialogue(para)
    lower = {name.lower(): name for name in characters}
    if block is not None and block[0].lower() in lower:
        said = [(lower[block[0].lower()], block[1])]
        scenes = [{"seconds": max(2.0, _seconds(len(block[1].split()), 2.5)),
                   "action": f"{said[0][0]} speaks", "lines": [{"speaker": said[0][0],
                                                                "quote": block[1]}]}]
    else:
        text = balanced(para.text)
        found = [(speaker_of(text, m, characters), spoken(m))
                 for m in QUOTE.finditer(text) if spoken(m)]
        said = [(who, quote) for who, quote in found if who][:3]
        scenes = _timed(QUOTE.sub("", text).strip() or text, said)
    speakers = list(dict.fromkeys(who for who, _ in said))
    seen = [n for n in given if (named(para.text, n) or n == place) and n not in speakers]
    if not seen and not speakers:
        seen = last[:1] or given[:1]
    last[:] = [*speakers, *seen] or last
    return {"from_line": para.first, "to_line": para.last,
            "camera": CAMERAS[index % len(CAMERAS)], "cast": seen[:5 - len(speakers)],
            "scenes": scenes}


def shots(document: dict[str, Any]) -> dict[str, Any]:
    made: list[dict[str, Any]] = []
    place = None
    last: list[str] = []
    for para in paragraphs(document.get("lines", [])):
        place = heading(para) or place
        if heading(para) is None:
            made.append(shot(len(made), para, place, document, last))
    return {"shots": made}


STAGES = {"outline": outline, "cast": cast, "shots": shots, "translate": versionwords.translate}


def content_of(body: dict[str, Any]) -> str:
    """The text the emulated model answers ``body`` with."""
    document = request_document(body.get("messages") or [])
    stage = str(document.get("stage")) if document else ""
    if document is not None and stage in STAGES:
        answer = heeded(STAGES[stage](document), body.get("messages") or [])
        return json.dumps(answer, ensure_ascii=False)
    kind = (body.get("response_format") or {}).get("type", "text")
    if kind in ("json_object", "json_schema"):
        return json.dumps(forced(body.get("response_format") or {}))
    messages = body.get("messages") or [{}]
    return f"You said: {str(messages[-1].get('content', ''))[:200]}"


def forced(fmt: dict[str, Any]) -> dict[str, Any]:
    """The one answer a schema allows where each of its required fields has one possible value
    (as a server holding the schema decodes it: a probe of whether it does); else ``{}``."""
    schema = fmt.get("schema") if fmt.get("type") == "json_object" else \
        (fmt.get("json_schema") or {}).get("schema")
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict) or not isinstance(schema, dict):
        return {}
    values = {name: props[name].get("enum") for name in schema.get("required") or []
              if isinstance(props.get(name), dict)}
    if not values or any(not isinstance(v, list) or len(v) != 1 for v in values.values()):
        return {}
    return {name: one[0] for name, one in values.items()}


ACROSS = re.compile(r"^- shots\[(\d+)\]: .*?'([^'\n]{1,40})' refers to another shot", re.M)
GIVEN = re.compile(r"^- (?:shots\[(\d+)\]\.)?scenes\[(\d+)\]\.lines\[(\d+)\]\.speaker: "
                   r".*: give the line to ([^\n]{1,80})$", re.M)


def heeded(answer: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
    """A shots (or a season shot's) answer with what a send-back asked of it done, as a model
    would: a word said to refer to another shot (``'again' refers to another shot``) left out of
    that shot's action; a line given to whom it says (``give the line to Hans``)."""
    said = " ".join(str(m.get("content", "")) for m in messages[1:]
                    if isinstance(m, dict) and m.get("role") == "user")
    made = answer.get("shots", []) if "shots" in answer else [answer]
    for found in ACROSS.finditer(said):
        index, words = int(found.group(1)), re.escape(found.group(2))
        for scene in made[index]["scenes"] if index < len(made) else []:
            scene["action"] = re.sub(rf",?\s*\b{words}\b", "", scene["action"], count=1)
    for found in GIVEN.finditer(said):
        shot, scene, line = (int(found.group(n) or 0) for n in (1, 2, 3))
        scenes = made[shot].get("scenes", []) if shot < len(made) else []
        lines = scenes[scene].get("lines", []) if scene < len(scenes) else []
        if line < len(lines):
            was, lines[line]["speaker"] = lines[line]["speaker"], found.group(4).strip()
            if scenes[scene].get("action") == f"{was} speaks":  # as it wrote the line's scene
                scenes[scene]["action"] = f"{lines[line]['speaker']} speaks"
    return answer


def tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))
