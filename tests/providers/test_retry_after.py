"""One ``Retry-After`` reader for every client (issue 95): seconds or an HTTP date, failing closed
on a value that is not a sane wait; the breakdown's chat client waits what an HTTP date says."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx
import pytest

from storyboard.breakdown.chat.client import ChatClient
from storyboard.errors import RateLimited
from storyboard.providers.protocol import ApiKey, error_for_response, retry_after
from tests.breakdown.scripted import Scripted, completion

NOW = 1_800_000_000.0


def date(seconds: float) -> str:
    return email.utils.formatdate(NOW + seconds, usegmt=True)


@pytest.mark.parametrize(("value", "wait"), [
    ("7", 7.0), ("1.5", 1.5), (" 7 ", 7.0), ("0", 0.0), ("3600", 3600.0),
    (date(120), 120.0), (date(-60), 0.0), (date(3600), 3600.0),  # a date past: at once
    (email.utils.formatdate(NOW + 30).replace("+0000", "-0000"), 30.0),  # a GMT date unmarked
    ("-1", None), ("nan", None), ("NaN", None), ("inf", None), ("-inf", None), ("1e400", None),
    ("3601", None), (date(3601), None), ("Wed, 21 Oct 2099 07:28:00 GMT", None),  # too long
    ("", None), ("soon", None), ("Wed, 32 Foo 2026", None), (None, None)])
def test_a_retry_after_is_seconds_or_a_date_and_fails_closed(value: str | None,
                                                             wait: float | None) -> None:
    headers = {} if value is None else {"Retry-After": value}
    assert retry_after(httpx.Response(429, headers=headers), now=NOW) == wait


def test_the_providers_errors_carry_the_one_readers_wait() -> None:
    answer = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"},
                            json={"code": "Throttling", "message": "slow down"})
    error = error_for_response(answer, provider="dashscope", what="submit")
    assert isinstance(error, RateLimited) and error.retry_after is None  # not 70 years


@pytest.mark.parametrize(("said", "waits"), [
    (lambda: email.utils.formatdate(time.time() + 12, usegmt=True), (9.0, 12.0)),
    (lambda: "5", (5.0, 5.0)),
    (lambda: "-5", (2.0, 2.0)),  # not believed: its own backoff, 2 s then 4 s
    (lambda: "Wed, 21 Oct 2099 07:28:00 GMT", (2.0, 2.0))])
def test_the_chat_client_waits_what_the_retry_after_says_a_date_included(
        said: Any, waits: tuple[float, float]) -> None:
    """Before: the chat client read seconds alone, so an HTTP date was 2 s of its own."""
    answers = iter([(429, {"error": {"message": "slow down"}}, {"Retry-After": said()}),
                    completion("{}")])
    slept: list[float] = []
    with Scripted(lambda _body: next(answers)) as server:
        client = ChatClient(server.base_url, ApiKey("sk-test"), sleep=slept.append)
        got = client.complete({"model": "m", "messages": []})
        client.close()
    assert got.content == "{}" and client.sent == 2 and len(slept) == 1
    assert waits[0] <= slept[0] <= waits[1], slept
