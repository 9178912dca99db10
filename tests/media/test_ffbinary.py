"""Which ffmpeg storyboard runs: capability probing, the order of choice, doctor, failure messages."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard.errors import FFmpegError
from storyboard.media import ffbinary, ffmpeg

OLD_FFMPEG = """#!/bin/sh
# An ffmpeg 4.1 look-alike: it answers storyboard's queries without xfade or drawtext's expansion.
echo "$@" >> "${0%/*}/calls.log"
case "$*" in
  *-version*) echo "ffmpeg version 4.1.11 Copyright (c) 2000-2023 the FFmpeg developers" ;;
  *-filters*) printf ' T.C drawtext  V->V  Draw text\\n ... loudnorm A->A x\\n' ;;
  *-encoders*) printf ' V....D libx264  H.264\\n A..... aac  AAC\\n' ;;
  *-formats*) printf ' D  lavfi  Libavfilter\\n  E mp4  MP4\\n' ;;
  *filter=drawtext*) printf 'drawtext AVOptions:\\n   textfile   <string>  set text file\\n' ;;
  *) exit 1 ;;
esac
"""


def _fake(folder: Path, text: str = OLD_FFMPEG) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ffmpeg"
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture(autouse=True)
def clean_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test chooses afresh, with its own caches and settings and no inherited choice."""
    monkeypatch.delenv(ffbinary.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    ffbinary.reset()
    yield
    ffbinary.reset()


def test_every_real_candidate_has_every_feature() -> None:
    """The bundled binary and any ffmpeg on PATH (Debian's 5.1 in CI) can do all we draw."""
    found = ffbinary.candidates()
    assert any(c.source == ffbinary.BUNDLED for c in found)
    for candidate in found:
        assert candidate.usable, candidate.summary()


def test_a_candidate_without_the_features_is_passed_over_with_a_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = _fake(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{old.parent}{os.pathsep}{os.environ['PATH']}")
    choice = ffbinary.choose()
    assert choice.chosen.source == ffbinary.BUNDLED and choice.chosen.usable
    passed = next(c for c in choice.candidates if c.path == str(old))
    assert passed.version == "4.1.11"
    assert any("xfade" in m for m in passed.missing)
    assert any("drawtext option expansion" in m for m in passed.missing)
    assert "passed over" in choice.reason and str(old) in choice.reason
    assert ffmpeg.binary() == choice.chosen.path


def test_an_explicit_choice_that_lacks_a_feature_fails_naming_binary_version_and_feature(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = _fake(tmp_path / "bin")
    monkeypatch.setenv(ffbinary.ENV_VAR, str(old))
    with pytest.raises(FFmpegError) as caught:
        ffmpeg.binary()
    message = str(caught.value)
    assert str(old) in message and "4.1.11" in message and "filter xfade" in message
    assert ffbinary.ENV_VAR in message


def test_the_environment_beats_the_settings_file_which_beats_the_search(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = ffbinary.bundled_path()
    assert bundled is not None
    settings = ffbinary.settings_file()
    settings.parent.mkdir(parents=True)
    settings.write_text(f"ffmpeg: {bundled}\n")
    assert ffbinary.choose().chosen.source.startswith("ffmpeg: in")
    old = _fake(tmp_path / "bin")
    monkeypatch.setenv(ffbinary.ENV_VAR, str(old))
    assert ffbinary.choose().chosen.path == str(old)


def test_a_bad_settings_file_is_a_clear_error() -> None:
    settings = ffbinary.settings_file()
    settings.parent.mkdir(parents=True)
    settings.write_text("ffmpeg: [1, 2]\n")
    with pytest.raises(FFmpegError, match=r"settings\.yaml.*must be the path"):
        ffbinary.choose()


def test_probing_is_cached_per_binary_path_and_mtime(tmp_path: Path) -> None:
    old = _fake(tmp_path / "bin")
    calls = old.parent / "calls.log"
    first = ffbinary.describe(str(old), "test")
    count = len(calls.read_text().splitlines())
    assert count >= 4
    ffbinary.reset()  # a new process: only the file cache is left
    assert ffbinary.describe(str(old), "test") == first
    assert len(calls.read_text().splitlines()) == count
    os.utime(old, ns=(1, 1))  # a different binary now stands there: probe it again
    ffbinary.reset()
    ffbinary.describe(str(old), "test")
    assert len(calls.read_text().splitlines()) > count


def test_a_binary_that_cannot_run_is_reported_not_raised(tmp_path: Path) -> None:
    candidate = ffbinary.describe(str(tmp_path / "nothing"), "test")
    assert candidate.error and not candidate.usable
    not_ffmpeg = _fake(tmp_path / "bin", "#!/bin/sh\necho hello\n")
    assert "does not answer like ffmpeg" in ffbinary.describe(str(not_ffmpeg), "test").error


@pytest.mark.parametrize(("line", "names"), [
    (" T.C drawtext          V->V       Draw text", {"drawtext"}),  # ffmpeg 4.4 to 7
    (" T. drawtext          V->V       Draw text", {"drawtext"}),  # ffmpeg 8 and later
    (" V....D libx264              libx264 H.264", {"libx264"}),
])
def test_listings_of_every_ffmpeg_generation_are_read(line: str, names: set[str]) -> None:
    assert names <= ffbinary._names(line)


def test_a_failed_run_names_the_binary_its_version_and_the_cause(tmp_path: Path) -> None:
    with pytest.raises(FFmpegError) as caught:
        ffmpeg.run(["-f", "lavfi", "-i", "color=s=32x32:d=0.1", "-vf", "drawtext=nosuch=1",
                    "-f", "null", "-"], what="drawing")
    message = str(caught.value)
    chosen = ffbinary.current().chosen
    assert chosen.version in message and chosen.path in message
    assert "nosuch" in message  # ffmpeg's own line naming the missing option


def test_the_cause_is_kept_ahead_of_the_statistics() -> None:
    log = "\n".join(["Input #0", "No space left on device", *[f"frame={i} fps=30" for i in range(40)]])
    tail = ffmpeg._tail(log)
    assert tail[0] == "No space left on device" and tail[-1] == "frame=39 fps=30"


def _doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "storyboard", "doctor", *args],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, **env})


def test_doctor_says_which_ffmpeg_its_version_and_why(tmp_path: Path) -> None:
    old = _fake(tmp_path / "bin")
    env = {"PATH": f"{old.parent}{os.pathsep}{os.environ['PATH']}"}
    proc = _doctor(env)
    assert proc.returncode == 0, proc.stderr
    assert "bundled (imageio-ffmpeg)" in proc.stdout and "why:" in proc.stdout
    assert "4.1.11" in proc.stdout and "lacks " in proc.stdout and "filter xfade" in proc.stdout
    report = json.loads(_doctor(env, "--json").stdout)
    assert report["source"] == ffbinary.BUNDLED and report["missing"] == []


def test_doctor_fails_when_the_chosen_ffmpeg_lacks_a_feature(tmp_path: Path) -> None:
    old = _fake(tmp_path / "bin")
    proc = _doctor({ffbinary.ENV_VAR: str(old)})
    assert proc.returncode == 1
    assert "4.1.11" in proc.stdout and "missing: filter xfade" in proc.stdout


def test_a_damaged_capability_cache_is_probed_again(tmp_path: Path) -> None:
    old = _fake(tmp_path / "bin")
    cache = tmp_path / "cache" / "storyboard" / "ffmpeg.json"
    cache.parent.mkdir(parents=True)
    cache.write_text("{not json")
    assert ffbinary.describe(str(old), "test").version == "4.1.11"
    ffbinary.reset()
    stamp = next(iter(json.loads(cache.read_text())))
    cache.write_text(json.dumps({stamp: "junk"}))
    assert ffbinary.describe(str(old), "test").version == "4.1.11"
