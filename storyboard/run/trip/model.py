"""Runner settings and outcomes into plain data: options, wiring, progress events, results.

What callers of ``render`` build (``RunOptions``: the flags; ``Wiring``: what the run is wired to)
and get back (``ShotEvent`` while it runs, ``RunResult`` at the end), kept apart from the runner's
machinery.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # types only: the runner's parts stay unimported until a run starts
    from storyboard.language.request import CompiledShot
    from storyboard.run.state.cache import OutputCache
    from storyboard.run.state.lock.lockfile import LockEntry
    from storyboard.run.state.sharing import StoreLink
    from storyboard.run.team.ledger import Ledger
    from storyboard.run.trip.budget.costs import ReferenceSeconds
    from storyboard.targets import PriceTable

EventState = Literal["queued", "cached", "submitted", "running", "downloading", "done", "failed",
                     "skipped", "blocked"]
# how the boards gate's reasons start (``run.boards.gate``: "waits (board not approved)", "... picked)",
# "... approved as this provider drew it)")
HELD = "waits (board not "
ResultState = Literal["done", "cached", "failed", "skipped", "blocked", "pending"]
DEFAULT_POLL_SCHEDULE: tuple[float, ...] = (2, 3, 5, 8, 10, 15)
Sleep = Callable[[float], Awaitable[None]]  # a run's sleep and clock: real ones, or a test's
Clock = Callable[[], float]


@dataclass(frozen=True)
class ShotEvent:
    """A progress report: ``elapsed`` is seconds since this shot was queued in this run."""

    episode: str
    shot: str
    state: EventState
    elapsed: float
    spent_so_far: float
    message: str = ""
    series: str = ""
    task_id: str | None = None
    output: Path | None = None  # the shot's video, on "done" and "cached"
    progress: float | None = None  # the task's fraction done, when its provider says (ComfyUI)


@dataclass
class ShotResult:
    series: str
    episode: str
    shot: str
    hash: str
    state: ResultState  # "pending": the task still runs at the provider; the next run resumes it
    output: Path | None = None
    task_id: str | None = None
    billed_seconds: float = 0.0
    cost: float = 0.0  # billed in this run (0 for a cache hit)
    code: str = ""
    message: str = ""
    resumed: bool = False  # its task was submitted, and paid for, by an earlier run

    @property
    def key(self) -> str:
        return f"{self.series}/{self.episode}/{self.shot}"

    @property
    def ok(self) -> bool:
        return self.state in ("done", "cached")

    @property
    def held(self) -> bool:
        """Skipped by the boards gate: it waits, unpaid, for its board's approval (or pick)."""
        return self.state == "skipped" and self.message.startswith(HELD)


@dataclass
class RunResult:
    shots: list[ShotResult]
    spent: float
    currency: str
    submits: int  # submit requests sent in this run (retries included)
    lock_file: Path | None = None
    notes: list[str] = field(default_factory=list)  # store warnings: lookups, failed pushes
    resumed_cost: float = 0.0  # settled for resumed tasks: paid by earlier runs, not in ``spent``
    # what measuring its takes did and found (``run.measured.Report``; None: nothing measured)
    measured: Any = None
    counted: float | None = None  # what its budget counted of ``spent`` (None: as billed)

    @property
    def budget_spent(self) -> float:
        """What a budget counts of this run's spending: each task at no less than its list
        price (``Money.counted``), never less than it was billed: what a later run under the
        same budget has left is the budget less this."""
        return self.spent if self.counted is None else max(self.spent, self.counted)

    @property
    def resumed(self) -> list[ShotResult]:
        """Shots whose task an earlier run submitted (a crash, Ctrl-C): resumed, not paid again."""
        return [s for s in self.shots if s.resumed]

    @property
    def ok(self) -> bool:
        """Every shot came out, but those the boards gate holds (waiting is not failing)."""
        return all(s.ok or s.held for s in self.shots)

    def by_state(self, state: ResultState) -> list[ShotResult]:
        return [s for s in self.shots if s.state == state]


@dataclass(frozen=True)
class RunOptions:
    concurrency: int = 4  # tasks in flight at the provider
    submit_rate: float = 2.0  # submits per second (token bucket)
    submit_burst: int = 0  # bucket size; 0 = ceil(submit_rate)
    query_rate: float = 15.0  # polls per second across all shots (DashScope: 20/s per account)
    # The provider account's limits, kept across machines by a team ledger (None: no limit):
    # tasks in flight per account and model, submits and queries per second per account.
    account_in_flight: int | None = None
    account_submit_rate: float | None = None
    account_query_rate: float | None = 20.0  # DashScope: query and list share 20/s per account
    account_in_flight_models: tuple[tuple[str, int], ...] = ()  # (model, its own in-flight)
    poll_schedule: tuple[float, ...] = DEFAULT_POLL_SCHEDULE  # the last step repeats
    request_timeout: float = 60.0
    download_timeout: float = 900.0
    max_retries: int = 5
    query_patience: float = 300.0  # free questions (polls, lookups) outlast errors this long
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    reconcile_delay: float = 2.0  # let a provider's task list catch up before find()
    # A submit sent and unanswered (a read timeout, a reset) may still land late: a proxy or a
    # load balancer holds a request up to its own timeout (60-120 s: nginx, cloud balancers).
    # The task list is asked again this long for its task; then the shot stops as ambiguous.
    late_window: float = 150.0
    max_wait: float = 1800.0  # per task; it stays journaled when this runs out
    # A status word nobody declared is polled (backing off) this long before the shot stops as
    # ``AmbiguousTask``; the task stays in flight either way (see docs/money.md).
    unknown_patience: float = 600.0
    # A download costs nothing and the video waits at the provider for hours: outlast a burst of
    # errors (with the backoff, minutes) before the shot is left pending for the next run.
    download_retries: int = 8
    # The most megabytes one download may hold (None: each shot's own, ``run/trip/guards/downloadcap.py``).
    max_download_mb: float | None = None
    duration_tolerance: float = 0.5
    require_audio: bool = True
    # No submit starts once spent + in flight + its own estimate would pass this (None: no limit).
    budget: float | None = None


@dataclass(frozen=True)
class Wiring:
    """What one run is wired to, decided by its caller: where the series lives (a manifest's own
    root, else ``series_dir``), its prices (default: the provider's), the reference videos'
    seconds, the shared store, the ledger (default: the per-user one for a paid provider), the
    lock's shots as read at the start (else read by the run), who hears it, and (for tests) time
    and chance."""

    series_dir: Path | None = None
    prices: PriceTable | None = None
    reference_video_seconds: ReferenceSeconds | None = None
    store: StoreLink | None = None
    ledger: Ledger | None = None
    locked: Mapping[str, LockEntry] | None = None
    on_event: Callable[[ShotEvent], None] | None = None
    on_notice: Callable[[str], None] | None = None  # what a user must know before any spend
    sleep: Sleep = asyncio.sleep
    clock: Clock = time.monotonic
    rng: random.Random | None = None
    cache: OutputCache | None = None  # the provider's output cache (else made by the run)
    # the shots (by hash) a budget under the plan leaves out, each with why (``budgetcut``)
    skips: Mapping[str, str] | None = None
    # each board take (by hash) the gate let a video go from, with the sha256 its file had then
    board_bytes: Mapping[str, str] | None = None
    # shots that can be asked only once the run's shots are made (a version's passes, from its
    # made lines): asked for when those end, and run in the same run (``Later``)
    later: Callable[[Sequence[ShotResult]], Later] | None = None


@dataclass(frozen=True)
class Later:
    """The shots a run goes on to once its shots so far ended, each of ``skips`` (by hash) left
    out with why, as a budget's cut leaves a shot out (``Wiring.skips``); ``later``: asked in
    turn once these end."""

    shots: list[CompiledShot] = field(default_factory=list)
    skips: Mapping[str, str] = field(default_factory=dict)
    later: Callable[[Sequence[ShotResult]], Later] | None = None
