"""A series folder into the studio's live state: checked on every save, drafted, its page rebuilt.

``Studio.refresh`` runs in two phases, each published as soon as it is done: ``check`` (compile what
compiles, every problem on its shot; a file that does not parse shows its error instead of the last
good state) and ``draft`` (the changed shots rendered with the ``local`` provider, never a paid one,
the draft episodes stitched, the page rebuilt). Subscribers (the page's event streams) get the
version number and the phase; the page fetches the new HTML and patches itself in place.
"""

from __future__ import annotations

import html as html_text
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic, ProblemsFound, StoryboardError
from storyboard.language.compile import compile_lenient
from storyboard.language.request import Manifest
from storyboard.language.series import find_series_file, load_source
from storyboard.review.sheet import sheet_for
from storyboard.review.sheet.thumbs import Thumbs
from storyboard.run.model import ShotEvent
from storyboard.run.pipeline import plan_series, render_series
from storyboard.run.plan import Plan, after_run
from storyboard.run.setup import make_provider
from storyboard.stitch.concat import as_rate
from storyboard.stitch.episodes import DRAFT_DIR, EpisodeBuilder, output_dir, series_output
from storyboard.stitch.facts import FactStore

Listener = Callable[[int, str], None]
CLOSED = -1  # the version a listener hears when the studio stops
IGNORED_PARTS = frozenset({".storyboard", ".git", "out", "__pycache__"})


@dataclass
class Snapshot:
    """What the page shows now."""

    version: int = 0
    phase: str = "starting"  # "check" | "draft" | "error"
    page: str = ""  # the sheet's HTML
    problems: list[str] = field(default_factory=list)
    errors: int = 0
    paid: dict[str, dict[str, Any]] = field(default_factory=dict)  # "ep/shot" -> plan line
    checked_at: float = 0.0
    drafted_at: float = 0.0


class Studio:
    """The live state of one series: refreshed by the watcher, read by the app."""

    def __init__(self, root: Path, *, render_drafts: bool = True, author: str | None = None
                 ) -> None:
        self.source = find_series_file(Path(root)).resolve()  # a folder with no series: refused
        self.root = self.source.parent
        self.render_drafts = render_drafts
        self.author = author
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
            listener(CLOSED, "closed")

    def refresh(self) -> None:
        """Check, publish; then draft, publish. Never raises: a failure is shown on the page."""
        with self.lock:
            try:
                manifest = self._check()
                if manifest is not None and self.render_drafts and self.snapshot.errors == 0:
                    self._draft(manifest)
            except StoryboardError as error:  # a review.yaml that does not read, say
                self._publish_broken(diagnostics(error))
            except Exception as error:  # the watcher must outlive any one save's failure
                self._publish("error", broken_page([Diagnostic(None, f"internal error: {error!r}")]),
                              [Diagnostic(None, f"internal error: {error!r}")])

    def _check(self) -> Manifest | None:
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
        self.manifest, self.problems = manifest, problems
        drafting = self.render_drafts and not any(p.severity == "error" for p in problems)
        # With no error the draft's page follows at once: the check result is the bar's, and the
        # page is built once, with the new draft (and every warning) on it.
        self._publish("check", self.snapshot.page if drafting and self.snapshot.page
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
                report = render_series(manifest, provider="local", draft=True, yes=True,
                                       out=self.preview_root, preview=True, on_event=heard)
            except StoryboardError as error:
                self._publish("error", self.snapshot.page, [Diagnostic(None, f"draft: {error}")])
                return
            done = {r.hash for r in report.run.shots if r.ok} if report.run else set()
            # the draft's own plan, settled: the page never plans again (waits for the stills)
            page = self._page(manifest, self.problems, after_run(report.plan, done))
        self._publish("draft", page, None)
        self.snapshot.drafted_at = time.monotonic()

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
              planned: Plan | None = None) -> str:
        self.snapshot.paid = paid_lines(manifest)
        target = self.draft_dir / "studio-sheet.html"
        result = sheet_for(manifest, problems, out=target, provider="local", draft=True,
                           episodes_dir=self.preview_root, planned=planned)
        return result.html.read_text(encoding="utf-8")

    def _publish_broken(self, problems: list[Diagnostic]) -> None:
        self._publish("error", broken_page(problems), problems)

    def _publish(self, phase: str, page: str, problems: list[Diagnostic] | None) -> None:
        snap = self.snapshot
        snap.version, snap.phase, snap.page = snap.version + 1, phase, page
        if problems is not None:
            snap.problems = [p.format() for p in problems]
            snap.errors = sum(1 for p in problems if p.severity == "error")
        for listener in list(self.listeners):
            listener(snap.version, phase)


def diagnostics(error: StoryboardError) -> list[Diagnostic]:
    """An error's located problems (a ProblemsFound), else the error as one problem."""
    return error.diagnostics if isinstance(error, ProblemsFound) else [Diagnostic(None, str(error))]


def take_stills(thumbs: Thumbs, facts: FactStore, video: Path) -> None:
    """A new draft's first, middle and last frame, ahead of the page that shows them (which
    takes what this did not: a clip not recorded yet, a failure)."""
    try:
        known = facts.recorded(video)
        if known is not None and known.video.fps > 0:
            thumbs.frames(video, known.video_len, as_rate(known.video.fps))
    except StoryboardError:
        pass


def paid_lines(manifest: Manifest) -> dict[str, dict[str, Any]]:
    """Per shot, the line of the paid provider's plan (free to make): status, cost and the exact
    command that renders it. Empty when the series renders on ``local`` only."""
    if str(manifest.provider.get("name") or "local") == "local":
        return {}
    try:
        the_plan = plan_series(manifest, make_provider(manifest), offline=True)
    except StoryboardError:
        return {}
    return {f"{s.episode}/{s.shot}": _line(manifest, the_plan, s) for s in the_plan.shots}


def _line(manifest: Manifest, the_plan: Plan, shot: Any) -> dict[str, Any]:
    command = (f"storyboard render {manifest.root} --provider {the_plan.provider} "
               f"--episode {shot.episode} --budget {max(shot.cost, 0.01):.2f}")
    return {"status": shot.status, "cost": round(shot.cost, 4), "currency": the_plan.currency,
            "command": command if shot.status != "cached" else ""}


def broken_page(problems: Iterable[Diagnostic]) -> str:
    """A page for a series that does not load: its problems, escaped."""
    items = "".join(f"<pre>{html_text.escape(p.format())}</pre>" for p in problems)
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>storyboard studio</title>"
            "</head><body><header class=\"series\"><h1>The series does not load</h1>"
            f"<div class=\"problems series-problems\">{items}</div></header><main></main></body></html>")


def watched(path: Path, root: Path) -> bool:
    """Whether a change at ``path`` concerns the series (not its state, output or git)."""
    try:
        parts = path.resolve().relative_to(root).parts
    except ValueError:
        return False
    return not any(part in IGNORED_PARTS for part in parts) and not path.name.endswith("~")
