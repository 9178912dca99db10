"""A series' ``prices:`` overrides into price tables: the default model's, and each model's own.

``prices: {720P: 0.1, 1080P: 0.15, currency: USD}`` is the default model's (wan2.7-r2v's) table; a
key that is a model id holds that model's own overrides, ``wan3.0-video: {480P: 0.06}``. The other
models' list tables (``PriceTable.by_model``) are kept. A currency given at the top is every
model's: a model still priced in another currency is a problem (its rates would be mislabelled).
Problems are returned as ``prices.KEY: message`` lines, for the caller to report its own way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from storyboard.targets.capabilities import PriceTable
from storyboard.targets.cast.assets import asset_models
from storyboard.targets.video.models import DASHSCOPE_PASSES, DEFAULT_MODEL, MODELS

TABLE_KEYS = ("currency", "per", "input_video_cap", "per_second")


def known_models() -> tuple[str, ...]:
    """Every model id a ``prices:`` key may name: each model and each of its snapshots, the
    passes over a take (``videoretalk``) and the cast's and boards' services."""
    return (*(name for m in MODELS.values() for name in (m.id, *m.snapshots)),
            *DASHSCOPE_PASSES, *asset_models())


def _number(where: str, value: object, problems: list[str]) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not is_amount(value):
        problems.append(f"{where}: {value!r} is not a price (a finite number >= 0)")
        return None
    return float(value)


def is_amount(value: float) -> bool:
    """Whether ``value`` is an amount of money: finite and not negative (NaN is not: every
    comparison with it is false, so a limit of NaN would limit nothing)."""
    return math.isfinite(value) and value >= 0


def amount(value: object, what: str) -> float:
    """``value`` as an amount of money, or a clear error naming ``what`` (``--budget``): never
    NaN, infinity, a negative number or a text that is not a number."""
    try:
        number = float(value) if not isinstance(value, bool) else math.nan  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not is_amount(number):
        raise ValueError(f"{what} must be a finite amount >= 0, got {value!r}")
    return number


def under(cost: float, limit: float) -> bool:
    """Whether ``cost`` stays within ``limit``: written to fail closed (False for NaN)."""
    return cost <= limit + 1e-9


def _rates(where: str, items: Mapping[str, Any], problems: list[str]) -> dict[str, float]:
    rates: dict[str, float] = {}
    for key, value in items.items():
        rate = _number(f"{where}.{key}", value, problems)
        if rate is not None:
            rates[str(key)] = rate
    return rates


def override_table(table: PriceTable, overrides: Mapping[str, Any], where: str,
                   problems: list[str], *, replace_rates: bool = False) -> PriceTable:
    """``table`` with ``overrides`` (rates by resolution, ``currency``, ``per``,
    ``input_video_cap``; rates may sit under ``per_second``). ``replace_rates``: the rates given
    are the whole table (a resolution left out bills at the highest one), else they are merged."""
    given: dict[str, float] = {}
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key == "currency":
            changes["currency"] = str(value)
        elif key == "per":
            if value in ("second", "generation"):
                changes["per"] = value
            else:
                problems.append(f"{where}.per: {value!r} is not second or generation")
        elif key == "input_video_cap":
            cap = _number(f"{where}.{key}", value, problems)
            if cap is not None:
                changes["input_video_cap"] = cap
        elif key == "per_second" and isinstance(value, Mapping):
            given.update(_rates(f"{where}.per_second", value, problems))
        else:
            given.update(_rates(where, {key: value}, problems))
    base = {} if replace_rates and given else dict(table.per_second)
    return replace(table, per_second={**base, **given}, **changes)


def split(overrides: Mapping[str, Any], where: str, problems: list[str]
          ) -> tuple[dict[str, Any], dict[str, Mapping[str, Any]]]:
    """The default model's overrides (top-level keys, and ``wan2.7-r2v:``), and each other
    model's. A mapping under a key that is no model id (nor ``per_second``) is a problem."""
    top: dict[str, Any] = {}
    models: dict[str, Mapping[str, Any]] = {}
    known = known_models()
    for key, value in overrides.items():
        name = str(key)
        if not isinstance(value, Mapping) or name == "per_second":
            top[name] = value
        elif name == DEFAULT_MODEL:
            top.update(value)
        elif name in known:
            models[name] = value
        else:
            problems.append(f"{where}.{name}: unknown model; known: {', '.join(known)}")
    return top, models


def apply_overrides(table: PriceTable, overrides: Mapping[str, Any], where: str = "prices", *,
                    replace_rates: bool = False) -> tuple[PriceTable, list[str]]:
    """``table`` (the default model's, with the others in ``by_model``) under a series'
    ``prices:``, and the problems found (each ``where.KEY: message``)."""
    problems: list[str] = []
    top, models = split(overrides, where, problems)
    result = override_table(table, top, where, problems, replace_rates=replace_rates)
    currency = top.get("currency")
    by_model = dict(table.by_model)
    for name, own in models.items():
        base = table.for_model(name) if table.for_model(name) is not table else result
        merged = {"currency": currency, **own} if currency is not None else own
        by_model[name] = override_table(replace(base, by_model={}), merged, f"{where}.{name}",
                                        problems, replace_rates=replace_rates)
    stale = [name for name, own in by_model.items() if own.currency != result.currency]
    if stale:
        problems.append(f"{where}.currency: {result.currency} is not the currency of "
                        f"{', '.join(stale)}; give their prices in {result.currency} too, "
                        f"e.g. {stale[0]}: {{720P: 0.1}}")
    return replace(result, by_model=by_model), problems
