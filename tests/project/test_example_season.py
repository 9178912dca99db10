"""The season example (examples/season), checked and rendered from scratch on ``local`` (issue 67):
three vertical episodes that check clean with the season's lints on, a look that changes at its
range in the compiled requests, the committed lock byte for byte, and the season delivered
(``out/season/``: 1080x1920 episodes, a cover and a hook each in its manifest)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import storyboard
from storyboard.media import ffbinary, ffmpeg

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "season"


def test_the_season_checks_clean_and_wears_its_look_from_episode_3() -> None:
    assert storyboard.check(EXAMPLE) == []
    manifest = storyboard.compile(EXAMPLE)
    worn = {s.shot_id: s.request.media[0].ref.asset for s in manifest.episode_shots()
            if s.request.media[0].ref is not None}
    assert worn == {"ep01/stairs": "cast/nora", "ep01/window": "cast/nora",
                    "ep02/wick": "cast/nora", "ep02/beam": "cast/lighthouse",
                    "ep03/door": "cast/nora.storm", "ep03/watch": "cast/nora"}  # watch: @nora.base
    assert {s.request.ratio for s in manifest.episode_shots()} == {"9:16"}
    assert [f"{a.episode}/{a.id}" for a in manifest.cast] == [
        "cast/nora", "cast/nora.storm", "cast/lighthouse"]


def test_the_season_renders_on_local_to_its_committed_lock(tmp_path: Path) -> None:
    series = shutil.copytree(EXAMPLE, tmp_path / "season",
                             ignore=shutil.ignore_patterns(".storyboard", "out", "*.lock"))
    env = {**os.environ, ffbinary.ENV_VAR: str(ffbinary.bundled_path())}  # the lock's build
    done = subprocess.run([sys.executable, "-m", "storyboard", "render", str(series)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning" not in done.stderr  # the season's lints find nothing to say
    lock = (series / "storyboard.lock").read_bytes()
    assert lock == (EXAMPLE / "storyboard.lock").read_bytes()
    shots = json.loads(lock)["shots"]
    assert shots["season/ep03/door"]["media"]["Image 1"]["asset"] == "cast/nora.storm"
    assert shots["season/ep02/wick"]["media"]["Image 1"]["asset"] == "cast/nora"
    for episode in ("ep01", "ep02", "ep03"):  # delivered: 720x1280 shots scaled to the preset
        video = ffmpeg.probe(series / "out" / f"{episode}.mp4").video
        assert video is not None and (video.width, video.height) == (1080, 1920), episode
    delivered = json.loads((series / "out" / "season" / "manifest.json").read_text())
    rows = [(e["episode"], e["id"], e["title"], e["hook"], e["cover"])
            for e in delivered["episodes"]]
    assert rows == [(1, "ep01", "The Climb", "The sea is too calm tonight.", "ep01.jpg"),
                    (2, "ep02", "The Lamp", "Far out, a ship answers the beam.", "ep02.jpg"),
                    (3, "ep03", "The Storm", "The storm is over; the ship is not in sight.",
                     "ep03.jpg")]
    assert all((series / "out" / "season" / e["cover"]).is_file() for e in delivered["episodes"])
