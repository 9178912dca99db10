"""Submit bodies into accepted submissions or the service's error codes (spec sections 1 and 3).

The rules a client can break before a task exists: model, prompt lengths, the media array, parameter
ranges, URL schemes and the ``oss://`` resolve header. Every rule that differs between models is
read from the model's declaration (``storyboard.targets.video.models``): its media kinds and counts, how
its voices travel, its frames, durations, resolutions, ratios, prompt limits and switches. Unknown
keys are ignored, as the service does (the official SDK sends ``input.extend_prompt`` and
``input.function``; ``negative_prompt`` and ``prompt_extend`` are unknown keys to wan3.0-video,
``audio`` to every model without the switch).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from storyboard.targets.video.models import Model, model_of

IMAGE_KINDS = ("reference_image", "first_frame", "middle_frame", "last_frame")  # may be ``data:`` URIs
VOICE_CARRIERS = ("reference_image", "reference_video")  # may carry a ``reference_voice``
ID_KINDS = ("element", "voice_id")  # ids made on the vendor (Kling 4.0), never URLs
DEFAULTS: dict[str, Any] = {"resolution": "1080P", "ratio": "16:9", "duration": 5}
AUTO_DURATION = -1  # "the model chooses": drawn as the default length
KEEP_LENGTH = 0  # wan2.7-videoedit's default: as long as the video it edits
MISSING = "Required parameter(s) missing or invalid, please check the request parameters."


class ApiError(Exception):
    """An error answer of the native API: ``{"request_id", "code", "message"}`` with a status."""

    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidParameter", message)


@dataclass(frozen=True)
class Submission:
    """An accepted body, with the service's defaults filled in (``duration`` as drawn)."""

    model: str
    prompt: str
    resolution: str
    ratio: str
    duration: int
    media: tuple[dict[str, str], ...]
    seed: int | None
    audio: bool = True  # False: a silent video, no audio track (models with the switch)
    watermark: bool = False  # as sent, else the model's default (HappyHorse: on)

    @property
    def oss_urls(self) -> list[str]:
        return [u for item in self.media for u in item.values() if u.startswith("oss://")]


def reference_limits(model: Model) -> dict[str, int]:
    """The reference kinds a model takes, each with its most items."""
    limits = {"reference_image": model.max_images, "reference_video": model.max_videos,
              "reference_audio": model.max_audios, "element": model.max_elements,
              "voice_id": model.max_voice_ids}
    return {kind: most for kind, most in limits.items() if most > 0}


def media_types(model: Model) -> tuple[str, ...]:
    """Every ``input.media[].type`` the model takes: its references, then its frames."""
    return (*reference_limits(model), *model.frames)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _listing(words: tuple[str, ...]) -> str:
    """``a, b or c``."""
    return " or ".join(filter(None, (", ".join(words[:-1]), *words[-1:])))


# --- input -----------------------------------------------------------------------------------


def _prompts(model: Model, data: Mapping[str, Any]) -> str:
    prompt = data.get("prompt")
    if not model.takes_prompt:  # a pass over a video reads no words: an unknown key to it
        return ""
    if prompt is None or (isinstance(prompt, str) and not prompt.strip()):
        raise ApiError(400, "BadRequest.EmptyInput", "Required input parameter prompt is empty.")
    if not isinstance(prompt, str):
        raise invalid("input.prompt must be a string")
    if len(prompt) > model.caps.prompt_limit and not model.truncates_prompt:
        raise invalid(f"input.prompt is longer than {model.caps.prompt_limit} characters")
    negative = data.get("negative_prompt")
    if not model.negative_prompt or negative is None:
        return prompt  # an unknown key to a model without one
    if not isinstance(negative, str):
        raise invalid("input.negative_prompt must be a string")
    if len(negative) > model.caps.negative_prompt_limit:
        raise invalid("input.negative_prompt is longer than "
                      f"{model.caps.negative_prompt_limit} characters")
    return prompt


def _check_url(url: object, where: str, *, data_ok: bool) -> str:
    if not isinstance(url, str) or not url:
        raise invalid(f"{where} must be a non-empty URL string")
    if url.startswith(("http://", "https://", "oss://")) or (data_ok and url.startswith("data:")):
        return url
    allowed = "http(s), oss:// or data:" if data_ok else "http(s) or oss://"
    raise ApiError(400, "InvalidURL", f"{where}: the URL must be {allowed}")


def _voice(model: Model, where: str, kind: str, voice: object) -> str:
    if model.voices == "reference_audio":
        raise invalid(f"{where}: {model.id} takes no reference_voice; "
                      "a voice is a reference_audio item of its own")
    if model.voices == "none":
        raise invalid(f"{where}: {model.id} takes no reference_voice")
    if kind not in VOICE_CARRIERS:
        raise invalid(f"{where}: reference_voice is allowed only on reference items")
    return _check_url(voice, f"{where}.reference_voice", data_ok=False)


def _media_item(model: Model, index: int, item: object) -> dict[str, str]:
    where = f"input.media[{index}]"
    if not isinstance(item, dict):
        raise invalid(f"{where} must be an object")
    wire = {name: role for role, name in model.wire_types.items()}
    sent = item.get("type")
    # A type the model names otherwise on the wire is not one of its types under its own name.
    kind = wire.get(str(sent), None if sent in model.wire_types else sent)
    kinds = tuple(k for k in media_types(model) if k not in model.wire_fields)
    if kind not in kinds:
        named = ", ".join(model.wire_types.get(k, k) for k in kinds) or "nothing (no media)"
        raise invalid(f"{where}.type must be one of {named} (model {model.id})")
    if kind in ID_KINDS:  # an id made on the vendor (Kling 4.0's element, voice): no URL
        made = item.get("url")
        if not isinstance(made, str) or not made or "://" in made:
            raise invalid(f"{where}: a {kind} is named by its id, not a URL")
        return {"type": kind, "url": made}
    entry = {"type": kind, "url": _check_url(item.get("url"), f"{where}.url",
                                             data_ok=kind in IMAGE_KINDS)}
    if item.get("reference_voice") is not None:
        entry["reference_voice"] = _voice(model, where, kind, item["reference_voice"])
    return entry


def _counts(model: Model, counts: Counter[str]) -> None:
    """At most so many of each kind, and of images and videos together."""
    visual = counts["reference_image"] + counts["reference_video"]
    if visual > model.caps.max_references:
        raise invalid(f"input.media has {visual} references; at most {model.caps.max_references}")
    for kind, most in reference_limits(model).items():
        if counts[kind] > most:
            raise invalid(f"input.media has {counts[kind]} {kind} items; at most {most}")
    for kind in model.frames:
        if counts[kind] > 1:
            raise invalid(f"input.media may hold at most one {kind}")
    framed = sum(counts[kind] for kind in IMAGE_KINDS)
    if model.frames_count_as_images and framed > model.max_images:
        raise invalid(f"input.media has {framed} images, frames counted; at most "
                      f"{model.max_images}")
    if model.max_materials is not None and sum(counts.values()) > model.max_materials:
        raise invalid(f"input.media has {sum(counts.values())} materials; at most "
                      f"{model.max_materials}")


def _combination(model: Model, counts: Counter[str]) -> None:
    """References and frames: together only where the model allows; enough of what it needs."""
    kinds = tuple(reference_limits(model))
    references = sum(counts[kind] for kind in kinds)
    frames = sum(counts[kind] for kind in model.frames)
    if references and frames and not model.frames_with_references:
        raise invalid(f"input.media: {model.id} takes references ({_listing(kinds)}) or frames "
                      f"({_listing(model.frames)}), not both in one request")
    for one, other in model.frames_apart:
        if counts[one] and counts[other]:
            raise invalid(f"input.media: {model.id} takes a {one} or a {other}, not both in one "
                          "request")
    if model.needs_frame and not any(counts[role] for role in model.needs):
        needed = " or a ".join(model.wire_types.get(role, role) for role in model.needs)
        raise invalid(f"input.media needs a {needed} (model {model.id})")
    frames_instead = frames > 0 and not model.frames_with_references
    if references < model.min_references and not frames_instead:
        alternative = "" if model.frames_with_references else f", or {_listing(model.frames)}"
        raise invalid(f"input.media needs at least one {_listing(kinds)}{alternative}")


def _fields(model: Model, data: Mapping[str, Any]) -> tuple[dict[str, str], ...]:
    """Files a model takes as fields of ``input`` of their own (wan2.7-t2v's ``audio_url``), as
    media items of their neutral role."""
    return tuple({"type": role, "url": _check_url(data[name], f"input.{name}", data_ok=False)}
                 for role, name in model.wire_fields.items() if data.get(name) is not None)


def _own_fields(model: Model, fields: tuple[dict[str, str], ...]) -> tuple[dict[str, str], ...]:
    """A service whose files are all fields of ``input``: each one is required."""
    given = {item["type"] for item in fields}
    for role, name in model.wire_fields.items():
        if role not in given:
            raise invalid(f"input.{name} is required (model {model.id})")
    return fields


def _media(model: Model, data: Mapping[str, Any]) -> tuple[dict[str, str], ...]:
    media = data.get("media")
    fields = _fields(model, data)
    if model.text_only and (media is None or media == []):
        return fields  # text to video: the prompt alone (and its own fields)
    if not model.text_only and set(media_types(model)) <= set(model.wire_fields):
        return _own_fields(model, fields)  # every file a field of its own (videoretalk)
    if not isinstance(media, list) or not media:
        raise invalid("input.media must be a non-empty array")
    items = tuple(_media_item(model, i, item) for i, item in enumerate(media)) + fields
    counts = Counter(m["type"] for m in items)
    _counts(model, counts)
    _combination(model, counts)
    return items


# --- parameters ------------------------------------------------------------------------------


def _choice(params: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = params.get(name, DEFAULTS[name])
    if value not in allowed:
        raise invalid(f"parameters.{name} must be one of {', '.join(allowed)}")
    return str(value)


def _duration(model: Model, params: Mapping[str, Any], has_video: bool,
              with_video: int | None = None) -> int:
    value = params.get("duration", KEEP_LENGTH if model.keeps_length else DEFAULTS["duration"])
    edit = params.get("task_type") == "edit" and "edit" in model.task_types  # Seedance's
    if (model.keeps_length and _is_int(value) and value == KEEP_LENGTH) or edit:
        return KEEP_LENGTH  # the edited video's length, known once it is read
    if model.auto_duration and _is_int(value) and value == AUTO_DURATION:
        return int(DEFAULTS["duration"])  # the model chooses; drawn at the default length
    caps = model.caps
    top = (with_video or caps.max_duration_with_video) if has_video else caps.max_duration
    if not _is_int(value) or not caps.min_duration <= value <= top:
        why = " with a reference_video" if has_video and top != caps.max_duration else ""
        auto = f" (or {AUTO_DURATION}: the model chooses)" if model.auto_duration else ""
        raise invalid(f"parameters.duration must be an integer in "
                      f"{caps.min_duration}..{top}{why}{auto}")
    lengths = model.lengths(str(params.get("resolution", DEFAULTS["resolution"])))
    if lengths and value not in lengths:
        raise invalid(f"parameters.duration must be {' or '.join(map(str, lengths))} at "
                      f"resolution {params.get('resolution')}")
    return int(value)


def _seed(model: Model, params: Mapping[str, Any]) -> int | None:
    seed, top = params.get("seed"), model.caps.seed_max
    if not model.seed:
        return None  # an unknown key to a model without one
    if seed is not None and (not _is_int(seed) or not 0 <= seed <= top):
        raise invalid(f"parameters.seed must be an integer in 0..{top}")
    return None if seed is None else int(seed)


def _flags(model: Model, params: Mapping[str, Any]) -> bool:
    """Check the model's boolean switches; return ``audio`` (True where there is no switch)."""
    names = ["watermark", *(["prompt_extend"] if model.prompt_extend else []),
             *(["audio"] if model.audio_switch else [])]
    for name in names:
        if name in params and not isinstance(params[name], bool):
            raise invalid(f"parameters.{name} must be a boolean")
    return not model.audio_switch or params.get("audio", True) is not False


def _model(body: Mapping[str, Any]) -> tuple[str, Model]:
    name = body.get("model")
    if not name:
        raise ApiError(400, "BadRequest.EmptyModel", "Required parameter model is missing.")
    model = model_of(name) if isinstance(name, str) else None
    if model is None:
        raise invalid("Model not exist.")
    return name, model


def _oss(items: tuple[dict[str, str], ...], model: str, resolve: bool,
         known: Callable[[str, str], bool]) -> None:
    urls = [u for item in items for u in item.values() if u.startswith("oss://")]
    if urls and not resolve:
        raise invalid("oss:// URLs need the header X-DashScope-OssResourceResolve: enable")
    for url in urls:
        if not known(url, model):
            raise ApiError(400, "InvalidURL",
                           f"{url}: no such uploaded file for {model} (or it expired)")


def _parameters(body: Mapping[str, Any]) -> Mapping[str, Any]:
    params = body.get("parameters", {})
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise invalid("parameters must be an object")
    return params


def validate_submit(body: object, *, oss_resolve: bool,
                    known_upload: Callable[[str, str], bool],
                    with_video: int | None = None) -> Submission:
    """Check a submit body like the service, by its model's rules; raise ApiError with the
    documented code. ``known_upload(url, model)``: an ``oss://`` file uploaded for that model;
    ``with_video``: a gateway's longest shot with a reference video, where its seed differs."""
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    name, model = _model(body)
    data = body.get("input")
    if not isinstance(data, dict) or not data:
        raise ApiError(400, "BadRequest.EmptyInput", "Required parameter input is missing.")
    prompt = _prompts(model, data)
    items = _media(model, data)
    params = _parameters(body)
    has_video = any(m["type"] == "reference_video" for m in items)
    # A model without ``ratio`` follows its first frame: the parameter is an unknown key to it.
    ratio = _choice(params, "ratio", model.caps.ratios) if model.ratio else DEFAULTS["ratio"]
    submission = Submission(name, prompt, _choice(params, "resolution", model.caps.resolutions),
                            ratio, _duration(model, params, has_video, with_video), items,
                            _seed(model, params), _flags(model, params),
                            params.get("watermark", model.watermark_default) is True)
    _oss(items, name, oss_resolve, known_upload)
    return submission
