"""A series and the render flags into one run's set-up: provider, lock, ledger, folders, options.

Everything a plan or a run needs is decided here, once, from the variations and the command's flags,
and handed to the stages as one ``RunSetup``: the lock file is read once, the ledger opened once,
the output folders decided once, and the stages never climb back to fetch a setting. A plain series
is a matrix of one variation (``single``), so one set-up serves both.
"""

from __future__ import annotations

import fnmatch
import functools
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from storyboard.errors import MissingExtra, StoryboardError
from storyboard.files import series_folder
from storyboard.language.request import BOARDS, CompiledShot, Manifest, is_board
from storyboard.language.variations import Variant, Variants
from storyboard.media.probes import probe as media
from storyboard.providers.base import Provider
from storyboard.providers.registry import make
from storyboard.run.config import (
    LOCAL_POLL,
    PROVIDERS,
    Flags,
    Setting,
    effective,
    provider_name,
    runner_settings,
)
from storyboard.run.plans import Plan, apply_price_overrides
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import (
    LockFile,
    TakeChange,
    lock_path,
    proxy,
    read_lock,
    with_take_changes,
)
from storyboard.run.state.sharing import StoreLink
from storyboard.run.state.takes import select_shots, shot_names, state_key, with_retakes
from storyboard.run.team.ledger import Ledger, default_ledger
from storyboard.run.team.ledger_pg import PgLedger, ledger_settings
from storyboard.run.team.store import RenderStore, store_settings
from storyboard.run.trip.model import RunOptions, ShotEvent
from storyboard.run.variations import MatrixPlan, variation_target
from storyboard.stitch import OutputNotWritable
from storyboard.stitch.series.episodes import EpisodeOutput
from storyboard.targets import PriceTable

__all__ = ["LOCAL_POLL", "PROVIDERS", "Callbacks", "RenderFlags", "RunSetup", "make_provider",
           "open_run", "prepare", "provider_name", "run_prices", "setup_for"]

Seconds = Callable[[CompiledShot], float | None]


@dataclass(frozen=True)
class RenderFlags:
    """The flags of one ``plan`` or ``render``, as given (None: not given)."""

    provider: str | None = None
    episode: str | None = None
    draft: bool = False
    out: Path | None = None
    yes: bool = False
    budget: float | None = None
    concurrency: int | None = None
    offline: bool = False
    shots: tuple[str, ...] = ()  # ``--shot``: EPISODE/SHOT or VARIATION/EPISODE/SHOT, globs
    replace_approved: bool = False
    webhook_listen: str | None = None
    webhook_url: str | None = None
    preview: bool = False  # the studio's drafts: stitched without loudness passes
    boards: bool = False  # ``render SERIES boards``: the boards and the cast they use, nothing else
    # ``retake``: the take states it asks for; the run sees them at once, the lock gets them only
    # once the run has consent (a refused retake leaves the lock as it was)
    take_changes: tuple[TakeChange, ...] = ()


@dataclass
class Callbacks:
    """Who hears a run: the plan, consent questions, progress, episodes and notices."""

    confirm: Callable[[Plan], bool] | None = None  # a person's yes to the planned cost
    on_plan: Callable[[MatrixPlan], None] | None = None
    on_event: Callable[[ShotEvent], None] | None = None
    on_episode: Callable[[EpisodeOutput], None] | None = None
    on_notice: Callable[[str], None] | None = None
    ask_replace: Callable[[str], bool] | None = None  # a yes to spending on approved shots


@dataclass
class RunSetup:
    """What one plan and run need, decided once: the variations, the provider that renders them,
    the selected takes, prices, runner options, the lock as read at the start, the ledger, the
    output folder of each variation, the flags and the callbacks."""

    manifest: Manifest  # every variation's episodes as one manifest (a plain series: itself)
    provider: Provider
    shots: list[CompiledShot]
    seconds: Seconds  # reference video seconds a shot sends (billed up to a cap)
    prices: PriceTable
    options: RunOptions
    store: StoreLink | None
    flags: RenderFlags = field(default_factory=RenderFlags)
    calls: Callbacks = field(default_factory=Callbacks)
    lock: LockFile | None = None  # storyboard.lock: take states (and shots, when not drafts)
    shots_lock: LockFile | None = None  # the lock this provider records shots in
    variants: Variants | None = None
    targets: dict[str, Path] = field(default_factory=dict)  # variation's manifest name -> folder
    chosen: set[str] | None = None  # ``--shot``: the shots named (state keys), else all
    pending: list[TakeChange] = field(default_factory=list)  # for the lock, once consented to
    skips: dict[str, str] = field(default_factory=dict)  # hash -> why a budget skips it
    board_bytes: dict[str, str] = field(default_factory=dict)  # a board take -> sha256 checked
    _ledger: tuple[Ledger | None, bool, str] | None = None
    _refused: StoryboardError | None = None  # why the team ledger cannot be opened

    @property
    def root(self) -> Path:
        return self.manifest.root

    @functools.cached_property
    def cache(self) -> OutputCache:
        """The provider's output cache in this series (its cast's in the cast maker's folder)."""
        return OutputCache(self.root, self.provider.cache_key)

    @property
    def episode(self) -> str | None:
        return self.flags.episode

    @property
    def draft(self) -> bool:
        return self.flags.draft

    @property
    def offline(self) -> bool:
        return self.flags.offline

    @property
    def preview(self) -> bool:
        return self.flags.preview

    @property
    def settings(self) -> list[Setting]:
        """Every effective setting and where it came from (what ``storyboard config`` shows)."""
        flags = self.flags
        return effective(self.manifest, Flags(flags.provider, flags.out, flags.concurrency,
                                              flags.offline, flags.webhook_listen,
                                              flags.webhook_url))

    def ledger(self) -> tuple[Ledger | None, bool, str]:
        """The ledger of this run, opened once: the team's when the series names one, else the
        per-user one for a paid provider; whether it is the team's; why the team's cannot be
        opened (the plan says so; a run raises it)."""
        if self._ledger is None:
            try:
                self._ledger = _open_ledgers(self.manifest, self.provider)
            except StoryboardError as error:
                self._refused = error
                self._ledger = None, True, f"{error}; claims of other machines are not shown"
        return self._ledger

    def ledger_refused(self) -> StoryboardError:
        """Why the series' team ledger cannot be opened, as it was raised (a missing extra
        keeps its exit code, 2), for a run that cannot go on without it."""
        self.ledger()
        return self._refused or StoryboardError("the team ledger cannot be opened")

    def close(self) -> None:
        if self._ledger is not None and self._ledger[0] is not None:
            self._ledger[0].close()
        self._ledger = None

    def __enter__(self) -> RunSetup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def single(manifest: Manifest) -> Variants:
    """A plain series as a matrix of one variation."""
    return Variants(manifest.root, manifest.name, False, [Variant(None, {}, manifest)], every=1)


def open_run(variants: Variants, flags: RenderFlags, calls: Callbacks | None = None, *,
             provider: Provider | None = None) -> RunSetup:
    """The set-up of a plan or run of ``variants`` (one provider group) with these flags: the
    lock read once, the shots selected (``--episode``, ``--shot``), each variation's folder."""
    if flags.webhook_url and not flags.webhook_listen:
        raise StoryboardError("webhook_url needs webhook_listen (HOST:PORT): it is the public "
                              "address of that listener, and without one no callback is taken")
    manifest = variants.combined()
    chosen = provider or make_provider(manifest, flags.provider, draft=flags.draft)
    lock = with_take_changes(read_lock(lock_path(manifest.root)), flags.take_changes)
    shots_lock = read_lock(lock_path(manifest.root, True)) if proxy(chosen) else lock
    manifest = with_retakes(manifest, lock, free=not chosen.traits.paid)
    targets = {m.name: variation_target(m, flags.out, variants.matrix, flags.draft)
               for m in variants.manifests}
    for folder in targets.values() if flags.boards else ():  # the board animatic's: checked
        series_folder(manifest.root, folder / BOARDS)  # before a board is paid for
    setup = RunSetup(
        manifest, chosen, select(manifest, flags.episode), reference_seconds(manifest),
        run_prices(manifest, chosen),
        replace(run_options(manifest, flags.concurrency, chosen), budget=flags.budget),
        open_store(manifest, chosen, offline=flags.offline), flags, calls or Callbacks(), lock,
        shots_lock, variants, targets, pending=list(flags.take_changes))
    choose_shots(setup, flags.shots)
    if flags.boards:
        choose_boards(setup)
    return setup


def run_prices(manifest: Manifest, provider: Provider) -> PriceTable:
    """The prices a run of ``manifest`` on ``provider`` pays by (``RunSetup.prices``): the
    provider's, the series' ``prices:`` over them; read without opening a run."""
    return apply_price_overrides(provider.prices,
                                 manifest.settings_for(provider.name).get("prices"))


def prepare(manifest: Manifest, *, provider: str | None = None, episode: str | None = None,
            draft: bool = False, concurrency: int | None = None, offline: bool = False,
            preview: bool = False, take_changes: tuple[TakeChange, ...] = ()) -> RunSetup:
    """``open_run`` of a plain series with these flags."""
    return open_run(single(manifest), RenderFlags(provider, episode, draft, concurrency=concurrency,
                                                  offline=offline, preview=preview,
                                                  take_changes=take_changes))


def setup_for(manifest: Manifest, provider: Provider, episode: str | None = None, *,
              offline: bool = False) -> RunSetup:
    """``prepare`` with the provider already made."""
    return open_run(single(manifest), RenderFlags(provider.name, episode, offline=offline),
                    provider=provider)


def choose_shots(setup: RunSetup, patterns: tuple[str, ...]) -> None:
    """``--shot``: render only the named shots' takes, after the cast assets they use (globs
    allowed; in a matrix a pattern names the shot in every variation that has it, or
    ``VARIATION/EPISODE/SHOT`` one of them)."""
    if not patterns:
        return
    chosen = select_shots(setup.manifest, tuple(p.partition("#")[0] for p in patterns))
    takes = [p for p in patterns if "#" in p]  # ``episode/shot#k``: only that take (retake)
    shots = [take for shot in chosen for take in shot.all_takes()
             if (setup.episode is None or take.episode == setup.episode)
             and (not takes or _named(shot, take, takes))]
    # the cast they use comes first, in the same plan and consent (cached ones cost nothing)
    setup.shots = [*(t for t in needed_cast(setup.manifest, shots) if t not in shots), *shots]
    setup.chosen = {state_key(shot) for shot in chosen}


def choose_boards(setup: RunSetup) -> None:
    """``render SERIES boards``: the boards (of ``boards/EP``; with shots named, those and those
    the named shots use) and the cast they use, nothing else: no video is sent, no episode stitched."""
    boards = board_takes(setup.manifest, setup.episode)
    if setup.chosen is not None:
        named = {t.hash for t in setup.shots} | {h for t in setup.shots for h in t.needs.values()}
        boards = [take for take in boards if take.hash in named]
    if not boards:
        raise StoryboardError("no board to render (a series makes a board for each shot once it "
                              "has a boards: block; without one, `render SERIES` renders the "
                              "videos)")
    setup.shots = [*(t for t in needed_cast(setup.manifest, boards) if t not in boards), *boards]
    setup.chosen = boards_of(boards)


def board_takes(manifest: Manifest, episode: str | None) -> list[CompiledShot]:
    """Every take of every board (of ``episode``'s shots), in order: what ``render SERIES boards``
    renders."""
    return [take for board in manifest.cast if is_board(board.shot_id)
            and episode in (None, board.name.partition("/")[0]) for take in board.all_takes()]


def boards_of(takes: Iterable[CompiledShot]) -> set[str]:
    """The lock keys of the boards among ``takes`` (what a ``--boards`` run has chosen)."""
    return {state_key(take) for take in takes if is_board(take.shot_id)}


def _named(shot: CompiledShot, take: CompiledShot, patterns: list[str]) -> bool:
    """Whether ``--shot EPISODE/SHOT#K`` names this take of ``shot``."""
    names = [name[:len(name) - len(shot.id)] + take.id for name in shot_names(shot)]
    return any(fnmatch.fnmatchcase(name, pattern) for name in names for pattern in patterns)


def make_provider(manifest: Manifest, name: str | None = None, *, draft: bool = False
                  ) -> Provider:
    """The provider to render with: ``--provider`` first, then the series' ``provider.name``;
    with the series' settings only if its ``provider:`` block names that provider."""
    chosen = provider_name(manifest, name)
    return make(chosen, manifest.settings_for(chosen), manifest.root, draft=draft)


def select(manifest: Manifest, episode: str | None) -> list[CompiledShot]:
    """Every take of the ``episode``'s shots (with the cast assets they use first), or of every
    shot (extra takes included)."""
    if episode is None:
        return manifest.takes()
    chosen = [e for e in manifest.episodes if e.id == episode]
    if not chosen:
        ids = ", ".join(e.id for e in manifest.episodes)
        raise StoryboardError(f"no episode {episode!r} in this series; expected one of: {ids}")
    takes = [take for shot in chosen[0].shots for take in shot.all_takes()]
    return [*needed_cast(manifest, takes), *takes]


def needed_cast(manifest: Manifest, shots: list[CompiledShot]) -> list[CompiledShot]:
    """The takes of the cast assets ``shots`` use (and the voices their lines use), in order."""
    hashes = {h for shot in shots for h in shot.needs.values()}
    lines = [t for a in manifest.cast for t in a.all_takes() if t.hash in hashes and t.needs]
    hashes |= {h for line in lines for h in line.needs.values()}
    return [t for a in manifest.cast for t in a.all_takes() if t.hash in hashes]


# Input video measured for the plan: reference videos and a video to edit (a clip to continue is
# assumed at its model's cap).
MEASURED_VIDEO = ("reference_video", "source_video")


def reference_seconds(manifest: Manifest) -> Seconds:
    """Seconds of input video a shot sends (billed up to a cap), from the media fact cache."""
    cache = media.MediaCache(manifest.root / ".storyboard" / "media.json")

    def seconds(shot: CompiledShot) -> float | None:
        total = 0.0
        for item in shot.request.media:
            if item.role not in MEASURED_VIDEO:
                continue
            if item.ref is None or item.ref.path is None:
                return None  # a URL: unknown length
            total += cache.facts(item.ref.path).seconds
        return total
    return seconds


def open_store(manifest: Manifest, provider: Provider, *, offline: bool = False
               ) -> StoreLink | None:
    """The run's link to the shared store (``STORYBOARD_STORE`` or ``store:``), if any."""
    settings = store_settings(manifest.store, manifest.root)
    if settings is None or offline:
        return None
    return StoreLink(RenderStore(settings), provider.cache_key, root=manifest.root)


def _open_ledgers(manifest: Manifest, provider: Provider) -> tuple[Ledger | None, bool, str]:
    team = open_ledger(manifest)  # why it cannot be opened: ``RunSetup.ledger`` keeps it
    if team is not None:
        return team, True, ""
    return (default_ledger() if provider.traits.paid else None), False, ""


def open_ledger(manifest: Manifest) -> Ledger | None:
    """The team ledger (``STORYBOARD_LEDGER`` or ``ledger:``), or None for the per-user one."""
    settings = ledger_settings(manifest.ledger)
    if settings is None:
        return None
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise MissingExtra(f"the PostgreSQL ledger ({settings.origin})", "ledger-pg",
                           exc.name) from exc
    return PgLedger(settings)


def run_options(manifest: Manifest, concurrency: int | None, provider: Provider) -> RunOptions:
    """The runner's options, as ``storyboard config`` resolves them (``runner_settings``)."""
    raw = {row.name: row.raw for row in runner_settings(manifest, concurrency, provider.name)}
    options = RunOptions(concurrency=int(raw["concurrency"]),
                         submit_rate=float(raw["submit_rate"]),
                         poll_schedule=tuple(float(x) for x in raw["poll"]),
                         max_wait=float(raw["max_wait"]),
                         max_download_mb=raw["max_download_mb"])
    limits = provider.account_limits
    if limits is None:
        return options
    return replace(options, account_in_flight=limits.in_flight,  # kept across a team's machines
                   account_submit_rate=limits.submit_rate, account_query_rate=limits.query_rate,
                   account_in_flight_models=limits.models)


def ensure_writable(folder: Path) -> None:
    """Create the output folder and prove it takes files, or say why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".storyboard-probe-"):
            pass
    except OSError as exc:
        raise OutputNotWritable(f"cannot write episodes to {folder}: "
                                f"{exc.strerror or exc}") from exc
