"""A provider block's ``account_limits`` into ``AccountLimits``: the account's limits, team-wide.

Kept across every machine of a team ledger (``run.team.account_pg``); refused when no comparison
holds for them (zero or less, NaN, infinity, a fraction of a task).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ACCOUNT_LIMIT_KEYS = ("in_flight", "submit_rate", "query_rate", "models")


@dataclass(frozen=True)
class AccountLimits:
    """The account's limits, kept across every machine of a team ledger (None: no limit).
    DashScope publishes 20 queries a second per account and no submit or in-flight limit for
    wan2.7-r2v, so those two are yours to set (spec section 1)."""

    in_flight: int | None = None  # tasks in flight per account and model
    submit_rate: float | None = None  # submits per second per account
    query_rate: float | None = 20.0  # queries and lists per second per account
    models: tuple[tuple[str, int], ...] = ()  # (model, in_flight): a model's own limit


def read_account_limits(value: object, values: dict[str, Any], problems: list[str]) -> None:
    """``account_limits: {in_flight: 4, submit_rate: 2, query_rate: 20}``: whole or positive
    numbers (a NaN, an infinity, zero or less is refused)."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        problems.append("provider.account_limits: give a mapping such as {in_flight: 4, "
                        "submit_rate: 2}")
        return
    found: dict[str, Any] = {}
    for name, number in value.items():
        where = f"provider.account_limits.{name}"
        if name not in ACCOUNT_LIMIT_KEYS:
            problems.append(f"{where}: unknown; known: {', '.join(ACCOUNT_LIMIT_KEYS)}")
        elif name == "models":
            found[name] = _read_model_limits(number, problems)
        elif name == "in_flight" and not _whole(number):
            problems.append(f"{where}: {number!r} is not a whole number >= 1")
        elif name != "in_flight" and (not _positive(number) or not math.isfinite(number)):
            problems.append(f"{where}: {number!r} is not a finite number > 0")
        else:
            found[name] = int(number) if name == "in_flight" else float(number)
    values["account_limits"] = AccountLimits(**found)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _read_model_limits(value: object, problems: list[str]) -> tuple[tuple[str, int], ...]:
    """``models: {wan3.0-video: {in_flight: 2}}``: a model's own tasks in flight."""
    where = "provider.account_limits.models"
    if not isinstance(value, Mapping):
        problems.append(f"{where}: give a mapping such as {{wan3.0-video: {{in_flight: 2}}}}")
        return ()
    found: list[tuple[str, int]] = []
    for model, limits in value.items():
        number = limits.get("in_flight") if isinstance(limits, Mapping) else None
        if not isinstance(limits, Mapping) or set(limits) != {"in_flight"} or not _whole(number):
            problems.append(f"{where}.{model}: give {{in_flight: N}}, N a whole number >= 1")
        else:
            found.append((str(model), int(number)))  # type: ignore[arg-type]
    return tuple(sorted(found))


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0
