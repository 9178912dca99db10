"""Neutral shot requests into DashScope native bodies (``wan2.7-r2v`` video-synthesis).

``url_for`` decides how a local file is addressed: the manifest shows a path relative to the series,
the DashScope provider passes an uploaded ``oss://`` URL or a ``data:`` URI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storyboard.request import MediaItem, MediaRef, ShotRequest

UrlFor = Callable[[MediaRef], str]
NAME = "dashscope"
MODEL = "wan2.7-r2v"


def media_item(item: MediaItem, url_for: UrlFor, first_frame_url: str | None) -> dict[str, Any]:
    # A first frame taken from another shot's output has no ref until that shot has rendered.
    url = url_for(item.ref) if item.ref is not None else (
        first_frame_url or f"{{from: {item.from_shot}}}")
    entry: dict[str, Any] = {"type": item.role, "url": url}
    if item.voice is not None:
        entry["reference_voice"] = url_for(item.voice)
    return entry


def body(request: ShotRequest, url_for: UrlFor, *, first_frame_url: str | None = None
         ) -> dict[str, Any]:
    """The submit body of spec section 1, with every parameter explicit (no service defaults)."""
    data: dict[str, Any] = {"prompt": request.prompt}
    if request.negative_prompt:
        data["negative_prompt"] = request.negative_prompt
    data["media"] = [media_item(m, url_for, first_frame_url) for m in request.media]
    parameters: dict[str, Any] = {
        "resolution": request.resolution,
        "ratio": request.ratio,
        "duration": request.duration,
        "prompt_extend": request.prompt_extend,
        "watermark": request.watermark,
    }
    if request.seed is not None:
        parameters["seed"] = request.seed
    return {"model": request.model, "input": data, "parameters": parameters}


def needs_oss_resolve(payload: dict[str, Any]) -> bool:
    """True when any URL in the body is ``oss://`` (the submit then needs the resolve header)."""
    media = payload.get("input", {}).get("media", [])
    urls = [m.get("url", "") for m in media] + [m.get("reference_voice", "") for m in media]
    return any(str(u).startswith("oss://") for u in urls)
