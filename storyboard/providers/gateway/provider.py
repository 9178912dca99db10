"""Compiled shots into gateway tasks: one HTTP transport driven by a dialect's declarations.

Like the DashScope provider this is a transport: each method sends one request and translates one
answer (``Dialect.task_state``) or raises from the ``ProviderError`` family; the runner owns
retries, polling, the journal, the cache and the budget. What differs between gateways is data: the
dialect's body shape, paths, status words, auth header and key variable, overridable by the series'
``provider:`` block (``GatewaySettings``). Gateways fetch files from public URLs: a local file is
sent as ``media_base_url`` plus its path inside the series folder (a still larger than the model
takes as its scaled copy's, under ``.storyboard/sent/``: ``stillcopy.hosted``).

The key comes only from the environment variable the dialect (or ``key_env``) names.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from storyboard.dialects import faces, wording
from storyboard.dialects.base import UNDOCUMENTED, Dialect, get
from storyboard.dialects.images import element_wire, image_wire, voice_wire
from storyboard.errors import (
    AuthError,
    Diagnostic,
    ListUnavailable,
    NeverListed,
    ProviderError,
    RequestRejected,
    UnreadAnswer,
)
from storyboard.language.request import CompiledShot, MediaRef
from storyboard.providers import protocol, stillcopy
from storyboard.providers.base import (
    DEFAULT_MAX_DOWNLOAD,
    BaseProvider,
    Hooks,
    Traits,
    asset_refusals,
    refuse_assets,
    with_boards,
)
from storyboard.providers.gateway.portraits import PortraitCalls, portrait_calls
from storyboard.providers.gateway.settings import GatewaySettings
from storyboard.providers.images import PictureCalls, is_picture
from storyboard.providers.protocol import ApiKey, error_for_response, json_answer, send
from storyboard.targets import Capabilities, PriceTable, TaskState, TaskStatus
from storyboard.targets.cast.arkassets import PORTRAIT_TASK
from storyboard.targets.signatures import jwtokens
from storyboard.targets.taskapi import FileHop
from storyboard.targets.video.kling4 import ELEMENT_TASK, VOICE_TASK

CLOCK_SKEW = 120.0  # seconds find() looks before a lost submit
PAGE_SIZE = 100  # tasks a page, on a list asked page by page (Ark)
LIST_PAGES = 20  # pages read at most: past them, a lost submit is not looked for


def _said(value: object) -> str:
    """A value from an answer, quoted and cut short (an answer is untrusted input)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _seconds(stamp: float) -> float:
    """A list item's time in seconds, whether the wire says seconds or milliseconds (Kling)."""
    return stamp / 1000 if stamp > 1e11 else stamp


def hosted_paths(shot: CompiledShot) -> Callable[[MediaRef], MediaRef]:
    """A snapshot of an input (``.storyboard/inputs/<sha256><suffix>``, what the runner sends)
    back into the series file it copies: the gateway fetches the hosted series folder, where
    the snapshot is not (``run.mediacheck`` proved, before paying, that the host has those bytes)."""
    originals = {f"{digest}{Path(name).suffix.lower()}": Path(name)
                 for name, digest in shot.inputs.items()}

    def hosted(ref: MediaRef) -> MediaRef:
        path = ref.path
        if path is None or path.parent.name != "inputs" or path.name not in originals:
            return ref
        return MediaRef(path=originals[path.name])
    return hosted


class GatewayProvider(BaseProvider):
    """A reseller of ``wan2.7-r2v`` speaking one dialect; see the module docstring."""

    def __init__(self, settings: GatewaySettings, root: Path, *,
                 transport: httpx.AsyncBaseTransport | None = None,
                 webhook_url: str | None = None) -> None:
        self.settings = settings
        self.dialect: Dialect = settings.dialect
        self.name = self.cache_key = self.dialect.name
        self.protocol = settings.protocol
        self.capabilities: Capabilities = self.dialect.limits
        # its boards' image models priced too, where it makes them (Seedream on Ark)
        self.prices: PriceTable = with_boards(settings.price_table(), self.name)
        self.list_prices: PriceTable = with_boards(settings.list_prices(), self.name)
        self.account_limits = settings.account_limits
        self.root = root
        self.hooks = Hooks(webhook_url=webhook_url)
        self.media_base_url = (settings.media_base_url or "").rstrip("/") or None
        self.base_url = settings.base_url or None
        self.traits = Traits(public_media=True, webhooks=bool(self.dialect.webhook_field),
                             wire_watched=True, lists=self.protocol.list_path is not None)
        key = os.environ.get(settings.key_env, "").strip()
        self._key = ApiKey(key) if key else None
        private = (*self.protocol.key_headers, settings.auth_header, *settings.headers)
        self._client = protocol.LazyClient(transport, httpx.Timeout(settings.timeout), private)
        self.task_key = protocol.endpoint_key(self.cache_key, settings.base_url, self._key)
        wire = image_wire(self.name)  # the pictures it makes (a board's), or None
        self.pictures = PictureCalls(self, wire, self.protocol, root / ".storyboard" / self.name) \
            if wire is not None else None
        made = element_wire(self.name)  # the characters' elements it makes (Kling's), or None
        self.elements = PictureCalls(self, made, self.protocol, None, ELEMENT_TASK) \
            if made is not None else None
        said = voice_wire(self.name)  # the characters' voices it makes (Kling's), or None
        self.kvoices = PictureCalls(self, said, self.protocol, None, VOICE_TASK) \
            if said is not None else None
        # the portraits it makes in the account's asset library (Ark's, ModelArk's), or None
        self.portraits = portrait_calls(self, settings.library, root, transport,
                                        settings.timeout)
        # find()'s requests are sent with BaseProvider.ask: the run's hooks (``with_hooks``)

    @classmethod
    def from_settings(cls, dialect: Dialect, mapping: Mapping[str, Any], root: Path, *,
                      transport: httpx.AsyncBaseTransport | None = None) -> GatewayProvider:
        return cls(GatewaySettings.from_mapping(dialect, mapping), root, transport=transport)

    def __repr__(self) -> str:
        key = "set" if self._key else "missing"
        return f"GatewayProvider({self.name}, base_url={self.settings.base_url!r}, key {key})"

    async def aclose(self) -> None:
        await self._client.aclose()
        if self.portraits is not None:
            await self.portraits.client.aclose()

    def rebind_parts(self) -> None:
        if self.pictures is not None:  # a lost picture's lookup asks with the copy's hooks
            self.pictures = self.pictures.asking(self)
        if self.elements is not None:
            self.elements = self.elements.asking(self)
        if self.kvoices is not None:
            self.kvoices = self.kvoices.asking(self)
        if self.portraits is not None:
            self.portraits = self.portraits.asking(self)

    # -- one request, one answer ---------------------------------------------------------------

    def check_shots(self, shots: list[CompiledShot]) -> None:
        """An asset it does not make is refused here, at its line (most gateways sell video
        only; Ark, ModelArk and Kling make their own image models' pictures)."""
        refuse_assets(shots, f"gateway {self.name}", self.name)

    def refused(self, shots: list[CompiledShot]) -> list[Diagnostic]:
        """Assets it does not make, and portraits it cannot sign for (the key pair unset)."""
        missing = self.portraits.missing() if self.portraits is not None else ""
        return [*asset_refusals(shots, f"gateway {self.name}", self.name),
                *(Diagnostic(s.span, missing, code="MissingApiKey") for s in shots
                  if missing and s.asset is not None and s.asset.kind == "portrait")]

    def preflight(self) -> None:
        self._auth_headers()

    def _auth_headers(self, shot: str = "") -> dict[str, str]:
        if not self.settings.base_url:
            raise ProviderError(f"provider.base_url: {self.name} has no public host of its own; "
                                "give the gateway's API URL", provider=self.name, shot=shot)
        if self._key is None:
            raise AuthError(f"{self.settings.key_env} is not set: create a key at {self.name} "
                            "and export it", provider=self.name, shot=shot, code="MissingApiKey")
        scheme = self.dialect.auth_scheme
        secret = self._token(shot)
        value = f"{scheme} {secret}" if scheme else secret
        return {**self.settings.headers, self.settings.auth_header: value}

    def _token(self, shot: str) -> str:
        """The key, or for a key pair a fresh token naming it, signed with the secret (read
        from the environment each time, never kept)."""
        assert self._key is not None
        if not self.dialect.secret_env:
            return self._key.reveal()
        secret = os.environ.get(self.dialect.secret_env, "").strip()
        if not secret:
            raise AuthError(f"{self.dialect.secret_env} is not set: {self.name} signs each "
                            f"request with the secret key paired with {self.settings.key_env}",
                            provider=self.name, shot=shot, code="MissingApiKey")
        return jwtokens.sign(self._key.reveal(), secret)

    async def request_json(self, method: str, path: str, *, what: str, shot: str = "",
                    **kwargs: Any) -> dict[str, Any]:
        response = await send(self._client(), method, self.settings.base_url + path,
                              provider=self.name, what=what, shot=shot, key=self._key,
                              headers=self._auth_headers(shot), **kwargs)
        answer = json_answer(response, provider=self.name, what=what, shot=shot, key=self._key)
        status = self.dialect.envelope_error(answer)
        if status == UNDOCUMENTED:
            raise self._unread(what, shot, f"an undocumented code at {self.dialect.envelope} "
                               f"({_said(self.dialect.envelope_code(answer))})")
        if status is not None:  # an envelope's code says the request failed (Kling;
            # MiniMax v1's base_resp, in an HTTP 200 answer)
            wait = {k: v for k, v in response.headers.items() if k.lower() == "retry-after"}
            said = httpx.Response(status, json=answer, headers=wait)
            raise error_for_response(said, provider=self.name, what=what, shot=shot,
                                     key=self._key)
        return answer

    def _path(self, template: str, task_id: str) -> str:
        return template.format(task_id=quote(task_id, safe=""))

    # -- the Provider interface ----------------------------------------------------------------

    def body(self, shot: CompiledShot, first_frame: Path | None) -> dict[str, Any]:
        """The submit body; a local file is sent as its URL under ``media_base_url``, a still
        larger than the shot's model takes as its scaled copy's (``stillcopy.hosted``: drawn here
        when missing, so ``submit`` calls this in a thread)."""
        def url(ref: MediaRef) -> str:
            return self.public_url(stillcopy.hosted(ref, shot.request.model, self.root), shot.id)
        frame = url(MediaRef(path=first_frame)) if first_frame else None
        hosted = hosted_paths(shot)
        payload = self.dialect.body(shot.request, lambda ref: url(hosted(ref)),
                                    first_frame_url=frame)
        if self.webhook_url and self.dialect.webhook_field:
            payload[self.dialect.webhook_field] = self.webhook_url
        return payload

    def public_url(self, ref: MediaRef, shot: str) -> str:
        if ref.path is None:
            return str(ref.url)
        base = self.settings.media_base_url
        try:
            relative = ref.path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            relative = None
        if base is None or relative is None:
            # check refuses this; the guard keeps a paid submit from carrying a useless path
            raise RequestRejected(f"{ref.path.name} is a local file and {self.name} fetches "
                                  "public URLs: set provider.media_base_url", provider=self.name,
                                  shot=shot)
        return f"{base}/{quote(relative)}"

    async def submit(self, shot: CompiledShot, first_frame: Path | None) -> str:
        if shot.asset is not None:
            refuse_assets([shot], f"gateway {self.name}", self.name)
            calls = self._asset_calls(shot)
            assert calls is not None  # a kind that makes an asset speaks its wire
            return await calls.submit(shot)
        frame_item = shot.request.first_frame
        if frame_item is not None and frame_item.ref is None and first_frame is None \
                and self.dialect.limits.first_frame:
            raise ProviderError(f"the first frame comes from shot {frame_item.from_shot}, and "
                                "none was given", provider=self.name, shot=shot.id)
        payload = await asyncio.to_thread(self.body, shot, first_frame)  # may draw a copy
        try:
            answer = await self.request_json("POST", self.protocol.submit_path, what="submit",
                                      shot=shot.id, json=payload)
        except RequestRejected as exc:
            note = self.dialect.refusal_note(exc.code or "")
            if not note:
                raise
            refusal = self.dialect.refusal_of(exc.code or "")
            if refusal is not None and refusal.face:  # whose face, and how to send it
                note += "; " + faces.attributed(shot.request, self.dialect.target, exc.detail)
            raise RequestRejected(f"{exc.detail}; {note}", provider=self.name, shot=shot.id,
                                  code=exc.code, status=exc.status) from exc
        except ProviderError as exc:
            if type(exc) is not ProviderError or exc.status is None or exc.status >= 400:
                raise
            # a successful status whose body is no JSON object (``json_answer``): no refusal
            raise self._unread("submit", shot.id, exc.detail) from exc
        task_id = self.dialect.submitted(answer)
        if not task_id:
            raise self._unread("submit", shot.id, f"no task id in {_said(sorted(answer))}")
        return task_id

    def _unread(self, what: str, shot: str, why: str) -> UnreadAnswer:
        """An answer neither asked for nor a documented refusal: for a submit, a lost answer."""
        text = f"{what}: an answer that is neither a task nor a documented refusal ({why})"
        return UnreadAnswer(self._key.scrub(text) if self._key else text, provider=self.name,
                            shot=shot, code="UnreadAnswer")

    def _asset_calls(self, shot: CompiledShot) -> PictureCalls | PortraitCalls | None:
        """The calls that make ``shot``'s asset: an element's, a Kling voice's, a portrait's,
        else a picture's."""
        assert shot.asset is not None
        calls: dict[str, PictureCalls | PortraitCalls | None] = {
            "element": self.elements, "kvoice": self.kvoices, "portrait": self.portraits}
        return calls.get(shot.asset.kind, self.pictures)

    async def query(self, task_id: str) -> TaskState:
        if self.elements is not None and task_id.startswith(ELEMENT_TASK):
            return await self.elements.query(task_id)
        if self.kvoices is not None and task_id.startswith(VOICE_TASK):
            return await self.kvoices.query(task_id)
        if self.portraits is not None and task_id.startswith(PORTRAIT_TASK):
            return await self.portraits.query(task_id)
        if self.pictures is not None and is_picture(task_id):
            return await self.pictures.query(task_id)
        answer = await self.request_json("GET", self._path(self.protocol.task_path, task_id),
                                  what=f"query of task {task_id}")
        state = self.dialect.task_state(answer, task_id)
        content = self.settings.content_path
        if state.status is TaskStatus.SUCCEEDED and content and not state.video_url:
            state.video_url = self.settings.base_url + self._path(content, state.task_id)
        hop = self.protocol.file_hop
        if state.status is TaskStatus.SUCCEEDED and hop is not None and not state.video_url:
            state.video_url = await self._file_url(hop, answer, state.task_id)
        return state

    async def _file_url(self, hop: FileHop, answer: Mapping[str, Any], task_id: str) -> str:
        """The download URL of a finished task's file: one more request (``FileHop``)."""
        file_id = get(answer, hop.file_id)
        if file_id in (None, ""):
            raise ProviderError(f"task {task_id} succeeded and names no file ({hop.file_id})",
                                provider=self.name)
        found = await self.request_json("GET", hop.path.format(file_id=quote(str(file_id), safe="")),
                                 what=f"file {file_id} of task {task_id}")
        url = get(found, hop.url)
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ProviderError(f"file {file_id} of task {task_id}: no download URL at "
                                f"{hop.url}", provider=self.name)
        return url

    async def cancel(self, task_id: str) -> None:
        if self.protocol.cancel_path is None:
            raise RequestRejected(f"{self.name} has no cancel call: task {task_id} runs to its "
                                  "end", provider=self.name)
        await self.request_json("POST", self._path(self.protocol.cancel_path, task_id),
                         what=f"cancel of task {task_id}")

    async def find(self, shot: CompiledShot, since: float) -> list[TaskState]:
        """Every listed task whose prompt is this shot's (on a list without prompts, whose
        settings are this shot's: ``Dialect.listed_like``), created since ``since`` when the list
        says when, newest first. A gateway without a list raises ``NeverListed``: "none
        found" would let a lost submit be paid again."""
        if shot.asset is not None and (calls := self._asset_calls(shot)) is not None:
            return await calls.find(shot, since)
        if self.protocol.list_path is None:
            raise NeverListed(f"{self.name} has no task list: a lost submit's task cannot "
                              "be looked up", provider=self.name, shot=shot.id,
                              code="ListUnavailable")
        items = await self._listed(shot)
        matches = [item for item in items
                   if isinstance(item, dict) and (item.get("task_id") or item.get("id"))
                   and self._same(shot, item)]
        dated = [(_seconds(m["created_at"]), n, m) for n, m in enumerate(matches)
                 if isinstance(m.get("created_at"), int | float)]
        if dated:  # newest first; in one second, the later listed
            matches = [m for when, _, m in sorted(dated, key=lambda d: d[:2], reverse=True)
                       if when >= since - CLOCK_SKEW]
        return [await self.ask(functools.partial(self.query, str(m.get("task_id") or m.get("id"))))
                for m in matches]

    def _same(self, shot: CompiledShot, item: Mapping[str, Any]) -> bool:
        """Whether a listed task could be ``shot``'s: its prompt, or where the list shows none,
        its settings."""
        if not self.dialect.answers.item_prompt:
            return self.dialect.listed_like(shot.request, item)
        prompt = wording.for_model(shot.request.prompt_in(self.dialect.label),
                                   shot.request.scenes, shot.request.model).strip()
        return str(get(item, self.dialect.answers.item_prompt) or "").strip() == prompt

    async def _listed(self, shot: CompiledShot) -> list[Any]:
        """The list's items: one answer, or page after page filtered as the dialect can (Ark:
        by model), to the last; a list longer than ``LIST_PAGES`` pages cannot be read whole,
        and says so (``ListUnavailable``) rather than "none found"."""
        number, size = self.dialect.list_pages
        values = self.dialect.sent_values(shot.request)
        query = {name: values[neutral] for name, neutral in self.dialect.list_filters.items()}
        items: list[Any] = []
        for page in range(1, LIST_PAGES + 1 if number else 2):
            params = {**query, **({number: page, size: PAGE_SIZE} if number else {})}
            answer = await self.ask(functools.partial(
                self.request_json, "GET", self.protocol.list_path or "", what="task list",
                shot=shot.id, params=params))
            found = protocol.list_items(answer, provider=self.name, shot=shot.id,
                                        first=get(answer, self.dialect.answers.items))
            items += found
            total = get(answer, self.dialect.answers.total) if self.dialect.answers.total \
                else None
            if not number or len(found) < PAGE_SIZE or (isinstance(total, int)
                                                        and len(items) >= total):
                return items
        raise ListUnavailable(f"{self.name}'s task list runs past {LIST_PAGES} pages of "
                              f"{PAGE_SIZE}: a lost submit's task cannot be told from the rest",
                              provider=self.name, shot=shot.id, code="ListUnavailable")

    async def download(self, state: TaskState, dest: Path, *,
                       limit: int = DEFAULT_MAX_DOWNLOAD) -> None:
        """Stream the result; the key goes along only to the gateway's own host."""
        if not state.video_url:
            raise ProviderError(f"task {state.task_id} ({state.status}) has no video_url",
                                provider=self.name)
        own = state.video_url.startswith(self.settings.base_url + "/")
        await protocol.download_to(self._client(), state.video_url, dest, provider=self.name,
                          what=f"download of task {state.task_id}", key=self._key,
                          timeout=httpx.Timeout(max(self.settings.timeout, 300.0)),
                          headers=self._auth_headers() if own else None, limit=limit)
