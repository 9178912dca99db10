"""The wan3.0-video example rendered through the emulator on DashScope's native API: each shot on
its own model, paid once, priced by its model, stitched (a silent wan3.0 result has no audio track),
and nothing paid again on the second render."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from storyboard.media import ffmpeg
from tests.fixtures.dashscope_cli import Emulator, render, states

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "long-take"


def test_each_shot_renders_on_its_model_and_is_paid_once(tmp_path: Path,
                                                          emulator: Emulator) -> None:
    series = shutil.copytree(EXAMPLE, tmp_path / "long-take",
                             ignore=shutil.ignore_patterns(".storyboard", "out"))
    (series / "storyboard.lock").unlink()
    emu = emulator()
    out = tmp_path / "out"
    code, report, err = render(series, "--yes", "-o", out)
    assert code == 0 and report["ok"] is True, err
    assert states(report) == {"ballad": "done", "window": "done", "hum": "done"}
    stats = emu.stats()["submissions"]
    assert stats["total"] == 3 and stats["duplicates"] == 0, stats
    lock = json.loads((series / "storyboard.lock").read_text())["shots"]
    models = {key.rsplit("/", 1)[1]: e["parameters"]["model"] for key, e in lock.items()}
    assert models == {"ballad": "wan3.0-video", "window": "wan3.0-video", "hum": "wan2.7-i2v"}
    # 480P wan3.0 at 0.05/s (the 3 s reference video billed in full); 720P i2v at 0.10/s.
    costs = {key.rsplit("/", 1)[1]: e["cost"] for key, e in lock.items()}
    assert costs == pytest.approx({"ballad": (3 + 20) * 0.05, "window": 8 * 0.05,
                                   "hum": 5 * 0.10})
    cache = series / ".storyboard" / "cache" / "dashscope"
    window = cache / f"{lock['long-take/ep01/window']['hash']}.mp4"
    assert ffmpeg.probe(window).audio is None  # audio: false
    lengths = ffmpeg.stream_lengths(out / "ep01.mp4")
    assert lengths["video"] == pytest.approx(20 + 8 + 5 - 0.5, abs=0.1)

    code, again, _ = render(series, "--yes", "-o", out)
    assert code == 0 and set(states(again).values()) == {"cached"}
    assert emu.stats()["submissions"]["total"] == 3
