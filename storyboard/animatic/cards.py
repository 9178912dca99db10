"""Card text into title and end cards: drawn and encoded exactly like shots, so they join by copy."""

from __future__ import annotations

from pathlib import Path

from storyboard.animatic.clip import render
from storyboard.animatic.draw import DRAFT_FPS, Animatic, TimedText, draft_size
from storyboard.animatic.shots import existing
from storyboard.media.cardtext import fit_card_text

__all__ = ["render_card"]


def render_card(out: Path, *, text: str, width: int, height: int, duration: float, fps: int = 30,
                color: str = "black", image: Path | None = None, text_color: str = "white",
                draft: bool = False) -> None:
    """A title or end card: ``text`` centred on ``color`` or on ``image`` scaled to fill, with a
    silent track, encoded exactly like shots so cards and shots join by stream copy.

    ``width``, ``height`` and ``fps`` are the full-size values; ``draft`` derives the proxy size and
    rate exactly as draft shots do.
    """
    size, _ = fit_card_text(text, width, height)  # at full size, so a draft looks the same
    if draft:
        width, height = draft_size(width, height)
        fps = DRAFT_FPS
    spec = Animatic(width, height, duration, fps, draft, color=color,
                    backdrop=existing(image) if image is not None else None,
                    backdrop_fit="cover", texts=(TimedText(text, 0.0, duration),),
                    text_color=text_color, text_size=size)
    render(spec, out)
