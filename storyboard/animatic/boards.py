"""A board's words and the cast's local cards into a drawn board: the ``local`` provider's still.

What the ``local`` provider makes for a board (``AssetRequest(subject="board")``), offline and free:
a frame of the board's size (its longer side at most ``LONGEST``) on a tint taken from the board's
hash, the shot's words wrapped across its top, the cast's local cards (the pictures the board
references, in order) side by side below them, its name in a corner and its take's number when it
has several. One ffmpeg run on its C reference paths with bit-exact flags: the same inputs give the
same bytes. The words reach drawtext only through files, with expansion off.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from storyboard.animatic.cast import tint
from storyboard.animatic.graph import Graph, TextFiles, drawtext_filter, filter_text, wrap
from storyboard.language.boardshots import FRAME_RULE
from storyboard.media import ffmpeg, imagehead

LONGEST = 1280  # a drawn board's longer side at most: readable, and quick to draw
DEFAULT_SIZE = (1280, 720)
MOST_CARDS = 4  # the cards drawn side by side (the rest are named in the words)
WORDS = 400  # characters of the board's words drawn
LEAD = "Storyboard frame: "  # how a compiled board prompt begins


def board_size(size: str) -> tuple[int, int]:
    """``W*H`` as the drawn board's width and height: the same shape, the longer side at most
    ``LONGEST``, both even; 1280x720 when it names none."""
    width, star, height = size.partition("*")
    if not star or not width.isdigit() or not height.isdigit() or "0" in (width[:1], height[:1]):
        return DEFAULT_SIZE
    w, h = int(width), int(height)
    scale = min(1.0, LONGEST / max(w, h))
    return max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)


def board_words(prompt: str) -> str:
    """What a board's compiled prompt says of its shot: without the frame's lead-in and the
    instruction to make one single frame (the drawn board is one frame already)."""
    words = prompt.strip().removeprefix(LEAD).replace(FRAME_RULE, "")
    return words.strip()


def draw_board(out: Path, *, name: str, words: str, cards: Sequence[Path], size: str,
               content_hash: str, take: int = 0) -> Path:
    """A PNG board: ``words`` over ``cards`` (the cast's local cards, in order) on a tint of
    ``content_hash``, ``name`` in a corner and ``take N`` when ``take`` is set."""
    width, height = board_size(size)
    with tempfile.TemporaryDirectory(prefix=".board-") as folder:
        texts = TextFiles(Path(folder))
        graph = Graph()
        base = graph.input(f"color=c={tint(content_hash)}:s={width}x{height}:d=1", "-f", "lavfi")
        base = _cards(graph, base, list(cards)[:MOST_CARDS], width, height)
        font = max(12, height // 24)
        rows = max(1, (height // 4 - font) * 3 // (font * 4))  # what the band above the cards holds
        said = wrap(board_words(words)[:WORDS], width - 2 * font, font, rows)
        lines = [drawtext_filter(texts(said), fontsize=font, fontcolor="white", x=font, y=font,
                           line_spacing=font // 3),
                 drawtext_filter(texts(name), fontsize=font, fontcolor="white", x=font,
                           y=f"h-text_h-{font}")]
        if take:
            lines.append(drawtext_filter(texts(f"take {take}"), fontsize=font * 2, fontcolor="white",
                                   x=f"w-text_w-{font}", y=f"h-text_h-{font}"))
        final = graph.chain([base], *lines, filter_text("format", "rgb24"))
        with ffmpeg.atomic_output(out) as tmp:
            ffmpeg.run([*ffmpeg.PORTABLE_ARGS, *graph.args(final), "-frames:v", "1",
                        "-update", "1", *ffmpeg.BITEXACT, "-f", "image2", "-c:v", "png",
                        str(tmp)], what=f"drawing the board {name}")
    return out


def _cards(graph: Graph, base: str, cards: list[Path], width: int, height: int) -> str:
    """``cards`` scaled into equal cells side by side, from a quarter of the way down."""
    if not cards:
        return base
    gap = max(2, width // 64)
    cell_w = (width - gap * (len(cards) + 1)) // len(cards)
    cell_h = height * 5 // 9
    for index, card in enumerate(cards):
        scaled = graph.chain([graph.input(str(card), *imagehead.demuxer(card))], filter_text(
            "scale", cell_w, cell_h, force_original_aspect_ratio="decrease"),
            filter_text("format", "rgb24"))
        x = gap + index * (cell_w + gap)
        base = graph.chain([base, scaled], filter_text(
            "overlay", x=f"{x}+({cell_w}-overlay_w)/2", y=height // 4))
    return base
