"""Command-line arguments into compiled series: what every command shares (errors, --json, loading).

Errors are printed as ``file:line:col: error: message`` lines (or one clear sentence) with a non-zero
exit code, never a traceback.
"""

from __future__ import annotations

import difflib
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from storyboard.cli import complete
from storyboard.cli import variations as matrix
from storyboard.cli.seriespath import SeriesPath
from storyboard.errors import ProblemsFound, StoryboardError, mask_urls
from storyboard.targets.kinds import NAMES

if TYPE_CHECKING:  # the compiler is imported where a command uses it
    from storyboard.language.request import Manifest
    from storyboard.language.variations import Variants
from storyboard.targets.prices import amount

T = TypeVar("T")

SERIES = SeriesPath()  # a story or an episode file is answered with what to run instead
# Every provider by name: local, and each wire target (a dialect each), without importing them.
PROVIDERS = NAMES


if TYPE_CHECKING:
    FloatParam = click.ParamType[float]
else:  # click's ParamType takes its value's type from 8.4 on; 8.2 and 8.3 take none
    FloatParam = click.ParamType


class Amount(FloatParam):
    """An amount of money: finite and >= 0 (NaN, inf and negative numbers are refused, so a
    limit can never be one that no comparison holds for)."""

    name = "amount"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        try:
            return amount(value, "the amount")
        except ValueError:
            self.fail(f"{value!r} is not an amount: expected a finite number >= 0, "
                      "such as 5 or 0.5", param, ctx)


class Seconds(FloatParam):
    """A length of time from ``least`` to ``most`` seconds, finite (NaN and the infinities are
    refused: click's ``FloatRange`` lets NaN through every bound, and inf through a lower one)."""

    name = "seconds"

    def __init__(self, least: float = 0.0, most: float = 86_400.0) -> None:
        self.least, self.most = least, most

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        try:
            seconds = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            seconds = math.nan
        if not (math.isfinite(seconds) and self.least <= seconds <= self.most):
            self.fail(f"{value!r} is not a number of seconds from {self.least:g} to "
                      f"{self.most:g}", param, ctx)
        return seconds


class Choice(click.Choice[str]):
    """One of ``choices``, a near miss answered with the closest (``dashscop``: did you mean
    'dashscope'?)."""

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        try:
            return str(super().convert(value, param, ctx))
        except click.BadParameter as exc:
            close = difflib.get_close_matches(str(value), [str(c) for c in self.choices], n=1)
            if not close:
                raise
            self.fail(f"{exc.message.rstrip('.')} (did you mean {close[0]!r}?)", param, ctx)


AMOUNT = Amount()
PROVIDER_CHOICE = Choice(PROVIDERS)
EPISODE = click.option("--episode", help="Only this episode.", shell_complete=complete.episodes)


JSON = click.option("--json", "as_json", is_flag=True,
                    help="Print the result as JSON on stdout (a failure too: {\"error\": ...}).")


def json_wanted(args: list[str] | None = None) -> bool:
    """Whether the running command was given ``--json`` (``check --format json`` too): its
    failures are JSON on stdout as well. Before a command parsed its flags, ``args`` says."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.params.get("as_json") or ctx.params.get("fmt") == "json":
            return True
        ctx = ctx.parent
    return args is not None and "--json" in args


def dumps(data: object) -> str:
    """What ``--json`` prints: sorted keys, stable bytes."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)


def emit(data: object) -> None:
    """A ``--json`` command's result on stdout."""
    click.echo(dumps(data))


def error_json(message: str, exit_code: int, problems: list[dict[str, object]] | None = None
               ) -> str:
    """A failure as the one JSON object every ``--json`` command prints for it."""
    data: dict[str, object] = {"error": mask_urls(message), "exit_code": exit_code}
    if problems is not None:
        data["problems"] = problems
    return dumps(data)


def fail(error: StoryboardError) -> None:
    """Say ``error`` (also as JSON on stdout under ``--json``) and exit with its code."""
    if json_wanted():
        from storyboard.cli.diagnostics import record
        problems = ([record(d) for d in error.diagnostics]
                    if isinstance(error, ProblemsFound) else None)
        click.echo(error_json(str(error), error.exit_code, problems))
    if isinstance(error, ProblemsFound):
        click.echo(error.format(), err=True)
        errors = sum(1 for d in error.diagnostics if d.severity == "error")
        click.echo(f"{errors} error(s) found", err=True)
    else:
        click.echo(f"error: {error}", err=True)
    sys.exit(error.exit_code)


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``; a StoryboardError becomes a message and an exit code, never a traceback."""
    try:
        return action()
    except StoryboardError as error:
        fail(error)
        raise AssertionError("unreachable") from error  # fail() exits


def variants_of(path: Path, var: tuple[str, ...] = (), variation: tuple[str, ...] = (), *,
                provider: str | None = None, keep_going: bool = False,
                every_warning: bool = False) -> Variants:
    """Expand and compile the series (every selected variation, for ``provider``'s limits);
    warnings go to stderr (``init --from``'s unsettled words counted in one line but by
    ``check``: ``every_warning``), errors end the command (with ``keep_going``, a matrix renders
    the variations that compiled)."""
    return matrix.load_variants(path, var, variation, fail=fail, provider=provider,
                                keep_going=keep_going, every_warning=every_warning)


def shot_series(path: Path, shot: str) -> tuple[Manifest, str, str]:
    """The manifest a take command (takes, pick, approve, retake) works on, the shot's id in it,
    and the prefix that names its variation to ``render SERIES EP/SHOT``: a plain series' one manifest;
    in a matrix the variation the id names first (``VARIATION/EPISODE/SHOT``)."""
    variants = variants_of(path)
    if not variants.matrix:
        return variants.manifests[0], shot, ""
    name, _, rest = shot.partition("/")
    for variant in variants.variants:
        if variant.name == name and variant.manifest is not None:
            return variant.manifest, rest, f"{name}/"
    names = ", ".join(str(v.name) for v in variants.variants[:8])
    fail(StoryboardError(f"{path} has a variations matrix: name the shot as "
                         f"VARIATION/EPISODE/SHOT, with VARIATION one of: {names}"))
    raise AssertionError("unreachable")


def compiled(path: Path, var: tuple[str, ...] = (), variation: tuple[str, ...] = (),
             provider: str | None = None) -> Manifest:
    """The one manifest of a series (the first selected variation of a matrix)."""
    return variants_of(path, var, variation, provider=provider).manifests[0]


def served_region(provider: Any) -> str | None:
    """The DashScope region a provider renders in (None: another provider, or a host of your
    own), read from its settings."""
    from storyboard.providers.dashscope.settings import DashScopeSettings
    settings = getattr(provider, "settings", None)
    return settings.served_region() if isinstance(settings, DashScopeSettings) else None
