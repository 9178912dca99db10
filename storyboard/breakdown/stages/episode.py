"""A season episode's answer into its shots: exactly the skeleton's, each lasting its d seconds.

The call is bounded (``schemas.episode``): K shots, each over lines inside the episode's, every
string within its length. Each shot lasts the skeleton's d seconds; its scenes' ``seconds`` say
how the shot shares them (``filled``: each scene its share, to the half second, the last the
rest), so no answer can make an episode longer or shorter than K·d. The answer is then held to
the shot checks (the lines in story order, a line filmed by more than one shot allowed; names
given; quotes the author's; each line said by whom the story says, ``speakers``) and to the
density heuristic (``problems``), sent back like any
other answer; what the send-backs leave is finished as a shots answer is (``finished``: a line
not the author's, or whose speaker is not given, left out) and density is kept as a warning.
"""

from __future__ import annotations

import math
from typing import Any

from storyboard.breakdown.questions import density
from storyboard.breakdown.results import Result
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.stages import shots as shot_stage
from storyboard.breakdown.stages.speakers import misgiven


def _shares(seconds: list[float], total: int) -> list[float]:
    """``total`` seconds shared in proportion to ``seconds``, each at least 0.5, to the half
    second, the last the rest."""
    given = sum(max(0.5, s) for s in seconds)
    out = [max(0.5, math.floor(total * max(0.5, s) / given * 2) / 2) for s in seconds[:-1]]
    while out and total - sum(out) < 0.5:
        longest = out.index(max(out))
        out[longest] -= 0.5
    return [*out, total - sum(out)]


def filled(answer: dict[str, Any], chapter: Chapter) -> dict[str, Any]:
    """The answer as a shots answer (``schemas.SHOTS``' shape, with its title and hook): each
    shot's scenes sharing the skeleton's ``chapter.shot_seconds``."""
    shots = []
    for shot in answer["shots"]:
        scenes = shot["scenes"]
        shares = _shares([float(s["seconds"]) for s in scenes], chapter.shot_seconds)
        shots.append({**shot, "scenes": [{**scene, "seconds": share}
                                         for scene, share in zip(scenes, shares, strict=True)]})
    return {"title": answer["title"], "hook": answer["hook"], "shots": shots}


def problems(answer: Any, chapter: Chapter, names: dict[str, list[str]]) -> list[str]:
    """What is wrong with an episode's answer (in its schema): its shots' and density's."""
    shots = filled(answer, chapter)
    return shot_stage.problems(shots, chapter, names, shared=True) + \
        misgiven(shots, chapter, names["character"]) + density.problems(shots, names)


def finished(result: Result | None, chapter: Chapter, names: dict[str, list[str]]
             ) -> tuple[Result | None, list[str]]:
    """An episode's result with its answer filled; one still wrong after its send-backs whose
    shots, finished (``shots.left_out``), pass the shot checks is taken, density's problems kept
    as warnings; and what was read as meant."""
    if result is None or not isinstance(result.answer, dict):
        return result, []
    shots = filled(result.answer, chapter)
    if not result.problems:
        return Result(shots, [], result.turns), []
    kept, notes = shot_stage.left_out(shots, chapter, names)
    if shot_stage.problems(kept, chapter, names, shared=True):
        return Result(shots, result.problems, result.turns, read=result.read), []
    return Result(kept, [], result.turns, density.problems(kept, names)), notes
