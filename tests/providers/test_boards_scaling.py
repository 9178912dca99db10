"""A still larger than a video model takes is scaled down before it is sent on (media/inputs/fit.py)."""

from __future__ import annotations

import asyncio
import base64
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.emulator.cast.standins import png_size
from storyboard.emulator.comfyui.server import ComfyUIServer
from storyboard.emulator.comfyui.state import ComfyConfig
from storyboard.errors import MediaError
from storyboard.language.request import (
    CompiledShot,
    MediaItem,
    MediaRef,
    Mention,
    ShotRequest,
    write,
)
from storyboard.media.inputs.fit import SEND_SIDE, fitted, scaled_size
from storyboard.providers.comfyui.provider import ComfyUIProvider
from storyboard.providers.comfyui.settings import ComfySettings
from storyboard.providers.dashscope.provider import KEY_ENV, DashScopeProvider, DashScopeSettings
from storyboard.providers.gateway.provider import GatewayProvider
from storyboard.providers.stillcopy import bounds
from storyboard.run.trip.guards.mediacheck import local_urls
from tests.fixtures.comfyui import WORKFLOWS

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


def test_a_copy_that_is_not_the_scaled_still_is_drawn_again(make_media: MakeMedia,
                                                            tmp_path: Path) -> None:
    """A copy is trusted by its bytes, never its name: another picture put there (before this
    process drew it, or after) and a link are each replaced by the still scaled; a copy that
    is those bytes is left as it is (the same file: a sync does not send it again)."""
    still = make_media("image", tmp_path / "board.png", width=3840, height=2160)
    genuine = fitted(still, tmp_path / "first").read_bytes()
    decoy = make_media("image", tmp_path / "decoy.png", width=2048, height=1152, color="red")
    planted = tmp_path / "sent" / fitted(still, tmp_path / "first").name
    shutil.copytree(tmp_path / "first", tmp_path / "kept")
    kept = tmp_path / "kept" / planted.name
    inode = kept.stat().st_ino
    assert fitted(still, tmp_path / "kept") == kept and kept.stat().st_ino == inode
    planted.parent.mkdir()
    shutil.copyfile(decoy, planted)  # there before this process draws it
    assert fitted(still, tmp_path / "sent") == planted and planted.read_bytes() == genuine
    shutil.copyfile(decoy, planted)  # put there after it was drawn
    assert fitted(still, tmp_path / "sent").read_bytes() == genuine
    planted.unlink()
    planted.symlink_to(decoy)  # a link to another picture
    assert fitted(still, tmp_path / "sent") == planted
    assert not planted.is_symlink() and planted.read_bytes() == genuine
    assert decoy.read_bytes() != genuine  # the link was replaced, not written through


def test_a_folder_in_a_copys_place_is_a_clear_error(make_media: MakeMedia,
                                                    tmp_path: Path) -> None:
    still = make_media("image", tmp_path / "board.png", width=3840, height=2160)
    name = fitted(still, tmp_path / "first").name
    (tmp_path / "sent" / name).mkdir(parents=True)
    with pytest.raises(MediaError, match=r"cannot write the scaled copy .*remove what is there"):
        fitted(still, tmp_path / "sent")


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


def test_the_bounds_come_from_the_model_declaration() -> None:
    assert bounds("wan2.7-r2v") == (SEND_SIDE, 0)  # no rule of its own
    assert bounds("kling-v3-omni") == (SEND_SIDE, 10 * 1024 * 1024)
    assert bounds("a-comfyui-workflow") == (SEND_SIDE, 0)  # unknown: the default


# -- gateways: the scaled copy inside the series folder, named in the body --------------------

GATEWAY_KEY = "gw-scaling-key"
CDN = "https://cdn.example.com/s"


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(api_key=GATEWAY_KEY) as server:
        yield server


def gateway_shot(still: Path, words: str) -> CompiledShot:
    """A one-reference freepik shot whose reference is ``still`` (as a board's picture is)."""
    tokens = (Mention("mia", "image", 1), words)
    request = ShotRequest(model=DIALECTS["freepik"].models[0], prompt=write(tokens),
                          tokens=tokens, resolution="720P", ratio="16:9", duration=2,
                          prompt_extend=False, watermark=False,
                          media=(MediaItem("reference_image", MediaRef(path=still), "Image 1",
                                           "mia"),))
    return CompiledShot("s", "ep01", "a", request, "h" * 64)


def submitted_url(emu: EmulatorServer, root: Path, still: Path, words: str) -> str:
    """The URL the emulated gateway was sent for ``still`` in a shot worded ``words``."""
    async def go() -> None:
        gateway = GatewayProvider.from_settings(DIALECTS["freepik"], {
            "base_url": emu.gateway_url("freepik"), "media_base_url": CDN}, root)
        try:
            await gateway.submit(gateway_shot(still, words), None)
        finally:
            await gateway.aclose()
    asyncio.run(go())
    task = next(t for t in emu.service.table.tasks.values()
                if t.submission.prompt.endswith(words))
    return str(task.submission.media[0]["url"])


def test_a_gateway_is_sent_the_scaled_copy_hosted_in_the_series_folder(
        emu: EmulatorServer, make_media: MakeMedia, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DIALECTS["freepik"].key_env, GATEWAY_KEY)
    board = make_media("image", tmp_path / ".storyboard" / "cache" / "ark" / "b.png",
                       width=3840, height=2160)
    url = submitted_url(emu, tmp_path, board, " pours, first")
    assert url.startswith(f"{CDN}/.storyboard/sent/") and url.endswith("-2048x1152.png")
    copy = tmp_path / url.removeprefix(f"{CDN}/")
    size = png_size(copy.read_bytes())
    assert size is not None and size[:2] == (2048, 1152)
    first = copy.read_bytes()
    copy.unlink()  # drawn again at the next submit: the same name, the same bytes
    assert submitted_url(emu, tmp_path, board, " pours, again") == url
    assert copy.read_bytes() == first
    small = make_media("image", tmp_path / "media" / "mia.png", width=640, height=360)
    assert submitted_url(emu, tmp_path, small, " pours, small") == f"{CDN}/media/mia.png"


def test_the_media_check_tries_the_scaled_copy_where_the_gateway_fetches(
        make_media: MakeMedia, tmp_path: Path) -> None:
    board = make_media("image", tmp_path / "boards" / "b.png", width=3840, height=2160)
    urls = local_urls([gateway_shot(board, " pours")], tmp_path, CDN)
    [(url, path)] = urls.items()
    assert path.parent == tmp_path / ".storyboard" / "sent" and path.is_file()
    assert url == f"{CDN}/.storyboard/sent/{path.name}"


# -- ComfyUI: the scaled bytes uploaded ---------------------------------------------------------

def test_comfyui_uploads_a_4k_first_frame_scaled(make_media: MakeMedia, tmp_path: Path) -> None:
    still = make_media("image", tmp_path / "board.png", width=3840, height=2160)
    shutil.copyfile(WORKFLOWS / "wan-i2v.json", tmp_path / "wan-i2v.json")
    request = ShotRequest(model="wan2.7-i2v", prompt="Mia pours", media=(
        MediaItem("first_frame", MediaRef(path=still)),), resolution="720P", ratio="16:9",
        duration=2, prompt_extend=False, watermark=False, seed=7)
    shot = CompiledShot("cafe", "ep01", "pour", request, "1" * 64)
    with ComfyUIServer(ComfyConfig(job_time=0.1, plain=True)) as server:
        async def go() -> None:
            settings = ComfySettings.from_mapping({"instances": [server.url],
                                                   "workflow": "wan-i2v.json"}, tmp_path)
            provider = ComfyUIProvider(settings, tmp_path)
            try:
                await provider.submit(shot, None)
            finally:
                await provider.aclose()
        asyncio.run(go())
        inputs = sorted((server.folder / "input").glob("storyboard-*.png"))
        uploaded = [f.read_bytes() for f in inputs]  # the folder goes with the server
    assert len(uploaded) == 1
    size = png_size(uploaded[0])
    assert size is not None and size[:2] == (2048, 1152)
