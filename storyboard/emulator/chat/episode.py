"""A season's episode and shot requests into the answers a model might give, from the text given.

A season's episode (``stage: episode``) asks for its title and hook: who acts most in it and the
thing it names most (``season.title_of``), and a whole sentence of its last
(``season.hook_of``). Each of its shots (``stage: shot``) is asked over its own run of the
episode's lines, lasting ``shot.seconds``: made as ``chat_answers`` makes a paragraph's shot,
then light (``season.light``), with a still framing of its own, and held within the shot's
seconds at two a load point (its line alone, then its action alone, cut until it fits). A
line filmed again (``shot.again``) tells another of its sentences, or the same from further on,
and quotes nothing; a quote is one of those the shot offers (``shot.quotes``), whole. A season's
cut (``stage: cut``) keeps its planned end unless another ends on a question or a cry and it does
not. Every other request is ``chat_answers``'.
"""

from __future__ import annotations

import json
from typing import Any

from storyboard.emulator.chat import answers as chat_answers
from storyboard.emulator.chat import speaking
from storyboard.emulator.chat.answers import SENTENCE, Para
from storyboard.emulator.chat.season import (
    LINE_WORDS,
    hook_of,
    light,
    timed_for_load,
    title_of,
)
from storyboard.language.lint.continuity import ACROSS_SHOTS

ACTION_CHARS = 160  # the most a shot's scene's action holds (the bound its request sends)
STEP = 5  # words further a line's sentence is told from, each time it is filmed again
SIZES = ("wide shot", "medium shot", "close-up", "full shot", "medium close-up", "long shot")
ANGLES = ("static", "eye level, static", "low angle, static", "high angle, static",
          "over the shoulder, static")


def camera(index: int) -> str:
    """The ``index``-th shot's still camera: a size and an angle, no two alike in 30 shots (a
    model does not film a line twice the same way)."""
    return f"{SIZES[index % len(SIZES)]}, {ANGLES[index % len(ANGLES)]}"


def _rows(document: dict[str, Any]) -> list[Para]:
    """Each line of the episode that is not a heading, as a paragraph of one line (an edition's
    furniture, ``[Illustration]`` or a rule of underscores, and the story's title page left
    out: nothing happens in them)."""
    paras = chat_answers.paragraphs(document.get("lines", []))
    paras = paras[chat_answers.title_page(paras):]
    return [Para(para.first + k, para.first + k, (row,)) for para in paras
            for k, row in enumerate(para.rows) if not chat_answers.furniture(row)]


def _fits(shot: dict[str, Any], document: dict[str, Any], seconds: float,
          whole: bool = False) -> dict[str, Any]:
    """``shot`` said in fewer words until its scenes need at most ``seconds`` at two a load
    point: its line alone (the action's scene left out), then the line's words (``whole``: a
    quote is never cut, its line left out instead), then its action alone and the action's
    words."""
    action = shot["scenes"][0]
    while True:
        made = timed_for_load(shot, document)
        if sum(s["seconds"] for s in made["scenes"]) <= seconds:
            return made
        scenes = shot["scenes"]
        said = scenes[-1]["lines"]
        if len(scenes) > 1:
            shot = {**shot, "scenes": scenes[1:]}
        elif said and not whole and len(said[0]["quote"].split()) > 3:
            said[0]["quote"] = " ".join(said[0]["quote"].split()[:-1])
        elif said:
            shot = {**shot, "scenes": [action]}
        elif len(scenes[0]["action"].split()) > 2:
            words = scenes[0]["action"].split()
            shot = {**shot, "scenes": [{**scenes[0], "action": " ".join(words[:-1])}]}
        else:
            return made


def _told(para: Para, turn: int) -> str:
    """What the ``turn``-th shot of a paragraph tells: its ``turn``-th sentence outside quotes,
    and round again from ``STEP`` words further each time past the last (so no two shots of a
    line say the same)."""
    plain = speaking.QUOTE.sub("", para.text).strip() or para.text
    said = [s for s in SENTENCE.split(plain) if s.strip()] or [plain]
    words = ACROSS_SHOTS.sub("", said[turn % len(said)]).split()  # what the lint refuses
    start = (turn // len(said)) * STEP % max(1, len(words))
    return " ".join(words[start:] + words[:start])


def _whole(action: str) -> str:
    """``action`` from its first sentence that is whole (``which my poor friend was reduced.
    The room...``: ``The room...``), else as it is."""
    said = SENTENCE.split(action.strip())
    first = next((n for n, s in enumerate(said) if s.lstrip("\"“‘'(")[:1].isupper()), 0)
    return " ".join(said[first:]) or action


def _bounded(text: str, most: int) -> str:
    """``text`` cut to at most ``most`` characters, at a word where it can be."""
    return text if len(text) <= most else (text[:most].rsplit(" ", 1)[0] or text[:most])


def _keep_offered(made: dict[str, Any], offered: list[str]) -> None:
    """The shot's lines that say an offered quote, where any does: a line the shot's span cut
    (its quote begun before the span) is not given another's words and speaker."""
    said = [line for scene in made["scenes"] for line in scene["lines"]
            if _starts_as(line["quote"], offered)]
    if said:
        for scene in made["scenes"]:
            scene["lines"] = [line for line in scene["lines"] if line in said]


def _starts_as(quote: str, offered: list[str]) -> bool:
    head = " ".join(quote.split()[:3])
    return any(o.startswith(head) for o in offered)


def _offered(quote: str, offered: list[str]) -> str | None:
    """The offered quote a line that says ``quote`` (cut to its first words) gives: the first
    that starts as it does within ``LINE_WORDS``, else the first short enough, else None."""
    short = [o for o in offered if len(o.split()) <= LINE_WORDS]
    return next((o for o in short if _starts_as(quote, [o])), None) or next(iter(short), None)


def shot(document: dict[str, Any]) -> dict[str, Any]:
    """A season shot's answer over its own lines (``stage: shot``): made as an episode's shot
    is, its ``again``-th telling of its line where earlier shots filmed it, its quotes those
    offered (``shot.quotes``), whole."""
    given = document.get("shot")
    asked: dict[str, Any] = given if isinstance(given, dict) else {}
    index = max(0, int(asked.get("number") or 1) - 1)
    again = max(0, int(asked.get("again") or 0))
    offered = [str(q) for q in asked.get("quotes") or []]
    rows = _rows(document) or [Para(1, 1, ("A moment passes.",))]
    para = Para(rows[0].first, rows[-1].last, tuple(r.rows[0] for r in rows))
    made = chat_answers.shot(index, para, None, document, [])
    _keep_offered(made, offered)
    speakers = [line["speaker"] for scene in made["scenes"] for line in scene["lines"]]
    if again:
        made["scenes"] = [{**made["scenes"][0], "action": _told(para, again), "lines": []}]
    else:  # told from its first whole sentence: not one its span began inside
        made["scenes"][0]["action"] = _whole(made["scenes"][0]["action"])
    made = light(made, index, document)
    for scene in made["scenes"]:  # held to its bound, as a server decoding to it holds it
        scene["action"] = _bounded(scene["action"], ACTION_CHARS)
        scene["lines"] = [{**line, "quote": chosen} for line in scene["lines"]
                          if (chosen := _offered(line["quote"], offered)) is not None]
    made["scenes"] = [s for s in made["scenes"] if s["lines"] or not s["action"].endswith(
        " speaks")] or made["scenes"][:1]
    out = _fits({**made, "camera": camera(index)}, document,
                float(asked.get("seconds") or 6), whole=True)
    if not any(scene["lines"] for scene in out["scenes"]):  # its speaker is seen still
        out["cast"] = list(dict.fromkeys([*speakers, *out["cast"]]))[:5]
    return {key: out[key] for key in ("camera", "cast", "scenes")}


def head(document: dict[str, Any]) -> dict[str, Any]:
    """A season episode's own answer (``stage: episode``): its title, its first words; its
    hook, its last sentence's."""
    rows = _rows(document) or [Para(1, 1, ("A moment passes.",))]
    text = " ".join(row.text for row in rows if not row.text.isupper()) or rows[-1].text
    return {"title": title_of(text), "hook": hook_of(text)}


def cut(document: dict[str, Any]) -> dict[str, Any]:
    """A season cut's answer (``stage: cut``): the planned end, unless it ends on no question
    or cry and another end does (the first such); why, the words it ends on."""
    ends = [e for e in document.get("ends", []) if isinstance(e, dict)]
    planned = next((e for e in ends if e.get("end") == document.get("planned")), None)
    chosen = planned if planned is not None and _cries(planned) else \
        next((e for e in ends if _cries(e)), planned or (ends[0] if ends else {}))
    said = " ".join(str(chosen.get("before", "")).split()[-8:]) or "the story's turn"
    return {"end": chosen.get("end", document.get("planned", "")), "why": f"it ends on: {said}"}


def _cries(end: dict[str, Any]) -> bool:
    return str(end.get("before", "")).rstrip(" \"'”’)").endswith(("?", "!"))


def content_of(body: dict[str, Any]) -> str:
    """The text the emulated model answers ``body`` with: a season episode's or shot's here
    (what a send-back asked of it done, ``chat_answers.heeded``), every other request
    ``chat_answers``'."""
    document = chat_answers.request_document(body.get("messages") or [])
    stage = document.get("stage") if document is not None else None
    if document is not None and stage in ("episode", "shot", "cut"):
        made = head(document) if stage == "episode" else shot(document) if stage == "shot" \
            else cut(document)
        answer = chat_answers.heeded(made, body.get("messages") or [])
        return json.dumps(answer, ensure_ascii=False)
    return chat_answers.content_of(body)
