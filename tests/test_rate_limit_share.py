"""The limiter's share: when several processes send for one bot, each keeps to the part of the
limit its group gives it (bot/workers.py), for as long as the group confirms it. On the
virtual clock of test_rate_limit.py."""

from __future__ import annotations

import asyncio
import math

import pytest

from handlers.telegram.rate_limit import RateLimitMiddleware
from tests.test_rate_limit import VirtualTime, limiter, start_all, times


def unspaced(clock: VirtualTime) -> RateLimitMiddleware:
    return limiter(clock, per_second=30, per_chat=math.inf)


async def test_a_share_keeps_the_process_to_its_part_of_the_limit() -> None:
    clock = VirtualTime()
    limit = unspaced(clock)
    limit.set_share(15)
    tasks, started = start_all(clock, limit, [None] * 31)
    await clock.run(tasks)
    assert times(started) == [0.0] * 15 + [1.0] * 15 + [2.0]


async def test_a_lowered_share_holds_from_the_next_call_on() -> None:
    clock = VirtualTime()
    limit = unspaced(clock)
    tasks, started = start_all(clock, limit, [None] * 30)  # the whole limit, at once
    await clock.run(tasks)
    limit.set_share(15)
    more, started = start_all(clock, limit, [None] * 20, first=30, log=started)
    await clock.run(more)
    # The fifteen latest calls left the window at 1.0; then fifteen a second.
    assert times(started)[30:] == [1.0] * 15 + [2.0] * 5


async def test_a_raised_share_never_lets_the_window_hold_more_than_the_new_share() -> None:
    clock = VirtualTime()
    limit = unspaced(clock)
    limit.set_share(10)
    tasks, started = start_all(clock, limit, [None] * 10)
    await clock.run(tasks)
    await clock.advance(0.5)
    limit.set_share(30)
    more, started = start_all(clock, limit, [None] * 25, first=10, log=started)
    await clock.run(more)
    assert times(started)[10:] == [0.5] * 20 + [1.0] * 5  # 30 in [0, 1), as the share says


async def test_without_a_share_nothing_starts_until_one_comes() -> None:
    clock = VirtualTime()
    limit = unspaced(clock)
    limit.set_share(0)
    tasks, started = start_all(clock, limit, [None, 1, None])
    await clock.advance(60.0)
    assert started == []
    limit.set_share(2, until=math.inf)
    await clock.run(tasks)
    assert times(started) == [60.0, 60.0, 61.0]


async def test_a_share_not_confirmed_in_time_lapses() -> None:
    clock = VirtualTime()
    limit = unspaced(clock)
    limit.set_share(30, until=2.0)
    tasks, started = start_all(clock, limit, [None])
    await clock.run(tasks)
    await clock.advance(2.0)  # the group could not confirm it: cut off from the database
    late, started = start_all(clock, limit, [None], first=1, log=started)
    await clock.advance(10.0)
    assert times(started) == [0.0]
    limit.set_share(30, until=20.0)
    await clock.run(late)
    assert times(started) == [0.0, 10.0]


async def test_taking_buttons_off_waits_for_a_share_too() -> None:
    clock = VirtualTime()
    limit = unspaced(clock)
    limit.set_share(0)
    started: list[float] = []

    async def take_buttons_off() -> None:
        await limit.acquire(1, yielding=True)
        started.append(clock.now)

    task = asyncio.create_task(take_buttons_off())
    await clock.advance(5.0)
    assert started == []
    limit.set_share(1)
    await clock.run([task])
    assert started == [5.0]


def test_a_limiter_without_a_limit_has_no_share_to_give() -> None:
    with pytest.raises(ValueError, match="no share"):
        RateLimitMiddleware(per_second=math.inf).set_share(15)


async def test_taking_buttons_off_leaves_the_same_fifth_of_a_share_free() -> None:
    clock = VirtualTime()
    limit = unspaced(clock)  # 30 a second, a fifth (6) kept free from calls that yield
    limit.set_share(15)  # of a share of 15: 3
    started: list[float] = []

    async def take_buttons_off() -> None:
        await limit.acquire(None, yielding=True)
        started.append(clock.now)

    tasks = [asyncio.create_task(take_buttons_off()) for _ in range(13)]
    await clock.run(tasks)
    assert started == [0.0] * 12 + [1.0]
    limit.set_share(1)  # a share too small to keep any of it free
    late = asyncio.create_task(take_buttons_off())
    await clock.run([late])
    assert started[-1] == 2.0  # once the call at 1.0 has left the window: one a second
