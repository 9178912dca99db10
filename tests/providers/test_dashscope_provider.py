"""The DashScope provider against an in-process fake service (httpx.MockTransport, no patching)."""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import json
import math
import pickle
import re
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from storyboard.errors import (
    AuthError,
    ConnectFailed,
    MediaError,
    ProblemsFound,
    ProviderError,
    RateLimited,
    RequestRejected,
    ServerError,
    TransportError,
    UnreadAnswer,
)
from storyboard.language.request import CompiledShot, MediaItem, MediaRef, ShotRequest
from storyboard.providers.dashscope.provider import (
    BASE_URL_ENV,
    KEY_ENV,
    REGIONS,
    DashScopeProvider,
    DashScopeSettings,
    Timeouts,
)
from storyboard.providers.protocol import ApiKey, number
from storyboard.run.trip.guards.verdicts import is_ambiguous
from storyboard.targets import PriceTable, TaskState, TaskStatus

BASE = "https://dashscope.test/api/v1"
UPLOAD_HOST = "https://oss.test"
UPLOAD_DIR = "dashscope-instant/0123abcd/2026-01-01/xyz"
RESULT_URL = "https://results.test/out/video.mp4?Expires=1&Signature=abc"
KEY = "sk-test-0ddba11-secret"
T0 = 1_780_000_000.0  # a fixed "now" (2026-05-28 20:26:40 UTC)

T = TypeVar("T")
MakeMedia = Callable[..., Path]


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


Part = tuple[str, str | None, bytes]  # (field name, file name, content)


def multipart(request: httpx.Request) -> list[Part]:
    boundary = request.headers["content-type"].split("boundary=")[1].encode()
    parts: list[Part] = []
    for chunk in request.content.split(b"--" + boundary)[1:-1]:
        head, _, body = chunk[2:].partition(b"\r\n\r\n")
        name = re.search(rb'; name="([^"]*)"', head)
        filename = re.search(rb'filename="([^"]*)"', head)
        assert name is not None
        parts.append((name.group(1).decode(), filename.group(1).decode() if filename else None,
                      body[:-2]))
    return parts


class FakeDashScope:
    """A tiny DashScope + OSS + result host that records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.uploads: list[list[Part]] = []
        self.tasks: dict[str, dict[str, Any]] = {}
        self.usage: dict[str, dict[str, Any]] = {}
        self.listed: list[dict[str, Any]] = []
        self.scripted: dict[str, list[httpx.Response | Exception]] = {}
        self.video = bytes(range(256)) * 4096  # 1 MiB
        self.policy_expires = 300

    def script(self, route: str, *answers: httpx.Response | Exception) -> None:
        self.scripted.setdefault(route, []).extend(answers)

    def sent(self, route: str) -> list[httpx.Request]:
        return [r for r in self.requests if self.route(r) == route]

    @staticmethod
    def route(request: httpx.Request) -> str:
        host, path = request.url.host, request.url.path
        if host == "oss.test":
            return "upload"
        if host == "results.test":
            return "download"
        if path.endswith("/video-synthesis"):
            return "submit"
        if path == "/api/v1/uploads":
            return "policy"
        if path == "/api/v1/tasks":
            return "list"
        if path.endswith("/cancel"):
            return "cancel"
        return "query"

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # let concurrent callers interleave, as on a real network
        self.requests.append(request)
        route = self.route(request)
        queue = self.scripted.get(route)
        if queue:
            answer = queue.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        handler: Callable[[httpx.Request], httpx.Response] = getattr(self, f"on_{route}")
        return handler(request)

    def on_submit(self, request: httpx.Request) -> httpx.Response:
        task_id = f"task-{len(self.tasks) + 1}"
        body = json.loads(request.content)
        self.tasks[task_id] = {"task_id": task_id, "task_status": "PENDING",
                               "orig_prompt": body["input"]["prompt"]}
        return httpx.Response(200, json={"request_id": "r1", "output": {
            "task_id": task_id, "task_status": "PENDING"}})

    def on_query(self, request: httpx.Request) -> httpx.Response:
        task_id = request.url.path.rsplit("/", 1)[1]
        output = self.tasks.get(task_id, {"task_id": task_id, "task_status": "UNKNOWN"})
        answer: dict[str, Any] = {"request_id": "r2", "output": output}
        if task_id in self.usage:
            answer["usage"] = self.usage[task_id]
        return httpx.Response(200, json=answer)

    def on_cancel(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"request_id": "r3"})

    def on_list(self, request: httpx.Request) -> httpx.Response:
        page_no = int(request.url.params["page_no"])
        size = int(request.url.params["page_size"])
        page = self.listed[(page_no - 1) * size:page_no * size]
        return httpx.Response(200, json={
            "request_id": "r4", "data": page, "total": len(self.listed),
            "total_page": max(math.ceil(len(self.listed) / size), 1), "page_no": page_no,
            "page_size": size})

    def on_policy(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"request_id": "r5", "data": {
            "policy": "cG9saWN5", "signature": "c2ln", "upload_dir": UPLOAD_DIR,
            "upload_host": UPLOAD_HOST, "expire_in_seconds": self.policy_expires,
            "max_file_size_mb": 100, "capacity_limit_mb": 999999,
            "oss_access_key_id": "LTAI-upload", "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true"}})

    def on_upload(self, request: httpx.Request) -> httpx.Response:
        self.uploads.append(multipart(request))
        return httpx.Response(200)

    def on_download(self, request: httpx.Request) -> httpx.Response:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(self.video), 65536):
                yield self.video[i:i + 65536]

        return httpx.Response(200, headers={"content-length": str(len(self.video))},
                              content=chunks())


@pytest.fixture
def fake() -> FakeDashScope:
    return FakeDashScope()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.delenv(BASE_URL_ENV, raising=False)


def provider_for(fake: FakeDashScope, clock: Clock, **settings: Any) -> DashScopeProvider:
    settings.setdefault("base_url", BASE)
    return DashScopeProvider(DashScopeSettings(**settings),
                             transport=httpx.MockTransport(fake.handle), clock=clock)


def compiled(media: tuple[MediaItem, ...], *, shot_id: str = "s01", prompt: str | None = None,
             seed: int | None = 42) -> CompiledShot:
    request = ShotRequest(model="wan2.7-r2v",
                          prompt=prompt or "Image 1 greets Video 1 in a coffee shop.",
                          media=media, resolution="720P", ratio="16:9", duration=8,
                          prompt_extend=False, watermark=False, negative_prompt="blurry",
                          seed=seed)
    return CompiledShot(series="cafe", episode="e1", id=shot_id, request=request, hash="h" * 64)


def local(path: Path) -> MediaRef:
    return MediaRef(path=path)


@pytest.fixture
def files(tmp_path: Path, make_media: MakeMedia) -> dict[str, Path]:
    return {
        "image": make_media("image", tmp_path / "secret-dir" / "anna.png"),
        "video": make_media("video", tmp_path / "secret-dir" / "ben.mp4", seconds=1.0),
        "voice": make_media("voice", tmp_path / "secret-dir" / "ben.wav", seconds=1.0),
        "frame": make_media("image", tmp_path / "frames" / "last.png", color="red"),
    }


def full_shot(files: dict[str, Path]) -> CompiledShot:
    return compiled((
        MediaItem("reference_image", local(files["image"]), label="Image 1"),
        MediaItem("reference_video", local(files["video"]), label="Video 1",
                  voice=local(files["voice"])),
        MediaItem("first_frame", None, from_shot="s00"),
    ))


# ---------------------------------------------------------------------------------------------
# submit


def test_submit_sends_the_native_body_with_uploads(fake: FakeDashScope, clock: Clock,
                                                   files: dict[str, Path]) -> None:
    async def go() -> str:
        async with provider_for(fake, clock) as provider:
            return await provider.submit(full_shot(files), files["frame"])

    assert run(go()) == "task-1"
    [submit] = fake.sent("submit")
    assert submit.method == "POST"
    assert submit.url == BASE + "/services/aigc/video-generation/video-synthesis"
    assert submit.headers["authorization"] == f"Bearer {KEY}"
    assert submit.headers["x-dashscope-async"] == "enable"
    assert submit.headers["x-dashscope-ossresourceresolve"] == "enable"
    assert submit.headers["content-type"] == "application/json"
    body = json.loads(submit.content)
    assert body["model"] == "wan2.7-r2v"
    assert body["input"]["prompt"] == "Image 1 greets Video 1 in a coffee shop."
    assert body["input"]["negative_prompt"] == "blurry"
    media = body["input"]["media"]
    assert [m["type"] for m in media] == ["reference_image", "reference_video", "first_frame"]
    assert all(m["url"].startswith(f"oss://{UPLOAD_DIR}/") for m in media)
    assert "reference_voice" not in media[0] and "reference_voice" not in media[2]
    assert media[1]["reference_voice"].startswith(f"oss://{UPLOAD_DIR}/")
    assert media[1]["reference_voice"].endswith(".wav")
    assert media[2]["url"].endswith(".png") and media[2]["url"] != media[0]["url"]
    assert body["parameters"] == {"resolution": "720P", "ratio": "16:9", "duration": 8,
                                  "prompt_extend": False, "watermark": False, "seed": 42}
    assert len(fake.uploads) == 4  # image, video, voice, first frame


def test_submit_with_urls_only_uploads_nothing_and_sends_no_resolve_header(
        fake: FakeDashScope, clock: Clock) -> None:
    shot = compiled((MediaItem("reference_image", MediaRef(url="https://cdn.test/a.png"),
                               voice=MediaRef(url="https://cdn.test/a.mp3")),),
                    seed=None)

    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.submit(shot, None)

    run(go())
    assert [fake.route(r) for r in fake.requests] == ["submit"]
    [submit] = fake.requests
    assert "x-dashscope-ossresourceresolve" not in submit.headers
    body = json.loads(submit.content)
    assert body["input"]["media"] == [{"type": "reference_image", "url": "https://cdn.test/a.png",
                                       "reference_voice": "https://cdn.test/a.mp3"}]
    assert "seed" not in body["parameters"]


def test_small_images_go_as_data_uris_but_never_video_or_audio(
        fake: FakeDashScope, clock: Clock, files: dict[str, Path]) -> None:
    async def go() -> None:
        async with provider_for(fake, clock, use_data_uris_below=50_000_000) as provider:
            await provider.submit(full_shot(files), files["frame"])

    run(go())
    media = json.loads(fake.sent("submit")[0].content)["input"]["media"]
    prefix = "data:image/png;base64,"
    assert media[0]["url"].startswith(prefix)
    assert base64.b64decode(media[0]["url"][len(prefix):]) == files["image"].read_bytes()
    assert media[2]["url"].startswith(prefix)  # the first frame is an image too
    assert media[1]["url"].startswith("oss://") and media[1]["reference_voice"].startswith("oss://")
    assert [p[1] for upload in fake.uploads for p in upload if p[0] == "file"] == [
        f"{hashlib.sha256(files[k].read_bytes()).hexdigest()[:32]}{files[k].suffix}"
        for k in ("video", "voice")]


def test_a_first_frame_that_is_not_needed_is_not_uploaded(
        fake: FakeDashScope, clock: Clock, files: dict[str, Path]) -> None:
    shot = compiled((MediaItem("reference_image", local(files["image"])),
                     MediaItem("first_frame", MediaRef(url="https://cdn.test/f.png"))))

    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.submit(shot, files["frame"])

    run(go())
    assert len(fake.uploads) == 1
    media = json.loads(fake.sent("submit")[0].content)["input"]["media"]
    assert media[1] == {"type": "first_frame", "url": "https://cdn.test/f.png"}


def test_images_over_the_data_uri_limit_are_uploaded(fake: FakeDashScope, clock: Clock,
                                                     files: dict[str, Path]) -> None:
    limit = files["image"].stat().st_size  # "below": a file of exactly this size is uploaded
    shot = compiled((MediaItem("reference_image", local(files["image"])),))

    async def go() -> None:
        async with provider_for(fake, clock, use_data_uris_below=limit) as provider:
            await provider.submit(shot, None)

    run(go())
    assert len(fake.uploads) == 1


def test_submit_without_the_needed_first_frame_sends_nothing(
        fake: FakeDashScope, clock: Clock, files: dict[str, Path]) -> None:
    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.submit(full_shot(files), None)

    with pytest.raises(ProviderError, match="s00") as info:
        run(go())
    assert info.value.shot == "s01" and not fake.requests


def test_submit_of_a_missing_file_is_a_media_error(fake: FakeDashScope, clock: Clock,
                                                   tmp_path: Path) -> None:
    shot = compiled((MediaItem("reference_image", local(tmp_path / "gone.png")),))

    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.submit(shot, None)

    with pytest.raises(MediaError, match=r"gone\.png"):
        run(go())
    assert not fake.sent("submit")


# ---------------------------------------------------------------------------------------------
# uploads


def test_upload_form_fields_in_order_file_last_no_local_path_no_bearer(
        fake: FakeDashScope, clock: Clock, files: dict[str, Path]) -> None:
    shot = compiled((MediaItem("reference_image", local(files["image"])),))

    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.submit(shot, None)

    run(go())
    [policy] = fake.sent("policy")
    assert policy.method == "GET" and policy.url.path == "/api/v1/uploads"
    assert dict(policy.url.params) == {"action": "getPolicy", "model": "wan2.7-r2v"}
    assert policy.headers["authorization"] == f"Bearer {KEY}"
    [upload] = fake.sent("upload")
    assert upload.method == "POST" and str(upload.url) == UPLOAD_HOST
    assert "authorization" not in upload.headers
    parts = fake.uploads[0]
    assert [p[0] for p in parts] == ["OSSAccessKeyId", "Signature", "policy", "key",
                                     "x-oss-object-acl", "x-oss-forbid-overwrite",
                                     "success_action_status", "file"]
    fields = {name: content.decode() for name, _, content in parts[:-1]}
    digest = hashlib.sha256(files["image"].read_bytes()).hexdigest()
    assert fields == {"OSSAccessKeyId": "LTAI-upload", "Signature": "c2ln", "policy": "cG9saWN5",
                      "key": f"{UPLOAD_DIR}/{digest[:32]}.png", "x-oss-object-acl": "private",
                      "x-oss-forbid-overwrite": "true", "success_action_status": "200"}
    assert parts[-1][1] == f"{digest[:32]}.png"
    assert parts[-1][2] == files["image"].read_bytes()
    assert b"secret-dir" not in upload.content and b"anna" not in upload.content
    body = json.loads(fake.sent("submit")[0].content)
    assert body["input"]["media"][0]["url"] == f"oss://{UPLOAD_DIR}/{digest[:32]}.png"


def test_each_content_is_uploaded_once_and_the_policy_reused(
        fake: FakeDashScope, clock: Clock, files: dict[str, Path], tmp_path: Path,
        make_media: MakeMedia) -> None:
    twin = make_media("image", tmp_path / "elsewhere" / "copy.png")  # same bytes, other path
    other = make_media("image", tmp_path / "other.png", color="blue")
    one = compiled((MediaItem("reference_image", local(files["image"])),
                    MediaItem("reference_image", local(twin))), shot_id="s01")
    two = compiled((MediaItem("reference_image", local(twin)),
                    MediaItem("reference_image", local(other))), shot_id="s02")

    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await asyncio.gather(provider.submit(one, None), provider.submit(one, None))
            clock.now += 200  # still inside the policy's 300 s (minus margin)
            await provider.submit(two, None)

    run(go())
    assert len(fake.uploads) == 2
    assert len(fake.sent("policy")) == 1
    urls = {m["url"] for r in fake.sent("submit") for m in json.loads(r.content)["input"]["media"]}
    assert len(urls) == 2


def test_an_expired_policy_is_fetched_again(fake: FakeDashScope, clock: Clock,
                                            files: dict[str, Path]) -> None:
    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.submit(compiled((MediaItem("reference_image",
                                                      local(files["image"])),)), None)
            clock.now += 241  # past 300 s minus the 60 s margin
            await provider.submit(compiled((MediaItem("reference_image",
                                                      local(files["frame"])),)), None)

    run(go())
    assert len(fake.sent("policy")) == 2 and len(fake.uploads) == 2


def test_an_uploaded_file_is_sent_again_once_it_expires(fake: FakeDashScope, clock: Clock,
                                                         files: dict[str, Path]) -> None:
    shot = compiled((MediaItem("reference_image", local(files["image"])),))

    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.submit(shot, None)
            clock.now += 40 * 3600  # still valid (48 h minus margin)
            await provider.submit(shot, None)
            clock.now += 7 * 3600  # 47 h: too close to its end for a task that may queue
            await provider.submit(shot, None)

    run(go())
    assert len(fake.uploads) == 2


def test_access_denied_upload_is_auth_error_and_drops_the_policy(
        fake: FakeDashScope, clock: Clock, files: dict[str, Path]) -> None:
    xml = ("<?xml version='1.0'?><Error><Code>AccessDenied</Code>"
           "<Message>Invalid according to Policy: Policy expired.</Message></Error>")
    fake.script("upload", httpx.Response(403, text=xml,
                                         headers={"content-type": "application/xml"}))
    shot = compiled((MediaItem("reference_image", local(files["image"])),))

    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            with pytest.raises(AuthError) as info:
                await provider.submit(shot, None)
            assert info.value.code == "AccessDenied" and info.value.shot == "s01"
            assert "Policy expired" in str(info.value) and not info.value.retryable
            await provider.submit(shot, None)

    run(go())
    assert len(fake.sent("policy")) == 2
    assert len(fake.sent("submit")) == 1


def test_file_already_exists_counts_as_uploaded(fake: FakeDashScope, clock: Clock,
                                                files: dict[str, Path]) -> None:
    fake.script("upload", httpx.Response(
        409, text="<Error><Code>FileAlreadyExists</Code><Message>exists</Message></Error>"))
    shot = compiled((MediaItem("reference_image", local(files["image"])),))

    async def go() -> str:
        async with provider_for(fake, clock) as provider:
            return await provider.submit(shot, None)

    assert run(go()) == "task-1"


def test_upload_server_error_is_retryable(fake: FakeDashScope, clock: Clock,
                                          files: dict[str, Path]) -> None:
    fake.script("upload", httpx.Response(503, text="busy"))
    shot = compiled((MediaItem("reference_image", local(files["image"])),))

    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.submit(shot, None)

    with pytest.raises(ServerError) as info:
        run(go())
    assert info.value.retryable and not fake.sent("submit")


# ---------------------------------------------------------------------------------------------
# query


def query(fake: FakeDashScope, clock: Clock, output: dict[str, Any],
          usage: dict[str, Any] | None = None) -> TaskState:
    fake.tasks["t-1"] = {"task_id": "t-1", **output}
    if usage is not None:
        fake.usage["t-1"] = usage

    async def go() -> TaskState:
        async with provider_for(fake, clock) as provider:
            return await provider.query("t-1")

    return run(go())


@pytest.mark.parametrize("word", [s.value for s in TaskStatus])
def test_every_status_word(fake: FakeDashScope, clock: Clock, word: str) -> None:
    state = query(fake, clock, {"task_status": word})
    assert state.status is TaskStatus(word)
    # UNKNOWN says nothing final: its note names the word (the runner quotes it), others say none
    assert state.message == ("task status 'UNKNOWN', which says nothing final"
                             if word == "UNKNOWN" else "")
    [request] = fake.requests
    assert request.method == "GET" and request.url == BASE + "/tasks/t-1"
    assert request.headers["authorization"] == f"Bearer {KEY}"


def test_an_unrecognised_status_is_unknown_and_keeps_the_word(fake: FakeDashScope,
                                                              clock: Clock) -> None:
    state = query(fake, clock, {"task_status": "THINKING_HARD"})
    assert state.status is TaskStatus.UNKNOWN and "THINKING_HARD" in state.message


def test_a_failed_task_carries_code_and_message(fake: FakeDashScope, clock: Clock) -> None:
    state = query(fake, clock, {"task_status": "FAILED", "code": "DataInspectionFailed",
                                "message": "Output data may contain inappropriate content."})
    assert state.status is TaskStatus.FAILED
    assert state.code == "DataInspectionFailed" and "inappropriate" in state.message


def test_a_succeeded_task(fake: FakeDashScope, clock: Clock) -> None:
    state = query(fake, clock, {"task_status": "SUCCEEDED", "video_url": RESULT_URL,
                                "submit_time": "2026-04-02 22:53:19.537", "orig_prompt": "x"},
                  {"duration": 15, "input_video_duration": 5, "output_video_duration": 10,
                   "video_count": 1, "SR": 720, "ratio": "16:9"})
    assert state.video_url == RESULT_URL and state.submit_time == "2026-04-02 22:53:19.537"
    assert state.usage is not None
    assert (state.usage.output_seconds, state.usage.input_video_seconds) == (10.0, 5.0)
    assert state.raw["output"]["orig_prompt"] == "x"


@pytest.mark.parametrize(("usage", "expected"), [
    ({"output_video_duration": "10.0", "input_video_duration": "3", "SR": "720"}, (10.0, 3.0)),
    ({"output_video_duration": 7.5, "input_video_duration": 2.0, "SR": 1080.0}, (7.5, 2.0)),
    ({"duration": "10.0", "SR": "720"}, (10.0, 0.0)),  # only the billed total
    ({"duration": 15, "input_video_duration": "5"}, (10.0, 5.0)),
])
def test_usage_numbers_are_read_leniently(fake: FakeDashScope, clock: Clock,
                                          usage: dict[str, Any],
                                          expected: tuple[float, float]) -> None:
    state = query(fake, clock, {"task_status": "SUCCEEDED"}, usage)
    assert state.usage is not None
    assert (state.usage.output_seconds, state.usage.input_video_seconds) == expected


def test_number() -> None:
    assert [number(v) for v in (720, 7.5, "720", " 10.0 ", "5 s", "x", None, True)] == [
        720.0, 7.5, 720.0, 10.0, 5.0, None, None, None]


def test_task_ids_are_escaped_in_paths(fake: FakeDashScope, clock: Clock) -> None:
    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.query("../uploads?x=1")

    run(go())
    assert fake.requests[0].url.raw_path == b"/api/v1/tasks/..%2Fuploads%3Fx%3D1"


# ---------------------------------------------------------------------------------------------
# errors


def failing(fake: FakeDashScope, clock: Clock, answer: httpx.Response | Exception,
            files: dict[str, Path] | None = None) -> ProviderError:
    fake.script("submit", answer)
    shot = compiled((MediaItem("reference_image", MediaRef(url="https://cdn.test/a.png")),))

    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.submit(shot, None)

    with pytest.raises(ProviderError) as info:
        run(go())
    error = info.value
    assert "[dashscope]" in str(error) and "shot s01" in str(error)
    assert error.provider == "dashscope" and error.shot == "s01"
    return error


def answer(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"request_id": "r", "code": code, "message": message},
                          headers=headers)


@pytest.mark.parametrize(("response", "kind", "code", "retryable"), [
    (answer(429, "Throttling.RateQuota", "Requests rate limit exceeded"), RateLimited,
     "Throttling.RateQuota", True),
    (answer(429, "Throttling.AllocationQuota", "Free allocated quota exceeded."),
     RequestRejected, "Throttling.AllocationQuota", False),
    (answer(500, "InternalError", "oops"), ServerError, "InternalError", True),
    (httpx.Response(503, text="<html>Service Unavailable</html>"), ServerError, "", True),
    (answer(401, "InvalidApiKey", "Invalid API-key provided."), AuthError, "InvalidApiKey",
     False),
    (answer(403, "AccessDenied", "Access denied."), AuthError, "AccessDenied", False),
    (answer(400, "InvalidParameter", "duration must be 2..10"), RequestRejected,
     "InvalidParameter", False),
    (answer(400, "DataInspectionFailed", "Input data may contain inappropriate content."),
     RequestRejected, "DataInspectionFailed", False),
    (answer(400, "Arrearage", "Access denied, please make sure your account is in good "
                              "standing."), RequestRejected, "Arrearage", False),
])
def test_http_errors_are_translated(fake: FakeDashScope, clock: Clock, response: httpx.Response,
                                    kind: type[ProviderError], code: str,
                                    retryable: bool) -> None:
    error = failing(fake, clock, response)
    assert type(error) is kind and error.code == code and error.retryable is retryable
    assert error.status == response.status_code
    if code:
        assert code in str(error)


def test_rate_limited_carries_retry_after(fake: FakeDashScope, clock: Clock) -> None:
    error = failing(fake, clock, answer(429, "Throttling.RateQuota", "slow down",
                                        **{"Retry-After": "7"}))
    assert isinstance(error, RateLimited) and error.retry_after == 7.0
    error = failing(fake, clock, answer(429, "Throttling.RateQuota", "slow down"))
    assert isinstance(error, RateLimited) and error.retry_after is None
    soon = email.utils.formatdate(time.time() + 60, usegmt=True)
    error = failing(fake, clock, answer(429, "Throttling", "x", **{"Retry-After": soon}))
    assert error.retry_after is not None and 50 < error.retry_after <= 60
    error = failing(fake, clock, answer(429, "Throttling", "x",
                                        **{"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}))
    assert error.retry_after is None  # not believed: the run's own backoff, not 70 years


@pytest.mark.parametrize(("exc", "kind"), [
    (httpx.ConnectError("connection refused"), ConnectFailed),
    (httpx.ConnectTimeout("timed out"), ConnectFailed),
    (httpx.PoolTimeout("no connection free"), ConnectFailed),
    (httpx.ReadTimeout("timed out"), TransportError),
    (httpx.ReadError("reset by peer"), TransportError),
    (httpx.WriteError("broken pipe"), TransportError),
    (httpx.RemoteProtocolError("server hung up"), TransportError),
])
def test_transport_failures_are_retryable(fake: FakeDashScope, clock: Clock, exc: Exception,
                                          kind: type[TransportError]) -> None:
    # ConnectFailed: the request surely never arrived; any other may have (the runner finds).
    error = failing(fake, clock, exc)
    assert type(error) is kind and error.retryable
    assert isinstance(error.__cause__, httpx.TransportError)


@pytest.mark.parametrize("response", [
    httpx.Response(200, text="<html>gateway says hi</html>",
                   headers={"content-type": "text/html"}),
    httpx.Response(200, json=["not", "an", "object"]),
])
def test_non_json_or_malformed_answers_are_clear_provider_errors(
        fake: FakeDashScope, clock: Clock, response: httpx.Response) -> None:
    error = failing(fake, clock, response)
    assert type(error) is ProviderError and not error.retryable
    assert re.search(r"not a JSON object|malformed", str(error))


@pytest.mark.parametrize("response", [
    httpx.Response(200, json={"request_id": "r", "output": {"task_status": "PENDING"}}),
    httpx.Response(200, json={"request_id": "r"}),
])
def test_a_submit_answer_without_a_task_id_may_have_made_one(
        fake: FakeDashScope, clock: Clock, response: httpx.Response) -> None:
    """54.5: no refusal, so a lost answer (the runner looks the task up, never resends)."""
    error = failing(fake, clock, response)
    assert type(error) is UnreadAnswer and error.retryable and is_ambiguous(error)
    assert "neither a task nor a documented refusal" in str(error)


def test_a_malformed_query_answer(fake: FakeDashScope, clock: Clock) -> None:
    fake.script("query", httpx.Response(200, json={"output": {"task_id": "t-1"}}))

    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.query("t-1")

    with pytest.raises(ProviderError, match="task_status"):
        run(go())


def test_every_request_has_timeouts(fake: FakeDashScope, clock: Clock,
                                    files: dict[str, Path]) -> None:
    shot = compiled((MediaItem("reference_image", local(files["image"])),))

    async def go() -> None:
        async with provider_for(fake, clock, timeouts=Timeouts(connect=3, read=30, upload=99,
                                                                download=77)) as provider:
            task_id = await provider.submit(shot, None)
            await provider.query(task_id)
            await provider.download(TaskState(task_id, TaskStatus.SUCCEEDED, RESULT_URL),
                                    files["frame"].parent / "out.mp4")

    run(go())
    seen = {fake.route(r): r.extensions["timeout"] for r in fake.requests}
    for route in ("policy", "submit", "query"):
        assert seen[route] == {"connect": 3, "read": 30, "write": 30, "pool": 30}
    assert seen["upload"] == {"connect": 3, "read": 99, "write": 99, "pool": 99}
    assert seen["download"] == {"connect": 3, "read": 77, "write": 77, "pool": 77}


# ---------------------------------------------------------------------------------------------
# cancel


def test_cancel(fake: FakeDashScope, clock: Clock) -> None:
    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.cancel("t-9")

    run(go())
    [request] = fake.requests
    assert request.method == "POST" and request.url == BASE + "/tasks/t-9/cancel"
    assert request.content == b"" and request.headers["authorization"] == f"Bearer {KEY}"


def test_cancel_of_a_running_task_is_rejected(fake: FakeDashScope, clock: Clock) -> None:
    fake.script("cancel", answer(400, "UnsupportedOperation",
                                 "Failed to cancel the task, please confirm if the task is in "
                                 "PENDING status."))

    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.cancel("t-9")

    with pytest.raises(RequestRejected) as info:
        run(go())
    assert info.value.code == "UnsupportedOperation" and not info.value.retryable


# ---------------------------------------------------------------------------------------------
# find


def listed(task_id: str, created: str) -> dict[str, Any]:
    return {"task_id": task_id, "status": "RUNNING", "model_name": "wan2.7-r2v",
            "gmt_create": created, "start_time": created, "end_time": "", "request_id": "r"}


def test_find_walks_every_page_and_returns_the_newest_match(fake: FakeDashScope,
                                                           clock: Clock) -> None:
    shot = compiled((MediaItem("reference_image", MediaRef(url="https://cdn.test/a.png")),),
                    prompt="the prompt of s01")
    fake.listed = [listed(f"other-{i}", f"2026-05-28 20:1{i % 10}:00.000") for i in range(45)]
    fake.listed[3] = listed("old-match", "2026-05-28 20:00:00.000")
    fake.listed[44] = listed("new-match", "2026-05-28 20:25:00.000")  # on page 3 of 20 a page
    for item in fake.listed:
        fake.tasks[item["task_id"]] = {"task_id": item["task_id"], "task_status": "RUNNING",
                                       "orig_prompt": "another shot"}
    fake.tasks["old-match"]["orig_prompt"] = "the prompt of s01"
    fake.tasks["new-match"]["orig_prompt"] = "the prompt of s01"

    async def go() -> list[TaskState]:
        async with provider_for(fake, clock) as provider:
            return await provider.find(shot, since=T0 - 600)

    # every match, newest first: the runner tells twins apart, never the provider
    assert [state.task_id for state in run(go())] == ["new-match", "old-match"]
    pages = fake.sent("list")
    # every page of the window read as UTC, then of the same window read as Beijing time
    assert [p.url.params["page_no"] for p in pages] == ["1", "2", "3", "1", "2", "3"]
    params = pages[0].url.params
    assert params["model_name"] == "wan2.7-r2v"
    assert params["start_time"] == "20260528201440"  # since - 600 s - 120 s of clock skew
    assert params["end_time"] == "20260528202840"  # now + 120 s
    assert pages[3].url.params["start_time"] == "20260529041440"  # the same, 8 h later
    assert pages[3].url.params["end_time"] == "20260529042840"
    assert pages[0].headers["authorization"] == f"Bearer {KEY}"
    assert fake.sent("query")[0].url.path == "/api/v1/tasks/new-match"  # newest first


def test_find_without_a_match_is_none_and_the_window_stays_within_24h(
        fake: FakeDashScope, clock: Clock) -> None:
    shot = compiled((MediaItem("reference_image", MediaRef(url="https://cdn.test/a.png")),))
    fake.listed = [listed("t-1", "2026-05-28 20:00:00.000")]
    fake.tasks["t-1"] = {"task_id": "t-1", "task_status": "SUCCEEDED", "orig_prompt": "nope"}

    async def go() -> list[TaskState]:
        async with provider_for(fake, clock) as provider:
            return await provider.find(shot, since=T0 - 3 * 86400)

    assert run(go()) == []
    params = fake.sent("list")[0].url.params
    assert params["end_time"] == "20260528202840"
    assert params["start_time"] == "20260527202940"  # 24 h minus a minute before the end
    assert len(fake.sent("query")) == 1


def test_find_with_an_empty_list(fake: FakeDashScope, clock: Clock) -> None:
    shot = compiled((MediaItem("reference_image", MediaRef(url="https://cdn.test/a.png")),))

    async def go() -> list[TaskState]:
        async with provider_for(fake, clock) as provider:
            return await provider.find(shot, since=T0)

    assert run(go()) == []
    assert len(fake.sent("list")) == 2 and not fake.sent("query")  # UTC, then UTC+8


# ---------------------------------------------------------------------------------------------
# download


def test_download_streams_the_result_without_the_key(fake: FakeDashScope, clock: Clock,
                                                     tmp_path: Path) -> None:
    dest = tmp_path / "out.mp4"

    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.download(TaskState("t-1", TaskStatus.SUCCEEDED, RESULT_URL), dest)

    run(go())
    assert dest.read_bytes() == fake.video
    [request] = fake.requests
    assert str(request.url) == RESULT_URL and "authorization" not in request.headers


@pytest.mark.parametrize(("response", "kind"), [
    (httpx.Response(403, text="<Error><Code>AccessDenied</Code></Error>"), TransportError),
    (httpx.Response(404), TransportError),
    (httpx.Response(502), ServerError),
    (httpx.Response(429, headers={"Retry-After": "3"}), RateLimited),
    (httpx.ReadTimeout("slow"), TransportError),
    (httpx.Response(200, headers={"content-length": "999999"}, content=b"short"),
     TransportError),
])
def test_a_failed_download_is_retryable_and_leaves_no_file(
        fake: FakeDashScope, clock: Clock, tmp_path: Path,
        response: httpx.Response | Exception, kind: type[ProviderError]) -> None:
    fake.script("download", response)
    dest = tmp_path / "out.mp4"

    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.download(TaskState("t-1", TaskStatus.SUCCEEDED, RESULT_URL), dest)

    with pytest.raises(ProviderError) as info:
        run(go())
    assert type(info.value) is kind and info.value.retryable
    assert not dest.exists()


def test_a_download_broken_midway_leaves_no_file(fake: FakeDashScope, clock: Clock,
                                                 tmp_path: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * 65536
        raise httpx.ReadError("connection reset by peer")

    fake.script("download", httpx.Response(200, content=broken()))
    dest = tmp_path / "out.mp4"

    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.download(TaskState("t-1", TaskStatus.SUCCEEDED, RESULT_URL), dest)

    with pytest.raises(TransportError):
        run(go())
    assert not dest.exists()


def test_download_of_a_task_without_video(fake: FakeDashScope, clock: Clock,
                                          tmp_path: Path) -> None:
    async def go() -> None:
        async with provider_for(fake, clock) as provider:
            await provider.download(TaskState("t-1", TaskStatus.FAILED), tmp_path / "x.mp4")

    with pytest.raises(ProviderError, match="no video_url"):
        run(go())
    assert not fake.requests


# ---------------------------------------------------------------------------------------------
# the key


def test_a_missing_key_is_a_clear_auth_error_before_any_request(
        fake: FakeDashScope, clock: Clock, files: dict[str, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    provider = provider_for(fake, clock)
    assert "missing" in repr(provider)

    async def go() -> None:
        async with provider:
            await provider.submit(full_shot(files), files["frame"])

    with pytest.raises(AuthError, match=KEY_ENV) as info:
        run(go())
    assert info.value.shot == "s01" and not fake.requests


def test_the_key_never_shows(fake: FakeDashScope, clock: Clock, files: dict[str, Path]) -> None:
    echoes: list[httpx.Response | Exception] = [
        answer(401, "InvalidApiKey", f"Invalid API-key provided: {KEY}"),
        answer(400, KEY, f"bad {KEY}"),
        httpx.Response(200, text=f"<html>Bearer {KEY}</html>"),
        httpx.ConnectError(f"failed with header Bearer {KEY}"),
    ]
    texts: list[str] = []
    for echo in echoes:
        error = failing(fake, clock, echo)
        texts += [str(error), repr(error), error.detail, error.code, str(error.args)]
    fake.script("upload", httpx.Response(403, text=f"<Error><Code>AccessDenied</Code>"
                                                   f"<Message>{KEY}</Message></Error>"))
    provider = provider_for(fake, clock)

    async def go() -> None:
        async with provider:
            await provider.submit(compiled((MediaItem("reference_image",
                                                      local(files["image"])),)), None)

    with pytest.raises(AuthError) as info:
        run(go())
    texts += [str(info.value), repr(info.value), repr(provider), repr(provider.settings),
              repr(vars(provider))]
    assert texts and not [t for t in texts if KEY in t]
    assert "***" in " ".join(texts)  # the echoes were scrubbed, not lost
    assert str(ApiKey(KEY)) == repr(ApiKey(KEY)) == "ApiKey('***')"
    with pytest.raises(TypeError):
        pickle.dumps(ApiKey(KEY))


# ---------------------------------------------------------------------------------------------
# settings


def test_region_base_url_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DashScopeProvider().base_url == "https://dashscope-intl.aliyuncs.com/api/v1"
    cn = DashScopeProvider(DashScopeSettings(region="cn"))
    assert cn.base_url == "https://dashscope.aliyuncs.com/api/v1"
    assert replace(cn.prices, by_model={}) == PriceTable({"720P": 0.6, "1080P": 1.0}, "CNY")
    assert replace(DashScopeProvider().prices, by_model={}) == PriceTable(
        {"720P": 0.10, "1080P": 0.15}, "USD")
    assert cn.prices.for_model("wan3.0-video").currency == "CNY"
    monkeypatch.setenv(BASE_URL_ENV, "https://ws-1.ap-southeast-1.maas.aliyuncs.com/api/v1/")
    assert DashScopeProvider().base_url == "https://ws-1.ap-southeast-1.maas.aliyuncs.com/api/v1"
    explicit = DashScopeSettings(base_url="http://127.0.0.1:9/api/v1")
    assert DashScopeProvider(explicit).base_url == "http://127.0.0.1:9/api/v1"
    assert set(REGIONS) == {"intl", "cn"}
    with pytest.raises(ProviderError, match="region"):
        DashScopeSettings(region="mars")


def test_declarations() -> None:
    provider = DashScopeProvider()
    assert provider.name == provider.cache_key == "dashscope"
    limits = provider.capabilities
    assert (limits.min_duration, limits.max_duration, limits.max_duration_with_video) == (2, 15,
                                                                                          10)


def test_from_settings_reads_the_provider_block() -> None:
    provider = DashScopeProvider.from_settings({
        "name": "dashscope", "region": "cn", "base_url": "https://ws.example/api/v1",
        "timeout": {"connect": 5, "read": 20, "download": 900}, "concurrency": 4,
        "use_data_uris_below": 200000, "submit_rate": 0.5, "clock_skew": 60,
        "prices": {"720P": 0.5, "currency": "CNY"}})
    settings = provider.settings
    assert provider.base_url == "https://ws.example/api/v1"
    assert settings.timeouts == Timeouts(connect=5, read=20, upload=300, download=900)
    assert (settings.concurrency, settings.use_data_uris_below) == (4, 200000)
    assert (settings.submit_rate, settings.clock_skew) == (0.5, 60.0)
    assert replace(provider.prices, by_model={}) == PriceTable({"720P": 0.5}, "CNY")
    assert provider.prices.for_model("wan2.7-i2v").per_second == {"720P": 0.6, "1080P": 1.0}
    assert DashScopeSettings.from_mapping({"timeout": 45}).timeouts.read == 45.0
    assert DashScopeSettings.from_mapping({}) == DashScopeSettings()


def test_from_settings_reports_every_problem_at_once() -> None:
    with pytest.raises(ProblemsFound) as info:
        DashScopeSettings.from_mapping({
            "name": "fal", "region": "eu", "base_url": "ftp://x", "timeout": {"read": -1},
            "concurrency": 0, "use_data_uris_below": 1.5, "regoin": "cn",
            "prices": {"720P": "cheap"}})
    text = info.value.format()
    for key in ("name", "region", "base_url", "timeout.read", "concurrency",
                "use_data_uris_below", "regoin", "prices.720P"):
        assert f"provider.{key}:" in text
    assert len(info.value.diagnostics) == 8
