"""Neutral shot requests into MiniMax's own API: H3 content items (v2) and Hailuo bodies (v1).

Two wires on one host and key (vendors.md 3; intl ``api.minimax.io``, CN ``api.minimaxi.com``,
``Authorization: Bearer $MINIMAX_API_KEY``, ``$MINIMAXI_API_KEY`` on the CN host):

- **v2, MiniMax H3**: ``POST /v2/video_generation`` with Seedance's shape (``dialects.ark``): the
  prompt as the first ``text`` item of ``content[]``, then each picture, video and audio as an
  item with its role; ``resolution`` 768P or 2K as MiniMax spells it, ``ratio``, ``duration``,
  ``watermark``; no seed, no negative prompt, no sound switch. The answer is ``{task_id}``, a query
  ``{task: {id, status, content: {url}, error}}``; errors ``{type: "error", error: {type, message
  "... (1026)", http_code}}``, the code in brackets at the message's end.
- **v1, Hailuo**: ``POST /v1/video_generation`` with a flat body (``model``, ``prompt``,
  ``first_frame_image``, ``duration``, ``resolution``, ``prompt_optimizer``); every answer is
  HTTP 200 with ``base_resp {status_code, status_msg}`` (not 0: an error); the query is
  ``?task_id=``, status words ``Preparing Queueing Processing Success Fail``, and a finished task
  names a ``file_id`` whose ``files/retrieve`` gives the download URL (the target's ``FileHop``).
"""

from __future__ import annotations

from typing import Any

from storyboard.dialects.ark import media as content_media
from storyboard.dialects.ark import to_content
from storyboard.dialects.base import Answers, Dialect, Ref
from storyboard.targets.wire.gateways import MINIMAX, MINIMAX_HAILUO, MINIMAXI, MINIMAXI_HAILUO, Target

HOSTS = {"minimax": "https://api.minimax.io", "minimaxi": "https://api.minimaxi.com"}
# A key works only on the host that issued it: each host reads its own variable (as Ark's do).
KEY_ENVS = {"minimax": "MINIMAX_API_KEY", "minimaxi": "MINIMAXI_API_KEY"}

# MiniMax's codes (vendors.md 3: its error examples and a reseller's list) as the HTTP status each
# stands for: the v1 envelope's meaning, and the v2 error type and status the emulator answers.
STATUSES = {"1000": 500, "1001": 504, "1002": 429, "1004": 401, "1008": 402, "1026": 422,
            "1027": 422, "1033": 500, "1042": 400, "2013": 400}


def _v2(target: Target, host: str) -> Dialect:  # host: "minimax" or "minimaxi"
    return Dialect(
        target=target,
        fields={"model": "model", "prompt": "content.0.text", "resolution": "resolution",
                "ratio": "ratio", "duration": "duration", "watermark": "watermark"},
        answers=Answers(task_id="task.id", status="task.status", video_url="task.content.url",
                        code="task.error.message", message="task.error.message",
                        submitted_id="task_id", code_pattern=r"\((\d+)\)\s*$"),
        media=content_media, key_env=KEY_ENVS[host],
        base_url=HOSTS[host],
        shape=to_content)


def v1_media(items: list[Ref]) -> dict[str, Any]:
    """Hailuo takes one picture, its first frame (``check`` refuses anything else)."""
    frames = [ref.url for ref in items if ref.role == "first_frame"]
    return {"first_frame_image": frames[0]} if frames else {}


def _v1(target: Target, host: str) -> Dialect:  # host: "minimax" or "minimaxi"
    return Dialect(
        target=target,
        fields={"model": "model", "prompt": "prompt", "resolution": "resolution",
                "duration": "duration", "prompt_extend": "prompt_optimizer"},
        answers=Answers(task_id="task_id", status="status", video_url="video_url",
                        code="base_resp.status_code", message="base_resp.status_msg"),
        media=v1_media, key_env=KEY_ENVS[host], base_url=HOSTS[host],
        envelope="base_resp.status_code",
        envelope_statuses=STATUSES)


DIALECT = _v2(MINIMAX, "minimax")
CN_DIALECT = _v2(MINIMAXI, "minimaxi")
HAILUO_DIALECT = _v1(MINIMAX_HAILUO, "minimax")
HAILUO_CN_DIALECT = _v1(MINIMAXI_HAILUO, "minimaxi")
DIALECTS = (DIALECT, CN_DIALECT, HAILUO_DIALECT, HAILUO_CN_DIALECT)
