"""A series' waiting breakdown into the studio's view of it: each proposal as a diff, the cost.

The studio does not know how a story is broken down (the breakdown is a layer above it): the
command that starts it hands it a ``Lookout``, which says what the last breakdown left (the files
with a proposal beside them, the calls catching up with the story would make, planned from the
cache with nothing sent, and the most they cost). Here that becomes HTML: each proposal as a
unified diff against the file it would replace, every line escaped (the proposal holds a model's
and an author's words), and the catch-up's price with the command that would pay it. The studio
never runs it. A proposal is read only from inside the series folder, never through a link out.
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROPOSED = ".proposed"
MAX_LINES = 400  # a diff's lines shown; the rest is counted, not shown
CLASSES = {"+": "add", "-": "del", "@": "hunk"}


@dataclass(frozen=True)
class Waiting:
    """What a series' last breakdown left: proposals, and what catching up with its story costs."""

    proposals: tuple[str, ...] = ()  # the series' files with NAME.proposed beside them
    story: str = ""  # the story's file name
    pending: tuple[str, ...] = ()  # the calls catching up would make ("shots of chapter 2")
    cost: float = 0.0  # the most they would cost, USD
    command: str = ""  # the command that would ask them (the studio never runs it)
    problem: str = ""  # why the catch-up cannot be planned, if it cannot


Lookout = Callable[[Path], Waiting | None]


def aside(root: Path, lookout: Lookout | None) -> str:
    """The breakdown's box for the page's header ("" when the series has no breakdown)."""
    if lookout is None:
        return ""
    try:
        waiting = lookout(root)
    except Exception as error:  # a bad record must not take the page down: say it, escaped
        return _box(f"<p class=\"problem\">cannot read the breakdown: {_e(repr(error))}</p>")
    if waiting is None:
        return ""
    items = [_proposal(root, name) for name in waiting.proposals]
    return _box("".join([*items, _catch_up(waiting)]))


def _box(inner: str) -> str:
    return (f'<section class="breakdown" id="breakdown"><h2>Breakdown</h2>{inner}'
            "<p class=\"free\">planned from the cache: nothing is sent, the studio never "
            "spends</p></section>")


def _catch_up(waiting: Waiting) -> str:
    if waiting.problem:
        return f'<p class="catch-up problem">{_e(waiting.problem)}</p>'
    if not waiting.pending:
        return (f'<p class="catch-up done">up to date with {_e(waiting.story)} (every answer is '
                "cached)</p>")
    calls = "".join(f"<li>{_e(call)}</li>" for call in waiting.pending)
    return (f'<div class="catch-up"><p>{_e(waiting.story)} changed since the last breakdown: '
            f'{len(waiting.pending)} call(s) to ask, up to <b class="cost">'
            f"${waiting.cost:.4f}</b></p><ul>{calls}</ul>"
            f"<p>to ask them: <code>{_e(waiting.command)}</code></p></div>")


def _proposal(root: Path, name: str) -> str:
    current, proposed = read_inside(root, name), read_inside(root, name + PROPOSED)
    title = (f"<summary><code>{_e(name)}</code>: you edited it since the breakdown wrote it; its "
             f"proposal waits beside it as <code>{_e(name + PROPOSED)}</code></summary>")
    if current is None or proposed is None:
        return f'<details class="proposal">{title}<p>cannot read it</p></details>'
    return f'<details class="proposal" open>{title}{diff_html(name, current, proposed)}</details>'


def diff_html(name: str, current: str, proposed: str) -> str:
    """The proposal against the file, as ``git diff`` shows it, each line escaped."""
    lines = list(difflib.unified_diff(current.splitlines(), proposed.splitlines(), name,
                                      name + PROPOSED, lineterm=""))
    rows = [_row(line) for line in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        rows.append(f'<span class="more">... {len(lines) - MAX_LINES} more line(s)</span>')
    return f'<pre class="diff">{"".join(rows) or "(the same text)"}</pre>'


def _row(line: str) -> str:
    kind = "file" if line.startswith(("+++", "---")) else CLASSES.get(line[:1], "same")
    return f'<span class="{kind}">{_e(line)}</span>\n'


def read_inside(root: Path, name: str) -> str | None:
    """The text of ``name`` in the series folder; None outside it (a link out, ``..``) or unread."""
    try:
        target = (root / name).resolve()
        if "\0" in name or not target.is_relative_to(root.resolve()) or not target.is_file():
            return None
        return target.read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None


def _e(text: str) -> str:
    return html.escape(text.encode("utf-8", "backslashreplace").decode("utf-8"))
