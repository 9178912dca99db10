"""A shots answer into its shots' load: seconds per load point, and the shots too dense for theirs.

The heuristic is the one ``check`` warns by (``language.density``, docs/season.md; a vendor
guide's for Seedance, ``spec/season.md``): seconds per load point = duration / (beats + load), and
under 2 seconds a point a video model garbles. Counted by ``language.density.points_of``, so a
shot the season writes is held to exactly the counts ``check`` holds the series to: its beats (the
sentences of each scene's action), 1 point for every 8 words spoken (12 Chinese, Japanese or
Korean characters), 1 for each acting principal past the first (its speakers and the characters
it shows), 2 for each place past the first (a change of place), 0.5 for each camera move (in
its camera words and its actions), and 1 for every 8 words of action past 16 a sentence (a
90-word paragraph in one sentence is the case seen). The season's shots stage tells the model so
and sends a shot under ``LEAST`` back, as any other problem.
"""

from __future__ import annotations

from typing import Any

from storyboard.language.density import LEAST, points_of

RULE = (f"Keep each shot light enough for the video model: its seconds divided by its load "
        f"points must be at least {LEAST:g}, where the points are 1 for each sentence of a "
        "scene's action, 1 for every 8 words spoken (12 Chinese characters), 1 for each "
        "character beyond the first, 2 for each place beyond the first, 0.5 for each camera "
        "move (a pan, a tilt, a dolly, a push in, a zoom...) and 1 for every 8 words of action "
        "beyond 16 a sentence (a 6-second shot holds 3 points: "
        "one sentence of action and 16 spoken words). Split a heavy shot in two, or say less in "
        "it.")


def points(shot: dict[str, Any], names: dict[str, list[str]]) -> float:
    """A shot's load points (an answer's shot: ``schemas.SHOT``); ``names`` by kind."""
    scenes = shot["scenes"]
    characters = {n.lower() for n in names.get("character", [])}
    places = {n.lower() for n in names.get("place", [])}
    shown = {n.lower() for n in shot["cast"]}
    lines = [line for scene in scenes for line in scene["lines"]]
    people = {line["speaker"].lower() for line in lines} | (shown & characters)
    return points_of([scene["action"] for scene in scenes], [line["quote"] for line in lines],
                     len(people), max(0, len(shown & places) - 1), shot["camera"])


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
