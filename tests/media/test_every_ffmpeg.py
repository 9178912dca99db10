"""Everything storyboard draws and joins, run by every ffmpeg on this machine.

The bundled binary always; the one on PATH (Debian's 5.1 in CI) and Debian's at its usual places
when present. A filter option missing from any of them fails here, by name, not in a user's render.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from storyboard.animatic import render_card, render_shot
from storyboard.animatic.held import Held, render_held
from storyboard.emulator.cast.standins import picture
from storyboard.language.request import Line, MediaItem, MediaRef, Scene, ShotRequest, Transition
from storyboard.media import ffbinary, ffmpeg, imagehead, samples
from storyboard.media.inputs.fit import fitted
from storyboard.media.probes.measure import measure
from storyboard.stitch import Clip, Cue, Music, StitchOptions, stitch
from tests.fixtures.ffmpegs import binaries


def test_the_bundled_binary_is_among_them() -> None:
    bundled = ffbinary.bundled_path()
    assert bundled is not None and os.path.realpath(bundled) in {
        os.path.realpath(p) for p in binaries()}


def _shot(image: Path, voice: Path) -> ShotRequest:
    line = Line("mia", "Image 1", "A line long enough to wrap onto a second caption line, "
                "with {braces} and 100% : colons", 0.5, 1.5, voice=MediaRef(path=voice))
    scene = Scene(1, 0.0, 2.0, "Image 1 waves at the camera, then walks slowly across the room "
                  "towards the counter where the coffee is", lines=(line,))
    return ShotRequest(model="wan2.7-r2v", prompt="", resolution="720P", ratio="16:9", duration=2,
                       prompt_extend=False, watermark=False, scenes=(scene,),
                       media=(MediaItem("reference_image", MediaRef(path=image), "Image 1", "mia",
                                        voice=MediaRef(path=voice)),))


def test_every_feature_works_with_this_ffmpeg(binary: str, tmp_path: Path) -> None:
    choice = ffbinary.current()
    assert choice.chosen.path == binary and choice.chosen.usable, choice.chosen.summary()
    image = samples.image(tmp_path / "mia.png", 400, 300)
    voice = samples.voice(tmp_path / "mia.wav", 1.0)
    shot, frame, chained, card = (tmp_path / n for n in ("a.mp4", "a.png", "b.mp4", "c.mp4"))
    render_shot(_shot(image, voice), shot, draft=True)
    ffmpeg.last_frame(shot, frame)
    render_shot(ShotRequest(model="wan2.7-r2v", prompt="She turns", resolution="720P",
                            ratio="9:16", duration=2, prompt_extend=False, watermark=False,
                            media=(MediaItem("first_frame", None, from_shot="a"),)),
                chained, first_frame=frame, draft=True)
    render_card(card, text="Coffee Shop\nEpisode 1", width=1280, height=720, duration=1.0,
                image=image, draft=True)
    music = Music(voice, volume_db=-20, duck_db=-10)
    options = StitchOptions(preset="ultrafast", loudness=-14.0, music=music, burn_subtitles=True)
    clips = [Clip(card), Clip(shot, Transition("dissolve", 0.5), [Cue(0.5, 1.5, "{\\b1} hi", "Mia")]),
             Clip(chained, Transition("slideleft", 0.5)), Clip(shot, Transition("fade", 0.5))]
    joined = stitch(clips, tmp_path / "ep.mp4", options)
    assert joined.path_taken == "filtered"
    normalised = stitch([Clip(card), Clip(chained), Clip(shot)], tmp_path / "ep2.mp4",
                        StitchOptions(preset="ultrafast", loudness=-14.0))
    assert normalised.path_taken == "normalized"
    for result, seconds in ((joined, 5.5), (normalised, 5.0)):
        lengths = ffmpeg.stream_lengths(result.out)
        assert lengths["video"] == pytest.approx(seconds, abs=1 / 12)
        assert lengths["audio"] == pytest.approx(seconds, abs=1 / 12)


def test_held_boards_join_by_copy_with_this_ffmpeg(binary: str, tmp_path: Path) -> None:
    """A held board (its distinct pictures encoded, held by skipped P-frames, then muxed with
    its sound) has every frame of its length, and joins a card by stream copy, on every
    ffmpeg (issue 66 item 7)."""
    assert ffbinary.current().chosen.path == binary
    still = samples.image(tmp_path / "board.png", 400, 300)
    card = tmp_path / "card.mp4"
    render_card(card, text="Episode 1", width=320, height=180, duration=1.0, draft=False)
    held = [render_held(Held(still, 320, 180, 2.0, move, fps=30), tmp_path / f"{move}.mp4")
            for move in ("push in", "pan left", "static")]
    for clip in held:
        assert ffmpeg.stream_lengths(clip) == {"video": 2.0, "audio": 2.0}, clip.name
    joined = stitch([Clip(card), *(Clip(clip) for clip in held)], tmp_path / "boards.mp4",
                    StitchOptions(loudness=None))
    assert joined.path_taken == "copy"
    assert ffmpeg.stream_lengths(joined.out)["video"] == pytest.approx(7.0, abs=1 / 30)


def test_the_last_frame_is_the_videos_last_with_this_ffmpeg(binary: str, tmp_path: Path) -> None:
    """``last_frame`` writes the video's very last frame (each frame here a grey of its own:
    frame N is N x 10), not one before it, whatever the seek near the end lands on."""
    assert ffbinary.current().chosen.path == binary
    video, frame = tmp_path / "greys.mp4", tmp_path / "last.png"
    ffmpeg.run(["-f", "lavfi", "-i", "color=c=black:s=64x64:r=10:d=2.3,format=gray,"
                "geq=lum='10*N'", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p",
                str(video)], what="drawing frames of greys")
    ffmpeg.last_frame(video, frame)
    raw = tmp_path / "last.gray"
    ffmpeg.run(["-i", str(frame), "-vf", "crop=2:2:31:31,format=gray", "-f", "rawvideo",
                str(raw)], what="reading the frame's grey")
    greys = set(raw.read_bytes())
    assert greys and all(abs(grey - 220) <= 3 for grey in greys), greys  # frame 22, 0 on: the last


def mpegts_like(path: Path) -> Path:
    """A PNG the emulator draws (a board's bands) whose compressed rows put the byte 0x47, an
    MPEG transport stream's sync byte, every 204 bytes 40 times in a row: ffmpeg 9 left to guess
    took it for one and failed it with "End of file" (the boards chain's flake, issue 66)."""
    data = picture(1080, 1920, "board", "106")
    runs = [sum(1 for _ in itertools.takewhile(lambda at: data[at] == 0x47,
                                                range(start, len(data), 204)))
            for start in range(len(data) - 204 * 40)]
    assert max(runs) >= 40  # the trap is in the bytes, whatever this ffmpeg makes of it
    path.write_bytes(data)
    return path


def test_a_png_that_looks_like_a_transport_stream_is_read_as_the_png_it_is(
        binary: str, tmp_path: Path) -> None:
    """Every run that reads a still names its reader by the file's signature: probed, decoded
    whole, measured, scaled to send, taken as a still (a season's cover, a sheet's thumbnail),
    held as a board and drawn in a shot, with this ffmpeg."""
    assert ffbinary.current().chosen.path == binary
    still = mpegts_like(tmp_path / "board.png")
    assert imagehead.demuxer(still) == ["-f", "png_pipe"]
    info = ffmpeg.probe(still)
    assert info.video is not None and (info.video.width, info.video.height) == (1080, 1920)
    assert ffmpeg.decode_problem(still) is None
    assert (measure(still, "image").width, measure(still, "image").height) == (1080, 1920)
    sent = fitted(still, tmp_path / "sent", longest=640)
    assert imagehead.size(sent, "png") == (360, 640)
    cover = ffmpeg.still(still, tmp_path / "cover.jpg", at=None, width=180)  # a season's cover,
    assert imagehead.size(cover, "jpeg") == (180, 320)  # a sheet's thumbnail of a board
    held = render_held(Held(still, 180, 320, 1.0, "static", fps=30), tmp_path / "held.mp4")
    assert ffmpeg.stream_lengths(held)["video"] == 1.0
    render_shot(_shot(still, samples.voice(tmp_path / "v.wav", 1.0)), tmp_path / "shot.mp4",
                draft=True)
    assert ffmpeg.probe(tmp_path / "shot.mp4").duration == pytest.approx(2.0, abs=0.1)
