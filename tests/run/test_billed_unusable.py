"""A take the service billed but that cannot be used, end to end against the emulator's faults.

The task succeeded (so it was billed) and its result is an HTML page, an empty file, a cut-off
file or an MP4 whose header says it lasts 89,478 s. It used to end as ``spent 0.00 USD on 0 new
task(s)`` with no cost in the journal, and the next render paid again saying 0.00 again. Here it
counts as billed everywhere: the spent line, the run's report (what the budget left is made of),
the journal and ``status``; the next plan says the shot pays again, and that render counts it;
the lock entry of the take that finally rendered says what its request cost before.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from storyboard.emulator.render import unusable_bytes
from storyboard.run import read_status
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import HEAD, Emulator, MakeMedia, invoke, submissions

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

TWO = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia sings"}
    - {id: b, prompt: "@mia waves"}
"""


def spent_line(output: str) -> str:
    found = re.search(r"spent [0-9.]+ USD on \d+ new task\(s\)", output)
    assert found, output
    return found.group(0)


@pytest.mark.parametrize("kind", ["html", "empty", "corrupt", "long"])
def test_a_billed_unusable_take_counts_as_billed_and_the_next_render_says_it_pays_again(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator,
        kind: str) -> None:
    emu = emulator()
    emu.script(f"task:{kind}")  # the first task's result is unusable, and billed
    series = write_series(tmp_path / "s", make_media, TWO, head=HEAD)
    plan = json.loads(invoke("plan", series, "--provider", "dashscope", "--json").stdout)
    one = plan["shots"][0]["cost"]
    assert one > 0 and plan["total_cost"] == pytest.approx(2 * one)

    result = invoke("render", series, "--provider", "dashscope", "--yes")
    assert result.exit_code == 1
    assert spent_line(result.output) == f"spent {2 * one:.2f} USD on 2 new task(s)"
    assert "unusable" in result.output and "the next render pays for it again" in result.output
    [bad] = [a for a in read_status(series) if a.state == "failed"]
    assert bad.error_code == "OutputInvalid" and bad.cost == pytest.approx(one)
    assert bad.currency == "USD" and bad.task_id
    assert "spent in all: " + f"{2 * one:.2f} USD on 2 paid task(s)" in \
        invoke("status", series).output.replace("\n", " ")
    assert list((series / ".storyboard" / "rejected").iterdir())  # paid for: kept for a look

    plan = json.loads(invoke("plan", series, "--provider", "dashscope", "--json").stdout)
    again = [s for s in plan["shots"] if s["status"] != "cached"]
    assert [s["key"] for s in again] == [bad.key] and plan["total_cost"] == pytest.approx(one)
    assert again[0]["note"] == (f"pays again: task {bad.task_id} was billed {one:.2f} USD and "
                                "failed (OutputInvalid)")
    assert "pays again" in invoke("plan", series, "--provider", "dashscope").output

    result = invoke("render", series, "--provider", "dashscope", "--json", "--yes")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["spent"] == pytest.approx(one)
    assert submissions(emu) == 3  # the unusable take was paid again, once
    assert "spent in all: " + f"{3 * one:.2f} USD on 3 paid task(s)" in \
        invoke("status", series).output.replace("\n", " ")
    lock = json.loads((series / "storyboard.lock").read_text("utf-8"))["shots"]
    assert {k: (e["cost"], e.get("failed_cost"), e.get("failed_tasks")) for k, e in lock.items()} \
        == {"s/ep01/a": (one, None, None), "s/ep01/b": (one, None, None)} | {
            bad.key: (one, one, 1)}  # what the take cost, and what its request cost before
    (series / ".storyboard" / "journal.sqlite").unlink()  # a clone without that journal
    before = (series / "storyboard.lock").read_bytes()
    assert invoke("render", series, "--provider", "dashscope", "--yes").exit_code == 0
    assert (series / "storyboard.lock").read_bytes() == before and submissions(emu) == 3


def test_the_run_report_counts_a_billed_unusable_take(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    emu = emulator()
    emu.script("task:html")
    series = write_series(tmp_path / "s", make_media, TWO, head=HEAD)
    result = invoke("render", series, "--provider", "dashscope", "--json", "--yes")
    report = json.loads(result.stdout)
    costs = {s["key"]: s["cost"] for s in report["shots"]}
    assert report["spent"] == pytest.approx(sum(costs.values())) and min(costs.values()) > 0
    [failed] = [s for s in report["shots"] if s["state"] == "failed"]
    assert failed["code"] == "OutputInvalid" and failed["cost"] > 0


def test_the_unusable_results_are_what_they_say(make_media: MakeMedia, tmp_path: Path) -> None:
    from storyboard.media import ffmpeg
    from storyboard.run.trip.guards.verdicts import InvalidOutput, verify_video
    video = make_media("video", tmp_path / "v.mp4", seconds=2, width=64, height=48)
    data = video.read_bytes()
    assert unusable_bytes(data, "html").startswith(b"<!DOCTYPE html>")
    assert unusable_bytes(data, "empty") == b""
    assert unusable_bytes(data, "corrupt") == data[:512]
    long = tmp_path / "long.mp4"
    long.write_bytes(unusable_bytes(data, "long"))
    assert len(long.read_bytes()) == len(data)
    read = ffmpeg.probe(long).duration  # ffprobe reads what the header says; ffmpeg's log: N/A
    assert read is None or read == pytest.approx(89478.49, abs=0.01)
    with pytest.raises(InvalidOutput, match=r"it lasts (None|89478\.49) s"):
        verify_video(long, 2.0, 0.5, require_audio=False)
    with pytest.raises(ValueError, match="cannot make a 'long' result"):
        unusable_bytes(b"not a video", "long")
