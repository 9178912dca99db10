"""A Seedance submit's pictures into the portrait library's verdict: a face taken for real, assets.

On a target that refuses faces sent by URL (``Target.faces_by_url`` false: Seedance on Ark and
ModelArk; models-2026-11.md, "Faces"), a picture sent by URL whose file name the emulator is told
to take for a real person (``EmulatorConfig.real_faces``) refuses the submit, 400
``InputImageSensitiveContentDetected.PrivacyInformation`` "... may contain real person", naming
the item by its place in ``content`` (whether Ark names it is not verified: storyboard reads a
place or a label where one is said, else names every picture sent by URL). A picture sent as a
registered portrait (``asset://ID``) is never refused; an id the library does not hold Active
(``EmulatorConfig.portraits``, or one the control plane made, ``arkassets``, once Active, on its
own vendor) is a 400 ``InvalidParameter``. The service then sees each portrait as a small
stand-in picture.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from storyboard.dialects.base import Dialect
from storyboard.emulator.config import EmulatorConfig
from storyboard.emulator.validate import ApiError

PRIVACY = "InputImageSensitiveContentDetected.PrivacyInformation"
# A 1x1 PNG: what the service draws a portrait as (its bytes are the vendor's, not sent).
STAND_IN = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4"
            "nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==")


@dataclass
class Made:
    """An asset the control plane made: Active ``latency`` seconds after its create."""

    id: str
    group: str
    url: str
    name: str
    created: float

    def active(self, now: float, latency: float) -> bool:
        return now - self.created >= latency


@dataclass
class Library:
    """One vendor's asset library on this emulator: its groups (id: name) and assets."""

    groups: dict[str, str] = field(default_factory=dict)
    assets: dict[str, Made] = field(default_factory=dict)


def library(state: Any, vendor: str) -> Library:
    """The library of ``vendor`` kept on the app's ``state`` (one emulator, one account)."""
    if not hasattr(state, "asset_libraries"):
        state.asset_libraries = {}
    found: Library = state.asset_libraries.setdefault(vendor, Library())
    return found


def active(state: Any, vendor: str, now: float, latency: float) -> frozenset[str]:
    """The ids of the Active assets the control plane made for ``vendor``."""
    return frozenset(a.id for a in library(state, vendor).assets.values()
                     if a.active(now, latency))


def screen(dialect: Dialect, body: Mapping[str, Any], config: EmulatorConfig,
           made: Collection[str] = ()) -> None:
    """Refuse a submit that sends a face taken for real by URL, or a portrait not held
    (declared, ``config.portraits``, or ``made`` by the control plane and Active)."""
    target = dialect.target
    if target.faces_by_url:
        return
    content = body.get("content")
    for index, item in enumerate(content if isinstance(content, list) else ()):
        link = item.get("image_url") if isinstance(item, dict) else None
        url = link.get("url") if isinstance(link, dict) else None
        if not isinstance(url, str):
            continue
        if target.names_identity(url):
            asset = url[len(target.identity_ref("")):]
            if asset not in config.portraits and asset not in made:
                raise ApiError(400, "InvalidParameter", (
                    f"The parameter `content[{index}].image_url.url` specified in the request "
                    f"is not valid: asset {asset} does not exist or is not Active."))
        elif urlsplit(url).path.rpartition("/")[2] in config.real_faces:
            raise ApiError(400, PRIVACY, (
                f"The request failed because the input image (content[{index}]) may contain "
                "real person."))


def stand_ins(dialect: Dialect, native: dict[str, Any]) -> dict[str, Any]:
    """The native body with each portrait (``asset://ID``) as the stand-in picture."""
    media = native.get("input", {}).get("media") or []
    for item in media:
        if isinstance(item.get("url"), str) and dialect.target.names_identity(item["url"]):
            item["url"] = STAND_IN
    return native
