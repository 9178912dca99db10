"""Stitching's sound and text: loudness, the ducked music bed, subtitle files and burn-in."""

from __future__ import annotations

import array
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from storyboard.language.request import Transition
from storyboard.media import ffmpeg
from storyboard.stitch import Clip, Cue, Music, StitchOptions, stitch
from storyboard.stitch.sound import audio

MakeMedia = Callable[..., Path]


def clip(make_media: MakeMedia, tmp_path: Path, name: str, **kw: object) -> Path:
    kw.setdefault("width", 160)
    kw.setdefault("height", 120)
    kw.setdefault("seconds", 2.0)
    return make_media("video", tmp_path / f"{name}.mp4", **kw)


def integrated_loudness(path: Path) -> float:
    log = ffmpeg.run(["-i", str(path), "-map", "0:a", "-af", "ebur128", "-f", "null", "-"])
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", log)[-1])


def mean_volume(path: Path, start: float, seconds: float) -> float:
    log = ffmpeg.run(["-ss", str(start), "-t", str(seconds), "-i", str(path), "-map", "0:a",
                      "-af", "volumedetect", "-f", "null", "-"])
    return float(re.findall(r"mean_volume: (-?[\d.]+|-inf) dB", log)[-1])


@pytest.mark.parametrize("target", [-14.0, -30.0])
def test_loudness_lands_near_the_target(make_media: MakeMedia, tmp_path: Path,
                                        target: float) -> None:
    a = clip(make_media, tmp_path, "a", tone=440)
    b = clip(make_media, tmp_path, "b", tone=880)
    before = integrated_loudness(a)
    assert abs(before - target) > 3  # the test means something only if the input is off target
    result = stitch([Clip(a), Clip(b)], tmp_path / "ep.mp4",
                    StitchOptions(preset="ultrafast", loudness=target))
    assert abs(integrated_loudness(result.out) - target) <= 1.0


def true_peak(path: Path) -> float:
    log = ffmpeg.run(["-i", str(path), "-map", "0:a", "-af", "ebur128=peak=true", "-f", "null",
                      "-"])
    return float(re.findall(r"Peak:\s+(-?[\d.]+|-inf) dBFS", log)[-1])


def loud_line(path: Path, seconds: float) -> Path:
    """A clip whose sound is a loud, clipped line: short bursts at full scale, so its peaks sit far
    above its loudness (raising it to the target needs the limiter)."""
    burst = "0.95*sin(2*PI*300*t)*lt(mod(t\\,0.5)\\,0.02)"
    ffmpeg.run(["-f", "lavfi", "-i", f"color=c=gray:s=160x120:r=30:d={seconds}", "-f", "lavfi",
                "-i", f"aevalsrc={burst}:s=48000:d={seconds}", "-c:v", "libx264", "-preset",
                "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", "-b:a", "128k",
                "-t", str(seconds), str(path)])
    return path


@pytest.mark.parametrize(("target", "bed_db"), [(-14.0, -10.0), (-14.0, -30.0), (-23.0, -10.0)])
def test_a_quiet_bed_under_a_loud_line_lands_on_target(make_media: MakeMedia, tmp_path: Path,
                                                        target: float, bed_db: float) -> None:
    """Peaks far above the loudness, or a wide loudness range, used to send loudnorm's second pass
    into dynamic mode, 5 to 7 LU off target."""
    silent = clip(make_media, tmp_path, "silent", audio=False, seconds=4.0)
    line = loud_line(tmp_path / "line.mp4", 3.0)
    bed = make_media("voice", tmp_path / "bed.wav", seconds=3.0, tone=200)
    music = Music(bed, volume_db=bed_db, duck_db=0, fade_out=0)
    result = stitch([Clip(silent), Clip(line), Clip(silent), Clip(silent)], tmp_path / "ep.mp4",
                    StitchOptions(preset="ultrafast", loudness=target, music=music))
    assert abs(integrated_loudness(result.out) - target) <= 1.0
    assert true_peak(result.out) <= -1.0 + 0.5  # the ceiling holds (AAC adds a little)


def test_music_is_looped_ducked_under_dialogue_and_faded(make_media: MakeMedia,
                                                         tmp_path: Path) -> None:
    silent = clip(make_media, tmp_path, "silent", audio=False)
    theme = make_media("voice", tmp_path / "theme.wav", seconds=1.5)  # shorter: must loop
    clips = [Clip(silent), Clip(silent, cues=[Cue(0.5, 1.5, "Hello", "Mia")])]
    music = Music(theme, volume_db=-6, duck_db=-15, fade_out=0.5, duck_ramp=0.1)
    result = stitch(clips, tmp_path / "ep.mp4",
                    StitchOptions(preset="ultrafast", loudness=None, music=music))
    # Dialogue window on the episode clock: 2.5-3.5 s.
    outside = mean_volume(result.out, 1.0, 0.8)
    inside = mean_volume(result.out, 2.7, 0.6)
    assert outside > -40  # the bed plays (looped past its own 1.5 s)
    assert inside < outside - 10  # ducked by about 15 dB
    assert mean_volume(result.out, 3.95, 0.05) < outside - 10  # faded out at the very end


def _srt_times(text: str) -> list[str]:
    return re.findall(r"^(\S+ --> \S+)$", text, re.M)


def test_subtitles_follow_clip_offsets_including_overlaps(make_media: MakeMedia,
                                                          tmp_path: Path) -> None:
    a = clip(make_media, tmp_path, "a")
    b = clip(make_media, tmp_path, "b", pattern="testsrc")
    tricky = 'She said "50% off: C:\\temp\\new" & <left> {now}'
    clips = [Clip(a, cues=[Cue(0.25, 1.0, "First line")]),
             Clip(b, Transition("crossfade", 0.5), cues=[Cue(0.5, 1.75, tricky, "Mia")]),
             Clip(a, Transition("fade", 1.0), cues=[Cue(0.0, 0.5, "Two\n\nlines", "Sam")])]
    result = stitch(clips, tmp_path / "ep.mp4", StitchOptions(preset="ultrafast", loudness=None))
    srt, vtt = (p.read_text(encoding="utf-8") for p in result.subtitle_files)
    # Clip 2 starts at 2.0 - 0.5 = 1.5 s; clip 3 at 1.5 + 2.0 - 1.0 = 2.5 s.
    assert result.starts == pytest.approx((0.0, 1.5, 2.5))
    # Sam's line (2.5-3.0 s) falls inside Mia's (2.0-3.25 s): never two cues at once, they share.
    assert _srt_times(srt) == ["00:00:00,250 --> 00:00:01,000", "00:00:02,000 --> 00:00:03,250"]
    # Mia's line is longer than a subtitle line (42 characters): it wraps at a space.
    # ... and its markup characters are escaped as SubRip players draw them (WORD JOINERs, \{ \})
    said = 'She said "50% off: C:\\\u2060temp\\\u2060new" &\n<\u2060left> \\{\u2060now\\}'
    assert f"2\n00:00:02,000 --> 00:00:03,250\nMia: {said}\nSam: Two\nlines\n\n" in srt
    assert srt.endswith("lines\n\n")
    assert vtt.startswith("WEBVTT\n\n")
    assert "00:00:02.000 --> 00:00:03.250\nMia: She said \"50% off: C:\\temp\\new\" &amp;\n" \
           "&lt;left&gt; {now}\n" in vtt


def _frame_md5(path: Path, at: float, tmp_path: Path) -> str:
    listing = tmp_path / "frame.md5"
    ffmpeg.run(["-ss", str(at), "-i", str(path), "-map", "0:v:0", "-frames:v", "1",
                "-f", "framemd5", str(listing)])
    return listing.read_text().strip().splitlines()[-1].split(",")[-1].strip()


def test_burned_subtitles_show_braces_and_survive_an_awkward_folder(
        make_media: MakeMedia, tmp_path: Path) -> None:
    a = clip(make_media, tmp_path, "a", seconds=1.0)
    folder = tmp_path / "it's: [a], b; c"  # every character the filter syntax cares about

    def burn(text: str, name: str) -> Path:
        clips = [Clip(a, cues=[Cue(0.0, 1.0, text)]), Clip(a, Transition("fade", 0.2))]
        options = StitchOptions(preset="ultrafast", loudness=None, burn_subtitles=True)
        result = stitch(clips, folder / f"{name}.mp4", options)
        assert result.path_taken == "filtered"
        return result.out

    plain, braced = burn("ab", "plain"), burn("a{y}b", "braced")
    no_text = burn("", "none")
    assert _frame_md5(plain, 0.5, tmp_path) != _frame_md5(no_text, 0.5, tmp_path)
    assert _frame_md5(braced, 0.5, tmp_path) != _frame_md5(plain, 0.5, tmp_path)  # {y} shows
    # Outside the cue (the second clip) the picture is the same as without subtitles.
    assert _frame_md5(plain, 1.5, tmp_path) == _frame_md5(no_text, 1.5, tmp_path)


def _gray(path: Path, at: float) -> bytes:
    return ffmpeg_bytes(["-ss", str(at), "-i", str(path), "-map", "0:v:0", "-frames:v", "1",
                         "-f", "rawvideo", "-pix_fmt", "gray", "-"])


def ffmpeg_bytes(args: list[str]) -> bytes:
    proc = subprocess.run([ffmpeg.binary(), "-v", "error", *args], capture_output=True,
                          check=True, timeout=60)
    return proc.stdout


def _ink(frame: bytes, blank: bytes) -> int:
    """How many pixels the subtitle changed."""
    return sum(1 for a, b in zip(frame, blank, strict=True) if abs(a - b) > 48)


def test_burned_text_is_drawn_exactly_as_written(make_media: MakeMedia, tmp_path: Path) -> None:
    """SubRip styling (<i>, {\\b1}) used to vanish: the tags themselves must be drawn."""
    a = clip(make_media, tmp_path, "a", seconds=1.0, width=320, height=180, pattern="color")

    def burnt(text: str, name: str) -> bytes:
        options = StitchOptions(preset="ultrafast", loudness=None, burn_subtitles=True)
        result = stitch([Clip(a, cues=[Cue(0.0, 1.0, text)] if text else [])],
                        tmp_path / f"{name}.mp4", options)
        return _gray(result.out, 0.5)

    blank = burnt("", "blank")
    x = _ink(burnt("x", "x"), blank)
    assert x > 0
    assert _ink(burnt("<i></i>", "tags"), blank) > 3 * x  # seven glyphs, not an empty italic span
    assert _ink(burnt("{}", "braces"), blank) > 0  # an empty override block, drawn as braces
    assert _ink(burnt("{\\b1}", "bold"), blank) > 2 * x


def test_the_limiter_keeps_the_sound_on_the_picture(binary: str, tmp_path: Path
                                                    ) -> None:
    """alimiter's look-ahead delays what it lets through; compensated (on every ffmpeg: 4.4 has
    no ``latency`` option), a tone burst pushed far over the ceiling starts on its own sample,
    stays under the ceiling, and the sound keeps its length."""
    burst = tmp_path / "burst.wav"
    ffmpeg.run(["-f", "lavfi", "-i", "aevalsrc='if(between(n,24000,24959),0.5*sin(2*PI*1000*t),0)'"
                ":s=48000:c=stereo:d=1", "-c:a", "pcm_f32le", str(burst)], what="a test burst")
    limited = audio._limit(ffmpeg.graph.input(str(burst)).audio, 12.0, StitchOptions())
    raw = tmp_path / "limited.f32"
    ffmpeg.run_graph(ffmpeg.graph.output(limited, str(raw), f="f32le"), what="limiting")
    out = array.array("f", raw.read_bytes())[::2]  # the left channel
    assert len(out) == 48000
    onset = next(n for n, x in enumerate(out) if abs(x) > 0.05)
    assert 24000 <= onset <= 24004, onset  # (not compensated: about 240 samples late)
    assert max(abs(x) for x in out) <= 10 ** (-1.0 / 20) + 0.02  # held at the ceiling
