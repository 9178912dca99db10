"""A delivery preset stitched: 1080x1920, burnt-in text inside the safe area (its pixels
sampled), each platform's loudness target, the settings a ``delivery:`` block gives."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storyboard.media import ffmpeg
from storyboard.media.probes.measure import measure
from storyboard.stitch import Clip, Cue, StitchOptions, stitch
from storyboard.stitch.series.delivery import PLATFORMS, PRESETS, VERTICAL_SAFE_AREA, delivery_of
from storyboard.stitch.series.episodes import stitch_options

MakeMedia = Callable[..., Path]
LINE = "A long line of dialogue that has to wrap across the width of the picture"
BRIGHT = 160  # the text's white fill (its outline is black, the clip black)


def delivered(block: dict[str, object], **kw: Any) -> StitchOptions:
    options = stitch_options({"delivery": block, "output": {"subtitles": False}})
    return dataclasses.replace(options, preset="ultrafast", **kw)


def bright_box(video: Path, at: float, work: Path) -> tuple[int, int, int, int]:
    """The box around the frame's bright pixels (left, top, right, bottom), the frame read raw."""
    raw = work / "frame.gray"
    ffmpeg.run(["-ss", f"{at}", "-i", str(video), "-frames:v", "1", "-f", "rawvideo",
                "-pix_fmt", "gray", "-y", str(raw)], what="a raw frame")
    info = ffmpeg.probe(video).streams[0]
    width, data = info.width, raw.read_bytes()
    hits = [(i % width, i // width) for i, value in enumerate(data) if value > BRIGHT]
    assert hits, "no text drawn"
    xs, ys = [x for x, _ in hits], [y for _, y in hits]
    return min(xs), min(ys), max(xs), max(ys)


def test_burnt_subtitles_stay_inside_the_vertical_safe_area(make_media: MakeMedia,
                                                            tmp_path: Path) -> None:
    black = make_media("video", tmp_path / "black.mp4", width=270, height=480, seconds=2.0,
                       pattern="color")
    clips = [Clip(black, cues=(Cue(0.2, 1.8, LINE, "Ada"),))]
    options = delivered({"preset": "vertical", "burn_subtitles": True})
    out = stitch(clips, tmp_path / "ep.mp4", options).out
    preset = PRESETS["vertical"]
    assert (ffmpeg.probe(out).streams[0].width, ffmpeg.probe(out).streams[0].height) == (1080, 1920)
    top, bottom, left, right = VERTICAL_SAFE_AREA.pixels(preset.width, preset.height)
    assert (top, bottom, left, right) == (192, 384, 65, 162)  # the declared margins
    x0, y0, x1, y1 = bright_box(out, 1.0, tmp_path)
    assert y1 <= preset.height - bottom and y0 >= top
    assert x0 >= left and x1 <= preset.width - right
    # the same text without the safe area sits lower, in the platforms' buttons
    plain = stitch(clips, tmp_path / "plain.mp4", dataclasses.replace(options, safe_area=None)).out
    assert bright_box(plain, 1.0, tmp_path)[3] > preset.height - bottom


def true_peak(path: Path) -> float:
    """The sound's true peak in dBTP (ffmpeg's ebur128 meter, 4x oversampled)."""
    log = ffmpeg.run(["-i", str(path), "-map", "0:a", "-af", "ebur128=peak=true", "-f", "null",
                      "-"])
    return float(re.findall(r"Peak:\s+(-?[\d.]+|-inf) dBFS", log)[-1])


def test_each_platform_gets_its_loudness_target(make_media: MakeMedia, tmp_path: Path) -> None:
    clip = make_media("video", tmp_path / "tone.mp4", width=160, height=284, seconds=3.0,
                      tone=440)
    before = measure(clip).loudness
    assert before is not None and abs(before - PLATFORMS["streaming"].integrated) > 3
    found = {}
    for platform in ("streaming", "broadcast"):
        out = stitch([Clip(clip)], tmp_path / f"{platform}.mp4",
                     delivered({"preset": "vertical", "platform": platform})).out
        measured = measure(out)
        assert measured.loudness is not None and measured.peak_db is not None
        assert abs(measured.loudness - PLATFORMS[platform].integrated) <= 1.0
        assert measured.peak_db < -1.0 and true_peak(out) < -1.0
        found[platform] = measured.loudness
    assert found["streaming"] - found["broadcast"] > 7  # -14 against -23 LUFS


def test_a_delivery_block_sets_size_loudness_and_cards() -> None:
    settings = {"delivery": {"preset": "vertical", "loudness": -16, "true_peak": -2,
                             "card_seconds": 1.5, "title_card": True}}
    options = stitch_options(settings)
    assert (options.width, options.height, options.loudness, options.true_peak) == (
        1080, 1920, -16.0, -2.0)
    delivery = delivery_of(settings)
    assert delivery is not None
    assert delivery.title_card_spec(7, "The Door") == {"text": "Episode 7\nThe Door",
                                                       "duration": 1.5}
    assert delivery_of({}) is None and stitch_options({}).width is None
    default = delivery_of({"delivery": {"preset": "vertical"}})
    assert default is not None and default.loudness == PLATFORMS["streaming"]
    assert (default.loudness.integrated, default.loudness.true_peak) == (-14.0, -1.5)
