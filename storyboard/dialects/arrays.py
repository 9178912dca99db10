"""Neutral shot requests into marketplace bodies with URL arrays (seed 002): ``Image1``, per generation.

The page names no paths: they follow the prediction-API convention of such marketplaces
(``POST /api/v3/{model}``; ``GET /api/v3/predictions/{id}/result`` answers ``{code, data: {id,
status, outputs: [url], error}}``), settable in ``provider:``. One ``reference_voice`` per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storyboard.dialects.base import Answers, Dialect, Ref
from storyboard.targets.gateways import ARRAYS

TARGET = ARRAYS
NAME = TARGET.name
LIMITS = TARGET.limits
PROTOCOL = TARGET.protocol


def media(items: list[Ref]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, role in (("images", "reference_image"), ("videos", "reference_video")):
        urls = [r.url for r in items if r.role == role]
        if urls:
            out[key] = urls
    voice = next((r.voice for r in items if r.voice), None)
    if voice:
        out["reference_voice"] = voice
    return out


def unmedia(body: Mapping[str, Any]) -> list[dict[str, str]]:
    items = [{"type": "reference_image", "url": str(u)} for u in body.get("images") or []]
    items += [{"type": "reference_video", "url": str(u)} for u in body.get("videos") or []]
    if items and body.get("reference_voice"):
        items[0]["reference_voice"] = str(body["reference_voice"])
    return items


DIALECT = Dialect(
    name=NAME, title=TARGET.title, label=TARGET.label, limits=LIMITS,
    protocol=PROTOCOL,
    fields={"prompt": "prompt", "negative_prompt": "negative_prompt", "resolution": "resolution",
            "ratio": "aspect_ratio", "duration": "duration", "seed": "seed"},
    answers=Answers(task_id="data.id", status="data.status", video_url="data.outputs.0",
                    message="data.error", code="data.error_code"),
    words=TARGET.words, media=media, unmedia=unmedia, key_env="ARRAYS_API_KEY",
    base_url="https://api.wavespeed.ai")
