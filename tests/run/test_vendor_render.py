"""HappyHorse 1.1, wan2.7-t2v, wan2.7-videoedit and MiniMax H3 rendered through the emulator on DashScope's
native API (issue 49.1): each shot on its own model, paid once, billed by its model (the edited
video's seconds as well as the output's), and nothing paid again on the second render."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from storyboard.media import ffmpeg
from tests.fixtures.dashscope_cli import Emulator, render, states

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SERIES = """\
storyboard: 1
title: Vendors
defaults: {resolution: 720P, ratio: "16:9", duration: 3}
characters:
  mia: {image: media/mia.png}
  hat: {image: media/hat.png}
  sam: {video: media/sam.mp4}
episodes:
  - id: ep01
    shots:
      - id: horse
        model: happyhorse-1.1-r2v
        prompt: "@mia puts on @hat"
      - id: street
        model: wan2.7-t2v
        driving_audio: media/song.wav
        scenes:
          - {at: 0-1s, action: "a quiet street"}
          - {at: 1-3s, action: "a cafe door opens"}
      - id: edit
        model: wan2.7-videoedit
        source_video: media/take.mp4
        prompt: "@mia wears @hat"
      - id: minimax
        model: MiniMax/MiniMax-H3
        resolution: 768P
        duration: 4
        cast: [sam]
        prompt: "@sam strums while @mia listens"
"""


def test_each_new_model_renders_and_is_billed_by_its_own_rule(
        tmp_path: Path, emulator: Emulator,
        make_media: Callable[..., Path]) -> None:
    series = tmp_path / "vendors"
    make_media("image", series / "media" / "mia.png", width=400, height=400)
    make_media("image", series / "media" / "hat.png", width=400, height=400, color="brown")
    make_media("voice", series / "media" / "song.wav", seconds=3.0)
    make_media("video", series / "media" / "take.mp4", width=320, height=240, seconds=4.0)
    make_media("video", series / "media" / "sam.mp4", width=320, height=240, seconds=2.0)
    (series / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    emu = emulator()
    out = tmp_path / "out"
    code, report, err = render(series, "--yes", "-o", out)
    assert code == 0 and report["ok"] is True, err
    assert states(report) == {"horse": "done", "street": "done", "edit": "done",
                              "minimax": "done"}
    stats = emu.stats()["submissions"]
    assert stats["total"] == 4 and stats["duplicates"] == 0, stats
    lock = json.loads((series / "storyboard.lock").read_text())["shots"]
    costs = {key.rsplit("/", 1)[1]: e["cost"] for key, e in lock.items()}
    # 720P: HappyHorse 0.14/s for its 3 s out; wan2.7 0.10/s, the edit's 4 s in and 3 s out;
    # H3 at 768P 0.08/s, its 2 s reference video and 4 s out (its answer's own usage names).
    assert costs == pytest.approx({"horse": 3 * 0.14, "street": 3 * 0.10,
                                   "edit": (4 + 3) * 0.10, "minimax": (2 + 4) * 0.08})
    cache = series / ".storyboard" / "cache" / "dashscope"
    edited = ffmpeg.probe(cache / f"{lock['vendors/ep01/edit']['hash']}.mp4")
    assert edited.video is not None and (edited.video.width, edited.video.height) == (1104, 832)

    code, again, _ = render(series, "--yes", "-o", out)
    assert code == 0 and set(states(again).values()) == {"cached"}
    assert emu.stats()["submissions"]["total"] == 4
