"""Emulator faults over loopback: throttling, 5xx, dropped connections, lost submits, bad tasks."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from storyboard.emulator import (
    EmulatorServer,
    Fault,
    FaultPlan,
    FaultSyntaxError,
    body_hash,
    parse_fault_options,
)
from tests.fixtures import web
from tests.fixtures.emulator import wait_for

SUBMIT = "/services/aigc/video-generation/video-synthesis"
HEADERS = {"Authorization": "Bearer sk-test", "X-DashScope-Async": "enable"}


def make_body(prompt: str = "Image 1 waves at the camera") -> dict[str, Any]:
    return {"model": "wan2.7-r2v",
            "input": {"prompt": prompt,
                      "media": [{"type": "reference_image", "url": "https://example.com/a.png"}]},
            "parameters": {"resolution": "720P", "ratio": "16:9", "duration": 2}}


def submit(http: httpx.Client, body: dict[str, Any]) -> str:
    response = http.post(SUBMIT, json=body)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["output"]["task_id"]
    return task_id


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(latency=0.2, plain_results=True) as server:
        yield server


@pytest.fixture(scope="module")
def _client(emu: EmulatorServer) -> Iterator[httpx.Client]:
    with web.client(base_url=emu.base_url, headers=HEADERS, timeout=10) as http:
        yield http


@pytest.fixture
def client(emu: EmulatorServer, _client: httpx.Client) -> httpx.Client:
    emu.clear_faults()
    return _client


def submitted(emu: EmulatorServer, body: dict[str, Any]) -> int:
    count: int = emu.stats()["submissions"]["by_body"].get(body_hash(body), 0)
    return count


# --- HTTP faults ---------------------------------------------------------------------------------


def test_throttling_carries_retry_after(client: httpx.Client, emu: EmulatorServer) -> None:
    body = make_body("throttled")
    emu.script("submit:429,submit:429=7")
    first = client.post(SUBMIT, json=body)
    assert first.status_code == 429
    assert first.json()["code"] == "Throttling.RateQuota" and first.json()["request_id"]
    assert first.headers["Retry-After"] == "1"
    assert client.post(SUBMIT, json=body).headers["Retry-After"] == "7"
    assert submitted(emu, body) == 0  # a throttled submit creates nothing
    assert client.post(SUBMIT, json=body).status_code == 200
    assert submitted(emu, body) == 1
    assert emu.stats()["faults"]["submit:429"] == 1


@pytest.mark.parametrize(("kind", "code"), [("500", "InternalError"),
                                            ("503", "ServiceUnavailable")])
def test_server_errors_then_recovery(client: httpx.Client, emu: EmulatorServer, kind: str,
                                     code: str) -> None:
    task_id = submit(client, make_body())
    emu.script(f"query:{kind}")
    failed = client.get(f"/tasks/{task_id}")
    assert (failed.status_code, failed.json()["code"]) == (int(kind), code)
    assert client.get(f"/tasks/{task_id}").status_code == 200


@pytest.mark.parametrize("kind", ["drop", "reset"])
def test_dropped_connections_are_connection_errors(client: httpx.Client, emu: EmulatorServer,
                                                   kind: str) -> None:
    task_id = submit(client, make_body())
    emu.script(f"query:{kind}")
    with pytest.raises(httpx.TransportError) as caught:
        client.get(f"/tasks/{task_id}")
    assert not isinstance(caught.value, httpx.TimeoutException)
    assert client.get(f"/tasks/{task_id}").status_code == 200  # the next request is answered


def raw_get(emu: EmulatorServer, path: str) -> bytes:
    """Send one GET on a bare socket; return every byte the server sent before closing."""
    request = (f"GET /api/v1{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: {HEADERS['Authorization']}\r\nConnection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
        sock.sendall(request.encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_a_drop_sends_not_one_byte(client: httpx.Client, emu: EmulatorServer) -> None:
    assert raw_get(emu, "/tasks/x").startswith(b"HTTP/1.1 200")
    emu.script("query:drop")
    assert raw_get(emu, "/tasks/x") == b""
    emu.script("query:reset")
    with pytest.raises(ConnectionResetError):
        raw_get(emu, "/tasks/x")


def test_slow_answers(client: httpx.Client, emu: EmulatorServer) -> None:
    emu.script("list:slow=0.6,list:slow=0.3")
    with pytest.raises(httpx.ReadTimeout):
        client.get("/tasks", timeout=0.2)
    started = time.monotonic()
    assert client.get("/tasks").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_lost_submit_is_counted_but_unanswered(client: httpx.Client, emu: EmulatorServer) -> None:
    body = make_body("a submit whose answer is lost")
    emu.script("submit:lost")
    with pytest.raises(httpx.TransportError):
        client.post(SUBMIT, json=body)
    assert submitted(emu, body) == 1
    # The client's way back: list recent tasks and match orig_prompt.
    listed = client.get("/tasks").json()["data"]
    prompts = {item["task_id"]: client.get(f"/tasks/{item['task_id']}").json()["output"]
               ["orig_prompt"] for item in listed}
    found = [task_id for task_id, prompt in prompts.items() if prompt == body["input"]["prompt"]]
    assert len(found) == 1
    assert wait_for(client, found[0])["output"]["task_status"] == "SUCCEEDED"


def test_late_submit_answer_outlives_the_client_timeout(client: httpx.Client,
                                                        emu: EmulatorServer) -> None:
    body = make_body("a submit answered too late")
    emu.script("submit:lost=1")
    with pytest.raises(httpx.ReadTimeout):
        client.post(SUBMIT, json=body, timeout=0.3)
    assert submitted(emu, body) == 1


def test_moderation_at_submit_is_refused_and_free(client: httpx.Client,
                                                  emu: EmulatorServer) -> None:
    body = make_body("blocked input")
    emu.script("submit:moderation")
    refused = client.post(SUBMIT, json=body)
    assert (refused.status_code, refused.json()["code"]) == (400, "DataInspectionFailed")
    assert submitted(emu, body) == 0


def test_download_fails_once_then_succeeds(client: httpx.Client, emu: EmulatorServer) -> None:
    url = wait_for(client, submit(client, make_body()))["output"]["video_url"]
    emu.script("download:500,download:drop")
    assert client.get(url).status_code == 500
    with pytest.raises(httpx.TransportError):
        client.get(url)
    video = client.get(url)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"


def test_rates_hit_every_request_at_probability_one(client: httpx.Client,
                                                    emu: EmulatorServer) -> None:
    emu.add_rate("list:503:1")
    assert [client.get("/tasks").status_code for _ in range(3)] == [503, 503, 503]
    emu.clear_faults()
    assert client.get("/tasks").status_code == 200


def test_admin_endpoint_queues_faults(client: httpx.Client, emu: EmulatorServer) -> None:
    admin = f"{emu.origin}/_emulator/faults"
    queued = client.post(admin, json={"script": ["policy:500*2"], "rates": ["cancel:429:0"]})
    assert queued.json() == {"script": {"policy": ["policy:500", "policy:500"]},
                             "rates": ["cancel:429:0"]}
    params = {"action": "getPolicy", "model": "wan2.7-r2v"}
    assert [client.get("/uploads", params=params).status_code for _ in range(3)] == [500, 500, 200]
    bad = client.post(admin, json={"script": ["nowhere:500"]})
    assert bad.status_code == 400 and "nowhere" in bad.json()["error"]
    assert client.post(admin, json={"clear": True}).json() == {"script": {}, "rates": []}


# --- task faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "code"), [("failed", "InternalError"),
                                            ("moderation", "DataInspectionFailed")])
def test_failed_tasks(client: httpx.Client, emu: EmulatorServer, kind: str, code: str) -> None:
    emu.script(f"task:{kind}")
    done = wait_for(client, submit(client, make_body()))
    output = done["output"]
    assert output["task_status"] == "FAILED"
    assert output["code"] == code and output["message"]
    assert "video_url" not in output and "usage" not in done


def test_tasks_that_turn_unknown(client: httpx.Client, emu: EmulatorServer) -> None:
    emu.script("task:unknown")
    task_id = submit(client, make_body())
    first = client.get(f"/tasks/{task_id}").json()["output"]["task_status"]
    assert first in ("PENDING", "RUNNING")
    assert wait_for(client, task_id)["output"]["task_status"] == "UNKNOWN"


def test_stuck_tasks_stay_running(client: httpx.Client, emu: EmulatorServer) -> None:
    emu.script("task:stuck")
    task_id = submit(client, make_body())
    wait_for(client, task_id, ("RUNNING",))
    time.sleep(0.4)  # twice the latency: a healthy task would have finished
    assert client.get(f"/tasks/{task_id}").json()["output"]["task_status"] == "RUNNING"


# --- the fault syntax ----------------------------------------------------------------------------


def test_fault_options_parse() -> None:
    plan = parse_fault_options(["submit:429:0.5,query:drop:0.1"],
                               ["query:500,query:ok,download:500*2"], seed=3)
    assert plan.describe() == {
        "script": {"query": ["query:500", "query:ok"], "download": ["download:500"] * 2},
        "rates": ["submit:429:0.5", "query:drop:0.1"]}
    assert plan.take("query") == Fault("query", "500")
    assert plan.take("query") is None  # "ok" lets one through


@pytest.mark.parametrize("bad", ["nowhere:500", "query:lost", "task:429", "query:drop=3",
                                 "query", "submit:slow=x", "query:500*"])
def test_bad_scripts_are_refused(bad: str) -> None:
    with pytest.raises(FaultSyntaxError):
        parse_fault_options(scripts=[bad])


@pytest.mark.parametrize("bad", ["submit:429", "submit:429:1.5", "submit:429:-1", "submit:429:x"])
def test_bad_rates_are_refused(bad: str) -> None:
    with pytest.raises(FaultSyntaxError):
        parse_fault_options(rates=[bad])


def test_rates_are_reproducible_by_seed() -> None:
    def draws(seed: int) -> list[bool]:
        plan = FaultPlan(seed=seed)
        plan.add_rate("submit:500:0.5")
        return [plan.take("submit") is not None for _ in range(200)]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)
    assert 60 < sum(draws(1)) < 140
