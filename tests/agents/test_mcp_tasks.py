"""`storyboard mcp` as MCP tasks and behind a person's consent, driven by the official SDK's client
over stdio (2026-07-28, the Tasks extension declared; or a handshake client that can elicit),
against the DashScope emulator, whose counters say what was paid for."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from storyboard.emulator import EmulatorServer
from tests.fixtures.compiler import write_series
from tests.fixtures.mcp import error, session, submissions
from tests.fixtures.mcp_tasks import agent
from tests.fixtures.patience import LOADED
from tests.fixtures.two_shots import HEAD, TWO_SHOTS

if TYPE_CHECKING:  # the SDK's models, imported by the tests that use them (not to collect)
    from tests.fixtures.mcp_models import TaskHandle

PAID = {"series": "wire", "provider": "dashscope"}


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(latency=1.0, plain_results=True, retry_after=0.1).start()
    yield server
    server.stop()


@pytest.fixture
def root(tmp_path: Path, make_media: Callable[..., Path]) -> Path:
    write_series(tmp_path / "series" / "wire", make_media, TWO_SHOTS, head=HEAD)
    return tmp_path / "series"


def finished(task: Any) -> bool:
    return bool(task.status != "working")


async def paid_render_under_way(client: Any, slow: EmulatorServer) -> TaskHandle:
    """A paid render started as a task, once both its shots are submitted, still rendering
    whatever the machine's load: the emulator holds its videos until ``slow.let_go()``."""
    slow.hold()
    handle: TaskHandle = await client.call("render", {**PAID, "max_cost": 5})
    with anyio.fail_after(LOADED):
        while submissions(slow) < 2:
            await anyio.sleep(0.1)
    return handle


def test_a_render_is_a_task_with_progress_and_its_result_outlives_the_server(
        root: Path, emulator: EmulatorServer) -> None:
    from mcp.shared.exceptions import MCPError

    from tests.fixtures.mcp_models import TaskHandle

    async def first() -> tuple[str, Any, list[str], list[dict[str, Any]]]:
        async with agent(root, ceiling=5, emulator=emulator) as client:
            handle = await client.call("render", {**PAID, "max_cost": 5})
            assert isinstance(handle, TaskHandle) and handle.status == "working"
            seen: list[str] = []

            def noted(task: Any) -> bool:
                seen.append(task.status_message or "")
                return finished(task)
            done = await client.until(handle.task_id, noted)
            await anyio.sleep(1.5)  # the last notification
            return handle.task_id, done, seen, client.heard

    task_id, done, seen, heard = anyio.run(first)
    assert done.status == "completed" and done.result is not None
    assert done.result["structuredContent"]["submits"] == 2
    assert any("of 2 shots done" in line for line in seen)
    assert "2 of 2 shots done" in seen[-1] and "USD spent" in seen[-1]
    assert heard and heard[-1]["taskId"] == task_id and heard[-1]["status"] == "completed"
    assert submissions(emulator) == 2
    record = next(root.glob(f"wire/.storyboard/mcp-tasks/{task_id}.json"))
    assert json.loads(record.read_text())["tool"] == "render"

    async def later() -> tuple[Any, str]:
        async with agent(root, ceiling=0, emulator=emulator) as client:
            again = await client.get(task_id)
            with pytest.raises(MCPError) as unknown:
                await client.get("0" * 32)
            return again, str(unknown.value)

    again, unknown = anyio.run(later)  # a new server process answers for the old task
    assert again.status == "completed" and again.result == done.result
    assert "Task not found" in unknown


def test_a_cancelled_task_stops_and_a_later_render_pays_nothing_twice(root: Path) -> None:
    slow = EmulatorServer(latency=0.5, plain_results=True, retry_after=0.1).start()
    try:
        async def run() -> Any:
            async with agent(root, ceiling=5, emulator=slow) as client:
                handle = await paid_render_under_way(client, slow)
                await client.cancel(handle.task_id)
                return await client.until(handle.task_id, finished)

        stopped = anyio.run(run)
        assert stopped.status == "cancelled"
        assert submissions(slow) == 2
        slow.let_go()  # the videos paid for end: the next render collects them
        _, resumed = session(root, ("render", {**PAID, "max_cost": 5}), ceiling=5, emulator=slow)
        assert resumed.structured_content["ok"] and resumed.structured_content["submits"] == 0
        assert submissions(slow) == 2 and slow.stats()["submissions"]["duplicates"] == 0
    finally:
        slow.stop()


def test_a_task_without_anyone_to_ask_needs_max_cost_before_it_exists(
        root: Path, emulator: EmulatorServer) -> None:
    async def run() -> tuple[Any, Any, Any]:
        async with agent(root, ceiling=5, emulator=emulator) as client:
            return (await client.call("render", PAID),
                    await client.call("render", {**PAID, "max_cost": 0.01}),
                    await client.call("render", {**PAID, "max_cost": 5, "path": "x"}))

    without, too_dear, misspelt = anyio.run(run)
    assert "needs max_cost" in error(without)
    assert "refused, nothing was submitted" in error(too_dear)
    assert "unknown argument 'path'" in error(misspelt)
    assert not list(root.glob("**/mcp-tasks/*.json")) and submissions(emulator) == 0


def test_a_2026_client_without_the_extension_gets_the_blocking_tool(
        root: Path, emulator: EmulatorServer) -> None:
    from mcp_types import CallToolResult

    async def run() -> Any:
        async with agent(root, ceiling=5, emulator=emulator, tasks=False) as client:
            return await client.call("render", {**PAID, "max_cost": 5})

    result = anyio.run(run)
    assert isinstance(result, CallToolResult) and result.structured_content is not None
    assert result.structured_content["submits"] == 2


def test_consent_asked_by_elicitation_decline_spends_nothing_accept_spends_the_quote(
        root: Path, emulator: EmulatorServer) -> None:
    """A handshake client that can elicit: the person is asked, with the price; no max_cost."""
    from tests.fixtures.mcp_consent import legacy_calls
    _, estimate = session(root, ("estimate", PAID), ceiling=5, emulator=emulator)
    quote = estimate.structured_content
    assert quote["shots"] == 2 and quote["cost"] > 0 and submissions(emulator) == 0
    declined, asked = legacy_calls(root, emulator, "decline", ("render", PAID))
    assert "the person declined" in error(declined[0]) and submissions(emulator) == 0
    assert f"{quote['cost']:.2f} USD with dashscope: 2 shot(s)" in asked[0]
    capped, unasked = legacy_calls(root, emulator, "accept", ("render", {**PAID, "max_cost": 0}),
                                   ("retake", {**PAID, "shot": "ep01/a", "max_cost": 0.001}))
    assert all("refused, nothing was submitted" in error(r) for r in capped)
    assert unasked == [] and submissions(emulator) == 0  # over the call's limit: never asked
    accepted, _ = legacy_calls(root, emulator, "accept", ("render", PAID))
    assert accepted[0].structured_content["submits"] == 2 and submissions(emulator) == 2


def test_consent_on_a_2026_connection_is_asked_before_the_task_exists(
        root: Path, emulator: EmulatorServer) -> None:
    from mcp_types import InputRequiredResult

    from tests.fixtures.mcp_models import TaskHandle

    async def run(answer: Any) -> tuple[Any, Any, list[str]]:
        async with agent(root, ceiling=5, emulator=emulator, consent=answer) as client:
            pending = await client.call("render", PAID)
            assert isinstance(pending, InputRequiredResult)
            final = await client.call("render", PAID, await client.answer(pending))
            if isinstance(final, TaskHandle):
                final = await client.until(final.task_id, finished)
            return pending, final, client.asked

    _, declined, asked = anyio.run(run, "decline")
    assert "the person declined" in error(declined) and "2 shot(s) of wire" in asked[0]
    assert submissions(emulator) == 0 and not list(root.glob("**/mcp-tasks/*.json"))
    _, done, _ = anyio.run(run, "accept")
    assert done.status == "completed" and done.result["structuredContent"]["submits"] == 2
    assert submissions(emulator) == 2


def test_the_boards_pass_is_a_task_and_the_render_after_it_waits_on_the_boards(
        tmp_path: Path, make_media: Callable[..., Path], emulator: EmulatorServer) -> None:
    from tests.fixtures.boards import BOARD_IMAGES, CAST_IMAGES, write
    write(tmp_path / "series" / "cafe", make_media)
    cafe = {"series": "cafe", "provider": "dashscope", "max_cost": 5}

    async def run() -> tuple[Any, Any]:
        async with agent(tmp_path / "series", ceiling=10, emulator=emulator) as client:
            boards = await client.call("render", {**cafe, "boards": True})
            drawn = await client.until(boards.task_id, finished)
            video = await client.call("render", cafe)
            return drawn, await client.until(video.task_id, finished)

    drawn, video = anyio.run(run)
    assert drawn.status == "completed" and not drawn.result["isError"], drawn.result
    assert drawn.result["structuredContent"]["submits"] == CAST_IMAGES + BOARD_IMAGES
    assert emulator.stats()["cast"]["images"] == CAST_IMAGES + BOARD_IMAGES
    assert video.status == "completed", video
    assert "2 waiting on boards" in (video.status_message or ""), video.status_message
    assert submissions(emulator) == 1  # the shot with its own still; the two gated: nothing


def test_a_task_whose_server_was_killed_is_failed_and_resumed_by_the_next_call(
        root: Path) -> None:
    """The client goes away mid-render (its SDK ends the server); a new server says the task
    was interrupted, and the same render resumes the journaled tasks, paying nothing twice."""
    slow = EmulatorServer(latency=0.5, plain_results=True, retry_after=0.1).start()
    try:
        async def start() -> str:
            async with agent(root, ceiling=5, emulator=slow) as client:
                handle = await paid_render_under_way(client, slow)
                return str(handle.task_id)

        task_id = anyio.run(start)

        async def later() -> Any:
            async with agent(root, ceiling=5, emulator=slow) as client:
                return await client.get(task_id)

        gone = anyio.run(later)
        assert gone.status == "failed" and "interrupted" in (gone.status_message or ""), gone
        slow.let_go()
        _, resumed = session(root, ("render", {**PAID, "max_cost": 5}), ceiling=5, emulator=slow)
        assert not resumed.is_error, resumed.content
        assert resumed.structured_content["submits"] == 0
        assert submissions(slow) == 2 and slow.stats()["submissions"]["duplicates"] == 0
    finally:
        slow.stop()


def test_a_retake_is_a_task_too_free_or_paid(root: Path, emulator: EmulatorServer) -> None:
    from tests.fixtures.mcp_models import TaskHandle

    async def run() -> list[Any]:
        async with agent(root, ceiling=5, emulator=emulator) as client:
            ended = []
            for name, arguments in (("render", {**PAID, "max_cost": 5}),
                                    ("retake", {"series": "wire", "shot": "ep01/a"}),
                                    ("retake", {**PAID, "shot": "ep01/a", "max_cost": 5})):
                handle = await client.call(name, arguments)
                assert isinstance(handle, TaskHandle), handle
                ended.append(await client.until(handle.task_id, finished))
            return ended

    rendered, drafted, retaken = anyio.run(run)
    assert [t.status for t in (rendered, drafted, retaken)] == ["completed"] * 3
    assert drafted.result["structuredContent"]["spent"] == 0
    assert retaken.result["structuredContent"]["submits"] == 1
    assert "1 of 1 shots done" in (retaken.status_message or "")
    assert submissions(emulator) == 3


def test_a_breakdown_is_a_task_behind_consent(tmp_path: Path, chat_emulator: EmulatorServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The story's endpoint comes from the series' breakdown: block (a person's); the person is
    asked the price; a decline asks the model nothing, an accept writes the series as a task."""
    from mcp_types import InputRequiredResult

    from tests.fixtures.breakdown import KEY_ENV, chat_base, requests, story
    from tests.fixtures.mcp_models import TaskHandle
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")
    root = tmp_path / "root"
    (root / "light").mkdir(parents=True)
    source = story(root)
    (root / "light" / "storyboard.yaml").write_text(
        f"storyboard: 1\nbreakdown:\n  base_url: {chat_base(chat_emulator)}\n"
        f"  key_env: {KEY_ENV}\n", encoding="utf-8")
    asked_for = {"source": source.name, "series": "light"}
    before = requests(chat_emulator)
    _, without, small = session(root, ("breakdown", asked_for),
                                ("breakdown", {**asked_for, "max_cost": 0.001}), ceiling=5)
    assert "needs max_cost" in error(without) and "nothing was asked" in error(small)

    async def run(answer: Any) -> tuple[Any, list[str]]:
        async with agent(root, ceiling=5, emulator=None, consent=answer) as client:
            pending = await client.call("breakdown", asked_for)
            assert isinstance(pending, InputRequiredResult), pending
            final = await client.call("breakdown", asked_for, await client.answer(pending))
            if isinstance(final, TaskHandle):
                final = await client.until(final.task_id, finished)
            return final, client.asked

    declined, asked = anyio.run(run, "decline")
    assert "the person declined" in error(declined) and requests(chat_emulator) == before
    assert f"the key in {KEY_ENV}" in asked[0] and "call(s) to break the story down" in asked[0]
    done, _ = anyio.run(run, "accept")
    assert done.status == "completed" and not done.result["isError"], done.result
    report = done.result["structuredContent"]
    assert report["ok"] and report["calls"] == requests(chat_emulator) - before > 0
    assert (root / "light" / "episodes").is_dir()
