"""The sheet's data into the studio's page: its parts (the header, each section) with their tags.

The page is sent whole once (the first load); after a save, the event names each part with a tag
(a hash of its HTML), and the page fetches only the parts whose tag changed: an edit to one shot
moves one episode's section, not the series. Stills are links by name (``/still/NAME``, the
thumbs cache's content-hashed file names); the names the current page shows are the only ones the
studio serves (``stills``), so no path from a request is ever joined to a folder.
"""

from __future__ import annotations

import hashlib
import html as html_text
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from storyboard.errors import Diagnostic
from storyboard.review.sheet import html, model
from storyboard.review.sheet.pictures import stills as shown_stills

STILLS = "/still/"  # where the page's stills are linked, by name
HEADER = "header"  # the header's part name (a section's is its id, never "header")
_SHELL = ('<!doctype html><html><head><meta charset="utf-8"><title>storyboard studio</title>'
          "</head><body>{header}<main></main></body></html>")


@dataclass(frozen=True)
class Part:
    """One piece of the page the client replaces by itself."""

    key: str  # HEADER, or a section's id (its anchor: "ep01", "cast")
    html: str
    tag: str


@dataclass
class Page:
    """What the studio shows now: its parts in order, and the stills they name."""

    parts: tuple[Part, ...]
    stills: dict[str, Path] = field(default_factory=dict)
    sheet: model.Sheet | None = None  # None: a page that is only its header (a broken series)
    aside: str = ""  # the header's extra box (a waiting breakdown), HTML already escaped

    @cached_property
    def whole(self) -> str:
        """The whole page (made when a browser first loads it, not on every save)."""
        if self.sheet is not None:
            return within_header(html.render(self.sheet), self.aside)
        return _SHELL.format(header=self.parts[0].html)

    @cached_property
    def keyed(self) -> dict[str, Part]:
        return {part.key: part for part in self.parts}

    def tags(self) -> list[list[str]]:
        """``[key, tag]`` of each part, in page order (the header first)."""
        return [[part.key, part.tag] for part in self.parts]


def within_header(page: str, aside: str) -> str:
    """``aside`` at the end of the page's first header (the series'), so it moves with it."""
    if not aside:
        return page
    head, found, rest = page.partition("</header>")
    return head + aside + found + rest if found else page


def page_of(sheet: model.Sheet, aside: str = "") -> Page:
    """The studio's page of a sheet made with linked stills (``sheet_model(still_links=STILLS)``),
    with ``aside`` in its header."""
    parts = [Part(HEADER, *_tagged(within_header(html.header_html(sheet), aside)))]
    stills: dict[str, Path] = {}
    if sheet.cast:
        parts.append(Part("cast", *_tagged(html.cast_html(sheet))))
        stills.update(shown_stills.cast_stills(sheet.cast))
    for ep in sheet.episodes:
        text, tag, shown = _episode(ep)
        parts.append(Part(ep.anchor, text, tag))
        stills.update(shown)
    return Page(tuple(parts), stills, sheet, aside)


def broken(problems: Iterable[Diagnostic], aside: str = "") -> Page:
    """A page for a series that does not load: its problems, escaped, and no episode."""
    items = "".join(f"<pre>{html_text.escape(p.format())}</pre>" for p in problems)
    header = ('<header class="series"><h1>The series does not load</h1>'
              f'<div class="problems series-problems">{items}</div>{aside}</header>')
    return Page((Part(HEADER, *_tagged(header)),))


def starting() -> Page:
    """The page before the first check is done."""
    return Page((Part(HEADER, *_tagged('<header class="series"><h1>The studio is starting'
                                       "</h1></header>")),))


def _tagged(text: str) -> tuple[str, str]:
    return text, hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


# An episode's HTML, tag and stills by what it shows: the sections of the episodes a save did not
# touch are found here at once (equal views: ``sheet_model`` keeps them when nothing they show
# changed).
Shown = tuple[str, str, dict[str, Path]]
_EPISODES: dict[model.Episode, Shown] = {}
MAX_KEPT = 512


def _episode(ep: model.Episode) -> Shown:
    try:
        found, kept = _EPISODES.get(ep), True
    except TypeError:  # something unhashable in it: made each time
        found, kept = None, False
    if found is None:
        found = (*_tagged(str(html.episode_html(ep))), shown_stills.episode_stills(ep))
        if kept:
            if len(_EPISODES) >= MAX_KEPT:
                _EPISODES.clear()
            _EPISODES[ep] = found
    return found
