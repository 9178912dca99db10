"""Neutral shot requests into Kling 3.0 Omni and 4.0 bodies: ``image_list``, ``multi_prompt``, JWT.

``POST /v1/videos/omni-video`` creates, ``GET .../{task_id}`` reads one; answers wrap the task in
``data`` beside an envelope ``code`` (0 when all is well), status words ``submitted``,
``processing``, ``succeed``, ``failed``. A reference is ``<<<image_1>>>`` in the prompt (numbered
per kind in array order), ``duration`` a string, ``mode`` std (720P) or pro (1080P), the sound a
``sound: on|off`` switch. A shot's timed scenes become Kling's own multi-shot form, one call:
``multi_shot``, ``shot_type: customize`` and ``multi_prompt`` items ``{index, prompt, duration}``
(1..6 items, whole seconds >= 1 that add up to the shot's ``duration``, 512 characters each:
the target's ``Limits``). Kling 4.0 (``targets.video.kling4``) on the same path: its frames typed in
``image_list``, saved elements as ``element_list`` items ``{element_id}`` and voices as
``voice_list`` items ``{voice_id}`` (a character's ``identity: {kling: ...}``), sound always on
(no ``sound`` field), its timed scenes as prose; a derived take's edit or extension of a take
sends that take as the ``video_list`` item its task names (``targets.video.kling4.TASK_TYPES``).

The key is a pair: the access key (``KLING_ACCESS_KEY``) names the account in a short-lived token
signed with the secret key (``KLING_SECRET_KEY``), both from the environment only
(``storyboard.targets.signatures.jwtokens``). Facts: vendors.md section 4, third-party copies of
Kling's schema.
"""

from __future__ import annotations

from typing import Any

from storyboard.dialects.base import Answers, Dialect, Ref
from storyboard.errors import StoryboardError
from storyboard.language.lint.limits import scene_problems, scene_seconds, scene_texts
from storyboard.language.request import ShotRequest
from storyboard.targets.video.kling4 import FRAME_TYPES, TASK_TYPES
from storyboard.targets.video.wording import wording_of
from storyboard.targets.wire.gateways import KLING

TARGET = KLING
MODES = {"720P": "std", "1080P": "pro"}


def media(items: list[Ref]) -> dict[str, Any]:
    """References, then frames (typed), in ``image_list``; feature videos; Kling 4.0's saved
    elements and voices by id. Kling 3.0 Omni takes no frame, element nor voice: ``check``
    refuses each at its line, so none reaches its body."""
    out: dict[str, Any] = {}
    images = [{"image_url": r.url} for r in items if r.role == "reference_image"]
    images += [{"image_url": r.url, "type": FRAME_TYPES[r.role]} for r in items
               if r.role in FRAME_TYPES]
    videos = [{"video_url": r.url, "refer_type": "feature", "keep_original_sound": "no"}
              for r in items if r.role == "reference_video"]
    videos += [{"video_url": r.url, "refer_type": "base", "keep_original_sound": "yes"}
               for r in items if r.role == "source_video"]  # a pass's video (``shape``)
    elements = [{"element_id": wire_id(r.url)} for r in items if r.role == "element"]
    voices = [{"voice_id": r.url} for r in items if r.role == "voice_id"]
    for name, found in (("image_list", images), ("video_list", videos),
                        ("element_list", elements), ("voice_list", voices)):
        if found:
            out[name] = found
    return out


def wire_id(value: str) -> int | str:
    """An element id as Kling's schema types it (an int64, third-party), else as declared."""
    return int(value) if value.isdigit() else value


def shape(request: ShotRequest, body: dict[str, Any]) -> dict[str, Any]:
    """The timed scenes as ``multi_prompt`` (one call, several shots). A shot whose scenes cannot
    be (``language.lint.limits.scene_problems``, which ``check`` says at the shot's line first) is
    refused here too, before anything is paid."""
    problems = scene_problems(request, TARGET)
    if problems:
        raise StoryboardError("; ".join(problems))
    if request.task in TASK_TYPES:  # an edit or an extension: the video's own shape
        body.pop("aspect_ratio", None)
        body["video_list"][-1]["refer_type"] = TASK_TYPES[request.task]
    if request.scenes and wording_of(request.model).style == "multi_prompt":
        body["multi_shot"] = True
        body["shot_type"] = "customize"
        shots = zip(scene_texts(request, TARGET), scene_seconds(request), strict=True)
        body["multi_prompt"] = [{"index": n, "prompt": text, "duration": str(seconds)}
                                for n, (text, seconds) in enumerate(shots, start=1)]
    return body


# Kling's envelope codes (vendors.md section 4, a reseller's list: third-party): 1200..1203 the
# request (its parameters, method, the resource), 1301 content safety, 1302 rate, 1303
# concurrency or resource pack, 5000..5002 the server. The HTTP status each comes with is not
# documented: storyboard's guess, 404 for a missing resource, 429 for rate and concurrency, 5xx
# for the server, 400 for the rest. Its auth and balance codes were not found: 401 answers
# ``1000``, a guess (the status decides what the transport does).
# Every documented code is listed: one that is not is an answer not understood, never a refusal.
STATUSES = {"1000": 401, "1200": 400, "1201": 400, "1202": 400, "1203": 404, "1301": 400,
            "1302": 429, "1303": 429, "5000": 500, "5001": 503, "5002": 504}

DIALECT = Dialect(
    target=TARGET,
    fields={"model": "model_name", "prompt": "prompt", "resolution": "mode",
            "ratio": "aspect_ratio", "duration": "duration", "audio": "sound",
            "watermark": "watermark_info.enabled"},
    answers=Answers(task_id="data.task_id", status="data.task_status",
                    video_url="data.task_result.videos.0.url",
                    message="data.task_status_msg", code="data.task_status_code",
                    items="data", item_prompt="prompt"),
    media=media, key_env="KLING_ACCESS_KEY", secret_env="KLING_SECRET_KEY",
    base_url="https://api-singapore.klingai.com",
    formats={"resolution": lambda r: MODES.get(str(r), str(r)), "duration": str,
             "audio": lambda on: "on" if on else "off"},
    shape=shape, envelope="code", envelope_statuses=STATUSES)

