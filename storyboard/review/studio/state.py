"""A series folder into the studio's live state: checked on every save, drafted, its page rebuilt.

``Studio.refresh`` runs in two phases, each published as soon as it is done: ``check`` (compile what
compiles, every problem on its shot; a file that does not parse shows its error instead of the last
good state) and ``draft`` (the changed shots rendered with the ``local`` provider, never a paid one,
the draft episodes stitched, the page rebuilt). Opened on no provider, the page shows per shot the
take its episode uses wherever the lock says it was rendered, a draft only where nothing better
exists; an episode that shows a provider's take is stitched as shown (``USED``). Subscribers (the
page's event streams) get the version, the phase, the error count and each part of the page with
its tag (``page``); the page fetches the parts whose tag changed and patches itself in place.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from storyboard.animatic import cache_key as local_cache_key
from storyboard.errors import Diagnostic, ProblemsFound, StoryboardError
from storyboard.files import series_folder
from storyboard.language.compile import compile_lenient
from storyboard.language.read.load import parse
from storyboard.language.read.schemacheck import EPISODE_SCHEMA, check_schema
from storyboard.language.read.series import find_series_file, load_source
from storyboard.language.request import Manifest
from storyboard.review.progress import money
from storyboard.review.seasonstatus import counted_provider
from storyboard.review.sheet import sheet_model
from storyboard.review.sheet.thumbs import Thumbs
from storyboard.review.studio.figures import figures, with_figures
from storyboard.review.studio.page import STILLS, Page, broken, page_of, starting
from storyboard.review.studio.proposals import Lookout, aside
from storyboard.run.pipeline import plan_series, render_series
from storyboard.run.plans import Plan, after_run
from storyboard.run.setup import Callbacks, RenderFlags, make_provider
from storyboard.run.state.lock.lockfile import lock_path, read_lock
from storyboard.run.state.rendered import Rendered, episode_as_rendered
from storyboard.run.state.takes import with_retakes
from storyboard.run.state.tasks.journal import read_status
from storyboard.run.trip.model import ShotEvent
from storyboard.run.versions.stale import warnings as stale_warnings
from storyboard.stitch.join.concat import as_rate
from storyboard.stitch.join.facts import FactStore
from storyboard.stitch.series.episodes import DRAFT_DIR, EpisodeBuilder, output_dir, series_output
from storyboard.targets.kinds import has, named

Listener = Callable[[int, str], None]  # a version and its event (JSON)
CLOSED = -1  # the version a listener hears when the studio stops
IGNORED_PARTS = frozenset({".storyboard", ".git", "out", "__pycache__"})
USED = "used"  # in the draft folder: the episodes stitched from the takes shown, paid ones too


@dataclass(frozen=True)
class Shown:
    """One published version as a whole: the page a browser loads and the event that names its
    parts are always of the same version."""

    version: int
    phase: str
    errors: int
    page: Page
    event: str  # JSON: version, phase, errors, the paid lines' tag, each part's tag


@dataclass
class Snapshot:
    """What the page shows now."""

    version: int = 0
    phase: str = "starting"  # "check" | "draft" | "error"
    page: Page = field(default_factory=starting)
    problems: list[str] = field(default_factory=list)
    errors: int = 0
    paid: dict[str, dict[str, Any]] = field(default_factory=dict)  # "ep/shot" -> plan line
    figures: dict[str, Any] = field(default_factory=dict)  # plan's spent and planned (figures.py)
    checked_at: float = 0.0
    drafted_at: float = 0.0
    shown: Shown | None = None  # what the page shows now, as one (set by ``current``)

    @property
    def current(self) -> Shown:
        """The version published last, whole."""
        if self.shown is None:
            self.shown = self.publish()
        return self.shown

    def publish(self) -> Shown:
        paid = json.dumps(self.paid, sort_keys=True).encode()
        event = json.dumps({"version": self.version, "phase": self.phase, "errors": self.errors,
                            "paid": hashlib.blake2b(paid, digest_size=8).hexdigest(),
                            "parts": self.page.tags()})
        self.shown = Shown(self.version, self.phase, self.errors, self.page, event)
        return self.shown


class Studio:
    """The live state of one series: refreshed by the watcher, read by the app."""

    def __init__(self, root: Path, *, render_drafts: bool = True, author: str | None = None,
                 lookout: Lookout | None = None, provider: str | None = None) -> None:
        self.source = find_series_file(Path(root)).resolve()  # a folder with no series: refused
        self.root = self.source.parent
        # Whose takes the page shows: None, the takes the episodes use (a provider's where the
        # lock says one rendered them, else the local drafts it makes on every save); "local",
        # the drafts only; or a provider's renders (nothing is drafted then: a save is checked,
        # the page shows what was paid for).
        self.provider = provider or "local"
        self.shows_used = provider is None
        self.render_drafts = render_drafts and has(self.provider, "drafts")
        self.author = author
        self.lookout = lookout  # what a waiting breakdown left (the command hands it in)
        self.aside = ""  # its box on the page, made again on every check
        self.problems: list[Diagnostic] = []
        self.snapshot = Snapshot()
        self.manifest: Manifest | None = None
        self.listeners: list[Listener] = []
        self.lock = threading.Lock()  # one refresh at a time
        self.closed = False
        # ``<series>/out/studio``: the studio's quick drafts never replace ``render --draft``'s
        self.preview_root = self.root / "out" / "studio"
        self.draft_dir = (self.preview_root / DRAFT_DIR).resolve()

    def _outputs(self, manifest: Manifest) -> None:
        """Where this manifest's previews go (an ``output.dir`` outside the series is shown as a
        problem, not used); a link on the way is a LinkedStateFolder, before anything is written."""
        try:
            base = series_output(manifest)
        except ProblemsFound:
            base = self.root / "out"
        preview = base / "studio"
        self.draft_dir = output_dir(manifest, preview, draft=True).resolve()
        self.preview_root = preview

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener) if listener in self.listeners else None

    def close(self) -> None:
        """Tell every listener (the page's event streams) that the studio stops: they end."""
        self.closed = True
        for listener in list(self.listeners):
            listener(CLOSED, "{}")

    def refresh(self) -> None:
        """Check, publish; then draft, publish. Never raises: a failure is shown on the page."""
        with self.lock:
            try:
                manifest = self._check()
                if manifest is not None and self.snapshot.errors == 0 and \
                        (self.render_drafts or self._shows_rendered(manifest)):
                    self._draft(manifest)
            except StoryboardError as error:  # a review.yaml that does not read, say
                self._publish_broken(diagnostics(error))
            except Exception as error:  # the watcher must outlive any one save's failure
                self._publish_broken([Diagnostic(None, f"internal error: {error!r}")])

    def _check(self) -> Manifest | None:
        self.aside = aside(self.root, self.lookout)  # from the cache alone: nothing is sent
        try:
            manifest, problems = compile_lenient(load_source(self.source))
        except ProblemsFound as found:  # a file that does not parse: its error, not the old page
            self._publish_broken(found.diagnostics)
            return None
        except StoryboardError as error:
            self._publish_broken([Diagnostic(None, str(error))])
            return None
        try:
            self._outputs(manifest)
        except StoryboardError as error:  # an output folder that is a link: nothing written
            self.manifest = None
            self._publish_broken([Diagnostic(None, str(error))])
            return None
        problems = [*problems, *stale_warnings(manifest)]  # a version whose cut changed
        self.manifest, self.problems = manifest, problems
        drafting = self.render_drafts and not any(p.severity == "error" for p in problems)
        # With no error the draft's page follows at once: the check result is the bar's, and the
        # page is built once, with the new draft (and every warning) on it.
        self._publish("check", self.snapshot.page if drafting and self.snapshot.page.sheet
                      else self._page(manifest, problems), problems)
        self.snapshot.checked_at = time.monotonic()
        return manifest

    def _draft(self, manifest: Manifest) -> None:
        facts = FactStore(EpisodeBuilder(manifest, self.draft_dir, draft=True).cache_dir / "facts")
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="studio-stills") as ahead:
            def heard(event: ShotEvent) -> None:  # a new draft's stills: taken while it stitches
                if event.state == "done" and event.output is not None:
                    ahead.submit(take_stills, Thumbs.of_series(manifest.root), facts, event.output)
            try:
                planned = self._drafts(manifest, heard) if self.render_drafts else None
                if self.shows_used:
                    stitch_used(manifest, self.used_dir)
            except StoryboardError as error:
                self._publish("error", self.snapshot.page, [Diagnostic(None, f"draft: {error}")])
                return
            page = self._page(manifest, self.problems, planned)  # waits for the stills
        self._publish("draft", page, None)
        self.snapshot.drafted_at = time.monotonic()

    def _drafts(self, manifest: Manifest, heard: Callable[[ShotEvent], None]) -> Plan:
        """Draw the changed shots as local drafts and stitch the draft episodes: the draft's own
        plan, settled (the page never plans again)."""
        report = render_series(manifest, RenderFlags(
            "local", draft=True, out=self.preview_root, yes=True, preview=True),
            Callbacks(on_event=heard))
        done = {r.hash for r in report.run.shots if r.ok} if report.run else set()
        return after_run(report.plan, done)

    def _shows_rendered(self, manifest: Manifest) -> bool:
        """Whether the page may show takes a provider rendered (the lock names some)."""
        return self.shows_used and Rendered(manifest.root, read_lock(lock_path(manifest.root)),
                                            local_cache_key(True)).kept()

    @property
    def used_dir(self) -> Path:
        """Where the episodes as shown are stitched (the takes the episodes use, paid too)."""
        return self.draft_dir / USED

    def republish(self) -> None:
        """Rebuild the page after a write (a note, a pick): nothing is checked or rendered."""
        with self.lock:
            if self.manifest is None:
                return
            try:
                page = self._page(self.manifest, self.problems)
            except StoryboardError as error:
                self._publish_broken(diagnostics(error))
                return
            self._publish(self.snapshot.phase, page, None)

    def require_manifest(self) -> Manifest:
        """The series as last compiled, or an error when it does not load."""
        if self.manifest is None:
            raise StoryboardError("the series does not load: fix its problems first")
        return self.manifest

    def _page(self, manifest: Manifest, problems: list[Diagnostic],
              planned: Plan | None = None) -> Page:
        paid = paid_plan(manifest)
        self.snapshot.paid = paid_lines(manifest, paid)
        found = figures(paid, read_status(manifest.root)) if paid is not None else None
        self.snapshot.figures = found.to_dict() if found is not None else {}
        drafts = has(self.provider, "drafts")
        sheet = sheet_model(manifest, problems, sheet_dir=self.draft_dir, provider=self.provider,
                            draft=drafts, episodes_dir=self.preview_root if drafts else None,
                            planned=planned, links=self.file_link, still_links=STILLS,
                            used=self.used_dir if self.shows_used else None)
        return page_of(with_figures(sheet, found), self.aside + waiting_box(paid))

    def file_link(self, target: Path) -> str:
        """The page's link to a file (resolved): ``/file/draft/...`` inside the draft output
        (with its version: an episode stitched again is a new link, never a stale copy),
        ``/file/series/...`` inside the series, else nothing (``#``)."""
        if target.is_relative_to(self.draft_dir):
            try:
                version = f"?v={target.stat().st_mtime_ns:x}"
            except OSError:
                version = ""
            return f"/file/draft/{quote(target.relative_to(self.draft_dir).as_posix())}{version}"
        if target.is_relative_to(self.root):
            return f"/file/series/{quote(target.relative_to(self.root).as_posix())}"
        return "#"

    def _publish_broken(self, problems: list[Diagnostic]) -> None:
        self._publish("error", broken(problems, self.aside), problems)

    def _publish(self, phase: str, page: Page, problems: list[Diagnostic] | None) -> None:
        snap = self.snapshot
        snap.version, snap.phase, snap.page = snap.version + 1, phase, page
        if problems is not None:
            snap.problems = [p.format() for p in problems]
            snap.errors = sum(1 for p in problems if p.severity == "error")
        shown = snap.publish()
        for listener in list(self.listeners):
            listener(shown.version, shown.event)


def diagnostics(error: StoryboardError) -> list[Diagnostic]:
    """An error's located problems (a ProblemsFound), else the error as one problem."""
    return error.diagnostics if isinstance(error, ProblemsFound) else [Diagnostic(None, str(error))]


def warm_up() -> None:
    """Pay ahead what the first save would: the schema's validators are compiled when a document
    is first validated, and the first check read every file from the parse cache."""
    doc, _ = parse("id: warm\nshots: []\n", Path("warm-up.yaml"))
    check_schema(doc, EPISODE_SCHEMA)


def stitch_used(manifest: Manifest, folder: Path) -> None:
    """Stitch, quick as the drafts are, each episode that shows a provider's take, from the takes
    shown (``rendered.episode_as_rendered``: drafts where nothing better exists) into ``folder``
    (an episode not every shot of which has a file yet is left)."""
    lock = read_lock(lock_path(manifest.root))
    files = Rendered(manifest.root, lock, local_cache_key(True))
    if not files.kept():  # no provider's take is kept: the drafts are the episodes shown
        return
    manifest = with_retakes(manifest, lock)
    builder = EpisodeBuilder(manifest, series_folder(manifest.root, folder), draft=True,
                             preview=True)
    for episode in manifest.episodes:
        shown, done = episode_as_rendered(episode, lock.takes, files)
        if files.any_in(shown.shots) and len(done) == len(shown.shots):
            builder.build(shown, done)


def take_stills(thumbs: Thumbs, facts: FactStore, video: Path) -> None:
    """A new draft's first, middle and last frame, ahead of the page that shows them (which
    takes what this did not: a clip not recorded yet, a failure)."""
    try:
        known = facts.recorded(video)
        if known is not None and known.video.fps > 0:
            thumbs.frames(video, known.video_len, as_rate(known.video.fps))
    except StoryboardError:
        pass


def paid_plan(manifest: Manifest) -> Plan | None:
    """The paid provider's plan of the series (free to make: nothing is asked): the series'
    provider, else the one the journal's last render used (as ``status --season`` counts it);
    None when the series renders on ``local`` only, or cannot be planned now."""
    try:
        name = counted_provider(manifest, None, read_status(manifest.root))
        if has(named(manifest.provider, name), "drafts"):
            return None
        return plan_series(manifest, make_provider(manifest, name), offline=True)
    except StoryboardError:
        return None


def paid_lines(manifest: Manifest, the_plan: Plan | None) -> dict[str, dict[str, Any]]:
    """Per shot, the line of the paid provider's plan: status, cost and the exact command that
    renders it. Empty when the series renders on ``local`` only."""
    if the_plan is None:
        return {}
    return {f"{s.episode}/{s.shot}": _line(manifest, the_plan, s) for s in the_plan.shots}


def waiting_box(the_plan: Plan | None) -> str:
    """The header's line on the videos that wait for their boards (``plan``'s ``waiting on
    boards``): what they cost once approved, not in the estimate; nothing when none waits."""
    held = [s for s in the_plan.shots if s.status == "waits"] if the_plan is not None else []
    if the_plan is None or not held:
        return ""
    cost = money(the_plan.waiting_cost, the_plan.currency)
    return (f'<p class="waiting-boards">waiting on boards: about <b>{escape(cost)}</b> for '
            f"{len(held)} video(s), once their boards are approved (not in the estimate)</p>")


def _line(manifest: Manifest, the_plan: Plan, shot: Any) -> dict[str, Any]:
    command = (f"storyboard render {shlex.quote(str(manifest.root))} "
               f"{shlex.quote(str(shot.episode))} --provider {the_plan.provider} "
               f"--budget {max(shot.cost, 0.01):.2f}")
    return {"status": shot.status, "cost": round(shot.cost, 4), "currency": the_plan.currency,
            "command": command if shot.status != "cached" else ""}


def watched(path: Path, root: Path) -> bool:
    """Whether a change at ``path`` concerns the series (not its state, output or git)."""
    try:
        parts = path.resolve().relative_to(root).parts
    except ValueError:
        return False
    return not any(part in IGNORED_PARTS for part in parts) and not path.name.endswith("~")
