"""A render queued with ``--budget`` holds it over the workers' runs when its tasks cost more than
planned (the series' own price of 0 under the list price), on DashScope's emulator and a real
PostgreSQL ledger: each run is left the agreed budget less what the others counted (each task at
no less than its list price), not less what they were billed at the series' prices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from storyboard.emulator import EmulatorServer
from storyboard.media import samples
from tests.fixtures.comfyui import wait_until
from tests.fixtures.dashscope_cli import Emulator, submissions
from tests.fixtures.patience import LOADED
from tests.run.test_workers import lock_free, queued, storyboard
from tests.run.test_workers_leases import EngineWorker

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

# Two shots the series prices at 0; the service bills each at wan2.7-r2v's list price, USD 0.10/s
# at 720P for 2 s: 0.20.
SERIES = """\
storyboard: 1
title: Night Shift
defaults: {resolution: 720P, ratio: "9:16", duration: 2}
provider: {name: dashscope, poll: [0.2], prices: {720P: 0}}
characters:
  ada: {image: media/ada.png}
episodes:
  - {id: ep01, shots: [{id: a, prompt: "@ada answers"}, {id: b, prompt: "@ada walks in"}]}
"""

# The same shots of a cast member drawn by wan2.7-image, priced 0 by the series too (its list
# price: USD 0.03 a picture), made by the run of the first shot that needs it.
CAST = SERIES.replace("prices: {720P: 0}", "prices: {720P: 0, wan2.7-image: {each: 0}}").replace(
    "ada: {image: media/ada.png}", 'ada: {image: {generate: "a tall woman in a red coat"}}')


def series(tmp_path: Path, url: str, text: str) -> Path:
    folder = tmp_path / "clone" / "night"
    samples.image(folder / "media" / "ada.png", 320, 320)
    doc = yaml.safe_load(text)
    doc["ledger"] = url
    (folder / "storyboard.yaml").write_text(yaml.safe_dump(doc, sort_keys=False),
                                            encoding="utf-8")
    return folder


def two_runs(tmp_path: Path, pg_url: str, text: str, budget: str) -> tuple[str, int]:
    """The series queued under ``budget``; while ep01/a is held elsewhere, a worker's first run
    makes ep01/b (and the cast it needs), then its next run takes ep01/a, given back: what the
    worker said, and its exit code."""
    clone = series(tmp_path, pg_url, text)
    child = storyboard(clone.parent, "queue", "render", clone.name, "--provider", "dashscope",
                       "--budget", budget, "--json")
    out, err = child.communicate(timeout=LOADED)
    assert child.returncode == 0, out + err
    assert json.loads(out)["shots"] == 2
    elsewhere = EngineWorker(pg_url)  # another worker of the engine (silent under a lease)
    try:
        held = elsewhere.claim()
        assert held is not None and {s.id: s.shot for s in queued(pg_url)}[held] == "ep01/a"
        worker = storyboard(clone.parent, "worker", "--ledger", pg_url, "--drain",
                            "--linger", "0.5")
        try:
            wait_until(lambda: not lock_free(clone) or worker.poll() is not None)  # its run
            wait_until(lambda: {s.shot: s.state for s in queued(pg_url)}["ep01/b"] == "done"
                       or worker.poll() is not None)
            wait_until(lambda: lock_free(clone) or worker.poll() is not None)  # the run ended
            assert worker.poll() is None
            elsewhere.give_back(held)  # given back: a next run
            out, err = worker.communicate(timeout=LOADED * 2)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.communicate(timeout=LOADED)
    finally:
        elsewhere.close()
    assert "Traceback" not in err, err
    return out + err, worker.returncode


def skipped_for_the_budget(pg_url: str, said: str, code: int) -> None:
    shots = {s.shot: s for s in queued(pg_url)}
    assert shots["ep01/b"].state == "done" and shots["ep01/a"].state == "failed", said
    assert "budget" in shots["ep01/a"].message, shots["ep01/a"].message
    assert code == 1, said  # a shot it took failed


def test_a_workers_run_is_left_what_the_runs_before_it_counted(
        tmp_path: Path, emulator: Emulator, pg_url: str) -> None:
    """Queued under --budget 0.30 (planned at 0.00): the first run's ep01/b counts 0.20, its list
    price (billed 0.00), so the next run has 0.10 left: ep01/a is skipped, unpaid, and the render
    spends 0.20, not 0.40."""
    emu: EmulatorServer = emulator()
    said, code = two_runs(tmp_path, pg_url, SERIES, "0.3")
    skipped_for_the_budget(pg_url, said, code)
    assert submissions(emu) == 1  # 0.20 at list price, within --budget 0.30


def test_the_cast_a_run_made_counts_for_the_next_run_too(
        tmp_path: Path, emulator: Emulator, pg_url: str) -> None:
    """Queued under --budget 0.41: the first run's ep01/b and ada's picture count 0.23 at their
    list prices, so the next run has 0.18 left, under ep01/a's 0.20: skipped, and the render
    spends 0.23, not 0.43."""
    emu: EmulatorServer = emulator()
    said, code = two_runs(tmp_path, pg_url, CAST, "0.41")
    skipped_for_the_budget(pg_url, said, code)
    assert submissions(emu) == 1 and emu.stats()["cast"]["requests"]["image"] == 1
