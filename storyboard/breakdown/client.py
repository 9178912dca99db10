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
the service's ``Retry-After`` (at most ``MAX_WAIT`` seconds). A dropped answer, a timeout or a 5xx
may have been generated and billed: it is reported, and the next run asks again with consent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from storyboard.errors import (
    AuthError,
    ConnectFailed,
    ProviderError,
    RateLimited,
    RequestRejected,
    ServerError,
)
from storyboard.providers.protocol import ApiKey, error_for_exception

ATTEMPTS = 3
MAX_WAIT = 30.0
TIMEOUT = httpx.Timeout(300.0, connect=10.0)  # DashScope ends a non-streaming call at 300 s
MODERATION = "data_inspection_failed"


@dataclass(frozen=True)
class Answer:
    """What the service answered: the text, why it stopped, and the usage it reported."""

    content: str
    finish_reason: str
    prompt_tokens: int = 0
    completion_tokens: int = 0

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
    sent: int = 0
    _http: httpx.Client | None = field(default=None, repr=False)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        return self._http

    def complete(self, body: dict[str, Any]) -> Answer:
        """The answer to ``body``; 429 and refused connections tried again (see the module)."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return self._once(body)
            except (RateLimited, ConnectFailed) as exc:
                if attempt == ATTEMPTS:
                    raise
                wait = 2.0 ** attempt if exc.retry_after is None else exc.retry_after
                self.sleep(min(MAX_WAIT, wait))
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, body: dict[str, Any]) -> Answer:
        url = self.base_url.rstrip("/") + "/chat/completions"
        headers = {"Authorization": f"Bearer {self.key.reveal()}"}
        self.sent += 1
        try:
            response = self._client().post(url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise error_for_exception(exc, provider=self.provider, what="the chat call",
                                      key=self.key) from exc
        if response.status_code != 200:
            raise self._error(response)
        return answer_of(response, self.provider)

    def _error(self, response: httpx.Response) -> ProviderError:
        code, message = error_fields(response)
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


def retry_after(response: httpx.Response) -> float | None:
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return seconds if 0 <= seconds < float("inf") else None


def error_fields(response: httpx.Response) -> tuple[str, str]:
    """The code and message of an error answer, in the OpenAI or the native DashScope shape."""
    try:
        data = response.json()
    except ValueError:
        return "", response.text[:200] or response.reason_phrase
    if not isinstance(data, dict):
        return "", str(data)[:200]
    error = data.get("error")
    inner: dict[str, Any] = error if isinstance(error, dict) else data
    return str(inner.get("code") or ""), str(inner.get("message") or "")[:500]


def answer_of(response: httpx.Response, provider: str) -> Answer:
    """The first choice's text, its finish reason and the usage; a malformed answer is an error."""
    try:
        data = response.json()
        choice = data["choices"][0]
        content = choice["message"]["content"] or ""
        usage = data.get("usage") or {}
        return Answer(str(content), str(choice.get("finish_reason") or ""),
                      int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ProviderError(f"the chat answer is not a chat completion: {exc!r}",
                            provider=provider) from exc
