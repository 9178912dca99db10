"""A control-plane request into Volcengine V4 signature headers, and a signed one into its access key.

Volcengine's OpenAPI (and BytePlus's) signs each request with the account's access key id and
secret access key, a variant of AWS SigV4 (third-party: resellers' docs and open-source relays;
unverified against the vendor):

- canonical request: method, path, the query sorted by name with names and values escaped
  (RFC 3986), each signed header as ``name:value`` on a line of its own (lower-case names, in the
  signed order), the signed header names joined by ``;``, and the body's hex SHA-256, one a line;
- string to sign: ``HMAC-SHA256``, the ``X-Date`` (``YYYYMMDDTHHMMSSZ``), the credential scope
  ``{YYYYMMDD}/{region}/{service}/request`` and the canonical request's hex SHA-256, one a line;
- signing key: HMAC-SHA256 of the secret over the date, then the region, the service and
  ``request`` in turn. The secret is used as it is (``SECRET_PREFIX``: AWS prefixes ``AWS4``;
  Volcengine's SDKs, as relays copy them, do not: unverified, one value);
- ``Authorization: HMAC-SHA256 Credential={AK}/{scope}, SignedHeaders={names},
  Signature={hex}``.

The provider signs with ``signed_headers``; the emulator checks with ``verify``. Only the
signature travels: the secret never appears in a header.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import quote

__all__ = ["ALGORITHM", "SIGNED", "body_hash", "signed_headers", "verify"]

ALGORITHM = "HMAC-SHA256"
SIGNED = ("content-type", "host", "x-content-sha256", "x-date")  # the signed headers, in order
SECRET_PREFIX = ""  # put before the secret in the first HMAC (unverified: none)
SKEW = 900.0  # seconds a signature's X-Date may be off the verifier's clock


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _mac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _query(query: Mapping[str, str]) -> str:
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                    for k, v in sorted(query.items()))


def _signature(secret: str, method: str, path: str, query: Mapping[str, str],
               headers: Mapping[str, str], scope: str) -> str:
    lines = "".join(f"{name}:{headers[name].strip()}\n" for name in SIGNED)
    canonical = "\n".join([method.upper(), path or "/", _query(query), lines, ";".join(SIGNED),
                           headers["x-content-sha256"]])
    to_sign = "\n".join([ALGORITHM, headers["x-date"], scope, body_hash(canonical.encode())])
    date, region, service, last = scope.split("/")
    key = _mac((SECRET_PREFIX + secret).encode(), date)
    for part in (region, service, last):
        key = _mac(key, part)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def signed_headers(access_key: str, secret: str, *, method: str, host: str, path: str,
                   query: Mapping[str, str], body: bytes, region: str, service: str,
                   now: float | None = None) -> dict[str, str]:
    """The headers that sign one request (``Host`` is the client's own, not returned)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    headers = {"content-type": "application/json", "host": host,
               "x-content-sha256": body_hash(body), "x-date": stamp}
    scope = f"{stamp[:8]}/{region}/{service}/request"
    signature = _signature(secret, method, path, query, headers, scope)
    return {"Content-Type": headers["content-type"], "X-Date": stamp,
            "X-Content-Sha256": headers["x-content-sha256"],
            "Authorization": f"{ALGORITHM} Credential={access_key}/{scope}, "
                             f"SignedHeaders={';'.join(SIGNED)}, Signature={signature}"}


def _parts(authorization: str) -> dict[str, str]:
    algorithm, _, rest = authorization.partition(" ")
    if algorithm != ALGORITHM:
        return {}
    found = dict(part.strip().partition("=")[::2] for part in rest.split(","))
    return found if {"Credential", "SignedHeaders", "Signature"} <= set(found) else {}


def verify(headers: Mapping[str, str], *, method: str, path: str, query: Mapping[str, str],
           body: bytes, secret: str, region: str, service: str,
           now: float | None = None) -> str | None:
    """The access key a request was signed for (``headers``: lower-case names), or None when
    its signature is missing, malformed, for another region or service, stale, over another
    body, or made with another secret."""
    parts = _parts(headers.get("authorization", ""))
    access_key, _, scope = parts.get("Credential", "").partition("/")
    stamp = headers.get("x-date", "")
    if not parts or parts["SignedHeaders"] != ";".join(SIGNED) or not access_key \
            or scope != f"{stamp[:8]}/{region}/{service}/request" \
            or headers.get("x-content-sha256") != body_hash(body) \
            or any(name not in headers for name in SIGNED):
        return None
    try:
        when = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        return None
    if abs((time.time() if now is None else now) - when) > SKEW:
        return None
    expected = _signature(secret, method, path, query, headers, scope)
    return access_key if hmac.compare_digest(expected, parts["Signature"]) else None
