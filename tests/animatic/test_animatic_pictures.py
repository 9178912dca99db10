"""A still animatic drawn as its distinct pictures, held (``animatic/clip.py``).

x264 encodes one picture a span of frames showing the same texts, each the very frame the
every-frame drawing (``draw.render_frames``) shows there; the clip has every frame and sample,
the SPS and PPS of every clip, and the same bytes each time. A sweep bar or a video backdrop
moves the picture: those clips are drawn frame by frame, as before.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from storyboard.animatic.clip import is_still, picture_starts, render
from storyboard.animatic.draw import Animatic, Sound, Thumbnail, TimedText, render_frames, video_chain
from storyboard.animatic.graph import Graph, TextFiles
from storyboard.media import ffmpeg
from tests.fixtures.ffmpeg_runs import runs_with


def spec_of(folder: Path, make_media: Any, **changes: Any) -> Animatic:
    """A 3 s clip at 12 fps: a backdrop, a panel, two scene texts and two captions, a voice."""
    image = make_media("image", folder / "still.png", width=320, height=180)
    voice = make_media("voice", folder / "voice.wav", seconds=1.0)
    values: dict[str, Any] = {
        "backdrop": image, "thumbnails": (Thumbnail(image, "mia"),),
        "texts": (TimedText("The counter at dawn", 0.0, 1.5),
                  TimedText("Mia looks up", 1.5, 4.0)),
        "captions": (TimedText("Mia: Good morning", 0.5, 1.0),
                     TimedText("Bo: A coffee, please", 1.0, 2.25)),
        "sounds": (Sound(voice, 0.5, 1.0),), **changes}
    return Animatic(320, 180, 3.0, 12, **values)


def digests(args: list[str], out: Path) -> list[str]:
    """The MD5 of each frame ffmpeg's ``args`` (inputs and maps) give, in order."""
    ffmpeg.run([*ffmpeg.PORTABLE_ARGS, *args, "-f", "framemd5", str(out)])
    return [line.split(",")[-1].strip() for line in out.read_text("utf-8").splitlines()
            if line and not line.startswith("#")]


def decoded(video: Path) -> list[str]:
    return digests(["-i", str(video), "-map", "0:v"], video.with_suffix(".md5"))


def drawn(spec: Animatic, folder: Path, pictures: tuple[int, ...] | None) -> list[str]:
    """The raw frames the animatic's graph draws (before any encoding): all, or ``pictures``."""
    folder.mkdir()
    g = Graph()
    video = video_chain(spec, g, TextFiles(folder), pictures)
    return digests(g.args(video), folder / "frames.md5")


def parameter_sets(video: Path) -> str:
    listing = video.with_suffix(".crc")
    ffmpeg.run(["-i", str(video), "-map", "0:v", "-c", "copy", "-f", "framecrc", str(listing)])
    return ffmpeg.parse_framecrc(listing.read_text("utf-8"))[1]


def test_a_still_animatic_encodes_each_distinct_picture_once(
        tmp_path: Path, make_media: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """One picture where the texts shown change (0.5, 1, 1.5 and 2.25 s: frames 6, 12, 18,
    27), encoded once each; every one of the 36 frames is there, the sound's samples too, and
    the SPS and PPS are those of a clip drawn frame by frame (the stitch joins them by copy)."""
    spec = spec_of(tmp_path, make_media)
    assert picture_starts(spec) == (0, 6, 12, 18, 27)
    every = tmp_path / "every.mp4"
    render_frames(spec, every)
    encodes = runs_with(monkeypatch, "libx264")
    out = tmp_path / "held.mp4"
    render(spec, out)
    assert len(encodes) == 1
    assert encodes[0][encodes[0].index("-frames:v") + 1] == "5"
    frames = decoded(out)
    assert len(frames) == 36
    assert len([d for before, d in itertools.pairwise(["", *frames]) if d != before]) == 5
    assert ffmpeg.stream_lengths(out) == ffmpeg.stream_lengths(every) == {"video": 3.0,
                                                                          "audio": 3.0}
    assert parameter_sets(out) == parameter_sets(every)
    render(spec, tmp_path / "again.mp4")
    assert (tmp_path / "again.mp4").read_bytes() == out.read_bytes()


def test_each_held_picture_is_the_frame_drawn_frame_by_frame(tmp_path: Path,
                                                            make_media: Any) -> None:
    """Before encoding, each picture is bit for bit the frame the every-frame graph draws at
    its start, and every frame up to the next picture is that frame again: the boundaries are
    the ones drawtext's ``enable`` draws: 2/3 s is written ``0.666667``, after frame 20's time
    (``20 * (1/30)``), so that frame does not show the text starting then yet.

    Decoded, the first frame is the same in both clips, and every frame within x264's loss
    (over 45 dB): not equal, because x264 drawing every frame refines a repeated picture a
    little frame after frame (its P-frames carry some residual), while a held picture is
    decoded from one encoding and repeated exactly."""
    texts = (TimedText("one", 0.1, 2 / 3), TimedText("two", 2 / 3, 1.1),
             TimedText("three", 1.1, 2.3))
    spec = spec_of(tmp_path, make_media, texts=texts)
    spec = Animatic(spec.width, spec.height, spec.duration, 30, backdrop=spec.backdrop,
                    thumbnails=spec.thumbnails, texts=spec.texts, captions=spec.captions,
                    sounds=spec.sounds)
    starts = picture_starts(spec)
    assert starts == (0, 3, 15, 21, 30, 33, 68, 69)
    every = drawn(spec, tmp_path / "every", None)
    pictures = drawn(spec, tmp_path / "pictures", starts)
    assert len(every) == 90 and len(pictures) == len(starts)
    bounds = [*starts, len(every)]
    for index, (start, end) in enumerate(itertools.pairwise(bounds)):
        assert every[start:end] == [pictures[index]] * (end - start), start
    render_frames(spec, tmp_path / "every.mp4")
    render(spec, tmp_path / "held.mp4")
    assert decoded(tmp_path / "every.mp4")[0] == decoded(tmp_path / "held.mp4")[0]
    assert lowest_psnr(tmp_path / "every.mp4", tmp_path / "held.mp4") > 45


def lowest_psnr(one: Path, other: Path) -> float:
    """The lowest PSNR of a frame of ``other`` against the same frame of ``one``, in dB."""
    log = ffmpeg.run(["-i", str(one), "-i", str(other), "-lavfi", "[0:v][1:v]psnr",
                      "-f", "null", "-"])
    return float(re.findall(r"min:(\d+(?:\.\d+)?|inf)", log)[-1])


def test_a_silent_still_animatic_has_no_sound_track(tmp_path: Path, make_media: Any) -> None:
    spec = spec_of(tmp_path, make_media, audio=False, sounds=())
    out = tmp_path / "silent.mp4"
    render(spec, out)
    assert ffmpeg.probe(out).audio is None
    assert ffmpeg.stream_lengths(out) == {"video": 3.0}


def test_a_moving_picture_is_drawn_frame_by_frame(
        tmp_path: Path, make_media: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep bar, or a video under the texts: every frame encoded; an image backdrop, or
    none, is still."""
    video = make_media("video", tmp_path / "clip.mp4", width=320, height=180, seconds=1.0)
    assert is_still(spec_of(tmp_path, make_media))
    assert is_still(spec_of(tmp_path, make_media, backdrop=None))
    assert not is_still(spec_of(tmp_path, make_media, motion=True))
    moving = spec_of(tmp_path, make_media, backdrop=video)
    assert not is_still(moving)
    encodes = runs_with(monkeypatch, "libx264")
    render(moving, tmp_path / "moving.mp4")
    assert len(encodes) == 1 and "-frames:v" not in encodes[0]
    assert len(set(decoded(tmp_path / "moving.mp4")[:12])) == 12  # the video plays under it
