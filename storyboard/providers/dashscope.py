"""Compiled shots into DashScope tasks: native ``wan2.7-r2v`` protocol, one HTTP request per call.

This module is a transport. Each method sends one request (a submit may upload its local files
first) and translates one answer into ``TaskState`` or an error of the ``ProviderError`` family; it
never retries, polls or sleeps: the runner owns that, reading ``error.retryable`` and
``error.retry_after``. What other gateways would share (the ``TaskProtocol`` declaration, error
translation, lenient numbers) lives in ``protocol``; what is DashScope's own is the ``DASHSCOPE``
declaration, the answer parsers below, and the region and key handling of the provider.

The key comes only from ``DASHSCOPE_API_KEY`` and never appears in a message, a repr or a file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from storyboard.dialects import native
from storyboard.errors import (
    AuthError,
    Diagnostic,
    ProblemsFound,
    ProviderError,
    RateLimited,
    ServerError,
    TransportError,
)
from storyboard.providers.base import Capabilities, PriceTable, TaskState, TaskStatus, Usage
from storyboard.providers.protocol import (
    ApiKey,
    TaskProtocol,
    error_for_exception,
    error_for_response,
    json_answer,
    number,
)
from storyboard.providers.upload import Uploads, data_uri, mime_type
from storyboard.request import CompiledShot, MediaItem, MediaRef

NAME = "dashscope"
KEY_ENV = "DASHSCOPE_API_KEY"
BASE_URL_ENV = "DASHSCOPE_HTTP_BASE_URL"  # the official SDK's name for it
REGIONS = {"intl": "https://dashscope-intl.aliyuncs.com/api/v1",
           "cn": "https://dashscope.aliyuncs.com/api/v1"}
UPLOAD_POLICY_PATH = "/uploads"
OSS_RESOLVE_HEADER = "X-DashScope-OssResourceResolve"

DASHSCOPE = TaskProtocol(
    name=NAME,
    submit_path="/services/aigc/video-generation/video-synthesis",
    task_path="/tasks/{task_id}",
    cancel_path="/tasks/{task_id}/cancel",
    list_path="/tasks",
    statuses={status.value: status for status in TaskStatus},  # the native words are ours
    submit_headers={"X-DashScope-Async": "enable"},  # without it the submit is refused
    capabilities=Capabilities(),  # 2..10 s with a reference video, 2..15 s without
    prices={"intl": PriceTable({"720P": 0.10, "1080P": 0.15}, "USD"),
            "cn": PriceTable({"720P": 0.6, "1080P": 1.0}, "CNY")},
)

LIST_WINDOW = 24 * 3600.0  # the list call accepts at most 24 h, and tasks live 24 h
LIST_PAGE_SIZE = 20
LIST_MAX_PAGES = 25  # find() is a rare reconciliation; bound it anyway
DOWNLOAD_CHUNK = 1 << 20


# ---------------------------------------------------------------------------------------------
# Answers into our types


def _output(answer: Mapping[str, Any], what: str, shot: str = "") -> dict[str, Any]:
    output = answer.get("output")
    if not isinstance(output, dict):
        raise ProviderError(f"{what}: malformed answer, no 'output' object in {sorted(answer)}",
                            provider=NAME, shot=shot, code=str(answer.get("code") or ""))
    return output


def parse_submit(answer: Mapping[str, Any], *, shot: str = "") -> str:
    """The task id of a submit answer ``{"output": {"task_id", "task_status"}}``."""
    task_id = _output(answer, "submit", shot).get("task_id")
    if not task_id:
        raise ProviderError("submit: malformed answer, no 'output.task_id'", provider=NAME,
                            shot=shot)
    return str(task_id)


def parse_usage(usage: object) -> Usage | None:
    """Seconds billed, from numbers that may be ints, floats or strings."""
    if not isinstance(usage, dict):
        return None
    output = number(usage.get("output_video_duration"))
    source = number(usage.get("input_video_duration")) or 0.0
    if output is None:  # older answers: only ``duration``, the billed total
        total = number(usage.get("duration"))
        if total is None:
            return None
        output = max(total - min(source, 5.0), 0.0)
    return Usage(output_seconds=output, input_video_seconds=source)


def parse_task(answer: Mapping[str, Any], task_id: str = "",
               protocol: TaskProtocol = DASHSCOPE) -> TaskState:
    """A query answer into a ``TaskState``; an unknown status word becomes UNKNOWN, kept in
    ``message``."""
    what = f"query of task {task_id}".strip()
    output = _output(answer, what)
    if "task_status" not in output:
        raise ProviderError(f"{what}: malformed answer, no 'output.task_status'", provider=NAME)
    status, note = protocol.status(output.get("task_status"))
    message = str(output.get("message") or "")
    return TaskState(
        task_id=str(output.get("task_id") or task_id),
        status=status,
        video_url=str(output["video_url"]) if output.get("video_url") else None,
        code=str(output.get("code") or ""),
        message="; ".join(m for m in (note, message) if m),
        usage=parse_usage(answer.get("usage")),
        submit_time=str(output.get("submit_time") or ""),
        raw=dict(answer),
    )


@dataclass(frozen=True)
class Listed:
    task_id: str
    status: str
    created: str  # "YYYY-MM-DD hh:mm:ss.fff", sorts as text


@dataclass(frozen=True)
class ListPage:
    tasks: list[Listed]
    page_no: int
    total_pages: int | None


def parse_list(answer: Mapping[str, Any]) -> ListPage:
    data = answer.get("data")
    if data is None:
        data = []
    if not isinstance(data, list):
        raise ProviderError("task list: malformed answer, 'data' is not a list", provider=NAME)
    tasks = [Listed(str(item["task_id"]), str(item.get("status") or ""),
                    str(item.get("gmt_create") or ""))
             for item in data if isinstance(item, dict) and item.get("task_id")]
    pages = number(answer.get("total_page"))
    return ListPage(tasks, int(number(answer.get("page_no")) or 1),
                    int(pages) if pages is not None else None)


def utc_stamp(when: float) -> str:
    """``YYYYMMDDhhmmss`` in UTC, the list call's time format."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(when))


# ---------------------------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class Timeouts:
    """Seconds. ``read`` bounds API calls; uploads and downloads move big files, get their own."""

    connect: float = 10.0
    read: float = 60.0
    upload: float = 300.0
    download: float = 300.0

    def api(self) -> httpx.Timeout:
        return httpx.Timeout(self.read, connect=self.connect)

    def transfer(self, seconds: float) -> httpx.Timeout:
        return httpx.Timeout(seconds, connect=self.connect)


SETTING_KEYS = ("name", "region", "base_url", "timeout", "use_data_uris_below", "concurrency",
                "submit_rate", "clock_skew", "prices")


@dataclass(frozen=True)
class DashScopeSettings:
    """The series' ``provider:`` block for ``name: dashscope``::

        provider:
          name: dashscope
          region: intl            # intl (Singapore, USD prices) | cn (Beijing, CNY prices)
          base_url: https://...   # optional: a workspace host or the emulator; beats region and
                                  #   DASHSCOPE_HTTP_BASE_URL
          timeout: 60             # read timeout of API calls, or a mapping:
                                  #   {connect: 10, read: 60, upload: 300, download: 300}
          use_data_uris_below: 0  # bytes: smaller images go inline as data: URIs (0: never)
          concurrency: 4          # tasks in flight at once (for the runner)
          submit_rate: 2          # submits per second at most (for the runner)
          clock_skew: 120         # seconds find() looks back before a lost submit
          prices: {720P: 0.10, 1080P: 0.15, currency: USD}   # replaces the list price

    The key is never a setting: it comes only from ``DASHSCOPE_API_KEY``.
    """

    region: str = "intl"
    base_url: str | None = None  # a workspace host or the emulator; wins over region and env
    timeouts: Timeouts = field(default_factory=Timeouts)
    use_data_uris_below: int = 0  # images smaller than this many bytes go inline as data: URIs
    # No published limits for this model, so both are settings (spec section 1); the runner
    # reads them (RunOptions.concurrency, RunOptions.submit_rate).
    concurrency: int = 4  # tasks in flight at once
    submit_rate: float = 2.0  # submits per second at most
    clock_skew: float = 120.0  # find() looks this much before the submit time
    prices: PriceTable | None = None  # None: the region's list price

    def __post_init__(self) -> None:
        if self.region not in REGIONS:
            raise ProviderError(f"unknown region {self.region!r}; use one of {sorted(REGIONS)}",
                                provider=NAME)

    def resolved_base_url(self, environ: Mapping[str, str] | None = None) -> str:
        """``base_url``, else ``DASHSCOPE_HTTP_BASE_URL``, else the region's public host."""
        env = os.environ if environ is None else environ
        url = self.base_url or env.get(BASE_URL_ENV, "").strip() or REGIONS[self.region]
        return url.rstrip("/")

    def price_table(self) -> PriceTable:
        return self.prices or DASHSCOPE.prices[self.region]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> DashScopeSettings:
        """Read a ``provider:`` block; every problem in it is reported at once."""
        problems: list[str] = []
        values: dict[str, Any] = {}
        for key in mapping:
            if key not in SETTING_KEYS:
                problems.append(f"provider.{key}: unknown setting for dashscope; known: "
                                f"{', '.join(SETTING_KEYS)}")
        if mapping.get("name", NAME) != NAME:
            problems.append(f"provider.name: {mapping['name']!r} is not {NAME!r}")
        _read_region(mapping, values, problems)
        _read_base_url(mapping, values, problems)
        _read_timeout(mapping.get("timeout"), values, problems)
        _read_numbers(mapping, values, problems)
        _read_prices(mapping.get("prices"), mapping.get("region", "intl"), values, problems)
        if problems:
            raise ProblemsFound(Diagnostic(None, p) for p in problems)
        return cls(**values)


def _read_region(mapping: Mapping[str, Any], values: dict[str, Any], problems: list[str]) -> None:
    if "region" in mapping:
        if mapping["region"] in REGIONS:
            values["region"] = mapping["region"]
        else:
            problems.append(f"provider.region: {mapping['region']!r} is not one of "
                            f"{', '.join(REGIONS)}")


def _read_base_url(mapping: Mapping[str, Any], values: dict[str, Any],
                   problems: list[str]) -> None:
    url = mapping.get("base_url")
    if url is None:
        return
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        values["base_url"] = url
    else:
        problems.append(f"provider.base_url: {url!r} is not an http(s) URL")


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _read_timeout(value: object, values: dict[str, Any], problems: list[str]) -> None:
    """``timeout: 60`` (the read timeout) or ``timeout: {connect, read, upload, download}``."""
    if value is None:
        return
    if isinstance(value, int | float) and _positive(value):
        values["timeouts"] = Timeouts(read=float(value))
        return
    names = ("connect", "read", "upload", "download")
    if not isinstance(value, Mapping):
        problems.append("provider.timeout: give seconds, or a mapping of " + ", ".join(names))
        return
    parts: dict[str, float] = {}
    for name, seconds in value.items():
        if name not in names:
            problems.append(f"provider.timeout.{name}: unknown; known: {', '.join(names)}")
        elif not _positive(seconds):
            problems.append(f"provider.timeout.{name}: {seconds!r} is not a positive number")
        else:
            parts[name] = float(seconds)
    values["timeouts"] = Timeouts(**parts)


def _read_numbers(mapping: Mapping[str, Any], values: dict[str, Any],
                  problems: list[str]) -> None:
    rules: dict[str, tuple[type, float]] = {  # name: (type, smallest allowed)
        "use_data_uris_below": (int, 0), "concurrency": (int, 1),
        "submit_rate": (float, 0.001), "clock_skew": (float, 0)}
    for name, (kind, smallest) in rules.items():
        if name not in mapping:
            continue
        value = mapping[name]
        ok_type = isinstance(value, int) if kind is int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or value < smallest:
            what = "a whole number" if kind is int else "a number"
            problems.append(f"provider.{name}: {value!r} is not {what} >= {smallest:g}")
        else:
            values[name] = kind(value)


def _read_prices(value: object, region: object, values: dict[str, Any],
                 problems: list[str]) -> None:
    """``prices: {720P: 0.1, 1080P: 0.15, currency: USD}`` replaces the list price."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        problems.append("provider.prices: give a mapping such as {720P: 0.1, currency: USD}")
        return
    default = DASHSCOPE.prices.get(str(region), DASHSCOPE.prices["intl"])
    rates: dict[str, float] = {}
    for name, rate in value.items():
        if name == "currency":
            continue
        if isinstance(rate, bool) or not isinstance(rate, int | float) or rate < 0:
            problems.append(f"provider.prices.{name}: {rate!r} is not a price per second")
        else:
            rates[str(name)] = float(rate)
    currency = str(value.get("currency", default.currency))
    values["prices"] = PriceTable(rates or dict(default.per_second), currency)


# ---------------------------------------------------------------------------------------------
# The provider


class DashScopeProvider:
    """The native DashScope task API for ``wan2.7-r2v``; see the module docstring."""

    name = NAME
    cache_key = NAME
    protocol = DASHSCOPE

    def __init__(self, settings: DashScopeSettings | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings or DashScopeSettings()
        self.base_url = self.settings.resolved_base_url()
        self.capabilities: Capabilities = DASHSCOPE.capabilities
        self.prices: PriceTable = self.settings.price_table()
        key = os.environ.get(KEY_ENV, "").strip()
        self._key = ApiKey(key) if key else None  # a missing key fails at the first request
        self._clock = clock
        timeouts = self.settings.timeouts
        self._transport = transport
        self._http: httpx.AsyncClient | None = None  # made at first use: plans need no TLS setup
        self.uploads = Uploads(self._client, provider=NAME,
                               policy_url=self.base_url + UPLOAD_POLICY_PATH,
                               headers=self._auth_headers, key=lambda: self._key,
                               timeout=timeouts.transfer(timeouts.upload), clock=clock)

    @classmethod
    def from_settings(cls, mapping: Mapping[str, Any], *,
                      transport: httpx.AsyncBaseTransport | None = None) -> DashScopeProvider:
        """A provider for the series' ``provider:`` block (``DashScopeSettings.from_mapping``)."""
        return cls(DashScopeSettings.from_mapping(mapping), transport=transport)

    def __repr__(self) -> str:
        key = "set" if self._key else "missing"
        return f"DashScopeProvider(base_url={self.base_url!r}, key {key})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            # No auth in the client's defaults: the result and upload hosts never see the key.
            self._http = httpx.AsyncClient(transport=self._transport,
                                           timeout=self.settings.timeouts.api())
        return self._http

    # -- one request, one answer ---------------------------------------------------------------

    def _auth_headers(self, shot: str = "") -> dict[str, str]:
        if self._key is None:
            raise AuthError(f"{KEY_ENV} is not set: create an API key in the Model Studio console "
                            f"(same region as the base URL {self.base_url}) and export it",
                            provider=NAME, shot=shot, code="MissingApiKey")
        return {"Authorization": f"Bearer {self._key.reveal()}"}

    async def _send(self, method: str, path: str, *, what: str, shot: str = "",
                    headers: Mapping[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        all_headers = {**self._auth_headers(shot), **(headers or {})}
        try:
            response = await self._client().request(method, self.base_url + path,
                                                  headers=all_headers, **kwargs)
        except httpx.HTTPError as exc:
            raise error_for_exception(exc, provider=NAME, what=what, shot=shot,
                                      key=self._key) from exc
        if response.status_code >= 400:
            raise error_for_response(response, provider=NAME, what=what, shot=shot, key=self._key)
        return response

    async def _json(self, method: str, path: str, *, what: str, shot: str = "",
                    **kwargs: Any) -> dict[str, Any]:
        response = await self._send(method, path, what=what, shot=shot, **kwargs)
        return json_answer(response, provider=NAME, what=what, shot=shot, key=self._key)

    # -- the Provider interface ----------------------------------------------------------------

    async def submit(self, shot: CompiledShot, first_frame: Path | None) -> str:
        """Upload the shot's local files, then create its task; return the task id."""
        frame_item = shot.request.first_frame
        if frame_item is not None and frame_item.ref is None and first_frame is None:
            raise ProviderError(f"the first frame comes from shot {frame_item.from_shot}, and "
                                f"none was given", provider=NAME, shot=shot.id)
        self._auth_headers(shot.id)  # no uploads for a submit that cannot be sent
        urls = await self._local_urls(shot, first_frame)
        frame_url = urls.get(MediaRef(path=first_frame)) if first_frame is not None else None
        # (a frame passed for a shot whose first frame is its own file is simply not used)
        payload = native.body(shot.request, lambda ref: urls.get(ref) or str(ref.url),
                              first_frame_url=frame_url)
        headers = dict(DASHSCOPE.submit_headers)
        if native.needs_oss_resolve(payload):
            headers[OSS_RESOLVE_HEADER] = "enable"
        answer = await self._json("POST", DASHSCOPE.submit_path, what="submit", shot=shot.id,
                                  json=payload, headers=headers)
        return parse_submit(answer, shot=shot.id)

    async def query(self, task_id: str) -> TaskState:
        path = DASHSCOPE.task_path.format(task_id=quote(task_id, safe=""))
        answer = await self._json("GET", path, what=f"query of task {task_id}")
        return parse_task(answer, task_id)

    async def cancel(self, task_id: str) -> None:
        """Cancel a PENDING task; a running one gives ``RequestRejected`` (UnsupportedOperation)."""
        assert DASHSCOPE.cancel_path is not None
        path = DASHSCOPE.cancel_path.format(task_id=quote(task_id, safe=""))
        await self._send("POST", path, what=f"cancel of task {task_id}")

    async def find(self, shot: CompiledShot, since: float) -> TaskState | None:
        """The newest task created since ``since`` whose ``orig_prompt`` is this shot's prompt."""
        end = self._clock() + self.settings.clock_skew
        start = min(max(since - self.settings.clock_skew, end - LIST_WINDOW + 60.0), end)
        listed = await self._list(start, end, model=shot.request.model, shot=shot.id)
        prompt = shot.request.prompt.strip()
        for item in sorted(listed, key=lambda t: t.created, reverse=True):
            state = await self.query(item.task_id)
            orig = state.raw.get("output", {}).get("orig_prompt")
            if isinstance(orig, str) and orig.strip() == prompt:
                return state
        return None

    async def download(self, state: TaskState, dest: Path) -> None:
        """Stream the result to ``dest`` in chunks; the pre-signed URL gets no Authorization."""
        if not state.video_url:
            raise ProviderError(f"task {state.task_id} ({state.status}) has no video_url",
                                provider=NAME)
        what = f"download of task {state.task_id}"
        timeouts = self.settings.timeouts
        try:
            async with self._client().stream("GET", state.video_url, follow_redirects=True,
                                           timeout=timeouts.transfer(timeouts.download)) as resp:
                if resp.status_code >= 400:
                    raise _download_error(resp, what)
                await _save(resp, dest, what)
        except httpx.HTTPError as exc:
            dest.unlink(missing_ok=True)
            raise error_for_exception(exc, provider=NAME, what=what, key=self._key) from exc
        except ProviderError:
            dest.unlink(missing_ok=True)
            raise

    # -- helpers -------------------------------------------------------------------------------

    async def _local_urls(self, shot: CompiledShot, first_frame: Path | None
                          ) -> dict[MediaRef, str]:
        """A URL for every local file of the shot: ``data:`` for small images, else ``oss://``."""
        wanted: list[tuple[MediaRef, bool]] = []  # (file, is an image)
        for item in shot.request.media:
            if item.ref is not None and item.ref.path is not None:
                wanted.append((item.ref, _is_image(item)))
            if item.voice is not None and item.voice.path is not None:
                wanted.append((item.voice, False))
        frame_item = shot.request.first_frame
        if first_frame is not None and frame_item is not None and frame_item.ref is None:
            wanted.append((MediaRef(path=first_frame), True))
        urls: dict[MediaRef, str] = {}
        for ref, image in wanted:
            if ref not in urls:
                assert ref.path is not None
                urls[ref] = await self._url_for_file(ref.path, image, shot)
        return urls

    async def _url_for_file(self, path: Path, image: bool, shot: CompiledShot) -> str:
        limit = self.settings.use_data_uris_below
        small = limit > 0 and path.is_file() and path.stat().st_size < limit
        if image and small and mime_type(path).startswith("image/"):
            return data_uri(path)
        return await self.uploads.url_for(path, model=shot.request.model, shot=shot.id)

    async def _list(self, start: float, end: float, *, model: str, shot: str) -> list[Listed]:
        assert DASHSCOPE.list_path is not None
        found: list[Listed] = []
        for page_no in range(1, LIST_MAX_PAGES + 1):
            params: dict[str, str | int] = {
                "start_time": utc_stamp(start), "end_time": utc_stamp(end), "model_name": model,
                "page_no": page_no, "page_size": LIST_PAGE_SIZE}
            answer = await self._json("GET", DASHSCOPE.list_path, what="task list", shot=shot,
                                      params=params)
            page = parse_list(answer)
            found += page.tasks
            last = page.total_pages if page.total_pages is not None else page_no
            if not page.tasks or page_no >= last:
                break
        return found


def _is_image(item: MediaItem) -> bool:
    return item.role in ("reference_image", "first_frame")


def _download_error(response: httpx.Response, what: str) -> ProviderError:
    """Every failed download is retryable: the video stays on the service for 24 h."""
    status = response.status_code
    text = f"{what} failed (HTTP {status})"
    if status == 429:
        return RateLimited(text, provider=NAME, status=status)
    if status >= 500:
        return ServerError(text, provider=NAME, status=status)
    return TransportError(text + " (the result URL lives 24 h)", provider=NAME, status=status)


async def _save(response: httpx.Response, dest: Path, what: str) -> None:
    expected = number(response.headers.get("content-length"))
    try:
        with dest.open("wb") as fh:
            async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
                fh.write(chunk)
    except OSError as exc:
        raise ProviderError(f"{what}: cannot write {dest}: {exc.strerror or exc}",
                            provider=NAME) from exc
    if expected is not None and response.num_bytes_downloaded != int(expected):
        raise TransportError(f"{what}: got {response.num_bytes_downloaded} of {int(expected)} "
                             "bytes", provider=NAME)
