"""``media_base_url`` tried before the first paid submit (issue 21.9), end to end.

The series folder is served from a loopback HTTP server (the "CDN"); the gateway emulator fetches
every media URL it is given, as a real gateway does. A right base URL renders; a wrong one, a
missing file or a stale copy stops the run before anything is submitted, naming the URL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import storyboard
from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.language.request import CompiledShot, MediaItem, MediaRef, ShotRequest
from storyboard.providers.base import BaseProvider, Traits
from storyboard.run.trip.guards.mediacheck import MediaMismatch, check_media
from storyboard.targets import NATIVE_SIZES
from tests.fixtures import web
from tests.fixtures.drawings import video_once
from tests.fixtures.example import copy_example
from tests.fixtures.media_host import serve

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
KEY = "media-check-key"


def quick_render(body: dict[str, Any], out: Path, *, media: Mapping[str, Path] | None = None,
                 plain: bool = False) -> None:
    params = body["parameters"]
    width, height = NATIVE_SIZES[(params["resolution"], params["ratio"])]
    video_once(out, width // 4 * 2, height // 4 * 2, seconds=float(params["duration"]), fps=5)


@pytest.fixture(params=["ranged", "plain"])
def cdn(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Path, str]]:
    """A folder served over loopback HTTP, with or without range support."""
    folder = tmp_path / "cdn"
    folder.mkdir()
    with serve(folder, ranged=request.param == "ranged") as origin:
        yield folder, origin


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.2, api_key=KEY, render=quick_render, fetch_media=True) as server:
        yield server


def series_at(parent: Path, emu: EmulatorServer, base: str,
              monkeypatch: pytest.MonkeyPatch, name: str = "freepik") -> Path:
    series = copy_example(parent / "coffee-shop", shortest=True,  # the shots' length: not tested
                          ignore=shutil.ignore_patterns(".storyboard", "storyboard.lock"))
    yaml = series / "storyboard.yaml"
    block = (f"provider: {{name: {name}, base_url: '{emu.gateway_url(name)}', "
             f"media_base_url: '{base}', poll: [0.2]}}\n")
    text = yaml.read_text().replace("output:\n", block + "output:\n", 1)
    yaml.write_text(text.replace("loudness: -14", "loudness: null"))
    monkeypatch.setenv(DIALECTS[name].key_env, KEY)
    return series


def submits(emu: EmulatorServer) -> int:
    total: int = emu.stats()["submissions"]["total"]
    return total


def test_the_right_base_url_renders_and_the_gateway_fetched_the_files(
        tmp_path: Path, cdn: tuple[Path, str], emu: EmulatorServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder, origin = cdn
    # the series folder itself is served: the first frames it renders are hosted as they appear
    series = series_at(folder, emu, f"{origin}/coffee-shop", monkeypatch)
    before = submits(emu)
    report = storyboard.render(series, yes=True, out=tmp_path / "out")
    failures = [s.message for s in report.run.shots if s.message] if report.run else []
    assert report.ok and submits(emu) - before == 4, failures


@pytest.mark.parametrize("name", ["freepik", "arrays"])
def test_a_wrong_base_url_stops_the_run_before_anything_is_paid(
        tmp_path: Path, cdn: tuple[Path, str], emu: EmulatorServer,
        monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    folder, origin = cdn
    series = series_at(tmp_path, emu, f"{origin}/wrong", monkeypatch, name)
    shutil.copytree(series, folder / "coffee-shop")
    before = submits(emu)
    with pytest.raises(MediaMismatch) as stopped:
        storyboard.render(series, yes=True, out=tmp_path / "out")
    said = str(stopped.value)
    assert f"{origin}/wrong/media/cast/mia.png: HTTP 404 (expected media/cast/mia.png)" in said
    assert "nothing was submitted" in said and "4 of 4 file(s)" in said
    assert submits(emu) == before
    # without the check, the gateway itself refuses it (after the user waited)
    answer = web.post(emu.gateway_url("freepik") + DIALECTS["freepik"].protocol.submit_path,
                        headers={"x-freepik-api-key": KEY},
                        json={"prompt": "Image 1 waves",
                              "image_urls": [{"url": f"{origin}/wrong/media/cast/mia.png"}]})
    assert answer.status_code == 400 and "cannot be fetched (HTTP 404)" in answer.text


def test_a_stale_copy_is_named_with_what_was_found(
        tmp_path: Path, cdn: tuple[Path, str], emu: EmulatorServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder, origin = cdn
    series = series_at(tmp_path, emu, f"{origin}/coffee-shop", monkeypatch)
    hosted = shutil.copytree(series, folder / "coffee-shop")
    guitar = hosted / "media" / "props" / "guitar.png"
    data = bytearray(guitar.read_bytes())
    data[100] ^= 0xFF  # same size, other bytes
    guitar.write_bytes(bytes(data))
    (hosted / "media" / "voices" / "mia.wav").write_bytes(b"RIFF" + b"\0" * 40)
    before = submits(emu)
    with pytest.raises(MediaMismatch) as stopped:
        storyboard.render(series, yes=True, out=tmp_path / "out")
    said = str(stopped.value)
    assert "2 of 4 file(s)" in said
    assert f"{origin}/coffee-shop/media/props/guitar.png: its first " in said
    assert "bytes differ from media/props/guitar.png (sha256 " in said
    size = (series / "media" / "voices" / "mia.wav").stat().st_size
    assert f"{origin}/coffee-shop/media/voices/mia.wav: 44 bytes there, {size} in " \
           "media/voices/mia.wav" in said
    assert submits(emu) == before


def test_an_unreachable_host_is_named(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"x" * 10)

    class Gateway(BaseProvider):  # a gateway's declared traits, no network
        traits = Traits(public_media=True)
        media_base_url = "http://127.0.0.1:9/s"
    request = ShotRequest("wan2.7-r2v", "Image 1", (MediaItem(
        "reference_image", MediaRef(path=image), "Image 1"),), "720P", "16:9", 2, False, False)
    with pytest.raises(MediaMismatch, match=r"http://127.0.0.1:9/s/a.png: cannot be fetched"):
        check_media(Gateway(), [CompiledShot("s", "e", "a", request, "h")], tmp_path)


def test_the_cli_says_it_without_a_traceback(tmp_path: Path, emu: EmulatorServer,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(tmp_path) as origin:
        series = series_at(tmp_path, emu, f"{origin}/nowhere", monkeypatch)
        before = submits(emu)
        done = subprocess.run([sys.executable, "-m", "storyboard", "render", str(series), "--yes",
                               "-o", str(tmp_path / "out")], capture_output=True, text=True,
                              timeout=120, check=False, env={**os.environ, "CI": "1"})
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert f"{origin}/nowhere/media/cast/sam.mp4: HTTP 404" in done.stderr
    assert "nothing was submitted" in done.stderr and submits(emu) == before
