"""A take's people, against the characters its shot declares, into findings: ``identity`` (a face
that is not its character, or that is another declared character), ``look`` (a costume that is
not the look's) and ``n/a`` (no frontal face to measure: never a pass, never a failure).

Each sampled frame's faces are assigned to the declared characters (``assign``); a face farther
from its character than the character's line is said, naming the other declared character it
is when it is one (``@ann's place shows @bea``). A frame's finding spans from the first to the
last sampled frame that shows it, with the worst distance. Where a shot declares one character
and a frame shows it no frontal face but one face too small to embed (a wide shot), the costume
under that small face is its costume (the person's box); with more declared, or more small
faces, whose it is cannot be told: its identity is ``n/a`` and its look is not judged there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from storyboard.media.faces.record import Face, FrameFacts, People, bhattacharyya
from storyboard.run.state.measured import NOT_MEASURABLE, Finding
from storyboard.run.state.people.assign import assign, nearest
from storyboard.run.state.people.known import Known


@dataclass
class Seen:
    """One character's problem across the take: when, how far at worst, and what it is."""

    times: list[float] = field(default_factory=list)
    worst: float = 0.0
    detail: str = ""

    def add(self, time: float, far: float, detail: str) -> None:
        self.times.append(time)
        if far >= self.worst:
            self.worst, self.detail = far, detail


def judge_people(people: People, known: Mapping[str, Known], episode: str) -> list[Finding]:
    """What ``people`` shows against ``known`` (``episode``: where the take is, for a look)."""
    faced = {n: k.faces for n, k in known.items() if k.faces}
    problems: dict[tuple[str, str], Seen] = {}
    met: set[str] = set()
    for frame in people.frames:
        matched = assign(frame.faces, faced)
        for face, name, far in matched:
            met.add(name)
            _judge_face(frame.time, face, name, far, known, problems, episode)
        if not matched:
            _judge_small(frame, known, problems, episode)
    out = [Finding(kind, min(s.times), max(s.times), "error", s.detail, round(s.worst, 3))
           for (kind, _), s in sorted(problems.items())]
    return out + _not_measurable(people, known, met)


def _judge_face(time: float, face: Face, name: str, far: float, known: Mapping[str, Known],
                problems: dict[tuple[str, str], Seen], episode: str) -> None:
    own = known[name]
    if far > own.identity:
        problems.setdefault(("identity", name), Seen()).add(
            time, far, _not_them(face, name, far, known))
        return
    _judge_costume(time, face.costume, name, own, problems, episode)


def _judge_small(frame: FrameFacts, known: Mapping[str, Known],
                 problems: dict[tuple[str, str], Seen], episode: str) -> None:
    """A frame with no frontal face: the one declared character's costume under the one face
    too small to embed (a wide shot), where whose it is cannot be doubted."""
    small = [u for u in frame.unseen if u.why == "too small"]
    if len(known) == 1 and len(small) == 1:
        [(name, own)] = known.items()
        _judge_costume(frame.time, small[0].costume, name, own, problems, episode,
                       " (its face too small to tell who: the costume under it)")


def _judge_costume(time: float, costume: tuple[float, ...] | None, name: str, own: Known,
                   problems: dict[tuple[str, str], Seen], episode: str, how: str = "") -> None:
    if costume is None or not own.costumes:
        return
    worn = min(bhattacharyya(costume, c) for c in own.costumes)
    if worn > own.look:
        look = "its own picture" if own.picture.look == "base" else f"the look {own.picture.look}"
        problems.setdefault(("look", name), Seen()).add(time, worn, (
            f"@{name}'s costume changed: {worn:.2f} from {look} it wears in {episode} "
            f"({own.picture.shown}; at most {own.look:.2f}){how}"))


def _not_them(face: Face, name: str, far: float, known: Mapping[str, Known]) -> str:
    """Who a face in ``name``'s place is: another declared character, or no one declared."""
    others = sorted((nearest(face, k.faces), other) for other, k in known.items()
                    if other != name and k.faces)
    if others and others[0][0] <= known[others[0][1]].identity and others[0][0] < far:
        near, other = others[0]
        return (f"@{name}'s place shows @{other} ({near:.2f} from {other}'s picture "
                f"{known[other].picture.shown}; {far:.2f} from {name}'s {known[name].picture.shown})")
    return (f"@{name} is {far:.2f} from its picture {known[name].picture.shown} (at most "
            f"{known[name].identity:.2f})")


def _not_measurable(people: People, known: Mapping[str, Known], met: set[str]) -> list[Finding]:
    """Each declared character no frontal face was matched to: ``n/a``, with why."""
    end = max((f.time for f in people.frames), default=0.0)
    start = min((f.time for f in people.frames), default=0.0)
    unseen = sorted({u.why for f in people.frames for u in f.unseen})
    out = []
    for name, each in sorted(known.items()):
        if name in met:
            continue
        why = each.why or (f"no frontal face: {' or '.join(unseen)}" if unseen else
                           "no face found")
        out.append(Finding("identity", start, end, NOT_MEASURABLE, f"@{name}: not measured "
                           f"({why})"))
    return out
