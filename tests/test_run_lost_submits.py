"""Lost submits into at most one payment: list answers read from ``data`` or ``tasks`` (21.3), a
gateway without a list (21.2), a late submit (22.1), flaky queries (22.3), on the emulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_run_status_words import a_shot, provider_for, run, serve

from storyboard.emulator import EmulatorServer
from storyboard.errors import ListUnavailable
from storyboard.providers.protocol import list_items
from storyboard.run.journal import Journal
from storyboard.run.model import ShotEvent


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    yield from serve(monkeypatch)


def test_list_items_come_from_data_or_tasks_and_nothing_else() -> None:
    assert list_items({"data": [1]}, provider="p") == [1]
    assert list_items({"tasks": [2]}, provider="p") == [2]
    assert list_items({"x": 1}, provider="p", first=[3]) == [3]
    assert list_items({"data": [], "total": 0}, provider="p") == []
    for answer in ({"total": 0}, {"data": None}, {"data": "none"}, {}):
        with pytest.raises(ListUnavailable, match="no 'data' or 'tasks'"):
            list_items(answer, provider="p")


@pytest.mark.parametrize("name", ["dashscope", "freepik", "openai-video"])
def test_a_list_under_tasks_finds_the_lost_task(emu: EmulatorServer, tmp_path: Path,
                                                make_media: Any, name: str) -> None:
    shot = a_shot(tmp_path, make_media, f" sings via {name}")

    async def go() -> list[str]:
        provider = provider_for(emu, name, tmp_path)
        try:
            since = time.time()
            await provider.submit(shot, None)
            emu.script("list:items=tasks*4")
            return [state.task_id for state in await provider.find(shot, since)]
        finally:
            await provider.aclose()
    assert len(asyncio.run(go())) == 1


@pytest.mark.parametrize("name", ["dashscope", "freepik", "openai-video"])
def test_a_list_answer_without_a_list_is_unavailable(emu: EmulatorServer, tmp_path: Path,
                                                     make_media: Any, name: str) -> None:
    shot = a_shot(tmp_path, make_media, f" hums via {name}")

    async def go() -> None:
        provider = provider_for(emu, name, tmp_path)
        try:
            emu.script("list:items=none")
            await provider.find(shot, time.time() - 60)
        finally:
            await provider.aclose()
    with pytest.raises(ListUnavailable):
        asyncio.run(go())


@pytest.mark.parametrize("name", ["dashscope", "freepik"])
def test_a_lost_submit_with_an_unreadable_list_is_never_paid_twice(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, name: str) -> None:
    shot = a_shot(tmp_path, make_media)
    emu.script("submit:lost")
    emu.add_rate("list:items=none:1")
    events: list[ShotEvent] = []
    first = run(emu, name, tmp_path, shot, events, reconcile_delay=0.0, request_timeout=5.0)
    (only,) = first.shots
    assert (only.state, only.code) == ("pending", "AmbiguousTask"), only
    assert "nothing was submitted" not in only.message and "task adopt" in only.message
    assert emu.stats()["submissions"]["total"] == 1
    with Journal.open(tmp_path) as journal:
        (row,) = journal.attempts()
    assert row.state == "intent" and "may have created a task" in (row.note or "")
    emu.clear_faults()
    second = run(emu, name, tmp_path, shot, events, reconcile_delay=0.0)
    assert [s.state for s in second.shots] == ["done"] and second.submits == 0
    assert emu.stats()["submissions"]["total"] == 1
