"""A written series into what ``storyboard check`` says of it, and those findings into the
send-backs of the chapters whose shots they are in."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from storyboard.breakdown.stages.seriestext import Texts
from storyboard.breakdown.state.answerstore import write_atomic
from storyboard.errors import Diagnostic, ProblemsFound
from storyboard.language.lint.density import CODE as DENSITY


def checked(made: Texts) -> list[Diagnostic]:
    """``storyboard check`` of the texts, in a temporary folder (the series is not touched)."""
    from storyboard.language.variations import compile_variations
    with tempfile.TemporaryDirectory(prefix="storyboard-breakdown-") as folder:
        root = Path(folder)
        for name, text in made.files.items():
            write_atomic(root / name, text.encode())
        try:
            found = compile_variations(root).diagnostics()
        except ProblemsFound as problems:
            found = problems.diagnostics
        return [_relative(d, root) for d in found]


def _relative(diagnostic: Diagnostic, root: Path) -> Diagnostic:
    span = diagnostic.span
    if span is None or not Path(span.file).is_relative_to(root):
        return diagnostic
    name = Path(span.file).relative_to(root).as_posix()
    return replace(diagnostic, span=replace(span, file=name))


def _shot_at(text: str, line: int) -> str | None:
    """The id of the shot whose lines hold ``line`` in an episode's text."""
    shot = None
    for number, row in enumerate(text.split("\n"), 1):
        if number > line:
            break
        if row.startswith("  - id: "):
            shot = row.removeprefix("  - id: ").strip()
    return shot


def send_backs(made: Texts, found: list[Diagnostic]) -> dict[int, list[str]]:
    """Check errors and warnings in episode files' shots, by chapter, worded for that chapter's
    shots answer: the shot's place in the answer, then what ``check`` says (file:line:col). A
    shot warned only for density is not sent back (the episode stage's rule: ``episode``)."""
    placed: list[tuple[int, int, Diagnostic]] = []
    for diagnostic in found:
        span = diagnostic.span
        if span is None or span.file not in made.files:
            continue
        shot = _shot_at(made.files[span.file], span.line)
        if shot is not None and (span.file, shot) in made.chapter_of_shot:
            placed.append((*made.chapter_of_shot[(span.file, shot)], diagnostic))
    wrong = {(c, i) for c, i, d in placed if d.code != DENSITY}
    later: dict[int, list[str]] = {}
    for chapter, index, diagnostic in placed:
        if (chapter, index) in wrong:
            later.setdefault(chapter, []).append(
                f"shots[{index}]: `storyboard check` says: {diagnostic.format()}")
    return later


def on_disk(series: Path) -> list[Diagnostic]:
    """What ``storyboard check`` finds in the series as written (your edits included), each in
    the file it is in."""
    from storyboard.language.variations import compile_variations
    try:
        found = compile_variations(series).diagnostics()
    except ProblemsFound as problems:
        found = problems.diagnostics
    return found
