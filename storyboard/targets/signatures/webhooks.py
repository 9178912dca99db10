"""Webhook bodies into Standard Webhooks signatures, and signatures back into a yes or a no.

A Freepik-style gateway signs each status callback as the vendor documents it: ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``
(``whsec_`` secrets are base64). ``run.webhooks`` checks what arrives with ``verify``; the
emulator signs what it sends with ``sign``. Both sit above this module, neither above the other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

__all__ = ["TOLERANCE", "sign", "verify"]

TOLERANCE = 300.0  # seconds a signed callback stays valid


def verify(secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> bool:
    """A Standard Webhooks signature check (``whsec_`` secrets are base64)."""
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > TOLERANCE:
        return False
    key = _key(secret)
    signed = f"{msg_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [part.partition(",")[2] for part in headers.get("webhook-signature", "").split()]
    return any(hmac.compare_digest(expected, sig) for sig in offered if sig)


def sign(secret: str, msg_id: str, stamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header for ``body`` (what a gateway sends; for the emulator)."""
    signed = f"{msg_id}.{stamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()
                                    ).decode()


def _key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            pass
    return secret.encode()
