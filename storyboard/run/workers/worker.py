"""Queued shots on the team ledger into renders on this machine: ``storyboard worker``.

A worker is a Procrastinate worker on the team's database (``engine``): the engine hands it at
most ``--slots`` jobs at once, each one queued shot, only from the queues of the providers and
tags it serves, the highest priority first (shot k of every render at -k: renders interleave),
and keeps its heartbeat. Each job's task feeds its shot to the worker's open run of that series
(``stream``: one long run of the ordinary runner in its own clone, with its journal, store push
and the ledger's claims), so the series is compiled once and the provider and its HTTP clients
are kept. Every third of its ``--lease`` the worker also sweeps: a shot whose worker has been
silent for a lease goes back to the queue, or ends ``failed`` once it has no retries left.

Money: the engine never decides whether anything is paid. The runner claims each shot in the
team ledger before a submit; a shot a dead worker had submitted has an open ledger entry with its
task id, whose holder's lock the database dropped with its connection, so the next worker's
runner takes that claim over and polls the same task instead of submitting again. A stopped
worker (Ctrl-C, SIGTERM) gives its shots back at once; what it paid stays journaled and in the
ledger, and is resumed the same way. A cancelled render's running shots settle (their paid tasks
end and are kept) and are never tried again.

The series' source: each worker runs in a clone of the series' repository (``--root``); the
queued shot names its series folder relative to it and its shot hash, and a worker whose clone
compiles the shot to another hash refuses it and leaves it to another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard import stopping
from storyboard.errors import StoryboardError
from storyboard.language.compile import compile_path
from storyboard.language.request import Manifest
from storyboard.run.rendering import wiring_of
from storyboard.run.setup import Callbacks, RenderFlags, open_run, single
from storyboard.run.team.ledger_pg import LEDGER_ENV, LedgerSettings, PgLedger
from storyboard.run.team.queue_pg import PgQueue, QueuedShot
from storyboard.run.trip.runner import opened
from storyboard.run.workers import engine
from storyboard.run.workers.jobs import WORKER, CloneCannot, Tally
from storyboard.run.workers.stream import Live, Runs

log = logging.getLogger("storyboard.run")

LEASE = 60.0  # seconds a silent worker keeps its shots (it beats every third of it)
IDLE = 1.0  # seconds between looks at an empty queue
LINGER = 30.0  # seconds a run stays open with nothing in flight before it ends
Event = dict[str, Any]


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
    drain: bool = False  # stop once nothing this worker could take is queued or taken
    linger: float = LINGER  # an idle run ends after this (the clone's run lock let go)
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:"
                                               f"{uuid.uuid4().hex[:6]}")


def line(event: Event) -> str:
    """An event as the worker's text line."""
    kind, who = event["event"], f"worker {event['worker']}"
    said = f": {event['message']}" if event.get("message") else ""
    if kind == "notice":
        return str(event["message"])
    if kind == "start":
        return f"{who}: {event['slots']} slot(s) on {event['ledger']}"
    if kind == "stop":
        return (f"{who}: {event['done']} done, {event['failed']} failed, {event['retried']} "
                f"retried, {event['returned']} given back")
    if kind == "refused":
        return f"{who}: {event['shot']} refused{said}; left to another worker"
    if kind == "given back" and "shot" not in event:
        return f"{who}: {event['count']} claim(s) given back"
    if kind == "handed on":
        return f"{who}: {event['shot']} of a silent worker {event['state']}"
    return f"{who}: {event['shot']} {kind}{said}"


class EngineLog(logging.Filter):
    """The engine's own log, as a worker shows it: a job's end is the worker's event to say
    (said once, in its words), and nothing the engine logs carries a traceback."""

    SAID = frozenset({"job_success", "job_error", "job_error_retry", "job_aborted",
                      "job_aborted_retry"})

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "action", None) in self.SAID:
            return False
        record.exc_info, record.exc_text = None, None
        return True


class Worker:
    """One worker on the engine; ``run`` until stopped (or drained)."""

    def __init__(self, options: WorkerOptions,
                 say: Callable[[Event], None] | None = None) -> None:
        self.options = options
        self.tell = say or (lambda event: log.info("%s", line(event)))
        self.session = PgLedger(options.ledger)
        self.queue = PgQueue(self.session)
        self.queues = engine.queues(options.providers, options.tags)
        self.refused: set[int] = set()  # jobs this clone compiles to another hash
        self.waited: set[int] = set()  # jobs given back for another run's lock on the clone
        self.tally = Tally()
        self.active = 0  # jobs this worker runs now
        self.runs = Runs(self._open)
        self._manifests: dict[tuple[str, str], tuple[Stamp, Manifest]] = {}

    @property
    def name(self) -> str:
        return self.options.name

    def say(self, kind: str, **fields: Any) -> None:
        self.tell({"event": kind, "worker": self.options.name, **fields})

    def run(self) -> Tally:
        """Take, render, report, until stopped (a KeyboardInterrupt: shots given back)."""
        os.environ[LEDGER_ENV] = self.options.ledger.url  # the runs' claims: this same ledger
        try:
            stopping.run(self._main())
        finally:
            if self.tally.returned:
                self.say("given back", count=self.tally.returned)
            self.session.close()
        return self.tally

    async def _main(self) -> None:
        from procrastinate.worker import Worker as EngineWorker
        opts = self.options
        for name in ("procrastinate", "procrastinate.worker", f"procrastinate.worker.{opts.name}"):
            engine_log = logging.getLogger(name)  # a filter holds for its own logger's records
            if not any(isinstance(f, EngineLog) for f in engine_log.filters):
                engine_log.addFilter(EngineLog())
        app = engine.app_on(opts.ledger.url, opts.ledger.patience)
        async with app.open_async():
            worker = EngineWorker(
                app, queues=self.queues, name=opts.name, concurrency=opts.slots,
                fetch_job_polling_interval=opts.idle, abort_job_polling_interval=opts.idle,
                listen_notify=False,  # polled each --idle: nothing to lose with the database
                shutdown_graceful_timeout=0, install_signal_handlers=False,
                update_heartbeat_interval=opts.lease / 3, stalled_worker_timeout=opts.lease,
                additional_context={WORKER: self})
            sides = [asyncio.create_task(self._sweep())]
            if opts.drain:
                sides.append(asyncio.create_task(self._drain(worker)))
            serve: Callable[[], Awaitable[None]] = worker.run
            try:
                await serve()
            finally:
                for side in sides:
                    side.cancel()
                await asyncio.gather(*sides, return_exceptions=True)
                await self.runs.close_all()

    async def _sweep(self) -> None:
        """Every third of a lease: the shots of silent workers handed on."""
        lease, away = self.options.lease, False
        while True:
            await asyncio.sleep(lease / 3)
            try:
                if away:  # back from an outage: every worker gets a lease to beat again
                    await asyncio.to_thread(engine.reach, self.session)
                    away = False
                    await asyncio.sleep(lease)
                handed = await asyncio.to_thread(engine.sweep, self.session, lease)
            except StoryboardError as error:  # the ledger away: the next sweep tries again
                log.warning("worker sweep: %s", error)
                away = True
                continue
            for shot, failed in handed:
                self.say("handed on", shot=shot, state="failed" if failed else "queued again")

    async def _drain(self, worker: Any) -> None:
        """Stop the engine's worker once nothing this worker could take is queued or taken."""
        while True:
            await asyncio.sleep(self.options.idle)
            if self.active:
                continue
            left = await asyncio.to_thread(engine.waiting, self.session, self.queues,
                                           self.refused)
            if not left and not self.active:
                worker.stop()
                return

    def folder_of(self, row: QueuedShot) -> Path:
        folder = Path(row.series)
        return folder if folder.is_absolute() else self.options.root / folder

    async def live_for(self, row: QueuedShot) -> Live:
        """The open run for a shot (one opened when none fits)."""
        return await self.runs.get(row, self.folder_of(row))

    async def _open(self, row: QueuedShot, folder: Path, ready: asyncio.Future[Live]) -> None:
        """A run of the shot's series: open until it is done (``Live.until_done``)."""
        opts = self.options
        try:
            manifest = await asyncio.to_thread(self._compiled, folder, row.provider)
        except StoryboardError as error:  # this clone's problem, not the shot's: others try
            raise CloneCannot(f"this clone cannot compile {folder}: "
                              f"{str(error).splitlines()[0]}") from error
        stamp = self._manifests[(str(folder), row.provider)][0]
        flags = RenderFlags(provider=row.provider, yes=True, concurrency=opts.slots)
        calls = Callbacks(on_notice=lambda text: self.say("notice", message=text))
        with open_run(single(manifest), flags, calls) as setup:
            ledger, team, _ = setup.ledger()
            if team and ledger is None:
                raise setup.ledger_refused()
            shots = {s.hash: s for s in setup.shots}
            try:
                async with opened(setup.provider, setup.options,
                                  wiring_of(setup, ledger)) as run:
                    from storyboard.run.workers.stream import key_of
                    live = Live(key_of(row, folder), run, shots,
                                lambda: _stamp(folder) != stamp)
                    ready.set_result(live)
                    await live.until_done(opts.linger, opts.idle)
                    done = live.fed
                    run.write_lock([s for s, _ in done], [s for s, _ in done],
                                   [r for _, r in done])
            finally:
                with contextlib.suppress(Exception):
                    await setup.provider.aclose()

    def _compiled(self, folder: Path, provider: str) -> Manifest:
        """The series compiled, again only when one of its files changed."""
        stamp = _stamp(folder)
        key = (str(folder), provider)
        known = self._manifests.get(key)
        if known is None or known[0] != stamp:
            known = self._manifests[key] = (stamp, compile_path(folder, provider=provider))
        return known[1]


Stamp = tuple[tuple[str, int, int], ...]


def _stamp(folder: Path) -> Stamp:
    """Each source file of the series (not its state or output) with its time and size."""
    found = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if parts[0] in (".storyboard", "out") or not path.is_file():
            continue
        info = path.stat()
        found.append((path.as_posix(), info.st_mtime_ns, info.st_size))
    return tuple(found)
