"""Ambiguous tasks into settled ones: a person's word on a shot the runner could not decide.

A shot stops as ``AmbiguousTask`` when storyboard cannot tell whether (or which) paid task is its
own: a submit was sent and its answer lost, and no task list can say (a gateway without one, a
list that cannot be read, a task that never showed up in time), or the task answers a status word
nobody declared. The runner then never submits that shot again by itself. A person settles it:

- ``adopt`` (``storyboard task adopt SERIES SHOT TASK_ID``): the task id, from the provider's
  console or billing export, becomes the in-flight attempt's task; the next render polls it and
  downloads its video (nothing is submitted);
- ``forget`` (``storyboard task forget SERIES SHOT``): the in-flight attempt is closed as ``lost``;
  the person accepts that the next render submits the shot anew, a second payment if the first
  task did exist.

Both are journaled, and mirrored in the ledger (the per-user one, or the team's), under the
series' run lock, so no render of the series runs meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import StoryboardError
from storyboard.run.state.runlock import run_lock
from storyboard.run.state.tasks.journal import Attempt, Journal
from storyboard.run.team.ledger import Ledger, default_ledger

ADOPTED = "adopted by hand (storyboard task adopt)"
FORGOTTEN = "forgotten by hand (storyboard task forget): the next render submits anew"


@dataclass(frozen=True)
class Settled:
    """What a settle did: the attempt as it is now, and a sentence for the person."""

    attempt: Attempt
    message: str


def adopt(series_dir: Path, shot: str, task_id: str, *, ledger: Ledger | None = None
          ) -> Settled:
    """Give ``shot``'s in-flight attempt the task ``task_id``; the next render polls it."""
    task_id = task_id.strip()
    if not task_id:
        raise StoryboardError("task adopt: the task id is empty")
    with _journal(series_dir, ledger) as journal:
        rows = in_flight(journal, shot)
        newest = rows[-1]
        _adoptable(journal, newest, task_id)
        for older in rows[:-1]:
            journal.set_state(older.id, "lost", note="superseded by a task adopted by hand")
        journal.set_task(newest.id, task_id, note=ADOPTED)
        row = journal.get(newest.id)
    return Settled(row, f"{row.key}: adopted task {task_id}; the next render polls it and "
                        "downloads its video (nothing is submitted)")


def forget(series_dir: Path, shot: str, *, ledger: Ledger | None = None) -> Settled:
    """Close ``shot``'s in-flight attempts as lost: the next render submits it anew."""
    with _journal(series_dir, ledger) as journal:
        rows = in_flight(journal, shot)
        for row in rows:
            journal.set_state(row.id, "lost", note=FORGOTTEN)
        newest = journal.get(rows[-1].id)
    task = f"task {newest.task_id}" if newest.task_id else "a submit whose task is unknown"
    return Settled(newest, f"{newest.key}: forgot {task}; the next render submits it anew "
                           "(a second payment if that task exists)")


def in_flight(journal: Journal, shot: str) -> list[Attempt]:
    """The unfinished attempts of one shot, named ``SHOT`` or ``EPISODE/SHOT``, oldest first."""
    rows = [a for a in journal.attempts(unfinished_only=True)
            if shot in (a.shot, f"{a.episode}/{a.shot}", a.key)]
    keys = sorted({a.key for a in rows})
    if not rows:
        raise StoryboardError(f"{shot}: no attempt in flight in {journal.path} (`storyboard "
                              "status SERIES --pending` lists them; after a deleted journal, "
                              "render once so it restores the ledger's record)")
    if len(keys) > 1:
        raise StoryboardError(f"{shot} names {len(keys)} shots ({', '.join(keys)}): give "
                              "EPISODE/SHOT")
    return rows


def _adoptable(journal: Journal, attempt: Attempt, task_id: str) -> None:
    if attempt.task_id == task_id:
        raise StoryboardError(f"{attempt.key} already polls task {task_id}: nothing to adopt")
    if attempt.task_id:
        raise StoryboardError(f"{attempt.key} already has task {attempt.task_id}; if that task "
                              "is not its own, `storyboard task forget` it first")
    if journal.knows_task(attempt.cache_key, task_id):
        raise StoryboardError(f"task {task_id} is already recorded for a shot of "
                              f"{attempt.cache_key}: one task pays for one shot")


@contextmanager
def _journal(series_dir: Path, ledger: Ledger | None) -> Iterator[Journal]:
    own = ledger is None
    the_ledger = default_ledger() if ledger is None else ledger
    try:
        with run_lock(series_dir), Journal.open(series_dir, the_ledger) as journal:
            yield journal
    finally:
        if own:
            the_ledger.close()
