"""How long to wait before trying again: the one retry policy.

``RetryPolicy`` is every backoff storyboard has: the runner's (``run.trip.pace.pacing``: a
provider's passing failure), the breakdown's chat client's, the queue workers' and the team
ledger's reconnects. A service's ``Retry-After`` (read by ``providers.protocol.retry_after``) is
honoured instead of the doubling.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait before the try after ``tries`` failed ones: ``base`` seconds doubled each
    try up to ``cap``; a service's ``Retry-After`` instead where it said one (up to ``cap`` too
    with ``cap_said``). ``jitter``: a random share of the doubling (full jitter, so many waiters do
    not return at once), and up to a tenth (at most a second) over a ``Retry-After``."""

    base: float = 1.0
    cap: float = 60.0
    jitter: bool = True
    cap_said: bool = False

    def delay(self, tries: int, said: float | None = None,
              rng: random.Random | None = None) -> float:
        if said:
            extra = rng.uniform(0, min(1.0, said * 0.1)) if self.jitter and rng else 0.0
            return min(self.cap, said) if self.cap_said else said + extra
        ceiling = min(self.cap, self.base * 2 ** (tries - 1))
        return rng.uniform(0, ceiling) if self.jitter and rng else ceiling
