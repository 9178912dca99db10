"""Neutral shot requests into OpenAI-style unified video tasks (seed 003): ``media[]``, string seconds.

Paths follow OpenAI's video API (``POST /videos``, ``GET /videos/{id}``, ``GET /videos`` lists,
``GET /videos/{id}/content`` streams the result); every one is settable in ``provider:``. The
media items carry no voice: a character's voice is not sent (``check`` warns).
"""

from __future__ import annotations

from typing import Any

from storyboard.dialects.base import FLAT, Answers, Dialect, Ref
from storyboard.targets.wire.gateways import OPENAI_VIDEO

TARGET = OPENAI_VIDEO


def media(items: list[Ref]) -> dict[str, Any]:
    return {"media": [{"type": r.role, "url": r.url} for r in items]}


DIALECT = Dialect(
    target=TARGET, fields={**FLAT, "resolution": "size", "duration": "seconds"},
    answers=Answers(task_id="id", status="status", video_url="video_url", message="error.message",
                    code="error.code", items="data"),
    media=media, key_env="OPENAI_VIDEO_API_KEY", base_url="",
    formats={"duration": str}, content_path="/videos/{task_id}/content")
