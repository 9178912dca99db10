"""Local animatics inside episodes: one caption under burnt-in subtitles, panels that name the
characters. Rendered through the public API on the local provider and looked at frame by frame."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import storyboard
from storyboard.animatic import cache_key, draws_captions
from storyboard.animatic.clip import render
from storyboard.animatic.draw import (
    PORTRAIT_SAFE_BOTTOM,
    Animatic,
    Layout,
    TimedText,
    label_font,
    layout,
)
from storyboard.media import ffmpeg
from storyboard.stitch.series.delivery import VERTICAL_SAFE_AREA
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Callable[..., Path]
WIDTH, HEIGHT = 1280, 720

ONE_LINE = """\
- id: ep01
  shots:
    - id: talk
      scenes:
        - at: 0-2s
          action: "@mia smiles"
          say: {mia: "That was lovely, really lovely."}
"""


def _gray(video: Path, at: float, out: Path) -> bytes:
    """The frame shown at ``at`` seconds, as 8-bit gray pixels at full size."""
    ffmpeg.run(["-ss", f"{at}", "-i", str(video), "-frames:v", "1", "-vf",
                f"scale={WIDTH}:{HEIGHT}", "-f", "rawvideo", "-pix_fmt", "gray", str(out)])
    return out.read_bytes()


def _bright_rows(frame: bytes, top: int) -> int:
    """Rows from ``top`` down with caption-white pixels in them (text is drawn white)."""
    rows = (frame[y * WIDTH:(y + 1) * WIDTH] for y in range(top, HEIGHT))
    return sum(1 for row in rows if sum(1 for p in row if p > 200) > 3)


def test_burnt_in_subtitles_leave_the_animatics_own_caption_alone(
        tmp_path: Path, make_media: MakeMedia) -> None:
    """With ``burn_subtitles``, the episode's caption band is the animatic's, not a second caption
    drawn a few pixels apart; the subtitle files still hold the line."""
    head = MIA_HEAD + "output: {burn_subtitles: true, loudness: null}\n"
    series = write_series(tmp_path / "s", make_media, ONE_LINE, head=head)
    report = storyboard.render(series, yes=True, out=tmp_path / "episodes")
    assert report.ok, report
    episode = tmp_path / "episodes" / "ep01.mp4"
    shot = next((series / ".storyboard" / "cache" / cache_key()).glob("*.mp4"))
    assert draws_captions(shot)
    band = HEIGHT * 3 // 4
    mine = _gray(episode, 1.0, tmp_path / "episode.gray")
    own = _gray(shot, 1.0, tmp_path / "shot.gray")
    assert _bright_rows(own, band) > 10  # the animatic's caption is there
    assert abs(_bright_rows(mine, band) - _bright_rows(own, band)) <= 2
    changed = sum(1 for a, b in zip(mine[band * WIDTH:], own[band * WIDTH:], strict=True)
                  if abs(a - b) > 48)
    assert changed < WIDTH * (HEIGHT - band) * 0.002, f"{changed} pixels drawn over the caption"
    assert "That was lovely" in episode.with_suffix(".srt").read_text(encoding="utf-8")


def test_other_clips_are_still_burnt_in(tmp_path: Path) -> None:
    """Only the local provider's cache folders hold animatics that caption themselves."""
    assert draws_captions(tmp_path / cache_key() / "a.mp4")
    assert draws_captions(tmp_path / "local-r3" / "a.mp4")  # an older renderer's folder too
    assert draws_captions(tmp_path / f"{cache_key(draft=True)}" / "a.mp4")
    assert not draws_captions(tmp_path / "dashscope" / "a.mp4")
    assert not draws_captions(tmp_path / "media" / "local.mp4")


def test_a_long_panel_label_is_drawn_smaller_to_fit() -> None:
    box = Layout(margin=20, thumb_w=192, thumb_h=144, label_h=36, label_font=23, text_font=40,
                 caption_font=32, band_top=200, band_bottom=600, floor=700)
    assert label_font("Image 1", box) == 23
    small = label_font("guitar · Image 12", box)
    assert small < 23 and small * 0.58 * len("guitar · Image 12") <= 192


def _portrait_rows(spec: Animatic, folder: Path, name: str) -> list[bytes]:
    """The rows of ``spec``'s frame at 0.5 s, drawn and read back as 8-bit gray."""
    video = folder / f"{name}.mp4"
    render(spec, video)
    raw = folder / f"{name}.gray"
    ffmpeg.run(["-ss", "0.5", "-i", str(video), "-frames:v", "1", "-f", "rawvideo",
                "-pix_fmt", "gray", str(raw)])
    frame = raw.read_bytes()
    return [frame[y * spec.width:(y + 1) * spec.width] for y in range(spec.height)]


def test_a_portrait_frames_caption_and_text_sit_above_the_platforms_safe_area(
        tmp_path: Path) -> None:
    """Issue 67: on a 9:16 frame the shot's own caption and scene text stay above the bottom
    safe margin a vertical delivery keeps free (the platforms' buttons sit there); the rows under
    it are the plain frame's."""
    assert VERTICAL_SAFE_AREA.bottom == PORTRAIT_SAFE_BOTTOM
    width, height = 540, 960
    line = TimedText("That was lovely, really lovely.", 0.0, 1.0)
    scene = TimedText("She turns to the window and waits for the light.", 0.0, 1.0)
    drawn = _portrait_rows(Animatic(width, height, 1.0, captions=(line,), texts=(scene,),
                                    audio=False), tmp_path, "drawn")
    plain = _portrait_rows(Animatic(width, height, 1.0, audio=False), tmp_path, "plain")
    safe = round(height * (1 - VERTICAL_SAFE_AREA.bottom))
    white = [y for y, row in enumerate(drawn) if sum(1 for p in row if p > 200) > 3]
    assert white and max(white) < safe, (max(white, default=None), safe)
    assert max(white) > height // 2  # the caption is drawn, low in the frame
    changed = [y for y in range(safe, height)
               if any(abs(a - b) > 24 for a, b in zip(drawn[y], plain[y], strict=True))]
    assert changed == [], f"rows {changed[:3]}.. drawn inside the safe area"
    assert layout(Animatic(width, height, 1.0, captions=(line,))).floor < safe


def test_a_landscape_frames_caption_keeps_its_margin() -> None:
    """A 16:9 frame has no platform buttons over it: its caption sits a margin from the bottom."""
    box = layout(Animatic(WIDTH, HEIGHT, 1.0, captions=(TimedText("hi", 0.0, 1.0),)))
    assert box.floor == HEIGHT - box.margin
