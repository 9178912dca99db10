"""HTTP answers into our types: what every task-API gateway shares, kept apart from any one of them.

A gateway (DashScope native, the Freepik-style, OpenAI-style ... resellers of ``gateways.md``) is
mostly data: a ``TaskProtocol`` names its paths, its status words, its limits and its prices. The
functions here translate one HTTP exchange into our words: ``error_for_response`` and
``error_for_exception`` turn a refusal or a broken connection into the ``ProviderError`` family (the
runner retries the ``retryable`` ones), ``json_answer`` insists on a JSON object, ``number`` reads
the loosely typed numbers gateways send. ``ApiKey`` keeps a secret out of every repr and message.
"""

from __future__ import annotations

import datetime
import email.utils
import hashlib
import json
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from storyboard.errors import (
    AuthError,
    ConnectFailed,
    DownloadTooLarge,
    ListUnavailable,
    ProviderError,
    RateLimited,
    RequestRejected,
    ServerError,
    TransportError,
)
from storyboard.providers import trace
from storyboard.providers.base import DEFAULT_MAX_DOWNLOAD, MB, on_the_wire
from storyboard.providers.base import Ask as Ask  # re-exported
from storyboard.providers.base import once as once  # re-exported
from storyboard.tls import context as tls_context

SNIPPET = 300  # characters of an unexpected answer worth quoting in an error
DOWNLOAD_CHUNK = 1 << 20
BRACKETED_CODE = re.compile(r"\((\d+)\)\s*$")  # a code said at a message's end: "... (2013)"


class ApiKey:
    """A secret that never shows itself: repr and str are masked; ``scrub`` hides it in text."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def scrub(self, text: str) -> str:
        return text.replace(self._value, "***") if self._value else text

    def __repr__(self) -> str:
        return "ApiKey('***')"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # pickling would write the key somewhere: refuse
        raise TypeError("an API key cannot be pickled")


def endpoint_key(cache_key: str, base_url: str, key: ApiKey | None) -> str:
    """Who a task belongs to: the provider flavour, the base URL (without any user info) and a
    fingerprint of the key that created it (never the key): ``freepik@https://gw.example/v1#k3f9a``.
    A task is polled and looked up only where it was created (journal and ledger keep this)."""
    parts = urlsplit(base_url.rstrip("/"))
    where = urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))
    if parts.port:
        where = urlunsplit((parts.scheme, f"{parts.hostname}:{parts.port}", parts.path, "", ""))
    secret = key.reveal() if key is not None else ""
    print_ = hashlib.sha256(secret.encode()).hexdigest()[:8] if secret else "nokey"
    return f"{cache_key}@{where}#k{print_}"


def number(value: object) -> float | None:
    """A number from an int, a float or a string ("720", "10.0", " 5 s"); None when absent."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    match = re.match(r"\s*(-?\d+(?:\.\d+)?)", str(value))
    return float(match.group(1)) if match else None


MOST_RETRY_AFTER = 3600.0  # seconds: a longer Retry-After is not believed


def retry_after(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, the one reader every client uses (the
    providers' and the breakdown's chat client): delta seconds (``7``, ``1.5``) or an HTTP date
    (``Wed, 21 Oct 2026 07:28:00 GMT``; one past is 0). Fails closed: a value that is not a
    number of seconds from 0 to ``MOST_RETRY_AFTER`` nor a date within them (NaN, infinity,
    negative, an hour or more, words) is None, not believed, and the caller's own backoff holds:
    a server can neither hold a run for 70 years nor make it ask again at once."""
    value = response.headers.get("retry-after", "").strip()
    seconds: float | None
    try:
        seconds = float(value)
    except ValueError:  # not delta-seconds: an HTTP date, or nothing
        seconds = _until(value, time.time() if now is None else now)
    if seconds is None or not 0 <= seconds <= MOST_RETRY_AFTER:  # NaN fails each comparison
        return None
    return seconds


def _until(value: str, now: float) -> float | None:
    """The seconds from ``now`` to an HTTP date (0 when it is past; None: not a date)."""
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": HTTP dates are in GMT
        when = when.replace(tzinfo=datetime.UTC)
    return max(when.timestamp() - now, 0.0)


def code_and_message(response: httpx.Response) -> tuple[str, str]:
    """The service's own ``code`` and ``message`` from a JSON or OSS-style XML error body."""
    text = response.text
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    base = data.get("base_resp") if isinstance(data, dict) else None
    if isinstance(base, dict) and base.get("status_code") not in (0, "0", None):
        return str(base["status_code"]), str(base.get("status_msg") or "")  # MiniMax v1
    if isinstance(data, dict):
        error = data.get("error")
        source = error if isinstance(error, dict) else data
        code = str(source.get("code") or "")
        message = str(source.get("message") or (error if isinstance(error, str) else "") or "")
        if not code and data.get("type") == "error":  # MiniMax v2: "invalid params (2013)"
            found = BRACKETED_CODE.search(message)
            code = found.group(1) if found else str(source.get("type") or "")
        return code, message
    code_xml = re.search(r"<Code>([^<]*)</Code>", text)
    message_xml = re.search(r"<Message>([^<]*)</Message>", text)
    if code_xml or message_xml:
        return (code_xml.group(1) if code_xml else "", message_xml.group(1) if message_xml else "")
    return "", text.strip()[:SNIPPET]


QUOTA_CODES = ("Throttling.AllocationQuota",)


def error_for_response(response: httpx.Response, *, provider: str, what: str, shot: str = "",
                       key: ApiKey | None = None) -> ProviderError:
    """The error for an HTTP status >= 400: 429 waits, 5xx retries, 401/403 stops, 4xx refuses."""
    status = response.status_code
    code, message = code_and_message(response)
    text = f"{what} failed (HTTP {status})" + (f": {message}" if message else "")
    if key is not None:
        text = key.scrub(text)
        code = key.scrub(code)
    common: dict[str, Any] = {"provider": provider, "shot": shot, "code": code, "status": status}
    if status == 429 and code in QUOTA_CODES:  # used up, not busy: waiting will not bring it back
        return RequestRejected(f"{text} (the account's quota is used up; nothing more will be "
                               "submitted until it is raised)", **common)
    if status == 429:
        return RateLimited(text, retry_after=retry_after(response), **common)
    if status >= 500:
        return ServerError(text, **common)
    if status in (401, 403):
        return AuthError(text, **common)
    return RequestRejected(text, **common)


def error_for_exception(exc: Exception, *, provider: str, what: str, shot: str = "",
                        key: ApiKey | None = None) -> ProviderError:
    """The error for an httpx failure: a broken or slow connection is retryable, a bad URL not."""
    detail = str(exc) or type(exc).__name__
    if key is not None:
        detail = key.scrub(detail)
    text = f"{what} failed: {type(exc).__name__}: {detail}"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ProviderError(text + " (check the base URL)", provider=provider, shot=shot)
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        # No connection, so no request reached the server: a submit can be resent without a find.
        return ConnectFailed(text, provider=provider, shot=shot)
    if isinstance(exc, httpx.TransportError):  # read/write errors and timeouts, protocol, proxy
        return TransportError(text, provider=provider, shot=shot)
    return ProviderError(text, provider=provider, shot=shot)


def json_answer(response: httpx.Response, *, provider: str, what: str, shot: str = "",
                key: ApiKey | None = None) -> dict[str, Any]:
    """The JSON object of a successful answer; anything else is a clear ``ProviderError``."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        return data
    kind = response.headers.get("content-type", "no content type")
    snippet = response.text.strip()[:SNIPPET]
    text = f"{what}: the answer is not a JSON object (HTTP {response.status_code}, {kind}): " \
           f"{snippet!r}"
    raise ProviderError(key.scrub(text) if key else text, provider=provider, shot=shot,
                        status=response.status_code)


def field(data: Mapping[str, Any], name: str, *, provider: str, what: str,
          shot: str = "") -> Any:
    """A required field of an answer; its absence is a malformed answer, said plainly."""
    value = data.get(name)
    if value is None or value == "":
        raise ProviderError(f"{what}: malformed answer, no {name!r} in {sorted(data)}",
                            provider=provider, shot=shot)
    return value


LIST_KEYS = ("data", "tasks")  # where task list answers keep their items (dashscope 1.x, 2.x)


def list_items(answer: Mapping[str, Any], *, provider: str, shot: str = "",
               first: Any = None) -> list[Any]:
    """A task list answer's items: ``first`` (a value already read at the dialect's own path),
    else ``data``, else ``tasks``. An answer with none of them is no list at all: guessing
    "empty" would let a lost submit be paid again, so it raises ``ListUnavailable``."""
    for value in (first, *(answer.get(key) for key in LIST_KEYS)):
        if isinstance(value, list):
            return value
    raise ListUnavailable(f"task list: the answer holds no list (no 'data' or 'tasks' in "
                          f"{sorted(answer)[:10]}), so it cannot tell which tasks exist",
                          provider=provider, shot=shot, code="ListUnavailable")


tls = tls_context  # the process's one TLS context (``storyboard.tls``), as providers name it


class LazyClient:
    """An httpx client made at first use (plans need no TLS set-up), closed once; call it to get
    the client. No auth in its defaults: result and upload hosts never see a key. Each request
    is said to the run's ``Wire`` (``base.watching``) just before it goes out, and a redirect
    that leaves the origin (scheme, host, port) a request was sent to goes there without the
    provider's ``key_headers`` (httpx itself drops only ``Authorization``)."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None, timeout: httpx.Timeout,
                 key_headers: Iterable[str] = ("Authorization",)) -> None:
        self._transport, self._timeout = transport, timeout
        self._private = tuple(sorted({name.lower() for name in key_headers if name}))
        self._http: httpx.AsyncClient | None = None

    def __call__(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(transport=self._transport, timeout=self._timeout,
                                           verify=tls(), event_hooks={"request": [self._going_out],
                                                        "response": [trace.answer]})
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _going_out(self, request: httpx.Request) -> None:
        keep_home(request, self._private)
        on_the_wire()
        trace.request(request)  # storyboard --verbose: said, keys masked


HOME = "storyboard.origin"  # the request extension that remembers where a redirect chain began


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """A URL's origin: scheme, host and port (httpx leaves a scheme's default port out)."""
    return url.scheme, url.host, url.port


def keep_home(request: httpx.Request, private: tuple[str, ...]) -> None:
    """Drop ``private`` headers (lower-case names; ``x-dashscope-*`` a prefix) from a request
    sent away from the origin its chain began at. A redirected request shares its first
    request's extensions, so the first one seen is the chain's home."""
    home = request.extensions.setdefault(HOME, origin(request.url))
    if home == origin(request.url):
        return
    for name in {name.lower() for name in request.headers}:
        if any(name == p or (p.endswith("*") and name.startswith(p[:-1])) for p in private):
            del request.headers[name]


async def send(client: httpx.AsyncClient, method: str, url: str, *, provider: str, what: str,
               shot: str = "", key: ApiKey | None = None, **kwargs: Any) -> httpx.Response:
    """One request; a broken connection or an HTTP error becomes a ``ProviderError``."""
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise error_for_exception(exc, provider=provider, what=what, shot=shot, key=key) from exc
    if response.status_code >= 400:
        raise error_for_response(response, provider=provider, what=what, shot=shot, key=key)
    return response


# ---------------------------------------------------------------------------------------------
# Downloads: a result streamed to a file, every failure retryable (results live for hours)


async def download_to(client: httpx.AsyncClient, url: str, dest: Path, *, provider: str,
                      what: str, key: ApiKey | None, timeout: httpx.Timeout,
                      headers: Mapping[str, str] | None = None,
                      limit: int = DEFAULT_MAX_DOWNLOAD) -> None:
    """Stream ``url`` into ``dest``, at most ``limit`` bytes; a partial file never stays behind.
    A ``Content-Length`` over the limit is refused before a byte is read; a stream that goes
    past it is cut there (``DownloadTooLarge``)."""
    try:
        async with client.stream("GET", url, follow_redirects=True, timeout=timeout,
                                 headers=dict(headers or {})) as resp:
            if resp.status_code >= 400:
                raise download_error(resp, what, provider)
            await _save(resp, dest, what, provider, limit)
    except httpx.HTTPError as exc:
        dest.unlink(missing_ok=True)
        raise error_for_exception(exc, provider=provider, what=what, key=key) from exc
    except ProviderError:
        dest.unlink(missing_ok=True)
        raise


def download_error(response: httpx.Response, what: str, provider: str) -> ProviderError:
    """Every failed download is retryable: the video stays on the service for hours."""
    status = response.status_code
    text = f"{what} failed (HTTP {status})"
    if status == 429:
        return RateLimited(text, provider=provider, status=status)
    if status >= 500:
        return ServerError(text, provider=provider, status=status)
    return TransportError(text + " (the result URL lives 24 h)", provider=provider, status=status)


async def _save(response: httpx.Response, dest: Path, what: str, provider: str,
                limit: int) -> None:
    expected = number(response.headers.get("content-length"))
    if expected is not None and expected > limit:
        raise too_large(what, provider, limit, f"it says it holds {int(expected):,} bytes")
    try:
        with dest.open("wb") as fh:
            async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
                if fh.tell() + len(chunk) > limit:
                    raise too_large(what, provider, limit, "it sent more than that")
                fh.write(chunk)
    except OSError as exc:
        raise ProviderError(f"{what}: cannot write {dest}: {exc.strerror or exc}",
                            provider=provider) from exc
    if expected is not None and response.num_bytes_downloaded != int(expected):
        raise TransportError(f"{what}: got {response.num_bytes_downloaded} of {int(expected)} "
                             "bytes", provider=provider)


def too_large(what: str, provider: str, limit: int, why: str) -> DownloadTooLarge:
    return DownloadTooLarge(f"{what}: over its limit of {limit / MB:g} MB ({why}); stopped, "
                            "nothing kept", provider=provider, code="DownloadTooLarge")
