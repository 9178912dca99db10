"""The season's tiles into the studio's episode grid page (``/season``): one link per episode.

Each tile shows the episode's cover (``cover_of``: its stitched file's poster, else its first
shot's still, board or reference, as the studio's page shows them, served by name), says the
episode's number and title, its boards approved of its boards, its videos done of its shots, what
it spent and what it is planned at, and opens the episode's section of the studio's page
(``/#ANCHOR``: the takes it uses now). Every text from the series' files (a title, an id) is
escaped; the page has no script.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from urllib.parse import quote

from storyboard.review.progress import money
from storyboard.review.seasongrid import Tile
from storyboard.review.sheet.model import Episode, anchor
from storyboard.review.sheet.thumbs import Still

STYLE = """
body{font:14px system-ui,sans-serif;margin:0;background:#f4f4f2;color:#222}
header{padding:12px 20px;background:#222;color:#eee}header a{color:#9cf}
h1{font-size:18px;margin:0 0 4px}
#grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;padding:16px}
a.tile{display:block;padding:10px;border-radius:6px;background:#fff;color:inherit;
 text-decoration:none;border:1px solid #ddd}
a.tile:hover{border-color:#36c}a.tile.complete{border-left:4px solid #393}
.tile img.cover{display:block;width:100%;aspect-ratio:16/9;object-fit:cover;border-radius:4px;
 margin-bottom:6px;background:#ddd}
.tile .title{display:block;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.tile .figure{display:block;color:#555;font-size:12px}
"""


def grid_page(series: str, tiles: Sequence[Tile], note: str = "",
              covers: Mapping[str, str] | None = None) -> str:
    """The grid of ``tiles`` for the series titled ``series``; ``note``: a line under its title
    (plain text, escaped here); ``covers``: each episode's cover still, by the episode's id (its
    link; an episode without one shows none)."""
    items = "".join(tile_html(tile, (covers or {}).get(tile.id, "")) for tile in tiles)
    said = f"<p>{escape(note)}</p>" if note else ""
    totals = _totals(tiles)
    return ('<!doctype html><html><head><meta charset="utf-8">'
            f"<title>{escape(series)}: season</title><style>{STYLE}</style></head><body>"
            f'<header><h1>{escape(series)}</h1><p class="season-totals">{escape(totals)}</p>'
            f'{said}<a href="/">the studio\'s page</a> · '
            '<a class="cast-link" href="/season/cast">the cast across the season</a></header>'
            f'<main id="grid">{items}</main></body></html>')


def tile_html(tile: Tile, cover: str = "") -> str:
    complete = " complete" if tile.shots and tile.videos_done == tile.shots else ""
    target = quote(anchor(tile.id), safe="")
    shown = f'<img class="cover" src="{escape(cover)}" alt="" loading="lazy">' if cover else ""
    return (f'<a class="tile{complete}" href="/#{target}" data-episode="{escape(tile.id)}">'
            f'{shown}<span class="title">{tile.number}. {escape(tile.title or tile.id)}</span>'
            f'<span class="figure boards">boards {tile.boards_approved}/{tile.boards} '
            "approved</span>"
            f'<span class="figure videos">videos {tile.videos_done}/{tile.shots} done</span>'
            f'<span class="figure cost">spent {escape(money(tile.spent, tile.currency))}'
            f"{_planned(tile.planned, tile.currency)}</span></a>")


def cover_of(episode: Episode) -> Still | None:
    """An episode's cover: its stitched file's poster, else the first still its shots show (a
    render's, its board's picked take, a reference's), in the order of its shots."""
    if episode.poster is not None:
        return episode.poster
    for panel in episode.panels:
        board = panel.board.takes if panel.board is not None else ()
        found = [*panel.stills, *(t.still for t in board if t.used and t.still is not None),
                 *(r.still for r in panel.references if r.still is not None)]
        if found:
            return found[0]
    return None


def covers_of(episodes: Sequence[Episode]) -> dict[str, str]:
    """Each episode's cover's link, by the episode's id (those with one)."""
    return {ep.id: still.src for ep in episodes if (still := cover_of(ep)) is not None}


def _planned(amount: float | None, currency: str) -> str:
    return "; not priced" if amount is None else f" of {escape(money(amount, currency))} planned"


def _totals(tiles: Sequence[Tile]) -> str:
    if not tiles:
        return "no episode yet"
    currency = tiles[0].currency
    planned = [t.planned for t in tiles if t.planned is not None]
    return (f"{len(tiles)} episode(s); boards {sum(t.boards_approved for t in tiles)}/"
            f"{sum(t.boards for t in tiles)} approved; videos {sum(t.videos_done for t in tiles)}/"
            f"{sum(t.shots for t in tiles)} done; spent "
            f"{money(sum(t.spent for t in tiles), currency)}"
            + (f" of {money(sum(planned), currency)} planned" if len(planned) == len(tiles)
               else "; not priced"))


def waiting_page(series: str, why: str) -> str:
    """The page while there is no grid to show: the studio starting (it reloads itself each
    second), or a series that does not load."""
    reload = '<meta http-equiv="refresh" content="1">' if why == "starting" else ""
    return ('<!doctype html><html><head><meta charset="utf-8">'
            f"<title>{escape(series)}: season</title>{reload}<style>{STYLE}</style></head><body>"
            f"<header><h1>{escape(series)}</h1><p>{escape(why)}</p>"
            '<a href="/">the studio\'s page</a></header></body></html>')
