"""Neutral shot requests into ``image_with_roles`` gateway bodies (seed 001): lower-case labels.

The seed names no paths: they follow the usual unified-gateway convention
(``POST /v1/video/generations``, ``GET /v1/video/generations/{task_id}``), settable in
``provider:``. Answers are ``{code, data}``; the submit's ``data`` is an array.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storyboard.dialects.base import FLAT, Answers, Dialect, Limits, Ref, entry, native_item
from storyboard.providers.base import PriceTable, TaskStatus
from storyboard.providers.protocol import TaskProtocol
from storyboard.request import Mention

NAME = "roles"
PATH = "/v1/video/generations"
LIMITS = Limits(public_urls=True, voice_roles=("reference_image",))

PROTOCOL = TaskProtocol(
    name=NAME, submit_path=PATH, task_path=PATH + "/{task_id}", cancel_path=None, list_path=None,
    statuses={"QUEUED": TaskStatus.PENDING, "SUBMITTED": TaskStatus.PENDING,
              "PROCESSING": TaskStatus.RUNNING, "IN_PROGRESS": TaskStatus.RUNNING,
              "SUCCEEDED": TaskStatus.SUCCEEDED, "SUCCESS": TaskStatus.SUCCEEDED,
              "FAILED": TaskStatus.FAILED, "FAILURE": TaskStatus.FAILED},
    submit_headers={}, capabilities=LIMITS,
    prices={"default": PriceTable({"720P": 0.10, "1080P": 0.15}, "USD")})


def label(mention: Mention) -> str:
    return f"{mention.kind} {mention.index}"


def media(items: list[Ref]) -> dict[str, Any]:
    images = [entry(r, role=r.role) for r in items if r.role != "reference_video"]
    videos = [r.url for r in items if r.role == "reference_video"]
    return {**({"image_with_roles": images} if images else {}),
            **({"video_urls": videos} if videos else {})}


def unmedia(body: Mapping[str, Any]) -> list[dict[str, str]]:
    items = [native_item(str(i.get("role") or "reference_image"), i)
             for i in body.get("image_with_roles") or []]
    return items + [{"type": "reference_video", "url": str(u)} for u in body.get("video_urls") or []]


DIALECT = Dialect(
    name=NAME, title="Gateway with image_with_roles", label=label, limits=LIMITS,
    protocol=PROTOCOL,
    fields={**FLAT, "resolution": "size", "ratio": "aspect_ratio"},
    answers=Answers(task_id="data.task_id", status="data.status", video_url="data.video_url",
                    message="data.fail_reason", code="data.error_code",
                    submitted_id="data.0.task_id"),
    media=media, unmedia=unmedia, key_env="ROLES_API_KEY", base_url="")
