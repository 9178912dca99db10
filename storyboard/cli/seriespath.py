"""A command's SERIES argument into a path, a file that is no series answered with what it is and
what to run instead.

A series is a folder with a ``storyboard.yaml`` (or that file, or one YAML file holding it all).
``storyboard check story.md`` is given a story: the breakdown writes a series from it.
``storyboard check episodes/01.yaml`` is given an episode: the command wants the series that
includes it. Both are usage errors (exit 2) naming the command to run; any other path goes on to
the series loader as before.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

STORIES = (".md", ".markdown", ".txt", ".text", ".rst")
SCREENPLAYS = (".fountain", ".spmd")
SERIES_FILES = ("storyboard.yaml", "storyboard.yml")
HEAD_BYTES = 1 << 20  # what is read to tell (a series file is at most 1 MiB)
A_SERIES = re.compile(r"^[\"']?storyboard[\"']?\s*:", re.MULTILINE)
AN_EPISODE = re.compile(r"^[\"']?shots[\"']?\s*:", re.MULTILINE)


class SeriesPath(click.Path):
    """A SERIES argument: a path, or a usage error for a story or an episode file."""

    def __init__(self) -> None:
        super().__init__(path_type=Path)

    def convert(self, value: str | os.PathLike[str], param: click.Parameter | None,
                ctx: click.Context | None) -> Path:
        path = Path(os.fsdecode(super().convert(value, param, ctx)))
        said = not_a_series(path, typed(ctx) if ctx is not None else "storyboard check")
        if said is not None:
            self.fail(said, param, ctx)
        return path


def typed(ctx: click.Context) -> str:
    """The command as typed after ``storyboard`` (``storyboard season render``), however the
    program was started (``python -m storyboard`` names the root by three words)."""
    names: list[str] = []
    while ctx.parent is not None:
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["storyboard", *names])


def _series_above(path: Path) -> Path | None:
    """The nearest folder above ``path`` (three at most) that holds a series file."""
    for folder in list(path.resolve().parents)[:3]:
        if any((folder / name).is_file() for name in SERIES_FILES):
            return folder
    return None


def _shown(folder: Path) -> str:
    """``folder`` as a person would type it from here (``..``, ``my-series``)."""
    try:
        return click.format_filename(os.path.relpath(folder))
    except ValueError:  # another drive
        return click.format_filename(str(folder))


def not_a_series(path: Path, command: str) -> str | None:
    """What ``path`` is when it is a story or an episode file, and what to run instead; None
    for anything else (a folder, a series file, a path the loader answers for)."""
    if path.name in SERIES_FILES or not path.is_file():
        return None
    try:
        with path.open("rb") as file:
            text = file.read(HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None
    if A_SERIES.search(text):
        return None
    name = click.format_filename(str(path))
    if path.suffix.lower() in STORIES + SCREENPLAYS:
        way = (f"`storyboard init SERIES --from {name}` writes a series from it"
               if path.suffix.lower() in SCREENPLAYS else
               f"`storyboard breakdown {name} SERIES` writes a series from it")
        return (f"{name} is a story, not a series: {way}, then `{command} SERIES` (SERIES: the "
                "series folder, where its storyboard.yaml is)")
    if AN_EPISODE.search(text):
        above = _series_above(path)
        where = (f"run `{command} {_shown(above)}` (the series folder whose storyboard.yaml "
                 "includes it under `episodes:`)" if above is not None else
                 "a series is the folder of a storyboard.yaml whose `episodes:` includes it "
                 "(`storyboard init SERIES` starts one)")
        return f"{name} is an episode file, not a series: {where}"
    return None
