"""A series' video model and provider into what its written season must fit: lengths, room, words.

A season is cut for the model that renders it: ``--video-model`` (``video_model:`` in the
breakdown block), else the ``defaults: model:`` the series file names (your edit included), else
wan2.7-r2v; its limits as the series overrides them (``models:``) and as its provider
(``provider: {name: ...}``, a gateway) narrows them. ``takes`` is the shot lengths it renders (the
model's own list at the series' resolution, else every whole second of its range, within the
gateway's); ``refusal`` says why no season can be written for it (a model that edits a video of
its own, a ratio it does not make), before anything is asked. The rest is what the writer follows
so the written series checks clean on it: the resolution, how many references a shot may show,
whether a board or a voice reaches it, and how its timed scenes are worded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.breakdown.settings import series_file
from storyboard.language.read.schemacheck import did_you_mean
from storyboard.language.resolving.modelcheck import model_table
from storyboard.targets import kinds
from storyboard.targets.video.models import DEFAULT_MODEL, MODELS, Model, family
from storyboard.targets.video.wording import wording_of
from storyboard.targets.wire.gateways import TARGETS

VOICED = ("reference_voice", "reference_audio")  # a designed voice reaches the model itself


@dataclass(frozen=True)
class Video:
    """The model a season is written for, as the series' file and provider limit it."""

    model: Model
    provider: str = ""  # a gateway's name, else "" (native or local)
    resolution: str = ""  # the series' own (""): the writer chooses one the model makes
    named: str = DEFAULT_MODEL  # as the series or the flag spells it (a snapshot stays one)

    @property
    def default(self) -> bool:
        return self.model.id == DEFAULT_MODEL and self.named == DEFAULT_MODEL

    def takes(self) -> tuple[int, ...]:
        """The shot lengths it renders (``skeleton.shape`` cuts an episode in them)."""
        caps, model = self.model.caps, self.model
        listed = model.lengths(self.written_resolution()) or tuple(sorted(
            {d for lengths in model.durations.values() for d in lengths}))
        low, high = caps.min_duration, caps.max_duration
        gateway = TARGETS.get(self.provider) if kinds.has(self.provider, "gateway") else None
        if gateway is not None:
            low, high = max(low, gateway.limits.min_duration), min(high, gateway.limits.max_duration)
        return tuple(d for d in (listed or range(low, high + 1)) if low <= d <= high)

    def written_resolution(self) -> str:
        """The series' resolution, else 720P where the model makes it, else its first."""
        made = self.model.caps.resolutions
        if self.resolution in made:
            return self.resolution
        return "720P" if "720P" in made else made[0]

    @property
    def room(self) -> int:
        """How many cast members a shot may show as references (``@name``): the model's
        references, or a board's five where the board alone carries the cast (a first frame),
        none where it takes no picture at all."""
        if self.model.prompt_only:
            return 0
        if not self.model.takes_references:
            return 5
        return min(self.model.caps.max_references, self.model.max_images)

    @property
    def voiced(self) -> bool:
        """Whether the model speaks a line in the speaker's designed voice itself."""
        return self.model.line_route == "driving_audio" or (
            self.model.line_route != "none" and self.model.voices in VOICED)

    @property
    def whole_seconds(self) -> bool:
        return wording_of(self.model.id).whole_seconds

    @property
    def timed(self) -> bool:
        return wording_of(self.model.id).timed


def default_video() -> Video:
    """wan2.7-r2v, as a series that names no model renders."""
    return Video(MODELS[DEFAULT_MODEL])


def video_of(series: Path, asked: str | None = None) -> Video:
    """The video model ``asked`` (a flag or the breakdown block), else the one the series file
    names, with the series' limits and provider."""
    doc = series_file(series)
    data: dict[str, Any] = doc.data if doc is not None and isinstance(doc.data, dict) else {}
    defaults = _mapping(data.get("defaults"))
    named = str(asked or defaults.get("model") or DEFAULT_MODEL)
    table = model_table(data)
    model = table.get(family(named))
    if model is None:
        raise ValueError(f"unknown video model {named!r}{did_you_mean(named, MODELS)}; expected "
                         f"one of: {', '.join(MODELS)}")
    block = _mapping(data.get("provider"))
    resolution = defaults.get("resolution")
    return Video(model, str(block.get("name") or ""),
                 resolution if isinstance(resolution, str) else "", named)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def refusal(video: Video, ratio: str | None) -> str | None:
    """Why no season can be written for ``video`` (None: one can)."""
    model = video.model
    if "source_video" in model.needs:
        return (f"{model.id} edits a video of its own (each shot needs a source_video): a story "
                "cannot be broken down for it; choose a model that makes a video "
                "(--video-model)")
    if ratio is not None and ratio not in model.caps.ratios:
        return (f"{model.id} makes {', '.join(model.caps.ratios)}, not {ratio}: ask for one of "
                "them (--ratio) or another model (--video-model)")
    if not video.takes():
        return f"{model.id} renders no shot length on {video.provider}"
    return None
