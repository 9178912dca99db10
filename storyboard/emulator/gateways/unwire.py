"""Dialect bodies into native bodies, and our states and codes into each dialect's answers.

The emulator's half of every wire dialect: the production declarations (``dialects/``) say how a
request is written and an answer read; what only the emulator needs (each dialect's media read
back, its values unformatted, the native codes in its own words, its own error bodies) lives here,
keyed by the declared targets, and reads those declarations, never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from storyboard.dialects import minimax
from storyboard.dialects.base import PARAMS, Dialect, get, put
from storyboard.dialects.kling import MODES
from storyboard.targets import TaskStatus
from storyboard.targets.video.kling4 import FRAME_TYPES as KLING_FRAMES
from storyboard.targets.wire.gateways import (
    ARK,
    ARRAYS,
    DASHSCOPE,
    FREEPIK,
    KLING,
    MINIMAX,
    MINIMAX_HAILUO,
    MINIMAXI,
    MINIMAXI_HAILUO,
    MODELARK,
    OPENAI_VIDEO,
    ROLES,
)

Unmedia = Callable[[Mapping[str, Any]], list[dict[str, str]]]
# (HTTP status, its own code, message) -> the HTTP status and body its service would answer.
ErrorBody = Callable[[int, str, str], tuple[int, dict[str, Any]]]


def native_item(role: str, item: Mapping[str, Any], url_key: str = "url") -> dict[str, str]:
    """A gateway's media item back into a native media item."""
    out = {"type": role, "url": str(item.get(url_key, ""))}
    if item.get("reference_voice"):
        out["reference_voice"] = str(item["reference_voice"])
    return out


def _native(body: Mapping[str, Any]) -> list[dict[str, str]]:
    return [native_item(str(m.get("type")), m) for m in body.get("input", {}).get("media", [])]


def _openai(body: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"type": str(m.get("type")), "url": str(m.get("url"))} for m in body.get("media") or []]


def _freepik(body: Mapping[str, Any]) -> list[dict[str, str]]:
    items = [native_item("reference_image", i) for i in body.get("image_urls") or []]
    items += [native_item("reference_video", i) for i in body.get("video_urls") or []]
    if body.get("start_image_url"):
        items.append({"type": "first_frame", "url": str(body["start_image_url"])})
    return items


def _roles(body: Mapping[str, Any]) -> list[dict[str, str]]:
    items = [native_item(str(i.get("role") or "reference_image"), i)
             for i in body.get("image_with_roles") or []]
    return items + [{"type": "reference_video", "url": str(u)} for u in body.get("video_urls") or []]


def _arrays(body: Mapping[str, Any]) -> list[dict[str, str]]:
    items = [{"type": "reference_image", "url": str(u)} for u in body.get("images") or []]
    items += [{"type": "reference_video", "url": str(u)} for u in body.get("videos") or []]
    if items and body.get("reference_voice"):
        items[0]["reference_voice"] = str(body["reference_voice"])
    return items


def _content(body: Mapping[str, Any]) -> list[dict[str, str]]:
    """Ark's content items (and MiniMax H3's, written the same way)."""
    out = []
    for item in body.get("content") or []:
        kind = str(item.get("type", "")) if isinstance(item, Mapping) else ""
        if kind != "text" and isinstance(item.get(kind), Mapping):
            out.append({"type": str(item.get("role") or "first_frame"),
                        "url": str(item[kind].get("url", ""))})
    return out


def _kling(body: Mapping[str, Any]) -> list[dict[str, str]]:
    """Kling's lists as native items: frames by their type (3.0's ``end_frame`` a last frame),
    4.0's elements and voices as id items (``element``, ``voice_id``)."""
    frames = {**{wire: role for role, wire in KLING_FRAMES.items()}, "end_frame": "last_frame"}
    items = [{"type": frames.get(str(i.get("type")), "reference_image"),
              "url": str(i.get("image_url", ""))}
             for i in body.get("image_list") or [] if isinstance(i, Mapping)]
    items += [{"type": "reference_video", "url": str(v.get("video_url", ""))}
              for v in body.get("video_list") or [] if isinstance(v, Mapping)]
    items += [{"type": kind, "url": str(i.get(key, ""))}
              for name, kind, key in (("element_list", "element", "element_id"),
                                      ("voice_list", "voice_id", "voice_id"))
              for i in body.get(name) or [] if isinstance(i, Mapping)]
    return items


def _hailuo(body: Mapping[str, Any]) -> list[dict[str, str]]:
    frame = body.get("first_frame_image")
    return [{"type": "first_frame", "url": str(frame)}] if frame else []


def _random_seed(seed: Any) -> Any:
    """Ark's seed -1 (a random one) as no seed at all; storyboard itself never sends it."""
    return None if seed == -1 else seed


# MiniMax's error kinds by HTTP status (v2's ``error.type``).
TYPES = {400: "bad_request_error", 401: "authorized_error", 402: "insufficient_balance_error",
         404: "not_found_error", 422: "unprocessable_entity_error", 429: "rate_limit_error"}


def _minimax_v2_error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    """A v2 error answer: its HTTP status, ``{type: "error", error: {type, message, http_code}}``
    with MiniMax's code in brackets at the message's end."""
    status = minimax.STATUSES.get(code, status)
    kind = TYPES.get(status, "server_error" if status >= 500 else "bad_request_error")
    return status, {"type": "error", "error": {"type": kind, "message": f"{message} ({code})",
                                               "http_code": str(status)}}


def _minimax_v1_error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    """A v1 error answer: HTTP 200, ``base_resp {status_code, status_msg}``."""
    number = int(code) if code.isdigit() else 1000
    return 200, {"base_resp": {"status_code": number, "status_msg": message}}


# Ark's words for the emulator's native codes, by where they are said (``submit:``, ``task:``).
_ARK_CODES = {"submit:DataInspectionFailed": "InputTextSensitiveContentDetected",
              "task:DataInspectionFailed": "OutputVideoSensitiveContentDetected",
              "task:InternalError": "InternalServiceError",
              "image:DataInspectionFailed": "InputTextSensitiveContentDetected",
              "picture:DataInspectionFailed": "OutputImageSensitiveContentDetected",
              "picture:InternalError": "InternalServiceError"}
# Kling's (a request error, wherever said).
_KLING_CODES = {"InvalidParameter": "1201", "BadRequest.EmptyModel": "1201", "NotFound": "1203",
                "Unauthorized": "1000", "DataInspectionFailed": "1301",
                "InputTextSensitiveContentDetected": "1301",
                "InputImageSensitiveContentDetected": "1301",
                "InputImageSensitiveContentDetected.PrivacyInformation": "1301",
                "InputVideoSensitiveContentDetected": "1301",
                "InputAudioSensitiveContentDetected": "1301", "Throttling.RateQuota": "1302",
                "Throttling.AllocationQuota": "1303", "InternalError": "5000",
                "ServiceUnavailable": "5001", "BadGateway": "5002", "GatewayTimeout": "5002"}
# MiniMax's, by where they are said.
_MINIMAX_CODES = {"submit:DataInspectionFailed": "1026", "task:DataInspectionFailed": "1027",
                  "submit:InputTextSensitiveContentDetected": "1026",
                  "submit:InputImageSensitiveContentDetected": "1026",
                  "submit:InputImageSensitiveContentDetected.PrivacyInformation": "1026",
                  "submit:InputVideoSensitiveContentDetected": "1026",
                  "submit:InputAudioSensitiveContentDetected": "1026",
                  "Throttling.RateQuota": "1002", "InternalError": "1000",
                  "BadGateway": "1000", "ServiceUnavailable": "1000", "GatewayTimeout": "1001",
                  "Unauthorized": "1004", "InvalidParameter": "2013", "NotFound": "2013",
                  "InvalidURL": "2013", "task:InternalError": "1000"}
_ARK_BACK = {"resolution": str.upper, "seed": _random_seed}

UNMEDIA: dict[str, Unmedia] = {
    DASHSCOPE.name: _native, OPENAI_VIDEO.name: _openai, FREEPIK.name: _freepik,
    ROLES.name: _roles, ARRAYS.name: _arrays, ARK.name: _content, MODELARK.name: _content,
    KLING.name: _kling, MINIMAX.name: _content, MINIMAXI.name: _content,
    MINIMAX_HAILUO.name: _hailuo, MINIMAXI_HAILUO.name: _hailuo}
UNFORMATS: dict[str, Mapping[str, Callable[[Any], Any]]] = {
    ARK.name: _ARK_BACK, MODELARK.name: _ARK_BACK,
    KLING.name: {"resolution": lambda mode: {v: k for k, v in MODES.items()}.get(mode, mode),
                 "audio": lambda sound: sound == "on"}}
OWN_CODES: dict[str, Mapping[str, str]] = {
    ARK.name: _ARK_CODES, MODELARK.name: _ARK_CODES, KLING.name: _KLING_CODES,
    **{t.name: _MINIMAX_CODES for t in (MINIMAX, MINIMAXI, MINIMAX_HAILUO, MINIMAXI_HAILUO)}}
ERROR_BODIES: dict[str, ErrorBody] = {
    MINIMAX.name: _minimax_v2_error, MINIMAXI.name: _minimax_v2_error,
    MINIMAX_HAILUO.name: _minimax_v1_error, MINIMAXI_HAILUO.name: _minimax_v1_error}


def _plain(value: Any) -> Any:
    """A loosely typed value back into a number where it reads as one ("5" -> 5)."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def unbody(dialect: Dialect, body: Mapping[str, Any]) -> dict[str, Any]:
    """A body of ``dialect`` as the native body (its emulator runs the native service)."""
    values = {name: get(body, path) for name, path in dialect.fields.items()}
    values.update({k: back(values[k]) for k, back in UNFORMATS.get(dialect.name, {}).items()
                   if values.get(k) is not None})
    parameters = {k: _plain(values.get(k)) for k in PARAMS[3:] if values.get(k) is not None}
    data = {k: values[k] for k in ("prompt", "negative_prompt") if values.get(k) is not None}
    data["media"] = UNMEDIA[dialect.name](body)
    if body.get("omni_reference_task_type"):  # Seedance's edit or extend task
        parameters["task_type"] = body["omni_reference_task_type"]
    return {"model": values.get("model") or body.get("model") or "wan2.7-r2v",
            "input": data, "parameters": parameters}


def own_code(dialect: Dialect, where: str, code: str) -> str:
    """``dialect``'s own code for one of the emulator's native codes, said at ``where``
    (``submit``, ``task``), else one it uses wherever said, else the native code itself."""
    own = OWN_CODES.get(dialect.name, {})
    return own.get(f"{where}:{code}") or own.get(code, code)


def error_body(dialect: Dialect) -> ErrorBody | None:
    """``dialect``'s own error answers (MiniMax), or None: ``{"error": {code, message}}``."""
    return ERROR_BODIES.get(dialect.name)


def word(dialect: Dialect, status: TaskStatus) -> str:
    """``dialect``'s word for one of our statuses, as it spells it (the first declared)."""
    words = dialect.words or dialect.protocol.statuses
    return next((w for w, s in words.items() if s is status), next(iter(words)))


def answer(dialect: Dialect, task_id: str, status: TaskStatus, *, video_url: str | None = None,
           code: str = "", message: str = "", extra: Mapping[str, Any] | None = None
           ) -> dict[str, Any]:
    """Our state as ``dialect``'s answer (what its emulator sends)."""
    out: dict[str, Any] = dict(extra or {})
    spec, enveloped = dialect.answers, dialect.envelope == dialect.answers.code
    put(out, spec.task_id, task_id)
    put(out, spec.status, word(dialect, status))
    if video_url:
        put(out, spec.video_url, video_url)
    if spec.code_pattern and (code or message):  # the code said inside the message
        put(out, spec.message, f"{message} ({code})" if code else message)
    elif code or message:
        put(out, spec.code, int(code) if enveloped and code.isdigit() else code)
        put(out, spec.message, message)
    if enveloped and not code:  # all well (MiniMax v1's base_resp)
        put(out, spec.code, 0)
        put(out, spec.message, "success")
    return out
