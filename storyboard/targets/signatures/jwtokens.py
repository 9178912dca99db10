"""Key pairs into short-lived HS256 tokens (JWT), and tokens back into their access key.

Kling signs no request with its key: each carries ``Authorization: Bearer <jwt>``, a JSON Web
Token signed HS256 with the secret key, whose payload names the access key (``iss``) and holds
for half an hour (``exp`` = now + 1800, ``nbf`` = now - 5; vendors.md section 4). The provider
signs with ``sign``; the emulator checks with ``verify``. The few lines of the standard library
do it (PyJWT is not a dependency). The secret never appears in a token, only its signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time

__all__ = ["LIFETIME", "sign", "verify"]

LIFETIME = 1800  # seconds a token holds
EARLY = 5  # seconds before now a token is already valid (clock skew)
_HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(value: object) -> str:
    return _b64(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())


def _mac(secret: str, signing_input: str) -> str:
    return _b64(hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest())


def sign(access_key: str, secret_key: str, now: float | None = None) -> str:
    """A token for ``access_key`` signed with ``secret_key``, valid from now for LIFETIME s."""
    stamp = int(time.time() if now is None else now)
    payload = {"iss": access_key, "exp": stamp + LIFETIME, "nbf": stamp - EARLY}
    signing_input = f"{_json(_HEADER)}.{_json(payload)}"
    return f"{signing_input}.{_mac(secret_key, signing_input)}"


def verify(token: str, secret_key: str, now: float | None = None) -> str | None:
    """The access key a token was signed for, or None when it is malformed, signed with another
    secret, not HS256, expired or not yet valid."""
    parts = token.split(".")
    if len(parts) != 3 or not hmac.compare_digest(_mac(secret_key, f"{parts[0]}.{parts[1]}"),
                                                  parts[2]):
        return None
    try:
        header, payload = json.loads(_unb64(parts[0])), json.loads(_unb64(parts[1]))
    except (ValueError, binascii.Error):
        return None
    return _claims(header, payload, time.time() if now is None else now)


def _claims(header: object, payload: object, now: float) -> str | None:
    if not isinstance(header, dict) or header.get("alg") != "HS256" \
            or not isinstance(payload, dict):
        return None
    iss, exp, nbf = payload.get("iss"), payload.get("exp"), payload.get("nbf", 0)
    if not isinstance(iss, str) or not iss or not isinstance(exp, int) \
            or not isinstance(nbf, int) or not nbf <= now < exp:
        return None
    return iss
