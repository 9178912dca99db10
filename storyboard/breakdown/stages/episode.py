"""A season episode's answers into its shots: exactly the skeleton's, each over its own lines.

An episode is asked as one call for its title and hook (``episode``) and one call a shot
(``shot``), each bounded (``schemas.shot``): the episode's lines are cut into the skeleton's K
runs, one a shot, balanced by length (``calls``; where it has fewer lines than shots, a line is
filmed by several, each told a later moment of it, ``again``), so a shot sees its own lines alone
and a small model cannot copy one shot into the next. Each shot lasts the skeleton's d seconds;
its scenes' ``seconds`` say how the shot shares them (``filled``: each scene its share, to the
half second, the last the rest), so no answer can make an episode longer or shorter than K·d. A
shot's answer is held to the shot checks (names given; quotes the author's; each line said by
whom the story says, ``speakers``), sent back like any other answer, the density heuristic's
problems beside them (``problems``); what the send-backs leave is finished as a shots answer is
(``finished``: a line not the author's, or whose speaker is not given, left out) and density is
kept as a warning, as is a scene still telling what the shot's lines do not (``told``: sent back
in a series asked by rules 3). A shot wrong by density alone is taken at once, with its
warnings: sent back, the real model never made one lighter (0 of 368 on the corpus), and each
try is a paid call. The shots are then ``joined`` into the episode's answer, each problem at its
shot's place.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any

from storyboard.breakdown.questions import density, schemas, told
from storyboard.breakdown.questions.quotable import quotable, quoting
from storyboard.breakdown.results import Result
from storyboard.breakdown.shape.cutting import balanced_sizes
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.stages import chaptershots as shot_stage
from storyboard.breakdown.stages.faithful import shorten
from storyboard.breakdown.stages.speakers import misgiven, regiven
from storyboard.breakdown.state.answerstore import RULES

OWN = re.compile(r"^shots\[0\](?:\.|(?=:))")  # a one-shot check's path, as its own answer says it
PLACED = re.compile(r"^(?:the shot(?=:)|(?=(?:camera|cast|scenes)\b))")


def calls(lines: Chapter) -> list[tuple[Chapter, int]]:
    """The episode's shots' calls, in order: each its lines (a chapter of their own, numbered as
    in the file) and how many shots before it film its first line (``again``)."""
    rows = lines.numbered()
    count = max(1, lines.shots)
    if not rows:  # no words to film: the episode gets no shot, and says so
        return []
    if len(rows) >= count:
        runs = [(rows[a][0], rows[b][0]) for a, b in
                balanced_sizes([len(text) for _, text in rows], count)]
    else:
        runs = [(rows[math.floor(i * len(rows) / count)][0],) * 2 for i in range(count)]
    unquoted = not quoting(lines) and lines.file.lower().endswith(".fountain")
    out: list[tuple[Chapter, int]] = []
    for number, (first, last) in enumerate(runs, 1):
        own = lines.lines[first - lines.first:last - lines.first + 1]
        again = sum(1 for made, _ in out if made.first == first)
        out.append((replace(lines, first=first, lines=own, shot=number,
                            unquoted=unquoted), again))
    return out


def context(call: Chapter, again: int, names: dict[str, list[str]]) -> dict[str, Any]:
    """A shot call's document beside its lines: the names given, and which shot it is."""
    return {"characters": names["character"], "places": names["place"], "props": names["prop"],
            "shot": {"number": call.shot, "of": call.shots, "again": again,
                     "seconds": call.shot_seconds, "quotes": quotable(call)}}


def _shares(seconds: list[float], total: int) -> list[float]:
    """``total`` seconds shared in proportion to ``seconds``, each at least 0.5, to the half
    second, the last the rest."""
    given = sum(max(0.5, s) for s in seconds)
    out = [max(0.5, math.floor(total * max(0.5, s) / given * 2) / 2) for s in seconds[:-1]]
    while out and total - sum(out) < 0.5:
        longest = out.index(max(out))
        out[longest] -= 0.5
    return [*out, total - sum(out)]


def filled(answer: dict[str, Any], call: Chapter) -> dict[str, Any]:
    """A shot's answer as a shots answer of one shot (``schemas.SHOTS``' shape) over its call's
    lines, its scenes sharing the skeleton's ``call.shot_seconds``."""
    scenes = answer["scenes"]
    shares = _shares([float(s["seconds"]) for s in scenes], call.shot_seconds)
    shot = {"from_line": call.first, "to_line": call.last, **answer,  # ``calls``' lines
            "scenes": [{**scene, "seconds": share} for scene, share in
                       zip(scenes, shares, strict=True)]}
    return {"shots": [shot]}


def _own(problem: str) -> str:
    """A one-shot check's problem as the shot's own answer locates it."""
    return OWN.sub("", problem) if not problem.startswith("shots[0]:") else \
        "the shot" + problem.removeprefix("shots[0]")


def problems(answer: Any, call: Chapter, names: dict[str, list[str]],
             around: Chapter | None = None) -> list[str]:
    """What is wrong with a shot's answer (in its schema): its shot's, and density's beside
    them (a shot wrong only by density is not sent back: ``finished`` keeps it as a warning);
    ``around``: its episode's lines, where a line's speaker is read (``misgiven``)."""
    shots = filled(answer, call)
    found = shot_stage.problems(shots, call, names, shared=True) + \
        misgiven(shots, call, names["character"], around) + told.problems(shots, call, _all(names))
    return [_own(p) for p in found + (density.problems(shots, names) if found else [])]


def _all(names: dict[str, list[str]]) -> list[str]:
    return [name for kind in names.values() for name in kind]


def finished(result: Result | None, call: Chapter, names: dict[str, list[str]],
             around: Chapter | None = None) -> tuple[Result | None, list[str]]:
    """A shot's result as a one-shot shots answer; one still wrong after its send-backs whose
    shot, finished (``shots.left_out``; each line to the story's speaker, ``regiven`` read in
    ``around``, where the shot still shows no more than it may), passes the shot checks is
    taken, density's problems kept as warnings; and what was read as meant. One its schema
    still refused is finished from its answer as read where only lines the shot's lines do not
    offer made it so (``_offered``: an endpoint that does not hold the schema, as
    llama-cpp-python's did in ``json_object``). A series of older rules has its lines given as
    today's read them (``newest``)."""
    if result is None:
        return result, []
    answer, notes = (result.answer, []) if isinstance(result.answer, dict) else \
        _offered(result.read, call)
    if not isinstance(answer, dict):
        return result, []
    shots = filled(answer, call)
    if not result.problems:
        warned = [_own(p) for p in density.problems(shots, names)]
        shots, said = newest(shots, call, names, around)
        return Result(shots, [], result.turns, [*result.warnings, *warned]), said
    kept, more = shot_stage.left_out(shots, call, names)
    given, said = regiven(kept, call, names["character"], around)
    wrong = shot_stage.problems(given, call, names, shared=True)
    if said and wrong:  # given back, the shot shows more than it may: as it was
        wrong = shot_stage.problems(kept, call, names, shared=True)
    else:
        kept, more = given, more + said
    if wrong:
        return (Result(shots, result.problems, result.turns, read=result.read) if not notes
                else result), []
    warned = [_own(p) for p in told.problems(kept, call, _all(names)) +
              density.problems(kept, names)]
    kept, said = newest(kept, call, names, around)
    return Result(kept, [], result.turns, warned), [_own(n) for n in notes + more] + said


def newest(shots: dict[str, Any], call: Chapter, names: dict[str, list[str]],
           around: Chapter | None) -> tuple[dict[str, Any], list[str]]:
    """A shot of a series asked by older rules with its lines given as today's read their
    speakers (``regiven``), or left out where the shot would then show more than it may: never
    in another mouth than the story's. Nothing is asked or judged again."""
    if call.rules >= RULES:
        return shots, []
    given, said = regiven(shots, replace(call, rules=RULES), names["character"],
                          around and replace(around, rules=RULES))
    if said and shot_stage.problems(given, call, names, shared=True):
        given, said = _unsaid(shots, given), [f"{note}, but the shot would then show more than "
                                              "it may: the line is left out" for note in said]
    if not said or shot_stage.problems(given, call, names, shared=True):
        return shots, []
    return given, [_own(f"{note} (as storyboard reads the story today)") for note in said]


def _unsaid(shots: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """``shots`` without each line ``given`` moves to another speaker or leaves out."""
    return {**shots, "shots": [{**shot, "scenes": [
        {**scene, "lines": [line for line in scene["lines"] if line in other["lines"]]}
        for scene, other in zip(shot["scenes"], new["scenes"], strict=True)]}
        for shot, new in zip(shots["shots"], given["shots"], strict=True)]}


def _offered(read: Any, call: Chapter) -> tuple[dict[str, Any] | None, list[str]]:
    """A shot answer as read, without the lines whose quote its lines do not offer, when that
    is all its schema refused (None else); a note for each line left out."""
    scenes, offered = read.get("scenes") if isinstance(read, dict) else None, set(quotable(call))
    if not isinstance(scenes, list) or not all(isinstance(scene, dict) and isinstance(
            scene.get("lines"), list) and all(isinstance(line, dict) for line in scene["lines"])
            for scene in scenes):
        return None, []
    notes = [f"shots[0].scenes[{s}].lines[{n}]: the quote {shorten(str(line.get('quote')))!r} is "
             "not one of the shot's lines: the line is left out"
             for s, scene in enumerate(scenes) for n, line in enumerate(scene["lines"])
             if line.get("quote") not in offered]
    answer = {**read, "scenes": [{**scene, "lines": [line for line in scene["lines"]
                                                     if line.get("quote") in offered]}
                                 for scene in scenes]}
    return (answer, notes) if notes and not schemas.problems("shot", answer, call) else (None, [])


def placed(problem: str, index: int) -> str:
    """A shot's problem (as its own answer says it) at its place in the episode's answer."""
    return PLACED.sub(f"shots[{index}]" + ("" if problem.startswith("the shot") else "."),
                      problem, count=1) if PLACED.match(problem) else f"shots[{index}]: {problem}"


def joined(head: Result | None, shots: list[Result | None]) -> Result | None:
    """The episode's answer: its title and hook, and its shots in order, each problem and
    warning at its shot's place (None: a call not answered yet)."""
    if head is None or any(r is None for r in shots):
        return None
    done = [r for r in shots if r is not None]
    wrong = [placed(p, i) for i, r in enumerate(done) for p in r.problems]
    warned = [placed(p, i) for i, r in enumerate(done) for p in r.warnings]
    turns = head.turns + sum(r.turns for r in done)
    if not isinstance(head.answer, dict) or any(not isinstance(r.answer, dict) for r in done):
        return Result(None, [*head.problems, *wrong], turns)
    answer = {"title": head.answer["title"], "hook": head.answer["hook"],
              "shots": [r.answer["shots"][0] for r in done]}
    return Result(answer, [*head.problems, *wrong], turns, warned)


def rounds(later: list[list[str]] | None, index: int) -> list[list[str]]:
    """The rounds of ``storyboard check``'s problems that name the ``index``-th shot, each as
    the shot's own answer says it."""
    mark = f"shots[{index}]"
    out = [[_own("shots[0]" + p.removeprefix(mark)) for p in said if p.startswith(mark)]
           for said in later or []]
    return [said for said in out if said]
