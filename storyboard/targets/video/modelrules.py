"""A video model's declaration into its rules: the ``Model`` type and what is read from one.

``models.py`` holds the declarations (each model's data); this holds their shape: which media a
model takes and how, how a spoken line reaches the lips (``LineRoute``), what a board becomes
(``BoardHandoff``), and the limits a series may override (``with_limits``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from storyboard.targets.capabilities import Capabilities, FileRule, ImageRule, PriceTable

# A voice on a character's item, as an audio item of its own, as the id of a voice made on the
# vendor (``voice_id``: Kling 4.0, a character's ``identity: {kling: {voice: ID}}``), or none.
VoiceStyle = Literal["reference_voice", "reference_audio", "voice_id", "none"]
# How a spoken line reaches the lips (docs/dialogue.md): as the audio that drives the mouth, as
# the character's voice reference to a model that speaks the line itself, by a lip-sync pass over
# the approved take, or not at all (heard, never lip-synced).
LineRoute = Literal["driving_audio", "voice_reference", "lipsync", "none"]
LINE_ROUTES: tuple[LineRoute, ...] = ("driving_audio", "voice_reference", "lipsync", "none")
# What a shot's board (its approved still) becomes in its video request: the first frame beside
# the references, the first frame alone (the model takes no references), the first frame or
# the references but never both (the series says which: ``boards: {as: ...}``), a reference
# image (no first frame), or nothing (the model takes no picture).
BoardHandoff = Literal["beside", "alone", "exclusive", "reference", "none"]
FactSource = Literal["official", "third-party"]
FrameRule = Literal["exact", "4k+1"]
FRAME_ROLES = ("first_frame", "middle_frame", "last_frame", "first_clip", "driving_audio", "source_video")


@dataclass(frozen=True)
class Model:
    """One model: what a shot on it may carry, as data every stage reads."""

    id: str
    title: str
    caps: Capabilities  # durations, resolutions, ratios, sizes, prompt limits, seed range
    prices: Mapping[str, PriceTable]  # list prices by region (``intl``, ``cn``)
    max_images: int = 5  # reference_image items
    max_videos: int = 5  # reference_video items (images + videos <= caps.max_references)
    min_references: int = 1  # 0: a shot may start from a frame instead (never from nothing)
    voices: VoiceStyle = "reference_voice"
    max_audios: int = 0  # reference_audio items (voices as items of their own)
    frames: tuple[str, ...] = ("first_frame",)  # which of FRAME_ROLES it takes
    frames_with_references: bool = True  # a first/last frame may sit beside references
    frames_apart: tuple[tuple[str, str], ...] = ()  # frame roles never sent together
    needs: tuple[str, ...] = ()  # a shot must have one of these frame roles (empty: none needed)
    text_only: bool = False  # the service renders a prompt alone (storyboard asks for media)
    file_rules: Mapping[str, FileRule] = field(default_factory=dict)  # by media role
    # Every picture it takes (references and frames), where narrower than the file check's
    # general limits (spec/assets.md: 240..8000 px, 1:8..8:1, 20 MB): None holds to those alone.
    image_rule: ImageRule | None = None
    audio_switch: bool = False  # ``audio: false`` asks for a silent video
    negative_prompt: bool = True
    prompt_extend: bool = True
    ratio: bool = True  # takes a ``ratio`` (image-to-video follows its first frame's shape)
    auto_duration: bool = False  # the service takes duration -1 (storyboard never sends it)
    max_input_plus_output: int | None = None  # seconds: reference videos + output at most
    max_reference_video_seconds: float | None = None  # all reference videos together
    max_reference_audio_seconds: float | None = None  # all reference audio together
    sources: Mapping[str, FactSource] = field(default_factory=dict)
    snapshots: tuple[str, ...] = ()
    # How the prompt names a reference on a target, where not as the target does ("[{Kind}
    # {index}]": HappyHorse on DashScope writes "[Image 1]"), by target name.
    labels: Mapping[str, str] = field(default_factory=dict)
    watermark_default: bool = False  # the service's default when a body sends no ``watermark``
    truncates_prompt: bool = False  # a prompt over the limit is cut, not refused (check refuses)
    # A frame role sent as a field of ``input`` of its own, not as a media item (by role), and a
    # media item's type on the wire where not the neutral role's name (by role).
    wire_fields: Mapping[str, str] = field(default_factory=dict)
    wire_types: Mapping[str, str] = field(default_factory=dict)
    seed: bool = True  # takes a ``seed`` (without one, each render differs)
    keeps_length: bool = False  # ``duration`` 0 (its default) keeps the edited video's length
    # A pass over a take whose output keeps the take's size and ratio (its framing): what the
    # emulator makes and what measuring the pass holds it to. Declared, not verified (videoretalk's
    # model page names no output size): a size the service changes is scaled on stitch.
    keeps_framing: bool = False
    regions: tuple[str, ...] = ()  # DashScope regions that serve it (empty: every region)
    # The names its answer's ``usage`` gives the input video's and the output's seconds.
    usage_names: tuple[str, str] = ("input_video_duration", "output_video_duration")
    # The only lengths it renders, by resolution, where not every second of ``caps``' range
    # (Hailuo 2.3: 6 or 10 s at 768P, 6 s at 1080P). Empty: the range.
    durations: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    # A service of its own path (videoretalk: ``image2video``), where not the video-synthesis one.
    submit_path: str = ""
    takes_prompt: bool = True  # False: a pass over a video that reads no words (lip-sync)
    # The body's whole ``parameters`` where the service takes none of a video model's (None: the
    # request's own).
    body_parameters: Mapping[str, Any] | None = None
    in_flight: int | None = None  # the service's own tasks in flight per account (others queue)
    # How a ComfyUI workflow's ``{{frames}}`` counts a shot's frames: ``exact`` (duration x fps)
    # or ``4k+1`` (Wan's latent rule: 4k + 1 frames, the nearest to duration x fps + 1).
    frame_rule: FrameRule = "exact"
    audio_only_references: bool = False  # reference audio may come without any picture
    # How the model itself puts a line on the lips: it speaks the prompt's line natively (with
    # the speaker's voice as a reference where it takes one), it follows a driving audio, or
    # neither. A lip-sync pass over the take, or no lip-sync, is open to every model.
    line_route: LineRoute = "voice_reference"
    # The task types it takes besides making a video (Seedance 2.5's ``omni_reference_task_type``:
    # ``edit``, ``extend``), checked by the service at submit.
    task_types: tuple[str, ...] = ()
    board: BoardHandoff | None = None  # declared where not read from ``frames`` (``handoff``)
    # The vendor whose identities made there a character may declare it sends (``identity:
    # {kling: {element: ID, voice: ID}}``): a saved element instead of the sheet, a voice by id.
    identity: str = ""
    max_elements: int = 0  # saved elements (a character's identity) a shot may send
    max_voice_ids: int = 0  # voices by id (``voices: voice_id``)
    frames_count_as_images: bool = False  # first/last frames count among ``max_images``
    max_materials: int | None = None  # every item together: images, frames, videos, ids
    # A prompt alone is one of its modes (Kling 4.0: text, frames or references, picked by the
    # body): storyboard sends it, where another ``text_only`` model is asked for a picture.
    prompt_mode: bool = False

    @property
    def handoff(self) -> BoardHandoff:
        """What a board becomes on this model: as declared, else as its frames say."""
        if self.board is not None:
            return self.board
        if "first_frame" in self.frames:
            if not self.takes_references:
                return "alone"
            return "beside" if self.frames_with_references else "exclusive"
        return "reference" if self.takes_references else "none"

    def source(self, fact: str) -> FactSource:
        """Where a group of facts (``limits``, ``prices``, ``sizes``...) comes from: third-party
        when the group is, or when one of its narrower facts (``sizes:4:3, 3:4``) is."""
        narrow = [source for key, source in self.sources.items()
                  if key.startswith(fact + ":")]
        return "third-party" if "third-party" in narrow else self.sources.get(fact, "official")

    def third_party(self) -> list[str]:
        """The third-party facts, as ``sources`` names them (``frames``, ``sizes:4:3, 3:4``)."""
        return [key for key, source in self.sources.items() if source == "third-party"]

    @property
    def takes_references(self) -> bool:
        return self.caps.max_references > 0

    @property
    def needs_frame(self) -> bool:
        """A shot must start from a frame of its own (a picture, a clip, a video to edit)."""
        return bool(self.needs)

    @property
    def prompt_only(self) -> bool:
        """The model takes no picture at all (text to video): a prompt alone is the shot."""
        return not self.takes_references and not {"first_frame", "middle_frame", "last_frame", "first_clip",
                                                   "source_video"} & set(self.frames)

    def label_format(self, target: str) -> str | None:
        """How a prompt names a reference on ``target`` when the model has its own spelling."""
        return self.labels.get(target)

    def own_labels(self) -> dict[str, str]:
        """The first image's label on each target where the model spells it its own way."""
        return {target: spelling.format(Kind="Image", kind="image", index=1)
                for target, spelling in self.labels.items()}

    @property
    def routes(self) -> tuple[LineRoute, ...]:
        """The routes a line may take on this model: its own first, then a lip-sync pass and
        none (both over any take)."""
        own: tuple[LineRoute, ...] = () if self.line_route == "none" else (self.line_route,)
        return (*own, "lipsync", "none")

    @property
    def min_driving_audio(self) -> float:
        """The shortest driving audio it takes (seconds; 0: it takes none)."""
        rule = self.file_rules.get("driving_audio")
        return rule.min_seconds if rule is not None else 0.0

    def price(self, region: str) -> PriceTable:
        return self.prices.get(region) or next(iter(self.prices.values()))

    def lengths(self, resolution: str) -> tuple[int, ...]:
        """The only durations it renders at ``resolution`` (empty: any in its range)."""
        return self.durations.get(resolution, ())


# The limits a series may override (``models: {ID: {...}}``), where a fact is third-party or a
# service changes before storyboard does: on the model, or on its ``caps``.
MODEL_LIMITS = ("max_images", "max_videos", "max_audios", "max_input_plus_output",
                "max_reference_video_seconds", "max_reference_audio_seconds")
CAPS_LIMITS = ("min_duration", "max_duration", "max_duration_with_video", "max_references",
               "prompt_limit", "negative_prompt_limit", "resolutions")


def with_limits(model: Model, limits: Mapping[str, object]) -> Model:
    """``model`` with some limits replaced (names from MODEL_LIMITS and CAPS_LIMITS, values
    already checked by the schema)."""
    own = {k: v for k, v in limits.items() if k in MODEL_LIMITS}
    caps = {k: tuple(v) if isinstance(v, list) else v
            for k, v in limits.items() if k in CAPS_LIMITS}
    return replace(model, caps=replace(model.caps, **caps), **own)  # type: ignore[arg-type]
