"""The emulator draws a spoken line's caption along the top of its result, never where a vertical
delivery burns its subtitles in (above the platforms' bottom safe area): the lower half of a
9:16 result with a line is the same picture as without it; the caption is in the upper half."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.media import ffmpeg
from tests.emulator.test_emulator_drawings import result_of
from tests.fixtures.emulator import make_body

ACTION = "Image 1 waves at the camera."
NOISE = 24  # grey levels: x264 codes the same picture a little differently beside other pixels
SPOKEN = f'{ACTION} Image 1 says: "Somebody is at the door, and it is late."'


def half(video: Path, out: Path, which: str) -> bytes:
    """The grey levels of the upper or lower half of ``video``'s frame at 1 s."""
    crop = "crop=iw:ih/2:0:0" if which == "upper" else "crop=iw:ih/2:0:ih/2"
    ffmpeg.run(["-ss", "1", "-i", str(video), "-frames:v", "1", "-vf", crop, "-f", "rawvideo",
                "-pix_fmt", "gray", str(out)], what="a half frame")
    return out.read_bytes()


def test_a_caption_sits_clear_of_a_vertical_deliverys_subtitles(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORYBOARD_EMULATOR_DRAWINGS", raising=False)
    with EmulatorServer(latency=0.05) as server:
        spoken = result_of(server, make_body(SPOKEN, ratio="9:16"), tmp_path / "spoken.mp4")
        silent = result_of(server, make_body(ACTION, ratio="9:16"), tmp_path / "silent.mp4")
    video = ffmpeg.probe(spoken).video
    assert video is not None and video.height > video.width
    lower = drawn(half(spoken, tmp_path / "a.gray", "lower"),
                  half(silent, tmp_path / "b.gray", "lower"))
    upper = drawn(half(spoken, tmp_path / "c.gray", "upper"),
                  half(silent, tmp_path / "d.gray", "upper"))
    assert lower == 0 and upper > 2000, (lower, upper)


def drawn(one: bytes, other: bytes) -> int:
    """How many pixels differ by more than the encoder's own noise: what one picture draws
    that the other does not."""
    return sum(1 for a, b in zip(one, other, strict=True) if abs(a - b) > NOISE)
