"""The flags of the render commands that do not go together, refused before any work is done.

Every rule is here, in one table per command (``plan``, ``render``, ``season render``, ``version
render``, ``queue render``): a flag and the flags it cannot go with (and why), a flag and the flag
it needs, or the flags one of which is needed. ``refuse``
holds a command's parameters to its table first thing, before the series is read, so a conflict is
a usage error (exit 2) at once, however long the series takes to compile, and even when it does
not compile at all. The flags are spelled as the command declares them (``--season``, ``--shot``,
``LANG``), read from click's own parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import click

__all__ = ["PLAN", "QUEUE_RENDER", "RENDER", "RULES", "SEASON_RENDER", "VERSION_RENDER",
           "Conflict", "Needs", "OneOf", "refuse"]


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


@dataclass(frozen=True)
class OneOf:
    """One of ``flags`` is given: ``why``."""

    flags: tuple[str, ...]
    why: str


Rule = Conflict | Needs | OneOf

_WHOLE = "a season takes whole episodes: name them with --episodes N-M"
_COMPARE = ("--compare prices the series (or one --episode) on each model side by side; "
            "nothing else is priced with it")
_WEBHOOK = Needs("webhook_url", "webhook_listen",
                 "it is the public address of that listener, and without one no callback is "
                 "taken (polling alone follows the tasks)")
_RANGE = Conflict("episode_range", ("episode", "shots"), "name the episodes by one of them")

RENDER: tuple[Rule, ...] = ()  # render's WHAT and --set are read whole (``selection``, ``runsettings``)

SEASON_RENDER: tuple[Rule, ...] = (_WEBHOOK,)

VERSION_RENDER: tuple[Rule, ...] = (
    OneOf(("language", "all_languages"), "the version to render, or --all for every one"),
    Conflict("language", ("all_languages",), "LANG renders one version, --all every one"),
    _WEBHOOK,
)

QUEUE_RENDER: tuple[Rule, ...] = (_RANGE,)

PLAN: tuple[Rule, ...] = (
    Conflict("compare", ("whole_season", "episode_range", "episode_budget", "version", "max_cost",
                         "var", "variation", "draft", "what", "settings"), _COMPARE),
    Conflict("version", ("whole_season", "episode_range", "episode_budget", "var", "variation",
                         "what", "settings"),
             "--language prices a plain series' version beside rendering its shots again"),
    Conflict("whole_season", ("episode", "what"), _WHOLE),
    Conflict("what", ("episode", "episode_range"),
             "name what to plan as render names it (`plan SERIES EP`, `EP/SHOT`, `3-10`, "
             "`boards`) or by --episode alone"),
    Conflict("settings", ("offline", "var"),
             "give the settings as render takes them (`--set offline=true`, `--set "
             "vars.KEY=VALUE`) or by --offline and --var alone"),
    Needs("episode_budget", "whole_season", "it holds each episode of a season to its budget"),
    Needs("episode_range", "whole_season", "plan one episode with --episode instead"),
)

RULES: Mapping[str, tuple[Rule, ...]] = {
    "plan": PLAN, "render": RENDER, "season render": SEASON_RENDER,
    "version render": VERSION_RENDER, "queue render": QUEUE_RENDER}


def given(value: object) -> bool:
    """Whether a parameter was given: not its default (None, off, no values); a zero is given."""
    return value is not None and value is not False and value != ()


def spelled(command: click.Command, name: str) -> str:
    """The parameter ``name`` of ``command`` as a person types it: an option's long form
    (``--season``, ``--shot``), an argument's metavar (``LANG``)."""
    for param in command.params:
        if param.name == name:
            if isinstance(param, click.Argument):
                if param.nargs == -1:  # render's and plan's [EP|EP/SHOT|RANGE|boards]...
                    return name.upper()
                return param.human_readable_name.strip("[]")  # an optional one: [LANG]
            return max(param.opts, key=len)
    raise KeyError(name)  # a rule names a parameter the command lacks: a test holds them


def broken(ctx: click.Context, rules: tuple[Rule, ...]) -> str | None:
    """What the first of ``rules`` the running command's parameters break says, or None when
    they keep every rule."""
    command, params = ctx.command, ctx.params
    for rule in rules:
        said = _one_of(command, params, rule) if isinstance(rule, OneOf) else \
            _said(ctx, rule) if given(params.get(rule.flag)) else None
        if said is not None:
            return said
    return None


def _one_of(command: click.Command, params: Mapping[str, object], rule: OneOf) -> str | None:
    if any(given(params.get(name)) for name in rule.flags):
        return None
    return f"expected {' or '.join(spelled(command, n) for n in rule.flags)}: {rule.why}"


def _said(ctx: click.Context, rule: Conflict | Needs) -> str | None:
    """What ``rule``, whose flag is given, says is wrong, or None."""
    command, params = ctx.command, ctx.params
    flag = spelled(command, rule.flag)
    if isinstance(rule, Needs):
        if not given(params.get(rule.needed)):
            return f"{flag} goes with {spelled(command, rule.needed)}: {rule.why}"
        return None
    for other in rule.others:
        if given(params.get(other)):
            return f"{flag} cannot go with {spelled(command, other)}: {rule.why}"
    return None


def refuse(ctx: click.Context, rules: tuple[Rule, ...]) -> None:
    """A usage error (exit 2) when the running command's flags break one of ``rules`` (its
    table)."""
    said = broken(ctx, rules)
    if said is not None:
        raise click.UsageError(said, ctx)
