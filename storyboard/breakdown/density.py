"""A shots answer into its shots' load: seconds per load point, and the shots too dense for theirs.

The heuristic is a vendor guide's for Seedance (``spec/season.md``): seconds per load point =
duration / (beats + load), and under 2 seconds a point a video model garbles. A shot's beats are
its scenes; its load: 1 point for every 8 words spoken (12 Chinese or Japanese characters), 1 for
every 8 words of a scene's action beyond its first 8 (the words a video model is asked to show:
a 90-word paragraph in 6 seconds is the case seen), 1 for each character beyond the first, 2 for
each place beyond the first (a location change) and 0.5 for a camera move. The season's shots
stage tells the model so and sends a shot under ``LEAST`` back, as any other problem.
"""

from __future__ import annotations

import re
from typing import Any

LEAST = 2.0  # seconds a load point needs at the least
WORDS = 8  # spoken or acted words a point
CJK_CHARS = 12
FREE_ACTION = 8  # words of a scene's action its beat carries
MOVE = re.compile(r"\b(push|pull|pans?|panning|tilts?|dolly|track(?:s|ing)?|zoom|crane|orbit"
                  r"|arcs?|handheld|follows?|whip|rack|moves?|moving)\b", re.I)
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")

RULE = (f"Keep each shot light enough for the video model: its seconds divided by (its scenes + "
        f"its load) must be at least {LEAST:g}, where the load is 1 point for every {WORDS} "
        f"words spoken ({CJK_CHARS} Chinese characters), 1 for every {WORDS} words of a scene's "
        f"action beyond its first {FREE_ACTION}, 1 for each character beyond the first, 2 for "
        "each place beyond the first and 0.5 for a camera move (a 6-second shot holds 3 points: "
        "one scene and 16 spoken words). Split a heavy shot in two, or say less in it.")


def _words(text: str) -> tuple[int, int]:
    """(words, CJK characters) of ``text``."""
    cjk = len(CJK.findall(text))
    return len(CJK.sub(" ", text).split()), cjk


def spoken(text: str) -> float:
    words, cjk = _words(text)
    return words / WORDS + cjk / CJK_CHARS


def acted(text: str) -> float:
    words, cjk = _words(text)
    return max(0, words - FREE_ACTION) / WORDS + max(0, cjk - CJK_CHARS) / CJK_CHARS


def points(shot: dict[str, Any], names: dict[str, list[str]]) -> float:
    """A shot's beats and load (an answer's shot: ``schemas.SHOT``); ``names`` by kind."""
    scenes = shot["scenes"]
    characters = {n.lower() for n in names.get("character", [])}
    places = {n.lower() for n in names.get("place", [])}
    shown = {n.lower() for n in shot["cast"]}
    people = {line["speaker"].lower() for scene in scenes for line in scene["lines"]} | (
        shown & characters)
    load = float(len(scenes))
    load += sum(spoken(line["quote"]) for scene in scenes for line in scene["lines"])
    load += sum(acted(scene["action"]) for scene in scenes)
    load += max(0, len(people) - 1) + 2 * max(0, len(shown & places) - 1)
    return load + (0.5 if MOVE.search(shot["camera"]) else 0.0)


def problems(answer: Any, names: dict[str, list[str]], seconds: list[float]) -> list[str]:
    """Each shot under ``LEAST`` seconds a point, said with its figure and the remedy;
    ``seconds``: each shot's length as it is written."""
    found = []
    for index, (shot, length) in enumerate(zip(answer["shots"], seconds, strict=True)):
        load = points(shot, names)
        if load and length / load < LEAST:
            found.append(f"shots[{index}]: too dense for the video model: {length:g} s for "
                         f"{load:g} load points is {length / load:.1f} s a point, under "
                         f"{LEAST:g} (split it into two shots, or say less in it)")
    return found
