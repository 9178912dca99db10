"""A chat request into an answer: one POST to an OpenAI-compatible ``/chat/completions``, over httpx.

Plain httpx, not the official ``openai`` client, for three reasons (docs/breakdown.md says them
too): every call is paid, and the official client retries by itself (up to three attempts, each
billed, a 429 for quota and a timeout included), so here every attempt is the project's decision;
httpx is already the one HTTP library of ``providers`` and ``run``, where its errors are translated
into the ``ProviderError`` family (``providers.protocol``), so no second SDK is installed to call one
endpoint; and the body is the documented Chat Completions body, which any compatible endpoint
takes. The tests hold the emulator to the official client as well.

What is sent again: only what cannot have been billed. A refused connection (``ConnectFailed``)
and a 429 (the service refused to start) are tried again, at most ``ATTEMPTS`` times in all, after
``BACKOFF`` (the run's ``RetryPolicy``): 2, 4 seconds, or the service's ``Retry-After``
(``protocol.retry_after``: seconds or an HTTP date), at most ``MAX_WAIT`` seconds. A dropped
answer, a timeout or a 5xx may have been generated and billed: it is reported, and the next run
asks again with consent.

What is read: at most ``Limits.max_bytes`` of an answer (a larger or endless one is cut off and
refused), within ``Limits.deadline`` seconds for the whole call (each read waits only for what is
left of it, so an answer trickled a byte at a time ends too), parsed by ``reading.loads`` (deep or
non-finite JSON refused). A streamed answer (``stream: true``, server-sent events as
OpenAI-compatible servers send them) is put together from its chunks, each one reported to
``progress``; a ``watch`` may stop reading it (the asker stops an answer that loops, ``cutshort``),
which closes the connection. ``usage`` is untrusted: a count that is not a whole number >= 0 is
read as None (the asker counts that call at its ceiling).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from storyboard import tls
from storyboard.backoff import RetryPolicy
from storyboard.breakdown.chat.pace import DeadlinePassed
from storyboard.breakdown.chat.streaming import Watch, streamed, unwatched
from storyboard.breakdown.state.reading import loads
from storyboard.errors import (
    AuthError,
    ConnectFailed,
    ProviderError,
    RateLimited,
    RequestRejected,
    ServerError,
)
from storyboard.providers import trace
from storyboard.providers.protocol import ApiKey, error_for_exception, retry_after

ATTEMPTS = 3
MAX_WAIT = 30.0
# 2, 4, ... seconds between attempts, or the service's Retry-After, never over MAX_WAIT
BACKOFF = RetryPolicy(base=2.0, cap=MAX_WAIT, jitter=False, cap_said=True)
CONNECT = 10.0
MODERATION = "data_inspection_failed"
MOST_TOKENS = 10**9  # a usage count above this is not a count
STREAM_FACTOR = 64  # a stream's bytes per byte of its text, at most (a token an event)
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Limits:
    """How long one call may take in all (seconds) and how large its answer may be (bytes)."""

    deadline: float = 600.0
    max_bytes: int = 4 * 1024 * 1024


def count(value: object) -> int | None:
    """A usage count, or None when it is not a whole number from 0 to ``MOST_TOKENS``."""
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MOST_TOKENS
    return value if ok else None  # type: ignore[return-value]


@dataclass(frozen=True)
class Answer:
    """What the service answered: the text, why it stopped, and the usage it reported (None: a
    count that is missing or not a whole number >= 0)."""

    content: str
    finish_reason: str
    prompt_tokens: int | None = 0
    completion_tokens: int | None = 0
    usage_given: bool = True  # False: the answer carried no usage at all

    @property
    def usage_ok(self) -> bool:
        return self.prompt_tokens is not None and self.completion_tokens is not None

    def record(self) -> dict[str, Any]:
        return {"content": self.content, "finish_reason": self.finish_reason,
                "usage": {"prompt_tokens": self.prompt_tokens,
                          "completion_tokens": self.completion_tokens}}


@dataclass
class ChatClient:
    """One endpoint and key. ``sent`` counts the requests that went on the wire."""

    base_url: str
    key: ApiKey
    provider: str = "breakdown"
    sleep: Callable[[float], None] = time.sleep
    limits: Limits = field(default_factory=Limits)
    sent: int = 0
    _http: httpx.Client | None = field(default=None, repr=False)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(follow_redirects=False, verify=tls.context())
        return self._http

    def complete(self, body: dict[str, Any], progress: Progress = lambda _n: None,
                 watch: Watch = unwatched, deadline: float | None = None,
                 said: str = "the breakdown's deadline setting") -> Answer:
        """The answer to ``body`` within ``deadline`` seconds (None: ``Limits.deadline``; ``said``:
        where that figure came from, for its message); 429 and refused connections tried again
        (see the module); ``watch`` may stop a streamed answer (``streaming``)."""
        clock = (deadline or self.limits.deadline, said)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return self._once(body, progress, watch, clock)
            except (RateLimited, ConnectFailed) as exc:
                if attempt == ATTEMPTS:
                    raise
                self.sleep(BACKOFF.delay(attempt, exc.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, body: dict[str, Any], progress: Progress, watch: Watch,
              timing: tuple[float, str]) -> Answer:
        url = self.base_url.rstrip("/") + "/chat/completions"
        headers = {"Authorization": f"Bearer {self.key.reveal()}"}
        clock = Clock(timing[0], timing[1])
        try:  # the deadline may pass while the request is built: said with its figure too
            request = self._client().build_request(
                "POST", url, json=body, headers=headers,
                timeout=httpx.Timeout(clock.left(), connect=min(CONNECT, clock.left())))
            self.sent += 1
            trace.request(request)  # storyboard --verbose: said, the key masked
            response = self._client().send(request, stream=True)
            try:
                return self._answer(response, Bounded(response, request, clock,
                                                      self.limits.max_bytes), progress, watch)
            except ProviderError as error:  # its words may come from the answer: never the key
                error.detail = self.key.scrub(error.detail)
                raise
            finally:
                response.close()
        except (httpx.HTTPError, TimeoutError) as exc:
            raise self._failed(exc, clock) from exc

    def _failed(self, exc: Exception, clock: Clock) -> ProviderError:
        late = isinstance(exc, TimeoutError | httpx.ReadTimeout | httpx.WriteTimeout)
        if late or clock.over():
            return DeadlinePassed(f"the chat call passed its deadline of {shown(clock.deadline)} s "
                                  f"({clock.said}) before its answer was whole",
                                  provider=self.provider, deadline=clock.deadline)
        return error_for_exception(exc, provider=self.provider, what="the chat call",
                                   key=self.key)

    def _answer(self, response: httpx.Response, bounded: Bounded, progress: Progress,
                watch: Watch) -> Answer:
        if response.status_code != 200:
            raw = bounded.read()
            trace.answered(response, raw)
            raise self._error(response, raw)
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            bounded.most = self.limits.max_bytes * STREAM_FACTOR  # each piece in an event
            pieces = streamed(bounded.lines(), self.provider, progress, self.limits.max_bytes,
                              watch)
            usage = pieces.usage
            text = "".join(pieces.text)
            trace.answered(response, text.encode())
            return Answer(text, pieces.finish, count(usage.get("prompt_tokens")),
                          count(usage.get("completion_tokens")), bool(usage))
        raw = bounded.read()
        trace.answered(response, raw)
        return answer_of(raw, self.provider)

    def _error(self, response: httpx.Response, raw: bytes) -> ProviderError:
        code, message = error_fields(raw, response.reason_phrase)
        text = self.key.scrub(f"HTTP {response.status_code}: {message}")
        status = response.status_code
        kind: type[ProviderError] = RequestRejected
        if status == 429:
            kind = RateLimited
        elif status in (401, 403):
            kind = AuthError
        elif status >= 500:
            kind = ServerError
        if code == MODERATION:
            text += " (the service's moderation refused the text: change the words, asking " \
                    "again gives the same answer)"
        return kind(text, provider=self.provider, code=code, status=status,
                    retry_after=retry_after(response))


class Clock:
    """The time left of one call's deadline (``said``: where the figure came from)."""

    def __init__(self, deadline: float, said: str = "") -> None:
        self.deadline, self.said = deadline, said
        self.ends = time.monotonic() + deadline

    def over(self) -> bool:
        return time.monotonic() >= self.ends

    def left(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"passed its deadline of {self.deadline:g} s")
        return left


@dataclass
class Bounded:
    """A response's body read within the call's deadline and the size limit."""

    response: httpx.Response
    request: httpx.Request
    clock: Clock
    most: int

    def chunks(self) -> Iterator[bytes]:
        total = 0
        timeouts = self.request.extensions.get("timeout", {})
        for chunk in self.response.iter_bytes():
            total += len(chunk)
            if total > self.most:
                raise too_large(self.most)
            left = self.clock.left()
            if isinstance(timeouts, dict):  # each read waits only for what is left
                timeouts["read"] = left
            yield chunk

    def read(self) -> bytes:
        return b"".join(self.chunks())

    def lines(self) -> Iterator[str]:
        rest = b""
        for chunk in self.chunks():
            rest += chunk
            *whole, rest = rest.split(b"\n")
            for line in whole:
                yield line.decode("utf-8", "replace").rstrip("\r")
        if rest:
            yield rest.decode("utf-8", "replace")


def shown(seconds: float) -> str:
    """Seconds as a message says them: ``1,800``, ``0.5``."""
    return f"{seconds:,.0f}" if seconds >= 100 else f"{seconds:g}"


def too_large(most: int) -> ProviderError:
    return ProviderError(f"the chat answer passed {most:,} bytes and was cut off (the "
                         "breakdown's max_answer_mb setting)", provider="breakdown")


def error_fields(raw: bytes, reason: str = "") -> tuple[str, str]:
    """The code and message of an error answer, in the OpenAI or the native DashScope shape."""
    try:
        data = loads(raw, finite=False)
    except ValueError:
        return "", raw[:200].decode("utf-8", "replace") or reason
    if not isinstance(data, dict):
        return "", str(data)[:200]
    error = data.get("error")
    inner: dict[str, Any] = error if isinstance(error, dict) else data
    return str(inner.get("code") or ""), str(inner.get("message") or "")[:500]


def answer_of(raw: bytes, provider: str) -> Answer:
    """The first choice's text, its finish reason and the usage; a malformed answer is an error."""
    try:
        data = loads(raw, finite=False)
        choice = data["choices"][0]
        content = choice["message"]["content"] or ""
        usage = data.get("usage")
        given = isinstance(usage, dict) and bool(usage)
        usage = usage if isinstance(usage, dict) else {}
        return Answer(str(content), str(choice.get("finish_reason") or ""),
                      count(usage.get("prompt_tokens")), count(usage.get("completion_tokens")),
                      given)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ProviderError(f"the chat answer is not a chat completion: {exc}",
                            provider=provider) from exc


STATED_MOST = 1_000_000  # bytes of a server's description read at most


def described(url: str, deadline: float = 5.0) -> Any:
    """The JSON a GET of ``url`` answers (None: no answer, not 200, too large or not JSON): a
    local server's description of itself (``fitting.probed``), asked with no key."""
    try:
        with httpx.stream("GET", url, timeout=deadline, verify=tls.context()) as response:
            if response.status_code != 200:
                return None
            raw = b""
            for chunk in response.iter_bytes():
                raw += chunk
                if len(raw) > STATED_MOST:
                    return None
        return loads(raw)
    except (httpx.HTTPError, ValueError):
        return None
