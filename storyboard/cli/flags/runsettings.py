"""``render --set NAME=VALUE`` into the run's settings: how many tasks at once, the shared store
off, the gateway's callbacks, a template variable.

The settings ``storyboard config`` shows beside where each came from, given for one render:
``concurrency=N`` (1 to 100 tasks in flight), ``offline=true`` (no shared store),
``webhook_listen=HOST:PORT`` and ``webhook_url=URL`` (the gateway's status callbacks, which only
hasten polls), and ``vars.KEY=VALUE`` (a template variable over the series' ``vars:``). Every
value is read here, before the series is, and a name or value that is not one is a usage error
(exit 2) that says what was expected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

__all__ = ["NAMES", "PLAN_SET", "SET", "VARS", "run_settings"]

VARS = "vars."
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")

SET = click.option(
    "--set", "settings", multiple=True, metavar="NAME=VALUE",
    help="A setting of this render (repeatable): concurrency=N (tasks in flight, 1-100), "
         "offline=true (no shared store), webhook_listen=HOST:PORT and webhook_url=URL (take the "
         "gateway's status callbacks), vars.KEY=VALUE (a template variable over the series' vars).")

PLAN_SET = click.option(
    "--set", "settings", multiple=True, metavar="NAME=VALUE",
    help="A setting of the render line planned (repeatable), as render takes it: offline=true "
         "(no shared store), vars.KEY=VALUE (a template variable); concurrency=N and the "
         "webhook_* are checked but change nothing in a plan.")


def _concurrency(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if not 1 <= value <= 100:
        raise ValueError("a whole number of tasks from 1 to 100")
    return value


def _offline(text: str) -> bool:
    if text.strip().lower() not in _TRUE + _FALSE:
        raise ValueError("true or false")
    return text.strip().lower() in _TRUE


def _text(what: str) -> Callable[[str], str]:
    def read(text: str) -> str:
        if not text.strip():
            raise ValueError(what)
        return text.strip()
    return read


READERS: dict[str, Callable[[str], Any]] = {
    "concurrency": _concurrency, "offline": _offline,
    "webhook_listen": _text("HOST:PORT"), "webhook_url": _text("the public URL of the listener")}
NAMES = (*READERS, f"{VARS}KEY")


def run_settings(given: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The ``RenderFlags`` fields ``--set`` gives (by name) and its template variables
    (``KEY=VALUE``, as ``--var`` gives them to ``check`` and ``plan``)."""
    from storyboard.language.read.schemacheck import did_you_mean
    fields: dict[str, Any] = {}
    variables: list[str] = []
    for item in given:
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if name.startswith(VARS) and sep:
            variables.append(f"{name.removeprefix(VARS)}={text}")
            continue
        read = READERS.get(name)
        if not sep or read is None:
            raise click.BadParameter(
                f"{item!r}: expected NAME=VALUE, NAME one of {', '.join(NAMES)}"
                f"{did_you_mean(name, READERS) if sep else ''}", param_hint="--set")
        try:
            fields[name] = read(text)
        except ValueError as error:
            raise click.BadParameter(f"{item!r}: {name} is {error}", param_hint="--set") from None
    if fields.get("webhook_url") and not fields.get("webhook_listen"):
        raise click.UsageError("--set webhook_url goes with --set webhook_listen: it is the public "
                               "address of that listener, and without one no callback is taken "
                               "(polling alone follows the tasks)")
    return fields, tuple(variables)
