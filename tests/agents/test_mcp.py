"""`storyboard mcp` driven by the official MCP SDK's own client over stdio, against the emulator.

The server is the real command (`python -m storyboard mcp ROOT`) in a child process; paid renders
go to the DashScope emulator on loopback, whose counters say what was paid for.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from storyboard.agents.tools import Budget, Tools
from storyboard.emulator import EmulatorServer
from storyboard.errors import StoryboardError
from tests.fixtures.compiler import write_series
from tests.fixtures.mcp import KEY, environment, error, session, submissions
from tests.fixtures.patience import LOADED
from tests.fixtures.two_shots import HEAD, TWO_SHOTS

Call = Callable[..., Any]


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    server = EmulatorServer(latency=0.3, plain_results=True, retry_after=0.1).start()
    yield server
    server.stop()


@pytest.fixture
def root(tmp_path: Path, make_media: Callable[..., Path]) -> Path:
    write_series(tmp_path / "series" / "wire", make_media, TWO_SHOTS, head=HEAD)
    return tmp_path / "series"


def data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    structured: dict[str, Any] = result.structured_content
    return structured


def test_the_tools_are_listed_and_a_broken_series_gets_located_problems(root: Path) -> None:
    broken = root / "wire" / "storyboard.yaml"
    broken.write_text(broken.read_text().replace("duration: 2}", "duration: 99}"))
    tools, checked = session(root, ("check", {"series": "wire"}))
    assert {t.name for t in tools.tools} >= {"check", "compile", "plan", "status", "sheet",
                                             "doctor", "note", "render"}
    answer = data(checked)
    assert answer["ok"] is False
    first = next(p for p in answer["problems"] if p["severity"] == "error")
    assert "99" in first["message"]
    lines = (root / first["file"]).read_text().splitlines()
    # at the line that says it: the defaults every shot inherits
    assert "duration: 99" in lines[first["line"] - 1] and first["column"] > 0


def test_plan_compile_and_status_are_free(root: Path, emulator: EmulatorServer) -> None:
    _, planned, compiled, status = session(
        root, ("plan", {"series": "wire", "provider": "dashscope"}),
        ("compile", {"series": "wire", "shot": "a"}), ("status", {"series": "wire"}),
        emulator=emulator)
    plan = data(planned)
    assert [s["status"] for s in plan["shots"]] == ["new", "new"] and plan["total_cost"] > 0
    assert data(compiled)["episodes"][0]["shots"][0]["request"]["model"] == "wan2.7-r2v"
    assert data(status)["attempts"] == []
    assert submissions(emulator) == 0


def test_a_paid_render_over_max_cost_is_refused_with_the_plan(root: Path,
                                                              emulator: EmulatorServer) -> None:
    _, refused = session(root, ("render", {"series": "wire", "provider": "dashscope",
                                           "max_cost": 0.05}), ceiling=100, emulator=emulator)
    text = error(refused)
    assert "refused, nothing was submitted" in text and "wire/ep01/a: new" in text
    assert submissions(emulator) == 0


def test_a_paid_render_needs_max_cost_and_the_ceiling_defaults_to_nothing(
        root: Path, emulator: EmulatorServer) -> None:
    _, without, at_zero = session(
        root, ("render", {"series": "wire", "provider": "dashscope"}),
        ("render", {"series": "wire", "provider": "dashscope", "max_cost": 50}),
        emulator=emulator)
    assert "needs max_cost" in error(without)
    assert "ceiling 0.00" in error(at_zero)
    assert submissions(emulator) == 0


def test_a_paid_render_within_its_limits_pays_each_shot_once(root: Path,
                                                             emulator: EmulatorServer) -> None:
    _, first, again, status = session(
        root, ("render", {"series": "wire", "provider": "dashscope", "max_cost": 5}),
        ("render", {"series": "wire", "provider": "dashscope", "max_cost": 5}),
        ("status", {"series": "wire"}), ceiling=5, emulator=emulator)
    report = data(first)
    assert report["ok"] and report["submits"] == 2 and report["spent"] > 0
    assert data(again)["submits"] == 0  # cached: nothing paid twice
    assert submissions(emulator) == 2 and emulator.stats()["submissions"]["duplicates"] == 0
    assert {a["state"] for a in data(status)["attempts"]} == {"done"}
    for path in root.rglob("*"):
        assert not path.is_file() or KEY.encode() not in path.read_bytes()


def test_the_ceiling_holds_across_calls(root: Path, emulator: EmulatorServer,
                                       make_media: Callable[..., Path]) -> None:
    """The first call spends the whole ceiling; the second, on another series, is refused."""
    write_series(root / "other", make_media, TWO_SHOTS.replace("waves", "bows"), head=HEAD)
    _, planned = session(root, ("plan", {"series": "wire", "provider": "dashscope"}),
                         emulator=emulator)
    cost = data(planned)["total_cost"]
    _, first, second = session(
        root, ("render", {"series": "wire", "provider": "dashscope", "max_cost": 5}),
        ("render", {"series": "other", "provider": "dashscope", "max_cost": 5}),
        ceiling=cost, emulator=emulator)
    assert data(first)["submits"] == 2
    assert "refused, nothing was submitted" in error(second)
    assert submissions(emulator) == 2


def test_paths_outside_the_root_are_refused(root: Path, tmp_path: Path) -> None:
    _, up, absolute, note = session(
        root, ("check", {"series": "../.."}), ("plan", {"series": str(tmp_path)}),
        ("note", {"series": "../elsewhere", "shot": "ep01/a", "text": "x"}))
    assert "leaves the series root" in error(up)
    assert "not an absolute one" in error(absolute)
    assert "leaves the series root" in error(note)
    assert not (tmp_path / "elsewhere").exists()


def test_local_drafts_and_notes_spend_nothing(root: Path, emulator: EmulatorServer) -> None:
    _, drafted, noted = session(
        root, ("render", {"series": "wire"}),
        ("note", {"series": "wire", "shot": "ep01/a", "text": "warmer light"}),
        emulator=emulator)
    assert data(drafted)["ok"] and data(drafted)["spent"] == 0
    assert data(noted)["text"] == "warmer light"
    assert "warmer light" in (root / "wire" / "review.yaml").read_text()
    assert submissions(emulator) == 0


def test_a_killed_server_resumed_pays_nothing_twice(root: Path, emulator: EmulatorServer) -> None:
    """SIGKILL while a paid render polls; a new server's same call resumes, never resubmits."""
    slow = EmulatorServer(latency=4.0, plain_results=True, retry_after=0.1).start()
    try:
        request = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "render", "arguments": {"series": "wire", "provider": "dashscope",
                                            "max_cost": 5}}}
        child = subprocess.Popen(
            [sys.executable, "-m", "storyboard", "mcp", str(root), "--budget-ceiling", "5"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=environment(slow), cwd=str(root))
        assert child.stdin is not None
        for message in (initialize(), {"jsonrpc": "2.0", "method": "notifications/initialized"},
                        request):
            child.stdin.write((json.dumps(message) + "\n").encode())
        child.stdin.flush()
        deadline = time.monotonic() + LOADED
        while submissions(slow) < 2:
            assert time.monotonic() < deadline, "the render never submitted"
            time.sleep(0.1)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=LOADED)
        _, resumed = session(root, ("render", {"series": "wire", "provider": "dashscope",
                                               "max_cost": 5}), ceiling=5, emulator=slow)
        assert data(resumed)["submits"] == 0
        assert submissions(slow) == 2 and slow.stats()["submissions"]["duplicates"] == 0
    finally:
        slow.stop()


def initialize() -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}}


def test_takes_pick_approve_and_a_paid_retake_under_its_limits(root: Path,
                                                                emulator: EmulatorServer) -> None:
    _, first, too_dear, retaken, listed, picked, approved = session(
        root, ("render", {"series": "wire", "provider": "dashscope", "max_cost": 5}),
        ("retake", {"series": "wire", "shot": "ep01/a", "count": 2, "provider": "dashscope",
                    "max_cost": 0.01}),
        ("retake", {"series": "wire", "shot": "ep01/a", "count": 1, "provider": "dashscope",
                    "max_cost": 5}),
        ("takes", {"series": "wire", "shot": "ep01/a"}),
        ("pick", {"series": "wire", "shot": "ep01/a", "take": 2}),
        ("approve", {"series": "wire", "shot": "ep01/a"}), ceiling=10, emulator=emulator)
    assert data(first)["submits"] == 2
    assert "nothing was submitted or written" in error(too_dear)
    assert data(retaken)["submits"] == 1
    assert sorted(row["take"] for row in data(listed)["takes"] if row["current"]) == [1, 2]
    assert data(picked)["picked"] == 2 and data(approved)["approved"] == 2
    assert submissions(emulator) == 3
    lock = json.loads((root / "wire" / "storyboard.lock").read_text())
    assert [(s["picked"], s["approved"], s["extra"]) for s in lock["takes"].values()] == [(2, 2, 1)]


def strict_session(root: Path, log: Path, calls: list[tuple[str, dict[str, Any]]],
                   reads: list[str]) -> tuple[Any, list[Any], list[str]]:
    """The tool list, each call's result and each resource read's error text; the server's
    stderr goes to ``log``."""
    from mcp.client.session import ClientSession  # the SDK, imported by the tests that use it
    from mcp.client.stdio import StdioServerParameters, stdio_client
    from mcp.shared.exceptions import MCPError

    params = StdioServerParameters(command=sys.executable, args=["-m", "storyboard", "mcp",
                                                                 str(root)],
                                   env=environment(None), cwd=str(root))

    async def run() -> tuple[Any, list[Any], list[str]]:
        with log.open("w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), \
                    ClientSession(read, write) as client:
                await client.initialize()
                listed = await client.list_tools()
                results = [await client.call_tool(name, arguments) for name, arguments in calls]
                failures = []
                for uri in reads:
                    with pytest.raises(MCPError) as failed:
                        await client.read_resource(uri)
                    failures.append(str(failed.value))
                return listed, results, failures
    return asyncio.run(run())


def test_unknown_arguments_unknown_shots_and_folders_that_are_not_series_are_refused(
        root: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    listed, results, _ = strict_session(root, log, [
        ("check", {"path": "wire"}),
        ("note", {"series": "wire", "shot": "ep01/aa", "text": "x"}),
        ("note", {"series": "wire", "shot": "ep01/a", "text": "x", "tkae": 2}),
        ("note", {"series": "nothing", "shot": "ep01/a", "text": "x"}),
        ("note", {"series": ".", "shot": "ep01/a", "text": "x"}),
        ("compile", {"series": "wire", "episode": "ep1"}),
        ("note", {"series": "wire", "shot": "ep01/a", "text": "x", "take": 9}),
        ("note", {"series": "wire", "shot": "a", "text": "by its id alone"})], [])
    assert all(t.input_schema["additionalProperties"] is False for t in listed.tools)
    misspelt, unknown_shot, misspelt_take, missing, not_series, episode, no_take, noted = results
    assert "ep01/a has no take 9; expected one of: 1" in error(no_take)
    assert "unknown argument 'path' (did you mean 'series'?)" in error(misspelt)
    assert "no shot 'ep01/aa' in this series (did you mean 'ep01/a'?)" in error(unknown_shot)
    assert "unknown argument 'tkae' (did you mean 'take'?)" in error(misspelt_take)
    assert "no such file or folder" in error(missing)
    assert "no storyboard.yaml in this folder" in error(not_series)
    assert "no episode 'ep1' in this series (did you mean 'ep01'?)" in error(episode)
    assert data(noted)["shot"] == "ep01/a"
    assert not (root / "review.yaml").exists() and not (root / "nothing").exists()
    assert [n["text"] for n in yaml.safe_load((root / "wire" / "review.yaml").read_text())[
        "notes"]] == ["by its id alone"]
    assert "Traceback" not in log.read_text()


def test_every_tool_and_resource_answers_an_error_never_a_traceback(root: Path,
                                                                   tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    (tmp_path / "secret.txt").write_text("the neighbour's secret")
    (root / "secret-link").symlink_to(tmp_path / "secret.txt")
    (root / "wire" / "review.yaml").write_text("notes: " + "[" * 3000 + "]" * 3000 + "\n")
    _, results, reads = strict_session(root, log, [
        ("check", {"series": "wi\x00re"}),
        ("note", {"series": "wire\x00", "shot": "ep01/a", "text": "x"}),
        ("sheet", {"series": "wire"}),
        ("status", {"series": "wire\x1b[2J"})],
        ["storyboard://files/secret-link", "storyboard://files/nothing.yaml",
         "storyboard://manifest", "storyboard://sheet", "storyboard://files/a%00b"])
    nul, nul_note, sheet, escape = (error(r) for r in results)
    assert "expected a path of printable characters" in nul and "\\x00" in nul
    assert "expected a path of printable characters" in nul_note
    assert "review.yaml:1:" in sheet and "nested more than 64 levels" in sheet
    assert "\x1b" not in escape and "\\x1b" in escape
    outside, missing, manifest, page, nul_read = reads
    assert "secret" not in outside.replace("secret-link", "")
    assert "leaves the series root" in outside and "is not a file of the series" in missing
    assert "no storyboard.yaml" in manifest and "no storyboard.yaml" in page
    assert "Unknown resource" in nul_read  # the SDK matches no template: an error, too
    assert "Traceback" not in log.read_text(), log.read_text()


def test_a_note_with_a_lone_surrogate_is_refused_and_the_next_note_works(root: Path) -> None:
    """Neither the SDK's client nor its stdio transport carries a lone surrogate (the client
    cannot encode it; the server's JSON reader drops the message), so the tool's own guard is
    called as the server calls it; then a later note and the sheet, through the SDK."""
    tools = Tools(root.resolve(), Budget(0.0))
    with pytest.raises(StoryboardError, match="lone surrogate"):
        tools.note("ep01/a", "half \ud800 a pair", "wire")
    assert not (root / "wire" / "review.yaml").exists()
    _, later, sheet = session(root, ("note", {"series": "wire", "shot": "ep01/a",
                                              "text": "later"}), ("sheet", {"series": "wire"}))
    assert data(later)["text"] == "later"
    assert "later" in Path(data(sheet)["html"]).read_text(encoding="utf-8")


def test_compile_answers_an_unknown_shot_among_its_episodes_shots(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    """With an episode, the compile tool takes that episode's shots alone and offers the nearest
    of them (``a`` is ep01's, not ep02's); without one, every shot."""
    write_series(tmp_path / "series" / "wire", make_media, OVER_PLAN, head=HEAD)
    tools = Tools((tmp_path / "series").resolve(), Budget(0.0))
    with pytest.raises(StoryboardError, match=r"no shot 'a' in episode ep02; expected a shot"):
        tools.compile("wire", episode="ep02", shot="a")
    with pytest.raises(StoryboardError, match=r"no shot 'cc' in episode ep02 \(did you mean 'c'"):
        tools.compile("wire", episode="ep02", shot="cc")
    with pytest.raises(StoryboardError, match=r"no shot 'bb' in this series \(did you mean 'b'"):
        tools.compile("wire", shot="bb")
    shots = tools.compile("wire", episode="ep02", shot="c")["episodes"][0]["shots"]
    assert [shot["id"] for shot in shots] == ["c"]


# ep01/a is priced 0 by the series (1080P; its list price USD 0.15/s) and ep01/b at its list price
# (720P, USD 0.10/s) with a reference video of 1.6 s, which the service bills as 2 s: planned at
# list price at 0.30 + 0.36, ep01 is counted at 0.30 + 0.40 = 0.70 (billed 0.40 at the series'
# prices). ep02/c, priced 0, counts 0.20, its list price.
OVER_PLAN = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves", resolution: 1080P}
    - {id: b, prompt: "@sam plays @guitar"}
- id: ep02
  shots:
    - {id: c, prompt: "@mia bows"}
"""


def test_a_call_over_its_plan_leaves_later_calls_what_the_ceiling_counted(
        tmp_path: Path, make_media: Callable[..., Path], emulator: EmulatorServer) -> None:
    """Ceiling 0.88: ep01 counts 0.70 (each task at no less than its list price), so 0.18 is
    left and ep02 (0.20) is refused; the ceiling is never spent past at list prices."""
    series = write_series(tmp_path / "series" / "over", make_media, OVER_PLAN,
                          head=HEAD.replace("poll: [0.2]}", "poll: [0.2], "
                                            "prices: {720P: 0.1, 1080P: 0}}"))
    make_media("video", series / "media" / "sam.mp4", width=320, height=240, seconds=1.6)
    call = {"series": "over", "provider": "dashscope", "max_cost": 5}
    _, first, second = session(tmp_path / "series", ("render", {**call, "episode": "ep01"}),
                               ("render", {**call, "episode": "ep02"}), ceiling=0.88,
                               emulator=emulator)
    assert data(first)["submits"] == 2 and data(first)["spent"] == pytest.approx(0.4)
    assert "refused, nothing was submitted" in error(second)
    assert "0.70 is spent" in error(second)
    assert submissions(emulator) == 2
