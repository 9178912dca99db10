"""A still larger than a video model takes is scaled down before it is sent on (media/fit.py)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from storyboard.emulator.cast_media import png_size
from storyboard.language.request import CompiledShot, MediaItem, MediaRef, ShotRequest
from storyboard.media.fit import SEND_SIDE, fitted, scaled_size
from storyboard.providers.dashscope.provider import KEY_ENV, DashScopeProvider, DashScopeSettings

MakeMedia = Callable[..., Path]


def test_a_4k_still_is_scaled_to_the_longest_side_once(make_media: MakeMedia,
                                                      tmp_path: Path) -> None:
    still = make_media("image", tmp_path / "board.png", width=3840, height=2160)
    first = fitted(still, tmp_path / "scaled")
    size = png_size(first.read_bytes())
    assert first != still and size is not None and size[:2] == (2048, 1152)
    again = fitted(still, tmp_path / "elsewhere")
    assert again.read_bytes() == first.read_bytes()  # the same source, the same bytes
    small = make_media("image", tmp_path / "small.png", width=640, height=360)
    assert fitted(small, tmp_path / "scaled") == small  # it fits: sent as it is


def test_a_still_over_the_byte_limit_is_scaled_and_then_compressed(make_media: MakeMedia,
                                                                   tmp_path: Path) -> None:
    still = make_media("image", tmp_path / "board.png", width=1024, height=576)
    out = fitted(still, tmp_path / "scaled", longest=4096, max_bytes=2_000)
    assert out.suffix == ".jpg" and out.read_bytes()[:3] == b"\xff\xd8\xff"


def test_scaled_sizes_keep_the_shape_and_stay_even() -> None:
    assert scaled_size(3840, 2160, 2048) == (2048, 1152)
    assert scaled_size(1441, 2561, 1280) == (720, 1280)
    assert scaled_size(800, 600, 2048) == (800, 600)


def test_dashscope_sends_a_4k_first_frame_scaled(make_media: MakeMedia, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-scaling")
    still = make_media("image", tmp_path / "board.png", width=3840, height=2160)
    request = ShotRequest(model="wan2.7-r2v", prompt="Mia pours", media=(
        MediaItem("first_frame", MediaRef(path=still)),), resolution="720P", ratio="16:9",
        duration=5, prompt_extend=False, watermark=False)
    shot = CompiledShot("cafe", "ep01", "pour", request, "0" * 64)
    settings = DashScopeSettings(base_url="http://127.0.0.1:9/api/v1",
                                 use_data_uris_below=50 * 1024 * 1024)
    provider = DashScopeProvider(settings, work_dir=tmp_path / "work")
    urls = asyncio.run(provider._local_urls(shot, None))
    uri = urls[MediaRef(path=still)]
    assert uri.startswith("data:image/png;base64,")
    sent = png_size(base64.b64decode(uri.partition(",")[2]))
    assert sent is not None and max(sent[:2]) == SEND_SIDE
