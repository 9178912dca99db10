"""Submit bodies into accepted submissions or the service's error codes (spec sections 1 and 3).

The rules a client can break before a task exists: model, prompt lengths, the media array, parameter
ranges, URL schemes and the ``oss://`` resolve header. Unknown keys are ignored, as the service does
(the official SDK sends ``input.extend_prompt`` and ``input.function``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MODELS = ("wan2.7-r2v", "wan2.7-r2v-2026-06-12")
RESOLUTIONS = ("720P", "1080P")
RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4")
MEDIA_TYPES = ("reference_image", "reference_video", "first_frame")
REFERENCE_TYPES = ("reference_image", "reference_video")
PROMPT_LIMIT = 5000
NEGATIVE_PROMPT_LIMIT = 500
MAX_REFERENCES = 5
SEED_MAX = 2147483647
DEFAULTS: dict[str, Any] = {"resolution": "1080P", "ratio": "16:9", "duration": 5}
MISSING = "Required parameter(s) missing or invalid, please check the request parameters."


class ApiError(Exception):
    """An error answer of the native API: ``{"request_id", "code", "message"}`` with a status."""

    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidParameter", message)


@dataclass(frozen=True)
class Submission:
    """An accepted body, with the service's defaults filled in."""

    model: str
    prompt: str
    resolution: str
    ratio: str
    duration: int
    media: tuple[dict[str, str], ...]
    seed: int | None

    @property
    def oss_urls(self) -> list[str]:
        return [u for item in self.media for u in item.values() if u.startswith("oss://")]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _prompts(data: Mapping[str, Any]) -> str:
    prompt = data.get("prompt")
    if prompt is None or (isinstance(prompt, str) and not prompt.strip()):
        raise ApiError(400, "BadRequest.EmptyInput", "Required input parameter prompt is empty.")
    if not isinstance(prompt, str):
        raise invalid("input.prompt must be a string")
    if len(prompt) > PROMPT_LIMIT:
        raise invalid(f"input.prompt is longer than {PROMPT_LIMIT} characters")
    negative = data.get("negative_prompt")
    if negative is not None and not isinstance(negative, str):
        raise invalid("input.negative_prompt must be a string")
    if negative is not None and len(negative) > NEGATIVE_PROMPT_LIMIT:
        raise invalid(f"input.negative_prompt is longer than {NEGATIVE_PROMPT_LIMIT} characters")
    return prompt


def _check_url(url: object, where: str, *, data_ok: bool) -> str:
    if not isinstance(url, str) or not url:
        raise invalid(f"{where} must be a non-empty URL string")
    if url.startswith(("http://", "https://", "oss://")) or (data_ok and url.startswith("data:")):
        return url
    allowed = "http(s), oss:// or data:" if data_ok else "http(s) or oss://"
    raise ApiError(400, "InvalidURL", f"{where}: the URL must be {allowed}")


def _media_item(index: int, item: object) -> dict[str, str]:
    where = f"input.media[{index}]"
    if not isinstance(item, dict):
        raise invalid(f"{where} must be an object")
    kind = item.get("type")
    if kind not in MEDIA_TYPES:
        raise invalid(f"{where}.type must be one of {', '.join(MEDIA_TYPES)}")
    entry = {"type": kind, "url": _check_url(item.get("url"), f"{where}.url",
                                             data_ok=kind != "reference_video")}
    voice = item.get("reference_voice")
    if voice is not None:
        if kind not in REFERENCE_TYPES:
            raise invalid(f"{where}: reference_voice is allowed only on reference items")
        entry["reference_voice"] = _check_url(voice, f"{where}.reference_voice", data_ok=False)
    return entry


def _media(data: Mapping[str, Any]) -> tuple[dict[str, str], ...]:
    media = data.get("media")
    if not isinstance(media, list) or not media:
        raise invalid("input.media must be a non-empty array")
    items = tuple(_media_item(i, item) for i, item in enumerate(media))
    references = sum(1 for m in items if m["type"] in REFERENCE_TYPES)
    if references == 0:
        raise invalid("input.media needs at least one reference_image or reference_video")
    if references > MAX_REFERENCES:
        raise invalid(f"input.media has {references} references; at most {MAX_REFERENCES}")
    if sum(1 for m in items if m["type"] == "first_frame") > 1:
        raise invalid("input.media may hold at most one first_frame")
    return items


def _choice(params: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = params.get(name, DEFAULTS[name])
    if value not in allowed:
        raise invalid(f"parameters.{name} must be one of {', '.join(allowed)}")
    return str(value)


def _duration(params: Mapping[str, Any], has_video: bool) -> int:
    value = params.get("duration", DEFAULTS["duration"])
    top = 10 if has_video else 15
    if not _is_int(value) or not 2 <= value <= top:
        with_video = " with a reference_video" if has_video else ""
        raise invalid(f"parameters.duration must be an integer in 2..{top}{with_video}")
    return int(value)


def _seed(params: Mapping[str, Any]) -> int | None:
    seed = params.get("seed")
    if seed is not None and (not _is_int(seed) or not 0 <= seed <= SEED_MAX):
        raise invalid(f"parameters.seed must be an integer in 0..{SEED_MAX}")
    return None if seed is None else int(seed)


def _flags(params: Mapping[str, Any]) -> None:
    for name in ("prompt_extend", "watermark"):
        if name in params and not isinstance(params[name], bool):
            raise invalid(f"parameters.{name} must be a boolean")


def _model(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not model:
        raise ApiError(400, "BadRequest.EmptyModel", "Required parameter model is missing.")
    if model not in MODELS:
        raise invalid("Model not exist.")
    return str(model)


def _oss(items: tuple[dict[str, str], ...], resolve: bool, known: Callable[[str], bool]) -> None:
    urls = [u for item in items for u in item.values() if u.startswith("oss://")]
    if urls and not resolve:
        raise invalid("oss:// URLs need the header X-DashScope-OssResourceResolve: enable")
    for url in urls:
        if not known(url):
            raise ApiError(400, "InvalidURL", f"{url}: no such uploaded file (or it expired)")


def validate_submit(body: object, *, oss_resolve: bool,
                    known_upload: Callable[[str], bool]) -> Submission:
    """Check a submit body like the service; raise ApiError with the documented code."""
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    model = _model(body)
    data = body.get("input")
    if not isinstance(data, dict) or not data:
        raise ApiError(400, "BadRequest.EmptyInput", "Required parameter input is missing.")
    prompt = _prompts(data)
    items = _media(data)
    params = body.get("parameters", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise invalid("parameters must be an object")
    has_video = any(m["type"] == "reference_video" for m in items)
    submission = Submission(model, prompt, _choice(params, "resolution", RESOLUTIONS),
                            _choice(params, "ratio", RATIOS), _duration(params, has_video),
                            items, _seed(params))
    _flags(params)
    _oss(items, oss_resolve, known_upload)
    return submission
