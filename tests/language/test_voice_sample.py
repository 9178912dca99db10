"""A voice sample too short to be a reference voice (54.7): ``check`` warns at the sample (as it
does for a too-short driving-audio line); ``init --from`` and the breakdown pick a long enough
sample (the first line long enough, else the first lines joined)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import storyboard
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.stages import chaptershots as shot_stage
from storyboard.breakdown.stages.cast import Cast
from storyboard.breakdown.stages.seriestext import _first_lines
from storyboard.cli.main import cli
from storyboard.language.resolving.cast import SAMPLE_SECONDS, voice_sample
from storyboard.targets.cast.assets import spoken_seconds

SERIES = """\
storyboard: 1
title: Bar
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
provider: {name: dashscope}
characters:
  joe: {image: {generate: "a bartender"}, voice: joe-voice}
voices:
  joe-voice: {design: "a gruff man", sample: "Beer's ready!"}
episodes:
  - id: ep01
    shots:
      - {id: pour, prompt: "@joe pours a beer"}
"""
SCREENPLAY = """\
Title: Last Orders

INT. BAR - NIGHT

JOE, a bartender in his sixties, polishes a glass.

JOE
Beer's ready!

JOE
Hey.

JOE
Last orders, everyone, the kitchen closed an hour ago.

ANN
Yes.

ANN
One more.
"""


def test_check_warns_of_a_sample_too_short_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    found = [d for d in storyboard.check(tmp_path) if d.code == "sample-length"]
    assert [(d.severity, d.span.line if d.span else 0) for d in found] == [("warning", 8)]
    assert "about 0.65 s" in found[0].message and "1 to 10 s" in found[0].message
    longer = SERIES.replace("Beer's ready!", "Beer's ready, and the crisps are on the house!")
    (tmp_path / "storyboard.yaml").write_text(longer, encoding="utf-8")
    assert not [d for d in storyboard.check(tmp_path) if d.code == "sample-length"]


def test_the_first_line_long_enough_else_the_lines_joined() -> None:
    long = "Last orders, everyone, the kitchen closed an hour ago."
    assert voice_sample(["Beer's ready!", "Hey.", long, "Bye now, all."]) == long
    joined = voice_sample(["Yes.", " One  more. ", "Please, Joe, pour it.", "No."])
    assert joined == "Yes. One more. Please, Joe, pour it."  # joined until long enough, no further
    assert spoken_seconds(joined) >= SAMPLE_SECONDS
    assert voice_sample(["Hi.", ""]) == "Hi."  # all there is: check then warns
    assert voice_sample([]) == ""


def test_init_from_a_screenplay_picks_a_long_enough_sample(tmp_path: Path) -> None:
    script = tmp_path / "bar.fountain"
    script.write_text(SCREENPLAY, encoding="utf-8")
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "bar"), "--from", str(script)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "bar" / "storyboard.yaml").read_text(encoding="utf-8")
    assert "Last orders, everyone, the kitchen closed an hour ago." in text
    assert "Beer's ready!" not in text.partition("characters:")[0].partition("voices:")[2]
    assert "Yes. One more." in text  # Ann's lines, each too short, joined


def test_the_breakdown_picks_a_long_enough_sample() -> None:
    cast = Cast()
    cast.add("character", "Joe", "a bartender", "a gruff man",
             Chapter("story.md", 1, "One", 1, ("Joe is a bartender.",)))
    said = [("joe", "Beer's ready!", 3), ("joe", "Last orders, everyone, please.", 5)]
    _first_lines(cast, [shot_stage.Shot("s1", "ch1", 1, 2, "wide", 4, ["joe"],
                                        [shot_stage.Scene(0, 4, "pours", said)])])
    assert cast.entries["joe"].first_line == "Last orders, everyone, please."


def test_a_line_longer_than_a_reference_voice_gives_way_to_a_later_one_that_fits() -> None:
    """The novel's season on a real model: Marley's first line, 318 characters, was his sample
    (``check`` warned it may outlast a reference voice) though a later line fit."""
    long = "Marley was dead: to begin with. " * 10
    fits = "Bah, humbug, I say, and I mean every word of it!"
    assert voice_sample(["Hi.", long, fits]) == fits
    assert voice_sample(["Hi.", long]) == " ".join(long.split())  # the caller cuts it
