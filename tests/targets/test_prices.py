"""Price estimates: exact for whole cents, never below the real bill."""

from __future__ import annotations

import pytest

from storyboard.targets import PriceTable


@pytest.mark.parametrize(("rate", "seconds", "expected"), [
    (0.1, 3, 0.3), (0.1, 10, 1.0), (0.15, 7, 1.05), (0.6, 15, 9.0), (0.1, 10.00001, 1.0001),
])
def test_cost_is_exact_and_rounds_up(rate: float, seconds: float, expected: float) -> None:
    assert PriceTable({"720P": rate}).cost("720P", seconds) == expected


def test_billed_seconds_cap_input_video() -> None:
    table = PriceTable({"720P": 0.1})
    assert table.billed_seconds(10, input_video_seconds=12) == 15
    assert table.billed_seconds(10, input_video_seconds=3) == 13


def test_unknown_resolution_uses_the_highest_rate() -> None:
    assert PriceTable({"720P": 0.1, "1080P": 0.15}).cost("4K", 10) == 1.5
