"""Lost submits into at most one payment: list answers read from ``data`` or ``tasks`` (21.3), a
gateway without a list (21.2), a late submit (22.1), flaky queries (22.3), on the emulator."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.errors import ListUnavailable
from storyboard.language.request import CompiledShot
from storyboard.providers.base import Provider
from storyboard.providers.dashscope.provider import DashScopeProvider
from storyboard.providers.dashscope.settings import DashScopeSettings
from storyboard.providers.gateway.provider import GatewayProvider
from storyboard.providers.protocol import list_items
from storyboard.run import render
from storyboard.run.state.tasks.journal import Journal
from storyboard.run.trip.model import RunOptions, RunResult, ShotEvent, Wiring
from tests.fixtures.gateway_runs import a_shot, provider_for, render_all, run, serve


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


@pytest.mark.parametrize("name", ["dashscope", "freepik", "openai-video"])
def test_a_submit_answered_without_a_task_id_is_a_lost_answer_paid_once(
        emu: EmulatorServer, tmp_path: Path, make_media: Any, name: str) -> None:
    """54.5: an HTTP 200 submit answer with no task id and a code nobody documents is no
    refusal: its task is looked for in the list and adopted, never submitted again."""
    shot = a_shot(tmp_path, make_media, f" waves, no id via {name}")
    emu.script("submit:envelope=unknown")
    result = run(emu, name, tmp_path, shot, [], reconcile_delay=0.0, request_timeout=5.0)
    assert [s.state for s in result.shots] == ["done"], result.shots
    assert result.submits == 1 and emu.stats()["submissions"]["total"] == 1


# -- 22.1: a submit delivered late -----------------------------------------------------------


class SlowProxy:
    """A TCP proxy on loopback in front of the emulator that holds the first request sent to
    ``path`` for ``hold`` seconds (past the client's timeout), then delivers it (or, with
    ``deliver=False``, never does). Everything else passes at once."""

    def __init__(self, upstream_port: int, path: str, hold: float, deliver: bool = True) -> None:
        self.upstream_port, self.path, self.hold, self.deliver = upstream_port, path, hold, deliver
        self.held = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> SlowProxy:
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self.connection, "127.0.0.1", 0), self.loop).result()
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    async def shutdown(self) -> None:
        self.server.close()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def connection(self, client_r: asyncio.StreamReader,
                         client_w: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        back = asyncio.ensure_future(self.pipe(up_r, client_w))
        try:
            while chunk := await client_r.read(65536):
                if self.held == 0 and chunk.startswith(b"POST " + self.path.encode()):
                    self.held += 1
                    await asyncio.sleep(self.hold)  # the client gives up meanwhile
                    if not self.deliver:
                        break
                up_w.write(chunk)
                await up_w.drain()
            await asyncio.sleep(self.hold)  # let the service answer a late request in full
        except OSError:
            pass
        finally:
            back.cancel()
            await asyncio.gather(back, return_exceptions=True)
            up_w.close()
            client_w.close()

    @staticmethod
    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except OSError:
            pass


def proxied(emu: EmulatorServer, proxy: SlowProxy, name: str) -> str:
    base = emu.base_url if name == "dashscope" else emu.gateway_url(name)
    return base.replace(f":{emu.port}", f":{proxy.port}")


def submit_path(emu: EmulatorServer, name: str) -> str:
    base = emu.base_url if name == "dashscope" else emu.gateway_url(name)
    return base.split(str(emu.port), 1)[1] + DIALECTS[name].protocol.submit_path


def render_through(base_url: str, name: str, root: Path, shot: CompiledShot,
                   **options: Any) -> RunResult:
    async def go() -> RunResult:
        if name == "dashscope":
            provider: Provider = DashScopeProvider(DashScopeSettings(base_url=base_url))
        else:
            provider = GatewayProvider.from_settings(
                DIALECTS[name], {"base_url": base_url,
                                 "media_base_url": "https://cdn.example.com/s"}, root)
        try:
            return await render([shot], provider, RunOptions(
                poll_schedule=(0.1,), backoff_cap=0.4, request_timeout=1.0,
                reconcile_delay=0.2, **options), Wiring(series_dir=root))
        finally:
            await provider.aclose()
    return asyncio.run(go())


@pytest.mark.parametrize("name", ["dashscope", "freepik", "openai-video"])
def test_a_submit_delivered_late_is_paid_once(emu: EmulatorServer, tmp_path: Path,
                                              make_media: Any, name: str) -> None:
    shot = a_shot(tmp_path, make_media)
    with SlowProxy(emu.port, submit_path(emu, name), hold=2.5) as proxy:
        result = render_through(proxied(emu, proxy, name), name, tmp_path, shot,
                                late_window=20.0)
    assert proxy.held == 1
    assert [s.state for s in result.shots] == ["done"], result.shots
    assert emu.stats()["submissions"]["total"] == 1 and result.submits == 1
    assert result.spent == pytest.approx(0.2) and result.shots[0].cost == pytest.approx(0.2)


def test_a_submit_never_listed_stops_as_ambiguous_and_stays_so(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    shot = a_shot(tmp_path, make_media)
    with SlowProxy(emu.port, submit_path(emu, "freepik"), hold=1.5, deliver=False) as proxy:
        first = render_through(proxied(emu, proxy, "freepik"), "freepik", tmp_path, shot,
                               late_window=1.0)
        (only,) = first.shots
        assert (only.state, only.code) == ("pending", "AmbiguousTask"), only
        assert "within 1 s" in only.message and "task adopt" in only.message
        again = render_through(proxied(emu, proxy, "freepik"), "freepik", tmp_path, shot)
    assert again.shots[0].code == "AmbiguousTask" and again.submits == 0
    assert emu.stats()["submissions"]["total"] == 0


# -- 22.3: flaky task queries ----------------------------------------------------------------


def shots_of(tmp_path: Path, make_media: Any, count: int) -> list[CompiledShot]:
    return [replace(a_shot(tmp_path, make_media, f" waves hello {n}"), id=f"s{n}",
                    hash=f"{n:02d}" * 32) for n in range(count)]


def test_flaky_queries_never_lose_a_paid_task_nor_delay_the_render(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    shots = shots_of(tmp_path, make_media, 4)
    emu.script("submit:ok,submit:ok,submit:ok,submit:lost")  # the last one's answer is lost
    emu.script("query:500,list:500")  # at least one of each, then one in ten
    emu.add_rate("query:500:0.1", "list:500:0.1")
    started = time.monotonic()
    result = render_all(emu, tmp_path, shots)
    took = time.monotonic() - started
    assert [s.state for s in result.shots] == ["done"] * 4, result.shots
    assert emu.stats()["submissions"]["total"] == 4 and result.submits == 4
    assert emu.stats()["faults"]["query:500"] and emu.stats()["faults"]["list:500"]
    assert took < 30, took  # about a clean render (a few seconds), never minutes


def test_a_lookup_that_keeps_failing_never_claims_nothing_was_submitted(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    shots = shots_of(tmp_path, make_media, 1)
    emu.script("submit:lost")
    emu.add_rate("list:500:1")
    result = render_all(emu, tmp_path, shots, query_patience=1.0, max_retries=2)
    (only,) = result.shots
    assert (only.state, only.code) == ("pending", "AmbiguousTask"), only
    with Journal.open(tmp_path) as journal:
        (row,) = journal.attempts()
    for text in (only.message, row.note or ""):
        assert "nothing was submitted" not in text and "may have created a task" in text
    assert emu.stats()["submissions"]["total"] == 1
    emu.clear_faults()
    again = render_all(emu, tmp_path, shots)
    assert [s.state for s in again.shots] == ["done"] and again.submits == 0


def test_a_lookup_among_many_tasks_outlasts_flaky_queries(
        emu: EmulatorServer, tmp_path: Path, make_media: Any) -> None:
    """A lookup is many requests (a list, then a query per listed task): each one that fails is
    asked again, not the whole lookup, which would almost never succeed at once."""
    crowd = [a_shot(tmp_path, make_media, f" stands by {n}") for n in range(24)]

    async def submit_all() -> None:
        provider = provider_for(emu, "dashscope", tmp_path)
        try:
            for shot in crowd:
                await provider.submit(shot, None)
        finally:
            await provider.aclose()
    emu.script("task:stuck*24")
    asyncio.run(submit_all())
    shots = shots_of(tmp_path, make_media, 1)
    emu.script("submit:lost", ",".join(["query:ok*9,query:500"] * 12),
               ",".join(["list:ok*2,list:500"] * 4))  # one query in ten, one list in three fails
    started = time.monotonic()
    result = render_all(emu, tmp_path, shots, query_patience=2.0, max_retries=3)
    assert [s.state for s in result.shots] == ["done"], result.shots
    assert emu.stats()["faults"]["query:500"] >= 2
    assert emu.stats()["submissions"]["total"] == 25 and result.submits == 1
    assert time.monotonic() - started < 30
