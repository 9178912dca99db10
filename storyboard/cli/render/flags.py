"""Click's parameters into a run's ``RenderFlags``: the one place a command's options become flags.

The render commands (``plan``, ``render``, ``season render``, ``version render``, ``queue
render``) declare their options for click, and each builds its one ``RenderFlags`` here: every
option whose name is a field of ``run.setup.RenderFlags`` becomes that field, by name
(``render_flags``), and every other one is the command's own (how it prints, which variations
it reads), listed in ``COMMAND_ONLY``. The fields no option sets are the callers' own
(``LIBRARY_ONLY``: the studio's previews, the take states ``retake`` asks for).
``tests/cli/test_cli_flags.py`` holds the three lists together, so an option added to a command
without its field, or a field without its option, is caught.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the runner is imported where it is used (``storyboard --help`` stays light)
    from storyboard.run.setup import RenderFlags

# Parameters of the render commands that are no flag of a run: the series, how the command
# prints, the matrix's variables and variations it reads, plan's cost gate and comparison,
# ``--episodes`` (``cli/season/episodes.py`` turns it into ``shots``), the season's
# ``--episode-budget`` (``cli/season/admission.py``), the version's LANG and ``--all``, and
# ``render``'s old mode flags (``--season``, ``--queue``, ``--language(s)``).
COMMAND_ONLY = frozenset({"path", "quiet", "as_json", "var", "variation",
                          "max_cost", "compare", "episode_range", "whole_season",
                          "episode_budget", "queue",
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
