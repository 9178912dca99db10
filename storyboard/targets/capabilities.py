"""Model and gateway limits into declarations: sizes, durations, counts, file rules and prices.

Data that the language checks shots against, the dialects obey and the providers bill by; it
imports nothing of theirs, so each of them can read it without pointing up.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

# A snapshot id: a model id and the date of the version it freezes (``wan2.7-r2v-2026-06-12``).
SNAPSHOT = re.compile(r"^(?P<family>.+?)-(?P<date>\d{4}-\d{2}-\d{2})$")


class HasVideo(Protocol):
    """What a duration limit needs of a request: whether it carries a reference video."""

    @property
    def has_video_reference(self) -> bool: ...


# Output sizes of wan2.7-r2v (spec section 1): (resolution, ratio) -> (width, height).
NATIVE_SIZES: dict[tuple[str, str], tuple[int, int]] = {
    ("720P", "16:9"): (1280, 720), ("1080P", "16:9"): (1920, 1080),
    ("720P", "9:16"): (720, 1280), ("1080P", "9:16"): (1080, 1920),
    ("720P", "1:1"): (960, 960), ("1080P", "1:1"): (1440, 1440),
    ("720P", "4:3"): (1104, 832), ("1080P", "4:3"): (1648, 1248),
    ("720P", "3:4"): (832, 1104), ("1080P", "3:4"): (1248, 1648),
}


@dataclass(frozen=True)
class Capabilities:
    """A provider's limits; the validator and the planner read them, never hard-code them."""

    min_duration: int = 2
    max_duration: int = 15
    max_duration_with_video: int = 10
    max_references: int = 5
    resolutions: tuple[str, ...] = ("720P", "1080P")
    ratios: tuple[str, ...] = ("16:9", "9:16", "1:1", "4:3", "3:4")
    sizes: Mapping[tuple[str, str], tuple[int, int]] = field(default_factory=lambda: NATIVE_SIZES)
    prompt_limit: int = 5000
    negative_prompt_limit: int = 500
    seed_max: int = 2147483647

    def duration_range(self, request: HasVideo) -> tuple[int, int]:
        top = self.max_duration_with_video if request.has_video_reference else self.max_duration
        return self.min_duration, top

    def size(self, resolution: str, ratio: str) -> tuple[int, int]:
        return self.sizes[(resolution, ratio)]


@dataclass(frozen=True)
class FileRule:
    """What an input file of one media role must be: checked as a ``kind`` of file (``video``:
    MP4/MOV, ``voice``: WAV/MP3), for its length and size."""

    kind: Literal["video", "voice"]
    min_seconds: float
    max_seconds: float
    max_mb: float

    def problem(self, seconds: float, size: int) -> str | None:
        """What a file of this length and size breaks (None when it is fine)."""
        if not self.min_seconds <= seconds <= self.max_seconds:
            return (f"lasts {seconds:.2f} s; expected {self.min_seconds:g} to "
                    f"{self.max_seconds:g} s")
        if size > self.max_mb * 1024 * 1024:
            return f"{size / 1024 / 1024:.1f} MB is over the {self.max_mb:g} MB limit"
        return None


@dataclass(frozen=True)
class ImageRule:
    """What a model takes of a picture (a reference image or a frame): its short side at least,
    its long side at most, how elongated, how large (0: no limit of its own; every image is also
    held to the file check's general limits)."""

    min_side: int = 0
    max_side: int = 0
    max_aspect: float = 0.0  # the long side over the short one
    max_mb: float = 0.0

    def problem(self, width: int, height: int, size: int) -> str | None:
        """What a picture of these pixels and bytes breaks (None when it is fine, or unread)."""
        short, long = sorted((width, height))
        if not short:
            return None  # no picture found: the file check says so
        if short < self.min_side or (self.max_side and long > self.max_side):
            top = f" and its long side at most {self.max_side} px" if self.max_side else ""
            return (f"{width}x{height} pixels; expected its short side at least "
                    f"{self.min_side} px{top}")
        if self.max_aspect and long / short > self.max_aspect:
            return (f"{width}x{height} pixels is longer than 1:{self.max_aspect:g}; expected "
                    f"a shape between 1:{self.max_aspect:g} and {self.max_aspect:g}:1")
        if self.max_mb and size > self.max_mb * 1024 * 1024:
            return f"{size / 1024 / 1024:.1f} MB; expected at most {self.max_mb:g} MB"
        return None

    def describe(self) -> str:
        """The rule in one line: "300 px short side, 1:2.5..2.5:1, <= 10 MB"."""
        side = f"{self.min_side}-{self.max_side} px" if self.max_side else \
            f">= {self.min_side} px short side"
        parts = [side, f"1:{self.max_aspect:g}..{self.max_aspect:g}:1" if self.max_aspect else "",
                 f"<= {self.max_mb:g} MB" if self.max_mb else ""]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class Limits(Capabilities):
    """The model's limits (``Capabilities``) as one gateway narrows them, plus its file rules."""

    min_references: int = 1
    first_frame: bool = True  # a first frame can be sent
    voice_roles: tuple[str, ...] = ("reference_image", "reference_video")  # may carry a voice
    max_voices: int = 5
    public_urls: bool = False  # every file must be at an http(s) URL (no uploads, no data:)
    https_only: bool = False  # ... and at an https:// one (loopback hosts excepted, for tests)
    voice_to_first_image: bool = False  # one unbound reference voice, which speaks as Image1
    image_max_mb: float = 20.0  # file limits, per reference
    # Timed scenes sent as shots of one call (Kling's ``multi_prompt``): at most this many, whole
    # seconds >= 1 adding up to the duration, each text at most ``scene_prompt_limit`` characters.
    # 0: scenes are written in the prompt, as prose.
    max_scene_shots: int = 0
    scene_prompt_limit: int = 0
    video_max_mb: float = 100.0


def decimal(value: float) -> str:
    """``value`` in plain decimals, never ``1e-05``: ``0.1``, ``0.00001``, ``12``."""
    text = f"{value:g}"
    return text if "e" not in text else f"{value:.12f}".rstrip("0").rstrip(".")


def _named(resolution: str) -> str:
    """A rate's label: its resolution; an asset table's one rate (``each``) needs none."""
    return "" if resolution == "each" else resolution


@dataclass(frozen=True)
class PriceTable:
    """Price by resolution, per billed second (input video seconds, capped, plus output) or per
    generation (``per="generation"``: one price a task, whatever its length), or per character of
    speech (``per="character"``: the rate a character, billed by the characters spoken)."""

    per_second: Mapping[str, float]  # the rates, by resolution (per generation when ``per`` says)
    currency: str = "USD"
    input_video_cap: float = 5.0
    per: Literal["second", "generation", "character"] = "second"
    # Other models' tables on the same provider, by model id (a snapshot finds its family's).
    by_model: Mapping[str, PriceTable] = field(default_factory=dict)

    def for_model(self, model: str) -> PriceTable:
        """The table a shot on ``model`` is billed by: its own, else this one."""
        if model in self.by_model:
            return self.by_model[model]
        match = SNAPSHOT.match(model)
        return self.by_model.get(match.group("family") if match else model, self)

    def describe(self) -> str:
        """The price model in one line, each rate in its own unit and in plain decimals: "USD
        0.1/s 720P, 0.15/s 1080P (+ input video <= 5 s)", "USD 0.1 per 10,000 characters",
        "USD 0.03 a generation"; "free" when every rate is 0."""
        if not any(self.per_second.values()):
            return "free"
        if self.per == "character":
            rates = ", ".join(f"{decimal(rate * 10000)} per 10,000 characters {_named(res)}"
                              .rstrip() for res, rate in self.per_second.items())
            return f"{self.currency} {rates}"
        unit = "/s" if self.per == "second" else " a generation"
        rates = ", ".join(f"{decimal(rate)}{unit} {_named(res)}".rstrip()
                          for res, rate in self.per_second.items())
        extra = f" (+ input video <= {self.input_video_cap:g} s)" \
            if self.per == "second" and self.input_video_cap else ""
        return f"{self.currency} {rates}{extra}"

    def billed_seconds(self, output_seconds: float, input_video_seconds: float = 0.0) -> float:
        return min(input_video_seconds, self.input_video_cap) + output_seconds

    def cost(self, resolution: str, billed_seconds: float) -> float:
        rate = self.per_second.get(resolution, max(self.per_second.values(), default=0.0))
        if self.per == "generation":
            return rate
        # Round up to 1/10000 (never under-estimate), after removing float noise (0.1 * 3).
        return math.ceil(round(rate * billed_seconds * 10000, 6)) / 10000
