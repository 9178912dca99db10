"""Media facts from each supported ffmpeg's log, and from ffprobe's JSON (issue 35.4).

``tests/golden/ffmpeg/VERSION/NAME.log`` is what ``ffmpeg -i`` prints for the same files in each
major version (see its README); every one must give the facts below. A system ffprobe's JSON is
preferred when there is one: it must give the same facts as the log of the same version.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from storyboard.errors import MediaError
from storyboard.media import ffbinary, ffmpeg, samples
from storyboard.media.mediainfo import MediaInfo, StreamInfo, parse_probe_json, parse_probe_log

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
VERSIONS = ("4.4", "5.1", "6.1", "7.1", "9.0")
MP4 = "mov,mp4,m4a,3gp,3g2,mj2"
CLIP = [StreamInfo("video", "h264", 320, 240, 30.0, "yuv420p"),
        StreamInfo("audio", "aac", sample_rate=48000, channels="stereo")]

# name -> (format, duration, streams); a version that reads a file otherwise says so below.
FACTS: dict[str, tuple[str, float | None, list[StreamInfo]]] = {
    "clip-mp4": (MP4, 2.0, CLIP),
    "clip-mov": (MP4, 2.0, CLIP),
    "still-png": ("png_pipe", None, [StreamInfo("video", "png", 320, 240, 25.0, "rgb24")]),
    "alpha-png": ("png_pipe", None, [StreamInfo("video", "png", 64, 48, 25.0, "rgba")]),
    "voice-wav": ("wav", 2.0, [StreamInfo("audio", "pcm_s16le", sample_rate=24000,
                                          channels="mono")]),
    "song-mp3": ("mp3", 2.06, [StreamInfo("audio", "mp3", sample_rate=24000, channels="mono")]),
}
# 4.4 prints no fps for a picture (only tbr); the bundled 9.0 reads this MP3 as 2.00 s.
OWN: dict[tuple[str, str], tuple[str, float | None, list[StreamInfo]]] = {
    ("4.4", "still-png"): ("png_pipe", None, [StreamInfo("video", "png", 320, 240, 0.0, "rgb24")]),
    ("4.4", "alpha-png"): ("png_pipe", None, [StreamInfo("video", "png", 64, 48, 0.0, "rgba")]),
    ("9.0", "song-mp3"): ("mp3", 2.0, FACTS["song-mp3"][2]),
}
CASES = [(version, name) for version in VERSIONS for name in FACTS]


def log(version: str, name: str) -> str:
    return (GOLDEN / "ffmpeg" / version / f"{name}.log").read_text(encoding="utf-8")


def test_every_version_has_every_log() -> None:
    for version in VERSIONS:
        found = {p.stem for p in (GOLDEN / "ffmpeg" / version).glob("*.log")}
        assert found == {*FACTS, "junk"}, version


@pytest.mark.parametrize(("version", "name"), CASES, ids=[f"{v}-{n}" for v, n in CASES])
def test_each_versions_log_gives_the_facts(version: str, name: str) -> None:
    fmt, duration, streams = OWN.get((version, name), FACTS[name])
    info = parse_probe_log(Path(name), log(version, name))
    assert (info.format, info.duration, info.streams) == (fmt, duration, streams)
    assert info.video is None or (info.video.width, info.video.height) == (
        streams[0].width, streams[0].height)


@pytest.mark.parametrize("version", VERSIONS)
def test_no_media_is_an_error_naming_ffmpegs_words(version: str) -> None:
    with pytest.raises(MediaError) as caught:
        parse_probe_log(Path("junk.mp4"), log(version, "junk"))
    assert "junk.mp4: ffmpeg cannot read this file" in str(caught.value)
    assert "Invalid data found when processing input" in str(caught.value)


@pytest.mark.parametrize("name", sorted(set(FACTS) - {"clip-mov"}))
def test_ffprobes_json_gives_the_same_facts_as_the_log_of_its_version(name: str) -> None:
    text = (GOLDEN / "ffprobe" / "5.1" / f"{name}.json").read_text(encoding="utf-8")
    from_json = parse_probe_json(Path(name), text)
    assert from_json == parse_probe_log(Path(name), log("5.1", name))


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"format": {}}', '{"streams": []}',
                                  '{"format": {"format_name": "wav"}, "streams": '
                                  '[{"codec_type": "video", "width": "wide"}]}'])
def test_an_answer_that_is_no_ffprobe_json_is_none(text: str) -> None:
    assert parse_probe_json(Path("x"), text) is None


def probe_both(path: Path, prober: str) -> tuple[MediaInfo | None, MediaInfo]:
    return ffmpeg.probe_with_ffprobe(prober, path), ffmpeg.probe_log(prober.replace(
        "ffprobe", "ffmpeg"), path)


@pytest.mark.skipif(not Path("/usr/bin/ffprobe").exists(), reason="Debian's ffprobe")
def test_a_real_ffprobe_and_its_ffmpeg_agree(tmp_path: Path) -> None:
    files = [samples.video(tmp_path / "clip.mp4", 320, 240, 1.0),
             samples.image(tmp_path / "still.png", 96, 64), samples.voice(tmp_path / "v.wav", 1.0)]
    for path in files:
        from_json, from_log = probe_both(path, "/usr/bin/ffprobe")
        assert from_json == from_log, path.name
    junk = tmp_path / "junk.mp4"
    junk.write_text("not media")
    assert ffmpeg.probe_with_ffprobe("/usr/bin/ffprobe", junk) is None  # the log then says why


def test_doctor_finds_ffprobe_and_an_environment_can_turn_it_off(tmp_path: Path) -> None:
    def report(**env: str) -> dict[str, Any]:
        proc = subprocess.run([sys.executable, "-m", "storyboard", "doctor", "--json"],
                              capture_output=True, text=True, timeout=60, check=False,
                              env={**os.environ, **env})
        data: dict[str, Any] = json.loads(proc.stdout)
        return data
    assert report(**{ffbinary.FFPROBE_ENV: "none"})["ffprobe"] is None
    fake = tmp_path / "ffprobe"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    assert report(**{ffbinary.FFPROBE_ENV: str(fake)})["ffprobe"] == str(fake)


def test_a_broken_ffprobe_falls_back_to_the_log(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "ffprobe"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    clip = samples.voice(tmp_path / "v.wav", 1.0)
    monkeypatch.setenv(ffbinary.FFPROBE_ENV, str(fake))
    ffbinary.reset()
    try:
        info = ffmpeg.probe(clip)
        assert info.format == "wav" and info.duration == 1.0 and info.audio is not None
    finally:
        monkeypatch.delenv(ffbinary.FFPROBE_ENV)
        ffbinary.reset()
