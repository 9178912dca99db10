"""The density rule the season's shots stage tells the model (``breakdown/questions/density.py``)
is the one ``check`` counts by (``language/lint/density.py``): one set of weights, said and counted."""

from __future__ import annotations

from storyboard.breakdown.questions.density import RULE
from storyboard.language.lint import density


def test_the_rule_the_model_is_told_says_the_weights_check_counts_by() -> None:
    for said in (f"at least {density.LEAST:g}",
                 f"1 for every {density.WORDS} words spoken ({density.CJK_CHARACTERS} Chinese characters)",
                 f"{density.PLACE} for each place it names after another",
                 f"{density.MOVE:g} for each camera move",
                 f"1 for every {density.WORDS} words of action beyond {density.FREE} a sentence"):
        assert said in RULE, said
    eight = " ".join(["word"] * density.WORDS)
    # one beat, one point of words spoken, a second principal, a change of place, a pan
    assert density.points_of(["She waits."], [eight], 2, 1, "pan") == 1 + 1 + 1 + density.PLACE + density.MOVE
    assert density.points_of(["她等着。"], ["字" * density.CJK_CHARACTERS], 1, 0) == 1 + 1
