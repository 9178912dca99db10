"""A season's planned cuts into the ones it keeps: an episode's end moved, where the model
chooses, to a nearby unit boundary, so that it ends on its hook.

The skeleton cuts the story balanced by length (``season.planned``). Then each cut but the last
is one call (stage ``cut``), in order, an episode starting where the one before ended: the
episode may end at its planned unit or at one of the ``NEAR`` units either side that keeps its
length within ``SHARE`` of its share of the story (or no further from it than the planned end)
and leaves the next episode a unit. The call is given the story's last words before each end and
the first after it, and answers which (an ``enum`` of them) and why, said in ``season.yaml``
beside the episode (``Entry.moved``). A cut with one possible end asks nothing; an answer not
given (planning the run, a call refused) keeps the planned cut. A ``season.yaml`` edited by hand
is its own cuts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from storyboard.breakdown.answers.asking import Asker
from storyboard.breakdown.shape.cutting import Unit
from storyboard.breakdown.shape.season import Entry
from storyboard.breakdown.source import Chapter, Story
from storyboard.breakdown.stages.walk import try_ask

NEAR = 2  # units a cut may move either side of the planned one
SHARE = 0.25  # how far from its share of the story's characters a moved episode may be
BEFORE = 240  # characters of the story's last words before an end, given with it
AFTER = 120  # characters of its first words after


@dataclass(frozen=True)
class _Cut:
    """One cut's call: the episode it ends, where that starts, its planned end and those it may
    take (indexes into the story's units), and how many episodes the season has."""

    entry: Entry
    start: int
    planned: int
    ends: list[int]
    episodes: int


def moved(asker: Asker, story: Story, found: list[Unit], planned: list[Entry]) -> list[Entry]:
    """``planned`` with each cut where its call says (see the module docstring)."""
    at = {(u.chapter, u.index): n for n, u in enumerate(found)}
    share = sum(_size(u) for u in found) / max(1, len(planned))
    out: list[Entry] = []
    start = 0
    for number, entry in enumerate(planned):
        end = at[entry.last]
        if number + 1 < len(planned):
            ends = possible(found, start, end, at[planned[number + 1].last], share)
            end, why = _chosen(asker, story, found, _Cut(entry, start, end, ends, len(planned)))
        else:
            why = ""
        out.append(replace(entry, first=_key(found[start]), last=_key(found[end]), moved=why))
        start = end + 1
    return out


def possible(found: list[Unit], start: int, planned: int, following: int, share: float
             ) -> list[int]:
    """The units an episode starting at ``start`` may end at (``planned`` among them), in
    story order, each leaving the next episode, which ends at ``following``, a unit."""
    def off(end: int) -> float:
        return abs(sum(_size(u) for u in found[start:end + 1]) - share)
    most = max(SHARE * share, off(planned))
    return [end for end in range(max(start, planned - NEAR), min(following, planned + NEAR + 1))
            if end == planned or off(end) <= most]


def _chosen(asker: Asker, story: Story, found: list[Unit], cut: _Cut) -> tuple[int, str]:
    """The end the call chooses and why it moved (the planned end and "": it did not)."""
    if len(cut.ends) < 2:
        return cut.planned, ""
    refs = [found[end].ref for end in cut.ends]
    first = found[cut.ends[0]]
    call = Chapter(story.file, cut.entry.episode, _title(story, first), first.start[0], (),
                   episode=cut.entry.episode, ends=tuple(refs))
    result = try_ask(asker, "cut", call, context(found, cut))
    answer = result.answer if result is not None and not result.problems else None
    if not isinstance(answer, dict) or answer.get("end") not in refs:
        return cut.planned, ""
    end = cut.ends[refs.index(answer["end"])]
    if end == cut.planned:
        return cut.planned, ""
    return end, (f"ends at {found[end].ref}, not {found[cut.planned].ref} as planned: "
                 f"{answer['why']}")


def context(found: list[Unit], cut: _Cut) -> dict[str, Any]:
    """A cut call's document beside its (no) lines: the episode, and each end it may take."""
    return {"episode": {"number": cut.entry.episode, "of": cut.episodes},
            "planned": found[cut.planned].ref,
            "ends": [{"end": found[end].ref, "before": _tail(found[cut.start:end + 1]),
                      "after": _head(found[end + 1])} for end in cut.ends]}


def _tail(units: list[Unit]) -> str:
    text = " ".join(u.text for u in units[-NEAR - 1:])
    return text if len(text) <= BEFORE else "..." + text[-BEFORE:].split(" ", 1)[-1]


def _head(unit: Unit) -> str:
    return unit.text if len(unit.text) <= AFTER else unit.text[:AFTER].rsplit(" ", 1)[0] + "..."


def _size(unit: Unit) -> int:
    return max(1, len(unit.text))


def _key(unit: Unit) -> tuple[int, int]:
    return unit.chapter, unit.index


def _title(story: Story, unit: Unit) -> str:
    return next((c.title for c in story.chapters if c.number == unit.chapter),
                story.chapters[0].title)
