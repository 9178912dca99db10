"""The command line's shared conventions: ``--json`` on every command that reports (a failure is
JSON too), one global ``--verbose`` that shows each request to a provider and its answer with keys
masked, progress lines from the long review commands, and ``export --format otioz``.

Real processes and servers only: the CLI in-process (click's runner) or as ``python -m storyboard``,
the emulator on loopback, the rendered example series.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest

from storyboard.emulator import EmulatorServer
from tests.fixtures.cli import invoke
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import HEAD

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-verbose-secret-4711"
ONE_SHOT = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves at @sam"}
"""


def as_json(*args: str | Path) -> tuple[int, Any]:
    """A ``--json`` run: its exit code and what stdout holds, which must be one JSON document."""
    result = invoke(*args, "--json")
    return result.exit_code, json.loads(result.stdout)


def storyboard(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "storyboard", *map(str, args)],
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture
def copied(rendered_example: tuple[Path, Path], tmp_path: Path) -> Path:
    """A copy of the rendered example (its cache and lock too), free to change."""
    series = tmp_path / "coffee-shop"
    shutil.copytree(rendered_example[0], series, symlinks=True)
    return series


# --- --json ---------------------------------------------------------------------------------------


def test_init_json_names_what_it_wrote(tmp_path: Path) -> None:
    code, data = as_json("init", tmp_path / "my-series")
    assert code == 0
    assert data["episodes"] == 1 and data["shots"] == 2 and data["warnings"] == []
    assert str(tmp_path / "my-series" / "storyboard.yaml") in data["files"]
    assert all(Path(f).is_file() for f in data["files"])


def test_sheet_and_export_json_and_their_progress(rendered_example: tuple[Path, Path],
                                                  tmp_path: Path) -> None:
    series, episodes = rendered_example
    code, sheet = as_json("sheet", series, "--episodes", episodes, "-o", tmp_path / "s.html")
    assert code == 0 and sheet["html"] == str(tmp_path / "s.html") and sheet["shots"] == 4
    assert sheet["png"] is None and sheet["problems"] == []
    code, export = as_json("export", series, "-o", tmp_path / "tl", "--format", "fcpxml")
    assert code == 0 and [f["episode"] for f in export["files"]] == ["ep01", "ep02"]
    assert all(Path(f["path"]).is_file() and f["duration"] > 0 for f in export["files"])
    assert any("transitions" in w for w in export["warnings"])
    shown = invoke("sheet", series, "--episodes", episodes, "-o", tmp_path / "p.html", "--png")
    assert shown.exit_code == 0
    assert "... ep01: stills of 2 shot(s)\n" in shown.stderr
    assert "... contact sheet " in shown.stderr and "... planning" in shown.stderr
    steps = invoke("export", series, "-o", tmp_path / "tl2")
    assert "... ep02: laying out 2 shot(s) and the cards\n" in steps.stderr
    assert f"... writing {tmp_path / 'tl2' / 'ep01.otio'}\n" in steps.stderr
    quiet = invoke("export", series, "-o", tmp_path / "tl3", "-q")
    assert "..." not in quiet.stderr and quiet.stdout.startswith("wrote ")


def test_pick_approve_and_cache_json(copied: Path) -> None:
    code, picked = as_json("pick", copied, "ep01/ballad", "1")
    assert code == 0 and picked == {"shot": "ep01/ballad", "picked": 1, "used_by": [],
                                    "follow": ["ep01/reply"]}  # it starts from ballad's last frame
    code, approved = as_json("approve", copied, "ep01/ballad")
    assert code == 0 and approved == {"shot": "ep01/ballad", "approved": 1}
    code, usage = as_json("cache", copied)
    assert code == 0 and usage["total"]["files"] == sum(k["files"] for k in usage["kinds"]) > 0
    code, pruned = as_json("cache", "prune", copied, "--older-than", "1000d")
    assert code == 0 and pruned["ok"] is True and pruned["removed"] == 0


def test_cancel_with_nothing_pending_is_an_empty_list(copied: Path) -> None:
    assert as_json("cancel", copied) == (0, [])


def test_breakdown_dry_run_json_lists_each_call_and_the_ceiling(tmp_path: Path) -> None:
    story = tmp_path / "story.md"
    story.write_text("# One\n\nAda opens the workshop door. \"Hello,\" she says.\n\n"
                     "# Two\n\nThe machine hums.\n", encoding="utf-8")
    code, data = as_json("breakdown", story, tmp_path / "series", "--dry-run")
    assert code == 0 and data["dry_run"] is True and data["sent"] == 0
    assert data["calls"] and {"stage", "chapter", "input_tokens", "ceiling"} <= set(data["calls"][0])
    assert data["ceiling"] == pytest.approx(sum(c["ceiling"] for c in data["calls"]))
    assert not (tmp_path / "series").exists()


@pytest.mark.parametrize("args", [
    ["plan", "{tmp}/nowhere"],
    ["pick", "{series}", "ep01/nope", "1"],
    ["task", "adopt", "{series}", "ep01/ballad", "task-1"],
    ["export", "{tmp}/nowhere", "--format", "otioz"],
    ["init", "{series}"],  # not empty
])
def test_a_failing_json_run_prints_an_error_object(args: list[str], copied: Path,
                                                   tmp_path: Path) -> None:
    words = [a.replace("{tmp}", str(tmp_path)).replace("{series}", str(copied)) for a in args]
    result = invoke(*words, "--json")
    assert result.exit_code != 0
    data = json.loads(result.stdout)
    assert data["exit_code"] == result.exit_code and data["error"]
    assert "error" in result.stderr  # the person still reads it


def test_a_usage_error_under_json_is_json_too(tmp_path: Path) -> None:
    done = storyboard("export", tmp_path, "--format", "premiere", "--json")
    assert done.returncode == 2
    data = json.loads(done.stdout)
    assert data["exit_code"] == 2 and "premiere" in data["error"]
    assert "Traceback" not in done.stderr


def test_a_broken_series_under_json_lists_its_problems(tmp_path: Path) -> None:
    (tmp_path / "storyboard.yaml").write_text("storyboard: 1\ntitle: [\n", encoding="utf-8")
    result = invoke("plan", tmp_path, "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["problems"][0]["file"].endswith("storyboard.yaml")
    assert data["problems"][0]["line"] >= 1


# --- export --format otioz --------------------------------------------------------------------------


def test_otioz_bundles_the_timeline_with_its_media(rendered_example: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    series, _ = rendered_example
    result = invoke("export", series, "--format", "otioz", "-o", tmp_path, "--episode", "ep01")
    assert result.exit_code == 0, result.output
    bundle = tmp_path / "ep01.otioz"
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
    media = sorted(n for n in names if n.startswith("media/"))
    (tmp_path / "x").mkdir()
    timeline = otio.adapters.read_from_file(str(bundle), extract_to_directory=str(tmp_path / "x"))
    clips = list(timeline.find_clips())
    urls = {c.media_reference.target_url for c in clips
            if isinstance(c.media_reference, otio.schema.ExternalReference)}
    assert media and urls and all(u.startswith("media/") for u in urls)
    assert urls <= set(media)
    assert all((tmp_path / "x" / u).stat().st_size > 0 for u in urls)
    again = invoke("export", series, "--format", "otioz", "-o", tmp_path, "--episode", "ep01")
    assert again.exit_code == 0  # an earlier bundle is replaced, not refused
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --- --verbose ------------------------------------------------------------------------------------


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    monkeypatch.setenv("CI", "1")
    server = EmulatorServer(latency=0.2, plain_results=True).start()
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", server.base_url)
    yield server
    server.stop()


def test_verbose_shows_each_request_and_answer_with_the_key_masked(
        emulator: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    series = write_series(tmp_path / "wire", make_media, ONE_SHOT, head=HEAD)
    result = invoke("--verbose", "render", series, "--provider", "dashscope", "--yes", "--json")
    assert result.exit_code == 0, result.output
    said = result.stderr
    assert KEY not in said and KEY not in result.stdout
    assert "> POST " in said and "> authorization: bearer ***" in said.lower()
    assert '"model":' in said and "waves at" in said  # the body as it went
    assert "< 200 POST " in said and '"task_id"' in said
    assert "< 200 GET " in said  # the polls and their answers
    assert '"signature":"***"' in said  # the upload policy's signature, masked too
    assert json.loads(result.stdout)["ok"] is True  # stdout stays the JSON report
    quiet = invoke("render", series, "--provider", "dashscope", "--yes", "--json")
    assert "> POST" not in quiet.stderr  # without --verbose, nothing of the wire


def test_masking_covers_headers_queries_fields_and_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from storyboard.providers.trace import masked
    monkeypatch.setenv("SOME_VENDOR_TOKEN", "tok-abcdefgh-1234")
    text = ('GET https://h/x.mp4?OSSAccessKeyId=AK1&Expires=9&Signature=s1g "api_key": "v4l" '
            "and tok-abcdefgh-1234 https://user:pw@h/")
    out = masked(text)
    assert "AK1" not in out and "s1g" not in out and "v4l" not in out and "pw@" not in out
    assert "tok-abcdefgh-1234" not in out and "Expires=9" in out


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "soon"])
def test_emulate_refuses_a_latency_no_clock_reaches(value: str) -> None:
    result = invoke("emulate", "--latency", value)
    assert result.exit_code == 2 and f"{value!r} is not a number of seconds" in result.output, \
        result.output
