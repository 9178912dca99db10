"""A season part's answer still wrong after its send-backs into the season it meant, each change said.

A small model asked to share a hundred beats over twenty episodes keeps the episodes' words (a
title, a hook) and misses the arithmetic: a gap between two episodes, an overlap, a range past
the last beat, one episode too many or too few. Once its send-backs are spent, the answer is read
as meant where its episodes can be used (``mended``):

- an episode is used when it has a title, a hook and two whole beat numbers (its other keys are
  left out, a title cut to 60 characters and a hook to 300);
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
from storyboard.breakdown.season import Beat

TITLE, HOOK = 60, 300  # the schema's bounds (``schemas.EPISODE``)
MORE = " (continued)"  # the title of a split episode's second half, after its own


def mended(answer: Any, beats: list[Beat], wanted: int) -> tuple[dict[str, Any], list[str]] | None:
    """``answer`` read as meant for a part of ``beats`` asked for ``wanted`` episodes, and what was
    changed (None: no episode in it can be used)."""
    usable = _usable(answer, len(beats))
    if not usable:
        return None
    notes, episodes = [], closed(usable, len(beats))
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
        "episodes: each read for its title, beats and hook only (a title cut to 60 characters, "
        "a hook to 300, other keys left out)"]


def _usable(answer: Any, last: int) -> list[dict[str, Any]]:
    """The answer's episodes that have a title, a hook and whole beat numbers, in its order."""
    episodes = answer.get("episodes") if isinstance(answer, dict) else None
    out = []
    for item in episodes if isinstance(episodes, list) else []:
        if not isinstance(item, dict):
            continue
        title, hook = item.get("title"), item.get("hook")
        first, end = item.get("first_beat"), item.get("last_beat")
        if isinstance(title, str) and title.strip() and isinstance(hook, str) and \
                hook.strip() and type(first) is int and type(end) is int and 1 <= first <= last:
            out.append({"title": title.strip()[:TITLE], "first_beat": first, "last_beat": end,
                        "hook": hook.strip()[:HOOK]})
    return out


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
        first = {**episode, "last_beat": middle - 1, "hook": f"Next: {said}..."[:HOOK]}
        title = episode["title"].removesuffix(MORE)
        second = {**episode, "first_beat": middle, "title": f"{title[:TITLE - len(MORE)]}{MORE}"}
        out[at:at + 1] = [first, second]
    return out
