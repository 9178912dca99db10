"""Sheet data into one self-contained HTML page: the Jinja2 template, autoescaped, CSS inline.

Every piece of user text (prompts, dialogue, card text, file names, problems) reaches the page
through Jinja2's autoescaping, never through string building; images are ``data:`` URIs; the only
links are relative ones to the stitched episodes and voice clips beside the series. The studio
renders the same templates part by part (the header, the Cast section, each episode), with its own
links.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from storyboard.review.sheet.model import Episode, Panel, Sheet

TEMPLATES = Path(__file__).parent / "templates"
TAG = re.compile(r"[A-Za-z0-9-]{1,35}")  # a language tag, as a style sheet may hold it
_NAMED = re.compile(r"[A-Za-z]{3,20}")
_HEX = re.compile(r"(?:0x|#)([0-9A-Fa-f]{6})")


def css_color(value: str) -> str:
    """An ffmpeg colour (``black``, ``0x3b2418``, ``#3b2418``) as CSS; anything else is gray,
    so a card colour can never carry more CSS (or a URL) into the page."""
    if _NAMED.fullmatch(value):
        return value.lower()
    match = _HEX.fullmatch(value)
    return f"#{match.group(1).lower()}" if match else "gray"


@cache
def environment() -> SandboxedEnvironment:
    """Sandboxed, as the project uses Jinja2; autoescaping on, for HTML."""
    env = SandboxedEnvironment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                               undefined=jinja2.StrictUndefined, trim_blocks=True,
                               lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["css_color"] = css_color
    return env


def render(sheet: Sheet) -> str:
    return environment().get_template("sheet.html.j2").render(
        sheet=sheet, episode_html=episode_html, languages=switched(sheet))


def switched(sheet: Sheet) -> list[str]:
    """The languages the page's switches offer, each a rule of its style sheet that shows the
    chosen version with no script (a tag of letters, digits and ``-`` only: it is written into
    the style sheet, where nothing is escaped)."""
    return sorted({v.language for ep in sheet.episodes for v in ep.versions
                   if TAG.fullmatch(v.language)})


def header_html(sheet: Sheet) -> str:
    """The page's header alone, as the whole page has it (the studio sends it by itself)."""
    return environment().get_template("header.html.j2").render(sheet=sheet)


def cast_html(sheet: Sheet) -> str:
    """The Cast section alone, as the whole page has it."""
    return environment().get_template("cast.html.j2").render(sheet=sheet)


_EPISODES: dict[Episode, str] = {}  # an episode's HTML by what it shows (the studio's saves)
MAX_EPISODES = 512


def episode_html(ep: Episode) -> Markup:
    """One episode's section (``episode.html.j2``, escaped as the page is), made again only when
    something it shows changed: a studio page of many episodes is rebuilt on every save."""
    try:
        found, kept = _EPISODES.get(ep), True
    except TypeError:  # something unhashable in it: made each time
        found, kept = None, False
    if found is None:
        found = environment().get_template("episode.html.j2").render(ep=ep, panel_html=panel_html)
        if kept:
            if len(_EPISODES) >= MAX_EPISODES:
                _EPISODES.clear()
            _EPISODES[ep] = found
    return Markup(found)


_PANELS: dict[tuple[Panel, str], str] = {}  # a panel's HTML by what it shows
MAX_PANELS = 50_000


def panel_html(panel: Panel, episode: str) -> Markup:
    """One panel (``panel.html.j2``), made again only when it changed: an edit to one shot
    makes one panel again, not its episode's hundred."""
    try:
        found, kept = _PANELS.get((panel, episode)), True
    except TypeError:  # something unhashable in it: made each time
        found, kept = None, False
    if found is None:
        found = environment().get_template("panel.html.j2").render(p=panel, ep={"id": episode})
        if kept:
            if len(_PANELS) >= MAX_PANELS:
                _PANELS.clear()
            _PANELS[(panel, episode)] = found
    return Markup(found)
