"""The emulator draws a spoken line's caption along the top of its result, never where a vertical
delivery burns its subtitles in (above the platforms' bottom safe area): the lower half of a
9:16 result with a line is the same picture as without it; the caption is in the upper half.

The generated property draws the line (its words, its speaker, how it is written), the portrait
ratio and the shot's seconds, and holds that the bottom two fifths of the result (where a delivery
burns its subtitles) are the same picture as without the line (the composed suite's caption
stage: ordinary runs draw 2 examples, the same on every machine; ``STORYBOARD_COMPOSE_EXAMPLES=N``
draws N // 10, ``STORYBOARD_COMPOSE_RANDOM=1`` new ones). Run on d1229578, before the caption
moved, it failed, shrunk to ``Image 1 says: "late"`` at 9:16: 1,771 pixels of the bottom differ
(the caption sat along the bottom, under the delivery's subtitles)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyboard.emulator import EmulatorServer
from storyboard.media import ffmpeg
from tests.emulator.test_emulator_drawings import result_of
from tests.fixtures.emulator import make_body

ACTION = "Image 1 waves at the camera."
NOISE = 24  # grey levels: x264 codes the same picture a little differently beside other pixels
SPOKEN = f'{ACTION} Image 1 says: "Somebody is at the door, and it is late."'
DEEP = int(os.environ.get("STORYBOARD_COMPOSE_EXAMPLES", "0"))
RANDOM = os.environ.get("STORYBOARD_COMPOSE_RANDOM", "") == "1"
RUN = settings(max_examples=max(2, DEEP // 10), deadline=None, database=None,
               derandomize=not RANDOM,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
WORDS = st.lists(st.sampled_from(["late", "door", "the", "Somebody", "is", "¿dónde?", "猫",
                                  "it's", "<b>bold</b>", "&amp;", "{braces}", "—", "okay!"]),
                 min_size=1, max_size=14).map(" ".join)


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




@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("STORYBOARD_EMULATOR_DRAWINGS", raising=False)
        with EmulatorServer(latency=0.05) as server:
            yield server


def bottom(video: Path, out: Path) -> bytes:
    """The grey levels of the bottom two fifths of ``video``'s frame at 1 s: where a delivery
    burns its subtitles, above the platforms' bottom safe area."""
    ffmpeg.run(["-ss", "1", "-i", str(video), "-frames:v", "1", "-vf",
                "crop=iw:ih*2/5:0:ih*3/5", "-f", "rawvideo", "-pix_fmt", "gray", str(out)],
               what="the bottom of a frame")
    return out.read_bytes()


@RUN
@given(words=WORDS, speaker=st.sampled_from(["Image 1", "Image 2"]),
       form=st.sampled_from(['{speaker} says: "{words}"', '{speaker} whispers, "{words}"',
                             '{speaker}: "{words}"']),
       ratio=st.sampled_from(["9:16", "3:4"]), duration=st.sampled_from([2, 3]))
def test_a_drawn_line_never_reaches_the_subtitles(
        tmp_path_factory: pytest.TempPathFactory, emulator: EmulatorServer, words: str,
        speaker: str, form: str, ratio: str, duration: int) -> None:
    folder = tmp_path_factory.mktemp("line")
    line = form.format(speaker=speaker, words=words)
    spoken = result_of(emulator, make_body(f"{ACTION} {line}", ratio=ratio, duration=duration),
                       folder / "spoken.mp4")
    silent = result_of(emulator, make_body(ACTION, ratio=ratio, duration=duration),
                       folder / "silent.mp4")
    lower = drawn(bottom(spoken, folder / "a.gray"), bottom(silent, folder / "b.gray"))
    assert lower == 0, (line, ratio, lower)
