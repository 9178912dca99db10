"""Sheet data into a contact sheet: one PNG grid of shot stills captioned with ids and durations.

For places that show images but not HTML (a chat, an issue tracker). Each shot gives its middle
frame when rendered (of the take it uses, named in its caption when it has several), else its first
reference; captions reach ffmpeg through text files only.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from storyboard.errors import MediaError
from storyboard.media import ffmpeg
from storyboard.review.sheet.model import Panel, Sheet
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


def contact_sheet(sheet: Sheet, out: Path) -> Path:
    shots = [(ep.id, p) for ep in sheet.episodes for p in ep.panels if p.kind == "shot"]
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".contact-", dir=out.parent) as tmp:
        cells = []
        for index, (episode, panel) in enumerate(shots):
            text = Path(tmp) / f"caption{index:04d}.txt"
            text.write_text(caption(episode, panel), encoding="utf-8")
            cells.append((_picture(panel), text))
        if not cells:
            raise MediaError("no shots to put on a contact sheet")
        return ffmpeg.contact_sheet(cells, out, columns=min(COLUMNS, len(cells)), width=WIDTH,
                                    height=HEIGHT)
