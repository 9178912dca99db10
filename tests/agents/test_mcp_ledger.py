"""MCP tasks answered by any `storyboard mcp` through the team ledger: two servers, each over its
own clone of one series whose ``ledger:`` is one PostgreSQL database, driven by the official SDK's
client over stdio, against the paid DashScope emulator (whose counters say what was paid for).
Server A starts the tasks; server B, whose disk has none of them, answers their progress and
result from the ledger, and cancels one that A then stops, paying nothing twice."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from storyboard.emulator import EmulatorServer
from storyboard.run import read_status
from tests.fixtures.compiler import write_series
from tests.fixtures.mcp import error, session, submissions
from tests.fixtures.mcp_tasks import agent
from tests.fixtures.patience import LOADED
from tests.fixtures.two_shots import HEAD, TWO_SHOTS

if TYPE_CHECKING:  # the SDK's models, imported by the tests that use them (not to collect)
    from tests.fixtures.mcp_models import Detailed

LATE = TWO_SHOTS.replace("waves at", "bows to").replace("plays", "tunes")
WIRE = {"series": "wire", "provider": "dashscope", "max_cost": 5}
LATE_CALL = {**WIRE, "series": "late"}


def finished(task: Detailed) -> bool:
    return task.status != "working"


def clones(tmp_path: Path, make_media: Callable[..., Path], pg_url: str) -> tuple[Path, Path]:
    """Two series on one team ledger, and a second clone of both (another machine's)."""
    first = tmp_path / "a"
    for name, episodes in (("wire", TWO_SHOTS), ("late", LATE)):
        folder = write_series(first / name, make_media, episodes, head=HEAD)
        with (folder / "storyboard.yaml").open("a", encoding="utf-8") as f:
            f.write(f"ledger: {pg_url}\n")
    shutil.copytree(first, tmp_path / "b")
    return first, tmp_path / "b"


def test_another_server_answers_a_tasks_progress_and_result_and_cancels_it(
        tmp_path: Path, make_media: Callable[..., Path], pg_url: str) -> None:
    from mcp.shared.exceptions import MCPError

    from tests.fixtures.mcp_models import TaskHandle

    root_a, root_b = clones(tmp_path, make_media, pg_url)
    emulator = EmulatorServer(latency=0.5, plain_results=True, retry_after=0.1).start()
    try:
        async def submitted(count: int, journaled: Path | None = None) -> None:
            """Until ``count`` submissions reached the service (and ``journaled``'s journal
            holds its render's two task ids): a state, whatever the machine's load."""
            with anyio.fail_after(LOADED):
                while submissions(emulator) < count or (journaled is not None and len(
                        [r for r in read_status(journaled) if r.task_id]) < 2):
                    await anyio.sleep(0.1)

        async def run() -> dict[str, Any]:
            seen: dict[str, Any] = {}
            async with agent(root_a, ceiling=10, emulator=emulator) as a, \
                    agent(root_b, ceiling=0, emulator=emulator) as b:
                emulator.hold()  # its videos wait until B has seen the render at work
                first = await a.call("render", WIRE)
                assert isinstance(first, TaskHandle), first
                await submitted(2)
                seen["working"] = await b.get(first.task_id)  # B's disk has no such task
                emulator.let_go()
                seen["done_b"] = await b.until(first.task_id, finished)
                seen["done_a"] = await a.get(first.task_id)
                emulator.hold()  # the second render is still at work when it is cancelled
                second = await a.call("render", LATE_CALL)
                await submitted(4, root_a / "late")
                await b.cancel(second.task_id)
                seen["stopped_b"] = await b.until(second.task_id, finished)
                seen["stopped_a"] = await a.until(second.task_id, finished)
                emulator.let_go()
                with pytest.raises(MCPError) as unknown:
                    await b.get("0" * 32)
                seen["unknown"] = str(unknown.value)
            return seen

        seen = anyio.run(run)
        working, done_b, done_a = seen["working"], seen["done_b"], seen["done_a"]
        assert working.status == "working", working
        assert "of 2 shots done" in (working.status_message or "")
        assert working.meta is not None and working.meta["storyboard/progress"]["total"] == 2
        assert done_b.status == "completed" and done_b.result == done_a.result
        assert done_b.result["structuredContent"]["submits"] == 2
        assert "2 of 2 shots done" in (done_b.status_message or "")
        assert seen["stopped_b"].status == "cancelled" == seen["stopped_a"].status
        assert "Task not found" in seen["unknown"]
        assert not list(root_b.glob("**/mcp-tasks/*.json"))  # B answered from the ledger alone
        journaled = [r for r in read_status(root_a / "late") if r.task_id]
        assert len(journaled) == 2 and submissions(emulator) == 4
        _, resumed = session(root_a, ("render", LATE_CALL), ceiling=5, emulator=emulator)
        assert not resumed.is_error, resumed.content
        assert resumed.structured_content["ok"] and resumed.structured_content["submits"] == 0
        assert submissions(emulator) == 4 and emulator.stats()["submissions"]["duplicates"] == 0
    finally:
        emulator.stop()


def test_a_task_whose_server_died_reads_interrupted_on_another_server(
        tmp_path: Path, make_media: Callable[..., Path], pg_url: str) -> None:
    root_a, root_b = clones(tmp_path, make_media, pg_url)
    emulator = EmulatorServer(latency=0.5, plain_results=True, retry_after=0.1).start()
    emulator.hold()  # the render is at work when its server dies, whatever the load
    try:
        async def start() -> str:
            async with agent(root_a, ceiling=5, emulator=emulator) as a:
                handle = await a.call("render", WIRE)
                with anyio.fail_after(LOADED):
                    while submissions(emulator) < 2:
                        await anyio.sleep(0.1)
                return str(handle.task_id)

        task_id = anyio.run(start)  # A's server ends with its client

        async def later() -> Detailed:
            async with agent(root_b, ceiling=0, emulator=emulator) as b:
                return await b.get(task_id)

        gone = anyio.run(later)
        assert gone.status == "failed" and "interrupted" in (gone.status_message or ""), gone
    finally:
        emulator.stop()


def test_a_team_ledger_out_of_reach_refuses_the_task_before_it_exists(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    import socket
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    root_a, _ = clones(tmp_path, make_media, f"postgresql://storyboard@127.0.0.1:{port}/none")
    with EmulatorServer(latency=0.5, plain_results=True) as emulator:
        async def run() -> Any:
            async with agent(root_a, ceiling=5, emulator=emulator) as a:
                return await a.call("render", WIRE)

        refused = anyio.run(run)
        assert submissions(emulator) == 0
    said = error(refused)
    assert said.startswith("cannot open the team ledger postgresql://127.0.0.1:"), said
    assert "storyboard@" not in said  # the URL shown without its user part
    assert not list(root_a.glob("**/mcp-tasks/*.json"))
