"""The query bucket's waiters served by rank: when polls are scarce, the task polled longest is
asked first (``pacing.TokenBucket``, ``poll.Poller``), and a cancelled waiter passes its turn on."""

from __future__ import annotations

import asyncio

from storyboard.run.trip.pace.gates import TokenBucket


class FakeTime:
    """A clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def test_scarce_tokens_go_to_the_lowest_rank_first() -> None:
    async def go() -> list[float]:
        time = FakeTime()
        bucket = TokenBucket(1.0, 1, time.clock, time.sleep)
        await bucket.take()  # the one token: every taker below waits
        served: list[float] = []

        async def take(rank: float) -> None:
            await bucket.take(rank)
            served.append(rank)

        takers = [asyncio.create_task(take(rank)) for rank in (30.0, 10.0, 20.0, 10.0, 5.0)]
        await asyncio.gather(*takers)
        return served

    # 30 came first and holds the bucket while it waits for the first token; then by rank
    # (equal ranks in arrival order)
    assert asyncio.run(go()) == [30.0, 5.0, 10.0, 10.0, 20.0]


def test_a_cancelled_waiter_passes_its_turn_on() -> None:
    async def go() -> list[str]:
        time = FakeTime()
        bucket = TokenBucket(1.0, 1, time.clock, time.sleep)
        await bucket.take()
        served: list[str] = []

        async def take(name: str, rank: float) -> None:
            await bucket.take(rank)
            served.append(name)

        first = asyncio.create_task(take("first", 1.0))
        await asyncio.sleep(0)  # it holds the bucket, waiting for a token
        gone = asyncio.create_task(take("gone", 2.0))
        last = asyncio.create_task(take("last", 3.0))
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.gather(first, last)
        return served

    assert asyncio.run(go()) == ["first", "last"]


def test_no_rate_means_no_wait() -> None:
    async def go() -> None:
        time = FakeTime()
        for rate in (0.0, float("inf")):
            bucket = TokenBucket(rate, 1, time.clock, time.sleep)
            await asyncio.gather(*(bucket.take(rank) for rank in (3.0, 1.0, 2.0)))

    asyncio.run(go())
