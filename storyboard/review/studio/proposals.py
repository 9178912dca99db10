"""A series' waiting breakdown into the studio's view of it: each proposal as a diff, the cost.

The studio does not know how a story is broken down (the breakdown is a layer above it): the
command that starts it hands it a ``Lookout``, which says what the last breakdown left (the files
with a proposal beside them, the calls catching up with the story would make, planned from the
cache with nothing sent, and the most they cost). Here that becomes HTML: each proposal as a
unified diff against the file it would replace, every line escaped (the proposal holds a model's
and an author's words), and the catch-up's price with the command that would pay it. The studio
never runs it. A proposal is read only from inside the series folder, never through a link out.

Each proposal has Accept and Dismiss (``settle``, behind the studio's POST routes): accept puts
the proposal in the file's place (an empty proposal, the breakdown's proposal to remove a file it
no longer makes, removes the file), dismiss removes the proposal and leaves your file; the next
breakdown proposes again only when that chapter's answers change. Each is refused unless the
file is one the breakdown says a proposal waits beside, inside the series and no link, and the
proposal still holds what the page showed (its digest).
"""

from __future__ import annotations

import difflib
import hashlib
import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storyboard.files import series_folder, write_atomic

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
            f"{waiting.cost:.4f} USD</b></p><ul>{calls}</ul>"
            f"<p>to ask them: <code>{_e(waiting.command)}</code></p></div>")


def _proposal(root: Path, name: str) -> str:
    current, proposed = read_inside(root, name), read_inside(root, name + PROPOSED)
    title = (f"<summary><code>{_e(name)}</code>: you edited it since the breakdown wrote it; its "
             f"proposal waits beside it as <code>{_e(name + PROPOSED)}</code></summary>")
    if current is None or proposed is None:
        return f'<details class="proposal">{title}<p>cannot read it</p></details>'
    removal = '<p class="removal">the breakdown no longer makes this file: accepting removes ' \
        "it</p>" if not proposed else ""
    return (f'<details class="proposal" open>{title}{removal}{diff_html(name, current, proposed)}'
            f"{_buttons(name, proposed)}</details>")


def _buttons(name: str, proposed: str) -> str:
    where = f'data-file="{_e(name)}" data-digest="{proposal_digest(proposed)}"'
    return (f'<p class="settle"><button type="button" class="accept-proposal" {where}>Accept'
            f'</button> <button type="button" class="dismiss-proposal" {where}>Dismiss</button>'
            "</p>")


def proposal_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def settle(root: Path, lookout: Lookout | None, name: str, digest: str, accept: bool
           ) -> dict[str, str]:
    """Accept or dismiss the proposal beside ``name`` (see the module docstring); a
    ``ValueError`` saying why for anything the page did not offer."""
    waiting = lookout(root) if lookout is not None else None
    if waiting is None or name not in waiting.proposals:
        raise ValueError(f"no proposal waits beside {name!r}")
    path, proposal = _inside(root, name), _inside(root, name + PROPOSED)
    text = read_inside(root, name + PROPOSED)
    if text is None or proposal_digest(text) != digest:
        raise ValueError(f"the proposal for {name} changed since the page showed it: look again")
    if accept and text:
        write_atomic(path, proposal.read_text(encoding="utf-8"), durable=False)
    elif accept:
        path.unlink(missing_ok=True)
    proposal.unlink()
    return {"file": name, "settled": "accepted" if accept else "dismissed"}


def _inside(root: Path, name: str) -> Path:
    """``root / name``, refused when it is a link, or is or lies beyond a link or ``..``."""
    path = root / name
    if "\0" in name or Path(name).is_absolute() or ".." in Path(name).parts or path.is_symlink():
        raise ValueError(f"{name!r} is not a file of the series")
    series_folder(root, path.parent)  # a linked folder on the way: refused, nothing written
    return path


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
