"""Shot requests and native bodies into animatics: what the ``local`` provider and the emulator draw.

``shot_animatic`` draws a neutral shot request at the size and length the model would return
(reference thumbnails, scene text in its window, dialogue captions, the voice clips at their
lines); ``draft`` gives editor's proxies (a quarter of the size, 12 fps). ``body_animatic`` draws
from a DashScope native submit body, for the protocol emulator. ``render_shot`` and
``render_body`` write them (``clip.render``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.animatic.clip import render
from storyboard.animatic.draw import (
    DRAFT_FPS,
    FPS,
    Animatic,
    Sound,
    Thumbnail,
    TimedText,
    closest_ratio,
    draft_size,
)
from storyboard.errors import MediaError
from storyboard.language.request import Line, MediaItem, ShotRequest, speaker_name
from storyboard.media import ffmpeg
from storyboard.targets import NATIVE_SIZES, Capabilities
from storyboard.targets.video.models import DEFAULT_MODEL, MODELS, SIZES_480, Model, model_of

__all__ = ["body_animatic", "existing", "panel_label", "prompt_segments", "render_body",
           "render_shot", "shot_animatic"]

RATIOS = Capabilities().ratios
# Every model's output sizes (480P: wan3.0-video; 21:9: HappyHorse; 768P and 2K: MiniMax H3).
SIZES = {**NATIVE_SIZES, **SIZES_480,
         **{key: size for model in MODELS.values() for key, size in model.caps.sizes.items()}}
BODY_DEFAULTS = {"resolution": "1080P", "ratio": "16:9", "duration": 5}  # spec section 1


# --- shared ----------------------------------------------------------------------------------


def _frame(resolution: str, ratio: str, backdrop: Path | None, draft: bool
           ) -> tuple[int, int, int]:
    """Width, height and fps: a first frame decides the ratio (the model follows it)."""
    if backdrop is not None:
        video = ffmpeg.probe(backdrop).video
        if video is None or not video.width or not video.height:
            raise MediaError(f"{backdrop}: cannot read the first frame's size")
        ratio = closest_ratio(video.width, video.height, RATIOS)
    elif ratio == "adaptive":  # wan3.0-video follows its first frame; with none, 16:9
        ratio = "16:9"
    try:
        width, height = SIZES[(resolution, ratio)]
    except KeyError:
        raise ValueError(f"no output size for resolution {resolution!r}, ratio {ratio!r}") from None
    if draft:
        return (*draft_size(width, height), DRAFT_FPS)
    return width, height, FPS


def existing(path: Path) -> Path:
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    return path


def _has_audio(path: Path) -> bool:
    return ffmpeg.probe(path).audio is not None


# --- from a neutral shot request -------------------------------------------------------------


def _local(item: MediaItem) -> Path | None:
    return existing(item.ref.path) if item.ref is not None and item.ref.path else None


def _request_backdrop(request: ShotRequest, first_frame: Path | None) -> Path | None:
    """The picture the shot starts from: its first frame, or the video it edits."""
    item = request.first_frame or request.item("source_video")
    own = _local(item) if item is not None else None
    return own or (existing(first_frame) if first_frame is not None else None)


def _request_texts(request: ShotRequest) -> tuple[TimedText, ...]:
    if not request.scenes:
        return (TimedText(request.prompt, 0.0, float(request.duration)),)
    return tuple(TimedText(s.text, s.start, s.end) for s in request.scenes)


def _line_audio(line: Line) -> Path | None:
    """The local file whose audio speaks ``line``, if any."""
    if line.voice is not None:  # overrides the video's own audio, even as a URL we cannot play
        return existing(line.voice.path) if line.voice.path is not None else None
    video = line.video_voice.path if line.video_voice is not None else None
    return video if video is not None and _has_audio(existing(video)) else None


def request_lines(request: ShotRequest) -> tuple[tuple[TimedText, ...], tuple[Sound, ...]]:
    """Captions at their lines, and the voices that speak them; a silent request (``audio:
    false``) has no voices, a driving audio plays from the start."""
    captions: list[TimedText] = []
    sounds: list[Sound] = []
    driving = request.item("driving_audio")
    if driving is not None and driving.ref is not None and driving.ref.path is not None:
        sounds.append(Sound(existing(driving.ref.path), 0.0, float(request.duration)))
    for line in (line for scene in request.scenes for line in scene.lines):
        # Named exactly as the subtitle files name the speaker ("Mia: That was lovely.").
        captions.append(TimedText(f"{speaker_name(line.speaker)}: {line.text}", line.start,
                                  line.end))
        if request.audio is not False and (audio := _line_audio(line)) is not None:
            sounds.append(Sound(audio, line.start, line.end - line.start))
    return tuple(captions), tuple(sounds)


def panel_label(item: MediaItem) -> str:
    """A reference panel's caption: the character and its label (``mia · Image 2``), since a
    character's number changes from shot to shot."""
    return " · ".join(part for part in (item.character, item.label) if part)


def shot_animatic(request: ShotRequest, *, first_frame: Path | None = None,
                  draft: bool = False) -> Animatic:
    """What ``render_shot`` draws for ``request``; URLs are left out (nothing to read locally)."""
    backdrop = _request_backdrop(request, first_frame)
    width, height, fps = _frame(request.resolution, request.ratio, backdrop, draft)
    thumbnails = tuple(Thumbnail(path, panel_label(item), item.role == "reference_video")
                       for item in request.references if (path := _local(item)) is not None)
    captions, sounds = request_lines(request)
    return Animatic(width, height, float(request.duration), fps, draft, backdrop=backdrop,
                    backdrop_muted=backdrop is not None and backdrop == first_frame,
                    thumbnails=thumbnails,
                    texts=_request_texts(request), captions=captions, sounds=sounds)


def render_shot(request: ShotRequest, out: Path, *, first_frame: Path | None = None,
                draft: bool = False) -> None:
    """Render an animatic of ``request`` into ``out`` (MP4, exactly ``duration`` seconds).

    ``first_frame`` is a PNG taken from another shot, for a ``first_frame: {from: SHOT}`` item.
    """
    render(shot_animatic(request, first_frame=first_frame, draft=draft), out)


# --- from a DashScope native body ------------------------------------------------------------

_SCENE_RE = re.compile(r"Scene \d+ \[(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)s\]:")
_LINE_RE = re.compile(
    r"((?:Image|Video) \d+) says: \"(.*?)\"(?=\s*(?:$|(?:Image|Video) \d+ says:|Scene \d+ \[))",
    re.DOTALL)


@dataclass(frozen=True)
class _Segment:
    start: float
    end: float
    text: str


def prompt_segments(prompt: str, duration: float) -> list[_Segment]:
    """``Scene K [A-Bs]: ...`` segments of a prompt, or the whole prompt over the whole shot."""
    heads = list(_SCENE_RE.finditer(prompt))
    if not heads:
        return [_Segment(0.0, duration, prompt.strip())]
    ends = [h.start() for h in heads[1:]] + [len(prompt)]
    return [_Segment(float(h.group(1)), min(float(h.group(2)), duration),
                     prompt[h.end():end].strip())
            for h, end in zip(heads, ends, strict=True)]


def _labelled_media(media: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Pair each reference with its prompt label: images and videos are counted separately."""
    counts = {"reference_image": 0, "reference_video": 0}
    labelled = []
    for item in media:
        kind = item.get("type", "")
        if kind in counts:
            counts[kind] += 1
            noun = "Image" if kind == "reference_image" else "Video"
            labelled.append((f"{noun} {counts[kind]}", item))
    return labelled


def _body_voices(labelled: list[tuple[str, dict[str, Any]]], files: Mapping[str, Path]
                 ) -> dict[str, Path]:
    """Label -> the audio that speaks for it: its ``reference_voice``, else a video's own sound."""
    voices = {}
    for label, item in labelled:
        if "reference_voice" in item:  # overrides a video's own audio, even when not at hand
            voice = files.get(str(item["reference_voice"]))
        elif label.startswith("Video"):
            voice = files.get(str(item.get("url", "")))
            voice = voice if voice is not None and _has_audio(voice) else None
        else:
            voice = None
        if voice is not None:
            voices[label] = voice
    return voices


def _segment_lines(segment: _Segment, voices: Mapping[str, Path]
                   ) -> tuple[str, list[TimedText], list[Sound]]:
    """Split a segment into its action text and its lines, which share its window evenly."""
    found = list(_LINE_RE.finditer(segment.text))
    action = _LINE_RE.sub(" ", segment.text)
    step = (segment.end - segment.start) / max(len(found), 1)
    captions, sounds = [], []
    for index, match in enumerate(found):
        start = segment.start + index * step
        captions.append(TimedText(f'{match.group(1)}: "{match.group(2)}"', start, start + step))
        if match.group(1) in voices:
            sounds.append(Sound(voices[match.group(1)], start, step))
    return " ".join(action.split()), captions, sounds


def _item_file(items: list[dict[str, Any]], files: Mapping[str, Path], *kinds: str
               ) -> Path | None:
    """The local file of the first item of one of ``kinds`` (in that order of preference)."""
    return next((path for kind in kinds for m in items if m.get("type") == kind
                 if (path := files.get(str(m.get("url", "")))) is not None), None)


def _body_model(body: Mapping[str, Any]) -> Model:
    """The body's model declaration (wan2.7-r2v for a body without a known one)."""
    return model_of(str(body.get("model") or DEFAULT_MODEL)) or MODELS[DEFAULT_MODEL]


def body_animatic(body: Mapping[str, Any], *, media: Mapping[str, Path] | None = None,
                  plain: bool = False) -> Animatic:
    """What ``render_body`` draws for a native submit body (with the service's defaults): with no
    audio track where the model has the ``audio`` switch and it is off; a first clip
    (image-to-video) or a video to edit is the backdrop when there is no first frame, a driving
    audio plays through, and the service's watermark is drawn where it is on."""
    data: Mapping[str, Any] = body.get("input") or {}
    params = {**BODY_DEFAULTS, **(body.get("parameters") or {})}
    model = _body_model(body)
    duration = float(params["duration"])
    files = {url: path for url, path in (media or {}).items() if Path(path).is_file()}
    items = [m for m in data.get("media") or [] if isinstance(m, dict)]
    backdrop = _item_file(items, files, "first_frame", "first_clip", "source_video")
    width, height, fps = _frame(str(params["resolution"]), str(params["ratio"]), backdrop, False)
    sound = not (model.audio_switch and params.get("audio") is False)
    if plain:
        return Animatic(width, height, duration, fps, audio=sound)
    labelled = _labelled_media(items)
    voices = _body_voices(labelled, files)
    driving = _item_file(items, files, "driving_audio")
    texts: list[TimedText] = []
    captions: list[TimedText] = []
    sounds = [Sound(driving, 0.0, duration)] if driving is not None else []
    for segment in prompt_segments(str(data.get("prompt", "")), duration):
        action, seg_captions, seg_sounds = _segment_lines(segment, voices)
        texts.append(TimedText(action, segment.start, segment.end))
        captions += seg_captions
        sounds += seg_sounds
    if params.get("watermark") is True:  # the service's mark, over the whole clip
        captions.append(TimedText(f"{model.title} watermark", 0.0, duration))
    thumbnails = tuple(Thumbnail(files[url], label, label.startswith("Video"))
                       for label, item in labelled if (url := str(item.get("url", ""))) in files)
    return Animatic(width, height, duration, fps, backdrop=backdrop, thumbnails=thumbnails,
                    texts=tuple(texts), captions=tuple(captions), sounds=tuple(sounds),
                    audio=sound)


def render_body(body: dict[str, Any], out: Path, *, media: Mapping[str, Path] | None = None,
                plain: bool = False) -> None:
    """Render a DashScope native submit body (spec section 1) into ``out``.

    ``media`` maps URLs in the body to local files (used when they exist); ``plain`` draws nothing
    but the right size, length and streams, for benchmarks.
    """
    render(body_animatic(body, media=media, plain=plain), out)
