"""What ``render SERIES [WHAT]...`` names into the run's choice: an episode, shots, the boards.

A WHAT is named as ``approve`` and ``retake`` name what they act on: ``EP`` (an episode by its id,
or a glob of ids), ``EP/SHOT`` (globs allowed; in a matrix ``VARIATION/EP/SHOT``; ``cast/NAME``),
``RANGE`` (episodes by their number in the series, 1 on, in the one grammar of episode ranges,
``language/read/ranges.py``: ``4``, ``3-10``, ``3-``, ``1,4-6``; an episode whose id is written so
is that episode) and ``boards`` (only the boards and the cast they use, no video;
``boards/EP`` and ``boards/EP/SHOT`` those of an episode or a shot). A lone episode id is the
run's ``episode``; anything else becomes the ``shots`` patterns of what it names, so the run, its
plan and its stitching are the ones a shot pattern has (``run.setup.choose_shots``).
"""

from __future__ import annotations

import glob
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.cli.flags.renderflags import episode_numbers, render_flags
from storyboard.cli.flags.runsettings import run_settings

if TYPE_CHECKING:
    from storyboard.run.setup import RenderFlags

__all__ = ["BOARDS", "CHOSEN", "METAVAR", "Selection", "render_command_flags", "selection"]

CHOSEN = ("episode", "shots", "boards")  # the fields of ``RenderFlags`` a WHAT sets

BOARDS = "boards"
METAVAR = "[EP|EP/SHOT|RANGE|boards]..."
_NUMBERS = re.compile(r"^[\d\s,-]+$")  # what the range grammar reads (it says what is wrong)


@dataclass(frozen=True)
class Selection:
    """What a render renders: one episode, the shots patterns name, only the boards."""

    episode: str | None = None
    shots: tuple[str, ...] = ()
    boards: bool = False


def render_command_flags(path: Path, params: Mapping[str, Any]
                         ) -> tuple[RenderFlags, tuple[str, ...]]:
    """``render``'s (or ``plan``'s) parameters (``click.Context.params``) as its run's flags, and
    the template variables its ``--var`` and ``--set vars.KEY=VALUE`` give: ``--set`` read first,
    before the series is; with no WHAT, the command's own options choose (``plan --episode``)."""
    changed, variables = run_settings(params["settings"])
    flags = replace(render_flags(params), **changed)
    if params["what"]:
        chosen = selection(path, params["what"])
        flags = replace(flags, episode=chosen.episode, shots=chosen.shots, boards=chosen.boards)
    return flags, (*params.get("var", ()), *variables)


def selection(path: Path, what: tuple[str, ...]) -> Selection:
    """The ``WHAT``s of ``render`` as the run's choice; the series' episode ids are read only when
    a ``WHAT`` is written as episode numbers."""
    boards = any(word == BOARDS or word.startswith(f"{BOARDS}/") for word in what)
    named = [word.removeprefix(f"{BOARDS}/") for word in what if word != BOARDS]
    named = [word for word in named if word.strip()]
    ids = _episode_ids(path) if any(_NUMBERS.match(word) for word in named) else []
    if len(named) == 1 and _an_episode(named[0], ids):
        return Selection(episode=named[0], boards=boards)
    shots: list[str] = []
    for word in named:
        shots += _patterns(word, ids)
    return Selection(shots=tuple(dict.fromkeys(shots)), boards=boards)


def _an_episode(word: str, ids: list[str]) -> bool:
    """Whether ``word`` alone names one episode by its id (no glob, no shot, no number range
    that is not an id)."""
    if "/" in word or any(c in word for c in "*?["):
        return False
    return not _NUMBERS.match(word) or word in ids


def _patterns(word: str, ids: list[str]) -> list[str]:
    """The shot patterns ``word`` names: itself (a shot), its episodes' shots (an episode or a
    glob of them), or the shots of the episodes its numbers name."""
    if "/" in word:
        return [word]
    if _NUMBERS.match(word) and word not in ids:
        return [f"{glob.escape(ids[n - 1])}/*" for n in episode_numbers(word, len(ids), "WHAT")]
    return [f"{word}/*"]


def _episode_ids(path: Path) -> list[str]:
    """The series' episode ids, in order; a series that cannot be read says why, at its lines."""
    import click

    from storyboard.cli.common import variants_of
    from storyboard.language.expansion.ids import names
    ids = list(names(path).episodes)
    if not ids:
        variants_of(path)
        raise click.UsageError(f"{path} has no episode to choose by number")
    return ids
