"""Sheet data into a contact sheet: one PNG grid of shot stills captioned with ids and durations.

For places that show images but not HTML (a chat, an issue tracker). The generated cast's images
come first, one cell each (the take in use, named when there are several; "not made" when it is
not made yet), as on the HTML sheet; then each shot gives its middle frame when rendered (of the
take it uses, named in its caption when it has several), else its first reference; captions reach
ffmpeg through text files only.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from storyboard.errors import MediaError
from storyboard.media import ffmpeg
from storyboard.review.sheet.model import Asset, Panel, Sheet
from storyboard.review.sheet.thumbs import WIDTH

COLUMNS = 4
HEIGHT = 180


def _picture(panel: Panel) -> Path | None:
    if not panel.stills:
        return None
    return panel.stills[len(panel.stills) // 2 if panel.stills_from == "render" else 0].path


def caption(episode: str, panel: Panel) -> str:
    """``ep01 #1 ballad · 5.00 s``; a shot of several takes names the one it uses (``ballad#2``,
    ``ballad#1``)."""
    take = f"#{panel.take}" if panel.takes else ""
    return f"{episode} #{panel.number} {panel.id}{take} · {panel.seconds:.2f} s"


def cast_cell(asset: Asset) -> tuple[Path | None, str]:
    """A generated image's cell: the take in use and ``cast/mia #2 · character`` (a take not
    made yet: no picture, ``not made``)."""
    take = next((t for t in asset.takes if t.number == asset.take), None)
    picture = take.still.path if take is not None and take.still is not None else None
    number = f" #{asset.take}" if len(asset.takes) > 1 else ""
    return picture, f"{asset.id}{number} · {asset.subject if picture else 'not made'}"


def cells_of(sheet: Sheet) -> list[tuple[Path | None, str]]:
    """Every cell in order: the cast's images, then each episode's shots."""
    cast = [cast_cell(a) for a in sheet.cast if a.kind == "image"]
    shots = [(_picture(p), caption(ep.id, p)) for ep in sheet.episodes for p in ep.panels
             if p.kind == "shot"]
    return cast + shots


def contact_sheet(sheet: Sheet, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".contact-", dir=out.parent) as tmp:
        cells = []
        for index, (picture, words) in enumerate(cells_of(sheet)):
            text = Path(tmp) / f"caption{index:04d}.txt"
            text.write_text(words, encoding="utf-8")
            cells.append((picture, text))
        if not cells:
            raise MediaError("no shots to put on a contact sheet")
        return ffmpeg.contact_sheet(cells, out, columns=min(COLUMNS, len(cells)), width=WIDTH,
                                    height=HEIGHT)
