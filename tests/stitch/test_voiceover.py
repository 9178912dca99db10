"""A scene's ``voiceover``: its lines are heard in the episode, never lip-synced (issue 59.1).

A narrator's line (route ``none``) is made in the narrator's designed voice (``lines/EP/SHOT/N``),
planned and paid once like any made line, and mixed into the stitched episode at its window over
the shot's own sound; a narrator with no designed voice stays silent, with a warning at the line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from storyboard.media import ffmpeg
from tests.fixtures.cli import invoke

SERIES = """\
storyboard: 1
title: Narrated
defaults: {resolution: 720P, duration: 4}
output: {loudness: null}
voices:
  old-voice: {design: "an old man, slow and dry", sample: "It began here, in this town, years ago."}
characters:
  mia: {image: {generate: "a barista with short dark hair"}}
  narrator: {image: {generate: "an old man"}, voice: old-voice}
episodes:
  - id: ep1
    shots:
      - id: street
        scenes:
          - {at: 0-2s, action: "@mia walks down an empty street"}
          - {at: 2-4s, action: "@mia closes a door", say: {narrator: "She never came back."},
             voiceover: true}
"""


def series(root: Path, text: str = SERIES) -> Path:
    root.mkdir(parents=True)
    (root / "storyboard.yaml").write_text(text, encoding="utf-8")
    return root


def run(*args: Any) -> dict[str, Any]:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def loudest(video: Path, start: float, length: float) -> float:
    """The loudest sample in [start, start + length) of ``video``'s sound, in dB."""
    log = ffmpeg.run(["-ss", str(start), "-t", str(length), "-i", str(video), "-vn", "-af",
                      "volumedetect", "-f", "null", "-"])
    found = [line for line in log.splitlines() if "max_volume:" in line]
    return float(found[0].split("max_volume:")[1].split()[0])


def test_a_narrator_is_heard_in_the_episode_at_the_line_window(tmp_path: Path) -> None:
    root = series(tmp_path / "s")
    run("render", root, "--yes")
    episode = root / "out" / "ep1.mp4"
    assert loudest(episode, 2.1, 1.5) > -40  # the narrator, in the line's window
    assert loudest(episode, 0.0, 1.8) < -80  # nothing before it: the shot itself is silent


def test_the_narrator_line_is_planned_once_and_made_once(tmp_path: Path) -> None:
    root = series(tmp_path / "s")
    planned = run("plan", root)
    assert [s["key"] for s in planned["shots"]].count("s/lines/ep1/street/1") == 1
    street = next(s for s in planned["shots"] if s["key"] == "s/ep1/street")
    assert "lines/ep1/street/1" in street["waits_for"]  # made before the shot that hands it over
    states = {s["key"]: s["state"] for s in run("render", root, "--yes")["shots"]}
    assert states["s/lines/ep1/street/1"] == "done"
    again = run("render", root, "--yes")
    assert {s["state"] for s in again["shots"]} == {"cached"}  # nothing made twice
    assert [e["state"] for e in again["episodes"]] == ["up to date"]


def test_a_narrator_with_no_designed_voice_is_warned_of_at_the_line(tmp_path: Path) -> None:
    root = series(tmp_path / "s", SERIES.replace(", voice: old-voice}", "}"))
    result = invoke("check", root)
    assert result.exit_code == 0, result.output  # a warning: the words are subtitles only
    assert "storyboard.yaml:16:60: warning: this line is heard only (route none), and " \
           "narrator has no voice" in result.output
    assert "stays silent (its words are subtitles only)" in result.output


def test_a_dubbed_shot_takes_its_own_sound_out_and_lays_the_versions_lines(
        tmp_path: Path, make_media: Any) -> None:
    """A version's shot (``heard.dubbed``): the take's own sound (the original's speech) is
    gone, the version's line is heard at its window; the same inputs give the same file."""
    from storyboard.stitch.series.heard import dubbed, with_heard
    take = make_media("video", tmp_path / "take.mp4", seconds=3.0, tone=440)
    line = make_media("voice", tmp_path / "line.wav", seconds=0.8)
    assert loudest(take, 0.1, 0.7) > -40  # the take speaks (its tone) from the start
    made = dubbed(take, [(line, 1.5)], tmp_path / "heard")
    assert loudest(made, 0.1, 1.2) < -80  # its own sound is out
    assert loudest(made, 1.6, 0.6) > -40  # the version's line, at its window
    assert dubbed(take, [(line, 1.5)], tmp_path / "heard") == made
    assert with_heard(take, [(line, 1.5)], tmp_path / "heard") != made  # mixed, not replaced
    assert dubbed(take, [], tmp_path / "heard") == take  # no line: the shot keeps its sound
