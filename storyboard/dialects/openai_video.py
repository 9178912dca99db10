"""Neutral shot requests into OpenAI-style unified video tasks (seed 003): ``media[]``, string seconds.

Paths follow OpenAI's video API (``POST /videos``, ``GET /videos/{id}``, ``GET /videos`` lists,
``GET /videos/{id}/content`` streams the result); every one is settable in ``provider:``. The
media items carry no voice: a character's voice is not sent (``check`` warns).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storyboard.dialects.base import FLAT, Answers, Dialect, Limits, Ref, upper
from storyboard.providers.base import PriceTable, TaskStatus
from storyboard.providers.protocol import TaskProtocol
from storyboard.request import native_label

NAME = "openai-video"
LIMITS = Limits(public_urls=True, voice_roles=(), max_voices=0)

WORDS = {"queued": TaskStatus.PENDING, "in_progress": TaskStatus.RUNNING,
         "completed": TaskStatus.SUCCEEDED, "failed": TaskStatus.FAILED,
         "unknown": TaskStatus.UNKNOWN}

PROTOCOL = TaskProtocol(
    name=NAME, submit_path="/videos", task_path="/videos/{task_id}", cancel_path=None,
    list_path="/videos",
    statuses=upper(WORDS),
    submit_headers={}, capabilities=LIMITS,
    prices={"default": PriceTable({"720P": 0.10, "1080P": 0.15}, "USD")})


def media(items: list[Ref]) -> dict[str, Any]:
    return {"media": [{"type": r.role, "url": r.url} for r in items]}


def unmedia(body: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"type": str(m.get("type")), "url": str(m.get("url"))} for m in body.get("media") or []]


DIALECT = Dialect(
    name=NAME, title="OpenAI-style video tasks", label=native_label, limits=LIMITS,
    protocol=PROTOCOL,
    fields={**FLAT, "resolution": "size", "duration": "seconds"},
    answers=Answers(task_id="id", status="status", video_url="video_url", message="error.message",
                    code="error.code", items="data"),
    words=WORDS, media=media, unmedia=unmedia, key_env="OPENAI_VIDEO_API_KEY", base_url="",
    formats={"duration": str}, content_path="/videos/{task_id}/content")
