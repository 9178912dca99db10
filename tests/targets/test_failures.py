"""Failures that explain themselves: each provider's failure words classified (refused at submit,
nothing billed; or failed after the render, billed as the service declares), content refusals
naming the flagged input, shown by ``status``, the MCP answers, and counted in what was spent.

Through the emulator's content-refusal faults: ``submit:refused=INPUT`` and
``task:refused=OUTPUT``, on DashScope's native API and on a gateway dialect.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.agents.tools import Budget, Tools
from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer, parse_fault
from storyboard.emulator.faults import FaultSyntaxError
from storyboard.targets.kinds import classify_failure
from storyboard.targets.wire.failures import (
    IMAGE,
    OUT_AUDIO,
    OUT_VIDEO,
    PERSON,
    PROMPT,
    UNSAID,
    VOICE,
)
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import HEAD, Emulator, MakeMedia, invoke, render, submissions
from tests.fixtures.example import copy_example
from tests.fixtures.media_host import serve

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

ONE_SHOT = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves at @sam"}
"""
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
GW_KEY = "gw-test-secret-789"


# --- the declarations ----------------------------------------------------------------------------

@pytest.mark.parametrize(("provider", "code", "message", "stage", "billed", "flagged"), [
    ("dashscope", "DataInspectionFailed", "Input text data may contain inappropriate content.",
     "submit", False, PROMPT),
    ("dashscope", "DataInspectionFailed", "Input image data may contain inappropriate content.",
     "submit", False, IMAGE),
    ("dashscope", "DataInspectionFailed", "Input data may contain inappropriate content.",
     "submit", False, UNSAID),
    # DashScope documents failed tasks as free, a refused output included.
    ("dashscope", "DataInspectionFailed", "Output audio data may contain inappropriate content.",
     "render", False, OUT_AUDIO),
    ("dashscope", "InternalError", "try again", "render", False, ""),
    ("openai-video", "InputImageSensitiveContentDetected", "sensitive", "submit", False, IMAGE),
    ("freepik", "InputImageSensitiveContentDetected.PrivacyInformation", "", "submit", False,
     PERSON),
    ("roles", "InputTextSensitiveContentDetected", "", "submit", False, PROMPT),
    ("arrays", "InputAudioSensitiveContentDetected", "", "submit", False, VOICE),
    # A gateway's refused output: billed (the docs are silent: a guess, said so).
    ("openai-video", "OutputVideoSensitiveContentDetected", "", "render", True, OUT_VIDEO),
    ("arrays", "OutputAudioSensitiveContentDetected.PolicyViolation", "", "render", True,
     OUT_AUDIO),
    ("openai-video", "InternalError", "", "render", False, ""),
    ("an-unknown-gateway", "DataInspectionFailed", "Output video data ...", "render", True,
     OUT_VIDEO),
    # Your own GPUs bill nothing, whatever failed.
    ("comfyui", "InvalidPrompt", "node_errors", "submit", False, ""),
    ("comfyui", "ExecutionError", "out of memory", "render", False, ""),
    ("local", "InternalError", "", "render", False, ""),
])
def test_each_failure_word_is_classified(provider: str, code: str, message: str, stage: Any,
                                         billed: bool, flagged: str) -> None:
    failure = classify_failure(provider, code, message, stage=stage)
    assert (failure.stage, failure.billed, failure.flagged) == (stage, billed, flagged)
    assert failure.content == bool(flagged)
    words = failure.words()
    assert words.startswith("refused at submit" if stage == "submit" else
                            "failed after the render")
    assert ("nothing billed" in words) != billed
    gateway = provider not in ("dashscope", "local", "comfyui")
    assert ("a guess" in words) == (stage == "render" and gateway)
    if flagged:
        assert words.endswith(f"content refusal of {flagged}")


def test_refusal_faults_name_what_they_flag() -> None:
    assert parse_fault("submit:refused=image").word == "image"
    assert parse_fault("task:refused=audio").tag == "refused=audio"
    for bad in ("submit:refused=audio", "task:refused=prompt", "submit:refused", "query:refused=x"):
        with pytest.raises(FaultSyntaxError):
            parse_fault(bad)


# --- DashScope through the emulator --------------------------------------------------------------

@pytest.fixture
def one(tmp_path: Path, make_media: MakeMedia) -> Path:
    return write_series(tmp_path / "wire", make_media, ONE_SHOT, head=HEAD)


def status_rows(series: Path) -> list[dict[str, Any]]:
    result = invoke("status", series, "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_a_prompt_refused_at_submit_is_free_and_names_the_prompt(
        one: Path, emulator: Emulator, tmp_path: Path) -> None:
    emu = emulator()
    emu.script("submit:refused=prompt")
    code, report, _ = render(one, "--yes", "-o", tmp_path / "out")
    assert code == 1 and submissions(emu) == 0
    [shot] = report["shots"]
    assert "refused at submit, nothing billed: content refusal of the prompt" in shot["message"]
    [row] = status_rows(one)
    assert row["failure"]["stage"] == "submit" and row["failure"]["billed"] is False
    assert row["failure"]["flagged"] == PROMPT and row["cost"] is None
    shown = invoke("status", one)
    assert "content refusal of the prompt" in " ".join(shown.stdout.split())
    assert "spent in all: nothing" in shown.stdout


def test_output_audio_refused_after_the_render_is_free_on_dashscope(
        one: Path, emulator: Emulator, tmp_path: Path) -> None:
    emu = emulator()
    emu.script("task:refused=audio")
    code, report, _ = render(one, "--yes", "-o", tmp_path / "out")
    assert code == 1 and submissions(emu) == 1
    assert report["spent"] == 0
    [row] = status_rows(one)
    failure = row["failure"]
    assert (failure["stage"], failure["billed"], failure["flagged"], failure["basis"]) == (
        "render", False, OUT_AUDIO, "official")
    assert "failed after the render, nothing billed: content refusal of the output audio" in \
        " ".join(invoke("status", one).stdout.split())
    mcp = Tools(one.resolve(), Budget(0.0)).status(".")
    assert mcp["attempts"][0]["failure"]["flagged"] == OUT_AUDIO


# --- a gateway through the emulator --------------------------------------------------------------

@pytest.fixture
def gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, EmulatorServer]]:
    """The example series at the emulator's openai-video gateway, its media on a loopback host."""
    from tests.fixtures.resellers import quick_render
    with EmulatorServer(latency=0.3, render=quick_render, retry_after=0.05, api_key=GW_KEY,
                        seed=3) as emu, serve(tmp_path) as host:
        series = copy_example(tmp_path / "coffee-shop",
                                 ignore=shutil.ignore_patterns(".storyboard", "storyboard.lock"))
        block = (f"provider: {{name: openai-video, base_url: '{emu.gateway_url('openai-video')}', "
                 f"media_base_url: '{host}/coffee-shop', poll: [0.2]}}\n")
        yaml = series / "storyboard.yaml"
        text = yaml.read_text().replace("output:\n", block + "output:\n", 1)
        yaml.write_text(text.replace("loudness: -14", "loudness: null"))
        monkeypatch.setenv(DIALECTS["openai-video"].key_env, GW_KEY)
        yield series, emu


def gateway_render(series: Path) -> tuple[int, dict[str, Any]]:
    result = invoke("render", series, "--json", "--yes", "-o", series / "out")
    return result.exit_code, json.loads(result.stdout)


def test_a_gateway_names_a_refused_reference_image_and_bills_a_refused_output(
        gateway: tuple[Path, EmulatorServer]) -> None:
    series, emu = gateway
    emu.script("submit:refused=image", "task:ok", "task:refused=video")
    code, report = gateway_render(series)
    assert code == 1
    rows = {r["shot"]: r for r in status_rows(series)}
    failures = {shot: r["failure"] for shot, r in rows.items() if r["failure"]}
    assert len(failures) == 2, rows
    at_submit = next(f for f in failures.values() if f["stage"] == "submit")
    after = next(f for f in failures.values() if f["stage"] == "render")
    assert (at_submit["billed"], at_submit["flagged"]) == (False, IMAGE)
    assert (after["billed"], after["flagged"], after["basis"]) == (True, OUT_VIDEO, "guess")
    billed_row = next(r for r in rows.values() if r["failure"] and r["failure"]["billed"])
    assert billed_row["cost"] == pytest.approx(billed_row["estimate"]) and billed_row["cost"] > 0
    done = sum(r["cost"] for r in rows.values() if r["state"] == "done")
    # The run's spent total and the journal's count the billed failure; the free one costs nothing.
    assert report["spent"] == pytest.approx(done + billed_row["cost"])
    shown = " ".join(invoke("status", series).stdout.split())
    assert f"spent in all: {done + billed_row['cost']:.2f} USD" in shown
    assert "failed after the render, billed (a guess" in shown
    planned = invoke("plan", series, "--json")
    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.stdout)["spent_so_far"] == {
        "USD": pytest.approx(done + billed_row["cost"])}
