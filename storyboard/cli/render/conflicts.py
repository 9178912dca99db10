"""The ``plan`` and ``render`` flags that do not go together, refused before any work is done.

Every rule is here, in one table per command: a flag and the flags it cannot go with (and why),
or a flag and the flag it needs. ``refuse`` holds a command's parameters to its table first thing,
before the series is read, so a conflict is a usage error (exit 2) at once, however long the
series takes to compile, and even when it does not compile at all. The flags are spelled as the
command declares them (``--season``, ``--shot``), read from click's own parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import click

__all__ = ["PLAN", "RENDER", "Conflict", "Needs", "refuse"]


@dataclass(frozen=True)
class Conflict:
    """``flag`` cannot go with any of ``others``: ``why`` (said after the pair)."""

    flag: str  # the parameter's name (click's), as are ``others``
    others: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Needs:
    """``flag`` is given only with ``needed``: ``why``."""

    flag: str
    needed: str
    why: str


Rule = Conflict | Needs

_WHOLE = "a season takes whole episodes: name them with --episodes N-M"
_VERSION = ("--language/--languages render a version of the approved cut, as it is: no flag that "
            "picks other shots, takes or variations, and nothing queued")
_VERSION_RULE = ("shots", "boards", "draft", "whole_season", "episode_range", "var", "variation",
                 "queue")
_COMPARE = ("--compare prices the series (or one --episode) on each model side by side; "
            "nothing else is priced with it")

RENDER: tuple[Rule, ...] = (
    Conflict("language", ("all_languages", *_VERSION_RULE),
             "--language renders one version, --languages every one; " + _VERSION),
    Conflict("all_languages", _VERSION_RULE, _VERSION),
    Conflict("whole_season", ("episode", "shots", "boards"), _WHOLE),
    Conflict("whole_season", ("queue",),
             "a season is admitted and rendered here; queue episodes for workers with --episodes"),
    Conflict("episode_range", ("episode", "shots"), "name the episodes by one of them"),
    Needs("episode_budget", "whole_season", "it holds each episode of a season to its budget"),
    Needs("webhook_url", "webhook_listen",
          "it is the public address of that listener, and without one no callback is taken "
          "(polling alone follows the tasks)"),
)

PLAN: tuple[Rule, ...] = (
    Conflict("compare", ("whole_season", "episode_range", "episode_budget", "version", "max_cost",
                         "var", "variation", "draft"), _COMPARE),
    Conflict("version", ("whole_season", "episode_range", "episode_budget", "var", "variation"),
             "--language prices a plain series' version beside rendering its shots again"),
    Conflict("whole_season", ("episode",), _WHOLE),
    Needs("episode_budget", "whole_season", "it holds each episode of a season to its budget"),
    Needs("episode_range", "whole_season", "plan one episode with --episode instead"),
)

RULES: Mapping[str, tuple[Rule, ...]] = {"plan": PLAN, "render": RENDER}


def given(value: object) -> bool:
    """Whether a parameter was given: not its default (None, off, no values); a zero is given."""
    return value is not None and value is not False and value != ()


def spelled(command: click.Command, name: str) -> str:
    """The option of ``command`` whose parameter is ``name``, as a person types it (its long
    form: ``--season``, ``--shot``)."""
    for param in command.params:
        if param.name == name:
            return max(param.opts, key=len)
    raise KeyError(name)  # a rule names a parameter the command lacks: a test holds them


def broken(command: click.Command, params: Mapping[str, object]) -> str | None:
    """What the first rule ``params`` break says, or None when they keep every rule."""
    for rule in RULES.get(command.name or "", ()):
        if not given(params.get(rule.flag)):
            continue
        flag = spelled(command, rule.flag)
        if isinstance(rule, Needs):
            if not given(params.get(rule.needed)):
                return f"{flag} goes with {spelled(command, rule.needed)}: {rule.why}"
            continue
        for other in rule.others:
            if given(params.get(other)):
                return f"{flag} cannot go with {spelled(command, other)}: {rule.why}"
    return None


def refuse(ctx: click.Context) -> None:
    """A usage error (exit 2) when the running command's flags break one of its rules."""
    said = broken(ctx.command, ctx.params)
    if said is not None:
        raise click.UsageError(said, ctx)
