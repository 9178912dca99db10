"""Neutral shot requests into Freepik-style task bodies (seed 000): URL item arrays, 2..10 s.

``POST /v1/ai/reference-to-video/wan-2-7`` creates, ``GET`` on it lists, ``GET .../{task-id}`` reads
one; answers wrap the task in ``data``; the key goes in ``x-freepik-api-key`` (the vendor's
published header). Webhooks (``webhook_url``) carry the GET answer without the ``data`` wrapper.
"""

from __future__ import annotations

from typing import Any

from storyboard.dialects.base import Answers, Dialect, Ref, entry
from storyboard.targets.wire.gateways import FREEPIK

TARGET = FREEPIK


def media(items: list[Ref]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, role in (("image_urls", "reference_image"), ("video_urls", "reference_video")):
        found = [entry(r) for r in items if r.role == role]
        if found:
            out[key] = found
    frame = next((r.url for r in items if r.role == "first_frame"), None)
    if frame:
        out["start_image_url"] = frame
    return out


DIALECT = Dialect(
    target=TARGET,
    fields={"prompt": "prompt", "negative_prompt": "negative_prompt", "resolution": "resolution",
            "ratio": "aspect_ratio", "duration": "duration", "seed": "seed",
            "prompt_extend": "additional_settings.prompt_extend"},
    answers=Answers(task_id="data.task_id", status="data.status", video_url="data.generated.0",
                    message="data.error", code="data.error_code", item_prompt="prompt"),
    media=media, key_env="FREEPIK_API_KEY", base_url="https://api.freepik.com",
    auth_header="x-freepik-api-key", auth_scheme="", webhook_field="webhook_url")
