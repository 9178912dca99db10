"""Click's parameters into a run's ``RenderFlags``: the one place a command's options become flags.

The render commands (``plan``, ``render``, ``season render``, ``version render``, ``queue
render``) declare their options for click, and each builds its one ``RenderFlags`` here: every
option whose name is a field of ``run.setup.RenderFlags`` becomes that field, by name
(``render_flags``), and every other one is the command's own (how it prints, which variations
it reads), listed in ``COMMAND_ONLY``. The fields no option sets are the callers' own
(``LIBRARY_ONLY``: the studio's previews, the take states ``retake`` asks for).
``tests/cli/test_cli_flags.py`` holds the three lists together, so an option added to a command
without its field, or a field without its option, is caught.

``--episodes 3-10`` names episodes by their number in the series (1 on, as their title cards and
the season's manifest number them), in the one grammar of episode ranges
(``language/read/ranges.py``: ``4``, ``3-10``, ``3-``, ``1,4-6``); it becomes the ``--shot``
patterns of those episodes' shots (``with_episodes``), so the run, its plan and its stitching are
the ones ``--shot`` has.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli.common import variants_of

if TYPE_CHECKING:  # the runner is imported where it is used (``storyboard --help`` stays light)
    from storyboard.run.setup import RenderFlags

__all__ = ["COMMAND_ONLY", "LIBRARY_ONLY", "episode_numbers", "render_flags", "with_episodes"]

# Parameters of the render commands that are no flag of a run: the series, how the command
# prints, the matrix's variables and variations it reads, plan's cost gate and comparison,
# ``--episodes`` (``with_episodes`` turns it into ``shots``), the season's ``--season`` and
# ``--episode-budget`` (``cli/season/admission.py``), the version's LANG and ``--all``, and
# ``render``'s WHAT and ``--set`` (``selection.render_command_flags`` reads them into fields).
COMMAND_ONLY = frozenset({"path", "quiet", "as_json", "var", "variation", "what", "settings",
                          "max_cost", "compare", "episode_range", "whole_season",
                          "episode_budget",
                          "version",  # plan --language: the version priced beside a re-render
                          "language", "all_languages"})
# Fields of ``RenderFlags`` no option sets: the studio's quick previews, and the take states a
# ``retake`` asks for (it builds its own flags).
LIBRARY_ONLY = frozenset({"preview", "take_changes"})


def render_flags(params: Mapping[str, Any]) -> RenderFlags:
    """The ``RenderFlags`` among a command's parameters (``click.Context.params``), by name."""
    from storyboard.run.setup import RenderFlags
    fields = RenderFlags.__dataclass_fields__
    return RenderFlags(**{name: value for name, value in params.items() if name in fields})


def episode_numbers(text: str, count: int, hint: str = "--episodes") -> list[int]:
    """The episode numbers ``text`` names, read by the one grammar of episode ranges
    (``language/read/ranges.py``: ``4``, ``3-10``, ``3-``, ``1,4-6``), each within 1..``count``; a
    click usage error (exit 2) names what was expected (``hint``: where it was given)."""
    from storyboard.language.read import ranges
    has = f"this series has episodes 1 to {count}" if count > 1 else "this series has episode 1"
    parsed = ranges.parse(text)
    if isinstance(parsed, str):
        raise click.BadParameter(f"{parsed}; {has}", param_hint=hint)
    outside = parsed.outside(count)
    if outside is not None:
        raise click.BadParameter(f"episodes {text!r}: {outside!r} is outside the series; "
                                 f"{ranges.EXPECTED}; {has}", param_hint=hint)
    return parsed.numbers(count)


def with_episodes(path: Path, flags: RenderFlags, text: str | None) -> RenderFlags:
    """``flags`` with ``--episodes TEXT`` as the ``--shot`` patterns of those episodes' shots."""
    if text is None:
        return flags
    if flags.shots or flags.episode:
        raise click.UsageError("--episodes cannot go with --episode or --shot: name the "
                               "episodes by one of them")
    from storyboard.language.expansion.ids import names
    ids = list(names(path).episodes)
    if not ids:
        variants_of(path)  # a series that cannot be read says why, at its lines
        raise click.UsageError(f"--episodes: {path} has no episode to choose from")
    chosen = [ids[n - 1] for n in episode_numbers(text, len(ids))]
    return replace(flags, shots=tuple(f"{glob.escape(e)}/*" for e in chosen))
