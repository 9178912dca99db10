"""A measurement read from a team's store is kept only when it is whole (``measure.trusted``):
anything else is measured again here, never believed."""

from __future__ import annotations

import math
from typing import Any

import pytest

from storyboard.media.probes.measure import VERSION, Measured, trusted

WHOLE: dict[str, Any] = Measured(
    "video", seconds=2.0, width=1280, height=720, has_audio=True, cuts=[(1.0, 42.5)],
    black=[(0.0, 0.1)], silence=[(1.5, 2.0)], peak_db=-3.0, peak_count=2, loudness=-20.5,
).to_dict()


def test_a_whole_measurement_is_kept_as_it_was() -> None:
    found = trusted(WHOLE)
    assert found is not None and found.to_dict() == WHOLE
    assert trusted({**WHOLE, "version": VERSION + 1}) is not None  # a later measurer's
    assert trusted({"kind": "audio", "seconds": 3}) is not None  # what a voice's holds


@pytest.mark.parametrize("change", [
    {"seconds": math.nan}, {"seconds": math.inf}, {"seconds": -1.0}, {"seconds": "2"},
    {"width": -1}, {"width": 1.5}, {"height": True}, {"peak_count": -3},
    {"loudness": math.nan}, {"peak_db": -math.inf}, {"spread": "wide"},
    {"kind": "poster"}, {"kind": ["video"]}, {"has_audio": 1},
    {"cuts": [(1.0,)]}, {"cuts": [(1.0, math.nan)]}, {"black": [("a", "b")]}, {"frozen": "ab"},
    {"silence": [3]}, {"cuts": 7}, {"version": 0}, {"version": "1"},
], ids=repr)
def test_one_wrong_field_is_measured_again(change: dict[str, Any]) -> None:
    assert trusted({**WHOLE, **change}) is None


@pytest.mark.parametrize("data", [None, [], "video", 3, {"seconds": 2.0}], ids=repr)
def test_what_is_no_measurement_is_measured_again(data: object) -> None:
    assert trusted(data) is None


def test_a_field_this_version_does_not_know_is_left_out() -> None:
    found = trusted({**WHOLE, "flashes": [[0.5, 0.6]]})  # a later measurer's finding
    assert found is not None and found.to_dict() == WHOLE
