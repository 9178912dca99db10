"""Neutral shot requests into Kling 3.0 Omni bodies: ``image_list``, ``multi_prompt``, JWT auth.

``POST /v1/videos/omni-video`` creates, ``GET .../{task_id}`` reads one; answers wrap the task in
``data`` beside an envelope ``code`` (0 when all is well), status words ``submitted``,
``processing``, ``succeed``, ``failed``. A reference is ``<<<image_1>>>`` in the prompt (numbered
per kind in array order), ``duration`` a string, ``mode`` std (720P) or pro (1080P), the sound a
``sound: on|off`` switch. A shot's timed scenes become Kling's own multi-shot form, one call:
``multi_shot``, ``shot_type: customize`` and ``multi_prompt`` items ``{index, prompt, duration}``
(1..6 items, whole seconds >= 1 that add up to the shot's ``duration``, 512 characters each:
the target's ``Limits``).

The key is a pair: the access key (``KLING_ACCESS_KEY``) names the account in a short-lived token
signed with the secret key (``KLING_SECRET_KEY``), both from the environment only
(``storyboard.targets.tokens``). Facts: vendors.md section 4, third-party copies of Kling's schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storyboard.dialects.base import Answers, Dialect, Ref
from storyboard.errors import StoryboardError
from storyboard.language.limits import scene_problems, scene_seconds, scene_texts
from storyboard.language.request import ShotRequest
from storyboard.targets.gateways import KLING

TARGET = KLING
NAME = TARGET.name
LIMITS = TARGET.limits
PROTOCOL = TARGET.protocol
MODES = {"720P": "std", "1080P": "pro"}


def media(items: list[Ref]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # A first frame is never sent: whether Omni takes one beside references is not confirmed,
    # so the target takes none (``check`` refuses it at its line).
    images = [{"image_url": r.url} for r in items if r.role == "reference_image"]
    videos = [{"video_url": r.url, "refer_type": "feature", "keep_original_sound": "no"}
              for r in items if r.role == "reference_video"]
    if images:
        out["image_list"] = images
    if videos:
        out["video_list"] = videos
    return out


def unmedia(body: Mapping[str, Any]) -> list[dict[str, str]]:
    items = [{"type": "first_frame" if i.get("type") == "first_frame" else "reference_image",
              "url": str(i.get("image_url", ""))}
             for i in body.get("image_list") or [] if isinstance(i, Mapping)]
    items += [{"type": "reference_video", "url": str(v.get("video_url", ""))}
              for v in body.get("video_list") or [] if isinstance(v, Mapping)]
    return items


def shape(request: ShotRequest, body: dict[str, Any]) -> dict[str, Any]:
    """The timed scenes as ``multi_prompt`` (one call, several shots). A shot whose scenes cannot
    be (``language.limits.scene_problems``, which ``check`` says at the shot's line first) is
    refused here too, before anything is paid."""
    problems = scene_problems(request, TARGET)
    if problems:
        raise StoryboardError("; ".join(problems))
    if request.scenes:
        body["multi_shot"] = True
        body["shot_type"] = "customize"
        shots = zip(scene_texts(request, TARGET), scene_seconds(request), strict=True)
        body["multi_prompt"] = [{"index": n, "prompt": text, "duration": str(seconds)}
                                for n, (text, seconds) in enumerate(shots, start=1)]
    return body


DIALECT = Dialect(
    target=TARGET,
    fields={"model": "model_name", "prompt": "prompt", "resolution": "mode",
            "ratio": "aspect_ratio", "duration": "duration", "audio": "sound",
            "watermark": "watermark_info.enabled"},
    answers=Answers(task_id="data.task_id", status="data.task_status",
                    video_url="data.task_result.videos.0.url",
                    message="data.task_status_msg", code="data.task_status_code",
                    items="data", item_prompt="prompt"),
    media=media, unmedia=unmedia, key_env="KLING_ACCESS_KEY", secret_env="KLING_SECRET_KEY",
    base_url="https://api-singapore.klingai.com",
    formats={"resolution": lambda r: MODES.get(str(r), str(r)), "duration": str,
             "audio": lambda on: "on" if on else "off"},
    unformats={"resolution": lambda mode: {v: k for k, v in MODES.items()}.get(mode, mode),
               "audio": lambda sound: sound == "on"},
    shape=shape)

