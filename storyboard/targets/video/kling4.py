"""Kling 4.0's facts into model declarations: its id, labels, caps, prices, and the flash variant.

Kling 4.0 (released 2026-10-24; ``../shared/spec/models-2026-11.md``, every fact third-party:
Venice's model page, ComfyUI's Kling 4 nodes, resellers' pages) is one model family on Kling's
own API whose mode the body picks: a prompt alone, frames (``image_list`` items typed
``first_frame`` / ``middle_frame`` / ``last_frame``) or references (``image_list``, a
``video_list`` of feature videos, saved elements by ``element_id``, voices by ``voice_id``), all
in one call. 3..30 s in whole seconds, 720p or 1080p, four ratios, sound always on. At most 10
images (frames among them), 5 videos (3..30 s each, 30 s together), 3 voices, 7 elements, 15
materials in all; prompts up to 26,000 characters. A reference video's seconds are billed beside the output's.

Three facts no first-party page confirms are each ONE value here, easy to change when a probe
settles them: the wire id (``WIRE_ID``, ``FLASH_WIRE_ID``: the spec's ``kling-v4-*`` naming), the
label spelling (``LABELS``) and the frame types (``FRAME_TYPES``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from storyboard.targets.capabilities import Capabilities, FileRule, ImageRule, PriceTable
from storyboard.targets.video.modelrules import FactSource, Model

# The model ids Kling's API names 4.0 and its flash variant by (third-party: the resellers' and
# ComfyUI's ``kling-v4-*`` ids; Kling's own page was not read). One value each: a probe that finds
# another id changes it here and nowhere else.
WIRE_ID = "kling-v4-omni"
FLASH_WIRE_ID = "kling-v4-flash"

# How the prompt names a reference, an element and a voice (``<<<image_1>>>``, ``<<<element_1>>>``,
# ``<<<voice_1>>>``). Unverified: ComfyUI's node writes ``@Image1``, a reseller ``@image_1``,
# another ``<<<image_1>>>`` (Kling 3.0's own form, kept). One value, on both models.
LABELS = "<<<{kind}_{index}>>>"

# ``image_list[].type`` of a frame (third-party: the spec names first_frame, middle_frame and
# last_frame), by the shot's key.
FRAME_TYPES = {"first_frame": "first_frame", "middle_frame": "middle_frame",
               "last_frame": "last_frame"}

# Edit and extend (the spec: both exist; an extension is a derived clip): the video a pass works
# on is a ``video_list`` item, ``refer_type: base`` for an edit (Kling 3.0 Omni's documented
# form) and ``EXTEND_TYPE`` for an extension. Unverified: no page shows 4.0's extend body, so its
# spelling is storyboard's guess, one value.
EXTEND_TYPE = "extend"
TASK_TYPES = {"edit": "base", "extend": EXTEND_TYPE}  # a pass's refer_type, by its task

# Venice's rates with sound (always on), per output second; a reference video's seconds bill
# the same rate, all of them (30 s at most together).
PRICES = PriceTable({"720P": 0.196, "1080P": 0.294}, "USD", input_video_cap=30.0)
FLASH_PRICES = PriceTable({"720P": 0.196}, "USD", input_video_cap=30.0)

# Wan's sizes for three ratios; 21:9 as HappyHorse's (storyboard's guess: no size table found).
_SIZES: dict[tuple[str, str], tuple[int, int]] = {
    ("720P", "16:9"): (1280, 720), ("720P", "9:16"): (720, 1280), ("720P", "1:1"): (960, 960),
    ("720P", "21:9"): (1680, 720), ("1080P", "16:9"): (1920, 1080),
    ("1080P", "9:16"): (1080, 1920), ("1080P", "1:1"): (1440, 1440),
    ("1080P", "21:9"): (2512, 1080)}
_CAPS = Capabilities(min_duration=3, max_duration=30, max_duration_with_video=30,
                     max_references=15, resolutions=("720P", "1080P"),
                     ratios=("16:9", "9:16", "1:1", "21:9"), sizes=_SIZES, prompt_limit=26000,
                     negative_prompt_limit=0)
_SOURCES: dict[str, FactSource] = {"prices": "third-party", "limits": "third-party", "labels": "third-party",
            "sizes": "third-party", "frames": "third-party"}

KLING_V4 = Model(
    id=WIRE_ID, title="Kling 4.0", caps=_CAPS, prices={"intl": PRICES},
    max_images=10, max_videos=5, min_references=0, voices="voice_id",
    frames=("first_frame", "middle_frame", "last_frame"), frames_with_references=True,
    frames_count_as_images=True, text_only=True, prompt_mode=True, negative_prompt=False,
    prompt_extend=False,
    seed=False, audio_switch=False, labels={"kling": LABELS},
    image_rule=ImageRule(min_side=300, max_aspect=2.5, max_mb=10),
    # Each reference video 3..30 s (at least 700 px and 24 fps: not checked offline), 200 MB
    # (Kling 3.0's file limit, kept).
    file_rules={"reference_video": FileRule("video", 3, 30, 200)},
    max_reference_video_seconds=30.0, identity="kling", max_elements=7, max_voice_ids=3,
    max_materials=15, task_types=("edit", "extend"),
    sources={**_SOURCES, "task_types": "third-party"})

# The flash variant: 720p, 3..20 s, no voices (no audio references of any kind).
KLING_V4_FLASH = replace(
    KLING_V4, id=FLASH_WIRE_ID, title="Kling 4.0 Flash",
    caps=replace(_CAPS, max_duration=20, max_duration_with_video=20, resolutions=("720P",)),
    prices={"intl": FLASH_PRICES}, voices="none", max_voice_ids=0)

KLING_V4_MODELS = (KLING_V4, KLING_V4_FLASH)

# -- elements storyboard makes (``identity: {kling: {element: make}}``) ---------------------------
# A character's saved element made from its approved cast sheet (the spec: "element ids ... are
# created on Kling first (Kling has endpoints for them)"; an element is 2-4 images or a 3-8 s
# clip). No page shows the endpoint, so each fact below is ONE value, storyboard's guess, marked
# unverified (``ELEMENT_SOURCES``): a probe that reads Kling's page changes it here and nowhere else.
ELEMENT_MODEL = "kling-element"  # the cast asset's model: what its plan prices it by
ELEMENT_PATH = "/v1/general/custom-elements"  # POST creates one; GET PATH/{id} reads it
ELEMENT_ID = "data.element_id"  # the create's answer: the element's id, polled by it until ready
ELEMENT_STATUS = "data.task_status"  # in Kling's task words (submitted, processing, succeed)
ELEMENT_PICTURE = "data.task_result.images.0.url"  # the element's picture, kept as its file
# Made from two images: the approved sheet as the frontal image and as the one image of its
# reference list (the turnaround already holds the face close-up and three views an element's
# extra images show; a look is another outfit, not the same identity).
ELEMENT_IMAGES = 2
# No price is published for making an element: storyboard's guess, per element, so a plan shows
# a cost that is not nothing (never an estimate below what may be billed).
# (``each``: an asset table's one rate, ``targets.cast.assets.EACH``.)
ELEMENT_PRICES = PriceTable({"each": 0.05}, "USD", input_video_cap=0.0, per="generation")
ELEMENT_SOURCES = {"path": "unverified", "body": "unverified", "price": "unverified"}


ELEMENT_TASK = "element-"  # a made element's task id: this, then its id (the create's answer)


def element_id(task_id: str) -> str:
    """The element's id a task id that made it names (``element-8810`` names ``8810``)."""
    return task_id.removeprefix(ELEMENT_TASK)


def element_body(name: str, description: str, urls: Sequence[str]) -> dict[str, object]:
    """The create's body (unverified): the element's name and words, its frontal image, then
    the rest as its reference list."""
    return {"element_name": name, "element_description": description,
            "element_frontal_image": urls[0],
            "element_refer_list": [{"image_url": url} for url in urls[1:]]}


# -- voices storyboard makes (``identity: {kling: {voice: make}}``) -------------------------------
# A character's custom voice made on Kling from its voice's audio (the designed voice's sample, or
# the recorded clip), sent as ``voice_id`` on Kling 4.0 (never on flash: no audio references).
# Third-party only (a reseller's copy of Kling's schema: ``POST /v1/general/custom-voices`` with
# ``voice_name`` and ``voice_url``, a clean 5-30 s clip; fal's and Atlas Cloud's create-voice pages),
# so each fact is ONE value, marked unverified (``VOICE_SOURCES``). Storyboard's guess: the id the
# create answers is the voice's id, polled by it until ready (third-party copies show the finished
# task listing ``task_result.voices[].voice_id``: a probe that finds it differs from the task id
# needs that id kept beside the task's, not built).
VOICE_MODEL = "kling-voice"  # the cast asset's model: what its plan prices it by
VOICE_PATH = "/v1/general/custom-voices"  # POST creates one; GET PATH/{id} reads it
VOICE_ID = "data.task_id"  # the create's answer: the voice's id, polled by it until ready
VOICE_STATUS = "data.task_status"  # in Kling's task words (submitted, processing, succeed)
VOICE_CLIP = "data.task_result.voices.0.trial_url"  # the voice's audition clip, kept as its file
VOICE_NAME_LIMIT = 20  # characters of ``voice_name`` (a reseller's copy: at most 20)
# The clip a voice is made from: 5-30 s (fal, Atlas Cloud), WAV or MP3; 15 MB (storyboard's own
# reference voice limit, kept: no size is published).
VOICE_CLIP_RULE = FileRule("voice", 5, 30, 15)
# fal bills $0.007 a voice; Kling's own price is not published: storyboard's guess above it.
VOICE_PRICES = PriceTable({"each": 0.01}, "USD", input_video_cap=0.0, per="generation")
VOICE_SOURCES = {"path": "unverified", "body": "unverified", "answer": "unverified",
                 "price": "unverified"}
VOICE_TASK = "kvoice-"  # a made voice's task id: this, then its id (the create's answer)


def voice_id(task_id: str) -> str:
    """The voice's id a task id that made it names (``kvoice-8810`` names ``8810``)."""
    return task_id.removeprefix(VOICE_TASK)


def voice_body(name: str, url: str) -> dict[str, object]:
    """The create's body (unverified): the voice's name (cut to ``VOICE_NAME_LIMIT``) and the
    URL of the clip it is made from."""
    return {"voice_name": name[:VOICE_NAME_LIMIT], "voice_url": url}
