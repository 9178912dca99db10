"""A season episode's chat request into the answer a model might give: exactly the shots it asks.

A season's episode (``stage: episode``) asks for ``episode.shots`` shots of ``episode.shot_seconds``
seconds over the episode's numbered lines. The stand-in shares the lines among the shots in story
order (a run of lines a shot where there are as many lines as shots; else a line filmed by as many
shots as fall to it, each telling another of its sentences, or the same from further on), each
made as ``chat_answers`` makes a paragraph's shot, then light (``season.light``), with a
still framing of its own, and held within the shot's seconds at two a load point (its line alone,
then the line's words, then its action alone, cut until it fits). A line is quoted once, in the
first shot that films it. The title is the episode's first words; the hook its last sentence's.
Every other request is ``chat_answers``'.
"""

from __future__ import annotations

import json
import math
from typing import Any

from storyboard.emulator.chat import answers as chat_answers
from storyboard.emulator.chat.answers import SENTENCE, Para
from storyboard.emulator.chat.season import LINE_WORDS, light, timed_for_load, title_of, words_of
from storyboard.language.lint.continuity import ACROSS_SHOTS

STEP = 5  # words further a line's sentence is told from, each time it is filmed again
SIZES = ("wide shot", "medium shot", "close-up", "full shot", "medium close-up", "long shot")
ANGLES = ("static", "eye level, static", "low angle, static", "high angle, static",
          "over the shoulder, static")


def camera(index: int) -> str:
    """The ``index``-th shot's still camera: a size and an angle, no two alike in 30 shots (a
    model does not film a line twice the same way)."""
    return f"{SIZES[index % len(SIZES)]}, {ANGLES[index % len(ANGLES)]}"


def _rows(document: dict[str, Any]) -> list[Para]:
    """Each line of the episode that is not a heading, as a paragraph of one line."""
    paras = chat_answers.paragraphs(document.get("lines", []))
    return [Para(para.first + k, para.first + k, (row,)) for para in paras
            for k, row in enumerate(para.rows)]


def _groups(rows: list[Para], count: int) -> list[Para]:
    """``count`` paragraphs over ``rows`` in order: runs of rows, or a row for several."""
    if len(rows) >= count:
        bounds = [round(i * len(rows) / count) for i in range(count + 1)]
        runs = [rows[bounds[i]:bounds[i + 1]] for i in range(count)]
        return [Para(run[0].first, run[-1].last, tuple(r.rows[0] for r in run)) for run in runs]
    return [rows[math.floor(i * len(rows) / count)] for i in range(count)]


def _fits(shot: dict[str, Any], document: dict[str, Any], seconds: float) -> dict[str, Any]:
    """``shot`` said in fewer words until its scenes need at most ``seconds`` at two a load
    point: its line alone (the action's scene left out), then the line's words, then its
    action alone and the action's words."""
    action = shot["scenes"][0]
    while True:
        made = timed_for_load(shot, document)
        if sum(s["seconds"] for s in made["scenes"]) <= seconds:
            return made
        scenes = shot["scenes"]
        said = scenes[-1]["lines"]
        if len(scenes) > 1:
            shot = {**shot, "scenes": scenes[1:]}
        elif said and len(said[0]["quote"].split()) > 3:
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
    plain = chat_answers.QUOTE.sub("", para.text).strip() or para.text
    said = [s for s in SENTENCE.split(plain) if s.strip()] or [plain]
    words = ACROSS_SHOTS.sub("", said[turn % len(said)]).split()  # what the lint refuses
    start = (turn // len(said)) * STEP % max(1, len(words))
    return " ".join(words[start:] + words[:start])


def episode(document: dict[str, Any]) -> dict[str, Any]:
    given = document.get("episode")
    asked: dict[str, Any] = given if isinstance(given, dict) else {}
    count = max(1, int(asked.get("shots") or 1))
    seconds = float(asked.get("shot_seconds") or 6)
    rows = _rows(document) or [Para(1, 1, ("A moment passes.",))]
    shots, last, quoted, turns = [], list[str](), set[int](), dict[int, int]()
    for index, para in enumerate(_groups(rows, count)):
        made = chat_answers.shot(index, para, None, document, last)
        speakers = [line["speaker"] for scene in made["scenes"] for line in scene["lines"]]
        turn = turns.get(para.first, 0)
        turns[para.first] = turn + 1
        if para.first in quoted:
            made["scenes"] = [{**made["scenes"][0], "action": _told(para, turn), "lines": []}]
        quoted.add(para.first)
        shot = _fits({**light(made, index, document), "camera": camera(index)}, document, seconds)
        if not any(scene["lines"] for scene in shot["scenes"]):  # its speaker is seen still
            shot["cast"] = list(dict.fromkeys([*speakers, *shot["cast"]]))[:5]
        for scene in shot["scenes"]:
            for line in scene["lines"]:
                line["quote"] = words_of(line["quote"], LINE_WORDS)
        shots.append(shot)
    ending = _told(rows[-1], 0)
    return {"title": title_of(rows[0].text), "hook": f"{words_of(ending, 20).rstrip('.,;:!?')}..."[:300],
            "shots": shots}


def content_of(body: dict[str, Any]) -> str:
    """The text the emulated model answers ``body`` with: a season episode's here (what a
    send-back asked of it done, ``chat_answers.heeded``), every other request
    ``chat_answers``'."""
    document = chat_answers.request_document(body.get("messages") or [])
    if document is not None and document.get("stage") == "episode":
        answer = chat_answers.heeded(episode(document), body.get("messages") or [])
        return json.dumps(answer, ensure_ascii=False)
    return chat_answers.content_of(body)
