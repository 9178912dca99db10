"""Every stitch path, at draft and full size: video, audio and container agree to the frame.

The clips are the local provider's own animatics (what a draft or full render stitches), in two
shapes (16:9 and 9:16), plus one whose MP4 timescale differs: the concat demuxer copies timestamps
as they are, so a piece in another time base used to collapse (a 12 s draft whose video lasted
9.47 s).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.animatic import render_shot
from storyboard.language.request import ShotRequest, Transition
from storyboard.media import ffmpeg
from storyboard.stitch import Clip, Cue, StitchOptions, stitch


def _request(ratio: str, seconds: int) -> ShotRequest:
    return ShotRequest(model="wan2.7-r2v", prompt=f"a {ratio} shot", media=(), resolution="720P",
                       ratio=ratio, duration=seconds, prompt_extend=False, watermark=False)


@pytest.fixture(scope="module", params=["draft", "full"])
def shots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> tuple[float, dict[str, Path]]:
    """(one frame in seconds, {"wide": 3 s 16:9, "tall": 2 s 9:16, "rescaled": wide in 1/90000})."""
    draft = request.param == "draft"
    folder = tmp_path_factory.mktemp(str(request.param))
    wide, tall = folder / "wide.mp4", folder / "tall.mp4"
    render_shot(_request("16:9", 3), wide, draft=draft)
    render_shot(_request("9:16", 2), tall, draft=draft)
    rescaled = folder / "rescaled.mp4"
    ffmpeg.run(["-i", str(wide), "-c", "copy", "-video_track_timescale", "90000", str(rescaled)])
    return (1 / 12 if draft else 1 / 30), {"wide": wide, "tall": tall, "rescaled": rescaled}


CROSSFADE = Transition("crossfade", 0.5)
CASES = {
    # name: (clips as (shot, transition, cues), options, expected path, expected seconds)
    "copy": ([("wide", None, ()), ("wide", None, ())], {"loudness": None}, "copy", 6.0),
    "copy refused: another timescale": (
        [("wide", None, ()), ("rescaled", None, ())], {"loudness": None}, "normalized", 6.0),
    "normalized: copied and re-encoded pieces meet": (
        [("wide", None, ()), ("tall", None, ())], {"loudness": None}, "normalized", 5.0),
    "normalized: re-encoded then copied": (
        [("tall", None, ()), ("wide", None, ())], {"loudness": None}, "normalized", 5.0),
    "normalized with loudness": (
        [("wide", None, ()), ("tall", None, ())], {"loudness": -14.0}, "normalized", 5.0),
    "filtered: a transition": (
        [("wide", None, ()), ("tall", CROSSFADE, ())], {"loudness": None}, "filtered", 4.5),
    "filtered: burnt-in subtitles": (
        [("wide", None, (Cue(0.5, 1.5, "Hello", "Mia"),)), ("rescaled", None, ())],
        {"loudness": None, "burn_subtitles": True}, "filtered", 6.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_video_audio_and_container_agree_on_every_path(
        shots: tuple[float, dict[str, Path]], tmp_path: Path, case: str) -> None:
    frame, files = shots
    layout, settings, path_taken, seconds = CASES[case]
    clips = [Clip(files[name], transition or Transition(), cues)
             for name, transition, cues in layout]
    result = stitch(clips, tmp_path / "ep.mp4", StitchOptions(preset="ultrafast", **settings))
    assert result.path_taken == path_taken
    lengths = ffmpeg.stream_lengths(result.out)
    container = ffmpeg.probe(result.out).duration
    assert container is not None
    assert lengths["video"] == pytest.approx(seconds, abs=frame), lengths
    assert lengths["audio"] == pytest.approx(seconds, abs=frame), lengths
    assert container == pytest.approx(seconds, abs=frame)
    assert result.duration == pytest.approx(seconds, abs=frame)
