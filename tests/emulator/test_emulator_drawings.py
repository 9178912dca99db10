"""Emulators sharing a folder of drawings (``STORYBOARD_EMULATOR_DRAWINGS``): each distinct
result is drawn once per folder and copied from there, as the test suite's session runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.emulator.render import DRAWINGS_ENV
from storyboard.media import ffmpeg, samples
from tests.fixtures import web
from tests.fixtures.emulator import HEADERS, SUBMIT, make_body, wait_for


def result_of(server: EmulatorServer, body: dict[str, object], out: Path) -> Path:
    """Submits ``body``, waits for its task and downloads its result to ``out``."""
    with web.client(base_url=server.base_url, headers=HEADERS, timeout=10) as http:
        answer = http.post(SUBMIT, json=body)
        assert answer.status_code == 200, answer.text
        done = wait_for(http, answer.json()["output"]["task_id"])
        assert done["output"]["task_status"] == "SUCCEEDED", done
        out.write_bytes(http.get(done["output"]["video_url"]).content)
    return out


def test_a_result_is_drawn_once_per_folder_and_copied_from_there(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "drawings"
    monkeypatch.setenv(DRAWINGS_ENV, str(folder))
    body = make_body("a drawing the emulators share")
    with EmulatorServer(latency=0.05, plain_results=True) as first:
        drawn = result_of(first, body, tmp_path / "first.mp4")
    kept = list(folder.glob("*.mp4"))
    assert len(kept) == 1 and kept[0].read_bytes() == drawn.read_bytes()
    # another emulator copies the folder's file: one put there in its place is what it serves
    samples.video(kept[0], 160, 96, 1.0)
    with EmulatorServer(latency=0.05, plain_results=True) as second:
        copied = result_of(second, body, tmp_path / "second.mp4")
        assert second.stats()["renders"]["rendered"] == 1  # its own count: one render asked for
    video = ffmpeg.probe(copied).video
    assert video is not None and (video.width, video.height) == (160, 96)
    assert copied.read_bytes() == kept[0].read_bytes()


def test_without_the_folder_each_emulator_draws_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DRAWINGS_ENV, raising=False)
    body = make_body("a drawing of each emulator's own")
    with EmulatorServer(latency=0.05, plain_results=True) as first:
        one = result_of(first, body, tmp_path / "one.mp4")
    with EmulatorServer(latency=0.05, plain_results=True) as second:
        two = result_of(second, body, tmp_path / "two.mp4")
    video = ffmpeg.probe(two).video
    assert video is not None and (video.width, video.height) == (1280, 720)
    assert one.read_bytes() == two.read_bytes()  # drawn twice, the same bytes


def test_results_that_differ_only_in_what_is_not_drawn_share_one_drawing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain result draws no words and no references: requests that differ only in those share
    one drawing, named by what it shows; a seed (its backdrop's colour) or words drawn do not."""
    folder = tmp_path / "drawings"
    monkeypatch.setenv(DRAWINGS_ENV, str(folder))
    other = make_body("Image 1 walks away from the camera")
    other["input"]["media"][0]["url"] = "https://example.com/b.png"  # type: ignore[index]
    with EmulatorServer(latency=0.05, plain_results=True) as plain:
        one = result_of(plain, make_body("Image 1 waves at the camera"), tmp_path / "one.mp4")
        two = result_of(plain, other, tmp_path / "two.mp4")
        assert plain.stats()["renders"]["rendered"] == 2  # two requests: two results served
        assert len(list(folder.glob("*.mp4"))) == 1 and one.read_bytes() == two.read_bytes()
        seeded = result_of(plain, make_body("Image 1 waves", seed=7), tmp_path / "seeded.mp4")
    assert len(list(folder.glob("*.mp4"))) == 2 and seeded.read_bytes() != one.read_bytes()
    with EmulatorServer(latency=0.05, plain_results=False) as worded:
        waves = result_of(worded, make_body("Image 1 waves at the camera"), tmp_path / "w.mp4")
        walks = result_of(worded, make_body("Image 1 walks away"), tmp_path / "x.mp4")
    assert len(list(folder.glob("*.mp4"))) == 4 and waves.read_bytes() != walks.read_bytes()
