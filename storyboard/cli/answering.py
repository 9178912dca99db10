"""A flag or an argument a command does not take into what to type instead, where people reach
for one.

click answers an option it does not know with the nearest by spelling (``season render --boards``:
"Did you mean '--var'?") and an argument it does not take with "Got unexpected extra argument".
A command built with ``answering(...)`` says instead what the thing is and which command does it;
every other usage error is click's own. Both are usage errors (exit 2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import click

from storyboard.cli.seriespath import typed

EXTRA = re.compile(r"^Got unexpected extra arguments? \((.*)\)$")


class Answering(click.Command):
    """A command with answers for flags it does not know (``answers``: the flag, what to say)
    and for a positional argument it does not take (``extra``, its ``{arg}`` the first one
    given)."""

    answers: Mapping[str, str] = {}
    extra: str = ""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as error:
            said = self.answers.get(error.option_name)
            if said is None:
                raise
            raise click.UsageError(f"{typed(ctx)} has no {error.option_name} option: "
                                   f"{said}", ctx) from error
        except click.UsageError as error:
            found = EXTRA.match(error.message)
            if found is None or not self.extra:
                raise
            first = found.group(1).split()[0] if found.group(1).split() else "SERIES"
            raise click.UsageError(f"{typed(ctx)} takes no argument ({found.group(1)}): "
                                   f"{self.extra.format(arg=first)}", ctx) from error

def answering(answers: Mapping[str, str] | None = None, extra: str = "") -> type[Answering]:
    """The ``cls`` of ``click.command`` (or a group's ``.command``) for a command that answers
    ``answers`` (flag: what to say) and an extra argument (``extra``)."""
    return type("AnsweringCommand", (Answering,), {"answers": dict(answers or {}),
                                                   "extra": extra})
