"""Card text into the size that fits: how the animatic wraps title and end cards, without drawing.

Shared by the ``local`` provider, which draws the cards, and by ``check``, which warns about card
text that cannot fit at any readable size.
"""

from __future__ import annotations

import textwrap

CARD_TEXT_SIZE = 0.08
CARD_TEXT_FLOOR = 0.04  # the smallest card text (of the short side) that still reads on a phone
CARD_GLYPH_WIDTH = 0.58  # average DejaVu Sans advance in ems, as the animatic wraps with


def fit_card_text(text: str, width: int, height: int) -> tuple[float, bool]:
    """The text size (a fraction of the short side) at which ``text`` fits a ``width`` x
    ``height`` card, and whether it fits at all: CARD_TEXT_SIZE, shrunk step by step down to
    CARD_TEXT_FLOOR, wrapping as the card does (an estimated glyph width, 1.3 line height).
    Localised copy runs longer than the original; below the floor it would be unreadable, so
    there the text is cut (with an ellipsis) and ``check`` warns."""
    short = min(width, height)
    margin = 2 * round(short * 0.03 / 2)
    size = CARD_TEXT_SIZE
    while True:
        font = max(8, round(short * size))
        columns = max(8, int((width - 2 * margin) / (font * CARD_GLYPH_WIDTH)))
        lines = sum(len(textwrap.wrap(part, columns) or [""]) for part in text.split("\n"))
        if lines <= max(1, int((height - 2 * margin) / (font * 1.3))):
            return size, True
        if size <= CARD_TEXT_FLOOR:
            return size, False
        size = max(CARD_TEXT_FLOOR, round(size * 0.9, 4))
