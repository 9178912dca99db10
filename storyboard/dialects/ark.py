"""Neutral shot requests into Seedance tasks on Volcengine Ark and BytePlus ModelArk: content items.

One wire for both hosts (vendors.md 2): ``POST /contents/generations/tasks`` with ``content[]`` (the
prompt as the first ``text`` item, then each picture, video and audio as an item with its role),
top-level ``resolution`` in lower case, ``ratio``, ``duration``, ``seed``, ``watermark`` and
``generate_audio``; the answer is ``{id}``, a query ``{id, status, content: {video_url}, error}``.
Prompts name references per kind in array order ("Image 1", "Video 1", "Audio 1", the official
example's form). Ark reads each key from its own variable: a CN key does not open ModelArk. Its
list (``filter.model``, ``page_num``, ``page_size``; ``{items, total}``) shows no prompt: a lost
submit is matched by the settings it does show (``LISTED``).
"""

from __future__ import annotations

from typing import Any

from storyboard.dialects.base import Answers, Dialect, Ref, Refusal, get
from storyboard.language.request import ShotRequest
from storyboard.targets.wire.gateways import ARK, MODELARK, Target

# Each neutral role as its content item's type (the item keeps the role as Ark spells it).
ITEM_TYPES = {"reference_image": "image_url", "first_frame": "image_url",
              "last_frame": "image_url", "reference_video": "video_url",
              "reference_audio": "audio_url"}
ARK_HOSTS = {"ark": "https://ark.cn-beijing.volces.com/api/v3",
             "modelark": "https://ark.ap-southeast.bytepluses.com/api/v3"}


# The video an edit changes (a derived take's ``source_video``) travels as a reference video.
WIRE_ROLES = {"source_video": "reference_video"}
# Seedance 2.5's edit task (third-party, several implementations agree): the output keeps the
# input's length and shape.
EDIT = {"omni_reference_task_type": "edit", "ratio": "adaptive", "duration": -1,
        "watermark": False}


def media(items: list[Ref]) -> dict[str, Any]:
    content = []
    for ref in items:
        role = WIRE_ROLES.get(ref.role, ref.role)
        kind = ITEM_TYPES.get(role, "image_url")
        content.append({"type": kind, kind: {"url": ref.url}, "role": role})
    return {"media": content} if content else {}


def to_content(request: ShotRequest, body: dict[str, Any]) -> dict[str, Any]:
    """The prompt and the media as one ``content`` array, the prompt first; an edit (a request
    with a ``source_video``) as the edit task."""
    text = get(body.pop("content", None), "0.text") or ""
    items = [{"type": "text", "text": text}, *body.pop("media", [])]
    if request.item("source_video") is not None:
        body = {**body, **EDIT}
    return {"model": body.pop("model", request.model), "content": items, **body}


# Moderation codes (field notes and peer code, third-party): Ark bills succeeded tasks only, so
# every refusal, at submit or after the render, is free.
REFUSALS = {"InputTextSensitiveContentDetected": Refusal("the prompt", billed=False),
            "InputImageSensitiveContentDetected": Refusal("a reference picture", billed=False),
            # A picture taken for a real person's face (models-2026-11.md, "Faces"): the fix is
            # the face registered once in the vendor's portrait library (``faces.attributed``).
            "InputImageSensitiveContentDetected.PrivacyInformation": Refusal(
                "a reference picture", billed=False, face=True),
            "InputVideoSensitiveContentDetected": Refusal("a reference video", billed=False),
            "InputAudioSensitiveContentDetected": Refusal("a reference audio", billed=False),
            "OutputVideoSensitiveContentDetected": Refusal("the finished video", billed=False),
            "OutputAudioSensitiveContentDetected": Refusal("the finished audio", billed=False),
            "OutputImageSensitiveContentDetected": Refusal("the finished picture", billed=False)}


# What a listed task shows of its submit (vendors.md 2: a real answer's fields; the list's items
# are task objects, with no prompt): a lost submit is the one task listed since it was sent that
# shows all of these as its body sent them.
LISTED = {"model": "model", "duration": "duration", "resolution": "resolution",
          "ratio": "ratio", "seed": "seed"}


def _dialect(target: Target, key_env: str) -> Dialect:
    return Dialect(
        target=target,
        fields={"model": "model", "prompt": "content.0.text", "resolution": "resolution",
                "ratio": "ratio", "duration": "duration", "seed": "seed",
                "watermark": "watermark", "audio": "generate_audio"},
        answers=Answers(task_id="id", status="status", video_url="content.video_url",
                        code="error.code", message="error.message", items="items",
                        tokens="usage.completion_tokens", item_prompt="", total="total",
                        item_fields=LISTED),
        media=media, key_env=key_env, base_url=ARK_HOSTS[target.name],
        formats={"resolution": str.lower},
        shape=to_content, refusals=REFUSALS, list_filters={"filter.model": "model"},
        list_pages=("page_num", "page_size"))


DIALECT = _dialect(ARK, "ARK_API_KEY")
MODELARK_DIALECT = _dialect(MODELARK, "MODELARK_API_KEY")
