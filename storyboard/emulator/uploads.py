"""Upload policies and OSS form posts into stored files addressable as ``oss://{key}`` (spec 2).

A policy is what OSS issues: a base64 JSON document (expiry and conditions) signed with HMAC-SHA1.
A form post must carry the policy and signature this emulator issued, a key under the policy's
``upload_dir``, the policy's ACL and overwrite fields, and ``file`` as its last field. Errors are
OSS-style XML (``<Error><Code>AccessDenied</Code>...``), as the real upload host answers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from storyboard.emulator.state import Clock, new_id
from storyboard.files import write_atomic
from storyboard.targets.video.models import DEFAULT_MODEL

ACCESS_KEY_ID = "LTAI-storyboard-emulator"
DATA_URI = re.compile(r"^data:image/(png|jpeg|jpg|bmp|webp);base64,(.*)$", re.DOTALL)
CAPACITY_LIMIT_MB = 999999999


class OssError(Exception):
    """An OSS error answer: XML body, HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def xml(self) -> str:
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
                f"  <Code>{escape(self.code)}</Code>\n  <Message>{escape(self.message)}</Message>\n"
                f"  <RequestId>{new_id()}</RequestId>\n  <HostId>emulator</HostId>\n</Error>\n")


@dataclass(frozen=True)
class Stored:
    key: str
    path: Path
    sha256: str
    model: str


def _sign(secret: bytes, text: str) -> str:
    return base64.b64encode(hmac.new(secret, text.encode(), hashlib.sha1).digest()).decode()


class UploadStore:
    """Issued policies and uploaded files, kept under ``root``."""

    def __init__(self, root: Path, clock: Clock, *, max_file_size_mb: int) -> None:
        self.root = root
        self.clock = clock
        self.max_bytes = max_file_size_mb * 1024 * 1024
        self.max_file_size_mb = max_file_size_mb
        self._secret = secrets.token_bytes(20)
        self._models: dict[str, str] = {}  # upload_dir -> model it was issued for
        self.files: dict[str, Stored] = {}

    def policy(self, model: str, ttl: float, upload_host: str) -> dict[str, Any]:
        """The ``data`` object of the getPolicy answer."""
        now = self.clock.now()
        day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
        upload_dir = f"dashscope-instant/{secrets.token_hex(16)}/{day}/{new_id()}"
        self._models[upload_dir] = model
        expires = datetime.fromtimestamp(now + ttl, UTC).isoformat(timespec="milliseconds")
        document = {"expiration": expires.replace("+00:00", "Z"),
                    "conditions": [["content-length-range", 0, self.max_bytes],
                                   ["starts-with", "$key", upload_dir],
                                   {"x-oss-object-acl": "private"},
                                   {"x-oss-forbid-overwrite": "true"}]}
        policy = base64.b64encode(json.dumps(document).encode()).decode()
        return {"policy": policy, "signature": _sign(self._secret, policy),
                "upload_dir": upload_dir, "upload_host": upload_host,
                "expire_in_seconds": int(ttl) if float(ttl).is_integer() else ttl,
                "max_file_size_mb": self.max_file_size_mb, "capacity_limit_mb": CAPACITY_LIMIT_MB,
                "oss_access_key_id": ACCESS_KEY_ID, "x_oss_object_acl": "private",
                "x_oss_forbid_overwrite": "true"}

    def _document(self, fields: dict[str, str]) -> dict[str, Any]:
        for name in ("OSSAccessKeyId", "Signature", "policy", "key"):
            if not fields.get(name):
                raise OssError(400, "InvalidArgument", f"form field {name} is missing")
        if fields["OSSAccessKeyId"] != ACCESS_KEY_ID:
            raise OssError(403, "InvalidAccessKeyId", "The OSS Access Key Id does not exist.")
        expected = _sign(self._secret, fields["policy"])
        if not hmac.compare_digest(expected, fields["Signature"]):
            raise OssError(403, "SignatureDoesNotMatch",
                           "The request signature we calculated does not match the signature.")
        document: dict[str, Any] = json.loads(base64.b64decode(fields["policy"]))
        return document

    def _check_policy(self, document: dict[str, Any], fields: dict[str, str]) -> str:
        """Raise unless the form obeys the policy; return its upload_dir."""
        expires = datetime.fromisoformat(str(document["expiration"]).replace("Z", "+00:00"))
        if self.clock.now() > expires.timestamp():
            raise OssError(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        upload_dir = ""
        for condition in document["conditions"]:
            if isinstance(condition, list) and condition[:2] == ["starts-with", "$key"]:
                upload_dir = str(condition[2])
                if not fields["key"].startswith(upload_dir + "/"):
                    raise OssError(403, "AccessDenied", "Invalid according to Policy: "
                                   f"Policy Condition failed: [\"starts-with\", \"$key\", "
                                   f"\"{upload_dir}\"]")
            elif isinstance(condition, dict):
                for name, value in condition.items():
                    if fields.get(name) != value:
                        failed = f'["eq", "${name}", "{value}"]'
                        raise OssError(403, "AccessDenied", "Invalid according to Policy: "
                                       f"Policy Condition failed: {failed}")
        return upload_dir

    def accept(self, items: Sequence[tuple[str, str | bytes]], filename: str) -> Stored:
        """Check one form post (``items`` in order, the file's content as bytes) and store it."""
        if not items or items[-1][0] != "file" or not isinstance(items[-1][1], bytes):
            raise OssError(400, "InvalidArgument", "the form must end with the file field")
        fields = {name: value for name, value in items[:-1] if isinstance(value, str)}
        document = self._document(fields)
        upload_dir = self._check_policy(document, fields)
        content = items[-1][1]
        if len(content) > self.max_bytes:
            raise OssError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum size.")
        key = fields["key"]
        if key in self.files and fields.get("x-oss-forbid-overwrite") == "true":
            raise OssError(409, "FileAlreadyExists", "The object you specified already exists.")
        return self._store(key, filename, content, self._models.get(upload_dir, DEFAULT_MODEL))

    def _store(self, key: str, filename: str, content: bytes, model: str) -> Stored:
        digest = hashlib.sha256(content).hexdigest()
        # Named by the key's hash (keys are client text); the suffix helps ffmpeg guess formats.
        path = self.root / (hashlib.sha256(key.encode()).hexdigest() + Path(filename).suffix[:8])
        write_atomic(path, content, durable=False)  # a render may be reading the key's last
        stored = Stored(key, path, digest, model)
        self.files[key] = stored
        return stored

    def lookup(self, url: str) -> Stored | None:
        """The file an ``oss://{key}`` URL names, if it was uploaded here."""
        return self.files.get(url.removeprefix("oss://")) if url.startswith("oss://") else None

    def decoded(self, url: str) -> Stored | None:
        """The picture a ``data:image/...;base64,`` URI carries, written once under ``root``
        (named by its content's hash), so a result can draw it; None for any other URL or a
        URI that does not decode."""
        match = DATA_URI.match(url)
        if match is None:
            return None
        try:
            content = base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            return None
        digest = hashlib.sha256(content).hexdigest()
        path = self.root / f"data-{digest}.{match.group(1)}"
        if not path.exists():
            write_atomic(path, content, durable=False)
        return Stored(f"data:{digest}", path, digest, DEFAULT_MODEL)
