"""The committed example, rendered from scratch: the same bytes as its lock file says, on target.

Also: the renders do not depend on the CPU's SIMD paths (the same bytes with them all turned off),
which is what made a fresh clone on another machine rewrite the lock file.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from storyboard.animatic import render_card, render_shot
from storyboard.language.request import Line, MediaItem, MediaRef, Scene, ShotRequest
from storyboard.media import ffbinary, ffmpeg, samples
from tests.fixtures.ffmpeg_runs import nothing_remembered

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"


def integrated_loudness(path: Path) -> float:
    log = ffmpeg.run(["-i", str(path), "-map", "0:a", "-af", "ebur128", "-f", "null", "-"])
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", log)[-1])


def test_the_example_renders_to_its_committed_lock_and_its_loudness_target(
        tmp_path: Path) -> None:
    series = tmp_path / "coffee-shop"
    shutil.copytree(EXAMPLE, series, ignore=shutil.ignore_patterns(".storyboard"))
    committed = (EXAMPLE / "storyboard.lock").read_bytes()
    bundled = ffbinary.bundled_path()
    assert bundled is not None
    env = {**os.environ, ffbinary.ENV_VAR: bundled}  # the pinned build the lock was made with
    proc = subprocess.run([sys.executable, "-m", "storyboard", "render", str(series)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert (series / "storyboard.lock").read_bytes() == committed
    for episode in ("ep01", "ep02"):
        assert abs(integrated_loudness(series / "out" / f"{episode}.mp4")
                   + 14.0) <= 1.0, episode


def test_the_wan30_example_renders_to_its_committed_lock(tmp_path: Path) -> None:
    """The same cast on wan3.0-video (and a wan2.7-i2v close): drafts drawn by the local provider,
    the lock naming each shot's model."""
    source = EXAMPLE.parent / "long-take"
    series = shutil.copytree(source, tmp_path / "long-take",
                             ignore=shutil.ignore_patterns(".storyboard", "out"))
    env = {**os.environ, ffbinary.ENV_VAR: str(ffbinary.bundled_path())}
    proc = subprocess.run([sys.executable, "-m", "storyboard", "render", str(series)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    lock = (series / "storyboard.lock").read_text()
    assert lock == (source / "storyboard.lock").read_text()
    assert '"model": "wan3.0-video"' in lock and '"model": "wan2.7-i2v"' in lock


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _renders(folder: Path, image: Path, voice: Path) -> list[Path]:
    """A shot with every element, the last frame taken from it, a shot drawn on it, a card."""
    folder.mkdir()
    line = Line("mia", "Image 1", "Hello there, {\\b1} <i>x</i>", 0.5, 1.5,
                voice=MediaRef(path=voice))
    first = ShotRequest(model="wan2.7-r2v", prompt="", resolution="720P", ratio="16:9",
                        duration=2, prompt_extend=False, watermark=False,
                        media=(MediaItem("reference_image", MediaRef(path=image), "Image 1",
                                         "mia", voice=MediaRef(path=voice)),),
                        scenes=(Scene(1, 0.0, 2.0, "Image 1 waves at the camera and smiles",
                                      lines=(line,)),))
    second = ShotRequest(model="wan2.7-r2v", prompt="She turns", resolution="720P", ratio="16:9",
                         duration=2, prompt_extend=False, watermark=False,
                         media=(MediaItem("first_frame", None, from_shot="a"),))
    out = [folder / "a.mp4", folder / "a-last.png", folder / "b.mp4", folder / "card.png.mp4"]
    render_shot(first, out[0])
    ffmpeg.last_frame(out[0], out[1])
    render_shot(second, out[2], first_frame=out[1])
    render_card(out[3], text="Coffee Shop\nEpisode 1", width=1280, height=720, duration=1.0,
                image=image)
    return out


def test_renders_do_not_depend_on_the_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = samples.image(tmp_path / "mia.png", 400, 300)
    voice = samples.voice(tmp_path / "mia.wav", 1.0)
    usual = _renders(tmp_path / "usual", image, voice)
    plain_run: Callable[..., str] = ffmpeg.run

    def without_simd(args: Sequence[str], **kw: object) -> str:
        return plain_run(["-cpuflags", "0", *args], **kw)  # C code paths only

    nothing_remembered(monkeypatch)  # counts its own runs (media.memo)
    monkeypatch.setattr(ffmpeg, "run", without_simd)
    plain = _renders(tmp_path / "plain", image, voice)
    assert [_sha(p) for p in plain] == [_sha(p) for p in usual]
