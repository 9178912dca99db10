"""A shot another run has claimed into its video, never paid twice: wait, then take it.

Before a submit the runner claims the shot in the ledger (``Ledger.intend``). When another run
(another machine sharing a team ledger, or another process on this one) holds the claim, the shot
is not submitted; ``follow`` polls the ledger until that claim ends:

- its holder died (``take_over`` succeeds): the claim is now this run's, and the runner goes
  through the journal again, which restores the entry and applies today's resume rules (poll its
  task id; reconcile a submit whose answer was lost), so the crash is finished here, unpaid;
- it ended ``done``: the video comes from the shared store (given a few seconds for the holder's
  push); with no store, or none in time, the journal restores the finished entry and downloads
  the same paid task's result by its task id;
- it ended ``failed``: the shot fails with the holder's task id (run again to retry);
- it ended ``lost`` (no task was ever created): the runner claims the shot afresh and submits.

Twins (other shots with the same prompt, see ``runner``) are sent one at a time within a run; a
twin another living run is submitting right now is waited for (``answered``) until its task id
is known, so a lost answer still meets at most one unknown task with its prompt. Two runs that
look at the same moment (two series on one machine) both write their intent, then look again:
the one written later is withdrawn unsent and waits for the earlier (``earlier``), so they are
serialised too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storyboard.language.request import CompiledShot
from storyboard.run.team.ledger import Ledger, LedgerEntry
from storyboard.run.trip.model import ShotResult

if TYPE_CHECKING:
    from storyboard.run.trip.download import Downloader
    from storyboard.run.trip.events import Events
    from storyboard.run.trip.pace.pacing import Pacing
    from storyboard.run.trip.session import Session

STORE_GRACE = 10.0  # seconds a finished claim's video is awaited in the store
ROUNDS = 8  # claims followed for one shot in one run before it ends pending
TWIN_POLL = 0.05  # seconds between looks at another run's unanswered twin submit
FOLLOW_POLL = 0.5  # at most this long between looks at a claim another run holds
LIVENESS_EVERY = 4  # every this many looks, also ask whether its holder still lives
TWIN_WAIT = 120.0  # at most this long (a submit's timeout and retries)


async def follow(session: Session, events: Events, pacing: Pacing, downloader: Downloader,
                 shot: CompiledShot, holder: LedgerEntry) -> ShotResult | None:
    """Wait until ``holder``'s claim ends; a result (the store's copy through ``downloader``),
    or None to go through the journal again."""
    ledger = session.journal.ledger
    assert ledger is not None  # only a ledger can raise ShotClaimed
    who = f"{holder.shot} in {holder.series}"
    events.emit(shot, "running", f"claimed by another run ({who}): waiting for its task",
                holder.task_id)
    deadline = pacing.clock() + session.options.max_wait
    for looks in range(1 << 62):
        if looks % LIVENESS_EVERY == 0 and await session.db(ledger.take_over, holder.id):
            return None  # its holder died: the claim is ours, resumed by the journal's rules
        entry = await session.db(current, ledger, holder)
        if entry is None or not entry.open:
            return await settled(session, events, pacing, downloader, shot, entry)
        if pacing.clock() >= deadline:
            raise events.end(shot, "pending", f"still being rendered by another run ({who}, "
                             f"task {entry.task_id or 'not yet known'}) after "
                             f"{session.options.max_wait:.0f} s; run again to take its video",
                             "failed", task_id=entry.task_id)
        await pacing.sleep(interval(session))
    raise AssertionError("unreachable")


def current(ledger: Ledger, holder: LedgerEntry) -> LedgerEntry | None:
    found = [e for e in ledger.entries(holder.provider, holder.shot_hash) if e.id == holder.id]
    return found[0] if found else None


def interval(session: Session) -> float:
    schedule = session.options.poll_schedule or (1.0,)
    return min(max(schedule[0], 0.05), FOLLOW_POLL)


async def settled(session: Session, events: Events, pacing: Pacing, downloader: Downloader,
                  shot: CompiledShot, entry: LedgerEntry | None) -> ShotResult | None:
    if entry is None or entry.state == "lost":
        return None
    if entry.state == "failed":
        raise events.end(shot, "failed", f"the task {entry.task_id} of {entry.shot} in "
                         f"{entry.series} (another run, same request) failed; run again to retry",
                         "failed", task_id=entry.task_id, code="FailedElsewhere")
    return await from_store(session, pacing, downloader, shot)


async def from_store(session: Session, pacing: Pacing, downloader: Downloader,
                     shot: CompiledShot) -> ShotResult | None:
    """The finished video from the store, once the holder's push lands (None: download it)."""
    if session.store is None:
        return None
    deadline = pacing.clock() + STORE_GRACE
    while True:
        pulled = await downloader.from_store(shot)
        if pulled is not None or pacing.clock() >= deadline or session.store.down:
            return pulled
        await pacing.sleep(interval(session))


async def answered(session: Session, pacing: Pacing, shot: CompiledShot,
                   others: list[LedgerEntry]) -> list[LedgerEntry]:
    """Wait while living runs hold unanswered submits of ``shot``'s twins; returns the ones
    left (a dead run's, or still unanswered after ``TWIN_WAIT``): those stop the submit."""
    ledger = session.journal.ledger
    deadline = pacing.clock() + TWIN_WAIT
    while others and ledger is not None and pacing.clock() < deadline:
        living = [e for e in others if await session.db(ledger.alive, e.id)]
        if not living:
            break
        await pacing.sleep(TWIN_POLL)
        others = await session.db(session.journal.other_open_intents, shot, session.task_key,
                                  set())
    return others


def earlier(entries: list[LedgerEntry], mine: LedgerEntry) -> list[LedgerEntry]:
    """The entries written before ``mine`` (ties broken by id, the same order in every run):
    the earliest unanswered twin goes first, the others wait."""
    return [e for e in entries
            if e.id != mine.id and (e.intent_at, e.id) < (mine.intent_at, mine.id)]
