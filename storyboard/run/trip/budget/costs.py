"""A compiled shot and a price table into what its render is expected to bill: seconds and cost.

The trip's floor of the plan: the runner reserves this estimate against a budget before a submit,
and the route's plan (``run.plans``) prices each shot with it. Billed seconds follow the provider's
``PriceTable``: the reference videos' seconds (capped) plus the output seconds; when the length of a
shot's reference videos is unknown the cap is assumed, so the estimate is an upper bound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from storyboard.language.request import CompiledShot, Manifest
from storyboard.targets import PriceTable
from storyboard.targets.cast.assets import EACH, price_tables, units

ReferenceSeconds = Callable[[CompiledShot], float | None]


def asset_cost(shot: CompiledShot, prices: PriceTable) -> float:
    """A cast asset's cost by its service's table on this provider; a paid provider without
    one counts the list price (international, in USD), a free one nothing."""
    assert shot.asset is not None
    table = prices.by_model.get(shot.asset.model)
    if table is None:
        if not any(rate > 0 for rate in prices.per_second.values()):
            return 0.0
        table = price_tables("intl", "USD")[shot.asset.model]
    return table.cost(EACH, units(shot.asset.kind, shot.asset.prompt))


def estimate(shot: CompiledShot, prices: PriceTable,
             reference_video_seconds: ReferenceSeconds | None = None) -> tuple[float, float]:
    """(billed seconds, cost) a render of ``shot`` is expected to bill, by its model's table
    (a cast asset bills no seconds: an image, a voice, or a line's characters)."""
    if shot.asset is not None:
        return 0.0, asset_cost(shot, prices)
    prices = prices.for_model(shot.request.model)
    seconds = reference_video_seconds(shot) if reference_video_seconds else None
    if seconds is None or (seconds == 0 and shot.request.has_input_video):
        # Unknown (or a clip to continue, not measured): assume the cap, never undershoot.
        seconds = prices.input_video_cap if shot.request.has_input_video else 0.0
    billed = prices.billed_seconds(float(shot.request.duration),
                                   min(seconds, prices.input_video_cap))
    return billed, prices.cost(shot.request.resolution, billed)


def shots_of(source: Manifest | Sequence[CompiledShot]) -> list[CompiledShot]:
    return source.takes() if isinstance(source, Manifest) else list(source)
