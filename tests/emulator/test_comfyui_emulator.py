"""The emulated ComfyUI server speaks the real routes' shapes, and the provider drives them."""

from __future__ import annotations

import asyncio
import functools
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from storyboard.emulator.comfyui.server import ComfyUIServer, create_app
from storyboard.emulator.comfyui.state import ComfyConfig
from storyboard.emulator.comfyui.ws import order
from storyboard.errors import ConnectFailed, RequestRejected
from storyboard.language.request import CompiledShot, MediaItem, MediaRef, ShotRequest
from storyboard.providers.comfyui.promptlog import Job, Throughput
from storyboard.providers.comfyui.provider import ComfyUIProvider
from storyboard.providers.comfyui.settings import ComfySettings
from storyboard.targets import TaskStatus
from tests.fixtures import web
from tests.fixtures.comfyui import WORKFLOWS, wait_until


def text_graph(seed: int = 7, prompt: str = "a cat") -> dict[str, Any]:
    """The I2V example without its first frame, its placeholders filled by hand."""
    graph: dict[str, Any] = json.loads((WORKFLOWS / "wan-i2v.json").read_text())
    del graph["10"]
    del graph["11"]["inputs"]["start_image"]
    filled = json.dumps(graph).replace('"{{prompt}}"', json.dumps(prompt)).replace(
        '"{{negative_prompt}}"', '""').replace('"{{seed}}"', str(seed)).replace(
        '"{{width}}"', "64").replace('"{{height}}"', "48").replace(
        '"{{frames}}"', "17").replace('"{{fps}}"', "16")
    result: dict[str, Any] = json.loads(filled)
    return result


def test_the_routes_and_their_shapes() -> None:
    with ComfyUIServer(ComfyConfig(job_time=0.3)) as gpu, web.client(base_url=gpu.url) as http:
        info = http.get("/object_info").json()
        assert "WanVaceToVideo" in info and "reference_image" in \
            info["WanVaceToVideo"]["input"]["optional"]
        assert list(http.get("/object_info/KSampler").json()) == ["KSampler"]
        http.post("/_emulator/nodes", json={"missing": ["LoadVideo"]})  # a fault
        assert "LoadVideo" not in http.get("/object_info").json()
        http.post("/_emulator/nodes", json={"missing": []})
        bad = text_graph()
        del bad["4"]["inputs"]["text"]
        refused = http.post("/prompt", json={"prompt": bad})
        assert refused.status_code == 400
        assert refused.json()["node_errors"]["4"]["errors"][0]["type"] == "required_input_missing"
        unknown = text_graph()
        unknown["4"] = {**unknown["4"], "class_type": "RMBG", "_meta": {"title": "Remove BG"}}
        missing = http.post("/prompt", json={"prompt": unknown})
        assert missing.status_code == 400
        assert missing.json() == {"error": {  # as ComfyUI's execution.validate_prompt answers
            "type": "invalid_prompt",
            "message": "Cannot execute because node RMBG does not exist.",
            "details": "Node ID '#4'", "extra_info": {}}, "node_errors": {}}
        first = http.post("/prompt", json={"prompt": text_graph(1), "prompt_id": "one"}).json()
        second = http.post("/prompt", json={"prompt": text_graph(2), "prompt_id": "two"}).json()
        assert first["prompt_id"] == "one" and second["number"] > first["number"]
        queue = http.get("/queue").json()  # one prompt at a time
        assert len(queue["queue_running"]) == 1 and len(queue["queue_pending"]) == 1
        assert http.get("/history/one").json() == {}
        wait_until(lambda: "two" in http.get("/history/two").json(), timeout=30)
        entry = http.get("/history/one").json()["one"]
        assert entry["status"]["status_str"] == "success"
        item = entry["outputs"]["23"]["images"][0]
        video = http.get("/view", params=item)
        assert video.status_code == 200 and len(video.content) > 1000
        assert video.content != http.get("/view", params=http.get("/history/two").json()[
            "two"]["outputs"]["23"]["images"][0]).content  # another seed, another video
        assert gpu.stats()["seeds"] == {"one": 1, "two": 2}
        gpu.restart()
        assert http.get("/history/one").json() == {}  # history is held in memory
        assert http.get("/view", params={"filename": "../x", "type": "output"}).status_code == 400


def test_upload_interrupt_and_a_missing_file() -> None:
    with ComfyUIServer(ComfyConfig(job_time=5.0, plain=True)) as gpu, \
            web.client(base_url=gpu.url) as http:
        graph = json.loads((WORKFLOWS / "wan-i2v.json").read_text())
        assert http.post("/prompt", json={"prompt": graph}).status_code == 400  # unfilled
        name = http.post("/upload/image", files={"image": ("a.png", b"png")},
                         data={"type": "input"}).json()
        assert name == {"name": "a.png", "subfolder": "", "type": "input"}
        assert http.post("/upload/image", files={"image": ("../a.png", b"x")}).status_code == 400
        http.post("/prompt", json={"prompt": text_graph(), "prompt_id": "long"})
        wait_until(lambda: http.get("/queue").json()["queue_running"] != [])
        http.post("/interrupt", json={"prompt_id": "long"})
        wait_until(lambda: "long" in http.get("/history/long").json())
        messages = http.get("/history/long").json()["long"]["status"]["messages"]
        assert messages[-1][0] == "execution_interrupted"


def bench_shot(number: int) -> CompiledShot:
    request = ShotRequest("wan2.7-r2v", f"shot {number}", (), "720P", "16:9", 2, False, False,
                          None, number)
    return CompiledShot("s", "ep01", f"s{number}", request, f"{number:064d}")


def provider_for(tmp_path: Path, *servers: ComfyUIServer) -> ComfyUIProvider:
    graph = json.loads((WORKFLOWS / "wan-i2v.json").read_text())
    del graph["10"]
    del graph["11"]["inputs"]["start_image"]
    (tmp_path / "t2v.json").write_text(json.dumps(graph))
    settings = ComfySettings(tuple(s.url for s in servers), tmp_path / "t2v.json", {})
    provider = ComfyUIProvider(settings, tmp_path)
    provider.preflight()
    provider.check_shots([bench_shot(1), bench_shot(2)])
    return provider


def test_cancel_interrupts_a_running_job_and_drops_a_waiting_one(tmp_path: Path) -> None:
    with ComfyUIServer(ComfyConfig(job_time=5.0, plain=True)) as gpu, \
            web.client(base_url=gpu.url) as http:
        provider = provider_for(tmp_path, gpu)

        async def scenario() -> TaskStatus:
            running = await provider.submit(bench_shot(1), None)
            # a job waiting behind it (sent by hand, known to the provider by its job file)
            http.post("/prompt", json={"prompt": text_graph(), "prompt_id": "waiting"})
            provider.jobs.save(Job("waiting", "ep01/s2", gpu.url, "", {}, {}, 2.0))
            await provider.cancel("waiting")
            assert [i[1] for i in http.get("/queue").json()["queue_pending"]] == []
            assert (await provider.query("waiting")).status is TaskStatus.CANCELED  # not re-queued
            await provider.cancel(running)
            status = await until_done(provider, running)
            await provider.aclose()
            return status
        assert asyncio.run(scenario()) is TaskStatus.CANCELED
        assert gpu.stats()["interrupts"] == 1


def test_an_instance_that_goes_away_and_comes_back(tmp_path: Path) -> None:
    """Jobs go to the instance that answers; a job on one that was away is asked about when it
    returns (restarted: it is re-queued once)."""
    with ComfyUIServer(ComfyConfig(job_time=0.3, plain=True)) as a, \
            ComfyUIServer(ComfyConfig(job_time=0.3, plain=True)) as b:
        provider = provider_for(tmp_path, a, b)

        async def scenario() -> list[TaskStatus]:
            first = await provider.submit(bench_shot(1), None)
            job = provider.jobs.get(first)
            assert job is not None
            away, other = (a, b) if job.instance == a.url else (b, a)
            away.stop()
            with pytest.raises(ConnectFailed):
                await provider.query(first)
            second = await provider.submit(bench_shot(2), None)  # the one away is skipped
            back = ComfyUIServer(away.config, port=int(away.url.rsplit(":", 1)[1]),
                                 folder=away.folder).start()
            try:
                states = [await until_done(provider, task) for task in (first, second)]
                assert back.stats()["prompts"] == {first: 1}  # re-queued once, there
                assert other.stats()["prompts"] == {second: 1}
                return states
            finally:
                await provider.aclose()
                back.stop()
        assert asyncio.run(scenario()) == [TaskStatus.SUCCEEDED, TaskStatus.SUCCEEDED]


async def until_done(provider: ComfyUIProvider, task: str) -> TaskStatus:
    deadline = time.monotonic() + 20
    state = await provider.query(task)
    while not state.status.finished:
        assert time.monotonic() < deadline, state
        await asyncio.sleep(0.05)
        state = await provider.query(task)
    return state.status


def test_the_wall_time_estimate(tmp_path: Path) -> None:
    throughput = Throughput(tmp_path / "t.json")
    assert throughput.wall_seconds(["a", "b"], 10) is None
    throughput.add("a", 20.0, 5.0)  # 4 s of GPU a second of video
    assert throughput.wall_seconds(["a", "b"], 10) == pytest.approx(20.0)  # b counts as a
    throughput.add("b", 10.0, 5.0)  # 2 s a second
    assert throughput.wall_seconds(["a", "b"], 12) == pytest.approx(12 / (1 / 4 + 1 / 2))


def test_slow_jobs_on_demand() -> None:
    with ComfyUIServer(ComfyConfig(job_time=0.05, plain=True)) as gpu, \
            web.client(base_url=gpu.url) as http:
        assert http.post("/_emulator/slow", content=b'{"seconds": NaN}').status_code == 400
        http.post("/_emulator/slow", json={"seconds": 0.6, "count": 1})
        started = time.monotonic()
        http.post("/prompt", json={"prompt": text_graph(), "prompt_id": "slow"})
        wait_until(lambda: "slow" in http.get("/history/slow").json())
        assert time.monotonic() - started >= 0.6


def test_a_temporary_folder_goes_with_its_server_and_a_given_one_stays(tmp_path: Path) -> None:
    """An instance's files in a folder it made are removed when it ends (a suite of runs left
    thousands behind); a folder it was given stays, and a stop is not an end (it comes back)."""
    with ComfyUIServer(ComfyConfig(job_time=0.05, plain=True)) as gpu:
        made = gpu.folder
        assert made.is_dir()
        gpu.stop()
        gpu.start()
        assert made.is_dir()
    assert not made.exists()
    with ComfyUIServer(ComfyConfig(job_time=0.05, plain=True), folder=tmp_path / "gpu") as gpu:
        pass
    assert (tmp_path / "gpu").is_dir()
    app = create_app(ComfyConfig(job_time=0.05, plain=True))
    with TestClient(app) as client:
        assert client.get("/queue").status_code == 200
        made = app.state.instance.inputs.parent
        assert made.is_dir()
    assert not made.exists()


def test_storyboard_emulate_comfyui_serves_n_instances() -> None:
    child = subprocess.Popen([sys.executable, "-m", "storyboard", "emulate", "--comfyui", "2",
                              "--port", "0", "--latency", "0.1"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout is not None
        urls = [child.stdout.readline().split(" at ")[1].strip() for _ in range(2)]
        assert len(set(urls)) == 2
        for url in urls:
            wait_until(functools.partial(_answers, url), timeout=20)
            assert web.get(url + "/queue").json() == {"queue_running": [],
                                                        "queue_pending": []}
    finally:
        child.terminate()
        child.wait(10)


def _answers(url: str) -> bool:
    try:
        return web.get(url + "/queue").status_code == 200
    except httpx.HTTPError:
        return False


def test_a_submit_whose_answer_was_lost_is_found_by_its_id(tmp_path: Path) -> None:
    """The prompt id is known before the answer: ``find`` asks for it, never by prompt text."""
    with ComfyUIServer(ComfyConfig(job_time=0.2, plain=True)) as gpu:
        provider = provider_for(tmp_path, gpu)

        async def scenario() -> tuple[list[TaskStatus], list[TaskStatus]]:
            await provider.submit(bench_shot(1), None)  # as if its answer were lost
            found = [s.status for s in await provider.find(bench_shot(1), 0.0)]
            never = [s.status for s in await provider.find(bench_shot(2), 0.0)]
            await provider.aclose()
            return found, never
        found, never = asyncio.run(scenario())
        assert found and found[0] in (TaskStatus.PENDING, TaskStatus.RUNNING)
        assert never == []  # no job file: never sent, so a new submit is safe
        assert list(gpu.stats()["prompts"].values()) == [1]


def test_submit_itself_refuses_a_shot_its_workflow_cannot_take(tmp_path: Path) -> None:
    """Every way in is guarded: a shot with a reference image, on a workflow with no
    ``{{image1}}``, is refused before anything is uploaded or queued."""
    picture = tmp_path / "mia.png"
    picture.write_bytes(b"png")
    item = MediaItem("reference_image", MediaRef(path=picture), "Image 1", "mia")
    request = ShotRequest("wan2.7-r2v", "Image 1 waves", (item,), "720P", "16:9", 2, False,
                          False, None, 5)
    shot = CompiledShot("s", "ep01", "wave", request, "9" * 64)
    with ComfyUIServer(ComfyConfig(job_time=0.1, plain=True)) as gpu:
        provider = provider_for(tmp_path, gpu)

        async def scenario() -> None:
            try:
                with pytest.raises(RequestRejected, match=r"no \{\{image1\}\} placeholder"):
                    await provider.submit(shot, None)
            finally:
                await provider.aclose()
        asyncio.run(scenario())
        assert gpu.stats()["prompts"] == {} and gpu.stats()["uploads"] == 0


def test_ws_sends_a_prompts_messages_to_its_client_and_ignores_input() -> None:
    """The real shapes and order, to the client id that queued the prompt (not to another); a
    frame from a client is ignored, as ComfyUI does (the socket stays open and keeps talking); an
    id that is not a plain token is refused."""
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    with ComfyUIServer(ComfyConfig(job_time=0.2, plain=True)) as gpu:
        ws = gpu.url.replace("http://", "ws://") + "/ws?clientId="
        with connect(ws + "mine") as mine, connect(ws + "other") as other:
            hello = json.loads(mine.recv(timeout=10))
            assert hello == {"type": "status", "data": {
                "status": {"exec_info": {"queue_remaining": 0}}, "sid": "mine"}}
            json.loads(other.recv(timeout=10))
            answer = web.post(gpu.url + "/prompt", json={
                "prompt": text_graph(), "prompt_id": "p-1", "client_id": "mine"}).json()
            assert answer["prompt_id"] == "p-1"
            kinds: list[str] = []
            states: list[dict[str, Any]] = []
            while True:
                said = json.loads(mine.recv(timeout=10))
                kinds.append(said["type"])
                if said["type"] == "progress_state":
                    states.append(said["data"]["nodes"])
                data = said["data"]
                if said["type"] != "status":
                    assert data["prompt_id"] == "p-1"
                if said["type"] == "executing" and data["node"] is None:
                    break
            work = [k for k in kinds if k != "status"]
            # as a real ComfyUI 0.8 (docs/gpus.md): each node's state before it is executing,
            # at each step before its progress, and once finished
            assert work[:4] == ["execution_start", "execution_cached", "progress_state",
                                "executing"]
            assert work[-4:] == ["executed", "progress_state", "execution_success", "executing"]
            assert work.count("progress") == 20  # the sampler's steps
            assert all(work[n - 1] == "progress_state" for n, k in enumerate(work[:-1])
                       if k in ("progress", "executing"))
            nodes = order(text_graph())
            assert len(states) == 2 * len(nodes) + 20
            assert states[0] == {nodes[0]: {
                "value": 0.0, "max": 1.0, "state": "running", "node_id": nodes[0],
                "prompt_id": "p-1", "display_node_id": nodes[0], "parent_node_id": None,
                "real_node_id": nodes[0]}}
            assert {n: (v["state"], v["value"], v["max"]) for n, v in states[-1].items()} == {
                n: ("finished", 20 if n == "20" else 1.0, 20 if n == "20" else 1.0)
                for n in nodes}
            assert web.get(gpu.url + "/history/p-1").json()["p-1"]["status"]["completed"]
            heard = [json.loads(other.recv(timeout=10))["type"] for _ in range(3)]
            assert set(heard) == {"status"}  # only the queue's news, never another's prompt
            mine.send("hello")
            mine.send(json.dumps({"type": "feature_flags", "data": {}}))
            web.post(gpu.url + "/prompt", json={
                "prompt": text_graph(3), "prompt_id": "p-2", "client_id": "mine"})
            while True:  # still open: the next prompt's messages arrive
                said = json.loads(mine.recv(timeout=10))
                if said["type"] == "execution_success":
                    assert said["data"]["prompt_id"] == "p-2"
                    break
        with pytest.raises((InvalidStatus, ConnectionClosed)), \
                connect(ws + "bad%20id%3B") as refused:
            refused.recv(timeout=10)


def test_ws_says_what_a_real_comfyui_said_for_the_same_workflow(tmp_path: Path) -> None:
    """The weightless ``frames.json`` on the emulator: the same messages in the same order, and
    the same ``progress_state`` contents, as a real ComfyUI 0.8 sent (recorded, docs/gpus.md)."""
    from websockets.sync.client import connect

    from tests.fixtures.comfyui import WEIGHTLESS
    from tests.fixtures.paths import ROOT
    real = json.loads((ROOT / "tests" / "fixtures" / "comfyui_real_ws.json").read_text())
    real_id = next(m["data"]["prompt_id"] for m in real["messages"]
                   if m["type"] == "execution_start")
    graph = json.loads((WEIGHTLESS / "frames.json").read_text().replace(
        '"{{image1}}"', '"mia.png"').replace('"{{width}}"', "64").replace(
        '"{{height}}"', "48").replace('"{{frames}}"', "4").replace('"{{prompt}}"', '"hi"'))
    with ComfyUIServer(ComfyConfig(job_time=0.1, plain=True)) as gpu:
        (gpu.folder / "input" / "mia.png").write_bytes(b"png")
        with connect(gpu.url.replace("http://", "ws://") + "/ws?clientId=me") as socket:
            web.post(gpu.url + "/prompt", json={"prompt": graph, "prompt_id": real_id,
                                                  "client_id": "me"}).raise_for_status()
            said: list[dict[str, Any]] = []
            while not said or said[-1]["type"] != "executing" or said[-1]["data"]["node"]:
                said.append(json.loads(socket.recv(timeout=10)))

    def shape(messages: list[dict[str, Any]]) -> list[Any]:
        return [(m["type"], m["data"]["nodes"] if m["type"] == "progress_state" else None)
                for m in messages if m["type"] != "status"]
    assert shape(said) == shape(real["messages"])
