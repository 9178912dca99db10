"""What a line says is text: the markup of docs/language.md's hostile-input section (``{\\an8}``,
``{\\b1}``, ``<i>``, ``\\N``, ``&amp;``...) in a line is shown as written by a player reading the
``.srt`` or ``.vtt`` sidecar, and drawn as written when burned in, never read as markup.

A player here is real ffmpeg: its ``subtitles`` filter reads a sidecar through the same SubRip or
WebVTT decoder and libass as mpv, Kodi or a transcoder. Each cue's frame is compared with the
frame of an ASS script holding the same words escaped as libass draws them literally (the
burn-in's escape, whose drawing ``test_stitch_sound_and_text`` measures glyph by glyph). Burned
subtitles and title cards draw each line whole, in its place."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from storyboard.animatic import render_card
from storyboard.media import ffmpeg, samples
from storyboard.stitch import Clip, Cue, StitchOptions, stitch
from storyboard.stitch.subtitles import libass_escape
from tests.fixtures.hostile_text import markup_strings

MakeMedia = Callable[..., Path]
WIDTH, HEIGHT, CUE = 320, 180, 0.5
LINES = [f"{s} ok" for s in markup_strings()]


def frames(video: list[str], count: int, subtitles: Path | None, fps: int = 4) -> list[bytes]:
    """A gray frame at the middle of each of ``count`` cues of ``video`` (``fps`` frames a
    second), with ``subtitles`` drawn on it by ffmpeg's ``subtitles`` filter when given."""
    drawn = ["-vf", f"subtitles={subtitles.name}"] if subtitles is not None else []
    out = subprocess.run([ffmpeg.binary(), "-v", "error", *video, "-map", "0:v:0", *drawn,
                          "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         capture_output=True, check=True, timeout=120,
                         cwd=subtitles.parent if subtitles is not None else None).stdout
    size = WIDTH * HEIGHT
    at = [int((i + 0.5) * CUE * fps) for i in range(count)]
    return [out[n * size:(n + 1) * size] for n in at]


def ink(frame: bytes, blank: bytes, rows: slice = slice(0, HEIGHT)) -> int:
    """How many pixels the text changed, in ``rows``."""
    return sum(1 for y in range(rows.start, rows.stop) for x in range(WIDTH)
               if abs(frame[y * WIDTH + x] - blank[y * WIDTH + x]) > 48)


def black(seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"color=c=black:s={WIDTH}x{HEIGHT}:r=4:d={seconds}"]


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clip, each hostile line a cue of its own, stitched with its sidecars."""
    folder = tmp_path_factory.mktemp("hostile")
    seconds = CUE * len(LINES)
    shot = samples.video(folder / "shot.mp4", WIDTH, HEIGHT, seconds, pattern="color")
    cues = [Cue(i * CUE, (i + 1) * CUE, line) for i, line in enumerate(LINES)]
    result = stitch([Clip(shot, cues=cues)], folder / "ep.mp4",
                    StitchOptions(preset="ultrafast", loudness=None))
    return result.out


def as_written(sidecar: Path) -> Path:
    """The player's own reading of ``sidecar`` (ffmpeg's ASS of it: its style and times), each
    event's text replaced by the line escaped as libass draws it literally."""
    converted = sidecar.with_name(sidecar.name + ".ass")
    ffmpeg.run(["-i", str(sidecar), str(converted)], what="reading a sidecar")
    events = iter(libass_escape(line) for line in LINES)
    text = re.sub(r"^(Dialogue: (?:[^,]*,){9}).*$", lambda m: m.group(1) + next(events),
                  converted.read_text("utf-8"), flags=re.MULTILINE)
    assert next(events, None) is None  # one event per line
    reference = sidecar.with_name(sidecar.name + ".reference.ass")
    reference.write_text(text, "utf-8")
    return reference


@pytest.mark.parametrize("suffix", [".srt", ".vtt"])
def test_a_player_shows_each_line_of_a_sidecar_as_written(episode: Path, suffix: str) -> None:
    sidecar = episode.with_suffix(suffix)
    seconds, count = CUE * len(LINES), len(LINES)
    shown = frames(black(seconds), count, sidecar)
    wanted = frames(black(seconds), count, as_written(sidecar))
    blank = frames(black(seconds), 1, None)[0]
    assert len(shown) == len(wanted) == len(LINES)
    differ = [line for line, a, b in zip(LINES, shown, wanted, strict=True) if a != b]
    assert differ == [], f"{suffix}: not shown as written: {differ}"
    for line, frame in zip(LINES, shown, strict=True):
        assert ink(frame, blank, slice(HEIGHT // 2, HEIGHT)) > 0, line  # drawn, at the bottom
        assert ink(frame, blank, slice(0, HEIGHT // 2)) == 0, line  # {\an8} moves nothing


def test_each_line_burned_in_is_drawn_whole_at_the_bottom(make_media: MakeMedia,
                                                          tmp_path: Path) -> None:
    lines = ["ok", *LINES]
    seconds = CUE * len(lines)
    shot = make_media("video", tmp_path / "shot.mp4", width=WIDTH, height=HEIGHT,
                      seconds=seconds, pattern="color")
    cues = [Cue(i * CUE, (i + 1) * CUE, line) for i, line in enumerate(lines)]
    options = StitchOptions(preset="ultrafast", loudness=None, burn_subtitles=True)
    burned = stitch([Clip(shot, cues=cues)], tmp_path / "burned.mp4", options).out
    plain = stitch([Clip(shot)], tmp_path / "plain.mp4", StitchOptions(preset="ultrafast",
                                                                        loudness=None)).out
    drawn = frames(["-i", str(burned)], len(lines), None, fps=30)
    blank = frames(["-i", str(plain)], len(lines), None, fps=30)
    bottom, top = slice(HEIGHT // 2, HEIGHT), slice(0, HEIGHT // 2)
    alone = ink(drawn[0], blank[0], bottom)
    assert alone > 0
    for line, frame, under in zip(lines[1:], drawn[1:], blank[1:], strict=True):
        assert ink(frame, under, top) == 0, line
        assert ink(frame, under, bottom) > 1.2 * alone, line  # its markup drawn beside "ok"


def test_a_card_draws_each_line_whole_where_it_draws_any(tmp_path: Path) -> None:
    """Cards are drawn by drawtext from a file, expansion off: the markup is drawn, in place."""
    def card(text: str, name: str) -> bytes:
        out = tmp_path / f"{name}.mp4"
        render_card(out, text=text, width=WIDTH, height=HEIGHT, duration=0.5)
        return frames(["-i", str(out)], 1, None, fps=30)[0]

    blank = card("", "blank")
    alone = card("ok", "ok")
    rows = [y for y in range(HEIGHT) if ink(alone, blank, slice(y, y + 1))]
    for number, line in enumerate(LINES):
        drawn = card(line, f"line{number}")
        assert ink(drawn, blank) > 1.2 * ink(alone, blank), line
        assert ink(drawn, blank, slice(0, rows[0] - 4)) == 0, line  # no line moved up
