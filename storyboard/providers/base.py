"""Providers into declarations: what every provider is (limits, prices, words) and the task interface.

A provider is mostly data, like a dialect: ``Capabilities`` (its limits), ``PriceTable`` (for plans)
and a status vocabulary, plus a small async task interface. The runner owns retries, pacing, polling,
the journal and the cache; a provider only sends one request and translates one answer, the way an
HTTP transport only sends while the client owns redirects.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from storyboard.request import CompiledShot, ShotRequest

# Output sizes of wan2.7-r2v (spec section 1): (resolution, ratio) -> (width, height).
NATIVE_SIZES: dict[tuple[str, str], tuple[int, int]] = {
    ("720P", "16:9"): (1280, 720), ("1080P", "16:9"): (1920, 1080),
    ("720P", "9:16"): (720, 1280), ("1080P", "9:16"): (1080, 1920),
    ("720P", "1:1"): (960, 960), ("1080P", "1:1"): (1440, 1440),
    ("720P", "4:3"): (1104, 832), ("1080P", "4:3"): (1648, 1248),
    ("720P", "3:4"): (832, 1104), ("1080P", "3:4"): (1248, 1648),
}


class TaskStatus(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUSPENDED = "SUSPENDED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    UNKNOWN = "UNKNOWN"

    @property
    def finished(self) -> bool:
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED,
                        TaskStatus.UNKNOWN)


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

    def duration_range(self, request: ShotRequest) -> tuple[int, int]:
        top = self.max_duration_with_video if request.has_video_reference else self.max_duration
        return self.min_duration, top

    def size(self, resolution: str, ratio: str) -> tuple[int, int]:
        return self.sizes[(resolution, ratio)]


@dataclass(frozen=True)
class PriceTable:
    """Price by resolution, per billed second (input video seconds, capped, plus output) or per
    generation (``per="generation"``: one price a task, whatever its length)."""

    per_second: Mapping[str, float]  # the rates, by resolution (per generation when ``per`` says)
    currency: str = "USD"
    input_video_cap: float = 5.0
    per: Literal["second", "generation"] = "second"

    def describe(self) -> str:
        """The price model in one line: "USD 0.1/s 720P, 0.15/s 1080P (+ input video <= 5 s)"."""
        unit = "/s" if self.per == "second" else " a generation"
        rates = ", ".join(f"{rate:g}{unit} {res}" for res, rate in self.per_second.items())
        extra = f" (+ input video <= {self.input_video_cap:g} s)" if self.per == "second" else ""
        return f"{self.currency} {rates}{extra}"

    def billed_seconds(self, output_seconds: float, input_video_seconds: float = 0.0) -> float:
        return min(input_video_seconds, self.input_video_cap) + output_seconds

    def cost(self, resolution: str, billed_seconds: float) -> float:
        rate = self.per_second.get(resolution, max(self.per_second.values(), default=0.0))
        if self.per == "generation":
            return rate
        # Round up to 1/10000 (never under-estimate), after removing float noise (0.1 * 3).
        return math.ceil(round(rate * billed_seconds * 10000, 6)) / 10000


@dataclass
class Usage:
    output_seconds: float = 0.0
    input_video_seconds: float = 0.0


@dataclass
class TaskState:
    """One answer about one task, already translated into our words."""

    task_id: str
    status: TaskStatus
    video_url: str | None = None
    code: str = ""
    message: str = ""
    usage: Usage | None = None
    submit_time: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    """What the runner needs of a provider. One call, one request: no retries in here."""

    name: str
    cache_key: str  # outputs are cached per (cache_key, shot hash): "local-r2-draft" != "local-r2"
    # (optional) ``writes_lock = False``: this provider's renders are proxies that never go into
    # ``storyboard.lock`` (the local provider's drafts); the runner reads it with a default of True.
    # (optional) ``downloads = False``: its results are local files, so no "downloading" state.
    capabilities: Capabilities
    prices: PriceTable

    async def submit(self, shot: CompiledShot, first_frame: Path | None) -> str:
        """Start a task for ``shot``; return its task id. ``first_frame`` is a frame from a
        dependency already rendered (``first_frame: {from: ...}``)."""
        ...

    def preflight(self) -> None:
        """Raise a clear error now if this provider cannot work at all (no API key, say), before
        a run starts, rather than one failure per shot."""
        ...

    async def query(self, task_id: str) -> TaskState: ...

    async def cancel(self, task_id: str) -> None: ...

    async def find(self, shot: CompiledShot, since: float) -> list[TaskState]:
        """Reconcile a submit whose answer never came: EVERY task the provider cannot tell apart
        from ``shot``'s (same prompt, say) created after ``since`` (a UNIX time), newest first.
        The runner decides which, if any, is this shot's: never return only the newest."""
        ...

    async def download(self, state: TaskState, dest: Path) -> None:
        """Fetch a finished task's video into ``dest`` (a temporary path the runner renames)."""
        ...

    async def aclose(self) -> None: ...
