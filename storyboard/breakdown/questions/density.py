"""A shots answer into its scenes' load: seconds per load point, and the scenes too dense for theirs.

The heuristic is the one ``check`` warns by (``language.lint.density``, docs/season.md; a vendor
guide's for Seedance, ``spec/season.md``): seconds per load point = duration / (beats + load), and
under 2 seconds a point a video model garbles. Counted scene by scene, as ``check`` counts the
scenes the breakdown writes, by ``language.lint.density.points_of``: a scene's beats (the sentences of
its action, the first scene's with the shot's camera words before it, as it is written), 1 point
for every 8 words spoken (12 Chinese, Japanese or Korean characters), 1 for each acting principal
past the first (the scene's speakers and the characters its action names), 2 for each change of
place (a place its action names after another of the shot), 0.5 for each camera move, and 1 for
every 8 words of action past 16 a sentence (a 90-word paragraph in one sentence is the case
seen). The season's shots stage tells the model so and sends a scene under ``LEAST`` back, as
any other problem.
"""

from __future__ import annotations

import math
from typing import Any

from storyboard.language.lint.density import (
    CJK_CHARACTERS,
    FREE,
    LEAST,
    MOVE,
    PLACE,
    WORDS,
    plain_loads,
)

RULE = (f"Keep each scene light enough for the video model: its seconds divided by its load "
        f"points must be at least {LEAST:g}, where the points are 1 for each sentence of its "
        f"action, 1 for every {WORDS} words spoken ({CJK_CHARACTERS} Chinese characters), 1 for "
        f"each character beyond the first it names or hears, {PLACE} for each place it names "
        f"after another, {MOVE:g} for each camera move (a pan, a tilt, a dolly, a push in, a "
        f"zoom...) and 1 for every {WORDS} words of action beyond {FREE} a sentence (a 6-second "
        f"scene holds 3 points: one sentence of action and 16 spoken words). Give a heavy scene "
        "more seconds, split it in two, or say less in it.")


SAID = "too dense for the video model"  # how its problem says it


def half(seconds: float) -> float:
    """A scene's seconds as the breakdown writes them: up to the half second, at least 0.5."""
    return max(0.5, math.ceil(seconds * 2) / 2)


def loads(shot: dict[str, Any], names: dict[str, list[str]]) -> list[tuple[float, float]]:
    """Each scene of an answer's shot (``schemas.SHOT``) as (its seconds as written, its load
    points), as ``check`` counts the scene written; ``names`` by kind."""
    scenes = [(half(float(scene["seconds"])), scene["action"],
               [(line["speaker"], line["quote"]) for line in scene["lines"]])
              for scene in shot["scenes"]]
    return plain_loads(shot["camera"], scenes, names.get("character", []),
                       names.get("place", []), [n for kind in names.values() for n in kind])


def problems(answer: Any, names: dict[str, list[str]]) -> list[str]:
    """Each scene under ``LEAST`` seconds a point, said with its figure and the remedy."""
    found = []
    for index, shot in enumerate(answer["shots"]):
        for place, (length, load) in enumerate(loads(shot, names)):
            if load and length / load < LEAST:
                found.append(f"shots[{index}].scenes[{place}]: {SAID}: "
                             f"{length:g} s for {load:g} load points is {length / load:.1f} s a "
                             f"point, under {LEAST:g} (give it more seconds, split it in two, or "
                             "say less in it)")
    return found
