"""Local files into URLs the service can fetch: temporary ``oss://`` uploads, small ``data:`` URIs.

DashScope's temporary storage (spec section 2): a ``getPolicy`` call gives a signed OSS form policy
(valid 300 s), a multipart POST to its ``upload_host`` stores one file (valid 48 h, same model and
account only), and the body then names it ``oss://{key}``. Uploads are keyed by content: two paths
with the same bytes are one upload, and a file is sent again only after its copy has expired. The
object name is ``<sha256 prefix><suffix>``, so no local path ever leaves the machine.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import mimetypes
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from storyboard.errors import AuthError, MediaError, RequestRejected
from storyboard.providers.protocol import (
    ApiKey,
    error_for_exception,
    error_for_response,
    field,
    json_answer,
    number,
)

FILE_LIFETIME = 48 * 3600.0  # an uploaded file lives 48 h
FILE_MARGIN = 2 * 3600.0  # a task may wait in a queue before the service fetches its inputs
POLICY_MARGIN = 60.0  # a policy must still be valid when a slow upload reaches OSS
CHUNK = 1 << 20

# mimetypes misses some of these on minimal systems, and the service cares about the exact type.
MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".bmp": "image/bmp",
        ".webp": "image/webp", ".mp4": "video/mp4", ".mov": "video/quicktime",
        ".wav": "audio/wav", ".mp3": "audio/mpeg"}


def mime_type(path: Path) -> str:
    suffix = path.suffix.lower()
    return MIME.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise MediaError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def data_uri(path: Path) -> str:
    """``data:{mime};base64,...`` for a small image (videos and audio are never sent this way)."""
    try:
        payload = path.read_bytes()
    except OSError as exc:
        raise MediaError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return f"data:{mime_type(path)};base64,{base64.b64encode(payload).decode('ascii')}"


def object_name(path: Path, sha256: str) -> str:
    return f"{sha256[:32]}{path.suffix.lower()}"


@dataclass(frozen=True)
class Policy:
    """A signed OSS form policy from ``getPolicy``."""

    policy: str
    signature: str
    upload_dir: str
    upload_host: str
    access_key_id: str
    object_acl: str
    forbid_overwrite: str
    valid_until: float  # clock time after which it is not used any more (margin included)
    max_bytes: int | None

    def form(self, key: str) -> dict[str, str]:
        """The form fields, in the documented order; the file goes after them."""
        return {"OSSAccessKeyId": self.access_key_id, "Signature": self.signature,
                "policy": self.policy, "key": key, "x-oss-object-acl": self.object_acl,
                "x-oss-forbid-overwrite": self.forbid_overwrite, "success_action_status": "200"}


def parse_policy(answer: Mapping[str, object], now: float, *, provider: str,
                 shot: str) -> Policy:
    what = "upload policy"
    data = answer.get("data")
    if not isinstance(data, dict):
        raise RequestRejected(f"{what}: malformed answer, no 'data' object", provider=provider,
                              shot=shot)

    def need(name: str) -> str:
        return str(field(data, name, provider=provider, what=what, shot=shot))

    expires = number(data.get("expire_in_seconds"))
    size_mb = number(data.get("max_file_size_mb"))
    return Policy(policy=need("policy"), signature=need("signature"),
                  upload_dir=need("upload_dir").rstrip("/"), upload_host=need("upload_host"),
                  access_key_id=need("oss_access_key_id"),
                  object_acl=str(data.get("x_oss_object_acl") or "private"),
                  forbid_overwrite=str(data.get("x_oss_forbid_overwrite") or "true"),
                  valid_until=now + (expires if expires is not None else 300.0) - POLICY_MARGIN,
                  max_bytes=int(size_mb * 1024 * 1024) if size_mb else None)


@dataclass(frozen=True)
class Uploaded:
    url: str
    valid_until: float


class Uploads:
    """Temporary uploads for one provider instance: one per file content and model, reused."""

    def __init__(self, client: Callable[[], httpx.AsyncClient], *, provider: str, policy_url: str,
                 headers: Callable[[], dict[str, str]], key: Callable[[], ApiKey | None],
                 timeout: httpx.Timeout, clock: Callable[[], float]) -> None:
        self._client = client
        self._provider = provider
        self._policy_url = policy_url
        self._headers = headers
        self._key = key
        self._timeout = timeout
        self._clock = clock
        self._policies: dict[str, Policy] = {}
        self._done: dict[tuple[str, str], Uploaded] = {}
        self._locks: dict[object, asyncio.Lock] = {}
        self.policy_requests = 0  # for the curious (tests, stats)
        self.file_uploads = 0

    def _lock(self, key: object) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    async def url_for(self, path: Path, *, model: str, shot: str = "") -> str:
        """``oss://...`` for a local file, uploading it unless this content is already there."""
        digest = sha256_of(path)
        async with self._lock((model, digest)):  # concurrent shots sharing a file: one upload
            done = self._done.get((model, digest))
            if done is not None and done.valid_until > self._clock():
                return done.url
            url = await self._upload(path, digest, model=model, shot=shot)
            self._done[(model, digest)] = Uploaded(url, self._clock() + FILE_LIFETIME - FILE_MARGIN)
            return url

    async def _policy(self, model: str, shot: str) -> Policy:
        async with self._lock(("policy", model)):
            policy = self._policies.get(model)
            if policy is not None and policy.valid_until > self._clock():
                return policy
            what = "upload policy request"
            try:
                response = await self._client().get(
                    self._policy_url, params={"action": "getPolicy", "model": model},
                    headers=self._headers())
            except httpx.HTTPError as exc:
                raise error_for_exception(exc, provider=self._provider, what=what, shot=shot,
                                          key=self._key()) from exc
            if response.status_code >= 400:
                raise error_for_response(response, provider=self._provider, what=what, shot=shot,
                                         key=self._key())
            answer = json_answer(response, provider=self._provider, what=what, shot=shot,
                                 key=self._key())
            self.policy_requests += 1
            policy = parse_policy(answer, self._clock(), provider=self._provider, shot=shot)
            self._policies[model] = policy
            return policy

    async def _upload(self, path: Path, digest: str, *, model: str, shot: str) -> str:
        policy = await self._policy(model, shot)
        size = path.stat().st_size
        if policy.max_bytes is not None and size > policy.max_bytes:
            raise RequestRejected(f"{path.name} is {size} bytes, more than the upload limit of "
                                  f"{policy.max_bytes}", provider=self._provider, shot=shot,
                                  code="FileTooLarge")
        name = object_name(path, digest)
        key = f"{policy.upload_dir}/{name}"
        what = f"upload of {path.name}"
        try:
            with path.open("rb") as fh:  # streamed by httpx in chunks, never read whole
                # No Authorization header: the signed policy is the credential on the OSS host.
                response = await self._client().post(
                    policy.upload_host, data=policy.form(key),
                    files={"file": (name, fh, mime_type(path))}, timeout=self._timeout)
        except OSError as exc:
            raise MediaError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except httpx.HTTPError as exc:
            raise error_for_exception(exc, provider=self._provider, what=what, shot=shot,
                                      key=self._key()) from exc
        self.file_uploads += 1
        if response.status_code >= 400:
            self._upload_failed(response, model=model, what=what, shot=shot)
        return f"oss://{key}"

    def _upload_failed(self, response: httpx.Response, *, model: str, what: str,
                       shot: str) -> None:
        error = error_for_response(response, provider=self._provider, what=what, shot=shot,
                                   key=self._key())
        # The name is the content hash, so "already exists" means these very bytes are there.
        if response.status_code == 409 and error.code == "FileAlreadyExists":
            return
        if isinstance(error, AuthError):  # AccessDenied: most likely an expired policy
            self._policies.pop(model, None)
            error.detail += " (the upload policy was refused; a new one is fetched next time)"
            error.args = (error.detail,)
        raise error
