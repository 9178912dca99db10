"""The one episode-range grammar, as a command's ``--episodes`` words choose episodes by it."""

from __future__ import annotations

import pytest

from storyboard.language.read import ranges

IDS = ["pilot", "ep02", "ep03", "finale"]


@pytest.mark.parametrize(("words", "expected"), [
    (("ep02",), ["ep02"]),
    (("1-2", "finale"), ["pilot", "ep02", "finale"]),
    (("3-",), ["ep03", "finale"]),
    (("finale", "1"), ["pilot", "finale"]),  # the series' order, each once
    (("2", "ep02"), ["ep02"]),
    (("ep09",), ["ep09"]),  # neither: kept as written, for the command to name
    (("5",), "'5' reaches past the series' 4 episode(s)"),
    (("2-9",), "'2-9' reaches past the series' 4 episode(s)"),
])
def test_words_choose_episodes_by_id_or_number(words: tuple[str, ...],
                                               expected: list[str] | str) -> None:
    assert ranges.chosen(words, IDS) == expected
