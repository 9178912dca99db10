"""Image asset requests into image-API bodies: each vendor's image call as a declaration.

A board or a cast picture (``AssetRequest(kind="image")``) is made by the provider kind its image
model names; each kind speaks one image wire, declared here as data (its paths, whether it answers
at once or with a task, where the answer keeps the picture) plus one small ``body`` function that
writes the request with its references' URLs decided:

- ``dashscope``: ``wan2.7-image(-pro)``'s asynchronous image-generation task, ``input.messages``
  with a ``text`` item then an ``image`` item per reference (spec/assets.md section 1).
- ``ark`` / ``modelark``: Seedream 4.x, **synchronous** ``POST /images/generations`` (under the
  ``/api/v3`` base), OpenAI-shaped: ``image`` a list of URLs, ``size`` ``WxH``, one picture
  (``sequential_image_generation: disabled``), ``response_format: url``; the answer's
  ``data[0].url`` is the picture (spec/boards.md; third-party copies of the schema). No task id:
  a lost answer cannot be looked up.
- ``kling``: Kling's Omni image task, ``POST /v1/images/omni-image`` with ``image_list``
  (``[{image: URL}]``), ``resolution`` ``1k``/``2k``, ``aspect_ratio`` and ``n``, polled on
  ``/v1/images/omni-image/{task_id}`` in the video's envelope and words; the picture at
  ``data.task_result.images.0.url``. Signed with the same token as Kling's video. Kling also
  makes a character's element (``KLING_ELEMENT``) and voice (``KLING_VOICE``), every fact
  unverified (``targets.video.kling4``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from storyboard.language.request import AssetRequest
from storyboard.targets.cast.assets import board_model_of
from storyboard.targets.video.kling4 import (
    ELEMENT_ID,
    ELEMENT_IMAGES,
    ELEMENT_PATH,
    ELEMENT_PICTURE,
    ELEMENT_STATUS,
    VOICE_CLIP,
    VOICE_ID,
    VOICE_PATH,
    VOICE_STATUS,
    element_body,
    voice_body,
)
from storyboard.targets.wire.gateways import ARK, DASHSCOPE_NAME, KLING, MODELARK

Body = Callable[[AssetRequest, Sequence[str]], dict[str, Any]]

# Kling's image ratios (third-party copies of its schema), as width over height.
KLING_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9")
KLING_TIERS = {"1k": 1024, "2k": 2048}  # the longer side a tier asks for, about


@dataclass(frozen=True)
class ImageWire:
    """One vendor's image call: where it goes, how it answers, and its body."""

    name: str  # the image API, for messages ("Seedream images")
    submit_path: str  # under the provider's base URL
    body: Body
    image_url: str  # the picture's URL in the answer (a synchronous one) or the task's
    task_path: str = ""  # "" : synchronous, the submit's answer holds the picture
    task_id: str = ""  # the submit answer's task id
    status: str = ""  # a task answer's status word
    list_path: str = ""  # the account's image tasks (a lost submit's lookup)
    items: str = "data"  # the list answer's tasks
    list_params: Mapping[str, int] = field(default_factory=dict)  # one page, the newest first

    @property
    def synchronous(self) -> bool:
        return not self.task_path


def wire_model(asset: AssetRequest) -> str:
    """The id the wire names ``asset``'s model by (Kling's 3.0 Omni image is ``kling-v3-omni``,
    as its video model is)."""
    declared = board_model_of(asset.model)
    return (declared.wire_id or declared.id) if declared is not None else asset.model


def size_of(asset: AssetRequest) -> tuple[int, int]:
    """An image request's ``W*H`` as two numbers (0, 0 when it names none)."""
    width, star, height = asset.size.partition("*")
    if not star or not width.isdigit() or not height.isdigit():
        return 0, 0
    return int(width), int(height)


def wan_body(asset: AssetRequest, urls: Sequence[str]) -> dict[str, Any]:
    """wan2.7-image(-pro): the prompt, then each reference in order (``image 1`` ...)."""
    content: list[dict[str, str]] = [{"text": asset.prompt}, *({"image": u} for u in urls)]
    params: dict[str, Any] = {"size": asset.size, "n": 1, "watermark": False}
    if asset.seed is not None:
        params["seed"] = asset.seed
    return {"model": asset.model, "input": {"messages": [{"role": "user", "content": content}]},
            "parameters": params}


def seedream_body(asset: AssetRequest, urls: Sequence[str]) -> dict[str, Any]:
    """Seedream 4.x: one picture of ``WxH``, the references as a list of URLs (``image 1`` is
    the first). Seedream 4.x takes no seed (only 3.0 did): none is sent."""
    width, height = size_of(asset)
    body: dict[str, Any] = {"model": wire_model(asset), "prompt": asset.prompt}
    if urls:
        body["image"] = list(urls)
    body.update(size=f"{width}x{height}", sequential_image_generation="disabled",
                response_format="url", watermark=False)
    return body


def kling_ratio(width: int, height: int) -> str:
    """The nearest of Kling's ratios to ``width`` by ``height``."""
    wanted = width / height if height else 16 / 9

    def distance(ratio: str) -> float:
        w, h = ratio.split(":")
        return abs(int(w) / int(h) - wanted)
    return min(KLING_RATIOS, key=distance)


def kling_tier(width: int, height: int) -> str:
    """``1k`` for a picture whose longer side is at most about 1K, else ``2k``."""
    return "1k" if max(width, height) <= KLING_TIERS["1k"] * 1.5 else "2k"


def kling_body(asset: AssetRequest, urls: Sequence[str]) -> dict[str, Any]:
    """Kling's Omni image: ``image_list`` in order (``<<<image_1>>>`` is the first), one picture
    in the nearest ratio and tier to ``W*H``; no seed (none in its schema)."""
    width, height = size_of(asset)
    body: dict[str, Any] = {"model_name": wire_model(asset), "prompt": asset.prompt}
    if urls:
        body["image_list"] = [{"image": url} for url in urls]
    body.update(resolution=kling_tier(width, height), aspect_ratio=kling_ratio(width, height),
                n=1, watermark_info={"enabled": False})
    return body


WAN_IMAGE = ImageWire("Wan images", "/services/aigc/image-generation/generation", wan_body,
                      image_url="output.choices.0.message.content.0.image",
                      task_path="/tasks/{task_id}", task_id="output.task_id",
                      status="output.task_status")
SEEDREAM = ImageWire("Seedream images", "/images/generations", seedream_body,
                     image_url="data.0.url")
_KLING_IMAGE_PATH = "/v1/images/omni-image"
KLING_IMAGE = ImageWire("Kling images", _KLING_IMAGE_PATH, kling_body,
                        image_url="data.task_result.images.0.url",
                        task_path=_KLING_IMAGE_PATH + "/{task_id}", task_id="data.task_id",
                        status="data.task_status", list_path=_KLING_IMAGE_PATH,
                        list_params={"pageNum": 1, "pageSize": 500})  # its largest page

def kling_element_body(asset: AssetRequest, urls: Sequence[str]) -> dict[str, Any]:
    """A Kling element's create (``targets.video.kling4``, unverified): the sheet as its frontal image
    and again as its reference list's one image, up to ``ELEMENT_IMAGES`` in all."""
    images = [*urls, *list(urls[:1]) * max(0, ELEMENT_IMAGES - len(urls))]
    return element_body(asset.name, asset.prompt, images)


# Kling's element create, polled by the element's id until it is ready (every fact unverified).
KLING_ELEMENT = ImageWire("Kling elements", ELEMENT_PATH, kling_element_body,
                          image_url=ELEMENT_PICTURE, task_path=ELEMENT_PATH + "/{task_id}",
                          task_id=ELEMENT_ID, status=ELEMENT_STATUS)

def kling_voice_body(asset: AssetRequest, urls: Sequence[str]) -> dict[str, Any]:
    """A Kling custom voice's create (``targets.video.kling4``, unverified): the character's name and
    the URL of its voice's clip."""
    return voice_body(asset.name, urls[0])


# Kling's custom voice create, polled by its id until it is ready (every fact unverified); its
# file is the audition clip the finished voice answers with.
KLING_VOICE = ImageWire("Kling voices", VOICE_PATH, kling_voice_body, image_url=VOICE_CLIP,
                        task_path=VOICE_PATH + "/{task_id}", task_id=VOICE_ID,
                        status=VOICE_STATUS)

# Each provider kind that makes pictures over HTTP, and the wire it speaks.
IMAGE_WIRES: Mapping[str, ImageWire] = {DASHSCOPE_NAME: WAN_IMAGE, ARK.name: SEEDREAM,
                                        MODELARK.name: SEEDREAM, KLING.name: KLING_IMAGE}


# Each provider kind that makes a character's element, and the wire it speaks.
ELEMENT_WIRES: Mapping[str, ImageWire] = {KLING.name: KLING_ELEMENT}


def element_wire(kind: str) -> ImageWire | None:
    """The element wire provider kind ``kind`` speaks, or None (it makes no elements)."""
    return ELEMENT_WIRES.get(kind)


# Each provider kind that makes a character's voice by its own API, and the wire it speaks.
VOICE_WIRES: Mapping[str, ImageWire] = {KLING.name: KLING_VOICE}


def voice_wire(kind: str) -> ImageWire | None:
    """The voice wire provider kind ``kind`` speaks, or None (it makes no voices by id)."""
    return VOICE_WIRES.get(kind)


def image_wire(kind: str) -> ImageWire | None:
    """The image wire provider kind ``kind`` speaks, or None (it makes no pictures by HTTP)."""
    return IMAGE_WIRES.get(kind)
