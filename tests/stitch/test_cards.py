"""Title and end cards: encoded like shots, so an episode joins by stream copy."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from storyboard.animatic import render_card, render_shot
from storyboard.errors import StoryboardError
from storyboard.language.request import MediaItem, MediaRef, ShotRequest
from storyboard.media import ffmpeg
from storyboard.media.ffmpeg import StreamInfo

MakeMedia = Callable[..., Path]


def shot_request(duration: int = 2) -> ShotRequest:
    return ShotRequest(model="wan2.7-r2v", prompt="a shot", media=(), resolution="720P",
                       ratio="16:9", duration=duration, prompt_extend=False, watermark=False)


def streams(path: Path) -> tuple[StreamInfo, StreamInfo]:
    info = ffmpeg.probe(path)
    assert info.video is not None and info.audio is not None
    return info.video, info.audio


def parameter_sets(path: Path) -> list[bytes]:
    """The H.264 SPS and PPS of a file: equal ones let the concat demuxer copy streams safely."""
    raw = path.with_suffix(".h264")
    ffmpeg.run(["-i", str(path), "-map", "0:v", "-c", "copy", "-bsf:v", "h264_mp4toannexb",
                "-frames:v", "1", "-f", "h264", str(raw)])
    units = [unit.rstrip(b"\x00") for unit in raw.read_bytes().split(b"\x00\x00\x01")]
    found = [unit for unit in units if unit and unit[0] & 0x1F in (7, 8)]  # SPS, PPS
    assert len(found) >= 2
    return found


def gray_frame(path: Path, tmp_path: Path, at: float = 0.5) -> tuple[int, int, bytes]:
    """One decoded frame as 8-bit luma: width, height, pixels (row by row)."""
    video, _ = streams(path)
    raw = tmp_path / "frame.gray"
    ffmpeg.run(["-ss", str(at), "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
                "-pix_fmt", "gray", str(raw)])
    return video.width, video.height, raw.read_bytes()


def bright_row_runs(width: int, height: int, pixels: bytes) -> int:
    """How many separate bands of rows hold a bright pixel (lines of white text on black)."""
    bright = [max(pixels[y * width:(y + 1) * width]) > 128 for y in range(height)]
    return sum(1 for y in range(height) if bright[y] and (y == 0 or not bright[y - 1]))


@pytest.mark.parametrize("draft", [False, True])
def test_a_card_is_encoded_like_a_shot(tmp_path: Path, draft: bool) -> None:
    shot, card = tmp_path / "shot.mp4", tmp_path / "card.mp4"
    render_shot(shot_request(), shot, draft=draft)
    render_card(card, text="The End", width=1280, height=720, duration=1.5, draft=draft)
    (shot_v, shot_a), (card_v, card_a) = streams(shot), streams(card)
    assert card_v == shot_v  # codec, size, fps, pix_fmt
    assert card_a == shot_a  # codec, sample rate, channels
    assert parameter_sets(card) == parameter_sets(shot)  # profile, level, entropy coder, ...
    lengths = ffmpeg.stream_lengths(card)
    assert lengths["video"] == pytest.approx(1.5)
    assert lengths["audio"] == pytest.approx(1.5, abs=1 / 30)


def test_cards_and_shots_join_by_stream_copy(tmp_path: Path, make_media: MakeMedia) -> None:
    image = make_media("image", tmp_path / "mia.png")
    shot = ShotRequest(model="wan2.7-r2v", prompt="mia waves",
                       media=(MediaItem("reference_image", MediaRef(path=image), "Image 1"),),
                       resolution="720P", ratio="16:9", duration=2, prompt_extend=False,
                       watermark=False)
    parts = [tmp_path / "title.mp4", tmp_path / "shot.mp4", tmp_path / "end.mp4"]
    render_card(parts[0], text="Episode 1", width=1280, height=720, duration=1.0, draft=True)
    render_shot(shot, parts[1], draft=True)
    render_card(parts[2], text="The End", width=1280, height=720, duration=1.0, color="#102030",
                draft=True)
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    joined = tmp_path / "episode.mp4"
    ffmpeg.run(["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(joined)])
    errors = ffmpeg.run(["-v", "error", "-i", str(joined), "-f", "null", "-"])
    assert errors.strip() == ""
    decoded = re.findall(r"frame=\s*(\d+)", ffmpeg.run(["-i", str(joined), "-f", "null", "-"]))
    assert decoded and int(decoded[-1]) == 4 * 12  # every frame of the three parts, at 12 fps
    # the concat demuxer offsets each part by its container length (AAC pads a few ms)
    assert ffmpeg.stream_lengths(joined)["video"] == pytest.approx(4.0, abs=0.05)


def test_card_text_keeps_its_lines(tmp_path: Path) -> None:
    one, two = tmp_path / "one.mp4", tmp_path / "two.mp4"
    render_card(one, text="EPISODE ONE", width=1280, height=720, duration=1.0, draft=True)
    render_card(two, text="EPISODE ONE\nTHE FIRST MEETING", width=1280, height=720,
                duration=1.0, draft=True)
    assert bright_row_runs(*gray_frame(one, tmp_path)) == 1
    assert bright_row_runs(*gray_frame(two, tmp_path)) == 2


def test_a_card_image_fills_the_frame(tmp_path: Path, make_media: MakeMedia) -> None:
    white = make_media("image", tmp_path / "white.png", width=300, height=300, color="white")
    out = tmp_path / "card.mp4"
    render_card(out, text="", width=1280, height=720, duration=1.0, color="black", image=white,
                draft=True)
    width, height, pixels = gray_frame(out, tmp_path)
    corners = [pixels[0], pixels[width - 1], pixels[(height - 1) * width],
               pixels[height * width - 1]]
    assert min(corners) > 200  # scaled to cover: no black bars anywhere


def test_a_card_is_silent(tmp_path: Path) -> None:
    out = tmp_path / "card.mp4"
    render_card(out, text="Silence", width=960, height=960, duration=1.0, draft=True)
    log = ffmpeg.run(["-i", str(out), "-map", "0:a", "-af", "volumedetect", "-f", "null", "-"])
    found = re.search(r"max_volume: (\S+) dB", log)
    assert found and float(found.group(1)) < -60


@pytest.mark.parametrize("color", ["red:s=10x10", "black,drawtext", "x'y", ""])
def test_a_bad_colour_is_refused(tmp_path: Path, color: str) -> None:
    with pytest.raises(StoryboardError, match="is not a colour"):
        render_card(tmp_path / "card.mp4", text="x", width=1280, height=720, duration=1.0,
                    color=color, draft=True)
