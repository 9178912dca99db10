"""Names into placeholder reference cards: grey PNGs with the name drawn on them by ffmpeg.

A card is clearly a stand-in (it says PLACEHOLDER under the name) yet within the model's limits for
a reference image (each side at least 240 px). It is drawn with the package's own font, ffmpeg's C
reference paths and bit-exact flags, so the same name gives the same bytes on every machine with the
same ffmpeg build. Replace it with a real picture before a paid render.
"""

from __future__ import annotations

from pathlib import Path

from storyboard.media import ffmpeg

PORTRAIT = (384, 512)  # a person or a prop
LANDSCAPE = (512, 288)  # a place
BACKGROUND = "0x808080"
WORD = "PLACEHOLDER - replace this image"


def _drawtext(text: str, size: int, y: str) -> str:
    """One centred line of ``text`` (never expanded: ``%{...}`` stays as written)."""
    font = ffmpeg.filter_value(str(ffmpeg.font_path()))
    return (f"drawtext=fontfile={font}:expansion=none:text={ffmpeg.filter_value(text)}"
            f":fontsize={size}:fontcolor=white:x=(w-text_w)/2:y={y}")


def card(path: Path, name: str, *, size: tuple[int, int] = PORTRAIT) -> Path:
    """A grey card at ``path`` (PNG) with ``name`` large in the middle and the placeholder word."""
    width, height = size
    big = max(12, min(48, int(width * 1.6 / max(len(name), 1))))
    graph = ",".join([f"color=c={BACKGROUND}:s={width}x{height}:d=1",
                      _drawtext(name, big, "(h-text_h)/2"),
                      _drawtext(WORD, 14, "h-text_h-16"), "format=rgb24"])
    with ffmpeg.atomic_output(path) as tmp:
        ffmpeg.run([*ffmpeg.PORTABLE_ARGS, "-f", "lavfi", "-i", graph, "-frames:v", "1",
                    "-update", "1", "-fflags", "+bitexact", "-flags", "+bitexact", "-f", "image2",
                    "-c:v", "png", str(tmp)], what=f"drawing the placeholder {path.name}")
    return path
