"""The journal and the ledger into what holds a shot now: a paid task in flight, or a claim.

What ``plan`` shows, read-only: a shot whose task an earlier run submitted (the journal, or the
ledger when the journal lost it) costs nothing more, and one a living run elsewhere claims is
followed, not paid for again. A shot whose last paid task was billed and failed (its result
unusable) is paid for again, and ``plan`` says so (``paid_before``).
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from storyboard.run.state.tasks.journal import Journal, journal_path
from storyboard.run.team.ledger import RECONCILE_HORIZON, Ledger


@dataclass(frozen=True)
class Holding:
    """A paid task that already holds a shot, as ``plan`` shows it: ``in flight`` (this series
    started it; the next render resumes it), ``claimed`` (a living run elsewhere renders it) or
    ``ledger`` (another folder or machine made it: the render restores its result, free)."""

    kind: Literal["in flight", "claimed", "ledger"]
    task_id: str | None
    note: str


def holdings(series_dir: Path, cache_key: str, hashes: Collection[str],
             ledger: Ledger | None = None, *, team: bool = False) -> dict[str, Holding]:
    """Shot hash -> the task that holds it: the journal's unfinished tasks, then the ledger's
    open entries (a dead holder's task is resumed; a living holder's claim is followed), and its
    results of the last day this journal does not know (another folder's task for the same
    request: a render downloads its result again, ``Journal.restore``, and pays nothing)."""
    held: dict[str, Holding] = {}
    known: set[str | None] = set()
    path = journal_path(series_dir)
    if path.exists():
        with Journal(path) as journal:
            for attempt in journal.unfinished_for_provider(cache_key):
                known.add(attempt.ledger_id)
                if attempt.task_id and attempt.shot_hash in hashes:
                    held[attempt.shot_hash] = _in_flight(attempt.task_id)
            known |= {a.ledger_id for a in journal.attempts()} | {
                a.task_id for a in journal.attempts() if a.task_id}
    if ledger is not None:
        for shot_hash in set(hashes) - set(held):
            holding = _ledger_holding(ledger, cache_key, shot_hash, known, team)
            if holding is not None:
                held[shot_hash] = holding
    return held


def _in_flight(task_id: str) -> Holding:
    return Holding("in flight", task_id, f"in flight: task {task_id}, paid, will be resumed")


def _made(task_id: str, team: bool) -> Holding:
    where = "the team ledger" if team else "the ledger"
    return Holding("ledger", task_id, f"made: task {task_id}, paid by an earlier render of the "
                   f"same request ({where}), its result restored from it: downloaded again, free")


def _ledger_holding(ledger: Ledger, cache_key: str, shot_hash: str, known: set[str | None],
                    team: bool) -> Holding | None:
    horizon = time.time() - RECONCILE_HORIZON
    for entry in ledger.entries(cache_key, shot_hash):
        if entry.id in known or entry.task_id in known:
            continue
        if not entry.open:
            if entry.state == "done" and entry.task_id and entry.updated_at >= horizon:
                return _made(entry.task_id, team)
            continue
        if ledger.alive(entry.id):
            where = "another machine" if team else "another run"
            return Holding("claimed", entry.task_id, f"claimed by {where}: its render is "
                           "followed, not paid again")
        if entry.task_id:
            return _in_flight(entry.task_id)
    return None


def paid_before(series_dir: Path, cache_key: str, hashes: Collection[str]) -> dict[str, str]:
    """Shot hash -> why rendering it pays again: its latest task that was billed and failed
    (``pays again: task T was billed 0.20 USD and failed (OutputInvalid)``)."""
    path = journal_path(series_dir)
    if not hashes or not path.exists():
        return {}
    with Journal(path) as journal:
        failed = journal.billed_failures(cache_key)
    return {a.shot_hash: f"pays again: task {a.task_id} was billed "
            f"{' '.join(filter(None, (f'{a.cost or 0.0:.2f}', a.currency)))} and failed "
            f"({a.error_code})" for a in failed if a.shot_hash in hashes}
