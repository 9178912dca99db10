"""Queued shots on the team ledger into renders on this machine: ``storyboard worker``.

A worker loops: it claims at most its free slots of queued shots (``queue_pg``: ``FOR UPDATE
SKIP LOCKED``, only the providers and tags it serves), renders them with the ordinary runner in
the series folder of its own clone (journal, store push, the ledger's claims), reports each
shot's end, and asks again. A heartbeat thread keeps its leases; a worker that dies stops
beating, and its shots are claimed again once their lease has passed.

Money: the queue never decides whether anything is paid. The runner claims each shot in the team
ledger before a submit; a shot a dead worker had submitted has an open ledger entry with its task
id, whose holder's lock the database dropped with its connection, so the next worker's runner
takes that claim over and polls the same task (or reconciles a submit whose answer was lost)
instead of submitting again. A stopped worker (Ctrl-C, SIGTERM) puts its claims back at once;
what it paid stays journaled and in the ledger, and is resumed the same way.

The series' source: each worker runs in a clone of the series' repository (``--root``, the
folder the render was queued from); the queued shot names its series folder relative to it and
its shot hash, and a worker whose clone compiles the shot to another hash (another commit,
edited files, other media) refuses it and leaves it to another worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.errors import StoryboardError
from storyboard.language.compile import compile_path
from storyboard.language.request import Manifest
from storyboard.run.pipeline import matrix_plan
from storyboard.run.rendering import consent, execute
from storyboard.run.setup import Callbacks, RenderFlags, open_run, single
from storyboard.run.team.ledger_pg import LEDGER_ENV, LedgerSettings, PgLedger
from storyboard.run.team.queue_pg import PgQueue, QueuedShot, QueueState
from storyboard.run.trip.model import RunResult

log = logging.getLogger("storyboard.run")

LEASE = 60.0  # seconds a claim lasts without a heartbeat (beats come every third of it)
IDLE = 1.0  # seconds between looks at an empty queue


@dataclass(frozen=True)
class WorkerOptions:
    """What one worker serves and how: its ledger, providers, tags and slots."""

    ledger: LedgerSettings
    root: Path  # the clone the queued series paths are relative to
    providers: tuple[str, ...] = ()  # empty: every provider
    tags: tuple[str, ...] = ()
    slots: int = 1
    lease: float = LEASE
    idle: float = IDLE
    drain: bool = False  # stop once nothing this worker could take is queued or claimed
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:"
                                               f"{uuid.uuid4().hex[:6]}")


@dataclass
class Tally:
    """What a worker did: shots done, failed, given back (pending or refused)."""

    done: int = 0
    failed: int = 0
    returned: int = 0


class Worker:
    """One worker's loop over the queue; ``run`` until stopped (or drained)."""

    def __init__(self, options: WorkerOptions, say: Callable[[str], None] | None = None) -> None:
        self.options = options
        self.say = say or (lambda line: log.info("%s", line))
        self.session = PgLedger(options.ledger)
        self.queue = PgQueue(self.session)
        self.refused: set[str] = set()  # shots this clone compiles to another hash
        self.tally = Tally()
        self._stop = threading.Event()
        self._manifests: dict[tuple[str, str], tuple[tuple[tuple[str, int, int], ...],
                                                     Manifest]] = {}

    def run(self) -> Tally:
        """Claim, render, report, until stopped (a KeyboardInterrupt: claims given back)."""
        os.environ[LEDGER_ENV] = self.options.ledger.url  # the runs' claims: this same ledger
        beat = threading.Thread(target=self._beat, name="worker-heartbeat", daemon=True)
        beat.start()
        try:
            self._loop()  # SIGTERM: as Ctrl-C (``cli.main``), a KeyboardInterrupt here
        finally:
            self._stop.set()
            beat.join(5)
            with contextlib.suppress(StoryboardError):
                given = self.queue.release(self.options.name)
                if given:
                    self.say(f"worker {self.options.name}: {given} claim(s) given back")
            self.session.close()
        return self.tally

    def _loop(self) -> None:
        opts = self.options
        while not self._stop.is_set():
            rows = self.queue.claim(opts.name, opts.slots, lease=opts.lease,
                                    providers=opts.providers, tags=opts.tags,
                                    refused=sorted(self.refused))
            if rows:
                self.render(rows)
            elif opts.drain and not self._waiting():
                return
            else:
                time.sleep(opts.idle)

    def _waiting(self) -> bool:
        """Whether any shot this worker could take is still queued or claimed."""
        opts = self.options
        return any(s.state in ("queued", "claimed") and s.id not in self.refused
                   and (not opts.providers or s.provider in opts.providers)
                   and set(s.tags) <= set(opts.tags) for s in self.queue.shots())

    def _beat(self) -> None:
        while not self._stop.wait(self.options.lease / 3):
            try:
                self.queue.beat(self.options.name, self.options.lease)
            except StoryboardError as error:  # the ledger away: the next beat tries again
                log.warning("worker heartbeat: %s", error)

    def render(self, rows: Sequence[QueuedShot]) -> None:
        """One batch: the shots of one series and provider (any others go back at once)."""
        first = rows[0]
        batch = [r for r in rows if (r.series, r.provider, r.render_id)
                 == (first.series, first.provider, first.render_id)]
        for other in (r for r in rows if r not in batch):
            self._end(other, "queued")
        folder = Path(first.series)
        folder = folder if folder.is_absolute() else self.options.root / folder
        try:
            run = self._run(folder, batch)
        except StoryboardError as error:
            for row in batch:
                self._end(row, "failed", message=str(error))
            return
        if run is not None:
            self._report(batch, run)

    def _run(self, folder: Path, batch: list[QueuedShot]) -> RunResult | None:
        try:
            manifest = self._compiled(folder, batch[0].provider)
        except StoryboardError as error:  # this clone's problem, not the shots': others try
            for row in batch:
                self._refuse(row, folder, f"this clone cannot compile {folder}: "
                                          f"{str(error).splitlines()[0]}")
            return None
        left = max(0.0, batch[0].budget - self.queue.spent(batch[0].render_id))
        flags = RenderFlags(provider=batch[0].provider, shots=tuple(r.shot for r in batch),
                            yes=True, budget=left, concurrency=len(batch))
        with open_run(single(manifest), flags, Callbacks(on_notice=self.say)) as setup:
            known = {s.hash for s in setup.shots}
            mine = [r for r in batch if r.shot_hash in known]
            for row in batch:
                if row not in mine:
                    self._refuse(row, folder, f"{folder} does not compile it to "
                                              f"{row.shot_hash[:12]} (a clone at another "
                                              "commit, or edited?)")
            if not mine:
                return None
            if len(mine) < len(batch):
                setup.shots = [s for s in setup.shots
                               if s.hash in {r.shot_hash for r in mine} or s.asset is not None]
            consent(setup, matrix_plan(setup).plan)
            return execute(setup)

    def _compiled(self, folder: Path, provider: str) -> Manifest:
        """The series compiled, again only when one of its files changed."""
        stamp = _stamp(folder)
        key = (str(folder), provider)
        known = self._manifests.get(key)
        if known is None or known[0] != stamp:
            known = self._manifests[key] = (stamp, compile_path(folder, provider=provider))
        return known[1]

    def _refuse(self, row: QueuedShot, folder: Path, why: str) -> None:
        self.refused.add(row.id)
        self._end(row, "queued")
        self.say(f"worker {self.options.name}: {row.shot} refused: {why}; left to another "
                 "worker")

    def _report(self, batch: list[QueuedShot], run: RunResult) -> None:
        results = {r.hash: r for r in run.shots}
        for row in batch:
            result = results.get(row.shot_hash)
            if result is None:
                self._end(row, "failed", message="the run did not render it")
            elif result.ok:
                self._end(row, "done", cost=result.cost, message=result.task_id or result.state)
            elif result.state == "pending":  # its task still runs: resumed by whoever takes it
                self._end(row, "queued", message=result.message)
            else:
                self._end(row, "failed", cost=result.cost, message=result.message)

    def _end(self, row: QueuedShot, state: QueueState, *, cost: float = 0.0,
             message: str = "") -> None:
        if not self.queue.finish(row.id, self.options.name, state, cost=cost, message=message):
            self.say(f"worker {self.options.name}: {row.shot}: its lease had passed (another "
                     "worker took it)")
            return
        if state == "done":
            self.tally.done += 1
        elif state == "failed":
            self.tally.failed += 1
        else:
            self.tally.returned += 1
        if state != "queued" or message:
            self.say(f"worker {self.options.name}: {row.shot} {state}"
                     + (f": {message}" if message else ""))


def _stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Each source file of the series (not its state or output) with its time and size."""
    found = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if parts[0] in (".storyboard", "out") or not path.is_file():
            continue
        info = path.stat()
        found.append((path.as_posix(), info.st_mtime_ns, info.st_size))
    return tuple(found)
