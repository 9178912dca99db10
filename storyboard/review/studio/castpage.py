"""Each character's appearances across the season into the cast's page (``/season/cast``).

A strip a character: one tile an appearance, in episode and shot order, its face's crop (served
by name: ``/season/crop/NAME``, cut on first ask), the episode, shot and take, its distance to
the character's picture, coloured by its finding (``review.seasoncast.FINDINGS``), its finding's
words as the tile's title, and a click to the shot's section of the studio's page (the takes it
uses now). Every text from the series (a name, an id, a finding's words) is escaped.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from urllib.parse import quote

from storyboard.language.request import Manifest
from storyboard.review.seasoncast import FINDINGS, Appearance, appearances, counts, crop
from storyboard.review.studio.grid import STYLE as PAGE_STYLE

CROPS = "/season/crop/"  # where the crops are linked, by name
STYLE = """
#cast{padding:0 16px 16px}#cast h2{font-size:16px;margin:8px 4px}
.strip{margin:0 0 12px}.strip h3{font-size:14px;margin:4px}
.strip .said{color:#555;font-weight:normal;font-size:12px}
.strip ol{display:flex;gap:6px;overflow-x:auto;list-style:none;margin:0;padding:4px}
a.seen{display:block;min-width:76px;padding:3px;border-radius:4px;background:#fff;color:inherit;
 text-decoration:none;border:3px solid #9c9;font-size:11px;text-align:center}
a.seen img{display:block;height:72px;margin:0 auto 2px;border-radius:2px}
a.seen .face{display:block;height:72px;line-height:72px;color:#999}
a.seen.identity{border-color:#c33}a.seen.look{border-color:#e90}a.seen.grade{border-color:#c9c}
a.seen.na{border-color:#bbb;border-style:dashed}a.seen.unmeasured{border-color:#ddd;opacity:.7}
"""


def cast_html(strips: Mapping[str, Sequence[Appearance]]) -> str:
    """The cast's strips; "" for a season whose shots declare no one."""
    if not strips:
        return ""
    rows = "".join(_strip(name, found, counts({name: found})[name])
                   for name, found in strips.items())
    return (f'<style>{STYLE}</style><section id="cast"><h2>The cast across the season</h2>'
            f"{rows}</section>")


def cast_page_html(series: str, strips: Mapping[str, Sequence[Appearance]]) -> str:
    """The whole page: the series' title, the way back to the grid, the strips (or a line
    saying no shot declares anyone)."""
    body = cast_html(strips) or "<p id=\"cast\">No shot of this season declares a character.</p>"
    return ('<!doctype html><html><head><meta charset="utf-8">'
            f"<title>{escape(series)}: the cast</title><style>{PAGE_STYLE}</style></head><body>"
            f"<header><h1>{escape(series)}</h1><a href=\"/season\">the episode grid</a> · "
            f"<a href=\"/\">the studio's page</a></header>{body}</body></html>")


def _strip(name: str, found: Sequence[Appearance], tally: Mapping[str, int]) -> str:
    said = ", ".join(f"{tally[kind]} {kind}" for kind in FINDINGS if tally[kind])
    tiles = "".join(_tile(a) for a in found)
    return (f'<div class="strip" data-character="{escape(name)}"><h3>@{escape(name)} '
            f'<span class="said">{escape(said)}</span></h3><ol>{tiles}</ol></div>')


def _tile(seen: Appearance) -> str:
    name = seen.crop_name
    face = (f'<img src="{CROPS}{quote(name)}" alt="" loading="lazy">' if name else
            '<span class="face">no face</span>')
    far = "" if seen.distance is None else f" · {seen.distance:.2f}"
    words = seen.detail or seen.finding
    css = "na" if seen.finding == "n/a" else seen.finding
    return (f'<li><a class="seen {css}" href="/#{quote(seen.anchor, safe="")}" '
            f'title="{escape(words)}" data-finding="{escape(seen.finding)}">{face}'
            f'<span>{escape(seen.episode)} {escape(seen.shot)} t{seen.take}{far}</span></a></li>')


class Cast:
    """The strips of the last manifest asked for (kept while it and the files' stamps hold), and
    the crops they name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder  # where crops are kept
        self.kept: tuple[Manifest, object, dict[str, list[Appearance]]] | None = None
        self.named: dict[str, Appearance] = {}
        self.lock = threading.Lock()

    def strips(self, manifest: Manifest, stamp: object) -> dict[str, list[Appearance]]:
        with self.lock:
            if self.kept is not None and self.kept[0] is manifest and self.kept[1] == stamp:
                return self.kept[2]
            made = appearances(manifest)
            self.kept = (manifest, stamp, made)
            self.named = {a.crop_name: a for found in made.values() for a in found if a.crop_name}
            return made

    def crop(self, name: str) -> Path | None:
        """The crop a strip names (cut now if it was not yet); None for any other name."""
        seen = self.named.get(name)
        return crop(seen, self.folder) if seen is not None else None
