"""Signed asset library actions into portraits: the emulator's Ark and ModelArk control plane.

    POST /volc/{ark|modelark}/?Action=ACTION&Version=2024-01-01     a JSON body, signed

Each request's Volcengine V4 signature is verified (``targets.signatures.volcsign``) against the emulator's
``asset_secret`` (else its ``api_key``) as the account's secret access key, in the library's own
region and service: a wrong secret, another region, a changed body or a stale date is a 401
``SignatureDoesNotMatch``. With
``asset_library`` off the account lacks the add-on: every action is a 400
``SubscriptionRequired``. ``CreateAssetGroup`` and ``ListAssetGroups`` keep AIGC groups;
``CreateAsset`` checks its body (a group of this account, a public http(s) URL, ``Image``, a
name of at most 64 characters), fetches the picture with ``fetch_media``, and makes an asset that
is ``Processing`` for ``latency`` seconds, then ``Active`` (``GetAsset``). An Active asset is a
portrait the vendor's Seedance takes as ``asset://ID`` (``portraits.screen``), on its own
vendor only. Every fact is ``targets.cast.arkassets``' (unverified); creates are counted as
``requests["portrait"]``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storyboard.emulator.gateways import portraits
from storyboard.emulator.gateways.routes import fetch_media
from storyboard.emulator.service import Service
from storyboard.emulator.state import new_id
from storyboard.emulator.validate import ApiError
from storyboard.targets.cast.arkassets import (
    ASSET_TYPE,
    GROUP_TYPE,
    LIBRARIES,
    NAME_LIMIT,
    SERVICE,
    SUBSCRIPTION,
    VERSION,
    PortraitLibrary,
)
from storyboard.targets.signatures import volcsign

PREFIX = "/volc"
_GROUPS = itertools.count(1)
_ASSETS = itertools.count(7001)


def base_path(vendor: str) -> str:
    return f"{PREFIX}/{vendor}"


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _fail(status: int, code: str, message: str) -> Response:
    return JSONResponse({"ResponseMetadata": {"RequestId": new_id(), "Error": {
        "Code": code, "Message": message}}}, status_code=status)


def _answer(action: str, library: PortraitLibrary, result: dict[str, Any]) -> Response:
    return JSONResponse({"ResponseMetadata": {"RequestId": new_id(), "Action": action,
                                              "Version": VERSION, "Service": SERVICE,
                                              "Region": library.region}, "Result": result})


def _signed(request: Request, body: bytes, library: PortraitLibrary) -> bool:
    """Whether the request is signed for this library (with the configured secret, if any)."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    config = _service(request).config
    secret = config.asset_secret or config.api_key
    if secret is None:
        return headers.get("authorization", "").startswith(volcsign.ALGORITHM + " ")
    query = {k: v[-1] for k, v in parse_qs(request.url.query, keep_blank_values=True).items()}
    return volcsign.verify(headers, method=request.method, path=request.url.path, query=query,
                           body=body, secret=secret, region=library.region,
                           service=SERVICE) is not None


async def control(request: Request) -> Response:
    library = LIBRARIES.get(str(request.path_params["vendor"]))
    if library is None:
        return _fail(404, "NotFound", f"No route {request.url.path}.")
    raw = await request.body()
    if not _signed(request, raw, library):
        return _fail(401, "SignatureDoesNotMatch", "The request signature we calculated does "
                     "not match the signature you provided. Check your Secret Access Key.")
    if not _service(request).config.asset_library:
        return _fail(400, SUBSCRIPTION, "This API requires an active subscription")
    action, version = request.query_params.get("Action"), request.query_params.get("Version")
    handler = ACTIONS.get(str(action))
    if handler is None or version != VERSION:
        return _fail(400, "InvalidActionOrVersion",
                     f"Could not find operation {action} for version {version}.")
    try:
        body = json.loads(raw)
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        return _fail(400, "InvalidParameter", "The request body is not a JSON object.")
    try:
        return _answer(str(action), library, await handler(request, library.kind, body))
    except ApiError as exc:
        return _fail(exc.status, exc.code, exc.message)


def _bad(message: str) -> ApiError:
    return ApiError(400, "InvalidParameter", message)


async def create_group(request: Request, vendor: str, body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("Name")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_LIMIT:
        raise _bad(f"Name must be 1 to {NAME_LIMIT} characters")
    if body.get("GroupType") != GROUP_TYPE:
        raise _bad(f"GroupType {body.get('GroupType')!r}: only {GROUP_TYPE} groups are made "
                   "by API (a real person's face goes through the liveness flow)")
    group = f"group-{next(_GROUPS):04d}"
    portraits.library(request.app.state, vendor).groups[group] = name
    return {"Id": group}


async def list_groups(request: Request, vendor: str, body: dict[str, Any]) -> dict[str, Any]:
    wanted = body.get("Filter", {}).get("Name") if isinstance(body.get("Filter"), dict) else None
    groups = portraits.library(request.app.state, vendor).groups
    items = [{"Id": group, "Name": name, "GroupType": GROUP_TYPE}
             for group, name in groups.items() if wanted in (None, name)]
    return {"Items": items, "TotalCount": len(items)}


async def create_asset(request: Request, vendor: str, body: dict[str, Any]) -> dict[str, Any]:
    held = portraits.library(request.app.state, vendor)
    url, name = body.get("URL"), body.get("Name", "")
    if body.get("GroupId") not in held.groups:
        raise _bad(f"GroupId {body.get('GroupId')!r} is not a group of this account")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise _bad("URL must be a public http(s) URL (base64 is not accepted)")
    if body.get("AssetType") != ASSET_TYPE or not isinstance(name, str) \
            or len(name) > NAME_LIMIT:
        raise _bad(f"AssetType must be {ASSET_TYPE} and Name at most {NAME_LIMIT} characters")
    service = _service(request)
    if service.config.fetch_media:
        await fetch_media([{"url": url}])
    asset = portraits.Made(f"asset-{next(_ASSETS)}", str(body["GroupId"]), url, name,
                           service.clock.now())
    held.assets[asset.id] = asset
    return {"Id": asset.id}


async def get_asset(request: Request, vendor: str, body: dict[str, Any]) -> dict[str, Any]:
    asset = portraits.library(request.app.state, vendor).assets.get(str(body.get("Id")))
    if asset is None:
        raise ApiError(404, "NotFound", f"asset {body.get('Id')!r} does not exist")
    service = _service(request)
    active = asset.active(service.clock.now(), service.config.latency)
    return {"Id": asset.id, "GroupId": asset.group, "Name": asset.name, "URL": asset.url,
            "AssetType": ASSET_TYPE, "Status": "Active" if active else "Processing"}


ACTIONS = {"CreateAssetGroup": create_group, "ListAssetGroups": list_groups,
           "CreateAsset": create_asset, "GetAsset": get_asset}
COUNTED = {"CreateAsset": "portrait", "GetAsset": "portrait-query",
           "CreateAssetGroup": "portrait-group", "ListAssetGroups": "portrait-groups"}


def routes() -> list[Route]:
    return [Route(base_path("{vendor}") + "/", control, methods=["POST"])]


def endpoint_of(method: str, path: str, query: bytes) -> str | None:
    """Which counted endpoint a control-plane request is: ``portrait`` (a CreateAsset), ..."""
    vendor = path.removeprefix(PREFIX + "/").rstrip("/")
    if method != "POST" or not path.startswith(PREFIX + "/") or vendor not in LIBRARIES:
        return None
    action = parse_qs(query.decode("latin-1")).get("Action", [""])[-1]
    return COUNTED.get(action)
