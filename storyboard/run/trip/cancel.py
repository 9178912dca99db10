"""Pending tasks into cancelled ones, and the journal into status rows: what `cancel` and `status`
say.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.errors import ProviderError
from storyboard.language.picks import state_key
from storyboard.language.request import CompiledShot
from storyboard.providers.base import Provider, task_key
from storyboard.run.state.lock.lockfile import TakeState, shot_key
from storyboard.run.state.runlock import run_lock
from storyboard.run.state.tasks.journal import Attempt, Journal, read_status
from storyboard.run.team.ledger import Ledger, default_ledger
from storyboard.run.trip.guards.verdicts import (
    describe,
)
from storyboard.run.trip.session import TASK_END_STATE
from storyboard.targets import TaskStatus
from storyboard.targets.kinds import classify_failure, has
from storyboard.targets.wire.failures import Failure


@dataclass
class CancelOutcome:
    attempt: Attempt
    canceled: bool
    message: str


async def cancel_pending(series_dir: Path, provider: Provider, *,
                         request_timeout: float = 60.0,
                         ledger: Ledger | None = None) -> list[CancelOutcome]:
    """Ask the provider to cancel every unfinished task the journal holds for it.

    DashScope cancels only PENDING tasks; a running one is left (and a later render downloads it,
    since it will be billed anyway). An intent with no task id has nothing to cancel: the next
    render reconciles it. A canceled task is settled in ``ledger`` (the series' team ledger;
    by default the per-user one), so no run, here or on another machine, resumes it.
    """
    outcomes: list[CancelOutcome] = []
    paid = any(price > 0 for price in provider.prices.per_second.values())
    own = default_ledger() if ledger is None and paid else None
    try:
        with run_lock(series_dir), Journal.open(series_dir, ledger or own) as journal:
            for attempt in journal.unfinished_for_provider(task_key(provider)):
                outcomes.append(await _cancel_one(journal, provider, attempt, request_timeout))
    finally:
        if own is not None:
            own.close()
    return outcomes


async def _cancel_one(journal: Journal, provider: Provider, attempt: Attempt,
                      timeout: float) -> CancelOutcome:
    if not attempt.task_id:
        return CancelOutcome(attempt, False, "no task id yet (intent only): the next render "
                             "checks with the provider whether a task exists")
    refusal = ""
    try:
        await asyncio.wait_for(provider.cancel(attempt.task_id), timeout)
    except (ProviderError, TimeoutError) as exc:
        refusal = describe(exc)
    try:
        state = await asyncio.wait_for(provider.query(attempt.task_id), timeout)
    except (ProviderError, TimeoutError) as exc:
        journal.note(attempt.id, f"cancel: {refusal or 'sent'}; status unknown: {describe(exc)}")
        return CancelOutcome(attempt, False, f"could not confirm: {describe(exc)}")
    if state.status in TASK_END_STATE:
        journal.fail(attempt.id, state.code or str(state.status),
                     state.message or "canceled by storyboard cancel",
                     state=TASK_END_STATE[state.status], status=state.status)
        return CancelOutcome(attempt, state.status == TaskStatus.CANCELED, str(state.status))
    journal.set_status(attempt.id, state.status)
    why = f" ({refusal})" if refusal else ""
    if state.status == TaskStatus.SUCCEEDED:
        return CancelOutcome(attempt, False, f"already succeeded{why}: it is billed, the next "
                             "render downloads it")
    return CancelOutcome(attempt, False, f"still {state.status}{why}: only pending tasks can be "
                         "canceled; the next render resumes it")


OUR_CODES = ("AmbiguousTask", "OutputInvalid")  # our words on a task, not its provider's
# what reconcile's notes on a sent request whose answer was lost say (``never_listed``,
# ``unlisted``): a synchronous call (an image, a line) is billed when it is made
MAY_HAVE_CREATED = "may have created"


def possibly_billed(row: Attempt) -> bool:
    """Whether an attempt was sent, its answer lost and no task found: it may have been paid,
    and is never sent again by itself (``task forget`` is a person's yes to a second payment)."""
    return row.state == "intent" and not row.task_id and MAY_HAVE_CREATED in (row.note or "")


def failure_of(row: Attempt) -> Failure | None:
    """A failed attempt in our words: refused at submit (no task: nothing billed) or failed
    after the render (billed as its provider declares), and the input a content refusal flagged;
    None for an attempt that did not fail (a canceled or lost one, or one still in flight)."""
    if row.state != "failed" or row.last_status in (TaskStatus.CANCELED, TaskStatus.SUCCEEDED) \
            or row.error_code in OUR_CODES:
        return None
    return classify_failure(row.provider, row.error_code or "", row.error_message or "",
                            stage="render" if row.task_id else "submit")


def status(series_dir: Path, *, unfinished_only: bool = False) -> list[Attempt]:
    """The journal's rows (every attempt, oldest first) for ``storyboard status``."""
    return read_status(series_dir, unfinished_only=unfinished_only)



@dataclass
class StatusView:
    """``status`` of the series as it is now: per shot the attempt of the take its episode uses
    (``others``: by that row's key, how many other takes of the shot were tried at their current
    version), and the shots whose every attempt was of an older version (``unrendered``)."""

    rows: list[Attempt]
    unrendered: list[str]
    others: dict[str, int] = field(default_factory=dict)


def current_status(rows: Sequence[Attempt], shots: Sequence[CompiledShot],
                   states: Mapping[str, TakeState] | None = None) -> StatusView:
    """Per shot one row: the latest attempt at its current hash of the take its episode uses
    (``used_row``); a free draft only where no attempt of a real provider exists (the studio's
    drafts never hide what was paid for). ``shots``: every take of the series as it is now;
    ``states``: the lock's take states (picked, approved). Attempts of an older version of a
    shot, of a shot no longer in the series, and the shot's other takes are left to ``--all``."""
    now = {shot_key(shot): shot for shot in shots}
    ranked = sorted(rows, key=lambda r: (not is_draft(r), r.id))
    latest = {r.key: r for r in ranked if r.key in now and now[r.key].hash == r.shot_hash}
    by_shot: dict[str, list[tuple[int, Attempt]]] = {}
    for key, row in latest.items():
        by_shot.setdefault(state_key(now[key]), []).append((now[key].take, row))
    shown = {name: used_row(tried, (states or {}).get(name, {}))
             for name, tried in by_shot.items()}
    missing = {key for key in (r.key for r in rows) if key in now
               and state_key(now[key]) not in shown}
    return StatusView(sorted(shown.values(), key=lambda r: r.id), sorted(missing),
                      {row.key: len(by_shot[name]) - 1 for name, row in shown.items()})


def used_row(tried: list[tuple[int, Attempt]], state: TakeState) -> Attempt:
    """Of a shot's takes (number, latest attempt), the one its episode uses: the approved, else
    the picked take; else the lowest-numbered take a real provider rendered, else the
    lowest-numbered draft; else (nothing rendered) the latest attempt."""
    chosen = state.get("approved") or state.get("picked")
    done = sorted((is_draft(row), number, row.id) for number, row in tried
                  if row.state == "done")
    rows = {row.id: row for _, row in tried}
    marked = [row for number, row in tried if number == chosen]
    if marked:
        return marked[0]
    return rows[done[0][2]] if done else rows[max(rows)]


def is_draft(row: Attempt) -> bool:
    """Whether a journal row is a free local draft (``render --draft``, the studio's)."""
    return has(row.provider, "drafts")


def current_versions(shots: Sequence[CompiledShot]) -> set[tuple[str, str]]:
    """(shot key, hash) of each shot of the series as it is now: a row outside it is older."""
    return {(shot_key(shot), shot.hash) for shot in shots}
