"""Compiled episodes into editor timelines: OpenTimelineIO, written as OTIO, FCP7 XML, FCPXML or EDL.

Each episode becomes one timeline laid out by the stitcher's own clock (``stitch.series.cut``), so a
cut timeline lasts exactly as long as the stitched episode. Tracks: ``V1`` the cards and shots,
``A1`` their own sound (same clips, same transitions), ``A2`` the music bed (looped as the stitcher
loops it). Clips point at the rendered files (the shot cache, the card cache); scenes and dialogue
lines are markers on their shot; each clip carries ``metadata["storyboard"]`` (shot id, hash,
prompt).

A transition overlaps two clips in the stitched episode. OTIO (and every editor) models it as a
cut with the transition centred on it, drawing on media past each clip's edges: so the outgoing
clip is trimmed by the part after the cut and the incoming one starts later by the part before
it, and those trimmed frames are the handles the transition plays. They always exist, because the
rendered files are whole.

The formats are declared as data (``FORMATS``): the adapter, the file suffix, which tracks it takes
and what it loses, which ``export_series`` reports as warnings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import quote

from storyboard.animatic import cache_key as local_cache_key
from storyboard.errors import one_line, plain_text
from storyboard.files import series_folder
from storyboard.language.request import CompiledShot, Manifest
from storyboard.language.variations import Variants
from storyboard.review.editors import ExportError, ExportExtraMissing, ExportResult, halves, visible
from storyboard.review.steps import step
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.takes import manifest_as_used
from storyboard.run.variations import variation_dir
from storyboard.stitch.series.cut import Cut, CutItem, episode_cut
from storyboard.stitch.series.episodes import EpisodeBuilder, output_dir
from storyboard.stitch.transitions import CUT

TRACKS = ("V1", "A1", "A2")
DISSOLVES = ("crossfade", "dissolve", "fade")


@dataclass(frozen=True)
class Format:
    adapter: str
    suffix: str
    tracks: tuple[str, ...] = TRACKS
    keeps_transitions: bool = True
    smpte_rate: bool = False  # its timecodes need a SMPTE rate (24, 25, 30, 48, 50, 60)
    states_rate: bool = True  # the file says its frame rate (an EDL does not: the reader guesses)
    losses: tuple[str, ...] = ()
    bundle: bool = False  # one file with its media inside (OTIO's otioz): media go in by path


FORMATS: dict[str, Format] = {
    "otio": Format("otio_json", ".otio"),
    "otioz": Format("otioz", ".otioz", bundle=True),
    "fcp7": Format("fcp_xml", ".xml", smpte_rate=True, losses=(
        "per-clip storyboard metadata (shot id, hash, prompt) is not written to FCP7 XML; "
        "clip names are the shot ids",
        "wipes and slides become cross dissolves")),
    "fcpxml": Format("fcpx_xml", ".fcpxml", keeps_transitions=False, smpte_rate=True, losses=(
        "the FCPXML adapter drops transitions: each becomes a cut in its middle "
        "(the episode keeps its length)",
        "per-clip storyboard metadata is not written")),
    "edl": Format("cmx_3600", ".edl", tracks=("V1",), smpte_rate=True, states_rate=False, losses=(
        "an EDL holds one video track: the shots' sound and the music bed are left out",
        "dissolves play the clips' handles (the frames past each cut, taken from the rendered "
        "files); wipes and slides become dissolves",
        "markers become LOC comments; per-clip metadata is not kept")),
}
DRAFTS = ("jianying", "capcut")  # editor drafts (storyboard.review.jianying), not OTIO
ALL_FORMATS = (*FORMATS, *DRAFTS)


def _otio() -> Any:
    try:
        import opentimelineio
    except ImportError as exc:
        raise ExportExtraMissing("storyboard export", "export", exc.name) from exc
    return opentimelineio


class _Builder:
    """One episode's cut into an OTIO timeline."""

    def __init__(self, otio: Any, cut: Cut, music: Path | None, smpte: bool = False,
                 base: Path | None = None) -> None:
        self.otio = otio
        self.base = base
        self.cut = cut
        self.scale = _smpte_scale(otio, cut.fps) if smpte else 1
        self.rate = float(cut.fps * self.scale)
        self.music = music

    def time(self, frames: int | float) -> Any:
        """``frames`` of the episode's frame rate, at the timeline's rate."""
        return self.otio.opentime.RationalTime(frames * self.scale, self.rate)

    def range(self, start: int | float, frames: int | float) -> Any:
        return self.otio.opentime.TimeRange(self.time(start), self.time(frames))

    def halves(self, index: int) -> tuple[int, int]:
        return halves(self.cut, index)

    def visible(self, index: int) -> tuple[int, int]:
        return visible(self.cut, index)

    def reference(self, item: CutItem, index: int) -> Any:
        available = self.range(0, self.cut.timeline.frames[index])
        if item.path is None:
            return self.otio.schema.MissingReference(name=one_line(item.name),
                                                     available_range=available)
        return self.otio.schema.ExternalReference(target_url=media_url(item.path, self.base),
                                                  available_range=available)

    def clip(self, index: int, with_markers: bool) -> Any:
        item = self.cut.items[index]
        start, frames = self.visible(index)
        clip = self.otio.schema.Clip(name=one_line(item.name),
                                     media_reference=self.reference(item, index),
                                     source_range=self.range(start, frames))
        clip.metadata["storyboard"] = _metadata(self.cut, item)
        if with_markers and item.shot is not None:
            for marker in self.markers(item.shot):
                clip.markers.append(marker)
        return clip

    def markers(self, shot: CompiledShot) -> list[Any]:
        colors = self.otio.schema.MarkerColor
        found = []
        for scene in shot.request.scenes:
            found.append(self.marker(f"Scene {scene.index}", scene.start, scene.end, scene.text,
                                     colors.GREEN))
            for line in scene.lines:
                found.append(self.marker(f"{line.speaker}: {line.text}", line.start, line.end,
                                         f"{line.label} says: {line.text}", colors.YELLOW))
        return found

    def marker(self, name: str, start: float, end: float, comment: str, color: str) -> Any:
        """A marker; its name on one line (a line break in a ``say:`` would start a new event in
        an EDL, a control character would end an XML timeline)."""
        first = round(start * self.cut.fps)
        frames = max(0, round(end * self.cut.fps) - first)
        return self.otio.schema.Marker(name=one_line(name), marked_range=self.range(first, frames),
                                       color=color,
                                       metadata={"storyboard": {"text": plain_text(comment)}})

    def transition(self, index: int) -> Any | None:
        kind = self.cut.timeline.kinds[index]
        if kind == CUT or self.cut.timeline.overlaps[index] == 0:
            return None
        before, after = self.halves(index)
        types = self.otio.schema.TransitionTypes
        return self.otio.schema.Transition(
            name=kind, transition_type=types.SMPTE_Dissolve if kind in DISSOLVES else types.Custom,
            in_offset=self.time(before), out_offset=self.time(after),
            metadata={"storyboard": {"type": kind, "frames": before + after}})

    def track(self, name: str, kind: Any, with_markers: bool, transitions: bool) -> Any:
        track = self.otio.schema.Track(name=name, kind=kind)
        for index in range(len(self.cut.items)):
            if transitions and (t := self.transition(index)) is not None:
                track.append(t)
            track.append(self.clip(index, with_markers))
        return track

    def music_track(self) -> Any:
        track = self.otio.schema.Track(name="A2", kind=self.otio.schema.TrackKind.Audio)
        if self.music is None:
            return track
        total = self.cut.timeline.total
        length = max(1, round(video_or_audio_length(self.music) * self.cut.fps))
        ref = self.otio.schema.ExternalReference(target_url=media_url(self.music, self.base),
                                                 available_range=self.range(0, length))
        done = 0
        while done < total:  # looped, as the stitcher loops it, and trimmed to the episode
            frames = min(length, total - done)
            clip = self.otio.schema.Clip(name=one_line(f"music {self.music.name}"),
                                         media_reference=ref, source_range=self.range(0, frames))
            clip.metadata["storyboard"] = {"kind": "music", "file": one_line(self.music.name)}
            track.append(clip)
            done += frames
        return track

    def timeline(self, fmt: Format) -> Any:
        kinds = self.otio.schema.TrackKind
        timeline = self.otio.schema.Timeline(name=self.cut.episode.id,
                                             global_start_time=self.time(0))
        timeline.metadata["storyboard"] = {"episode": self.cut.episode.id,
                                           "title": plain_text(self.cut.episode.title),
                                           "duration": self.cut.duration}
        if "V1" in fmt.tracks:
            timeline.tracks.append(self.track("V1", kinds.Video, True, fmt.keeps_transitions))
        if "A1" in fmt.tracks:
            timeline.tracks.append(self.track("A1", kinds.Audio, False, fmt.keeps_transitions))
        if "A2" in fmt.tracks and self.music is not None:
            timeline.tracks.append(self.music_track())
        return timeline


def _smpte_scale(otio: Any, fps: Fraction) -> int:
    """The smallest whole multiple of ``fps`` that is a SMPTE timecode rate (12 fps -> 2)."""
    for scale in range(1, 11):
        if otio.opentime.RationalTime.is_smpte_timecode_rate(float(fps * scale)):
            return scale
    raise ExportError(f"{float(fps):g} fps has no SMPTE timecode rate for an EDL")


def video_or_audio_length(path: Path) -> float:
    from storyboard.media import ffmpeg
    lengths = ffmpeg.stream_lengths(path)
    return lengths.get("audio") or lengths.get("video") or 0.0


def _metadata(cut: Cut, item: CutItem) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": item.kind, "episode": cut.episode.id}
    if item.shot is not None:
        data.update({"shot": item.shot.id, "hash": item.shot.hash,
                     "prompt": plain_text(item.shot.request.prompt)})
    elif item.card is not None:
        data["text"] = plain_text(str(item.card.get("text", "")))
    return data


def music_of(episode_settings: dict[str, Any]) -> Path | None:
    music = episode_settings.get("music")
    if isinstance(music, dict) and music.get("file") is not None:
        return Path(music["file"])
    return None


def episode_timeline(cut: Cut, fmt: Format = FORMATS["otio"], base: Path | None = None) -> Any:
    """The OTIO timeline of one episode's cut, shaped for ``fmt``; media paths are relative to
    ``base`` (the folder the timeline is written to), else absolute ``file:`` URLs."""
    return _Builder(_otio(), cut, music_of(cut.episode.settings), fmt.smpte_rate,
                    base).timeline(fmt)


def media_url(path: Path, base: Path | None) -> str:
    """``path`` as a URL relative to folder ``base`` (so a moved series keeps its links), or an
    absolute ``file:`` URL without a base."""
    if base is None:
        return path.resolve().as_uri()
    try:
        relative = os.path.relpath(path.resolve(), base.resolve())
    except ValueError:  # another drive (Windows): no relative path exists
        return path.resolve().as_uri()
    return quote(Path(relative).as_posix())


def export_series(manifest: Manifest, format_name: str, *, out: Path | None = None,
                  cache_key: str | None = None, draft: bool = False, episode: str | None = None,
                  warn: Callable[[str], None] | None = None, language: str | None = None
                  ) -> ExportResult:
    """Write one timeline per episode (``<out>/<episode><suffix>``); cards are rendered if needed.

    ``cache_key`` names the provider whose renders the clips point at (default: the local one);
    ``language``: the made version in that language instead (its clips, its words), written to
    ``<out>/<lang>/<episode>.<lang><suffix>`` with the language in the timeline's metadata."""
    if format_name not in ALL_FORMATS:
        raise ExportError(f"unknown format {format_name!r}; expected one of: "
                          f"{', '.join(ALL_FORMATS)}")
    _library_of(format_name)  # a missing extra is said before any work
    folder = series_folder(manifest.root, out) if out is not None else \
        output_dir(manifest, None, draft=draft)
    builder = EpisodeBuilder(manifest, output_dir(manifest, None, draft=draft), draft=draft)
    cache = OutputCache(manifest.root, cache_key or local_cache_key(draft))
    used = manifest_as_used(manifest, cache_key or local_cache_key(draft))  # picked takes
    if language is not None:
        return _export_version(manifest, format_name,
                               series_folder(manifest.root, folder / language), builder,
                               (cache_key or local_cache_key(draft), episode, language), warn)
    cuts = []
    for ep in _episodes(used, episode):
        if ep.shots:
            step(f"{ep.id}: laying out {len(ep.shots)} shot(s) and the cards")
            cuts.append(episode_cut(builder, ep, cache, render_cards=True))
    if format_name in DRAFTS:
        from storyboard.review.jianying import write_drafts
        result = write_drafts(cuts, format_name, folder)
    else:
        result = _write_timelines(cuts, format_name, folder)
    result.warnings[len(_losses(format_name)):len(_losses(format_name))] = [
        f"{ep.id} has no shots: nothing written" for ep in _episodes(used, episode) if not ep.shots]
    if warn is not None:
        for message in result.warnings:
            warn(message)
    return result


@dataclass(frozen=True)
class _Clips:
    """A version's clips by the hash of the take each shot plays (``stitch.series.cut.ShotVideos``)."""

    files: dict[str, Path]

    def path(self, shot_hash: str) -> Path:
        return self.files.get(shot_hash, Path(os.devnull) / "missing")


def _export_version(manifest: Manifest, format_name: str, folder: Path, builder: EpisodeBuilder,
                    which: tuple[str, str | None, str], warn: Callable[[str], None] | None
                    ) -> ExportResult:
    """The made version's episodes (``which``: the cache key, the episode, the language) as
    timelines or drafts in the version's own folder, each carrying its language."""
    from storyboard.run.versions import version_episodes
    cache_key, episode, language = which
    cuts = []
    for ep, done in version_episodes(manifest, language, cache_key, episode):
        step(f"{ep.id} ({language}): laying out {len(ep.shots)} shot(s) and the cards")
        clips = _Clips({s.hash: done[s.id] for s in ep.shots if s.id in done})
        cuts.append(episode_cut(builder, ep, clips, render_cards=True))
    if format_name in DRAFTS:
        from storyboard.review.jianying import write_drafts
        result = write_drafts(cuts, format_name, folder)
    else:
        result = _write_timelines(cuts, format_name, folder, language)
    if warn is not None:
        for message in result.warnings:
            warn(message)
    return result


def _library_of(format_name: str) -> Any:
    """The library that writes ``format_name`` (``ExportExtraMissing`` when it is not there)."""
    if format_name in DRAFTS:
        from storyboard.review.jianying import library
        return library()
    return _otio()


def _losses(format_name: str) -> tuple[str, ...]:
    if format_name in DRAFTS:
        from storyboard.review.jianying import LOSSES
        return LOSSES[format_name]
    return FORMATS[format_name].losses


def _write_timelines(cuts: list[Cut], format_name: str, folder: Path, language: str = ""
                     ) -> ExportResult:
    """Each cut as an OTIO timeline written by ``format_name``'s adapter (a version's named and
    marked with its ``language``)."""
    fmt = FORMATS[format_name]
    otio = _otio()
    result = ExportResult(warnings=list(fmt.losses))
    for cut in cuts:
        ep = cut.episode
        result.warnings += [f"{ep.id}/{i.name} is not rendered yet: its clip points at no file "
                            "(run `storyboard render` first)" for i in cut.items if i.path is None]
        target = folder / f"{ep.id}{f'.{language}' if language else ''}{fmt.suffix}"
        timeline = episode_timeline(cut, fmt, base=None if fmt.bundle else folder)
        if language:
            timeline.name = f"{ep.id} ({language})"
            timeline.metadata["storyboard"]["language"] = language
        if (rate := timeline.duration().rate) != float(cut.fps):
            result.warnings.append(f"{ep.id}: {float(cut.fps):g} fps has no SMPTE timecode, so "
                                   f"{target.name} counts at {rate:g} fps (each frame repeated)")
        if not fmt.states_rate:
            result.warnings.append(_rate_notice(target, rate))
        step(f"writing {target}")
        _write(otio, timeline, target, fmt)
        result.files.append(target)
        result.durations[ep.id] = cut.duration
        result.rates[ep.id] = rate
    return result


def export_variations(variants: Variants, format_name: str, *, out: Path | None = None,
                      cache_key: str | None = None, draft: bool = False,
                      episode: str | None = None,
                      warn: Callable[[str], None] | None = None) -> ExportResult:
    """Every variation of a matrix as ``export_series`` writes a series, each into its own folder:
    ``<out>/<variation>/<episode><suffix>`` (default ``<series>/out/<variation>/``, where
    ``render`` stitches it). ``durations`` are keyed ``<variation>/<episode>``."""
    result = ExportResult()
    for variant in variants.variants:
        if variant.manifest is None:
            continue
        name = variant.name or ""
        one = export_series(variant.manifest, format_name, cache_key=cache_key, draft=draft,
                            episode=episode, out=(variation_dir(variant.manifest, None)
                                                  if out is None else Path(out) / name))
        result.files += one.files
        result.durations.update({f"{name}/{k}": v for k, v in one.durations.items()})
        result.rates.update({f"{name}/{k}": v for k, v in one.rates.items()})
        losses = len(_losses(format_name))  # the format's losses, said once
        result.warnings += [w for w in one.warnings[:losses] if w not in result.warnings]
        result.warnings += [f"{name}: {w}" for w in one.warnings[losses:]]
    if warn is not None:
        for message in result.warnings:
            warn(message)
    return result


def _rate_notice(target: Path, rate: float) -> str:
    """What a reader of a file that does not record its rate must be told (readers guess 24)."""
    return (f"{target.name} counts {rate:g} frames a second, which an EDL does not record: "
            f"read it at {rate:g} fps (a {rate:g} fps sequence in an editor; OpenTimelineIO: "
            f"read_from_file(..., rate={rate:g}))")


def _episodes(manifest: Manifest, episode: str | None) -> Sequence[Any]:
    if episode is None:
        return manifest.episodes
    chosen = [e for e in manifest.episodes if e.id == episode]
    if not chosen:
        ids = ", ".join(e.id for e in manifest.episodes)
        raise ExportError(f"no episode {episode!r} in this series; expected one of: {ids}")
    return chosen


def _write(otio: Any, timeline: Any, target: Path, fmt: Format) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if fmt.bundle:
            _write_bundle(otio, timeline, target, fmt)
        else:
            otio.adapters.write_to_file(timeline, str(target), adapter_name=fmt.adapter)
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except Exception as exc:  # an adapter's own failure: name it, never a traceback
        raise ExportError(f"the {fmt.adapter} adapter could not write {target.name}: {exc}") \
            from exc


def _write_bundle(otio: Any, timeline: Any, target: Path, fmt: Format) -> None:
    """The timeline and every file it uses, zipped into ``target`` (beside it first, then moved
    over: the adapter never overwrites); a clip whose file is not rendered stays a missing one."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        policy = otio.adapters.file_bundle_utils.MediaReferencePolicy.MissingIfNotFile
        otio.adapters.write_to_file(timeline, str(partial), adapter_name=fmt.adapter,
                                    media_policy=policy)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
