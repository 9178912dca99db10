"""Derived takes end to end on the emulator (issue 59.3, 59.4): ``retake --edit`` keeps an edit of
the take in use as a take of the same shot (priced, consented, journaled as derived from its
parent, picked as any take, the parent kept); ``retake --lipsync`` re-lips it to its line on
``videoretalk``, paid once even when the run is killed, measured on arrival."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import storyboard
from storyboard.language.compile import compile_path
from storyboard.media import ffmpeg
from storyboard.run import read_status
from storyboard.run.choices.passes import ask_lipsync
from storyboard.run.state.takes import take_rows
from tests.fixtures.dashscope_cli import (
    Emulator,
    child_env,
    invoke,
    kill,
    submissions,
    wait_until,
)

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

MakeMedia = Callable[..., Path]

SERIES = """\
storyboard: 1
title: Fixes
defaults: {resolution: 720P, ratio: "16:9", duration: 3}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
characters:
  mia: {image: media/mia.png}
episodes:
  - id: ep01
    shots:
      - {id: a, prompt: "@mia waves"}
      - {id: b, prompt: "@mia sits down"}
"""


@pytest.fixture
def series(tmp_path: Path, make_media: MakeMedia) -> Path:
    root = tmp_path / "fixes"
    make_media("image", root / "media" / "mia.png", width=400, height=400)
    make_media("voice", root / "media" / "line.wav", seconds=1.5)
    (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    return root


def run(*args: str | Path) -> tuple[int, dict[str, Any], str]:
    result = invoke(*args)
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, report, result.stderr + result.stdout


def lock_of(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "storyboard.lock").read_text("utf-8"))
    return data


def test_an_edit_is_kept_as_a_derived_take_and_picked_and_its_parent_stays(
        series: Path, emulator: Emulator, tmp_path: Path) -> None:
    emu = emulator()
    code, _, said = run("render", series, "--provider", "dashscope", "--yes", "--json")
    assert code == 0, said
    assert emu.stats()["submissions"]["total"] == 2

    code, report, said = run("retake", series, "ep01/a", "--edit", "make her scarf red",
                             "--provider", "dashscope", "--yes", "--json")
    assert code == 0, said
    assert {s["key"].rsplit("/", 1)[1]: s["state"] for s in report["shots"]} == {"a#2": "done"}
    assert emu.stats()["submissions"]["total"] == 3
    lock = lock_of(series)
    edit, parent = lock["shots"]["fixes/ep01/a#2"], lock["shots"]["fixes/ep01/a"]
    assert edit["parameters"]["model"] == "wan2.7-videoedit"
    assert edit["media"]["source_video 1"]["sha256"] == parent["output_sha256"]
    # 720P at 0.10/s: the 3 s it edits and the 3 s it makes
    assert edit["cost"] == pytest.approx((3 + 3) * 0.10)
    assert [a.note for a in read_status(series) if a.shot == "a#2"] == ["edit of take 1 (" +
                                                                        parent["hash"][:12] + ")"]
    record = lock["takes"]["fixes/ep01/a"]["derived"][0]
    assert (record["kind"], record["parent"], record["words"]) == ("edit", 1, "make her scarf red")

    # asked again: the same take, from the cache, nothing paid
    code, report, said = run("retake", series, "ep01/a", "--edit", "make her scarf red",
                             "--provider", "dashscope", "--yes", "--json")
    assert code == 0 and emu.stats()["submissions"]["total"] == 3, said
    assert {s["state"] for s in report["shots"]} == {"cached"}

    code, _, said = run("pick", series, "ep01/a", "2")
    assert code == 0, said
    rows = {r.take: r for r in take_rows(compile_path(series), "ep01/a")}
    assert rows[1].current and rows[2].current and rows[2].marks == "picked"
    assert rows[2].derived == "edit of take 1"
    cache = series / ".storyboard" / "cache" / "dashscope"
    assert (cache / f"{parent['hash']}.mp4").is_file()  # the parent is never lost

    code, _, said = run("render", series, "--provider", "dashscope", "--yes", "--json",
                        "-o", tmp_path / "out")
    assert code == 0 and emu.stats()["submissions"]["total"] == 3, said


def test_a_later_edit_of_the_words_replans_the_shot_not_its_derived_takes(
        series: Path, emulator: Emulator) -> None:
    emu = emulator()
    assert run("render", series, "--provider", "dashscope", "--yes", "--json")[0] == 0
    assert run("retake", series, "ep01/a", "--edit", "a red scarf", "--provider", "dashscope",
               "--yes", "--json")[0] == 0
    text = (series / "storyboard.yaml").read_text("utf-8")
    (series / "storyboard.yaml").write_text(text.replace("@mia waves", "@mia waves twice"))
    code, report, said = run("render", series, "--provider", "dashscope", "--yes", "--json")
    assert code == 0, said
    assert {s["key"].rsplit("/", 1)[1]: s["state"] for s in report["shots"]} == \
        {"a": "done", "b": "cached"}
    assert emu.stats()["submissions"]["total"] == 4  # 2 + the edit + the new take 1 only
    rows = take_rows(compile_path(series), "ep01/a")
    stale = [r for r in rows if r.derived]
    assert [(r.take, r.current, r.derived) for r in stale] == [(2, False, "edit of take 1")]
    assert lock_of(series)["takes"]["fixes/ep01/a"]["derived"][0]["kind"] == "edit"


def test_a_pass_refused_or_unconsented_pays_nothing_and_leaves_the_lock(
        series: Path, emulator: Emulator) -> None:
    emu = emulator()
    code, _, said = run("retake", series, "ep01/a", "--edit", "a red scarf",
                        "--provider", "dashscope", "--yes")
    assert code != 0 and "no rendered take" in said
    assert run("retake", series, "ep01/a", "--edit", "  ", "--yes")[0] != 0
    assert run("retake", series, "ep01/a", "--edit", "x", "--lipsync", "--yes")[0] != 0
    assert emu.stats()["submissions"]["total"] == 0
    assert run("render", series, "--provider", "dashscope", "--yes", "--json")[0] == 0
    before = (series / "storyboard.lock").read_text("utf-8")
    # no consent (a run with no terminal, no --yes, no --budget): nothing sent, the lock as it was
    code, _, said = run("retake", series, "ep01/a", "--edit", "a red scarf",
                        "--provider", "dashscope")
    assert code != 0 and "nothing was submitted" in said, said
    assert (series / "storyboard.lock").read_text("utf-8") == before
    for bad in (["--at", "nan"], ["--at", "-1"], ["--at", "inf"]):
        code, _, said = run("retake", series, "ep01/a", "--lipsync", "--audio",
                            series / "media" / "line.wav", *bad, "--yes")
        assert code != 0 and "Traceback" not in said and "--at" in said, said
    (series / "media" / "notes.wav").write_text("not audio", encoding="utf-8")
    code, _, said = run("retake", series, "ep01/a", "--lipsync", "--audio",
                        series / "media" / "notes.wav", "--yes")
    assert code != 0 and "Traceback" not in said, said
    assert emu.stats()["submissions"]["total"] == 2  # the render's two shots alone


def test_a_lipsync_pass_relips_the_take_to_its_line_and_is_measured(
        series: Path, emulator: Emulator, make_media: MakeMedia) -> None:
    emu = emulator(plain_results=False)
    assert run("render", series, "--provider", "dashscope", "--yes", "--json")[0] == 0
    code, _, said = run("retake", series, "ep01/a", "--lipsync", "--audio",
                             series / "media" / "line.wav", "--at", "1",
                             "--provider", "dashscope", "--yes", "--json")
    assert code == 0, said
    lock = lock_of(series)
    retalk = lock["shots"]["fixes/ep01/a#2"]
    assert retalk["parameters"]["model"] == "videoretalk"
    assert retalk["cost"] == pytest.approx(3 * 0.011469, abs=1e-4)  # its output's seconds
    # the video shots; the pass on its own path
    assert (emu.stats()["requests"]["submit"], emu.stats()["requests"]["retalk"]) == (2, 1)
    made = series / ".storyboard" / "cache" / "dashscope" / f"{retalk['hash']}.mp4"
    info = ffmpeg.probe(made)
    assert info.audio is not None and info.duration == pytest.approx(3.0, abs=0.25)


def lipsync(series: Path) -> list[str]:
    return [sys.executable, "-m", "storyboard", "retake", str(series), "ep01/a", "--lipsync",
            "--audio", str(series / "media" / "line.wav"), "--provider", "dashscope", "--yes",
            "--quiet"]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_a_lipsync_pass_is_paid_once_when_its_run_is_killed(
        series: Path, emulator: Emulator) -> None:
    emu = emulator(latency=2.0)
    assert run("render", series, "--provider", "dashscope", "--yes", "--json")[0] == 0
    child = subprocess.Popen(lipsync(series), env=child_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        wait_until("the pass's submission", lambda: submissions(emu) >= 3, child)
    finally:
        kill(child)
    assert emu.stats()["tasks"]["SUCCEEDED"] == 2  # the pass was still running when killed
    again = subprocess.run(lipsync(series), env=child_env(), capture_output=True, timeout=90,
                           check=False)
    assert again.returncode == 0, again.stderr.decode(errors="replace")
    assert submissions(emu) == 3 and emu.stats()["submissions"]["duplicates"] == 0
    entry = lock_of(series)["shots"]["fixes/ep01/a#2"]
    assert entry["parameters"]["model"] == "videoretalk"
    assert [a.state for a in read_status(series) if a.shot == "a#2"] == ["done"]


def test_a_lipsync_pass_whose_answer_was_lost_is_found_not_sent_again(
        series: Path, emulator: Emulator) -> None:
    emu = emulator()
    assert run("render", series, "--provider", "dashscope", "--yes", "--json")[0] == 0
    emu.script("retalk:lost")
    code, _, said = run("retake", series, "ep01/a", "--lipsync", "--audio",
                        series / "media" / "line.wav", "--provider", "dashscope", "--yes",
                        "--json")
    assert code == 0, said
    assert submissions(emu) == 3 and emu.stats()["faults"] == {"retalk:lost": 1}


def test_passes_are_sent_one_at_a_time_as_the_service_runs_them(
        series: Path, emulator: Emulator, tmp_path: Path) -> None:
    emu = emulator()
    assert run("render", series, "--provider", "dashscope", "--yes", "--json")[0] == 0
    manifest = compile_path(series)
    asked = [ask_lipsync(manifest, name, series / "media" / "line.wav")
             for name in ("ep01/a", "ep01/b")]
    report = storyboard.render(series, provider="dashscope", yes=True, out=tmp_path / "out",
                               shots=tuple(t for a in asked for t in a.takes),
                               take_changes=tuple(c for a in asked for c in a.changes))
    assert report.run is not None and {s.state for s in report.run.shots} == {"done"}
    # the runner kept to the service's one task at a time: none waited in the service's queue
    assert emu.stats()["queued"] == {"peak_running": {"videoretalk": 1}, "waited": 0}
    assert submissions(emu) == 4


ROUTED = """\
storyboard: 1
title: Routed
defaults: {resolution: 720P, ratio: "16:9", duration: 4}
provider: {name: dashscope, poll: [0.2]}
output: {loudness: null}
voices:
  mia-voice: {design: "warm, calm woman in her thirties",
              sample: "Morning! The usual, with oat milk and no sugar, as always?"}
characters:
  mia: {image: media/mia.png, voice: mia-voice}
episodes:
  - id: ep01
    shots:
      - id: toast
        dialogue: {route: lipsync}
        scenes:
          - {at: 1-3s, action: "@mia raises her cup", say: {mia: "To retirement, and to us."}}
"""


def test_a_line_routed_lipsync_gets_its_pass_once_its_take_is_approved(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    root = tmp_path / "routed"
    make_media("image", root / "media" / "mia.png", width=480, height=480)
    (root / "storyboard.yaml").write_text(ROUTED, encoding="utf-8")
    emu = emulator(plain_results=False)
    code, _, said = run("render", root, "--provider", "dashscope", "--yes", "--json")
    assert code == 0, said
    assert not [k for k in lock_of(root)["shots"] if "#" in k]  # no pass before a take is chosen

    code, report, said = run("approve", root, "ep01/toast", "--force", "--json")
    assert code == 0, said
    assert report["lipsync"] == "ep01/toast#2"
    code, planned, said = run("plan", root, "--provider", "dashscope", "--json")
    assert code == 0, said
    pass_plan = next(s for s in planned["shots"] if s["key"].endswith("toast#2"))
    parent = lock_of(root)["shots"]["routed/ep01/toast"]
    assert pass_plan["status"] == "new" and pass_plan["duration"] == parent["parameters"]["duration"]
    assert pass_plan["cost"] == pytest.approx(pass_plan["duration"] * 0.011469, abs=1e-4)
    code, report, said = run("render", root, "--provider", "dashscope", "--yes", "--json")
    assert code == 0, said
    states = {s["key"].rsplit("/", 1)[1]: s["state"] for s in report["shots"]}
    assert states["toast#2"] == "done" and states["toast"] == "cached", states
    assert lock_of(root)["shots"]["routed/ep01/toast#2"]["parameters"]["model"] == "videoretalk"
    assert emu.stats()["requests"]["retalk"] == 1
    rows = {r.take: r for r in take_rows(compile_path(root), "ep01/toast")}
    assert rows[2].derived == "lip-sync of take 1"
    # measured on arrival: the line's window is spoken, the pass as long as its take
    assert rows[2].findings is not None
    assert not [f for f in rows[2].findings if f["kind"] in ("silent_line", "duration")]

    code, report, said = run("pick", root, "ep01/toast", "2", "--replace-approved", "--json")
    assert code == 0 and "lipsync" not in report, said  # the take in use is the pass: no other


def test_an_edit_of_a_take_longer_than_its_model_takes_is_refused_before_it_is_sent(
        series: Path, emulator: Emulator) -> None:
    text = (series / "storyboard.yaml").read_text("utf-8")
    (series / "storyboard.yaml").write_text(text.replace("duration: 3", "duration: 12"))
    emu = emulator()
    assert run("render", series, "--provider", "dashscope", "--yes", "--json")[0] == 0
    code, _, said = run("retake", series, "ep01/a", "--edit", "a red scarf",
                        "--provider", "dashscope", "--yes")
    assert code != 0 and "wan2.7-videoedit takes a video of 2 to 10 s" in said, said
    assert submissions(emu) == 2


def test_a_lipsync_pass_outside_the_beijing_region_is_refused_before_it_is_sent(
        series: Path, emulator: Emulator) -> None:
    from storyboard.errors import StoryboardError
    from storyboard.targets.wire.gateways import DASHSCOPE_REGIONS
    emulator()
    assert run("render", series, "--provider", "dashscope", "--yes", "--json")[0] == 0
    with pytest.raises(StoryboardError, match="region: cn"):
        ask_lipsync(compile_path(series), "ep01/a", series / "media" / "line.wav",
                    base_url=DASHSCOPE_REGIONS["intl"])
    asked = ask_lipsync(compile_path(series), "ep01/a", series / "media" / "line.wav",
                        base_url=DASHSCOPE_REGIONS["cn"])
    assert asked.takes == ("ep01/a#2",)


def test_a_lipsync_pass_keeps_its_takes_framing_and_needs_no_force(
        series: Path, emulator: Emulator) -> None:
    """videoretalk keeps the take's length and framing (declared: ``keeps_framing``): a 1280x720
    take comes back 1280x720, measured against what the pass promises, so the billed pass
    carries no error finding and is approved without ``--force``."""
    emulator(plain_results=False)
    assert run("render", series, "--provider", "dashscope", "--yes", "--json")[0] == 0
    code, _, said = run("retake", series, "ep01/a", "--lipsync", "--audio",
                        series / "media" / "line.wav", "--provider", "dashscope", "--yes",
                        "--json")
    assert code == 0, said
    lock = lock_of(series)
    parent, retalk = lock["shots"]["fixes/ep01/a"], lock["shots"]["fixes/ep01/a#2"]
    cache = series / ".storyboard" / "cache" / "dashscope"
    sizes = [ffmpeg.probe(cache / f"{entry['hash']}.mp4").video for entry in (parent, retalk)]
    assert [(v.width, v.height) for v in sizes if v is not None] == [(1280, 720), (1280, 720)]
    rows = {r.take: r for r in take_rows(compile_path(series), "ep01/a")}
    assert rows[2].findings is not None
    assert [f for f in rows[2].findings if f["severity"] == "error"] == []
    assert run("pick", series, "ep01/a", "2")[0] == 0
    code, _, said = run("approve", series, "ep01/a")
    assert code == 0 and "--force" not in said, said


@pytest.mark.parametrize(("settings", "env", "refused"), [
    ({"region": "intl"}, False, True),
    ({"region": "intl", "workspace": "ws-abc123"}, False, True),  # a workspace host: its region
    ({"region": "us", "workspace": "ws-abc123"}, True, True),  # a workspace beats the env's host
    ({"region": "cn"}, False, False),
    ({"region": "cn", "workspace": "ws-abc123"}, False, False),
    ({"region": "intl"}, True, False),  # a host of your own (the emulator): any region
    ({"region": "intl", "base_url": "http://127.0.0.1:9/api/v1"}, False, False),
])
def test_a_pass_its_region_does_not_serve_is_refused_before_it_is_sent(
        monkeypatch: pytest.MonkeyPatch, settings: dict[str, Any], env: bool,
        refused: bool) -> None:
    """videoretalk is Beijing's only (docs/dialogue.md): ``plan`` and ``render`` refuse the pass
    at its line for a series rendering in another region, through a public host or a workspace,
    before anything is sent or paid."""
    from storyboard.language.request import CompiledShot, ShotRequest
    from storyboard.providers.dashscope.provider import DashScopeProvider
    from storyboard.providers.dashscope.settings import DashScopeSettings
    if env:
        monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", "http://127.0.0.1:9/api/v1")
    else:
        monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    request = ShotRequest("videoretalk", "", (), "720P", "16:9", 3, None, False)
    relipped = CompiledShot("s", "ep01", "a#2", request, "p" * 64)
    provider = DashScopeProvider(DashScopeSettings(**settings))
    said = [d.message for d in provider.refused([relipped])]
    assert bool(said) == refused, said
    if refused:
        assert "region: cn" in said[0] and "nothing was sent" in said[0]


def test_a_pass_asked_in_a_workspace_of_another_region_is_refused(
        series: Path, emulator: Emulator) -> None:
    """A series whose DashScope host is a workspace in ap-southeast-1 (intl): its pass is
    refused when asked, naming the region, and nothing is recorded or sent."""
    emu = emulator()
    assert run("render", series, "--provider", "dashscope", "--yes", "--json")[0] == 0
    text = (series / "storyboard.yaml").read_text("utf-8")
    (series / "storyboard.yaml").write_text(text.replace(
        "provider: {name: dashscope,", "provider: {name: dashscope, workspace: ws-abc123,"))
    before = lock_of(series)
    code, _, said = run("retake", series, "ep01/a", "--lipsync", "--audio",
                        series / "media" / "line.wav", "--provider", "dashscope", "--yes")
    assert code != 0 and "region: cn" in said and "Traceback" not in said, said
    assert lock_of(series) == before and submissions(emu) == 2
