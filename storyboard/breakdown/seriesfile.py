"""A person's ``storyboard.yaml`` and the breakdown's into one file: the cast and the episodes
added beside the settings the person wrote first.

A series file written before the breakdown, with settings and no cast (a title, a ``breakdown:``
block, a ``delivery:`` block...), is kept as written, its keys and comments, and what the
breakdown makes that it lacks (the defaults, the boards, the voices, the characters,
``episodes:``) follows it below ``MARK``; a key the person wrote is never written again, and the
``breakdown:`` block is written over only when it no longer says what the run used. A re-run
finds the person's part above the marker: a file that still holds what the breakdown wrote gets
its part below written anew; one edited since gets the same merge as its proposal, made only when
the answers changed (``Guard.put``'s ``produced``). A series file that holds a cast
(``characters:`` or ``voices:``) is the person's series: the breakdown proposes beside it, as it
does for every edited file. Nothing from the person's text becomes a key: it is copied as it is,
and the rest is the writer's own text (``stages.writer``); a merge whose result does not read
back as both parts is never written, and a file no merge could be made into is refused before
any call (``merge_problem``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storyboard.breakdown.settings import BLOCK, block_lines, states
from storyboard.breakdown.state.guard import Guard, Outcome
from storyboard.errors import Diagnostic, ProblemsFound, Span
from storyboard.language.document import Document
from storyboard.language.read.load import parse

NAME = "storyboard.yaml"
MARK = ("# ---- Above: yours, as you wrote it. Below: added by `storyboard breakdown` (written "
        "anew by a re-run while you leave it as it is). ----")
CAST = ("characters", "voices")  # a file that holds either is the person's series
SAMPLE = "storyboard: 1\ncharacters: {}\nepisodes:\n  - episodes/*.yaml\n"  # a merge's shape
SAMPLE_RECORD = 'breakdown:\n  model: "m"\n'


def _read(text: str) -> Document | None:
    doc, problems = parse(text, Path(NAME))
    return doc if not problems and isinstance(doc.data, dict) else None


def yours(text: str) -> str | None:
    """The person's part of a series file the breakdown may merge into: the text above the
    last marker (a file it merged into before), else the whole text; None when that part holds
    a cast or is no mapping (the file is then the person's series, proposed beside)."""
    lines = text.split("\n")
    marks = [number for number, line in enumerate(lines) if line == MARK]
    part = "\n".join(lines[:marks[-1]]) if marks else text
    doc = _read(part)
    if doc is None or any(key in doc.data for key in CAST):
        return None
    return part


def _starts(doc: Document) -> list[tuple[int, int, str]]:
    """Each top-level key: the first line of the comments right above it (the first key's are
    the file's head), its own line, and its name, in the file's order."""
    keyed = sorted((doc.span((key,), key=True).line, str(key)) for key in doc.data)
    out: list[tuple[int, int, str]] = []
    for line, key in keyed:
        lead, floor = line, out[-1][1] if out else line
        while lead - 1 > floor and doc.lines[lead - 2].startswith("#"):
            lead -= 1
        out.append((lead, line, key))
    return out


def _blocks(doc: Document) -> tuple[list[str], dict[str, list[str]]]:
    """The comment lines before the first key, and each key's lines (the comments above it
    first), without blank lines at their ends."""
    starts = _starts(doc)
    ends = [lead - 1 for lead, _, _ in starts[1:]] + [len(doc.lines)]
    blocks = {key: _trimmed(doc.lines[lead - 1:end])
              for (lead, _, key), end in zip(starts, ends, strict=True)}
    return _trimmed(doc.lines[:starts[0][0] - 1] if starts else []), blocks


def _trimmed(lines: list[str]) -> list[str]:
    lines = list(lines)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _with_record(doc: Document, record: str, settings: dict[str, Any]) -> list[str]:
    """The person's lines, their ``breakdown:`` block written over with ``record`` only when it
    no longer says what the run used (the comments above it kept)."""
    lines = list(doc.lines)
    span = block_lines(doc)
    rows = _trimmed(lines[span.start - 1:span.stop - 1])
    while rows and rows[-1].startswith("#"):  # the next key's comments are the next key's
        rows = _trimmed(rows[:-1])
    if states("\n".join(rows) + "\n", settings):
        return lines
    return [*lines[:span.start - 1], *record.rstrip("\n").split("\n"),
            *lines[span.start - 1 + len(rows):]]


def merge(part: str, made: str, record: str, settings: dict[str, Any]) -> str | None:
    """``part`` as written, then the marker, ``made``'s head (its comments) and each key of
    ``made`` that ``part`` lacks; ``record`` (the ``breakdown:`` block the run records) ends it
    when ``part`` has no block of its own. None when the result would not read back as
    ``part``'s keys and values beside ``made``'s added ones."""
    mine, theirs = _read(part), _read(made)
    if mine is None or theirs is None:
        return None
    lines = _with_record(mine, record, settings) if BLOCK in mine.data else list(mine.lines)
    head, blocks = _blocks(theirs)
    added = [key for key in blocks if key not in mine.data]
    tail = [] if BLOCK in mine.data else ["", *record.rstrip("\n").split("\n")]
    text = "\n".join([*_trimmed(lines), "", MARK, *head,
                      *(line for key in added for line in blocks[key]), *tail]) + "\n"
    back = _read(text)
    if back is None or list(back.data) != [*mine.data, *added, *([BLOCK] if tail else [])]:
        return None
    if any(back.data[key] != mine.data[key] for key in mine.data if key != BLOCK):
        return None
    return text


def merge_problem(series: Path, settings_only: bool) -> None:
    """Refuse, before any call, a series file with no cast that no merge could keep (its keys
    not written one a line at the left margin: a flow mapping, a document end)."""
    file = series / NAME
    if settings_only or not file.is_file():
        return
    text = file.read_text(encoding="utf-8")
    part = yours(text)
    if part is None or merge(part, SAMPLE, SAMPLE_RECORD, {}) is not None:
        return
    raise ProblemsFound([Diagnostic(Span(str(file), 1, 1), (
        "the breakdown adds its cast and its episodes below what this file holds, and cannot "
        "here: write its keys in block style, one a line at the left margin (as `storyboard: "
        "1`), or move the file aside and run the breakdown again; nothing was asked"),
        code="breakdown-series-file")])


def put(guard: Guard, made: str, record: str, settings: dict[str, Any], outcome: Outcome,
        settings_only: bool) -> None:
    """The series file through the guard: merged into the person's when it holds settings and
    no cast (``merge``), else the breakdown's own (written over a file of ``breakdown:``
    settings alone, ``settings_only``; proposed beside any other)."""
    whole = f"{made}\n{record}"
    file = guard.series / NAME
    try:
        current = None if settings_only else file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):  # gone, or not text: the guard holds it as an edit
        current = None
    part = yours(current) if current is not None else None
    text = merge(part, made, record, settings) if part is not None else None
    if current is None or text is None:
        guard.put(NAME, whole, outcome, replaceable=settings_only)
        return
    first = MARK not in current.split("\n")  # the person's own file: nothing of it is lost
    guard.put(NAME, text, outcome, replaceable=first, produced=whole, held=below)


def below(data: bytes) -> bytes:
    """The part of a merged series file the breakdown answers for: what follows its last
    marker (the whole file when it has none)."""
    mark = b"\n" + MARK.encode() + b"\n"
    cut = data.rfind(mark)
    return data if cut < 0 else data[cut + len(mark):]
