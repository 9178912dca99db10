"""Queued shots on the team ledger into renders on this machine: ``storyboard worker``.

A worker loops: it claims at most its free slots of queued shots (``queue_pg``: ``FOR UPDATE
SKIP LOCKED``, only the providers and tags it serves) and renders them in one long run of the
ordinary runner in the series folder of its own clone (journal, store push, the ledger's
claims): each time one of its shots ends, it reports it and claims one more for the free slot,
fed to the same run (``stream``), so the series is compiled once and the provider and its HTTP
clients are kept. A claimed shot of another series waits for that run to end. A heartbeat thread
keeps its leases; a worker that dies stops beating, and its shots are claimed again once their
lease has passed.

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

from storyboard import stopping
from storyboard.errors import StoryboardError
from storyboard.language.compile import compile_path
from storyboard.language.request import Manifest
from storyboard.run.rendering import wiring_of
from storyboard.run.setup import Callbacks, RenderFlags, open_run, single
from storyboard.run.team.ledger_pg import LEDGER_ENV, LedgerSettings, PgLedger
from storyboard.run.team.queue_pg import PgQueue, QueuedShot, QueueState
from storyboard.run.trip.runner import opened
from storyboard.run.workers.stream import Stream, fail_open, same_run

log = logging.getLogger("storyboard.run")

LEASE = 60.0  # seconds a claim lasts without a heartbeat (beats come every third of it)
IDLE = 1.0  # seconds between looks at an empty queue
LINGER = 30.0  # seconds a run stays open with nothing in flight or claimed before it ends


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
    linger: float = LINGER  # an idle run ends after this (the clone's run lock let go)
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
        self.held: list[QueuedShot] = []  # claimed for the next run (another series')
        self.open: dict[str, QueuedShot] = {}  # claimed for this run, not ended yet
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
            rows, self.held = self.held or self.claim(opts.slots), []
            if rows:
                self.render(rows)
            elif opts.drain and not self.waiting():
                return
            else:
                time.sleep(opts.idle)

    def waiting(self) -> bool:
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
        """The claimed shots of one series and provider in one long run, fed more shots of it
        as slots free up (``stream``); claimed shots of another run are held for the next."""
        first = rows[0]
        batch = [r for r in rows if same_run(r, first)]
        self.held.extend(r for r in rows if not same_run(r, first))
        folder = Path(first.series)
        folder = folder if folder.is_absolute() else self.options.root / folder
        try:
            manifest = self._compiled(folder, first.provider)
        except StoryboardError as error:  # this clone's problem, not the shots': others try
            for row in batch:
                self.refuse(row, folder, f"this clone cannot compile {folder}: "
                                         f"{str(error).splitlines()[0]}")
            return
        stamp = self._manifests[(str(folder), first.provider)][0]
        self.open = {r.id: r for r in batch}
        try:
            stopping.run(self._serve(folder, manifest, batch, lambda: _stamp(folder) != stamp))
        except StoryboardError as error:  # the run could not open, or broke: its shots fail
            fail_open(self, list(self.open.values()), error)

    async def _serve(self, folder: Path, manifest: Manifest, batch: list[QueuedShot],
                     changed: Callable[[], bool]) -> None:
        opts = self.options
        flags = RenderFlags(provider=batch[0].provider, yes=True, concurrency=opts.slots)
        with open_run(single(manifest), flags, Callbacks(on_notice=self.say)) as setup:
            ledger, team, problem = setup.ledger()
            if team and ledger is None:
                raise StoryboardError(problem.partition("; claims")[0])
            shots = {s.hash: s for s in setup.shots}
            try:
                async with opened(setup.provider, setup.options,
                                  wiring_of(setup, ledger)) as run:
                    stream = Stream(self, run, folder, shots, opts.slots, opts.idle,
                                    opts.drain, changed, opts.linger)
                    done = await stream.serve(batch)
                    run.write_lock([s for s, _ in done], [s for s, _ in done],
                                   [r for _, r in done])
            finally:
                await setup.provider.aclose()

    def claim(self, count: int) -> list[QueuedShot]:
        """At most ``count`` queued shots this worker may take."""
        opts = self.options
        return self.queue.claim(opts.name, count, lease=opts.lease, providers=opts.providers,
                                tags=opts.tags, refused=sorted(self.refused))

    def stopping(self) -> bool:
        return self._stop.is_set()

    def _compiled(self, folder: Path, provider: str) -> Manifest:
        """The series compiled, again only when one of its files changed."""
        stamp = _stamp(folder)
        key = (str(folder), provider)
        known = self._manifests.get(key)
        if known is None or known[0] != stamp:
            known = self._manifests[key] = (stamp, compile_path(folder, provider=provider))
        return known[1]

    def refuse(self, row: QueuedShot, folder: Path, why: str) -> None:
        self.refused.add(row.id)
        self.end(row, "queued")
        self.say(f"worker {self.options.name}: {row.shot} refused: {why}; left to another "
                 "worker")

    def end(self, row: QueuedShot, state: QueueState, *, cost: float = 0.0,
             counted: float = 0.0, message: str = "") -> None:
        self.open.pop(row.id, None)
        if not self.queue.finish(row.id, self.options.name, state, cost=cost, counted=counted,
                                 message=message):
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
