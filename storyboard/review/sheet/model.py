"""A compiled series, its plan, lock file and problems into the review sheet's plain data.

Everything the page shows is gathered here into small frozen dataclasses, in order, with no HTML
in them: the template (``templates/sheet.html.j2``) only lays them out and escapes them. Times come
from the stitcher's own timeline (``storyboard.stitch.series.cut``), so every timecode is on the episode clock
with cards and transitions counted. Nothing here depends on when or where it runs (no clock, no
absolute path), so the same inputs give the same page.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from storyboard.language.request import (
    INPUT_VIDEO_ROLES,
    CompiledShot,
    Manifest,
    MediaItem,
)
from storyboard.review.notes import Note
from storyboard.review.progress import money
from storyboard.review.sheet.findings import Strip
from storyboard.review.sheet.problems import Placed
from storyboard.review.sheet.thumbs import Still, Thumbs
from storyboard.review.sheet.versions import EpisodeVersion, VersionPlace
from storyboard.run.plans import Plan, ShotPlan
from storyboard.run.state.lock.lockfile import LockEntry, take_key
from storyboard.stitch.series.cut import Cut, timecode

LABEL = re.compile(r"\b(?:Image|Video) \d+\b")


@dataclass(frozen=True)
class Segment:
    """A piece of a prompt: plain text, or a label tied to its reference's anchor."""

    text: str
    anchor: str = ""
    character: str = ""


@dataclass(frozen=True)
class Reference:
    label: str
    character: str
    role: str
    where: str  # series-relative path, or the URL
    anchor: str
    still: Still | None = None
    voice: str = ""  # link to the voice clip, relative to the sheet
    voice_name: str = ""


@dataclass(frozen=True)
class Line:
    speaker: str
    label: str
    text: str
    window: str  # "3-10s" in the shot


@dataclass(frozen=True)
class Take:
    """One take of a shot on its panel: a still, whether it is used, and how to pick it."""

    number: int
    still: Still | None
    marks: str  # "picked", "picked, approved", "" (used: the one the stitch takes)
    used: bool
    command: str  # the command that picks it
    audio: str = ""  # a voice's take: link to its clip, relative to the sheet ("" when not made)
    made: bool = True  # a cast take not made yet shows "not made"
    full: str = ""  # an image take: link to its file at full size (the studio opens it large)
    findings: tuple[str, ...] = ()  # what measuring it found ("cut at 2.00 s (score 0.62)")


@dataclass(frozen=True)
class Asset:
    """One generated cast asset on the Cast section: an image (character, place, prop) or a
    designed voice, with every take side by side."""

    id: str  # "cast/mia", "voices/mia-voice"
    kind: str  # "image" | "voice"
    name: str
    anchor: str
    subject: str  # character | place | prop (an image), "" for a voice
    prompt: str  # the image's words or the voice's description
    sample: str  # a voice's sample text
    estimated: str
    status: str = ""
    reasons: tuple[str, ...] = ()
    take: int = 1  # the take in use (the picked one, else 1)
    takes: tuple[Take, ...] = ()
    approve: str = ""  # a board's: the command that approves its picked take ("" once it is)


@dataclass(frozen=True)
class Panel:
    kind: str  # "shot" | "title_card" | "end_card"
    number: int  # 1-based among the episode's shots (0 for a card)
    id: str
    anchor: str
    tc_in: str
    tc_out: str
    seconds: float
    stills: tuple[Still, ...] = ()
    stills_from: str = ""  # "render" | "references" | ""
    prompt: tuple[Segment, ...] = ()
    negative_prompt: str = ""
    parameters: str = ""
    references: tuple[Reference, ...] = ()
    lines: tuple[Line, ...] = ()
    transition: str = ""
    first_frame: str = ""
    status: str = ""
    reasons: tuple[str, ...] = ()
    provider: str = ""
    estimated: str = ""
    billed: str = ""
    hash: str = ""
    task_id: str = ""
    problems: tuple[str, ...] = ()
    card_text: str = ""
    card_color: str = ""
    card_text_color: str = ""
    shared: str = ""  # in a matrix: "shared with N variations" (the same hash), else ""
    shared_by: str = ""  # the other variations' names
    start: float = 0.0  # seconds on the episode clock (the studio seeks the player there)
    notes: tuple[str, ...] = ()  # review notes: "author, time (take n): text"
    take: int = 1  # the take the episode uses
    takes: tuple[Take, ...] = ()  # every take, side by side (empty for a shot of one take)
    findings: tuple[Strip, ...] = ()  # what measuring the used take found, with frames about it
    failure: str = ""  # its last attempt failed: where, whether billed, what was flagged
    board: Asset | None = None  # its board (``boards/EP/SHOT``), every take beside its own


@dataclass(frozen=True)
class Episode:
    id: str
    title: str
    anchor: str
    runtime: str
    seconds: float
    estimated: str
    spent: str
    video: str  # link to the stitched episode, relative to the sheet ("" when not stitched)
    panels: tuple[Panel, ...]
    problems: tuple[str, ...] = ()
    poster: Still | None = None  # the player's still before it plays (None when not stitched)
    boards_to_approve: int = 0  # its boards made and not approved yet (one command approves all)
    approve_boards: str = ""  # the command that approves them ("" when none waits)
    versions: tuple[EpisodeVersion, ...] = ()  # its versions in other languages, with their fit
    planned: str = ""  # the studio's: plan's cost of what it still makes (then ``spent``: journal's)


@dataclass(frozen=True)
class Sheet:
    title: str
    name: str
    provider: str
    runtime: str
    estimated: str
    spent: str
    episodes: tuple[Episode, ...]
    problems: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    variations: tuple[Section, ...] = ()  # a matrix: one section per variation (episodes empty)
    distinct: int = 0  # a matrix: distinct shots after sharing
    to_render: str = ""  # a matrix: the one plan's total (what rendering it all would cost now)
    cast: tuple[Asset, ...] = ()  # generated cast images and designed voices, before the episodes
    planned: str = ""  # the studio's: plan's total (then ``spent`` is plan's "spent in all")
    planned_on: str = ""  # the provider ``planned`` is on


@dataclass(frozen=True)
class Section:
    """One variation of a matrix: its name, its axes' values, its episodes and problems."""

    name: str
    anchor: str
    vars: tuple[tuple[str, str], ...]
    runtime: str
    estimated: str
    spent: str
    episodes: tuple[Episode, ...]
    problems: tuple[str, ...] = ()


@dataclass
class Context:
    """What every panel reads: the series, the plan, the lock, the stills, where the page goes."""

    manifest: Manifest
    plan: Plan
    lock: dict[str, LockEntry]
    estimate: Callable[[CompiledShot], float]
    thumbs: Thumbs
    sheet_dir: Path
    problems: Placed
    prefix: str = ""  # a matrix: the variation's name, so every anchor on the page is unique
    users: dict[str, tuple[str, ...]] = field(default_factory=dict)  # hash -> its variations
    variation: str = ""
    notes: dict[str, list[Note]] = field(default_factory=dict)  # "ep01/ballad" -> its notes
    takes: Callable[[CompiledShot, Cut], tuple[Take, ...]] = lambda shot, cut: ()
    strips: Callable[[CompiledShot], tuple[Strip, ...]] = lambda shot: ()  # a take's findings
    failures: dict[str, str] = field(default_factory=dict)  # shot key -> its failure, in words
    resolved: dict[Path, Path] = field(default_factory=dict, repr=False)  # see ``real``
    assets: dict[str, tuple[int, Path]] = field(default_factory=dict)  # id -> picked take, file
    boards: dict[str, Asset] = field(default_factory=dict)  # ``boards/EP/SHOT`` -> its view
    # the studio's links to files (``/file/...``); None: relative to ``sheet_dir``
    links: Callable[[Path], str] | None = None
    made_by: Callable[[str], str] | None = None  # who made a shown take (by hash), else the plan's
    shown_by: str = ""  # who made the takes shown (the header's words), else the plan's provider
    # where each language's version of its episodes is (a matrix base's: ``versions.base_places``);
    # None: the series' own, ``languages/<lang>/`` and ``<lang>/`` beside its episodes
    versions: tuple[VersionPlace, ...] | None = None

    def anchor(self, *parts: str) -> str:
        return anchor(self.prefix, *parts) if self.prefix else anchor(*parts)

    def shared(self, shot: CompiledShot) -> tuple[str, str]:
        """("shared with N variations", their names) when other variations use the same shot."""
        others = [name for name in self.users.get(shot.hash, ()) if name != self.variation]
        if not others:
            return "", ""
        return f"shared with {len(others)} variation{'s' if len(others) > 1 else ''}", \
            ", ".join(others)

    @property
    def currency(self) -> str:
        return self.plan.currency

    def link(self, target: Path) -> str:
        """A relative URL to ``target``: its path percent-encoded (``#``, ``?``, ``%``, spaces),
        then HTML-escaped by the template (or the studio's own link, ``links``)."""
        if self.links is not None:
            return self.links(self.real(target))
        return quote(Path(os.path.relpath(self.real(target), self.real(self.sheet_dir))).as_posix())

    def where(self, path: Path) -> str:
        try:
            return self.real(path).relative_to(self.real(self.manifest.root)).as_posix()
        except ValueError:
            return path.name

    def real(self, path: Path) -> Path:
        """``path`` resolved, once per page (every shot names the same few characters' files)."""
        found = self.resolved.get(path)
        if found is None:
            found = self.resolved[path] = path.resolve()
        return found


def anchor(*parts: str) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9_]+", "_", p) for p in parts)


def segments(prompt: str, refs: dict[str, Reference]) -> tuple[Segment, ...]:
    """The prompt cut at each label of a reference of this shot ("Image 2" -> mia)."""
    out: list[Segment] = []
    last = 0
    for match in LABEL.finditer(prompt):
        ref = refs.get(match.group(0))
        if ref is None:
            continue
        out += [Segment(prompt[last:match.start()])] if match.start() > last else []
        out.append(Segment(match.group(0), ref.anchor, ref.character))
        last = match.end()
    return (*out, Segment(prompt[last:])) if last < len(prompt) else tuple(out)


def reference(ctx: Context, item: MediaItem, owner: str) -> Reference:
    """One media item's panel: a still of an image or video; a sound (a voice as an item of its
    own, a driving audio) is its own voice link."""
    label = item.label or item.role.replace("_", " ")  # "first frame", "driving audio"
    still = None
    sound = item.role in ("reference_audio", "driving_audio")
    if item.ref is not None and item.ref.path is not None and item.ref.path.is_file() and \
            not sound:
        path = item.ref.path
        still = (ctx.thumbs.video_start(path, label)
                 if item.role in INPUT_VIDEO_ROLES else ctx.thumbs.image(path, label))
    made = ctx.assets.get(item.ref.asset or "") if item.ref is not None else None
    if made is not None and not sound:  # a generated asset: its picked take's image
        still = ctx.thumbs.image(made[1], label)
    own = item.ref if sound else item.voice
    voice = own.path if own is not None else None
    if own is not None and own.asset is not None and own.asset in ctx.assets:
        voice = ctx.assets[own.asset][1]
    where = ctx.where(item.ref.path) if item.ref and item.ref.path else str(item.ref or "")
    if item.ref is not None and item.ref.asset is not None:
        where = f"{item.ref.asset} (take {made[0]})" if made else f"{item.ref.asset} (not made)"
    return Reference(label, item.character or "", item.role, where, f"{owner}-{anchor(label)}", still,
                     ctx.link(voice) if voice is not None else "",
                     (own.asset if own is not None and own.asset else ctx.where(voice))
                 if voice is not None else "")


def lines_of(shot: CompiledShot) -> tuple[Line, ...]:
    return tuple(Line(ln.speaker, ln.label, ln.text, f"{ln.start:g}-{ln.end:g}s")
                 for scene in shot.request.scenes for ln in scene.lines)


def first_frame(shot: CompiledShot, ctx: Context) -> str:
    item = shot.request.first_frame
    if item is None:
        return ""
    if item.from_shot:
        return f"the last frame of shot {item.from_shot}"
    return ctx.where(item.ref.path) if item.ref and item.ref.path else str(item.ref)


def transition(cut: Cut, index: int) -> str:
    """How item ``index`` joins the one before it, as the stitcher lays it out."""
    timeline = cut.timeline
    if timeline.kinds[index] == "cut" or timeline.overlaps[index] == 0:
        return "cut"
    return f"{timeline.kinds[index]} {cut.items[index].transition.duration:g} s"


def parameters(shot: CompiledShot) -> str:
    r = shot.request
    seed = "" if r.seed is None else f", seed {r.seed}"
    return (f"{r.resolution} {r.ratio}, {r.duration} s, prompt_extend {str(r.prompt_extend).lower()}"
            f", watermark {str(r.watermark).lower()}{seed}")


def plan_words(planned: ShotPlan | None) -> tuple[str, tuple[str, ...]]:
    if planned is None:
        return "", ()
    reasons = [str(change) for change in planned.changes]
    if planned.status == "waits":  # the gate: its board is not approved (the command in note)
        reasons.append(planned.note)
    elif planned.waits_on in planned.waits_for:
        reasons.append(f"waits for these to be made first: {', '.join(planned.waits_for)}")
    elif planned.waits_on and planned.note:  # a voice measured too short: the note says why
        reasons.append(planned.note)
    elif planned.waits_on:
        reasons.append(f"waits for shot {planned.waits_on}'s last frame")
    if planned.same_as:
        reasons.append(f"same request as {planned.same_as}: rendered once for both")
    return planned.status, tuple(reasons)


def billed(entry: LockEntry | None, shot: CompiledShot) -> str:
    if not entry:
        return ""
    amount = money(float(entry.get("cost") or 0.0), str(entry.get("currency") or ""))
    seconds = f"{float(entry.get('billed_seconds') or 0.0):g} s billed"
    stale = "" if entry.get("hash") == shot.hash else " (an earlier version of this shot)"
    return f"{amount}, {seconds}{stale}"


def task_id(entry: LockEntry | None, shot: CompiledShot) -> str:
    """The task that rendered this version of the shot (none for an earlier version)."""
    if not entry or entry.get("hash") != shot.hash:
        return ""
    return str(entry.get("task_id") or "")


def stills_for(ctx: Context, cut: Cut, index: int,
               refs: Sequence[Reference]) -> tuple[tuple[Still, ...], str]:
    item = cut.items[index]
    if item.path is not None:
        return tuple(ctx.thumbs.frames(item.path, item.length, cut.fps)), "render"
    return tuple(r.still for r in refs if r.still is not None), "references"


def with_dependency(ctx: Context, cut: Cut, ref: Reference, from_shot: str | None) -> Reference:
    """A first frame taken from another shot shows that shot's last frame, once it is rendered."""
    found = [i for i in cut.items if i.shot is not None and i.shot.id == from_shot]
    if ref.still is not None or not found or found[0].path is None:
        return ref
    last = ctx.thumbs.frames(found[0].path, found[0].length, cut.fps)[-1]
    return replace(ref, still=replace(last, caption=ref.label))


def shot_panel(ctx: Context, cut: Cut, index: int, number: int,
               planned: ShotPlan | None) -> Panel:
    item = cut.items[index]
    shot = item.shot
    assert shot is not None
    own = ctx.anchor(shot.episode, shot.id)
    shared, shared_by = ctx.shared(shot)
    refs = tuple(with_dependency(ctx, cut, reference(ctx, m, own), m.from_shot)
                 for m in shot.request.media)
    by_label = {r.label: r for r in refs if r.label != "first frame"}
    stills, source = stills_for(ctx, cut, index, refs)
    status, reasons = plan_words(planned)
    entry = ctx.lock.get(take_key(shot))
    start, end = cut.span(index)
    return Panel(
        "shot", number, shot.id, own, timecode(start, cut.fps), timecode(end, cut.fps),
        item.length, stills, source, prompt=segments(shot.request.prompt, by_label),
        negative_prompt=shot.request.negative_prompt or "", parameters=parameters(shot),
        references=refs, lines=lines_of(shot), transition=transition(cut, index),
        first_frame=first_frame(shot, ctx), status=status, reasons=reasons,
        provider=(ctx.made_by(shot.hash) if ctx.made_by else "") or ctx.plan.provider,
        estimated=money(ctx.estimate(shot), ctx.currency),
        billed=billed(entry, shot), hash=shot.hash[:12], task_id=task_id(entry, shot),
        problems=ctx.problems.for_shot(shot), shared=shared, shared_by=shared_by,
        start=round(float(start / cut.fps), 3),
        notes=note_lines(ctx.notes.get(f"{shot.episode}/{shot.id}", [])),
        take=shot.take, takes=ctx.takes(shot, cut),
        findings=ctx.strips(shot),
        failure=ctx.failures.get(take_key(shot), ""), board=board_of(ctx, shot))


def board_of(ctx: Context, shot: CompiledShot) -> Asset | None:
    """The view of the board ``shot`` uses (a made one: an own still shows as its first frame)."""
    ref = shot.board
    return ctx.boards.get(ref.asset) if ref is not None and ref.asset is not None else None


def note_lines(notes: list[Note]) -> tuple[str, ...]:
    return tuple(f"{n.author}, {n.time}{f' (take {n.take})' if n.take else ''}: {n.text}"
                 for n in notes)
