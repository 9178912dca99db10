"""Rendered shots into episode files: title and end cards, clips, subtitle cues, music, and the
up-to-date check that re-stitches only when an input changed.

The episode's settings come from the series and episode YAML (``output``, ``music``, ``title_card``,
``end_card``); the shots' videos come from the output cache. Cards are rendered by the ``local``
provider's card renderer (same encoding as shots, so a plain episode still joins by stream copy)
and cached by what they show.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from stat import S_ISLNK
from typing import Any

from storyboard.animatic import RENDERER_VERSION, draws_captions, render_card
from storyboard.errors import ProblemsFound
from storyboard.files import series_folder, write_atomic
from storyboard.language.request import CompiledEpisode, CompiledShot, Manifest, speaker_name
from storyboard.media import ffmpeg
from storyboard.media.ffprogress import Progress, listening
from storyboard.media.probes.probe import sha256_file
from storyboard.stitch.model import Clip, Cue, Music, StitchOptions, StitchResult
from storyboard.stitch.series.delivery import delivery_of
from storyboard.stitch.series.heard import Heard, with_heard
from storyboard.stitch.stitcher import stitch
from storyboard.targets import NATIVE_SIZES

STITCH_STATE_VERSION = 2  # 2: SRT sidecars escape markup (a stitch of version 1 is made again)
DEFAULT_CARD_SECONDS = 2.0


@dataclass
class EpisodeOutput:
    id: str
    path: Path
    state: str  # "stitching" (while it runs) | "stitched" | "up to date" | "skipped"
    duration: float = 0.0
    path_taken: str = ""
    subtitles: list[Path] = field(default_factory=list)
    message: str = ""
    started: float = 0.0  # time.monotonic() when stitching began
    # while stitching: the last report of the ffmpeg run under way (its own words, how far)
    progress: Progress | None = None
    number: int = 0  # its place among the episodes the run stitches (1 on; 0: not said)
    count: int = 0  # how many episodes the run stitches


DRAFT_DIR = "draft"
DEFAULT_DIR = "out"


def output_dir(manifest: Manifest, override: Path | None, *, draft: bool = False) -> Path:
    """``-o DIR`` first (from the current folder, like any path given to a command), else the
    series' ``output.dir``, else ``out``, both inside the series folder, wherever the command
    runs from; drafts go to its ``draft/`` folder, so they never overwrite (or force
    re-stitching) finished episodes. A link on the way inside the series (a committed ``out``
    that points elsewhere) is a LinkedStateFolder: nothing is written through it."""
    base = Path(override) if override is not None else series_output(manifest)
    return series_folder(manifest.root, base / DRAFT_DIR if draft else base)


def series_output(manifest: Manifest) -> Path:
    """``<series>/<output.dir>`` (default ``<series>/out``); an ``output.dir`` leading outside
    the series folder is refused with its location (only ``-o DIR`` writes elsewhere)."""
    if manifest.output_problem is not None:
        raise ProblemsFound([manifest.output_problem])
    configured = _settings_output(manifest.episodes[0].settings if manifest.episodes else {})
    folder = configured.get("dir")
    return manifest.root / (folder if isinstance(folder, str) else DEFAULT_DIR)


def _settings_output(settings: dict[str, Any]) -> dict[str, Any]:
    value = settings.get("output")
    return value if isinstance(value, dict) else {}


def cues_for(episode: CompiledEpisode, shot_index: int) -> list[Cue]:
    request = episode.shots[shot_index].request
    return [Cue(line.start, line.end, line.text, speaker_name(line.speaker))
            for scene in request.scenes for line in scene.lines]


def heard_lines(shot: CompiledShot) -> list[Heard]:
    """The made files of ``shot``'s lines heard only (route none), each from its window."""
    return [(line.audio.path, line.start) for scene in shot.request.scenes
            for line in scene.lines
            if line.route == "none" and line.audio is not None and line.audio.path is not None]


def stitch_options(settings: dict[str, Any]) -> StitchOptions:
    output = _settings_output(settings)
    music = settings.get("music")
    bed = None
    if isinstance(music, dict) and music.get("file") is not None:
        bed = Music(Path(music["file"]), volume_db=float(music.get("volume", -12.0)),
                    duck_db=float(music.get("duck", -12.0)),
                    fade_out=float(music.get("fade_out", 1.0)))
    loudness = output.get("loudness", -14.0)
    options = StitchOptions(loudness=None if loudness is None else float(loudness), music=bed,
                            subtitles=bool(output.get("subtitles", True)),
                            burn_subtitles=bool(output.get("burn_subtitles", False)))
    delivery = delivery_of(settings)  # a delivered series: its preset's size, its loudness
    return options if delivery is None else delivery.options(options)


class EpisodeBuilder:
    """Builds one episode's clips (cards included) and stitches it when its inputs changed."""

    def __init__(self, manifest: Manifest, out_dir: Path, *, draft: bool,
                 preview: bool = False) -> None:
        self.manifest = manifest
        self.out_dir = series_folder(manifest.root, out_dir)  # every stitched episode's folder
        self.draft = draft
        self.preview = preview  # the studio's: levels left alone (no loudness passes), quick
        self.cards_dir = manifest.root / ".storyboard" / "cards"
        self.state_dir = manifest.root / ".storyboard" / "stitch"
        self.cache_dir = manifest.root / ".storyboard" / "stitch-cache"
        # a version's "Episode N", by episode id, in its language (its file's ``label:``)
        self.labels: dict[str, str] = {}

    def build(self, episode: CompiledEpisode, outputs: dict[str, Path],
              on_start: Callable[[EpisodeOutput], None] | None = None) -> EpisodeOutput:
        """Stitch ``episode`` unless it is up to date; ``on_start`` hears when stitching begins,
        then each progress report of its ffmpeg runs (``EpisodeOutput.progress``)."""
        target = self.out_dir / f"{episode.id}.mp4"
        missing = [s.id for s in episode.shots if s.id not in outputs]
        if missing:
            return EpisodeOutput(episode.id, target, "skipped",
                                 message=f"shot(s) {', '.join(missing)} not rendered")
        clips = self.clips(episode, outputs)
        options = self.options(episode)
        key = self.stitch_key(clips, options)
        if self.up_to_date(episode.id, target, key):
            return EpisodeOutput(episode.id, target, "up to date",
                                 duration=ffmpeg.probe(target).duration or 0.0,
                                 subtitles=_subtitle_files(target, options))
        if on_start is None:
            result = stitch(clips, target, options)
        else:
            begun = EpisodeOutput(episode.id, target, "stitching", started=time.monotonic())
            on_start(begun)
            with listening(lambda heard: on_start(replace(begun, progress=heard))):
                result = stitch(clips, target, options)
        self.remember(episode.id, target, key)
        return _output(episode.id, result)

    def options(self, episode: CompiledEpisode) -> StitchOptions:
        # Clip facts and mezzanines are kept by content hash: later stitches and variants reuse
        # them. Their sound is kept for the studio's quick re-drafts only: for a render it is most
        # of the cache's bytes, and one audio pass per shot makes it again (bench/disk.py).
        options = replace(stitch_options(episode.settings), cache_dir=self.cache_dir,
                          keep_sound=self.preview)
        if self.draft:  # a draft stays a proxy, at its clips' own size (a delivery's too)
            options = replace(options, width=None, height=None)
        return replace(options, loudness=None) if self.preview else options

    def first_clip(self, episode: CompiledEpisode, outputs: dict[str, Path]) -> Path | None:
        """The clip whose format the episode takes, its first shot, if it has arrived (a title
        card before it takes the shot's frame rate: it never sets the episode's)."""
        return outputs.get(episode.shots[0].id) if episode.shots else None

    def clips(self, episode: CompiledEpisode, outputs: dict[str, Path]) -> list[Clip]:
        clips: list[Clip] = []
        if (card := self.card(episode, "title_card")) is not None:
            clips.append(Clip(card, card=True))
        for index, shot in enumerate(episode.shots):
            video = with_heard(outputs[shot.id], heard_lines(shot), self.cache_dir / "heard")
            clips.append(Clip(video, shot.transition, tuple(cues_for(episode, index)),
                              captioned=draws_captions(video)))
        if (card := self.card(episode, "end_card")) is not None:
            clips.append(Clip(card, card=True))
        return clips

    def card(self, episode: CompiledEpisode, kind: str, *, render: bool = True) -> Path | None:
        """The card's video in the card cache (rendered first unless ``render`` is false)."""
        spec = self.card_spec(episode, kind)
        if spec is None or not episode.shots:
            return None
        first = episode.shots[0].request
        delivery = delivery_of(episode.settings)
        width, height = ((delivery.preset.width, delivery.preset.height) if delivery else
                         NATIVE_SIZES[(first.resolution, first.ratio)])
        image = spec.get("image")
        fields: dict[str, Any] = {"text": str(spec.get("text", "")), "duration": float(spec.get("duration",
                                                                             DEFAULT_CARD_SECONDS)),
                  "color": str(spec.get("color", "black")),
                  "text_color": str(spec.get("text_color", "white")),
                  "width": width, "height": height, "draft": self.draft}
        identity = {**fields, "image": sha256_file(Path(image)) if image else None,
                    "renderer": RENDERER_VERSION}
        path = self.cards_dir / f"{_digest(identity)}.mp4"
        if render and not path.is_file():
            render_card(path, image=Path(image) if image else None, **fields)
        return path

    def card_spec(self, episode: CompiledEpisode, kind: str) -> dict[str, Any] | None:
        """The card's settings: the episode's own, else (a delivered series' title card) its
        number in the series (``labels``' words for it, a version's) and its title, or (a
        delivered series' ``end_card: true``) the hook it ends on."""
        spec = episode.settings.get(kind)
        if isinstance(spec, dict):
            return spec
        delivery = delivery_of(episode.settings)
        if kind == "end_card" and delivery is not None and delivery.end_card:
            return delivery.end_card_spec(episode)
        if kind != "title_card" or delivery is None or not delivery.title_card:
            return None
        title = episode.title if episode.title != episode.id else ""
        return delivery.title_card_spec(episode_number(self.manifest, episode.id), title,
                                        self.labels.get(episode.id))

    def stitch_key(self, clips: list[Clip], options: StitchOptions) -> str:
        folders: dict[str, str] = {}  # the clips share a few folders: each resolved once
        described = {
            "version": STITCH_STATE_VERSION,
            "clips": [{"file": _file_identity(c.path, folders), "transition": [c.transition.type,
                                                                      c.transition.duration],
                       "cues": [[q.start, q.end, q.text, q.speaker] for q in c.cues],
                       "captioned": c.captioned, **({"card": True} if c.card else {})}
                      for c in clips],
            "options": {**{k: v for k, v in vars(options).items() if k != "music"},
                        "music": None if options.music is None else
                        {**vars(options.music), "path": _file_identity(options.music.path)}},
        }
        return _digest(described)

    def _state(self, episode: str, target: Path) -> Path:
        """One state file per episode and output file: a draft and a full render keep their own."""
        return self.state_dir / f"{episode}-{_digest(str(target.resolve()))[:16]}.json"

    def up_to_date(self, episode: str, target: Path, key: str) -> bool:
        state = self._state(episode, target)
        try:
            saved = json.loads(state.read_text(encoding="utf-8"))
            stat = target.stat()
        except (OSError, ValueError):
            return False
        return bool(saved.get("key") == key and saved.get("output") == str(target.resolve())
                    and saved.get("size") == stat.st_size
                    and saved.get("mtime_ns") == stat.st_mtime_ns)

    def remember(self, episode: str, target: Path, key: str) -> None:
        stat = target.stat()
        write_atomic(self._state(episode, target), json.dumps({
            "key": key, "output": str(target.resolve()), "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns}), durable=False)


def episode_number(manifest: Manifest, episode: str) -> int:
    """The episode's number in its series: its place among the episodes, from 1."""
    ids = [e.id for e in manifest.episodes]
    return ids.index(episode) + 1 if episode in ids else 0


def _output(episode: str, result: StitchResult) -> EpisodeOutput:
    return EpisodeOutput(episode, result.out, "stitched", result.duration, result.path_taken,
                         list(result.subtitle_files))


def _subtitle_files(target: Path, options: StitchOptions) -> list[Path]:
    if not options.subtitles:
        return []
    return [p for p in (target.with_suffix(".srt"), target.with_suffix(".vtt")) if p.exists()]


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _file_identity(path: Path, folders: dict[str, str] | None = None) -> list[Any]:
    """Cheap identity of an input file: its path, size and mtime (cache files never change).
    A file that is not a link is resolved by its folder (``folders``: those resolved already)."""
    try:
        stat = path.lstat()
        if folders is None or S_ISLNK(stat.st_mode):
            return [str(path.resolve()), *_size_time(path.stat())]
    except OSError:
        return [str(path), None, None]
    folder = str(path.parent)
    if folder not in folders:
        folders[folder] = os.path.realpath(folder)
    return [os.path.join(folders[folder], path.name), *_size_time(stat)]


def _size_time(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_size, stat.st_mtime_ns
