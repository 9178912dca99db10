"""Portrait asset shots into Ark's asset library calls: a character's sheet made an ``asset://`` portrait.

A gateway whose kind has an asset library (``targets.cast.arkassets``: Ark's on Volcengine, ModelArk's
on BytePlus) answers a portrait asset's ``submit``, ``query`` and ``find`` here, on the account's
control plane (``POST {assets_url}/?Action=...&Version=...``), each request signed with the
account's key pair (``targets.signatures.volcsign``): the access key id and the secret come from the
variables the provider block names (``access_key_env``, ``secret_key_env``), are read from the
environment at each call, and go only to the control plane's host (never to Ark's inference
host, never in a message, the journal or the lock).

- ``submit``: the storyboard group (``ListAssetGroups``, else ``CreateAssetGroup``), then
  ``CreateAsset`` with the sheet's public URL; the task id is ``portrait-<asset id>``, so the
  runner journals it before anything else and a resumed run polls the same asset.
- ``query``: ``GetAsset``; ``Active`` is done, its file the picture it was made from.
- ``find``: no list of assets is known, so a create whose answer was lost is not looked up
  (``NeverListed``): the runner stops it as possibly made, never creating another by itself.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import httpx

from storyboard.dialects.base import get
from storyboard.errors import (
    AuthError,
    NeverListed,
    ProviderError,
    RateLimited,
    RequestRejected,
    ServerError,
    UnreadAnswer,
)
from storyboard.files import state_folder, write_atomic
from storyboard.language.request import CompiledShot, MediaRef
from storyboard.media import imagehead
from storyboard.media.imagehead import sniff
from storyboard.providers.protocol import ApiKey, LazyClient, error_for_exception
from storyboard.targets import TaskState, TaskStatus
from storyboard.targets.cast.arkassets import (
    DOCS,
    ERROR,
    GROUP_NAME,
    ITEMS,
    PICTURE,
    PORTRAIT_TASK,
    RESULT_ID,
    SERVICE,
    STATUS,
    STATUSES,
    SUBSCRIPTION,
    VERSION,
    PortraitLibrary,
    asset_body,
    get_body,
    group_body,
    groups_body,
    library,
    picture_problem,
    portrait_id,
)
from storyboard.targets.signatures import volcsign

AUTH_CODES = ("SignatureDoesNotMatch", "InvalidAccessKey", "InvalidCredential",
              "MissingAuthenticationToken", "AccessDenied", "InvalidAuthorization")


class Owner(Protocol):
    """What the portrait calls need of the gateway that sends them: its name and public URLs."""

    name: str

    def public_url(self, ref: MediaRef, shot: str) -> str: ...


class PortraitCalls:
    """One account's asset library (``library``) at ``url``, signed with the key pair in the
    variables ``keys`` names; the URL each asset was made from kept under ``work_dir``."""

    def __init__(self, owner: Owner, library: PortraitLibrary, url: str,
                 keys: tuple[str, str], client: LazyClient, work_dir: Path) -> None:
        self.owner, self.library, self.url, self.keys = owner, library, url.rstrip("/"), keys
        self.client, self.work_dir = client, work_dir
        self._group = ""

    def asking(self, owner: Owner) -> PortraitCalls:
        calls = copy.copy(self)
        calls.owner = owner
        return calls

    # -- credentials -------------------------------------------------------------------------

    def missing(self) -> str:
        """Why no call can be signed ("" when both variables are set)."""
        unset = [name for name in self.keys if not os.environ.get(name, "").strip()]
        if not unset:
            return ""
        return (f"{' and '.join(unset)} {'is' if len(unset) == 1 else 'are'} not set: "
                f"{self.owner.name}'s asset library is signed with the account's access key id "
                f"({self.keys[0]}) and secret access key ({self.keys[1]}), not the API key; "
                f"export them, or name other variables with provider.access_key_env and "
                f"provider.secret_key_env ({DOCS})")

    def _pair(self, shot: str) -> tuple[str, ApiKey]:
        problem = self.missing()
        if problem:
            raise AuthError(problem, provider=self.owner.name, shot=shot, code="MissingApiKey")
        access, secret = (os.environ[name].strip() for name in self.keys)
        return access, ApiKey(secret)

    # -- one signed call ---------------------------------------------------------------------

    async def call(self, action: str, body: dict[str, Any], shot: str = "") -> dict[str, Any]:
        """One action's answer, or the ``ProviderError`` its error says."""
        access, secret = self._pair(shot)
        data = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        query = {"Action": action, "Version": VERSION}
        parts = urlsplit(self.url)
        path = (parts.path or "") + "/"
        headers = volcsign.signed_headers(access, secret.reveal(), method="POST",
                                          host=parts.netloc, path=path, query=query, body=data,
                                          region=self.library.region, service=SERVICE)
        what = f"{self.owner.name} asset library {action}"
        try:
            response = await self.client().request(
                "POST", f"{self.url}/?{urlencode(query)}", content=data, headers=headers)
        except httpx.HTTPError as exc:
            raise error_for_exception(exc, provider=self.owner.name, what=what, shot=shot,
                                      key=secret) from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise self._error(what, shot, response.status_code, "", "the answer is not JSON")
        error = get(answer, ERROR)
        if isinstance(error, dict) or response.status_code >= 400:
            error = error if isinstance(error, dict) else {}
            raise self._error(what, shot, response.status_code, str(error.get("Code") or ""),
                              str(error.get("Message") or ""))
        return answer

    def _error(self, what: str, shot: str, status: int, code: str, message: str
               ) -> ProviderError:
        """An error answer as the runner reads it, naming the fix; it never shows a key."""
        said = f"{what} failed (HTTP {status}{', ' + code if code else ''})" + \
            (f": {message}" if message else "")
        for name in self.keys:  # an answer is untrusted: it never echoes a key into a message
            value = os.environ.get(name, "").strip()
            said = ApiKey(value).scrub(said) if value else said
        common: dict[str, Any] = {"provider": self.owner.name, "shot": shot, "code": code,
                                  "status": status}
        if code == SUBSCRIPTION:
            return RequestRejected(
                f"{said}; the account lacks the asset library add-on (Advanced Creation "
                f"Rights): subscribe to it in the {self.owner.name} console, then render again "
                f"(the keys are fine; {DOCS})", **common)
        if code in AUTH_CODES or status in (401, 403):
            return AuthError(f"{said}; check {self.keys[0]} and {self.keys[1]}: the account's "
                             f"access key id and its secret access key, for "
                             f"{self.library.region}", **common)
        if status == 429:
            return RateLimited(said, **common)
        if status >= 500:
            return ServerError(said, **common)
        return RequestRejected(said, **common)

    # -- submit ------------------------------------------------------------------------------

    async def submit(self, shot: CompiledShot) -> str:
        asset = shot.asset
        assert asset is not None and asset.refs
        ref = asset.refs[0]
        if ref.asset is not None:
            raise ProviderError(f"reference {ref.asset} was not resolved to a file",
                                provider=self.owner.name, shot=shot.id)
        self._check_picture(ref, shot.id)
        url = self.owner.public_url(ref, shot.id)
        group = await self._group_id(shot.id)
        answer = await self.call("CreateAsset", asset_body(group, url, asset.name), shot.id)
        made = get(answer, RESULT_ID)
        if not isinstance(made, str) or not made:
            raise UnreadAnswer(f"{self.owner.name} asset library CreateAsset: an answer that is "
                               f"neither an asset nor a documented refusal (no id at "
                               f"{RESULT_ID})", provider=self.owner.name, shot=shot.id,
                               code="UnreadAnswer")
        self._keep(made, url)
        return PORTRAIT_TASK + made

    def _check_picture(self, ref: MediaRef, shot: str) -> None:
        """The sheet held to the library's limits before anything is sent."""
        if ref.path is None:
            return
        try:
            with ref.path.open("rb") as handle:
                head = handle.read(16)
            weight = ref.path.stat().st_size
        except OSError as exc:
            raise ProviderError(f"{ref.path.name} cannot be read: {exc.strerror}",
                                provider=self.owner.name, shot=shot) from exc
        size = imagehead.size(ref.path, sniff(head))
        problem = picture_problem(*size, weight) if size else \
            "not a picture whose size can be read"
        if problem:
            raise RequestRejected(f"{ref.path.name}: {problem}; the asset library takes an "
                                  "image under 30 MB, each side 300-6000 px, aspect 0.4-2.5",
                                  provider=self.owner.name, shot=shot, code="InvalidPicture")

    async def _group_id(self, shot: str) -> str:
        """Storyboard's AIGC group on the account: found by name, else made (once a process)."""
        if not self._group:
            listed = get(await self.call("ListAssetGroups", groups_body(), shot), ITEMS)
            found = [i.get("Id") for i in (listed if isinstance(listed, list) else [])
                     if isinstance(i, dict) and i.get("Name") == GROUP_NAME]
            if found and isinstance(found[0], str) and found[0]:
                self._group = found[0]
            else:
                made = get(await self.call("CreateAssetGroup", group_body(), shot), RESULT_ID)
                if not isinstance(made, str) or not made:
                    raise UnreadAnswer(f"{self.owner.name} asset library CreateAssetGroup: no "
                                       f"group id at {RESULT_ID}", provider=self.owner.name,
                                       shot=shot, code="UnreadAnswer")
                self._group = made
        return self._group

    # -- query and find ----------------------------------------------------------------------

    async def query(self, task_id: str) -> TaskState:
        own = portrait_id(task_id)
        answer = await self.call("GetAsset", get_body(own))
        word = get(answer, STATUS)
        status = STATUSES.get(str(word), TaskStatus.UNKNOWN)
        note = "" if status is not TaskStatus.UNKNOWN else f"unrecognised asset status {word!r}"
        url = get(answer, PICTURE) if status is TaskStatus.SUCCEEDED else None
        if status is TaskStatus.SUCCEEDED and not (isinstance(url, str) and url):
            url = self._kept(own)  # the picture it was made from
        return TaskState(task_id, status, video_url=str(url) if url else None, message=note,
                         raw=dict(answer))

    async def find(self, shot: CompiledShot, since: float) -> list[TaskState]:
        raise NeverListed(f"{self.owner.name} asset library: no list of its assets is known, so "
                          "a CreateAsset whose answer was lost cannot be looked up (the asset "
                          "may exist)", provider=self.owner.name, shot=shot.id,
                          code="ListUnavailable", adopt_as=f"{PORTRAIT_TASK}ASSET_ID",
                          found_in="ASSET_ID: the asset's id in the account's asset library, "
                          "in the console")

    # -- what is kept ------------------------------------------------------------------------

    def _file(self, asset: str) -> Path:
        """Where the URL an asset was made from is kept (its id, untrusted, made a safe name)."""
        return self.work_dir / "portraits" / (re.sub(r"[^A-Za-z0-9_.-]", "_", asset) + ".json")

    def _keep(self, asset: str, url: str) -> None:
        path = self._file(asset)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            state_folder(path.parent)
            write_atomic(path, json.dumps({"url": url}).encode(), durable=False)
        except OSError:
            return

    def _kept(self, asset: str) -> str | None:
        try:
            kept = json.loads(self._file(asset).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        url = kept.get("url") if isinstance(kept, dict) else None
        return url if isinstance(url, str) else None


def portrait_calls(owner: Owner, settings: Mapping[str, str], root: Path,
                   transport: httpx.AsyncBaseTransport | None, timeout: float
                   ) -> PortraitCalls | None:
    """The asset library calls of provider kind ``owner.name`` (None: it has no library), on
    the control plane and key pair ``settings`` names (the provider block's, else the
    library's own), with a client of their own: no header of the gateway's goes there."""
    own = library(owner.name)
    if own is None:
        return None
    url = settings.get("assets_url") or own.host
    keys = (settings.get("access_key_env") or own.access_key_env,
            settings.get("secret_key_env") or own.secret_key_env)
    client = LazyClient(transport, httpx.Timeout(timeout), ("Authorization", "X-Date",
                                                            "X-Content-Sha256"))
    return PortraitCalls(owner, own, url, keys, client, root / ".storyboard" / owner.name)
