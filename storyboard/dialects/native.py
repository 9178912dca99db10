"""Neutral shot requests into DashScope native bodies (``wan2.7-r2v`` video-synthesis).

``url_for`` decides how a local file is addressed: the manifest shows a path relative to the series,
the DashScope provider passes an uploaded ``oss://`` URL or a ``data:`` URI. The DashScope provider
(``providers.dashscope``) speaks this dialect's task protocol itself, with uploads and reconcile.
"""

from __future__ import annotations

from typing import Any

from storyboard.dialects.base import Answers, Dialect, Ref, UrlFor
from storyboard.language.request import ShotRequest, native_label
from storyboard.targets.video.models import DASHSCOPE_PASSES, MODELS, model_of
from storyboard.targets.wire.gateways import DASHSCOPE, DASHSCOPE_KEY_ENV, DASHSCOPE_REGIONS

TARGET = DASHSCOPE
NAME = TARGET.name
# Fields of ``input`` that hold a file's URL of their own (a model's ``wire_fields``).
WIRE_URL_FIELDS = tuple(sorted({name for m in (*MODELS.values(), *DASHSCOPE_PASSES.values())
                                 for name in m.wire_fields.values()}))


def media(items: list[Ref]) -> dict[str, Any]:
    entries = []
    for ref in items:
        entry = {"type": ref.role, "url": ref.url}
        if ref.voice:
            entry["reference_voice"] = ref.voice
        entries.append(entry)
    return {"input.media": entries} if entries else {}  # a prompt alone (text to video)


def for_model(request: ShotRequest, body: dict[str, Any]) -> dict[str, Any]:
    """The body in its model's own wire names: a frame sent as a field of ``input`` of its own
    (wan2.7-t2v's ``audio_url``), a media type named otherwise (wan2.7-videoedit's ``video``),
    and the parameters of a service that takes none of a video model's (videoretalk's)."""
    model = model_of(request.model)
    if model is not None and model.body_parameters is not None:
        body["parameters"] = dict(model.body_parameters)  # none of a video model's (lip-sync)
    if model is None or not (model.wire_fields or model.wire_types):
        return body
    data = body.setdefault("input", {})
    kept = []
    for item in data.pop("media", []):
        field = model.wire_fields.get(item["type"])
        if field is not None:
            data[field] = item["url"]
        else:
            kept.append({**item, "type": model.wire_types.get(item["type"], item["type"])})
    if kept:
        data["media"] = kept
    return body


DIALECT = Dialect(
    target=TARGET, labels=native_label,
    fields={"model": "model", "prompt": "input.prompt", "negative_prompt": "input.negative_prompt",
            "resolution": "parameters.resolution", "ratio": "parameters.ratio",
            "duration": "parameters.duration", "prompt_extend": "parameters.prompt_extend",
            "watermark": "parameters.watermark", "seed": "parameters.seed",
            "audio": "parameters.audio"},
    answers=Answers(task_id="output.task_id", status="output.task_status",
                    video_url="output.video_url", code="output.code", message="output.message"),
    media=media, key_env=DASHSCOPE_KEY_ENV, base_url=DASHSCOPE_REGIONS["intl"],
    shape=for_model)


def body(request: ShotRequest, url_for: UrlFor, *, first_frame_url: str | None = None
         ) -> dict[str, Any]:
    """The submit body of spec section 1, with every parameter explicit (no service defaults)."""
    return DIALECT.body(request, url_for, first_frame_url=first_frame_url)


def needs_oss_resolve(payload: dict[str, Any]) -> bool:
    """True when any URL in the body is ``oss://`` (the submit then needs the resolve header)."""
    data = payload.get("input", {})
    media = data.get("media", [])
    urls = [m.get("url", "") for m in media] + [m.get("reference_voice", "") for m in media]
    urls += [str(data[name]) for name in WIRE_URL_FIELDS if name in data]
    return any(str(u).startswith("oss://") for u in urls)


def submit_path(model_id: str) -> str:
    """Where a body for ``model_id`` is submitted: the model's own service path (videoretalk's
    ``image2video``), else the video-synthesis one."""
    model = model_of(model_id)
    return model.submit_path if model is not None and model.submit_path else \
        TARGET.protocol.submit_path
