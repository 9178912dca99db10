"""Pending tasks into cancelled ones, and the journal into status rows: what `cancel` and `status`
say.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import ProviderError
from storyboard.providers.base import Provider
from storyboard.run.checks import (
    describe,
)
from storyboard.run.journal import Attempt, Journal, read_status
from storyboard.run.pacing import run_lock
from storyboard.run.session import TASK_END_STATE, task_key
from storyboard.run.team.ledger import default_ledger
from storyboard.targets import TaskStatus


@dataclass
class CancelOutcome:
    attempt: Attempt
    canceled: bool
    message: str


async def cancel_pending(series_dir: Path, provider: Provider, *,
                         request_timeout: float = 60.0) -> list[CancelOutcome]:
    """Ask the provider to cancel every unfinished task the journal holds for it.

    DashScope cancels only PENDING tasks; a running one is left (and a later render downloads it,
    since it will be billed anyway). An intent with no task id has nothing to cancel: the next
    render reconciles it.
    """
    outcomes: list[CancelOutcome] = []
    paid = any(price > 0 for price in provider.prices.per_second.values())
    ledger = default_ledger() if paid else None  # a canceled task is settled there too
    try:
        with run_lock(series_dir), Journal.open(series_dir, ledger) as journal:
            for attempt in journal.unfinished_for_provider(task_key(provider)):
                outcomes.append(await _cancel_one(journal, provider, attempt, request_timeout))
    finally:
        if ledger is not None:
            ledger.close()
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


def status(series_dir: Path, *, unfinished_only: bool = False) -> list[Attempt]:
    """The journal's rows (every attempt, oldest first) for ``storyboard status``."""
    return read_status(series_dir, unfinished_only=unfinished_only)

