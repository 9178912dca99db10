"""Ark's and ModelArk's asset libraries into declarations: the control plane a portrait is made on.

``identity: {ark: {asset: make}}`` (or ``modelark``) makes a character's portrait in the vendor's
asset library from its approved sheet (issue 69.2; models-2026-11.md, "Faces"). The library is
not Ark's inference API: it is the account's control plane, ``POST {host}/?Action=ACTION&
Version=VERSION`` with a JSON body, signed with the account's access key id and secret access key
(``targets.signatures.volcsign``), never with the Ark API key. Every fact below comes from third-party
sources only (resellers' docs, open-source relays) and is ONE value here, marked unverified
(``SOURCES``): a probe that reads the vendor's page changes it here and nowhere else.

- ``CreateAssetGroup`` ``{Name, GroupType: AIGC, ProjectName}`` -> ``Result.Id``; only AIGC
  groups (AI-made, virtual portraits) are made by API: a real person's face (a ``LivenessFace``
  group) goes through the vendor's own H5 liveness flow, which storyboard cannot perform.
- ``ListAssetGroups`` ``{Filter: {Name}, ProjectName, PageNumber, PageSize}`` ->
  ``Result.Items[]`` ``{Id, Name}``: storyboard's group (``GROUP_NAME``) is found before one is
  made.
- ``CreateAsset`` ``{GroupId, URL, AssetType: Image, Name}`` -> ``Result.Id`` (``asset-...``);
  the URL is a public http(s) URL the vendor fetches (no base64); ``Name`` at most 64
  characters, for search only.
- ``GetAsset`` ``{Id, ProjectName}`` -> ``Result.Status``: ``Processing``, then ``Active``
  (about 13 s for an image), when ``asset://ID`` may be sent; ``Failed``.
- Errors: ``{"ResponseMetadata": {"Error": {"Code", "Message"}}}``; ``SubscriptionRequired``
  ("This API requires an active subscription") when the account lacks the add-on (Advanced
  Creation Rights).
- An image under 30 MB, each side between 300 and 6000 px, its aspect between 0.4 and 2.5.
- No price per call is published: 0.00, stated as unverified; still planned, consented,
  journaled and made once, as every paid call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from storyboard.targets.capabilities import PriceTable
from storyboard.targets.taskapi import TaskStatus

VERSION = "2024-01-01"  # the API version every action names
SERVICE = "ark"  # the signature's service
PROJECT = "default"  # ProjectName
GROUP_NAME = "storyboard"  # the AIGC group storyboard's portraits go in, one per account
GROUP_TYPE = "AIGC"  # virtual portraits: the only group an API call may make
ASSET_TYPE = "Image"
NAME_LIMIT = 64  # characters of an asset's Name (search only)
PAGE_SIZE = 100  # groups a ListAssetGroups page
# Where each answer keeps what storyboard reads.
RESULT_ID = "Result.Id"  # CreateAssetGroup's and CreateAsset's answer
ITEMS = "Result.Items"  # ListAssetGroups' groups, each {Id, Name}
STATUS = "Result.Status"  # GetAsset's
PICTURE = "Result.URL"  # GetAsset's picture, when it shows one (else the URL it was made from)
ERROR = "ResponseMetadata.Error"  # {Code, Message}
SUBSCRIPTION = "SubscriptionRequired"  # the account lacks the asset library add-on
STATUSES: Mapping[str, TaskStatus] = {"Processing": TaskStatus.RUNNING,
                                      "Pending": TaskStatus.PENDING,
                                      "Active": TaskStatus.SUCCEEDED,
                                      "Failed": TaskStatus.FAILED}
# The picture an asset is made from.
MAX_MB = 30.0  # under
SIDES = (300, 6000)  # each side strictly between, px
ASPECTS = (0.4, 2.5)  # width over height strictly between
PORTRAIT_TASK = "portrait-"  # a made portrait's task id: this, then the asset's id
SOURCES = {"actions": "unverified", "signing": "unverified", "hosts": "unverified",
           "limits": "unverified", "price": "unverified"}
DOCS = "docs/cast.md#ark-portraits-storyboard-makes"


@dataclass(frozen=True)
class PortraitLibrary:
    """One vendor's asset library: the provider kind whose shots send its portraits, its
    control plane's host and region, the variables its key pair comes from, and the model a
    portrait asset is priced by."""

    kind: str
    host: str
    region: str
    access_key_env: str
    secret_key_env: str
    model: str
    prices: PriceTable


LIBRARIES: Mapping[str, PortraitLibrary] = {
    # Volcengine (also seen: ark.cn-beijing.volcengineapi.com)
    "ark": PortraitLibrary("ark", "https://open.volcengineapi.com", "cn-beijing",
                           "VOLC_ACCESSKEY", "VOLC_SECRETKEY", "ark-portrait",
                           PriceTable({"each": 0.0}, "CNY", input_video_cap=0.0,
                                      per="generation")),
    # BytePlus (also seen: ark.ap-southeast-1.byteplusapi.com)
    "modelark": PortraitLibrary("modelark", "https://open.byteplusapi.com", "ap-southeast-1",
                                "BYTEPLUS_ACCESSKEY", "BYTEPLUS_SECRETKEY", "modelark-portrait",
                                PriceTable({"each": 0.0}, "USD", input_video_cap=0.0,
                                           per="generation")),
}
PORTRAIT_MAKERS: Mapping[str, tuple[str, ...]] = {lib.model: (lib.kind,)
                                                  for lib in LIBRARIES.values()}
PORTRAIT_TABLES: Mapping[str, PriceTable] = {lib.model: lib.prices for lib in LIBRARIES.values()}


def library(kind: str) -> PortraitLibrary | None:
    """The asset library provider kind ``kind`` makes portraits in, or None."""
    return LIBRARIES.get(kind)


def portrait_id(task_id: str) -> str:
    """The asset's id a task id that made it names (``portrait-asset-7f`` names ``asset-7f``)."""
    return task_id.removeprefix(PORTRAIT_TASK)


def picture_problem(width: int, height: int, size: int) -> str:
    """Why a picture cannot be made an asset ("" when it can)."""
    if size >= MAX_MB * 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB, not under {MAX_MB:g} MB"
    if not all(SIDES[0] < side < SIDES[1] for side in (width, height)):
        return f"{width}x{height} px, each side not between {SIDES[0]} and {SIDES[1]} px"
    if not ASPECTS[0] < width / height < ASPECTS[1]:
        return f"{width}x{height} px, its aspect not between {ASPECTS[0]} and {ASPECTS[1]}"
    return ""


def group_body(name: str = GROUP_NAME) -> dict[str, object]:
    return {"Name": name, "GroupType": GROUP_TYPE, "ProjectName": PROJECT}


def groups_body(name: str = GROUP_NAME) -> dict[str, object]:
    return {"Filter": {"Name": name}, "ProjectName": PROJECT, "PageNumber": 1,
            "PageSize": PAGE_SIZE}


def asset_body(group: str, url: str, name: str) -> dict[str, object]:
    return {"GroupId": group, "URL": url, "AssetType": ASSET_TYPE, "Name": name[:NAME_LIMIT]}


def get_body(asset: str) -> dict[str, object]:
    return {"Id": asset, "ProjectName": PROJECT}
