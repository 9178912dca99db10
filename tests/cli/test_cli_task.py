"""``storyboard task adopt|forget``: a lost submit on a gateway that cannot list its tasks is never
paid twice by itself (21.2); a person settles it, journaled and in the ledger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from storyboard.cli import cli
from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.run import read_status
from storyboard.run.state.tasks.settle import ADOPTED, FORGOTTEN
from storyboard.run.team.ledger import default_ledger
from tests.fixtures.compiler import write_series
from tests.fixtures.gateway_runs import KEY, quick_render
from tests.fixtures.media_host import serve

ONE_SHOT = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves"}
"""


def head(base_url: str, media: str) -> str:
    return f"""\
storyboard: 1
title: Settle
defaults: {{resolution: 720P, ratio: "16:9", duration: 2}}
provider: {{name: roles, base_url: '{base_url}', media_base_url: '{media}',
           poll: [0.1]}}
output: {{loudness: null}}
characters:
  mia: {{image: media/mia.png}}
"""


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    monkeypatch.setenv(DIALECTS["roles"].key_env, KEY)
    monkeypatch.setenv("CI", "1")
    with EmulatorServer(latency=0.2, api_key=KEY, render=quick_render) as server:
        yield server


@pytest.fixture
def series(tmp_path: Path, make_media: Any, emu: EmulatorServer) -> Iterator[Path]:
    folder = tmp_path / "settle"
    folder.mkdir()
    with serve(folder) as origin:  # the gateway fetches media_base_url: it is served
        yield write_series(folder, make_media, ONE_SHOT,
                           head=head(emu.gateway_url("roles"), origin))


def invoke(*args: str | Path, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def render(series: Path) -> tuple[int, dict[str, Any]]:
    result = invoke("render", series, "--yes", "--json", "-o", series / "out")
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def shot_a(report: dict[str, Any]) -> dict[str, Any]:
    (only,) = report["shots"]
    assert only["key"].endswith("/a")
    return dict(only)


def paid(emu: EmulatorServer) -> int:
    total: int = emu.stats()["submissions"]["total"]
    return total


def lost_submit_stops_as_ambiguous(emu: EmulatorServer, series: Path) -> str:
    """A lost submit answer on ``roles`` (no task list): ambiguous, in this run and the next."""
    emu.script("submit:lost")
    for _ in range(2):
        code, report = render(series)
        shot = shot_a(report)
        assert code == 1 and (shot["state"], shot["code"]) == ("pending", "AmbiguousTask"), shot
        assert "has no task list" in shot["message"] and "task adopt" in shot["message"]
        assert "nothing was submitted" not in shot["message"]
        assert paid(emu) == 1
    (task_id,) = emu.service.table.tasks
    return str(task_id)


def test_adopt_settles_a_lost_submit_and_the_next_render_polls_that_task(
        emu: EmulatorServer, series: Path) -> None:
    task_id = lost_submit_stops_as_ambiguous(emu, series)
    done = invoke("task", "adopt", series, "a", task_id)
    assert done.exit_code == 0 and f"adopted task {task_id}" in done.stdout
    (row,) = read_status(series)
    assert (row.state, row.task_id, row.note) == ("submitted", task_id, ADOPTED)
    ledger = default_ledger()
    try:
        assert row.cache_key.startswith("roles@") and ledger.knows_task(row.cache_key, task_id)
    finally:
        ledger.close()
    code, report = render(series)
    assert code == 0 and shot_a(report)["state"] == "done" and paid(emu) == 1
    assert json.loads((series / "storyboard.lock").read_text())["shots"]["settle/ep01/a"][
        "task_id"] == task_id


def test_forget_accepts_a_second_payment(emu: EmulatorServer, series: Path) -> None:
    lost_submit_stops_as_ambiguous(emu, series)
    refused = invoke("task", "forget", series, "ep01/a", stdin="n\n")
    assert refused.exit_code == 1 and read_status(series)[0].state == "intent"
    done = invoke("task", "forget", series, "ep01/a", "--yes")
    assert done.exit_code == 0 and "submits it anew" in done.stdout
    (row,) = read_status(series)
    assert (row.state, row.note) == ("lost", FORGOTTEN)
    code, report = render(series)
    assert code == 0 and shot_a(report)["state"] == "done" and paid(emu) == 2


def test_settling_what_is_not_in_flight_is_a_clear_error(emu: EmulatorServer,
                                                         series: Path) -> None:
    missing = invoke("task", "adopt", series, "zz", "t-1")
    assert missing.exit_code == 1 and "zz: no attempt in flight" in missing.stderr
    task_id = lost_submit_stops_as_ambiguous(emu, series)
    assert invoke("task", "adopt", series, "a", task_id).exit_code == 0
    again = invoke("task", "adopt", series, "a", "another-task")
    assert again.exit_code == 1 and f"already has task {task_id}" in again.stderr
    assert invoke("task", "adopt", series, "a", " ").exit_code == 2


@pytest.mark.parametrize("task_id", ["\x1b]0;owned\x07", "t-1\x1b[2J", "t-1\nt-2", "", " t-1",
                                     "t" * 201])
def test_a_task_id_that_is_not_printable_is_refused_at_the_door(
        emu: EmulatorServer, series: Path, task_id: str) -> None:
    refused = invoke("task", "adopt", series, "a", task_id)
    assert refused.exit_code == 2 and "expected the task id as the provider shows it" in \
        refused.stderr
    assert "\x1b" not in refused.stderr and "\x07" not in refused.stderr
    assert read_status(series) == []
