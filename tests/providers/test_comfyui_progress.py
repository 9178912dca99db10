"""Progress over ComfyUI's ``/ws``: the live view hears each job's nodes and steps; a server whose
socket is refused, or drops, still renders by polling ``/history``."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest

import storyboard
from storyboard.emulator.comfyui.server import ComfyUIServer
from storyboard.emulator.comfyui.state import ComfyConfig
from storyboard.providers.comfyui.listen import Watch, ws_url
from storyboard.run import ShotEvent
from tests.fixtures.comfyui import prompts, series_on
from tests.fixtures.paths import ROOT

PHANTOM = "wan-phantom-references.json"
STEPS = 20  # the example workflows' KSampler steps
SAMPLER = "node 20 (KSampler)"  # the sampler of the Phantom example


def render(series: Path, out: Path) -> tuple[storyboard.RenderReport, list[ShotEvent]]:
    events: list[ShotEvent] = []
    report = storyboard.render(series, episode="ep02", out=out, on_event=events.append)
    return report, events


def stepped(events: list[ShotEvent], shot: str) -> list[float]:
    return [e.progress for e in events if e.shot == shot and e.progress is not None]


def test_a_render_hears_each_step_of_each_job_over_ws(tmp_path: Path) -> None:
    with ComfyUIServer(ComfyConfig(job_time=0.4, plain=True)) as gpu:
        series = series_on(tmp_path, [gpu], PHANTOM)
        report, events = render(series, tmp_path / "out")
        assert report.ok, report
        for shot in ("order", "serve"):
            heard = [e for e in events if e.shot == shot]
            states = [e.state for e in heard]
            assert states[0] == "queued" and states[-1] == "done"
            fractions = stepped(events, shot)
            # execution_start (0), then every sampling step in order, each once
            assert fractions == [0.0] + [k / STEPS for k in range(1, STEPS + 1)]
            said = [e.message for e in heard if e.state == "running" and e.progress]
            assert said[0] == f"{SAMPLER}: step 1 of {STEPS}"
            assert said[-1] == f"{SAMPLER}: step {STEPS} of {STEPS}"
            nodes = [e.message for e in heard if e.message.startswith("node ")
                     and e.progress is None]
            assert nodes[0] == "node 1 (UNETLoader)" and nodes[-1] == "node 23 (SaveVideo)"
            # every step came before the shot was done: the socket leads, /history decides
            done = states.index("done")
            assert all(heard.index(e) < done for e in heard if e.progress is not None)
            assert all(e.task_id for e in heard if e.progress is not None)
        assert gpu.stats()["ws_sent"] > 2 * STEPS
        assert set(prompts(gpu).values()) == {1}


def test_a_server_whose_ws_is_refused_renders_by_polling(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    with ComfyUIServer(ComfyConfig(job_time=0.2, plain=True, websocket=False)) as gpu:
        series = series_on(tmp_path, [gpu], PHANTOM)
        with caplog.at_level(logging.INFO, logger="storyboard.providers.comfyui"):
            report, events = render(series, tmp_path / "out")
        assert report.ok, report
        assert (tmp_path / "out" / "ep02.mp4").is_file()
        assert [e.progress for e in events if e.progress is not None] == []
        assert [e.state for e in events if e.shot == "order"][-1] == "done"
        notes = [r for r in caplog.records if "/ws" in r.getMessage()]
        assert notes and all(r.levelno == logging.INFO for r in notes)
        assert "progress is polled from /history instead" in notes[0].getMessage()
        assert gpu.stats()["ws_sent"] == 0 and set(prompts(gpu).values()) == {1}


def test_a_socket_dropped_by_a_restart_falls_back_to_polling(tmp_path: Path) -> None:
    """A restarted server drops every socket: the lost job is re-queued and both shots are
    done (the second one polled, since the socket is not tried again for a minute)."""
    with ComfyUIServer(ComfyConfig(job_time=0.8, plain=True)) as gpu:
        series = series_on(tmp_path, [gpu], PHANTOM)
        events: list[ShotEvent] = []

        def restart_on_first_step(event: ShotEvent) -> None:
            events.append(event)
            if event.progress and not gpu.stats()["restarts"]:
                gpu.restart()
        report = storyboard.render(series, episode="ep02", out=tmp_path / "out",
                                   on_event=restart_on_first_step)
        assert report.ok, report
        assert sorted(prompts(gpu).values()) == [1, 2]  # the lost one sent again, once
        assert {e.shot for e in events if e.state == "done"} == {"order", "serve"}


def test_the_watch_reads_only_our_prompts_numbers_and_nodes() -> None:
    heard: list[tuple[str, float | None, str]] = []
    watch = Watch("http://127.0.0.1:1", "me", lambda: lambda *said: heard.append(said))

    async def run() -> None:
        await watch.follow("p1", {"3": "KSampler"})  # nothing listens on port 1: a note
        assert not watch.connected
        for frame in [
            {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 1}}}},
            {"type": "execution_start", "data": {"prompt_id": "p1", "timestamp": 1}},
            {"type": "executing", "data": {"node": "3", "prompt_id": "p1"}},
            {"type": "progress", "data": {"value": 5, "max": 10}},  # older servers: no id
            {"type": "progress", "data": {"value": "5", "max": 10, "prompt_id": "p1"}},
            {"type": "progress", "data": {"value": 1, "max": 0, "prompt_id": "p1"}},
            {"type": "executing", "data": {"node": "\x1b[2J", "prompt_id": "p1"}},
            {"type": "progress", "data": {"value": 1, "max": 2, "prompt_id": "other"}},
            {"type": "executing", "data": {"node": None, "prompt_id": "other"}},
        ]:
            watch.heard(json.dumps(frame))
        watch.heard("not json")
        ended = watch.ended("p1")
        assert ended is not None and not ended.is_set()
        watch.heard(json.dumps({"type": "executing", "data": {"node": None,
                                                              "prompt_id": "p1"}}))
        assert ended.is_set()
    asyncio.run(run())
    # the step without an id is the current prompt's; a string, a zero max, a node not in
    # our graph and another prompt's messages are passed over
    assert heard == [("p1", 0.0, "started"), ("p1", None, "node 3 (KSampler)"),
                     ("p1", 0.5, "step 5 of 10")]
    assert ws_url("https://gpu.example:8443/comfy/", "a b") == \
        "wss://gpu.example:8443/comfy/ws?clientId=a%20b"


def test_a_job_s_end_over_ws_cuts_the_poll_s_wait_short(tmp_path: Path) -> None:
    """With a poll every 60 s, each shot is still done about when its job ends: the socket's
    ``executing node: null`` (sent once the history holds the result) ends the wait."""
    with ComfyUIServer(ComfyConfig(job_time=0.3, plain=True)) as gpu:
        series = series_on(tmp_path, [gpu], PHANTOM, poll=[60])
        started = time.monotonic()
        report, events = render(series, tmp_path / "out")
        assert report.ok, report
        assert time.monotonic() - started < 50  # one wait of the schedule would be 60 s
        assert [e.state for e in events if e.shot == "serve"][-1] == "done"


def test_a_frame_nested_deep_is_skipped_and_the_socket_read_on(
        caplog: pytest.LogCaptureFixture) -> None:
    """A 100k-deep frame (an array, and a dict inside a progress message) on a loopback ``/ws``:
    passed over, and the frames after it still heard."""
    from websockets.asyncio.server import ServerConnection, serve
    deep = "[" * 100_000 + "]" * 100_000
    frames = [deep, '{"type": "progress", "data": {"prompt_id": "p1", "value": '
              + "{\"a\": " * 100_000 + "1" + "}" * 100_000 + "}}",
              json.dumps({"type": "progress", "data": {"value": 1, "max": 2, "prompt_id": "p1"}}),
              json.dumps({"type": "executing", "data": {"node": None, "prompt_id": "p1"}})]
    heard: list[tuple[str, float | None, str]] = []

    async def speak(socket: ServerConnection) -> None:
        for frame in frames:
            await socket.send(frame)
        await socket.wait_closed()

    async def run() -> None:
        async with serve(speak, "127.0.0.1", 0, max_size=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            watch = Watch(f"http://127.0.0.1:{port}", "me",
                          lambda: lambda *said: heard.append(said))
            await watch.follow("p1", {})
            ended = watch.ended("p1")
            assert ended is not None
            await asyncio.wait_for(ended.wait(), 10)
            assert watch.connected  # the reader is still reading
            await watch.aclose()
    with caplog.at_level(logging.DEBUG, logger="storyboard.providers.comfyui"):
        asyncio.run(run())
    assert heard == [("p1", 0.5, "step 1 of 2")]
    assert "not readable JSON skipped (RecursionError)" in caplog.text
    assert "Traceback" not in caplog.text


def test_a_real_comfyuis_socket_is_heard_node_by_node_its_progress_state_passed_over() -> None:
    """The frames a real ComfyUI 0.8 sent for a weightless workflow (recorded, with its
    ``progress_state`` messages), replayed on a loopback ``/ws``: each node once, then the end;
    ``progress_state`` adds nothing, and a broken one breaks nothing."""
    from websockets.asyncio.server import ServerConnection, serve
    recorded = json.loads((ROOT / "tests" / "fixtures" / "comfyui_real_ws.json").read_text())
    messages = recorded["messages"]
    prompt = next(m["data"]["prompt_id"] for m in messages if m["type"] == "execution_start")
    assert sum(m["type"] == "progress_state" for m in messages) == 8  # 4 nodes: start, end
    odd = [{"type": "progress_state", "data": {"prompt_id": prompt, "nodes": None}},
           {"type": "progress_state", "data": {"prompt_id": prompt, "nodes": {"4": 7}}}]
    frames = [json.dumps(m) for m in [*odd, *messages]]
    classes = {"1": "LoadImage", "2": "ImageScale", "3": "RepeatImageBatch", "4": "SaveImage"}
    heard: list[tuple[str, float | None, str]] = []

    async def speak(socket: ServerConnection) -> None:
        for frame in frames:
            await socket.send(frame)
        await socket.wait_closed()

    async def run() -> None:
        async with serve(speak, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            watch = Watch(f"http://127.0.0.1:{port}", "me",
                          lambda: lambda *said: heard.append(said))
            await watch.follow(prompt, classes)
            ended = watch.ended(prompt)
            assert ended is not None
            await asyncio.wait_for(ended.wait(), 10)
            await watch.aclose()
    asyncio.run(run())
    assert heard == [(prompt, 0.0, "started"),
                     *[(prompt, None, f"node {n} ({c})") for n, c in classes.items()]]
