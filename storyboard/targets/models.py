"""Each Wan model into its declaration: references, voices, frames, durations, sizes and prices.

The models DashScope serves on the one video-synthesis endpoint (``../shared/spec/wan-models.md``).
A model is data: what kinds of media it takes and how many, how a character's voice travels
(``reference_voice`` on the character's item, a ``reference_audio`` item of its own, or none), which
frames it takes and whether they combine with references, its durations, resolutions, ratios and
switches, and its list prices by region. ``sources`` says which facts are official and which only
third-party, so the docs (and a user deciding whether to override) can tell them apart.

A snapshot id (``wan2.7-r2v-2026-06-12``) names one frozen version of a model: the same declaration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from storyboard.targets.capabilities import (
    NATIVE_SIZES,
    SNAPSHOT,
    Capabilities,
    FileRule,
    PriceTable,
)

VoiceStyle = Literal["reference_voice", "reference_audio", "none"]
FactSource = Literal["official", "third-party"]
FRAME_ROLES = ("first_frame", "last_frame", "first_clip", "driving_audio")
DEFAULT_MODEL = "wan2.7-r2v"

# 480P sizes follow the Wan family's 480P outputs (832x480 at 16:9); the pages give no table.
SIZES_480: dict[tuple[str, str], tuple[int, int]] = {
    ("480P", "16:9"): (832, 480), ("480P", "9:16"): (480, 832), ("480P", "1:1"): (624, 624),
    ("480P", "4:3"): (720, 544), ("480P", "3:4"): (544, 720)}


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
    needs_frame: bool = False  # a shot must have a first frame or a first clip
    text_only: bool = False  # the service renders a prompt alone (storyboard asks for media)
    file_rules: Mapping[str, FileRule] = field(default_factory=dict)  # by media role
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

    def price(self, region: str) -> PriceTable:
        return self.prices.get(region) or next(iter(self.prices.values()))


def _usd(rates: Mapping[str, float], cap: float = 5.0) -> PriceTable:
    return PriceTable(dict(rates), "USD", input_video_cap=cap)


def _cny(rates: Mapping[str, float], cap: float = 5.0) -> PriceTable:
    return PriceTable(dict(rates), "CNY", input_video_cap=cap)


# wan2.7-r2v: the model storyboard was first written for (wan27-r2v.md).
WAN27_R2V = Model(
    id="wan2.7-r2v", title="Wan 2.7 reference-to-video", caps=Capabilities(),
    prices={"intl": _usd({"720P": 0.10, "1080P": 0.15}), "cn": _cny({"720P": 0.6, "1080P": 1.0})},
    # The 4:3 and 3:4 output sizes rest on copies in code, not on an Alibaba Cloud page.
    sources={"sizes:4:3, 3:4": "third-party"}, snapshots=("wan2.7-r2v-2026-06-12",))

# wan3.0-video: one model for references, frames and audio references, up to 30 s.
# ``adaptive`` (the output follows the first frame) is advised for the frame modes.
_WAN30_CAPS = Capabilities(min_duration=2, max_duration=30, max_duration_with_video=30,
                           max_references=15, resolutions=("480P", "720P", "1080P"),
                           ratios=("16:9", "9:16", "1:1", "4:3", "3:4", "adaptive"),
                           sizes={**NATIVE_SIZES, **SIZES_480}, prompt_limit=20000,
                           negative_prompt_limit=0)
# Reference video is reportedly billed in full (input + output): at most 15 s of it.
WAN30_VIDEO = Model(
    id="wan3.0-video", title="Wan 3.0 video", caps=_WAN30_CAPS,
    prices={"intl": _usd({"480P": 0.05, "720P": 0.10, "1080P": 0.20}, cap=15.0),
            # No CNY list price published: the USD one at 7.3 CNY, rounded up (an estimate).
            "cn": _cny({"480P": 0.37, "720P": 0.73, "1080P": 1.46}, cap=15.0)},
    max_images=10, max_videos=5, min_references=0, voices="reference_audio", max_audios=5,
    frames=("first_frame", "last_frame"), frames_with_references=False, audio_switch=True,
    negative_prompt=False, prompt_extend=False, auto_duration=True, max_input_plus_output=30,
    max_reference_video_seconds=15.0, max_reference_audio_seconds=15.0,
    text_only=True,  # the official page lists text-to-video; storyboard asks for media anyway
    sources={"prices": "third-party", "sizes": "third-party", "billing": "third-party",
             "ratios:adaptive": "third-party"})

WAN30_VIDEO_PRIME = replace(
    WAN30_VIDEO, id="wan3.0-video-prime", title="Wan 3.0 video prime",
    prices={"intl": _usd({"480P": 0.10, "720P": 0.20, "1080P": 0.40}, cap=15.0),
            "cn": _cny({"480P": 0.73, "720P": 1.46, "1080P": 2.92}, cap=15.0)})

# wan2.7-i2v: a shot driven by its first frame (or a clip to continue); no character references.
_I2V_CAPS = Capabilities(min_duration=2, max_duration=15, max_duration_with_video=15,
                         max_references=0)
WAN27_I2V = Model(
    id="wan2.7-i2v", title="Wan 2.7 image-to-video", caps=_I2V_CAPS,
    # As wan2.7 video (the official table); a first clip's seconds assumed billed (<= 10 s).
    prices={"intl": _usd({"720P": 0.10, "1080P": 0.15}, cap=10.0),
            "cn": _cny({"720P": 0.6, "1080P": 1.0}, cap=10.0)},
    max_images=0, max_videos=0, min_references=0, voices="none", ratio=False,
    frames=("first_frame", "last_frame", "first_clip", "driving_audio"), needs_frame=True,
    # Replicate's and fal's schemas: a first frame or a clip to continue, never both. A clip
    # with a last frame (and no first) is "video continuation towards a frame" on Freepik's and
    # ComfyUI's pages: accepted.
    frames_apart=(("first_frame", "first_clip"),),
    file_rules={"first_clip": FileRule("video", 2, 10, 100),
                "driving_audio": FileRule("voice", 2, 30, 15)},
    sources={"limits": "third-party", "billing": "third-party", "frames": "third-party",
             "files": "third-party"})

MODELS: dict[str, Model] = {m.id: m for m in (WAN27_R2V, WAN30_VIDEO, WAN30_VIDEO_PRIME,
                                              WAN27_I2V)}


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


def family(model_id: str) -> str:
    """The model a snapshot id belongs to (``wan2.7-r2v-2026-06-12`` -> ``wan2.7-r2v``)."""
    match = SNAPSHOT.match(model_id)
    return match.group("family") if match and match.group("family") in MODELS else model_id


def model_of(model_id: str) -> Model | None:
    """The declaration of a model id or of one of its snapshots; None for an unknown id."""
    return MODELS.get(family(model_id))
