"""Neutral shot requests into ``image_with_roles`` gateway bodies (seed 001): lower-case labels.

The seed names no paths: they follow the usual unified-gateway convention
(``POST /v1/video/generations``, ``GET /v1/video/generations/{task_id}``), settable in
``provider:``. Answers are ``{code, data}``; the submit's ``data`` is an array. ``size`` is the
aspect ratio (``16:9``), as the seed's own words and the page it mirrors say, beside ``resolution``.
"""

from __future__ import annotations

from typing import Any

from storyboard.dialects.base import FLAT, Answers, Dialect, Ref, entry
from storyboard.targets.wire.gateways import ROLES

TARGET = ROLES


def media(items: list[Ref]) -> dict[str, Any]:
    images = [entry(r, role=r.role) for r in items if r.role != "reference_video"]
    videos = [r.url for r in items if r.role == "reference_video"]
    return {**({"image_with_roles": images} if images else {}),
            **({"video_urls": videos} if videos else {})}


DIALECT = Dialect(
    target=TARGET, fields={**FLAT, "ratio": "size"},
    answers=Answers(task_id="data.task_id", status="data.status", video_url="data.video_url",
                    message="data.fail_reason", code="data.error_code",
                    submitted_id="data.0.task_id"),
    media=media, key_env="ROLES_API_KEY", base_url="")
