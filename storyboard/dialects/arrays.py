"""Neutral shot requests into marketplace bodies with URL arrays (seed 002): ``Image1``, per generation.

The page names no paths: they follow the prediction-API convention of such marketplaces
(``POST /api/v3/{model}``; ``GET /api/v3/predictions/{id}/result`` answers ``{code, data: {id,
status, outputs: [url], error}}``), settable in ``provider:``. One ``reference_voice`` per request,
bound to nothing: the service gives it to ``Image1``. So ``arrange`` puts the voiced image first
and renumbers the prompt's image mentions to match (``check`` refuses what cannot be arranged:
two voices, or a voice on a video).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from storyboard.dialects.base import Answers, Dialect, Ref
from storyboard.language.request import MediaItem, Mention, ShotRequest, native_label, write
from storyboard.targets.wire.gateways import ARRAYS

TARGET = ARRAYS


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


def arrange(request: ShotRequest) -> ShotRequest:
    """The voiced image first (it is Image1, who gets the voice), the prompt renumbered."""
    images = [m for m in request.media if m.role == "reference_image"]
    voiced = next((m for m in images if m.voice is not None), None)
    if voiced is None or voiced is images[0] or not request.tokens:
        return request
    order = [voiced, *(m for m in images if m is not voiced)]
    number = {images.index(m) + 1: new for new, m in enumerate(order, start=1)}
    tokens = tuple(_renumber(t, number) for t in request.tokens)
    media = tuple(_relabel(m, order.index(m) + 1) for m in order)
    rest = tuple(m for m in request.media if m.role != "reference_image")
    return replace(request, tokens=tokens, prompt=write(tokens), media=media + rest)


def _renumber(token: str | Mention, number: dict[int, int]) -> str | Mention:
    if isinstance(token, Mention) and token.kind == "image":
        return replace(token, index=number.get(token.index, token.index))
    return token


def _relabel(item: MediaItem, index: int) -> MediaItem:
    return replace(item, label=native_label(Mention(item.character or "", "image", index)))


DIALECT = Dialect(
    target=TARGET,
    fields={"prompt": "prompt", "negative_prompt": "negative_prompt", "resolution": "resolution",
            "ratio": "aspect_ratio", "duration": "duration", "seed": "seed"},
    answers=Answers(task_id="data.id", status="data.status", video_url="data.outputs.0",
                    message="data.error", code="data.error_code"),
    media=media, key_env="ARRAYS_API_KEY",
    base_url="https://api.wavespeed.ai", arrange=arrange)
