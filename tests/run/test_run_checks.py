"""Which failed submits may have created a task (reconcile first) and which may be retried."""

from __future__ import annotations

import pytest

from storyboard.errors import (
    AuthError,
    ConnectFailed,
    RateLimited,
    RequestRejected,
    ServerError,
    TransportError,
)
from storyboard.run.trip.guards.verdicts import is_ambiguous, retryable


@pytest.mark.parametrize(("error", "ambiguous", "again"), [
    (ConnectFailed("refused"), False, True),  # never connected: nothing reached the service
    (TransportError("reset mid-answer"), True, True),  # the request may have arrived
    (TimeoutError(), True, True),
    (ServerError("bad gateway", status=502), True, True),  # a gateway answered, not the service
    (ServerError("gateway timeout", status=504), True, True),
    (ServerError("internal", status=500), False, True),  # the service itself answered: no task
    (RateLimited("slow down", retry_after=3), False, True),
    (RequestRejected("InvalidParameter"), False, False),
    (AuthError("InvalidApiKey"), False, False),
    (RuntimeError("a bug"), True, True),  # it tells us nothing: assume the worst
])
def test_submit_failures(error: BaseException, ambiguous: bool, again: bool) -> None:
    assert is_ambiguous(error) is ambiguous
    assert retryable(error) is again
