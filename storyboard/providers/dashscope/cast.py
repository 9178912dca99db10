"""Cast asset shots into DashScope calls: generated images, designed voices and spoken lines.

An asset shot (``shot.asset`` set) goes through the same ``submit``/``query``/``download``/``find``
as a video, and each kind becomes one request (``../shared/spec/assets.md`` sections 1 and 2):

- ``image``: the asynchronous image-generation endpoint (``X-DashScope-Async: enable``), polled on
  ``/tasks/{id}`` like a video; the picture's URL is read into ``TaskState.video_url``.
- ``voice``: ``qwen-voice-design`` ``create``, synchronous. The task id is the voice id; the
  preview (base64 WAV of the sample) is kept in memory and under the series' work area, so a later
  process can still hand it over. A lost answer is reconciled by listing the account's voices for
  the shot's ``preferred_name`` (derived from its hash); a voice is never created twice. A voice
  adopted that way has no preview at hand: ``download`` then speaks its sample in it through the
  speech model it was designed for (one small paid call, about 0.8 CNY / 0.10 USD per 10,000
  characters).
- ``speech``: a line spoken by a ``qwen3-tts-vd`` snapshot, synchronous: the task id is
  ``tts-<request id>`` and the result URL (valid 24 h) is kept the same way, also by the line's
  hash, so an answer the journal missed is found again. No list shows speech calls: a lost answer
  with nothing kept is ``NeverListed`` to ``find`` (the runner stops the line as ambiguous,
  never speaking it twice). An id no longer known answers UNKNOWN with code ``Gone`` (the line is
  spoken again).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import functools
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any, Protocol

from storyboard.dialects.images import WAN_IMAGE
from storyboard.errors import NeverListed, ProviderError, RequestRejected
from storyboard.files import state_folder, temp_prefix, write_atomic
from storyboard.language.request import AssetRequest, CompiledShot
from storyboard.providers.base import Ask
from storyboard.providers.dashscope.wire import NAME, OSS_RESOLVE_HEADER, parse_submit
from storyboard.targets import TaskState, TaskStatus
from storyboard.targets.cast.assets import QWEN_VOICE_DESIGN, preferred_name


class DashScopeProvider(Protocol):
    """What the cast's calls need of ``dashscope.DashScopeProvider`` (declared here, so neither
    module imports the other): its JSON calls, its downloads, its retry policy for ``find``, and
    a local file's URL (an upload or a data URI)."""

    @property
    def ask(self) -> Ask: ...  # its run's retry policy (its hooks)

    async def request_json(self, method: str, path: str, *, what: str, shot: str = "",
                    **kwargs: Any) -> dict[str, Any]: ...

    async def fetch(self, url: str, dest: Path, *, what: str, limit: int = ...) -> None: ...

    async def url_for_file(self, path: Path, image: bool, shot: CompiledShot) -> str: ...

VOICE_PATH = "/services/audio/tts/customization"
SPEECH_PATH = "/services/aigc/multimodal-generation/generation"
SPEECH_PREFIX = "tts-"  # our task ids for spoken lines
VOICE_PREFIX = "qwen-tts-vd-"  # the service's voice ids
SAMPLE_RATE = 24000
RESULT_LIFE = 23 * 3600.0  # a result URL lives 24 h: one kept longer is asked for again
VOICE_PAGE_SIZE = 100
VOICE_MAX_PAGES = 20  # 1,000 voices an account at most
HELD = "held:"  # video_url of a result held here (a voice preview): ``held:<task id>``
LANGUAGE_TYPES = {"zh": "Chinese", "en": "English", "de": "German", "it": "Italian",
                  "pt": "Portuguese", "es": "Spanish", "ja": "Japanese", "ko": "Korean",
                  "fr": "French", "ru": "Russian"}


def is_cast_task(task_id: str) -> bool:
    """A task id answered here rather than on ``/tasks/{id}``: a voice or a spoken line."""
    return task_id.startswith((SPEECH_PREFIX, VOICE_PREFIX))


def _file_name(task_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", task_id)


class CastCalls:
    """The cast's requests for one ``DashScopeProvider``; results of synchronous calls kept in
    memory and, when the provider has a work area, in ``work_dir``."""

    def __init__(self, provider: DashScopeProvider, work_dir: Path | None) -> None:
        self.provider = provider
        self.work_dir = work_dir
        self._previews: dict[str, bytes] = {}  # voice id -> preview WAV
        self._speech: dict[str, str] = {}  # tts-... -> result URL

    def asking(self, provider: DashScopeProvider) -> CastCalls:
        """These calls made through ``provider`` (a copy of theirs, given its hooks), sharing
        what they keep."""
        calls = copy.copy(self)
        calls.provider = provider
        return calls

    # -- submit ------------------------------------------------------------------------------

    async def submit(self, shot: CompiledShot) -> str:
        asset = shot.asset
        assert asset is not None
        if asset.kind == "image":
            return await self._image(shot, asset)
        if asset.kind == "voice":
            return await self._voice(shot, asset)
        return await self._speak(shot, asset)

    async def _image(self, shot: CompiledShot, asset: AssetRequest) -> str:
        urls: list[str] = []
        for ref in asset.refs:
            if ref.asset is not None:
                raise ProviderError(f"reference {ref.asset} was not resolved to a file",
                                    provider=NAME, shot=shot.id)
            urls.append(await self.provider.url_for_file(ref.path, True, shot)
                        if ref.path is not None else str(ref.url))
        headers = {"X-DashScope-Async": "enable"}
        if any(url.startswith("oss://") for url in urls):
            headers[OSS_RESOLVE_HEADER] = "enable"
        answer = await self.provider.request_json("POST", WAN_IMAGE.submit_path, what="image submit",
                                           shot=shot.id, json=WAN_IMAGE.body(asset, urls),
                                           headers=headers)
        return parse_submit(answer, shot=shot.id)

    async def _voice(self, shot: CompiledShot, asset: AssetRequest) -> str:
        data: dict[str, Any] = {
            "action": "create", "target_model": asset.target_model, "voice_prompt": asset.prompt,
            "preview_text": asset.sample, "preferred_name": preferred_name(shot.hash, asset.name)}
        if asset.language:
            data["language"] = asset.language
        body = {"model": QWEN_VOICE_DESIGN.id, "input": data,
                "parameters": {"sample_rate": SAMPLE_RATE, "response_format": "wav"}}
        answer = await self.provider.request_json("POST", VOICE_PATH, what="voice design",
                                           shot=shot.id, json=body)
        output = answer.get("output")
        voice = output.get("voice") if isinstance(output, dict) else None
        if not isinstance(voice, str) or not voice:
            raise ProviderError("voice design: malformed answer, no 'output.voice'",
                                provider=NAME, shot=shot.id)
        preview = output.get("preview_audio") if isinstance(output, dict) else None
        raw = preview.get("data") if isinstance(preview, dict) else None
        if isinstance(raw, str) and raw:
            # no usable preview: download speaks the sample instead
            with contextlib.suppress(binascii.Error, ValueError):
                self._keep_preview(voice, base64.b64decode(raw, validate=True))
        return voice

    async def _speak(self, shot: CompiledShot, asset: AssetRequest) -> str:
        if not asset.voice or asset.voice.startswith("voices/"):
            raise ProviderError(f"the line's voice {asset.voice or '(none)'} is not a designed "
                                "voice's id yet: make the voice first", provider=NAME,
                                shot=shot.id)
        answer = await self.provider.request_json(
            "POST", SPEECH_PATH, what="speech", shot=shot.id,
            json=speech_body(asset.model, asset.prompt, asset.voice, asset.language))
        url = _audio_url(answer, shot.id)
        task_id = SPEECH_PREFIX + str(answer.get("request_id") or shot.hash[:32])
        self._speech[task_id] = url
        # Kept before the runner hears the id: a process killed before the journal has it
        # finds the answer again by the line's hash (``find``), never speaking twice.
        self._write(f"speech/{_file_name(shot.hash)}.line.json", json.dumps(
            {"task_id": task_id, "url": url, "at": time.time()}).encode())
        self._write(f"speech/{_file_name(task_id)}.json", json.dumps({"url": url}).encode())
        return task_id

    # -- query and download ------------------------------------------------------------------

    async def query(self, task_id: str) -> TaskState:
        if task_id.startswith(SPEECH_PREFIX):
            url = self._speech.get(task_id) or self._read_speech(task_id)
            if url is None:
                return TaskState(task_id, TaskStatus.UNKNOWN, code="Gone",
                                 message="a spoken line's answer is no longer kept here: it is "
                                         "spoken again")
            return TaskState(task_id, TaskStatus.SUCCEEDED, video_url=url)
        if self._preview(task_id) is not None:
            return TaskState(task_id, TaskStatus.SUCCEEDED, video_url=HELD + task_id)
        answer = await self.provider.request_json(
            "POST", VOICE_PATH, what=f"query of voice {task_id}",
            json={"model": QWEN_VOICE_DESIGN.id, "input": {"action": "query", "voice": task_id}})
        output = answer.get("output")
        if not isinstance(output, dict) or output.get("voice") != task_id:
            raise ProviderError(f"query of voice {task_id}: malformed answer", provider=NAME)
        return TaskState(task_id, TaskStatus.SUCCEEDED, raw={"output": output})

    async def download(self, state: TaskState, dest: Path, limit: int) -> bool:
        """Write a voice's preview (or its sample spoken now) to ``dest``; False for a result
        with a URL, which the provider downloads as a video's."""
        held = (state.video_url or "").startswith(HELD)
        if not held and not state.task_id.startswith(VOICE_PREFIX):
            return False
        preview = self._preview(state.task_id)
        if preview is None:
            preview = await self._speak_sample(state, dest.parent, limit)
        try:
            dest.write_bytes(preview)
        except OSError as exc:
            raise ProviderError(f"cannot write {dest}: {exc.strerror or exc}",
                                provider=NAME) from exc
        return True

    async def _speak_sample(self, state: TaskState, folder: Path, limit: int) -> bytes:
        """An adopted voice's reference audio: its sample spoken in it (a small paid call)."""
        output = state.raw.get("output") if isinstance(state.raw, dict) else None
        if not isinstance(output, dict) or not output.get("preview_text"):
            state = await self.query(state.task_id)
            output = state.raw.get("output", {})
        text, model = str(output.get("preview_text") or ""), str(output.get("target_model") or "")
        if not text or not model:
            raise ProviderError(f"voice {state.task_id}: neither its preview nor its sample and "
                                "model are known", provider=NAME)
        kept = f"voices/{_file_name(state.task_id)}.sample.json"
        url = self._kept_url(kept, RESULT_LIFE)  # a fetch failed after the paid call: not again
        if url is None:
            answer = await self.provider.request_json(
                "POST", SPEECH_PATH, what="speech of a voice's sample",
                json=speech_body(model, text, state.task_id, str(output.get("language") or "")))
            url = _audio_url(answer, "")
            self._write(kept, json.dumps({"url": url, "at": time.time()}).encode())
        tmp = folder / f"{temp_prefix('sample')}{secrets.token_hex(4)}.wav"
        try:
            await self.provider.fetch(url, tmp, what=f"sample of voice {state.task_id}",
                                      limit=limit)
            audio = tmp.read_bytes()
        finally:
            tmp.unlink(missing_ok=True)
        self._keep_preview(state.task_id, audio)
        return audio

    # -- find --------------------------------------------------------------------------------

    async def find(self, shot: CompiledShot, since: float) -> list[TaskState]:
        """Every voice of the account whose id or name carries this shot's preferred name; for a
        spoken line, the answer kept here for it since ``since``."""
        asset = shot.asset
        assert asset is not None
        if asset.kind == "speech":
            return self._spoken_since(shot, since)
        if asset.kind != "voice":
            return []
        name = preferred_name(shot.hash, asset.name)
        found: list[TaskState] = []
        for item in await self._voices(shot.id):
            voice = str(item.get("voice") or "")
            if f"-{name}-" in voice or item.get("preferred_name") == name:
                found.append(TaskState(voice, TaskStatus.SUCCEEDED, raw={"output": item},
                                       submit_time=str(item.get("gmt_create") or "")))
        return sorted(found, key=lambda s: s.submit_time, reverse=True)

    async def _voices(self, shot: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for index in range(VOICE_MAX_PAGES):
            body = {"model": QWEN_VOICE_DESIGN.id, "input": {
                "action": "list", "page_index": index, "page_size": VOICE_PAGE_SIZE}}
            answer = await self.provider.ask(functools.partial(
                self.provider.request_json, "POST", VOICE_PATH, what="voice list", shot=shot,
                json=body))
            output = answer.get("output")
            page = output.get("voice_list") if isinstance(output, dict) else None
            if not isinstance(page, list):
                raise RequestRejected("voice list: malformed answer, no 'output.voice_list'",
                                      provider=NAME, shot=shot, code="ListUnavailable")
            items += [item for item in page if isinstance(item, dict)]
            total = output.get("total_count") if isinstance(output, dict) else None
            if not page or (isinstance(total, int) and len(items) >= total):
                break
        return items

    def _spoken_since(self, shot: CompiledShot, since: float) -> list[TaskState]:
        """The line's answer kept since ``since`` (the answer came, the journal missed its id);
        without one, ``NeverListed`` (no task id to adopt): speech is synchronous and no list
        shows a call whose answer was lost, so whether it was paid cannot be known, and it is
        never sent again."""
        path = self._path(f"speech/{_file_name(shot.hash)}.line.json")
        try:
            kept = json.loads(path.read_text(encoding="utf-8")) if path is not None else None
        except (OSError, ValueError):
            kept = None
        if isinstance(kept, dict) and isinstance(kept.get("at"), int | float) \
                and kept["at"] >= since and isinstance(kept.get("task_id"), str) \
                and isinstance(kept.get("url"), str) and kept["url"]:
            self._speech[kept["task_id"]] = kept["url"]
            return [TaskState(kept["task_id"], TaskStatus.SUCCEEDED, video_url=kept["url"])]
        raise NeverListed(
            "a spoken line cannot be listed: the speech call is synchronous and gives no task "
            "that a list could show, so a call whose answer was lost may have been paid",
            provider=NAME, shot=shot.id, code="SpeechUnlisted", adopt_as=None)

    # -- what is kept ------------------------------------------------------------------------

    def _keep_preview(self, voice: str, audio: bytes) -> None:
        self._previews[voice] = audio
        self._write(f"voices/{_file_name(voice)}.wav", audio)

    def _preview(self, voice: str) -> bytes | None:
        if voice in self._previews:
            return self._previews[voice]
        path = self._path(f"voices/{_file_name(voice)}.wav")
        if path is not None and path.is_file():
            self._previews[voice] = path.read_bytes()
            return self._previews[voice]
        return None

    def _read_speech(self, task_id: str) -> str | None:
        return self._kept_url(f"speech/{_file_name(task_id)}.json")

    def _kept_url(self, name: str, life: float | None = None) -> str | None:
        """A URL kept under ``name``; with ``life``, only one kept less than ``life`` s ago."""
        path = self._path(name)
        try:
            kept = json.loads(path.read_text(encoding="utf-8")) if path else None
        except (OSError, ValueError):
            return None
        url = kept.get("url") if isinstance(kept, dict) else None
        at = kept.get("at") if isinstance(kept, dict) else None
        if life is not None and not (isinstance(at, int | float) and time.time() - at < life):
            return None
        return url if isinstance(url, str) and url else None

    def _path(self, name: str) -> Path | None:
        return self.work_dir / name if self.work_dir is not None else None

    def _write(self, name: str, data: bytes) -> None:
        """``data`` into the work area, atomically, never through a link; kept in memory only
        when there is no work area or it cannot be written."""
        path = self._path(name)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            state_folder(path.parent)
            write_atomic(path, data, durable=False)
        except OSError:
            return


def speech_body(model: str, text: str, voice: str, language: str = "") -> dict[str, Any]:
    """A line spoken in a designed voice: the speech call's body."""
    return {"model": model, "input": {"text": text, "voice": voice,
                                      "language_type": LANGUAGE_TYPES.get(language, "Auto")}}


def _audio_url(answer: dict[str, Any], shot: str) -> str:
    output = answer.get("output")
    audio = output.get("audio") if isinstance(output, dict) else None
    url = audio.get("url") if isinstance(audio, dict) else None
    if not isinstance(url, str) or not url:
        raise ProviderError("speech: malformed answer, no 'output.audio.url'", provider=NAME,
                            shot=shot)
    return url
