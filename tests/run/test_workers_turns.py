"""Two runs on one clone take turns, on DashScope's emulator and a real PostgreSQL ledger: a
worker's job that meets another run's lock on its clone (a second ``storyboard worker`` on the
same folder, a user's own ``render`` there) gives its shot back, not one of its tries, so every
queued shot of a season ends done, each submitted once."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from storyboard.emulator import EmulatorServer
from storyboard.emulator.render import local_render_body
from storyboard.media import samples
from tests.fixtures.comfyui import wait_until
from tests.fixtures.dashscope_cli import Emulator, submissions
from tests.fixtures.patience import LOADED
from tests.run.test_workers import ended, lock_free, queued, said_by, storyboard

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

# A season of two episodes, four shots each; at wan2.7-r2v's list price (USD 0.10/s at 720P for
# 2 s) each shot is 0.20, the eight 1.60.
SEASON = """\
storyboard: 1
title: Night Shift
defaults: {resolution: 720P, ratio: "9:16", duration: 2}
provider: {name: dashscope, poll: [0.2], concurrency: 2}
output: {loudness: null}
characters:
  ada: {image: media/ada.png}
episodes:
  - id: ep01
    shots:
      - {id: a, prompt: "@ada answers the phone"}
      - {id: b, prompt: "@ada walks in"}
      - {id: c, prompt: "@ada sits down"}
      - {id: d, prompt: "@ada looks up"}
  - id: ep02
    shots:
      - {id: e, prompt: "@ada opens the door"}
      - {id: f, prompt: "@ada runs"}
      - {id: g, prompt: "@ada stops"}
      - {id: h, prompt: "@ada smiles"}
"""
SHOTS = 8


def season(tmp_path: Path, url: str) -> Path:
    """The season in one clone (``clone/night``) on the team's ledger, queued whole."""
    folder = tmp_path / "clone" / "night"
    samples.image(folder / "media" / "ada.png", 320, 320)
    doc = yaml.safe_load(SEASON)
    doc["ledger"] = url
    (folder / "storyboard.yaml").write_text(yaml.safe_dump(doc, sort_keys=False),
                                            encoding="utf-8")
    child = storyboard(folder.parent, "queue", "render", folder.name, "--provider", "dashscope",
                       "--budget", "5", "--json")
    out, err = child.communicate(timeout=LOADED)
    assert child.returncode == 0, out + err
    assert json.loads(out)["shots"] == SHOTS
    return folder


def paid_once(emu: EmulatorServer, url: str) -> None:
    """Every queued shot done, each in one try and submitted once."""
    shots = queued(url)
    assert {s.state for s in shots} == {"done"}, [(s.shot, s.state, s.message) for s in shots]
    assert [s.tries for s in shots] == [1] * SHOTS, \
        [(s.shot, s.attempts, s.given_back) for s in shots]  # a turn waited is not a try
    stats = emu.stats()["submissions"]
    assert stats["total"] == SHOTS and stats["duplicates"] == 0, stats


class Gate:
    """The emulator's pictures drawn only once the test opens the gate: a run that submitted
    holds the clone's run lock for as long as the test needs."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.draw = local_render_body()

    def __call__(self, body: dict[str, Any], out: Path, *,
                 media: Mapping[str, Path] | None = None, plain: bool = False) -> None:
        self.opened.wait(LOADED)
        self.draw(body, out, media=media, plain=plain)


def met(url: str, *children: subprocess.Popen[str]) -> None:
    """Once a worker gave a shot back for another run's lock (or failed one), with every child
    still running: no shot failed. A child is killed when it is not so."""
    def seen() -> bool:
        shots = queued(url)
        return any(s.message.startswith("waiting for its turn") or s.state == "failed"
                   for s in shots) or any(child.poll() is not None for child in children)
    try:
        wait_until(seen)
        failed = [(s.shot, s.message) for s in queued(url) if s.state == "failed"]
        assert not failed, failed  # another run's lock is no failure
        for child in children:
            assert child.poll() is None, said_by(child)
    except BaseException:
        for child in children:
            child.kill()
            child.communicate(timeout=LOADED)
        raise


def test_two_workers_on_one_clone_take_turns_and_finish_the_season(
        tmp_path: Path, emulator: Emulator, pg_url: str) -> None:
    gate = Gate()
    emu: EmulatorServer = emulator(render=gate)
    clone = season(tmp_path, pg_url)
    root = str(clone.parent)
    workers = [storyboard(clone.parent, "worker", "--ledger", pg_url, "--root", root,
                          "--drain", "--slots", "2", "--linger", "0.5") for _ in range(2)]
    try:
        met(pg_url, *workers)  # the first run's shots held: the other worker met its lock
    finally:
        gate.opened.set()
    said = [ended(child) for child in workers]  # both exit 0: no shot failed
    assert all("0 failed" in text for text in said), said
    assert any("given back: waiting for its turn" in text for text in said), said
    paid_once(emu, pg_url)


def test_a_worker_beside_a_users_render_waits_its_turn(
        tmp_path: Path, emulator: Emulator, pg_url: str) -> None:
    """A user's render of ep01 holds the clone's run lock; the worker beside it gives its shots
    back until the render ends, then renders the season: ep01's shots from the clone's cache,
    never submitted again."""
    gate = Gate()
    emu: EmulatorServer = emulator(render=gate)
    clone = season(tmp_path, pg_url)
    mine = storyboard(clone.parent, "render", clone.name, "--provider", "dashscope",
                      "ep01", "--yes")
    worker = None
    try:
        wait_until(lambda: submissions(emu) == 2 or mine.poll() is not None)  # its 2 slots
        assert mine.poll() is None and not lock_free(clone), said_by(mine)
        worker = storyboard(clone.parent, "worker", "--ledger", pg_url, "--root",
                            str(clone.parent), "--drain")
        met(pg_url, mine, worker)
        assert submissions(emu) == 2  # the worker sent nothing while it waited
    finally:
        gate.opened.set()
    ended(mine)
    said = ended(worker)
    assert "0 failed" in said, said
    paid_once(emu, pg_url)
