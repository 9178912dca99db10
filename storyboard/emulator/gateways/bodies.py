"""Gateway submit bodies into accepted bodies or a 400 that names the field: each seed's schema.

A gateway's emulator must be as strict as the gateway's document, or tests cannot catch a wrong
body: every field each seed lists, with its type, range and whether it is required, as a table.
A wrong type, a missing required field or a value out of range is a 400 naming the field; a
malformed array is a 400, never a 500 (which clients retry). Unknown keys are ignored. The rules
of the model itself (reference counts) are the native validator's, run after the body is read
back; the longest shot with a reference video is each seed's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from storyboard.emulator.validate import invalid, media_types
from storyboard.language.lint.limits import insecure_url
from storyboard.targets.video.kling4 import EXTEND_TYPE, TASK_TYPES
from storyboard.targets.video.models import (
    HAILUO_23,
    MINIMAX_H3_API,
    SEEDANCE_20_ARK,
    WAN27_R2V,
    model_of,
)
from storyboard.targets.wire.gateways import TARGETS

# Gateways resell wan2.7-r2v alone: its ids and limits, from its declaration.
MODELS = (WAN27_R2V.id, *WAN27_R2V.snapshots)
MEDIA_TYPES = media_types(WAN27_R2V)
RESOLUTIONS = WAN27_R2V.caps.resolutions
RATIOS = WAN27_R2V.caps.ratios
PROMPT_LIMIT = WAN27_R2V.caps.prompt_limit
NEGATIVE_PROMPT_LIMIT = WAN27_R2V.caps.negative_prompt_limit
SEED_MAX = WAN27_R2V.caps.seed_max

Check = Callable[[str, Any], None]  # (the field's path, its value): raises ApiError
Schema = Mapping[str, tuple[Check, bool]]  # field -> (its check, required)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def text(most: int | None = None, choices: tuple[str, ...] = ()) -> Check:
    def check(where: str, value: Any) -> None:
        if not isinstance(value, str):
            raise invalid(f"{where} must be a string")
        if most is not None and len(value) > most:
            raise invalid(f"{where} is longer than {most} characters")
        if choices and value not in choices:
            raise invalid(f"{where} must be one of {', '.join(choices)}")
    return check


def url(*, https: bool = False, also: str = "") -> Check:
    """An http(s) URL (``https``: https:// only), or one of the scheme ``also`` (asset://)."""
    def check(where: str, value: Any) -> None:
        if also and isinstance(value, str) and value.startswith(also):
            return
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            raise invalid(f"{where} must be an http(s) URL")
        if https and insecure_url(value):
            raise invalid(f"{where} must be an https:// URL")
    return check


def integer(low: int, high: int) -> Check:
    def check(where: str, value: Any) -> None:
        if not _is_int(value) or not low <= value <= high:
            raise invalid(f"{where} must be an integer in {low}..{high}")
    return check


def digits(low: int, high: int) -> Check:
    """A whole number written as a string (``seconds: "5"``)."""
    def check(where: str, value: Any) -> None:
        if not isinstance(value, str) or not value.isdigit() or not low <= int(value) <= high:
            raise invalid(f'{where} must be a string holding a whole number in "{low}".."{high}"')
    return check


def boolean() -> Check:
    def check(where: str, value: Any) -> None:
        if not isinstance(value, bool):
            raise invalid(f"{where} must be a boolean")
    return check


def array(item: Check, most: int) -> Check:
    def check(where: str, value: Any) -> None:
        if not isinstance(value, list):
            raise invalid(f"{where} must be an array")
        if len(value) > most:
            raise invalid(f"{where} has {len(value)} items; at most {most}")
        for index, element in enumerate(value):
            item(f"{where}[{index}]", element)
    return check


def obj(schema: Schema) -> Check:
    def check(where: str, value: Any) -> None:
        if not isinstance(value, dict):
            raise invalid(f"{where} must be an object")
        check_fields(schema, value, f"{where}.")
    return check


def check_fields(schema: Schema, body: Mapping[str, Any], prefix: str = "") -> None:
    for name, (check, required) in schema.items():
        if name not in body or body[name] is None:
            if required:
                raise invalid(f"{prefix}{name} is required")
            continue
        check(f"{prefix}{name}", body[name])


def req(check: Check) -> tuple[Check, bool]:
    return check, True


def opt(check: Check) -> tuple[Check, bool]:
    return check, False


_PROMPTS: Schema = {"prompt": req(text(PROMPT_LIMIT)),
                    "negative_prompt": opt(text(NEGATIVE_PROMPT_LIMIT))}
_SEED = opt(integer(0, SEED_MAX))
_FREEPIK_ITEM = obj({"url": req(url()), "reference_voice": opt(url())})

# Seed 000: URL item arrays, integers, 2..10 s whatever the media.
FREEPIK: Schema = {
    **_PROMPTS, "image_urls": opt(array(_FREEPIK_ITEM, 5)),
    "video_urls": opt(array(_FREEPIK_ITEM, 5)), "start_image_url": opt(url()),
    "aspect_ratio": opt(text(choices=RATIOS)), "resolution": opt(text(choices=RESOLUTIONS)),
    "duration": opt(integer(2, 10)), "seed": _SEED,
    "additional_settings": opt(obj({"prompt_extend": opt(boolean())})),
    "webhook_url": opt(url())}

# Seed 001: ``model`` required; ``size`` is the aspect ratio, beside ``resolution``.
ROLES: Schema = {
    "model": req(text(choices=MODELS)), **_PROMPTS,
    "image_with_roles": opt(array(obj({
        "url": req(url()), "role": opt(text(choices=("reference_image", "first_frame"))),
        "reference_voice": opt(url())}), 5)),
    "video_urls": opt(array(url(), 5)), "resolution": opt(text(choices=RESOLUTIONS)),
    "size": opt(text(choices=RATIOS)), "duration": opt(integer(2, 15)),
    "prompt_extend": opt(boolean()), "watermark": opt(boolean()), "seed": _SEED}

# Seed 002: plain URL arrays at HTTPS URLs, one unbound voice.
ARRAYS: Schema = {
    **_PROMPTS, "images": opt(array(url(https=True), 5)),
    "videos": opt(array(url(https=True), 5)), "reference_voice": opt(url(https=True)),
    "duration": opt(integer(2, 15)), "resolution": opt(text(choices=RESOLUTIONS)),
    "aspect_ratio": opt(text(choices=RATIOS)), "seed": _SEED}

# Seed 003: ``media[]`` of typed items, ``seconds`` as a string.
OPENAI_VIDEO: Schema = {
    "model": req(text(choices=MODELS)), **_PROMPTS,
    "media": req(array(obj({"type": req(text(choices=MEDIA_TYPES)), "url": req(url())}), 6)),
    "size": opt(text(choices=RESOLUTIONS)), "ratio": opt(text(choices=RATIOS)),
    "seconds": opt(digits(2, 15)), "prompt_extend": opt(boolean()),
    "watermark": opt(boolean()), "seed": _SEED}



# Kling 3.0 Omni and 4.0 (vendors.md section 4, models-2026-11.md): string durations, ``mode``,
# 1..6 multi_prompt shots; the widest of its models (each model's own counts, frames, elements
# and voices are the native validator's, by its declaration).
_KLING_MODELS = [found for name in TARGETS["kling"].models if (found := model_of(name))]
_KLING_TOP = max(m.caps.max_duration for m in _KLING_MODELS)
_ID = obj({})  # an id item; its id's type is checked below (a string or an int64)
KLING: Schema = {
    "model_name": req(text(choices=tuple(m.id for m in _KLING_MODELS))),
    "prompt": req(text(max(m.caps.prompt_limit for m in _KLING_MODELS))),
    "image_list": opt(array(obj({"image_url": req(url()), "type": opt(text(choices=(
        "first_frame", "end_frame", "middle_frame", "last_frame")))}),
        max(m.max_images for m in _KLING_MODELS))),
    "video_list": opt(array(obj({"video_url": req(url()),
                                 "refer_type": opt(text(choices=(
                                     "feature", *TASK_TYPES.values())))}),
                            max(m.max_videos for m in _KLING_MODELS))),
    "element_list": opt(array(_ID, max(m.max_elements for m in _KLING_MODELS))),
    "voice_list": opt(array(_ID, max(m.max_voice_ids for m in _KLING_MODELS))),
    "mode": opt(text(choices=("std", "pro"))),
    "aspect_ratio": opt(text(choices=TARGETS["kling"].limits.ratios)),
    "duration": opt(digits(min(m.caps.min_duration for m in _KLING_MODELS), _KLING_TOP)),
    "sound": opt(text(choices=("on", "off"))), "multi_shot": opt(boolean()),
    "shot_type": opt(text(choices=("customize", "intelligence"))),
    "multi_prompt": opt(array(obj({"index": req(integer(1, 6)), "prompt": req(text(512)),
                                   "duration": req(digits(1, _KLING_TOP))}), 6)),
    "watermark_info": opt(obj({"enabled": opt(boolean())}))}
_KLING_IDS = {"element_list": "element_id", "voice_list": "voice_id"}


def _kling_ids(body: Mapping[str, Any]) -> None:
    """Each element and voice names its id: a non-empty string or a whole number; an extension
    is of one video, by a model with the extend task."""
    passes = [v for v in body.get("video_list") or [] if v.get("refer_type") == EXTEND_TYPE]
    model = model_of(str(body.get("model_name")))
    if passes and (len(body["video_list"]) > 1 or model is None or
                   "extend" not in model.task_types):
        raise invalid(f"video_list: refer_type {EXTEND_TYPE} extends one video, by a model with "
                      "the extend task")
    for name, key in _KLING_IDS.items():
        for index, item in enumerate(body.get(name) or []):
            found = item.get(key)
            if isinstance(found, bool) or not (isinstance(found, int) or
                                               (isinstance(found, str) and found)):
                raise invalid(f"{name}[{index}].{key} is required (a string or an integer)")


def _ark(dialect: str) -> Schema:
    """Seedance on Ark or ModelArk (vendors.md 2): ``content[]`` items with roles, lower-case
    resolutions, -1 (random) ... 2^32-1 seeds, ``generate_audio``; the widest of the models the
    target sells (each model's own limits are the native validator's, by its declaration)."""
    models = [found for name in TARGETS[dialect].models if (found := model_of(name))]
    link = obj({"url": req(url())})
    # A picture may be a portrait of the vendor's library (``asset://ID``, ``portraits``).
    picture = obj({"url": req(url(also=TARGETS[dialect].identity_url.partition("{")[0]))})
    item = obj({"type": req(text(choices=("text", "image_url", "video_url", "audio_url"))),
                "text": opt(text(max(m.caps.prompt_limit for m in models))),
                "role": opt(text(choices=("first_frame", "last_frame", "reference_image",
                                          "reference_video", "reference_audio"))),
                "image_url": opt(picture), "video_url": opt(link), "audio_url": opt(link)})
    items = max(1 + m.max_images + m.max_videos + m.max_audios for m in models)
    resolutions = dict.fromkeys(r.lower() for m in models for r in m.caps.resolutions)
    return {"model": req(text(choices=tuple(m.id for m in models))),
            "content": req(array(item, items)),
            "resolution": opt(text(choices=tuple(resolutions))),
            "ratio": opt(text(choices=SEEDANCE_20_ARK.caps.ratios)),
            "duration": opt(integer(-1, max(m.caps.max_duration for m in models))),
            "seed": opt(integer(-1, 4294967295)),
            "watermark": opt(boolean()), "generate_audio": opt(boolean()),
            "omni_reference_task_type": opt(text(choices=("edit", "extend")))}


# MiniMax H3 on the v2 API (vendors.md 3): Seedance's content items, 768P/2K, 4..15 s required.
_H3 = MINIMAX_H3_API.caps
_LINK = obj({"url": req(url())})
MINIMAX_V2: Schema = {
    "model": req(text(choices=(MINIMAX_H3_API.id,))),
    "content": req(array(obj({
        "type": req(text(choices=("text", "image_url", "video_url", "audio_url"))),
        "text": opt(text(_H3.prompt_limit)),
        "role": opt(text(choices=("first_frame", "last_frame", "reference_image",
                                  "reference_video", "reference_audio"))),
        "image_url": opt(_LINK), "video_url": opt(_LINK), "audio_url": opt(_LINK)}),
        1 + 9 + 3 + 3)),
    "resolution": req(text(choices=_H3.resolutions)), "ratio": opt(text(choices=_H3.ratios)),
    "duration": req(integer(_H3.min_duration, _H3.max_duration)), "watermark": opt(boolean()),
    "callback_url": opt(url())}

# Hailuo on the v1 API: a flat body, a first frame at most, 6 or 10 s.
_HAILUO = HAILUO_23.caps
MINIMAX_V1: Schema = {
    "model": req(text(choices=(HAILUO_23.id,))), "prompt": opt(text(_HAILUO.prompt_limit)),
    "first_frame_image": opt(url()),
    "duration": opt(integer(_HAILUO.min_duration, _HAILUO.max_duration)),
    "resolution": opt(text(choices=_HAILUO.resolutions)), "prompt_optimizer": opt(boolean()),
    "fast_pretreatment": opt(boolean()), "callback_url": opt(url())}

SCHEMAS: dict[str, Schema] = {"freepik": FREEPIK, "roles": ROLES, "arrays": ARRAYS,
                              "openai-video": OPENAI_VIDEO, "ark": _ark("ark"),
                              "modelark": _ark("modelark"), "kling": KLING,
                              "minimax": MINIMAX_V2, "minimaxi": MINIMAX_V2,
                              "minimax-hailuo": MINIMAX_V1, "minimaxi-hailuo": MINIMAX_V1}
# Dialects whose models take references, frames or a prompt alone: the model's own counts hold.
OWN_COUNTS = ("ark", "modelark", "minimax", "minimaxi", "minimax-hailuo", "minimaxi-hailuo",
              "kling")
# A content array that must hold exactly one non-empty text item (MiniMax H3).
ONE_TEXT = ("minimax", "minimaxi")
# Where each dialect keeps its references and its duration, for the rules across fields.
REFERENCES = {"freepik": "image_urls and video_urls", "roles": "image_with_roles and video_urls",
              "arrays": "images and videos", "openai-video": "media",
              "kling": "image_list and video_list"}
DURATION = {"openai-video": "seconds"}


def check_body(dialect: str, body: Mapping[str, Any]) -> None:
    """Refuse, with a 400 naming the field, what the dialect's seed would refuse."""
    check_fields(SCHEMAS.get(dialect, {}), body)
    shots = body.get("multi_prompt")
    if isinstance(shots, list) and shots:
        total = sum(int(s["duration"]) for s in shots)
        if str(total) != str(body.get("duration", "5")):
            raise invalid(f"multi_prompt durations add up to {total}, not the duration "
                          f"{body.get('duration', '5')}")
    if dialect == "kling":
        _kling_ids(body)
    if dialect in ONE_TEXT:
        texts = [i for i in body["content"] if i.get("type") == "text"]
        if len(texts) != 1 or not str(texts[0].get("text") or "").strip():
            raise invalid("content must hold exactly one non-empty text item")
    if dialect in ("ark", "modelark") and body.get("omni_reference_task_type") == "edit":
        _check_edit(body)
    if dialect == "arrays" and body.get("reference_voice") and not body.get("images"):
        raise invalid("reference_voice speaks as Image1: images must hold at least one URL")


def with_video_limit(dialect: str) -> int | None:
    """The longest shot with a reference video, as the dialect's seed says (seed 001 and 002 have
    no rule for videos: their 2..15 s hold; seed 003 says 2..10); None where each model's own
    declaration holds (a target selling several models: Seedance 2.0 and 2.5)."""
    return None if dialect in OWN_COUNTS else TARGETS[dialect].limits.max_duration_with_video


def check_together(dialect: str, native: Mapping[str, Any]) -> None:
    """The model's rules across fields (read back into the native body), in the dialect's names:
    1..5 references, and the seed's longest shot with a reference video."""
    media = native["input"]["media"]
    count = sum(1 for m in media if m.get("type") != "first_frame")
    where = REFERENCES.get(dialect, "media")
    low, top = TARGETS[dialect].limits.min_references, TARGETS[dialect].limits.max_references
    if dialect not in OWN_COUNTS and not low <= count <= top:
        raise invalid(f"{where} must hold {low} to {top} references together; found {count}")
    duration = native["parameters"].get("duration")
    has_video = any(m.get("type") == "reference_video" for m in media)
    longest = with_video_limit(dialect)
    if longest is not None and has_video and _is_int(duration) and duration > longest:
        raise invalid(f"{DURATION.get(dialect, 'duration')} must be 2..{longest} with a "
                      "reference video")


def _check_edit(body: Mapping[str, Any]) -> None:
    """Seedance's edit task (third-party): a model with the task, the video it edits as a
    ``reference_video`` item, ratio ``adaptive`` and duration -1 (the input's length)."""
    model = model_of(str(body["model"]))
    if model is None or "edit" not in model.task_types:
        raise invalid(f"omni_reference_task_type edit is not supported by {body['model']}")
    if not any(i.get("role") == "reference_video" for i in body["content"]):
        raise invalid("omni_reference_task_type edit needs a reference_video content item")
    if body.get("ratio") != "adaptive" or body.get("duration") != -1:
        raise invalid("omni_reference_task_type edit takes ratio adaptive and duration -1 "
                      "(the output keeps the video's length)")
