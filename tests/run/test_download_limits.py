"""Downloads have a limit: an endless result stops there, nothing of it is kept, and
``.storyboard/rejected/`` holds a bounded amount.

An endless stream comes from the emulator's ``download:endless`` fault (zeros without end and no
length) and ``download:huge`` (a Content-Length of a terabyte), over loopback, through the real CLI
and the DashScope provider.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.emulator import EmulatorServer
from storyboard.errors import DownloadTooLarge
from storyboard.language.request import AssetRequest, CompiledShot, ShotRequest
from storyboard.providers.dashscope.provider import DashScopeProvider, DashScopeSettings, Timeouts
from storyboard.run.trip.guards import verdicts
from storyboard.run.trip.guards.downloadcap import MB, download_limit
from storyboard.targets import TaskState, TaskStatus
from tests.fixtures.cli import invoke
from tests.fixtures.limits import series
from tests.fixtures.two_shots import HEAD

LIMITED = HEAD.replace("poll: [0.2]}", "poll: [0.2], max_download_mb: 1}")


def leftovers(wire: Path) -> list[Path]:
    """Anything a download could have left: the cache's files and temporaries, rejected takes."""
    state = wire / ".storyboard"
    return [p for folder in (state / "cache", state / "rejected") if folder.exists()
            for p in folder.rglob("*") if p.is_file()]


def test_an_endless_result_stops_at_the_limit_and_nothing_of_it_is_kept(
        tmp_path: Path, make_media: Callable[..., Path], dashscope_emulator: EmulatorServer) -> None:
    wire = series(tmp_path, make_media, LIMITED) / "wire"
    dashscope_emulator.script("download:endless*10")
    first = invoke("render", wire, "--yes")
    assert first.exit_code != 0
    stats = dashscope_emulator.stats()
    assert stats["faults"] == {"download:endless": 2}  # one try a shot: never again in a loop
    assert stats["streamed"] < 2 * 16 * MB  # each cut near 1 MB (plus the sockets' buffers)
    assert first.output.count("over its limit of 1 MB") >= 2
    assert "provider.max_download_mb" in first.output and "run again" in first.output
    assert leftovers(wire) == []
    dashscope_emulator.clear_faults()  # the service sends the real result now: resumed, not paid again
    second = invoke("render", wire, "--yes")
    assert second.exit_code == 0, second.output
    assert dashscope_emulator.stats()["submissions"]["total"] == 2
    assert len(list((wire / ".storyboard" / "cache").rglob("*.mp4"))) == 2


def test_a_length_over_the_limit_is_refused_before_reading(
        tmp_path: Path, make_media: Callable[..., Path], dashscope_emulator: EmulatorServer) -> None:
    wire = series(tmp_path, make_media, LIMITED) / "wire"
    dashscope_emulator.script("download:huge*2")
    result = invoke("render", wire, "--yes")
    assert result.exit_code != 0
    assert "it says it holds 1,000,000,000,000 bytes" in result.output
    assert leftovers(wire) == []


def test_the_default_limit_is_the_models_longest_largest_output(
        tmp_path: Path, dashscope_emulator: EmulatorServer) -> None:
    """wan2.7-r2v: 15 s at 1920x1080, 1 bit a pixel at 30 frames a second, plus 16 MB."""
    shot = video_shot("wan2.7-r2v")
    limit = download_limit(shot)
    assert limit == 15 * 1920 * 1080 * 30 // 8 + 16 * MB
    dashscope_emulator.script("download:endless")
    dest = tmp_path / "endless.mp4"
    with pytest.raises(DownloadTooLarge, match=r"over its limit of 132\.64 MB"):
        asyncio.run(asyncio.wait_for(fetch(dashscope_emulator, dest, limit), 120))
    assert not dest.exists()
    assert limit <= dashscope_emulator.stats()["streamed"] < limit + 32 * MB


def test_each_kind_of_result_has_its_own_limit_and_a_series_may_set_one() -> None:
    assert download_limit(video_shot("wan3.0-video")) > download_limit(video_shot("wan2.7-r2v"))
    unknown = download_limit(video_shot("somebody-elses-model", resolution="2160P"))
    assert unknown == 5 * 3840 * 2160 * 30 // 8 + 16 * MB  # its own 5 s at its own 4K
    image = asset_shot("image")
    assert download_limit(image) == 64 * MB
    assert download_limit(asset_shot("speech")) == 120 * MB
    assert download_limit(image, 2.5) == download_limit(video_shot("wan2.7-r2v"), 2.5) == 2.5 * MB


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "-1", "0", "lots"])
def test_a_limit_that_is_no_positive_number_is_refused_where_it_is_written(
        tmp_path: Path, make_media: Callable[..., Path], value: str) -> None:
    wire = series(tmp_path, make_media, HEAD.replace(
        "poll: [0.2]}", f"poll: [0.2], max_download_mb: {value}}}")) / "wire"
    result = CliRunner().invoke(cli, ["check", str(wire)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "storyboard.yaml:4:" in result.output and "max_download_mb" in result.output


def test_storyboard_config_shows_the_limit_and_where_it_came_from(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    def row(head: str) -> dict[str, str]:
        wire = series(tmp_path / head[-12:].strip("}: "), make_media, head) / "wire"
        result = CliRunner().invoke(cli, ["config", str(wire), "--json"])
        assert result.exit_code == 0, result.output
        return next(r for r in json.loads(result.output) if r["name"] == "max_download_mb")
    default = row(HEAD)
    assert default["source"] == "default" and "wan2.7-r2v: 133" in default["value"]
    assert row(LIMITED) == {"name": "max_download_mb", "value": "1", "source": "series file",
                            "where": "provider.max_download_mb"}


def test_rejected_takes_are_bounded_oldest_first(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / ".storyboard" / "rejected"
    folder.mkdir(parents=True)
    for n in range(verdicts.REJECTED_FILES + 5):
        old = folder / f"old-{n:02d}.mp4"
        old.write_bytes(b"x" * 100)
        os.utime(old, (1_000_000 + n, 1_000_000 + n))
    kept = keep(tmp_path, "t-new")
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == verdicts.REJECTED_FILES and kept.name in names
    assert "old-05.mp4" not in names and "old-06.mp4" in names  # the six oldest went
    monkeypatch.setattr(verdicts, "REJECTED_BYTES", 1000)  # the bytes bound too
    newest = keep(tmp_path, "t-newer")
    assert sum(p.stat().st_size for p in folder.iterdir()) <= 1000
    assert newest.exists() and kept.exists()  # the newest stay, the oldest went first


# -- helpers ---------------------------------------------------------------------------------


def keep(root: Path, task_id: str) -> Path:
    tmp = root / f"{task_id}.tmp"
    tmp.write_bytes(b"v" * 300)
    return verdicts.keep_rejected(root, video_shot("wan2.7-r2v"), task_id, tmp)


async def fetch(emu: EmulatorServer, dest: Path, limit: int) -> None:
    settings = DashScopeSettings(base_url=emu.base_url, timeouts=Timeouts(connect=2, read=5))
    async with DashScopeProvider(settings) as provider:
        state = TaskState("t-endless", TaskStatus.SUCCEEDED,
                          video_url=f"{emu.origin}/results/t-endless.mp4")
        await provider.download(state, dest, limit=limit)


def video_shot(model: str, resolution: str = "720P") -> CompiledShot:
    request = ShotRequest(model=model, prompt="a wave", media=(), resolution=resolution,
                          ratio="16:9", duration=5, prompt_extend=False, watermark=False, seed=1)
    return CompiledShot(series="s", episode="e", id="a", request=request, hash="a" * 64)


def asset_shot(kind: str) -> CompiledShot:
    shot = video_shot("wan2.7-image")
    asset = AssetRequest(kind=kind, model="m", prompt="p", name="n")  # type: ignore[arg-type]
    return CompiledShot(series="s", episode="cast", id="n", request=shot.request,
                        hash="b" * 64, asset=asset)
