"""A season part's answer still wrong after its send-backs into the season it meant, each change said.

A small model asked to share a hundred beats over twenty episodes keeps the episodes' words (a
title, a hook) and misses the arithmetic: a gap between two episodes, an overlap, a range past
the last beat, one episode too many or too few. Once its send-backs are spent, the answer is read
as meant where its episodes can be used (``read_as_meant``):

- an episode is used when it has a title, a hook and two whole beat numbers (its other keys are
  left out, a title over 60 characters and a hook over 300 cut after a whole sentence or word,
  ``bounded.cut_to``: the same model wrote paragraphs of the story as hooks, issue 67);
- when no episode starts inside the part, the answer numbered the beats on a scale of its own
  (the same model answered ``29..120`` for a part of 13 beats, and ``45..120``, ``121..180``, ...
  for one of 30: the novel's count, or none): every number is read back onto the part's beats
  (``rescaled``), the smallest to beat 1 and the largest to the last, in proportion;
- the ranges are closed up in the order the episodes start (``closed``): each episode runs from
  its first beat to the beat before the next one's, the first from beat 1 and the last to the
  part's last beat; an episode that starts where one before it started, or past the last beat,
  is left out;
- too many episodes: neighbours joined (``season.regrouped``), each with its first's title and
  its last's hook;
- too few: the longest is split in two (again, until there are enough), the first half ending on
  the beat the second begins with, said as its hook (``Next: ...``, the outline's own words), the
  second titled as the episode it came from, ``(continued)``.

Every change is said in the run's notes and the season is ``season.yaml``: a person reviews it,
and may edit it, before any shot is paid for. An answer with no usable episode stays refused.
"""

from __future__ import annotations

from typing import Any

from storyboard.breakdown import season
from storyboard.breakdown.bounded import bounded, cut_to
from storyboard.breakdown.schemas import EPISODE
from storyboard.breakdown.season import Beat

TITLE, HOOK = (EPISODE["properties"][k]["maxLength"] for k in ("title", "hook"))
MORE = " (continued)"  # the title of a split episode's second half, after its own


def read_as_meant(answer: Any, beats: list[Beat], wanted: int) -> tuple[dict[str, Any], list[str]] | None:
    """``answer`` read as meant for a part of ``beats`` asked for ``wanted`` episodes, and what was
    changed (None: no episode in it can be used)."""
    notes: list[str] = []
    usable = _usable(answer, len(beats), notes)
    if not usable:
        return None
    episodes = closed(usable, len(beats))
    given = answer["episodes"]  # a list, since one of its episodes is usable
    if len(usable) < len(given):
        notes.append(f"episodes: {len(given) - len(usable)} of {len(given)} left out (no title "
                     "or hook, or no whole beat number of this part)")
    if episodes != usable:
        notes.append(f"episodes: the beat ranges of {len(usable)} episode(s) closed up in the "
                     "order they start (no gap, no overlap, every beat in one)")
    joined = season.regrouped({"episodes": episodes}, beats, wanted)
    if joined is not None:
        notes.append(f"episodes: {len(episodes)} episode(s) where this part needs {wanted}: "
                     f"neighbours joined into {wanted}, each with its first's title and its "
                     "last's hook")
        episodes = joined["episodes"]
    if len(episodes) < wanted:
        count = len(episodes)
        episodes = _split(episodes, beats, wanted)
        notes.append(f"episodes: {count} where this part needs {wanted}: the longest split in "
                     "two until there are enough, each first half ending on the beat the "
                     "second begins with")
    return {"episodes": episodes}, notes or [
        "episodes: each read for its title, beats and hook only (other keys left out)"]


def _usable(answer: Any, last: int, notes: list[str]) -> list[dict[str, Any]]:
    """The answer's episodes that have a title, a hook and whole beat numbers starting inside
    the part (read back onto it when none does), in its order; each change said in ``notes``."""
    episodes = answer.get("episodes") if isinstance(answer, dict) else None
    out = [bounded(EPISODE, _words(item), notes, f"episodes[{n}]")
           for n, item in enumerate(episodes) if _whole(item)] \
        if isinstance(episodes, list) else []
    if out and not any(1 <= e["first_beat"] <= last for e in out):
        numbers = [n for e in out for n in (e["first_beat"], e["last_beat"])]
        notes.append(f"episodes: no episode starts inside this part's {last} beats (the answer "
                     f"numbers them {min(numbers)} to {max(numbers)}): each number read back "
                     f"onto beats 1 to {last} in proportion")
        out = rescaled(out, last)
    return [e for e in out if 1 <= e["first_beat"] <= last]


def _whole(item: Any) -> bool:
    """Whether an episode has a title, a hook and two whole beat numbers."""
    return isinstance(item, dict) and all(
        isinstance(item.get(key), str) and item[key].strip() for key in ("title", "hook")) and \
        type(item.get("first_beat")) is int and type(item.get("last_beat")) is int


def _words(item: dict[str, Any]) -> dict[str, Any]:
    """An episode's title, beats and hook only."""
    return {"title": item["title"].strip(), "first_beat": item["first_beat"],
            "last_beat": item["last_beat"], "hook": item["hook"].strip()}


def rescaled(episodes: list[dict[str, Any]], last: int) -> list[dict[str, Any]]:
    """Episodes numbered on a scale of their own read back onto beats 1 to ``last``: the
    smallest number to 1, the largest to ``last``, each in proportion between."""
    numbers: list[int] = [n for e in episodes for n in (e["first_beat"], e["last_beat"])]
    low, span = min(numbers), max(numbers) - min(numbers) + 1

    def back(number: int) -> int:
        return 1 + (number - low) * last // span
    return [{**e, "first_beat": back(e["first_beat"]), "last_beat": back(e["last_beat"])}
            for e in episodes]


def closed(episodes: list[dict[str, Any]], last: int) -> list[dict[str, Any]]:
    """The episodes in the order they start, each to the beat before the next one's first (the
    first from beat 1, the last to ``last``); one starting where one before it did, left out."""
    ordered = sorted(enumerate(episodes), key=lambda pair: (pair[1]["first_beat"], pair[0]))
    kept: list[dict[str, Any]] = []
    for _, episode in ordered:
        if kept and episode["first_beat"] <= kept[-1]["first_beat"]:
            continue
        kept.append(dict(episode))
    for index, episode in enumerate(kept):
        episode["first_beat"] = 1 if index == 0 else episode["first_beat"]
        after = kept[index + 1]["first_beat"] if index + 1 < len(kept) else last + 1
        episode["last_beat"] = after - 1
    return kept


def _split(episodes: list[dict[str, Any]], beats: list[Beat], wanted: int
           ) -> list[dict[str, Any]]:
    """The longest episode split in two, again, until there are ``wanted`` (or none has two
    beats)."""
    out = list(episodes)
    while len(out) < wanted:
        at = max(range(len(out)), key=lambda i: (out[i]["last_beat"] - out[i]["first_beat"], -i))
        episode = out[at]
        size = episode["last_beat"] - episode["first_beat"] + 1
        if size < 2:
            break
        middle = episode["first_beat"] + size // 2  # the second half's first beat
        said = beats[middle - 1].text.rstrip(".,;:!? ")
        first = {**episode, "last_beat": middle - 1, "hook": cut_to(f"Next: {said}...", HOOK)}
        title = episode["title"].removesuffix(MORE)
        second = {**episode, "first_beat": middle, "title": f"{title[:TITLE - len(MORE)]}{MORE}"}
        out[at:at + 1] = [first, second]
    return out
