"""A series' ``delivery:`` block into how its episodes are delivered: the preset's size, the
platform's loudness, burnt-in subtitles inside the safe area, the episode's number and title card,
and (``end_card: true``) the hook it ends on as its end card.

Declared here, as data: ``PRESETS`` (``vertical``: 9:16 at 1080x1920), ``SAFE_AREAS`` (the margins
burnt-in text keeps clear of, for a vertical video: the platforms' buttons along the right edge,
their captions and progress bar along the bottom) and ``PLATFORMS`` (each platform's integrated
loudness target and true peak ceiling; streaming platforms normalise around -14 LUFS, and a
ceiling of -1.5 dBTP keeps the AAC encode's true peak under -1 dBTP).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from storyboard.language.request import CompiledEpisode
from storyboard.stitch.model import SafeArea, StitchOptions


@dataclass(frozen=True)
class Preset:
    """A delivery size and the safe area burnt-in text stays inside."""

    name: str
    width: int
    height: int
    ratio: str
    safe_area: SafeArea


@dataclass(frozen=True)
class Loudness:
    """A platform's integrated loudness target (LUFS) and true peak ceiling (dBTP)."""

    integrated: float
    true_peak: float


# Margins as fractions of 1080x1920: top 192 px, bottom 384 px, left 65 px, right 162 px.
VERTICAL_SAFE_AREA = SafeArea(top=0.10, bottom=0.20, left=0.06, right=0.15)
PRESETS: dict[str, Preset] = {
    "vertical": Preset("vertical", 1080, 1920, "9:16", VERTICAL_SAFE_AREA),
}
DEFAULT_PLATFORM = "streaming"
PLATFORMS: dict[str, Loudness] = {
    "streaming": Loudness(-14.0, -1.5),
    "tiktok": Loudness(-14.0, -1.5),
    "douyin": Loudness(-14.0, -1.5),
    "youtube": Loudness(-14.0, -1.5),
    "instagram": Loudness(-14.0, -1.5),
    "broadcast": Loudness(-23.0, -1.5),  # EBU R128
}
DEFAULT_CARD_SECONDS = 2.0


@dataclass(frozen=True)
class Delivery:
    """One series' delivery, as its ``delivery:`` block says it (defaults filled in)."""

    preset: Preset
    loudness: Loudness
    burn_subtitles: bool = False
    title_card: bool = True
    card_seconds: float = DEFAULT_CARD_SECONDS
    cover: bool = True
    end_card: bool = False

    def options(self, options: StitchOptions) -> StitchOptions:
        """``options`` delivered: the preset's size, the platform's loudness, the safe area."""
        return replace(options, width=self.preset.width, height=self.preset.height,
                       loudness=self.loudness.integrated, true_peak=self.loudness.true_peak,
                       burn_subtitles=self.burn_subtitles or options.burn_subtitles,
                       safe_area=self.preset.safe_area)

    def title_card_spec(self, number: int, title: str, label: str | None = None
                        ) -> dict[str, Any]:
        """The card at the head of episode ``number`` (1 on): its number (``label``: a
        version's words for "Episode N"), then its title."""
        text = (label or f"Episode {number}") + (f"\n{title}" if title else "")
        return {"text": text, "duration": self.card_seconds}

    def end_card_spec(self, episode: CompiledEpisode) -> dict[str, Any] | None:
        """The card at the tail of ``episode``: the hook it ends on (None: it has none)."""
        hook = hook_of(episode)
        return {"text": hook, "duration": self.card_seconds} if hook else None


def hook_of(episode: CompiledEpisode) -> str:
    """The hook ``episode`` ends on: its ``hook:``, else its last spoken line (as written),
    else "" (user text: drawn as text, written as a value, never read as anything else)."""
    hook = episode.settings.get("hook")
    if isinstance(hook, str) and hook.strip():
        return hook.strip()
    lines = [line.text for shot in episode.shots for scene in shot.request.scenes
             for line in scene.lines]
    return " ".join(lines[-1].split()) if lines else ""


def delivery_of(settings: dict[str, Any]) -> Delivery | None:
    """The ``delivery:`` block of an episode's settings (the series'), or None without one. The
    schema has held its values to the declared presets and platforms already."""
    block = settings.get("delivery")
    if not isinstance(block, dict) or block.get("preset") not in PRESETS:
        return None
    platform = PLATFORMS[str(block.get("platform", DEFAULT_PLATFORM))]
    loudness = Loudness(float(block.get("loudness", platform.integrated)),
                        float(block.get("true_peak", platform.true_peak)))
    return Delivery(PRESETS[str(block["preset"])], loudness,
                    burn_subtitles=bool(block.get("burn_subtitles", False)),
                    title_card=bool(block.get("title_card", True)),
                    card_seconds=float(block.get("card_seconds", DEFAULT_CARD_SECONDS)),
                    cover=bool(block.get("cover", True)),
                    end_card=bool(block.get("end_card", False)))
