"""Compiled episodes into Jianying (剪映) and CapCut drafts: a folder the editor opens.

One draft per episode, ``<out>/<episode>-<format>/``, written with pyJianYingDraft (the
``jianying`` extra, imported only here, when a draft is written):

- ``draft_content.json``, the main file as pyJianYingDraft writes it (``DraftFolder.create_draft``,
  ``ScriptFile.save``) and reads it back (``load_template``), and as the Windows editors read it;
  the same bytes as ``draft_info.json``, the name the macOS editors give it; and
  ``draft_meta_info.json``;
- the header (``platform``, ``last_modified_platform``) per target (``TARGETS``): Jianying's is
  the library's own (``lv``, Jianying 5.9.0, which the library is tested on with 10.8 too);
  CapCut's names CapCut (``cc``), so CapCut does not read the draft as another app's;
- ``materials/``: the rendered clips and the music bed, linked (or copied) into the draft and
  named by absolute paths, as the library writes them (``local_materials``: ``os.path.abspath``)
  and the editors read them: write the draft where the editor will open it (``-o``); a moved
  draft asks to relink its media.

Tracks: ``video`` the cards and shots at their cut points (each clip carries its own sound, the
dialogue, as the editor keeps it), ``music`` the bed (looped as the stitcher loops it, at its
volume, faded out at the end), ``subtitles`` the episode's cues as text. Times are the
stitcher's clock (``storyboard.stitch.series.cut``) in microseconds, frame-exact; a transition is
centred on its cut and plays the clips' handles, as in the OTIO export.

The library names every object with ``uuid4``: while a draft is built, its modules see ids drawn
from the episode's id instead, so the same episode writes the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from storyboard.review.editors import ExportError, ExportExtraMissing, ExportResult, visible
from storyboard.review.steps import step
from storyboard.stitch import Clip
from storyboard.stitch.series.cut import Cut
from storyboard.stitch.series.episodes import cues_for, stitch_options
from storyboard.stitch.subtitles import TimedCue, episode_cues

MAIN_FILE = "draft_content.json"  # pyJianYingDraft's, and the Windows editors'
MAC_FILE = "draft_info.json"  # the macOS editors' name for the same file
MICRO = 1_000_000


@dataclass(frozen=True)
class Target:
    """What one editor reads: the header its drafts carry (None: the library's own) and the
    versions the draft is known to open in."""

    platform: dict[str, Any] | None
    editors: str


TARGETS: dict[str, Target] = {
    "jianying": Target(None, "Jianying Pro 5.9 to 10.8 (pyJianYingDraft 0.3.1's tested versions)"),
    "capcut": Target({"app_id": 359289, "app_source": "cc", "app_version": "6.5.0",
                      "os": "windows"},
                     "CapCut desktop whose drafts are plain JSON (pyCapCut's targets)"),
}

# Our transitions -> the editor's (names in pyJianYingDraft's TransitionType).
TRANSITIONS: dict[str, str] = {
    "crossfade": "叠化", "dissolve": "叠化", "fade": "闪黑",
    "wipeleft": "向左擦除", "wiperight": "向右擦除", "wipeup": "向上擦除", "wipedown": "向下擦除",
    "slideleft": "向左", "slideright": "向右", "slideup": "向上", "slidedown": "向下",
}

LOSSES: dict[str, tuple[str, ...]] = {
    "jianying": (),
    "capcut": ("transitions use Jianying's effect ids: CapCut may show them as missing",),
}
# Said only when an episode has a music bed.
UNDUCKED = ("the music bed is not ducked under dialogue in the draft (the stitched episode is): "
            "set its volume in the editor")

_LOCK = threading.Lock()


def library() -> Any:
    """pyJianYingDraft, or an error naming the extra that installs it."""
    try:
        import pyJianYingDraft
    except ImportError as exc:
        raise ExportExtraMissing("storyboard export --format jianying|capcut", "jianying",
                                 exc.name) from exc
    return pyJianYingDraft


class _Ids:
    """Stands in for the ``uuid`` module inside pyJianYingDraft: ids counted from a seed."""

    def __init__(self, seed: str) -> None:
        self.seed, self.count = seed, 0

    def uuid4(self) -> uuid.UUID:
        self.count += 1
        digest = hashlib.sha256(f"{self.seed}/{self.count}".encode()).digest()
        return uuid.UUID(bytes=digest[:16], version=4)


@contextmanager
def _seeded(seed: str) -> Iterator[_Ids]:
    """While open, every pyJianYingDraft module draws its ids from ``seed``."""
    ids = _Ids(seed)
    with _LOCK:
        modules = [m for name, m in list(sys.modules.items())
                   if name.startswith("pyJianYingDraft") and getattr(m, "uuid", None) is uuid]
        for module in modules:
            module.uuid = ids  # type: ignore[attr-defined]
        try:
            yield ids
        finally:
            for module in modules:
                module.uuid = uuid  # type: ignore[attr-defined]


def micro(frame: int, fps: Fraction) -> int:
    """Episode frame ``frame``'s time in microseconds (the drafts' unit)."""
    return round(frame * MICRO / fps)


@dataclass
class _Draft:
    """One episode's cut into a draft folder."""

    jy: Any
    cut: Cut
    folder: Path
    warnings: list[str]

    def material(self, source: Path, kind: str, name: str) -> Any:
        """``source`` linked into ``materials/`` as ``name`` and loaded (the library names it by
        its absolute path)."""
        file = name.replace(" ", "-") + source.suffix.lower()
        _link(source, self.folder / "materials" / file)
        return getattr(self.jy, kind)(str(self.folder / "materials" / file), material_name=name)

    def span(self, start: int, frames: int) -> Any:
        first = micro(start, self.cut.fps)
        return self.jy.Timerange(first, micro(start + frames, self.cut.fps) - first)

    def video(self, script: Any) -> None:
        """The cards and shots at their cut points; each transition set on the segment before it
        (as the editor keeps it), before that segment is added."""
        script.append_track(self.jy.TrackSpec(self.jy.TrackType.video, "video"))
        segments: list[tuple[int, Any]] = []
        at = 0
        for index, item in enumerate(self.cut.items):
            source, frames = visible(self.cut, index)
            if segments and segments[-1][0] == index - 1:
                self.transition(segments[-1][1], index)
            if item.path is None:
                self.warnings.append(f"{self.cut.episode.id}/{item.name} is not rendered yet: "
                                     "its place in the draft is empty (run `storyboard render`)")
            else:
                clip = self.material(item.path, "VideoMaterial", f"{index + 1:02d} {item.name}")
                segments.append((index, self.jy.VideoSegment(
                    clip, self.span(at, frames), source_timerange=self.span(source, frames))))
            at += frames
        for _, segment in segments:
            script.add_segment(segment, "video")

    def transition(self, segment: Any, index: int) -> None:
        """The transition into item ``index``, set on the segment before it (as the editor does)."""
        kind, overlap = self.cut.timeline.kinds[index], self.cut.timeline.overlaps[index]
        if overlap == 0 or kind not in TRANSITIONS:
            return
        segment.add_transition(self.jy.TransitionType[TRANSITIONS[kind]],
                               duration=micro(overlap, self.cut.fps))

    def music(self, script: Any) -> None:
        options = stitch_options(self.cut.episode.settings)
        if _bed(self.cut) is None or options.music is None:
            return
        bed = self.material(options.music.path, "AudioMaterial", f"music {options.music.path.stem}")
        script.append_track(self.jy.TrackSpec(self.jy.TrackType.audio, "music"))
        total, done, segments = micro(self.cut.timeline.total, self.cut.fps), 0, []
        while done < total:  # looped, as the stitcher loops it, and trimmed to the episode
            length = min(bed.duration, total - done)
            segments.append(self.jy.AudioSegment(bed, self.jy.Timerange(done, length),
                                                 volume=10 ** (options.music.volume_db / 20)))
            done += length
        if segments and options.music.fade_out > 0:  # set before it is added, as a transition
            last = segments[-1]
            last.add_fade(0, min(last.duration, round(options.music.fade_out * MICRO)))
        for segment in segments:
            script.add_segment(segment, "music")

    def subtitles(self, script: Any) -> None:
        cues = cut_cues(self.cut)
        if not cues:
            return
        script.append_track(self.jy.TrackSpec(self.jy.TrackType.text, "subtitles"))
        style = self.jy.TextStyle(size=5, align=1, auto_wrapping=True)
        place = self.jy.ClipSettings(transform_y=-0.8)  # low on the picture, as imported SRTs sit
        for cue in cues:
            start = round(cue.start * MICRO)
            span = self.jy.Timerange(start, round(cue.end * MICRO) - start)
            script.add_segment(self.jy.TextSegment(cue.text, span, style=style,
                                                   clip_settings=place), "subtitles")


def cut_cues(cut: Cut) -> list[TimedCue]:
    """The episode's subtitles on the cut's clock (what the stitcher writes as SRT)."""
    shots = {shot.id: index for index, shot in enumerate(cut.episode.shots)}
    clips = [Clip(item.path or Path(item.name), item.transition,
                  tuple(cues_for(cut.episode, shots[item.name])) if item.kind == "shot" else ())
             for item in cut.items]
    starts = [cut.timeline.seconds(s) for s in cut.timeline.starts]
    lengths = [cut.timeline.seconds(f) for f in cut.timeline.frames]
    return episode_cues(clips, starts, lengths)


def _link(source: Path, target: Path) -> None:
    """``target`` is ``source``'s bytes: a hard link where the disk allows, else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _size(cut: Cut) -> tuple[int, int]:
    """The canvas: the first rendered clip's size (else 1280x720, the model's 720P)."""
    for item in cut.items:
        if item.path is not None:
            from storyboard.media import ffmpeg
            info = ffmpeg.probe(item.path)
            if info.video is not None:
                return info.video.width, info.video.height
    return 1280, 720


def _bed(cut: Cut) -> Path | None:
    """The music bed of the cut's episode, when it has one that is there."""
    music = stitch_options(cut.episode.settings).music
    return music.path if music is not None and music.path.is_file() else None


def write_drafts(cuts: list[Cut], format_name: str, folder: Path) -> ExportResult:
    """Each cut as a Jianying/CapCut draft folder, ``<folder>/<episode>-<format>/``."""
    music = any(_bed(cut) is not None for cut in cuts)
    result = ExportResult(warnings=[*LOSSES[format_name], *([UNDUCKED] if music else [])])
    for cut in cuts:
        target = folder / f"{cut.episode.id}-{format_name}"
        step(f"writing {target}")
        try:
            result.warnings += write_draft(cut, target, format_name)
        except OSError as exc:
            raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
        except (ValueError, TypeError, NameError) as exc:  # the library's own refusals
            raise ExportError(f"{cut.episode.id}: the {format_name} draft could not be "
                              f"written: {exc}") from exc
        result.files.append(target)
        result.durations[cut.episode.id] = cut.duration
        result.rates[cut.episode.id] = float(cut.fps)
    return result


def write_draft(cut: Cut, folder: Path, format_name: str) -> list[str]:
    """Write ``cut`` as a draft in ``folder`` (replaced if there); returns its warnings."""
    jy = library()
    _clear(folder)
    warnings: list[str] = []
    with _seeded(f"{format_name}/{cut.episode.id}") as ids:
        width, height = _size(cut)
        script = jy.ScriptFile(width, height, max(1, round(cut.fps)), True)
        draft = _Draft(jy, cut, folder, warnings)
        draft.video(script)
        draft.music(script)
        draft.subtitles(script)
        draft_id = str(ids.uuid4()).upper()
        script.content["id"] = draft_id
        header = TARGETS[format_name].platform
        if header is not None:
            script.content["platform"] = script.content["last_modified_platform"] = header
        text = script.dumps()
    for name in (MAIN_FILE, MAC_FILE):
        (folder / name).write_text(text, "utf-8")
    (folder / "draft_meta_info.json").write_text(_meta(jy, folder.name, draft_id, script.duration),
                                                 "utf-8")
    return warnings


def _clear(folder: Path) -> None:
    """An empty ``folder``: a draft written before is replaced; anything else is left alone."""
    if folder.is_symlink() or (folder.exists() and not (folder / "draft_meta_info.json").is_file()):
        raise ExportError(f"{folder} is there and is not a draft storyboard wrote: "
                          "move it away or choose another -o")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def _meta(jy: Any, name: str, draft_id: str, duration: int) -> str:
    """The draft's meta file: the library's template with this draft's id, name and length."""
    from importlib.resources import files
    template = files(jy.__name__).joinpath("assets", "draft_meta_info.json").read_text("utf-8")
    meta = json.loads(template)
    meta.update({"draft_id": draft_id, "draft_name": name, "tm_duration": duration})
    return json.dumps(meta, ensure_ascii=False, indent=4)
