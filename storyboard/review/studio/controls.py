"""The sheet's HTML into the studio's page: a status bar, note and take controls, the live client.

The client listens to ``/events``: each event brings the version, the phase, the error count and
the tag of each part of the page (the header, each section). The bar is updated from the event
itself; the parts whose tag changed are fetched (``/part/KEY``) and patched in place: a panel is
replaced only when it changed, an episode player keeps playing (its new video waits until it is
paused), a section no save touched is left as it is, the scroll position is never touched.
Clicking a panel seeks its episode's player there; "play shot" plays that shot alone. User text
reaches the page only through the sheet's autoescaping or the DOM's ``textContent``.
"""

from __future__ import annotations

import html
from pathlib import Path

from storyboard.review.studio.state import Shown

HERE = Path(__file__).parent
STYLE = (HERE / "studio.css").read_text(encoding="utf-8")
SCRIPT = (HERE / "studio.js").read_text(encoding="utf-8")


def inject(page: str, token: str, shown: Shown) -> str:
    """The sheet with the studio's meta, style, bar and script."""
    head = (f'<meta name="studio-token" content="{html.escape(token)}">'
            f'<meta name="studio-event" content="{html.escape(shown.event)}">'
            f"<style>{STYLE}</style>")
    errors = f"{shown.errors} error(s)" if shown.errors else "no errors"
    bad = " bad" if shown.errors else ""
    bar = (f'<div id="studio-bar"><b>storyboard studio</b><span class="phase">'
           f"{html.escape(shown.phase)} · version {shown.version}</span>"
           f'<span class="errors{bad}">{errors}</span>'
           "<span>drafts only: the studio never spends</span>"
           '<a class="season-link" href="/season">episode grid</a>'
           "</div>")
    script = f"<script>{SCRIPT}</script>"
    page = page.replace("</head>", head + "</head>", 1)
    page = page.replace("<body>", f'<body data-version="{shown.version}">' + bar, 1)
    return page.replace("</body>", script + "</body>", 1) if "</body>" in page else page + script
