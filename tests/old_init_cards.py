"""Names into the placeholder cards older versions of ``storyboard init`` drew: their recipe, kept.

``storyboard init`` used to draw these (``storyboard/scaffold/placeholder.py``, up to the version
that described the cast in words instead); users still have them on disk, so the tests draw them
exactly as it did, to prove they are recognised (``storyboard/media/initcard.py``). ``pred`` is
the only addition: the same card written with another PNG filter.

A card is clearly a stand-in (it says PLACEHOLDER under the name) yet within the model's limits for
a reference image (each side at least 240 px). It is drawn with the package's own font, ffmpeg's C
reference paths and bit-exact flags, so the same name gives the same bytes on every machine with the
same ffmpeg build. Replace it with a real picture before a paid render.

``cards`` draws many at once: one ffmpeg run per ``BATCH`` cards of one size (a filtergraph with one
branch per card), not one run per card.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from storyboard.media import ffmpeg

PORTRAIT = (384, 512)  # a person or a prop
LANDSCAPE = (512, 288)  # a place
BACKGROUND = "0x808080"
WORD = "PLACEHOLDER - replace this image"
BATCH = 48  # cards one ffmpeg run draws
LONGEST = 40  # characters of a name drawn on a card (a longer one is cut, with "...")


def _drawtext(text: str, size: int, y: str) -> str:
    """One centred line of ``text`` (never expanded: ``%{...}`` stays as written)."""
    font = ffmpeg.filter_value(str(ffmpeg.font_path()))
    return (f"drawtext=fontfile={font}:expansion=none:text={ffmpeg.filter_value(text)}"
            f":fontsize={size}:fontcolor=white:x=(w-text_w)/2:y={y}")


def _branch(name: str, width: int) -> str:
    """The filters that draw ``name`` and the placeholder word on a blank card."""
    name = name if len(name) <= LONGEST else name[:LONGEST - 3] + "..."
    big = max(12, min(48, int(width * 1.6 / max(len(name), 1))))
    return ",".join([_drawtext(name, big, "(h-text_h)/2"), _drawtext(WORD, 14, "h-text_h-16"),
                     "format=rgb24"])


def _batch(jobs: Sequence[tuple[Path, str]], size: tuple[int, int], pred: str = "") -> None:
    width, height = size
    count = len(jobs)
    splits = "".join(f"[b{i}]" for i in range(count))
    graph = [f"color=c={BACKGROUND}:s={width}x{height}:d=1,split={count}{splits}" if count > 1
             else f"color=c={BACKGROUND}:s={width}x{height}:d=1[b0]"]
    graph += [f"[b{i}]{_branch(name, width)}[o{i}]" for i, (_, name) in enumerate(jobs)]
    args = [*ffmpeg.PORTABLE_ARGS, "-filter_complex", ffmpeg.GRAPH_PREFIX + ";".join(graph)]
    for i, (path, _) in enumerate(jobs):
        path.parent.mkdir(parents=True, exist_ok=True)
        args += ["-map", f"[o{i}]", "-frames:v", "1", "-update", "1", "-fflags", "+bitexact",
                 "-flags", "+bitexact", "-f", "image2", "-c:v", "png",
                 *(["-pred", pred] if pred else []), str(path)]
    ffmpeg.run(args, what=f"drawing the placeholder {jobs[0][0].name}"
               + (f" and {count - 1} more" if count > 1 else ""))


def cards(jobs: dict[Path, tuple[str, tuple[int, int]]]) -> None:
    """Draw each card ``path -> (name, size)``: a few ffmpeg runs, whatever the count."""
    by_size: dict[tuple[int, int], list[tuple[Path, str]]] = {}
    for path, (name, size) in jobs.items():
        by_size.setdefault(size, []).append((path, name))
    for size, group in by_size.items():
        for start in range(0, len(group), BATCH):
            _batch(group[start:start + BATCH], size)


def card(path: Path, name: str, *, size: tuple[int, int] = PORTRAIT, pred: str = "") -> Path:
    """A grey card at ``path`` (PNG) with ``name`` large in the middle and the placeholder word."""
    with ffmpeg.atomic_output(path) as tmp:
        _batch([(tmp, name)], size, pred)
    return path
