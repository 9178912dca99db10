"""A task belongs to the endpoint and key that created it (22.2): two emulated gateways of one
dialect, one shot; gateway B never polls, restores or waits for gateway A's task."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.providers.gateway.provider import GatewayProvider
from storyboard.providers.protocol import ApiKey, endpoint_key
from storyboard.run import render
from storyboard.run.state.tasks.journal import Journal, journal_path
from storyboard.run.trip.model import RunOptions, RunResult, ShotEvent, Wiring
from tests.fixtures.gateway_runs import KEY, a_shot, quick_render


@pytest.fixture
def two(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[EmulatorServer, EmulatorServer]]:
    monkeypatch.setenv(DIALECTS["freepik"].key_env, KEY)
    with EmulatorServer(latency=0.2, api_key=KEY, render=quick_render) as a, \
            EmulatorServer(latency=0.2, api_key=KEY, render=quick_render) as b:
        yield a, b


def render_at(emu: EmulatorServer, root: Path, shot: Any, events: list[ShotEvent],
              **options: Any) -> RunResult:
    async def go() -> RunResult:
        provider = GatewayProvider.from_settings(
            DIALECTS["freepik"], {"base_url": emu.gateway_url("freepik"),
                                  "media_base_url": "https://cdn.example.com/s"}, root)
        try:
            return await render([shot], provider, RunOptions(poll_schedule=(0.1,), **options),
                                Wiring(series_dir=root, on_event=events.append))
        finally:
            await provider.aclose()
    return asyncio.run(go())


def test_the_endpoint_key_names_where_and_whose_but_never_the_key() -> None:
    one = endpoint_key("freepik", "https://user:pw@gw.example:8443/v1/", ApiKey("sk-secret-1"))
    assert one.startswith("freepik@https://gw.example:8443/v1#k") and "secret" not in one
    assert "user" not in one and "pw" not in one
    assert one != endpoint_key("freepik", "https://gw.example:8443/v1", ApiKey("sk-secret-2"))
    assert one != endpoint_key("freepik", "https://other.example/v1", ApiKey("sk-secret-1"))


@pytest.mark.parametrize("lose", ["nothing", "journal"])
def test_a_shot_at_gateway_b_never_waits_for_gateway_a_task(
        two: tuple[EmulatorServer, EmulatorServer], tmp_path: Path, make_media: Any,
        lose: str) -> None:
    a, b = two
    shot = a_shot(tmp_path, make_media)
    a.script("task:stuck")
    events: list[ShotEvent] = []
    first = render_at(a, tmp_path, shot, events, max_wait=0.5)
    (stuck,) = first.shots
    assert stuck.state == "pending" and stuck.task_id
    if lose == "journal":  # only the per-user ledger remembers A's task now
        journal_path(tmp_path).unlink()
    second = render_at(b, tmp_path, shot, events)
    (done,) = second.shots
    assert done.state == "done" and done.task_id != stuck.task_id, done
    assert b.stats()["submissions"]["total"] == 1 and b.stats()["requests"].get("query")
    assert b.service.table.get(stuck.task_id) is None  # B was never asked about A's task
    with Journal.open(tmp_path) as journal:
        rows = journal.attempts()
    mine = [r for r in rows if r.task_id == done.task_id]
    assert mine and mine[0].cache_key.startswith("freepik@") and b.origin in mine[0].cache_key
    if lose == "nothing":  # A's task stays in flight, A's own; the render said so
        theirs = [r for r in rows if r.task_id == stuck.task_id]
        assert theirs[0].state in ("submitted", "running") and a.origin in theirs[0].cache_key
        assert any(stuck.task_id in e.message and "in flight at" in e.message for e in events)
