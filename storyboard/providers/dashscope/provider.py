"""Compiled shots into DashScope tasks: native ``wan2.7-r2v`` protocol, one HTTP request per call.

This module is a transport. Each method sends one request (a submit may upload its local files
first) and translates one answer into ``TaskState`` or an error of the ``ProviderError`` family; it
never retries, polls or sleeps: the runner owns that, reading ``error.retryable`` and
``error.retry_after``. What other gateways would share (the ``TaskProtocol`` declaration, error
translation, lenient numbers) lives in ``protocol``; what is DashScope's own is the ``DASHSCOPE``
declaration and its answer parsers (``dashscope_wire``), its settings (``dashscope_settings``), and
the requests and key handling here.

The key comes only from ``DASHSCOPE_API_KEY`` and never appears in a message, a repr or a file.
"""

from __future__ import annotations

import asyncio
import functools
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from storyboard.dialects import native, wording
from storyboard.errors import AuthError, Diagnostic, ProblemsFound, ProviderError
from storyboard.language.request import CompiledShot, MediaItem, MediaRef
from storyboard.providers import stillcopy
from storyboard.providers.base import (
    DEFAULT_MAX_DOWNLOAD,
    LOST_SUBMIT_LANDS,
    BaseProvider,
    Traits,
    asset_refusals,
    refuse_assets,
)
from storyboard.providers.dashscope.cast import CastCalls, is_cast_task
from storyboard.providers.dashscope.settings import DashScopeSettings, Timeouts
from storyboard.providers.dashscope.wire import (
    BASE_URL_ENV,
    DASHSCOPE,
    KEY_ENV,
    LIST_MAX_PAGES,
    LIST_PAGE_SIZE,
    LIST_WINDOW,
    NAME,
    OSS_RESOLVE_HEADER,
    REGIONS,
    UPLOAD_POLICY_PATH,
    Listed,
    ListPage,
    parse_list,
    parse_submit,
    parse_task,
    parse_usage,
    region_refusals,
    utc_stamp,
)
from storyboard.providers.protocol import (
    ApiKey,
    LazyClient,
    download_to,
    endpoint_key,
    json_answer,
    send,
)
from storyboard.providers.upload import Uploads, data_uri, mime_type
from storyboard.targets import Capabilities, PriceTable, TaskState

SERVICE_ZONE = 8 * 3600.0  # Beijing and Singapore: UTC+8

__all__ = ["BASE_URL_ENV", "DASHSCOPE", "KEY_ENV", "REGIONS", "DashScopeProvider",
           "DashScopeSettings", "ListPage", "Timeouts", "parse_list", "parse_submit", "parse_task",
           "parse_usage", "utc_stamp"]


# ---------------------------------------------------------------------------------------------
# The provider


class DashScopeProvider(BaseProvider):
    """The native DashScope task API for ``wan2.7-r2v``; see the module docstring."""

    name = NAME
    cache_key = NAME
    protocol = DASHSCOPE
    # paid; lists its tasks; local files go to its upload store; every request through LazyClient
    traits = Traits(uploads=True, wire_watched=True)

    def __init__(self, settings: DashScopeSettings | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.time, work_dir: Path | None = None) -> None:
        self.settings = settings or DashScopeSettings()
        self.url = self.settings.resolved_base_url()  # where every request goes
        self.base_url = self.url
        self.capabilities: Capabilities = DASHSCOPE.capabilities
        self.prices: PriceTable = self.settings.price_table()
        self.list_prices: PriceTable = self.settings.list_prices()
        self.account_limits = self.settings.account_limits
        key = os.environ.get(KEY_ENV, "").strip()
        self._key = ApiKey(key) if key else None  # a missing key fails at the first request
        self.task_key = endpoint_key(NAME, self.url, self._key)
        self._clock = clock
        timeouts = self.settings.timeouts
        self._client = LazyClient(transport, timeouts.api(), DASHSCOPE.key_headers)
        self.uploads = Uploads(self._client, provider=NAME,
                               policy_url=self.url + UPLOAD_POLICY_PATH,
                               headers=self._auth_headers, key=lambda: self._key,
                               timeout=timeouts.transfer(timeouts.upload), clock=clock)
        # The cast's calls; ``work_dir`` (the series' ``.storyboard/dashscope``) keeps what a
        # synchronous answer gave (a voice's preview, a line's URL) for a later process.
        self.cast = CastCalls(self, work_dir)

    @classmethod
    def from_settings(cls, mapping: Mapping[str, Any], *,
                      transport: httpx.AsyncBaseTransport | None = None,
                      work_dir: Path | None = None) -> DashScopeProvider:
        """A provider for the series' ``provider:`` block (``DashScopeSettings.from_mapping``)."""
        return cls(DashScopeSettings.from_mapping(mapping), transport=transport,
                   work_dir=work_dir)

    def __repr__(self) -> str:
        key = "set" if self._key else "missing"
        return f"DashScopeProvider(base_url={self.base_url!r}, key {key})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def rebind_parts(self) -> None:
        self.cast = self.cast.asking(self)  # a voice's or a line's lookup: the copy's hooks

    # -- one request, one answer ---------------------------------------------------------------

    def check_shots(self, shots: list[CompiledShot]) -> None:
        """A picture another vendor's image model makes, or a model (a lip-sync pass) its
        region does not serve, is refused here, at its line."""
        refuse_assets(shots, NAME, NAME)
        problems = region_refusals(shots, self.settings.served_region())
        if problems:
            raise ProblemsFound(problems)

    def refused(self, shots: list[CompiledShot]) -> list[Diagnostic]:
        return [*asset_refusals(shots, NAME, NAME),
                *region_refusals(shots, self.settings.served_region())]

    def preflight(self) -> None:
        self._auth_headers()  # the key: nothing else can be known without a request

    def _auth_headers(self, shot: str = "") -> dict[str, str]:
        if self._key is None:
            raise AuthError(f"{KEY_ENV} is not set: create an API key in the Model Studio console "
                            f"(same region as the base URL {self.base_url}) and export it",
                            provider=NAME, shot=shot, code="MissingApiKey")
        return {"Authorization": f"Bearer {self._key.reveal()}"}

    async def _send(self, method: str, path: str, *, what: str, shot: str = "",
                    headers: Mapping[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        all_headers = {**self._auth_headers(shot), **(headers or {})}
        return await send(self._client(), method, self.url + path, provider=NAME, what=what,
                          shot=shot, key=self._key, headers=all_headers, **kwargs)

    async def request_json(self, method: str, path: str, *, what: str, shot: str = "",
                    **kwargs: Any) -> dict[str, Any]:
        response = await self._send(method, path, what=what, shot=shot, **kwargs)
        return json_answer(response, provider=NAME, what=what, shot=shot, key=self._key)

    # -- the Provider interface ----------------------------------------------------------------

    async def submit(self, shot: CompiledShot, first_frame: Path | None) -> str:
        """Upload the shot's local files, then create its task; return the task id. A cast
        asset (``shot.asset``) is an image task, a designed voice or a spoken line."""
        if shot.asset is not None:
            refuse_assets([shot], NAME, NAME)
            self._auth_headers(shot.id)
            return await self.cast.submit(shot)
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
        answer = await self.request_json("POST", native.submit_path(shot.request.model), what="submit",
                                  shot=shot.id, json=payload, headers=headers)
        return parse_submit(answer, shot=shot.id)

    async def query(self, task_id: str) -> TaskState:
        if is_cast_task(task_id):
            return await self.cast.query(task_id)
        path = DASHSCOPE.task_path.format(task_id=quote(task_id, safe=""))
        answer = await self.request_json("GET", path, what=f"query of task {task_id}")
        return parse_task(answer, task_id)

    async def cancel(self, task_id: str) -> None:
        """Cancel a PENDING task; a running one gives ``RequestRejected`` (UnsupportedOperation).
        A voice or a spoken line is made at once: nothing to cancel."""
        if is_cast_task(task_id):
            return
        assert DASHSCOPE.cancel_path is not None
        path = DASHSCOPE.cancel_path.format(task_id=quote(task_id, safe=""))
        await self._send("POST", path, what=f"cancel of task {task_id}")

    async def find(self, shot: CompiledShot, since: float) -> list[TaskState]:
        """Every task created since ``since`` whose ``orig_prompt`` is this shot's prompt, newest
        first (twins: different shots often compile to the same prompt). A designed voice is
        found by its name in the account's voices; an image task's answer has no prompt, so
        it is told apart by time (created within ``LOST_SUBMIT_LANDS`` of ``since``) and by its
        size (``usage.size``, once it is done)."""
        if shot.asset is not None and shot.asset.kind != "image":
            return await self.cast.find(shot, since)
        end = self._clock() + self.settings.clock_skew
        if shot.asset is not None:  # an image: only a task its own submit could have made
            end = min(end, since + LOST_SUBMIT_LANDS + self.settings.clock_skew)
        start = min(max(since - self.settings.clock_skew, end - LIST_WINDOW + 60.0), end)
        listed = await self._list(start, end, model=shot.request.model, shot=shot.id)
        # The docs do not say which zone the window is read in, and the hosts keep UTC+8: ask
        # again as Beijing time. Matching by prompt below keeps the extra candidates harmless.
        seen = {item.task_id for item in listed}
        shifted = await self._list(start + SERVICE_ZONE, end + SERVICE_ZONE,
                                   model=shot.request.model, shot=shot.id)
        listed += [item for item in shifted if item.task_id not in seen]
        # As the body wrote it: a model with labels of its own ("[Image 1]") is listed so.
        prompt = wording.for_model(
            shot.request.prompt_in(native.DIALECT.label_for(shot.request.model)),
            shot.request.scenes, shot.request.model).strip()  # its timed scenes worded too
        found: list[TaskState] = []
        for item in sorted(listed, key=lambda t: t.created, reverse=True):
            state = await self.ask(functools.partial(self.query, item.task_id))
            orig = state.raw.get("output", {}).get("orig_prompt")
            if (isinstance(orig, str) and orig.strip() == prompt) \
                    or (orig is None and shot.asset is not None and _same_size(shot, state)):
                found.append(state)
        return found

    async def download(self, state: TaskState, dest: Path, *,
                       limit: int = DEFAULT_MAX_DOWNLOAD) -> None:
        """Stream the result to ``dest`` in chunks; the pre-signed URL gets no Authorization. A
        voice's preview is written from where it is kept."""
        if await self.cast.download(state, dest, limit):
            return
        if not state.video_url:
            raise ProviderError(f"task {state.task_id} ({state.status}) has no video_url",
                                provider=NAME)
        await self.fetch(state.video_url, dest, what=f"download of task {state.task_id}",
                         limit=limit)

    async def fetch(self, url: str, dest: Path, *, what: str,
                    limit: int = DEFAULT_MAX_DOWNLOAD) -> None:
        """A result URL streamed into ``dest`` (no Authorization: the URL is pre-signed)."""
        timeouts = self.settings.timeouts
        await download_to(self._client(), url, dest, provider=NAME, what=what, key=self._key,
                          timeout=timeouts.transfer(timeouts.download), limit=limit)

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
                path = await self._sendable(ref.path, shot) if image else ref.path
                urls[ref] = await self.url_for_file(path, image, shot)
        return urls

    async def _sendable(self, path: Path, shot: CompiledShot) -> Path:
        """A picture as the shot's model takes it (``stillcopy.sendable``: a 4K board scaled)."""
        folder = (self.cast.work_dir or Path(tempfile.gettempdir()) / "storyboard") / "scaled"
        return await asyncio.to_thread(stillcopy.sendable, path, shot.request.model, folder)

    async def url_for_file(self, path: Path, image: bool, shot: CompiledShot) -> str:
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
            answer = await self.ask(functools.partial(
                self.request_json, "GET", DASHSCOPE.list_path, what="task list", shot=shot,
                params=params))
            page = parse_list(answer)
            found += page.tasks
            last = page.total_pages if page.total_pages is not None else page_no
            if not page.tasks or page_no >= last:
                break
        return found


def _is_image(item: MediaItem) -> bool:
    return item.role in ("reference_image", "first_frame")


def _same_size(shot: CompiledShot, state: TaskState) -> bool:
    """Whether an image task may be ``shot``'s by its size: a finished one says it
    (``usage.size``, ``W*H``); one still running says nothing, so it may be."""
    usage = state.raw.get("usage")
    size = usage.get("size") if isinstance(usage, dict) else None
    asset = shot.asset
    return not isinstance(size, str) or asset is None or not asset.size or size == asset.size
