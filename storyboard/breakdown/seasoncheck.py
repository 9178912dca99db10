"""A series' ``season.yaml`` as ``check`` reads it: the file the breakdown writes its episodes from.

``check`` holds the file to what the breakdown would hold it to before any call (``seasonfile``:
its keys, its numbering, each ``beats`` a range of units in story order), and to the story: the
story and the settings the last breakdown recorded (``.storyboard/breakdown/last.json``), its
chapters and their units cut as the breakdown cuts them for the episodes it asked (nothing is
sent, nothing is paid). A unit in a chapter the story does not have is an error at its line, as
is one past its chapter's last. Without a recorded breakdown, or with its story gone, only the
form is held.

The hooks: each episode's ``hook:`` is what the breakdown wrote from this file; a hook edited
here since (or a series broken down before episodes carried one) is a warning at the hook's
line, naming the episode's own: the delivery says the episode's, never this file's.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from storyboard.breakdown.shape import season
from storyboard.breakdown.stages import seasonfile
from storyboard.breakdown.status import recorded
from storyboard.errors import Diagnostic, ProblemsFound, StoryboardError
from storyboard.language.read.load import parse

Hooks = Mapping[str, str]  # each compiled episode's hook: by id ("" when it declares none)
MAX_BYTES = 4 * 1024 * 1024  # a season file larger than this is not one the breakdown wrote


def season_problems(series: Path, hooks: Hooks | None = None) -> list[Diagnostic]:
    """The problems of ``series``' ``season.yaml`` (none when it has none), each at its line;
    ``hooks``: the episodes' own, to hold the file's hooks to (None: not compiled)."""
    path = series / seasonfile.NAME
    if not path.is_file():
        return []
    if path.stat().st_size > MAX_BYTES:
        return [Diagnostic(None, f"{path}: over {MAX_BYTES // (1024 * 1024)} MB; expected the "
                                 "season the breakdown wrote", code="season-file")]
    text = path.read_bytes().decode("utf-8", errors="replace")
    try:
        found = seasonfile.entries(text, path, story_counts(series))
    except ProblemsFound as problems:
        return list(problems.diagnostics)
    return _hooks(text, path, [(e.episode, e.hook) for e in found], hooks or {})


def story_counts(series: Path) -> seasonfile.Counts | None:
    """Each chapter of the story the last breakdown read, with its units as the season it
    asked cuts them (None: no season recorded, or its story cannot be read now)."""
    found = recorded(series)
    if found is None or found[0].episodes is None:
        return None
    try:
        return season.counts(season.story_units(found[1], found[0].episodes))
    except StoryboardError:
        return None


def _hooks(text: str, path: Path, said: list[tuple[int, str]], hooks: Hooks
           ) -> list[Diagnostic]:
    """A warning at each hook of the file that its episode's ``hook:`` does not say."""
    doc, _ = parse(text, path)
    out = []
    for index, (number, hook) in enumerate(said):
        episode = f"ep{number:02d}"
        own = hooks.get(episode)
        if own is None or own == hook.strip():
            continue
        has = f"ends on {own!r} (its hook:)" if own else "has no hook: (its last spoken line " \
                                                         "is delivered as its hook)"
        out.append(doc.diagnostic(("season", index, "hook"), (
            f"episode {number}'s hook here is not its episode's: {episode} {has}; expected the "
            "same words: run `storyboard breakdown` again to write this one into the episode, "
            "or edit its hook: there"), severity="warning", code="season-hook"))
    return out
