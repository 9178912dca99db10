"""The emulator over loopback, driven by plain httpx: happy path, rules, uploads, cancel, list."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from storyboard.emulator import EmulatorServer, body_hash, prompt_hash
from storyboard.emulator.server import bind
from storyboard.media import ffmpeg
from tests.fixtures import web
from tests.fixtures.emulator import HEADERS, SUBMIT, make_body, wait_for

STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$")


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    """A quick emulator: tasks finish after 0.2 s, results are plain (fast) renders."""
    with EmulatorServer(latency=0.2, plain_results=True) as server:
        yield server


@pytest.fixture(scope="module")
def idle() -> Iterator[EmulatorServer]:
    """An emulator whose tasks stay PENDING for minutes: nothing renders."""
    with EmulatorServer(latency=600) as server:
        yield server


@pytest.fixture(scope="module")
def bare() -> Iterator[httpx.Client]:
    """A client with no base URL and no headers (building one costs ~0.2 s: share it)."""
    with web.client(timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def _client(emu: EmulatorServer) -> Iterator[httpx.Client]:
    with web.client(base_url=emu.base_url, headers=HEADERS, timeout=10) as http:
        yield http


@pytest.fixture
def client(emu: EmulatorServer, _client: httpx.Client) -> httpx.Client:
    emu.clear_faults()
    return _client


@pytest.fixture(scope="module")
def idle_client(idle: EmulatorServer) -> Iterator[httpx.Client]:
    with web.client(base_url=idle.base_url, headers=HEADERS, timeout=10) as http:
        yield http


def submit(http: httpx.Client, body: dict[str, Any], **headers: str) -> str:
    response = http.post(SUBMIT, json=body, headers=headers)
    assert response.status_code == 200, response.text
    task_id: str = response.json()["output"]["task_id"]
    return task_id


# --- the happy path ----------------------------------------------------------------------------


def test_submit_poll_download_a_real_video(client: httpx.Client, emu: EmulatorServer,
                                           bare: httpx.Client, tmp_path: Path) -> None:
    body = make_body()
    answer = client.post(SUBMIT, json=body)
    assert answer.status_code == 200
    assert answer.json()["output"]["task_status"] == "PENDING"
    assert answer.json()["request_id"]
    task_id = answer.json()["output"]["task_id"]
    first = client.get(f"/tasks/{task_id}").json()["output"]
    assert first["task_status"] in ("PENDING", "RUNNING")
    assert first["orig_prompt"] == body["input"]["prompt"]

    done = wait_for(client, task_id)
    output, usage = done["output"], done["usage"]
    assert output["task_status"] == "SUCCEEDED"
    assert output["orig_prompt"] == body["input"]["prompt"]
    for name in ("submit_time", "scheduled_time", "end_time"):
        assert STAMP.match(output[name]), output[name]
    assert usage == {"duration": 2, "input_video_duration": 0, "output_video_duration": 2,
                     "video_count": 1, "SR": 720, "ratio": "16:9"}
    assert "Expires=" in output["video_url"]

    video = bare.get(output["video_url"])  # a pre-signed URL: no Authorization
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    path = tmp_path / "result.mp4"
    path.write_bytes(video.content)
    info = ffmpeg.probe(path)
    assert info.video is not None and (info.video.width, info.video.height) == (1280, 720)
    assert info.audio is not None
    assert info.duration is not None and abs(info.duration - 2) < 0.15

    stats = emu.stats()
    assert stats["submissions"]["by_body"][body_hash(body)] == 1
    assert stats["submissions"]["by_prompt"][prompt_hash(body["input"]["prompt"])] == 1


def test_identical_tasks_render_once(client: httpx.Client, emu: EmulatorServer) -> None:
    body = make_body("the render cache prompt")
    # a picture of its own (a plain result draws no words: the prompt alone would share one)
    body["input"]["media"][0]["url"] = "https://example.com/render-cache.png"
    before = emu.stats()["renders"]
    ids = [submit(client, body) for _ in range(3)]
    for task_id in ids:
        assert wait_for(client, task_id)["output"]["task_status"] == "SUCCEEDED"
    after = emu.stats()
    assert after["renders"]["rendered"] - before["rendered"] == 1
    assert after["renders"]["cached"] - before["cached"] == 2
    assert after["submissions"]["by_body"][body_hash(body)] == 3
    assert after["submissions"]["duplicates"] >= 1


def test_plain_results_of_bodies_that_differ_only_by_their_words_render_once(
        client: httpx.Client, emu: EmulatorServer) -> None:
    """A plain result draws no words (benchmarks): shots differing only by them share one file;
    a seed colours the picture, so another seed is another render."""
    def body(words: str) -> dict[str, Any]:  # a picture of its own: a reference no other test's
        made = make_body(words)
        made["input"]["media"][0]["url"] = "https://example.com/plain-words.png"
        return made
    before = emu.stats()["renders"]["rendered"]
    first = submit(client, body("the plain words, beat 1"))
    second = submit(client, body("the plain words, beat 2"))
    for task_id in (first, second):
        assert wait_for(client, task_id)["output"]["task_status"] == "SUCCEEDED"
    assert emu.stats()["renders"]["rendered"] - before == 1
    seeded = body("the plain words, beat 3")
    seeded["parameters"] = {**seeded.get("parameters", {}), "seed": 41}
    assert wait_for(client, submit(client, seeded))["output"]["task_status"] == "SUCCEEDED"
    assert emu.stats()["renders"]["rendered"] - before == 2


def test_a_held_service_keeps_its_tasks_running_until_let_go(client: httpx.Client,
                                                             emu: EmulatorServer) -> None:
    """A test waits on a state, never on a task's latency (issue 95): held, a task of 0.2 s is
    still RUNNING long after it, and ends once let go."""
    emu.hold()
    try:
        task_id = submit(client, make_body("a held task"))
        wait_for(client, task_id, ("RUNNING",))
        time.sleep(1.0)  # five times its latency
        assert client.get(f"/tasks/{task_id}").json()["output"]["task_status"] == "RUNNING"
    finally:
        emu.let_go()
    assert wait_for(client, task_id)["output"]["task_status"] == "SUCCEEDED"


def test_unknown_task_is_unknown(client: httpx.Client) -> None:
    answer = client.get("/tasks/no-such-task")
    assert answer.status_code == 200
    assert answer.json()["output"] == {"task_id": "no-such-task", "task_status": "UNKNOWN"}


def test_result_url_must_be_signed(client: httpx.Client, emu: EmulatorServer,
                                   bare: httpx.Client) -> None:
    task_id = submit(client, make_body())
    url = wait_for(client, task_id)["output"]["video_url"]
    assert bare.get(url).status_code == 200
    assert bare.get(url.split("?")[0]).status_code == 403
    assert bare.get(url.replace("Signature=", "Signature=0")).status_code == 403
    assert bare.get(f"{emu.origin}/results/nope.mp4").status_code == 403


def test_stats_endpoint_matches_the_python_api(emu: EmulatorServer, bare: httpx.Client) -> None:
    deadline = time.monotonic() + 5  # a test before may still be closing its last download
    while (over_http := bare.get(f"{emu.origin}/_emulator/stats").json())["open"] and \
            time.monotonic() < deadline:
        time.sleep(0.02)
    assert set(over_http) == {"submissions", "requests", "faults", "tasks", "renders", "uploads",
                              "webhooks", "cast", "in_flight", "chat", "open",
                              "streamed", "queued"}
    assert over_http["open"] == {}  # no counted call is being answered: the stats are not one
    assert over_http["submissions"] == emu.stats()["submissions"]
    assert set(over_http["tasks"]) == {"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED",
                                       "UNKNOWN"}


# --- validation ----------------------------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A body mutation: ``input.prompt`` = value, or delete it when value is ``...``."""
    def mutate(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = body
        for key in parents:
            node = node[key]
        if value is ...:
            del node[last]
        else:
            node[last] = value
    return mutate


IMAGE = {"type": "reference_image", "url": "https://example.com/a.png"}
VIDEO = {"type": "reference_video", "url": "https://example.com/v.mp4"}
FIRST = {"type": "first_frame", "url": "https://example.com/f.png"}
VOICE = "https://example.com/voice.mp3"

REJECTED = [
    ("no model", _set("model", ...), "BadRequest.EmptyModel"),
    ("unknown model", _set("model", "wan2.6-r2v"), "InvalidParameter"),
    ("no input", _set("input", ...), "BadRequest.EmptyInput"),
    ("no prompt", _set("input.prompt", ...), "BadRequest.EmptyInput"),
    ("blank prompt", _set("input.prompt", "   "), "BadRequest.EmptyInput"),
    ("long prompt", _set("input.prompt", "x" * 5001), "InvalidParameter"),
    ("long negative", _set("input.negative_prompt", "x" * 501), "InvalidParameter"),
    ("no media", _set("input.media", ...), "InvalidParameter"),
    ("first frame alone", _set("input.media", [FIRST]), "InvalidParameter"),
    ("six references", _set("input.media", [IMAGE] * 3 + [VIDEO] * 3), "InvalidParameter"),
    ("two first frames", _set("input.media", [IMAGE, FIRST, FIRST]), "InvalidParameter"),
    ("bad media type", _set("input.media", [{"type": "audio", "url": VOICE}]), "InvalidParameter"),
    ("voice on first frame", _set("input.media", [IMAGE, {**FIRST, "reference_voice": VOICE}]),
     "InvalidParameter"),
    ("file url", _set("input.media", [{**IMAGE, "url": "file:///tmp/a.png"}]), "InvalidURL"),
    ("data video", _set("input.media", [{**VIDEO, "url": "data:video/mp4;base64,AAAA"}]),
     "InvalidURL"),
    ("resolution", _set("parameters.resolution", "480P"), "InvalidParameter"),
    ("ratio", _set("parameters.ratio", "21:9"), "InvalidParameter"),
    ("duration 1", _set("parameters.duration", 1), "InvalidParameter"),
    ("duration 16", _set("parameters.duration", 16), "InvalidParameter"),
    ("duration text", _set("parameters.duration", "5"), "InvalidParameter"),
    ("duration fraction", _set("parameters.duration", 5.5), "InvalidParameter"),
    ("seed negative", _set("parameters.seed", -1), "InvalidParameter"),
    ("seed too big", _set("parameters.seed", 2147483648), "InvalidParameter"),
    ("watermark text", _set("parameters.watermark", "yes"), "InvalidParameter"),
    ("oss without upload", _set("input.media", [{**IMAGE, "url": "oss://nowhere/a.png"}]),
     "InvalidParameter"),  # no resolve header: refused before the lookup
]


@pytest.mark.parametrize(("mutate", "code"), [(m, c) for _, m, c in REJECTED],
                         ids=[name for name, _, _ in REJECTED])
def test_invalid_bodies_are_refused(idle_client: httpx.Client, idle: EmulatorServer,
                                    mutate: Callable[[dict[str, Any]], None], code: str) -> None:
    body = make_body()
    mutate(body)
    before = idle.stats()["submissions"]["total"]
    answer = idle_client.post(SUBMIT, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == code
    assert answer.json()["request_id"] and answer.json()["message"]
    assert idle.stats()["submissions"]["total"] == before


def test_long_durations_with_a_reference_video(idle_client: httpx.Client) -> None:
    body = make_body(duration=11)
    body["input"]["media"] = [VIDEO]
    assert idle_client.post(SUBMIT, json=body).json()["code"] == "InvalidParameter"
    body["parameters"]["duration"] = 10
    assert idle_client.post(SUBMIT, json=body).status_code == 200
    body["input"]["media"] = [IMAGE]
    body["parameters"]["duration"] = 15
    assert idle_client.post(SUBMIT, json=body).status_code == 200


ACCEPTED = [
    ("snapshot model", _set("model", "wan2.7-r2v-2026-06-12")),
    ("prompt at the limit", _set("input.prompt", "x" * 5000)),
    ("negative at the limit", _set("input.negative_prompt", "x" * 500)),
    ("sdk extras", _set("input.extend_prompt", True)),
    ("sdk function", _set("input.function", "reference_to_video")),
    ("no parameters", _set("parameters", ...)),
    ("seed at the top", _set("parameters.seed", 2147483647)),
    ("five references and a first frame",
     _set("input.media", [IMAGE, IMAGE, {**VIDEO, "reference_voice": VOICE}, IMAGE, IMAGE, FIRST])),
    ("data image", _set("input.media", [{**IMAGE, "url": "data:image/png;base64,AAAA"}])),
]


@pytest.mark.parametrize("mutate", [m for _, m in ACCEPTED], ids=[n for n, _ in ACCEPTED])
def test_valid_bodies_are_accepted(idle_client: httpx.Client,
                                   mutate: Callable[[dict[str, Any]], None]) -> None:
    body = make_body()
    mutate(body)
    answer = idle_client.post(SUBMIT, json=body)
    assert answer.status_code == 200, answer.text


def test_headers_and_keys(idle: EmulatorServer, bare: httpx.Client) -> None:
    url = idle.base_url + SUBMIT
    no_key = bare.post(url, json=make_body(), headers={"X-DashScope-Async": "enable"})
    assert (no_key.status_code, no_key.json()["code"]) == (401, "InvalidApiKey")
    for wrong in ("Bearer", "Basic c2stdGVzdA=="):
        refused = bare.post(url, json=make_body(), headers={**HEADERS, "Authorization": wrong})
        assert (refused.status_code, refused.json()["code"]) == (401, "InvalidApiKey")
    sync = bare.post(url, json=make_body(), headers={"Authorization": "Bearer k"})
    assert (sync.status_code, sync.json()["code"]) == (403, "AccessDenied")
    broken = bare.post(url, content=b"{not json", headers=HEADERS)
    assert (broken.status_code, broken.json()["code"]) == (400, "InvalidParameter")
    query = bare.get(f"{idle.base_url}/tasks/x")
    assert (query.status_code, query.json()["code"]) == (401, "InvalidApiKey")


def test_a_configured_key_is_the_only_one_accepted() -> None:
    with EmulatorServer(latency=600, api_key="sk-right") as server, web.client() as http:
        url = server.base_url + SUBMIT
        wrong = http.post(url, json=make_body(), headers=HEADERS)
        assert (wrong.status_code, wrong.json()["code"]) == (401, "InvalidApiKey")
        right = http.post(url, json=make_body(),
                           headers={**HEADERS, "Authorization": "Bearer sk-right"})
        assert right.status_code == 200


# --- uploads -------------------------------------------------------------------------------------


def get_policy(http: httpx.Client) -> dict[str, Any]:
    answer = http.get("/uploads", params={"action": "getPolicy", "model": "wan2.7-r2v"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["request_id"]
    data: dict[str, Any] = answer.json()["data"]
    return data


def upload(http: httpx.Client, policy: dict[str, Any], path: Path, *, key: str | None = None,
           **overrides: str) -> httpx.Response:
    """The OSS form post of spec section 2, fields in the documented order, file last."""
    fields = {"OSSAccessKeyId": policy["oss_access_key_id"], "Signature": policy["signature"],
              "policy": policy["policy"], "key": key or f"{policy['upload_dir']}/{path.name}",
              "x-oss-object-acl": policy["x_oss_object_acl"],
              "x-oss-forbid-overwrite": policy["x_oss_forbid_overwrite"],
              "success_action_status": "200", **overrides}
    with path.open("rb") as handle:
        return http.post(policy["upload_host"], data=fields,
                         files={"file": (path.name, handle, "image/png")})


def test_upload_then_submit_with_oss_urls(client: httpx.Client, emu: EmulatorServer,
                                          make_media: Callable[..., Path], tmp_path: Path) -> None:
    image = make_media("image", tmp_path / "hero.png", width=320, height=320)
    policy = get_policy(client)
    assert policy["expire_in_seconds"] == 300
    assert policy["max_file_size_mb"] == 100
    assert policy["upload_host"].startswith(emu.origin)
    assert policy["x_oss_object_acl"] == "private" and policy["x_oss_forbid_overwrite"] == "true"
    stored = upload(client, policy, image)
    assert (stored.status_code, stored.content) == (200, b"")

    body = make_body("oss prompt")
    body["input"]["media"] = [{"type": "reference_image",
                               "url": f"oss://{policy['upload_dir']}/hero.png"}]
    refused = client.post(SUBMIT, json=body)
    assert (refused.status_code, refused.json()["code"]) == (400, "InvalidParameter")
    task_id = submit(client, body, **{"X-DashScope-OssResourceResolve": "enable"})
    assert wait_for(client, task_id)["output"]["task_status"] == "SUCCEEDED"

    body["input"]["media"][0]["url"] = f"oss://{policy['upload_dir']}/other.png"
    unknown = client.post(SUBMIT, json=body, headers={"X-DashScope-OssResourceResolve": "enable"})
    assert (unknown.status_code, unknown.json()["code"]) == (400, "InvalidURL")


def test_upload_rules(client: httpx.Client, make_media: Callable[..., Path],
                      tmp_path: Path) -> None:
    post = client
    image = make_media("image", tmp_path / "a.png")
    policy = get_policy(client)
    forged = upload(post, policy, image, Signature="AAAA")
    assert forged.status_code == 403 and b"SignatureDoesNotMatch" in forged.content
    outside = upload(post, policy, image, key="elsewhere/a.png")
    assert outside.status_code == 403 and b"AccessDenied" in outside.content
    assert upload(post, policy, image).status_code == 200
    again = upload(post, policy, image)
    assert again.status_code == 409 and b"FileAlreadyExists" in again.content
    no_policy = client.get("/uploads", params={"action": "getPolicy"})
    assert no_policy.status_code == 400


def test_the_file_must_be_the_last_field(client: httpx.Client) -> None:
    policy = get_policy(client)
    fields = {"OSSAccessKeyId": policy["oss_access_key_id"], "Signature": policy["signature"],
              "policy": policy["policy"], "key": f"{policy['upload_dir']}/x.png"}
    parts = [(name, (None, value)) for name, value in fields.items()]
    wrong_order = [("file", ("x.png", b"data", "image/png")), *parts]
    answer = client.post(policy["upload_host"], files=wrong_order)
    assert answer.status_code == 400 and b"InvalidArgument" in answer.content


def test_an_expired_policy_is_refused(make_media: Callable[..., Path], tmp_path: Path) -> None:
    image = make_media("image", tmp_path / "late.png")
    with EmulatorServer(latency=600) as server, \
            web.client(base_url=server.base_url, headers=HEADERS) as http:
        policy = get_policy(http)
        server.advance_clock(301)
        late = upload(http, policy, image)
        assert late.status_code == 403
        assert b"<Code>AccessDenied</Code>" in late.content
        assert upload(http, get_policy(http), image).status_code == 200


def test_policy_lifetime_is_settable(make_media: Callable[..., Path], tmp_path: Path) -> None:
    image = make_media("image", tmp_path / "quick.png")
    with EmulatorServer(latency=600, policy_ttl=0.3) as server, \
            web.client(base_url=server.base_url, headers=HEADERS) as http:
        policy = get_policy(http)
        assert policy["expire_in_seconds"] == 0.3
        time.sleep(0.5)
        assert upload(http, policy, image).status_code == 403


# --- cancel --------------------------------------------------------------------------------------


def test_cancel_only_while_pending(idle_client: httpx.Client, client: httpx.Client) -> None:
    task_id = submit(idle_client, make_body("to be canceled"))
    assert idle_client.post(f"/tasks/{task_id}/cancel").status_code == 200
    output = idle_client.get(f"/tasks/{task_id}").json()["output"]
    assert output["task_status"] == "CANCELED" and STAMP.match(output["end_time"])
    again = idle_client.post(f"/tasks/{task_id}/cancel")
    assert (again.status_code, again.json()["code"]) == (400, "UnsupportedOperation")

    finished = submit(client, make_body())
    wait_for(client, finished)
    late = client.post(f"/tasks/{finished}/cancel")
    assert (late.status_code, late.json()["code"]) == (400, "UnsupportedOperation")
    assert client.post("/tasks/nothing/cancel").status_code == 400


# --- list ----------------------------------------------------------------------------------------


def compact(when: float) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(when))


def test_list_windows_filters_and_pages() -> None:
    with EmulatorServer(latency=600) as server, \
            web.client(base_url=server.base_url, headers=HEADERS, timeout=10) as http:
        ids = [submit(http, make_body(f"list {i}")) for i in range(3)]
        snapshot = make_body("list snapshot")
        snapshot["model"] = "wan2.7-r2v-2026-06-12"
        ids.append(submit(http, snapshot))
        http.post(f"/tasks/{ids[0]}/cancel")
        now = time.time()
        window = {"start_time": compact(now - 3600), "end_time": compact(now + 60)}

        def listing(**params: Any) -> dict[str, Any]:
            answer = http.get("/tasks", params={**window, **params})
            assert answer.status_code == 200, answer.text
            data: dict[str, Any] = answer.json()
            return data

        every = listing()
        assert every["total"] == 4 and every["total_page"] == 1
        assert {item["task_id"] for item in every["data"]} == set(ids)
        item = every["data"][0]
        assert set(item) == {"task_id", "status", "model_name", "gmt_create", "start_time",
                             "end_time", "request_id"}
        assert STAMP.match(item["gmt_create"])
        assert listing(model_name="wan2.7-r2v")["total"] == 3
        assert listing(model_name="wan2.7-r2v-2026-06-12")["total"] == 1
        canceled = listing(status="CANCELED")
        assert [i["task_id"] for i in canceled["data"]] == [ids[0]]
        assert listing(status="PENDING")["total"] == 3
        pages = [listing(page_size=3, page_no=n) for n in (1, 2)]
        assert [len(p["data"]) for p in pages] == [3, 1]
        assert pages[0]["total_page"] == 2 and pages[1]["page_no"] == 2
        assert {i["task_id"] for p in pages for i in p["data"]} == set(ids)
        past = listing(start_time=compact(now - 7200), end_time=compact(now - 3600))
        assert past["total"] == 0 and past["data"] == []
        assert http.get("/tasks").json()["total"] == 4  # no window: the last 24 hours

        for bad in ({"start_time": compact(now - 90000), "end_time": compact(now)},
                    {"start_time": "2026-01-01", "end_time": compact(now)},
                    {**window, "page_size": "0"}, {**window, "status": "DONE"}):
            refused = http.get("/tasks", params=bad)
            assert (refused.status_code, refused.json()["code"]) == (400, "InvalidParameter")

        server.advance_clock(86400 + 60)  # a day later the tasks are gone
        assert http.get(f"/tasks/{ids[1]}").json()["output"]["task_status"] == "UNKNOWN"
        assert http.get("/tasks").json()["total"] == 0


def test_the_time_zone_is_settable() -> None:
    with EmulatorServer(latency=600, utc_offset_hours=8) as server, \
            web.client(base_url=server.base_url, headers=HEADERS, timeout=10) as http:
        submit(http, make_body())
        now = time.time()
        utc = {"start_time": compact(now - 600), "end_time": compact(now + 60)}
        beijing = {"start_time": compact(now + 8 * 3600 - 600),
                   "end_time": compact(now + 8 * 3600 + 60)}
        assert http.get("/tasks", params=utc).json()["total"] == 0
        assert http.get("/tasks", params=beijing).json()["total"] == 1


def test_servers_bind_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        bind("0.0.0.0", 0)


def test_each_connection_answers_without_nagle() -> None:
    """The listening socket says TCP, so asyncio turns Nagle off on every accepted connection
    (an answer's headers and body went out as two segments, the second held for the client's
    delayed ACK: about 40 ms a request)."""
    import socket

    listening = bind("127.0.0.1", 0)
    try:
        assert listening.proto == socket.IPPROTO_TCP
        client = socket.create_connection(listening.getsockname()[:2])
        listening.setblocking(True)
        accepted, _ = listening.accept()
        with client, accepted:
            assert accepted.proto == socket.IPPROTO_TCP  # what asyncio's _set_nodelay asks
    finally:
        listening.close()
