"""A shot id that names no shot answered with the one meant: by spelling among its own episode's
shots, else that episode's shots listed; never a shot of another episode for one of this one's."""

from __future__ import annotations

import pytest

from storyboard.language.read.schemacheck import LISTED, shot_meant

SHOTS = ["boards/ep01/ballad", "ep01/ballad", "ep01/reply", "ep02/order", "ep02/serve"]


@pytest.mark.parametrize(("given", "said"), [
    ("ep01/balad", " (did you mean 'ep01/ballad'?)"),
    ("ep01/replly", " (did you mean 'ep01/reply'?)"),
    ("ep01/nope", " (ep01's shots: ballad, reply)"),  # whole ids: 'ep02/order' is nearest
    ("ep02/ordr", " (did you mean 'ep02/order'?)"),
    ("boards/ep01/balad", " (did you mean 'boards/ep01/ballad'?)"),
    ("ep09/order", " (did you mean 'ep02/order'?)"),  # no such episode: among every shot
    ("nope", ""),
])
def test_a_shot_id_is_answered_with_the_shot_meant_in_its_episode(given: str, said: str) -> None:
    assert shot_meant(given, SHOTS) == said


def test_a_long_episode_lists_its_first_shots_and_counts_the_rest() -> None:
    shots = [f"ep01/s{n:02d}" for n in range(LISTED + 3)]
    listed = ", ".join(f"s{n:02d}" for n in range(LISTED))
    assert shot_meant("ep01/zzz", shots) == f" (ep01's shots: {listed} and 3 more)"
