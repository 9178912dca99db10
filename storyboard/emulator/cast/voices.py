"""Voice-design and speech bodies into designed voices and spoken lines, per account.

``POST {base}/services/audio/tts/customization`` with ``model: qwen-voice-design`` and
``input.action`` one of:

- ``create`` (synchronous): ``target_model``, ``voice_prompt``, ``preview_text``, optional
  ``preferred_name`` and ``language``; answers ``output.voice``, ``output.target_model`` and
  ``output.preview_audio`` (``data``: base64 WAV of the preview text), ``usage.count`` 1.
- ``list``: ``page_index`` (from 0) and ``page_size``; answers ``output.voice_list`` (newest
  first), ``total_count``, ``page_index``, ``page_size``.
- ``query`` and ``delete`` with ``voice``.

A voice belongs to the account (the API key) that made it. Its id carries its preferred name
(``qwen-tts-vd-{name}-voice-{time}-{4 hex}``). A second create with the same preferred name makes
a second voice, billed again, as the ids the service gives suggest (the documents say nothing of
uniqueness): a client whose answer was lost must list and adopt, never re-send.

``POST {base}/services/aigc/multimodal-generation/generation`` with a ``qwen3-tts-vd`` snapshot
speaks ``input.text`` (at most 600 characters, a Chinese one counting two) in ``input.voice``,
which must be the account's and designed for that snapshot; answers ``output.audio.url`` (WAV).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storyboard.emulator.cast import standins as cast_media
from storyboard.emulator.cast.assets import ImageTasks
from storyboard.emulator.validate import ApiError, invalid
from storyboard.files import write_atomic
from storyboard.targets.cast.assets import (
    NAME_PATTERN,
    QWEN_VOICE_DESIGN,
    speech_characters,
    speech_model_of,
)

DESIGN = QWEN_VOICE_DESIGN


@dataclass
class DesignedVoice:
    voice: str
    account: str
    target_model: str
    voice_prompt: str
    preview_text: str
    preferred_name: str | None
    language: str
    created: float


def account_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _string(data: Mapping[str, Any], name: str, most: int, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"input.{name} must be a non-empty string")
    if len(value) > most:
        raise invalid(f"input.{name} is longer than {most} characters")
    return value


def _integer(data: Mapping[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = data.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise invalid(f"input.{name} must be an integer in {low}..{high}")
    return value


def _audio_format(body: Mapping[str, Any]) -> int:
    """Check ``parameters``; return the sample rate. The emulator draws WAV only."""
    params = body.get("parameters") or {}
    if not isinstance(params, dict):
        raise invalid("parameters must be an object")
    rate = params.get("sample_rate", 24000)
    if rate not in DESIGN.sample_rates or isinstance(rate, bool):
        raise invalid(f"parameters.sample_rate must be one of "
                      f"{', '.join(map(str, DESIGN.sample_rates))}")
    form = params.get("response_format", "wav")
    if form not in DESIGN.formats:
        raise invalid(f"parameters.response_format must be one of {', '.join(DESIGN.formats)}")
    if form != "wav":
        raise invalid("the emulator draws wav previews only (parameters.response_format)")
    return int(rate)


class Voices:
    """The designed voices of every account, and the lines they speak."""

    def __init__(self, images: ImageTasks) -> None:
        self.images = images  # its clock, folder and URL signing serve the audio too
        self.voices: dict[str, DesignedVoice] = {}
        self.created = 0  # voices made and billed
        self.characters = 0  # speech characters billed
        self.languages: dict[str, int] = {}  # lines spoken, by the language_type they were sent

    def handle(self, body: object, key: str) -> dict[str, Any]:
        """One customization request: the answer without ``request_id``."""
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object.")
        if not body.get("model"):
            raise ApiError(400, "BadRequest.EmptyModel", "Required parameter model is missing.")
        if body["model"] != DESIGN.id:
            raise invalid("Model not exist.")
        data = body.get("input")
        if not isinstance(data, dict) or not data:
            raise ApiError(400, "BadRequest.EmptyInput", "Required parameter input is missing.")
        action = data.get("action")
        if action not in DESIGN.actions:
            raise invalid(f"input.action must be one of {', '.join(DESIGN.actions)}")
        account = account_of(key)
        if action == "create":
            return self.create(body, data, account)
        if action == "list":
            return self.listing(data, account)
        voice = self._own(data, account)
        if action == "delete":
            del self.voices[voice.voice]
            return {"output": {"voice": voice.voice}, "usage": {}}
        return {"output": self._shown(voice), "usage": {}}

    def _own(self, data: Mapping[str, Any], account: str) -> DesignedVoice:
        name = _string(data, "voice", 256)
        voice = self.voices.get(name)
        if voice is None or voice.account != account:
            raise ApiError(400, "InvalidParameter", f"Voice not found: {name}")
        return voice

    def _checked(self, data: Mapping[str, Any]) -> tuple[str, str, str, str | None, str]:
        target = data.get("target_model")
        if target not in DESIGN.target_models:
            raise invalid(f"input.target_model must be one of {', '.join(DESIGN.target_models)}")
        prompt = _string(data, "voice_prompt", DESIGN.prompt_limit)
        preview = _string(data, "preview_text", DESIGN.preview_limit)
        name = data.get("preferred_name")
        if name is not None and (not isinstance(name, str) or not NAME_PATTERN.match(name)):
            raise invalid(f"input.preferred_name must be 1 to {DESIGN.name_limit} characters of "
                          "A-Z, a-z, 0-9 and _")
        language = data.get("language", "zh")
        if language not in DESIGN.languages:
            raise invalid(f"input.language must be one of {', '.join(DESIGN.languages)}")
        return str(target), prompt, preview, name, str(language)

    def create(self, body: Mapping[str, Any], data: Mapping[str, Any],
               account: str) -> dict[str, Any]:
        target, prompt, preview, name, language = self._checked(data)
        rate = _audio_format(body)
        if sum(1 for v in self.voices.values() if v.account == account) >= DESIGN.max_voices:
            raise ApiError(400, "Throttling.AllocationQuota",
                           f"The account already has {DESIGN.max_voices} voices.")
        now = self.images.clock.now()
        stamp = (self.images.clock.stamp(now) or "").replace("-", "").replace(" ", "") \
            .replace(":", "")[:14]
        suffix = hashlib.sha256(f"{account}:{self.created}:{prompt}".encode()).hexdigest()[:4]
        voice_id = f"qwen-tts-vd-{name + '-' if name else ''}voice-{stamp}-{suffix}"
        self.voices[voice_id] = DesignedVoice(voice_id, account, target, prompt, preview, name,
                                              language, now)
        self.created += 1
        audio = cast_media.speech(preview, prompt, rate)
        return {"output": {"voice": voice_id, "target_model": target, "preview_audio": {
            "data": base64.b64encode(audio).decode(), "sample_rate": rate,
            "response_format": "wav"}}, "usage": {"count": 1}}

    def listing(self, data: Mapping[str, Any], account: str) -> dict[str, Any]:
        index = _integer(data, "page_index", 0, 10**6, 0)
        size = _integer(data, "page_size", 1, DESIGN.max_page_size, 10)
        own = sorted((v for v in self.voices.values() if v.account == account),
                     key=lambda v: (v.created, v.voice), reverse=True)
        shown = [self._shown(v) for v in own[index * size:(index + 1) * size]]
        return {"output": {"voice_list": shown, "total_count": len(own), "page_index": index,
                           "page_size": size}, "usage": {}}

    def _shown(self, voice: DesignedVoice) -> dict[str, Any]:
        when = self.images.clock.stamp(voice.created)
        return {"voice": voice.voice, "target_model": voice.target_model,
                "voice_prompt": voice.voice_prompt, "preview_text": voice.preview_text,
                "language": voice.language, "gmt_create": when, "gmt_modified": when}

    # --- speech ----------------------------------------------------------------------------

    def speak(self, body: object, key: str, origin: str) -> dict[str, Any]:
        """A line in a designed voice: the answer without ``request_id``."""
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object.")
        if not body.get("model"):
            raise ApiError(400, "BadRequest.EmptyModel", "Required parameter model is missing.")
        model = speech_model_of(body["model"]) if isinstance(body["model"], str) else None
        if model is None:
            raise invalid("Model not exist.")
        data = body.get("input")
        if not isinstance(data, dict) or not data.get("text"):
            raise ApiError(400, "BadRequest.EmptyInput", "Required input parameter text is empty.")
        text = _string(data, "text", 10**6)
        count = speech_characters(text)
        if count > model.text_limit:
            raise invalid(f"input.text counts {count} characters; at most {model.text_limit} "
                          "(a Chinese character counts as two)")
        voice = self._own(data, account_of(key))
        if voice.target_model != model.id:
            raise invalid(f"input.voice was designed for {voice.target_model}, not {model.id}")
        params = body.get("parameters") or {}
        language = data.get("language_type", params.get("language_type", "Auto")
                            if isinstance(params, dict) else "Auto")
        if language not in model.language_types:
            raise invalid(f"input.language_type must be one of {', '.join(model.language_types)}")
        self.languages[str(language)] = self.languages.get(str(language), 0) + 1
        return self._spoken(text, voice.voice, model.sample_rate, count, origin)

    def _spoken(self, text: str, voice: str, rate: int, count: int,
                origin: str) -> dict[str, Any]:
        key = hashlib.sha256(f"{voice}\x00{rate}\x00{text}".encode()).hexdigest()
        path = self.images.out_dir / f"{key}.wav"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, cast_media.speech(text, voice, rate), durable=False)
        self.characters += count
        now = self.images.clock.now()
        expires = int(now + self.images.config.result_ttl)
        return {"output": {"finish_reason": "stop", "audio": {
            "id": f"audio_{key[:24]}", "url": self.images.url(origin, path, now), "data": "",
            "expires_at": expires}}, "usage": {"characters": count}}
