"""Throttling of dashboard log-ins by client address and e-mail together (issue 14): failures
from one address slow only that address, after five free ones per e-mail (fifty for all
e-mails together), with a wait that doubles from 30 seconds up to 15 minutes and ends with a
success. A stranger who knows a coordinator's e-mail never keeps her out. Time is the core's
clock; each attempt is a request of its own (its own database session)."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import bot.coordination.accounts as accounts
from bot.coordination import invite_coordinator
from bot.core import Core, build_core
from bot.settings import Settings
from storage.models import LoginAttempt
from tests.course import FakeClock

PASSWORD = "correct horse battery"
WRONG = "not the password"
SARA, LARS, NOBODY = "sara@example.org", "lars@example.org", "nobody@example.org"
X, Y = "198.51.100.7", "203.0.113.9"  # the stranger's address, Sara's


async def with_logins(core: Core) -> None:
    async with core.sessions() as session:
        for name, email in (("Sara", SARA), ("Lars", LARS)):
            coordinator, _ = await invite_coordinator(session, "bridge", name)
            await accounts.set_login(session, coordinator, email, PASSWORD)
        await session.commit()


async def attempt(core: Core, address: str, email: str, password: str = WRONG) -> accounts.Login:
    async with core.sessions() as session:
        login = await accounts.check_login(
            session, email, password, address=address, secret=core.secret
        )
        await session.commit()
        return login


def outcome(login: accounts.Login) -> str:
    if login.throttled:
        return "must wait"
    return "logs in" if login.coordinator else "refused"


async def five_failures_from_x_at_sara(core: Core) -> None:
    for _ in range(5):
        await attempt(core, X, SARA)


async def four_failures_from_x_at_sara(core: Core) -> None:
    for _ in range(4):
        await attempt(core, X, SARA)


async def fifty_emails_from_x(core: Core) -> None:
    """Credential stuffing: one address, a different e-mail each time."""
    for number in range(50):
        await attempt(core, X, f"person{number}@example.org")


async def forty_nine_emails_from_x(core: Core) -> None:
    for number in range(49):
        await attempt(core, X, f"person{number}@example.org")


async def five_failures_from_one_ipv6_host(core: Core) -> None:
    for host in range(1, 6):  # one host's /64: it may pick a new address for every attempt
        await attempt(core, f"2001:db8:1:2::{host}", SARA)


@pytest.mark.parametrize(
    ("before", "address", "email", "expected"),
    [
        (five_failures_from_x_at_sara, X, SARA, "must wait"),
        (five_failures_from_x_at_sara, Y, SARA, "logs in"),  # another address, same account
        (five_failures_from_x_at_sara, X, LARS, "logs in"),  # same address, another account
        (four_failures_from_x_at_sara, X, SARA, "logs in"),  # the free attempts
        (fifty_emails_from_x, X, SARA, "must wait"),  # many accounts from one address
        (fifty_emails_from_x, X, "new@example.org", "must wait"),
        (fifty_emails_from_x, Y, SARA, "logs in"),
        (forty_nine_emails_from_x, X, SARA, "logs in"),  # an office behind one address
        (five_failures_from_one_ipv6_host, "2001:db8:1:2::99", SARA, "must wait"),
        (five_failures_from_one_ipv6_host, "2001:db8:1:3::1", SARA, "logs in"),
        (five_failures_from_one_ipv6_host, X, SARA, "logs in"),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
async def test_who_must_wait_after_failures(
    core: Core, before: object, address: str, email: str, expected: str
) -> None:
    await with_logins(core)
    await before(core)  # type: ignore[operator]
    assert outcome(await attempt(core, address, email, PASSWORD)) == expected


async def test_a_stranger_never_keeps_the_coordinator_out(core: Core, clock: FakeClock) -> None:
    """The issue's case: someone who knows Sara's e-mail tries passwords all day, from one
    address and from many, as fast as they are let. Sara, at her own desk, logs in at once
    every time, even after a few typos of her own."""
    await with_logins(core)
    strangers = [X] + [f"198.51.100.{host}" for host in range(100, 110)]
    for hour in range(4):
        for stranger in strangers:
            for _ in range(6):
                await attempt(core, stranger, SARA)
        for _ in range(4):  # her own typos: free
            assert outcome(await attempt(core, Y, SARA)) == "refused"
        assert outcome(await attempt(core, Y, SARA, PASSWORD)) == "logs in", f"hour {hour}"
        # ...while the stranger, even with her password, waits.
        assert outcome(await attempt(core, X, SARA, PASSWORD)) == "must wait"
        clock.advance(hours=1)


async def test_the_wait_doubles_to_15_minutes_and_a_success_ends_it(
    core: Core, clock: FakeClock
) -> None:
    await with_logins(core)
    first_waits = [(await attempt(core, X, SARA)).wait for _ in range(5)]
    assert first_waits == [None, None, None, None, timedelta(seconds=30)]
    waits = []
    for _ in range(6):
        wait = (await attempt(core, X, SARA)).wait
        assert wait is not None
        clock.advance(seconds=wait.total_seconds() - 1)
        early = await attempt(core, X, SARA, PASSWORD)  # even the right password, too early
        assert early.throttled and early.wait == timedelta(seconds=1)
        clock.advance(seconds=1)
        waits.append(int(wait.total_seconds()))
    # ...the attempts above came when the wait had run out, each waits twice as long after it.
    assert waits == [30, 60, 120, 240, 480, 900]
    assert outcome(await attempt(core, X, SARA, PASSWORD)) == "logs in"
    after = [(await attempt(core, X, SARA)).wait for _ in range(5)]
    assert after == [None, None, None, None, timedelta(seconds=30)]  # five free ones again


async def test_failures_older_than_an_hour_no_longer_count_and_are_deleted(
    core: Core, clock: FakeClock
) -> None:
    await with_logins(core)
    for _ in range(5):
        await attempt(core, X, SARA)
    for number in range(10):
        await attempt(core, Y, f"person{number}@example.org")
    clock.advance(hours=1, seconds=1)
    assert outcome(await attempt(core, X, SARA, PASSWORD)) == "logs in"
    async with core.sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(LoginAttempt))
    assert rows == 0  # Y's too: every log-in prunes the whole table


async def test_the_table_holds_neither_the_address_nor_the_email(core: Core) -> None:
    await with_logins(core)
    await attempt(core, X, SARA)
    async with core.sessions() as session:
        (row,) = await session.scalars(select(LoginAttempt))
    stored = f"{row.address_key} {row.account_key}"
    assert X not in stored and SARA not in stored and "sara" not in stored
    # Keyed hashes: a plain hash of the address, easy to find among 4 billion, is not there.
    plain = {hashlib.sha256(value.encode()).hexdigest() for value in (X, SARA)}
    assert not plain & {row.address_key, row.account_key}
    assert len(row.address_key) == len(row.account_key) == 64


async def test_parallel_attempts_from_two_processes_get_no_more_tries(
    settings: Settings, clock: FakeClock
) -> None:
    """Two dashboards (two engines, as two processes have) on one database; twenty wrong
    passwords at once, ten through each. Only the five free ones are checked: an attempt is
    counted before its password is, under a lock on the address."""
    cores = [await build_core(settings, clock) for _ in range(2)]
    try:
        await with_logins(cores[0])
        checked: list[str] = []
        original = accounts._verify

        def counting(stored: str, password: str) -> bool:
            if password == WRONG:
                checked.append(password)
            return original(stored, password)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(accounts, "_verify", counting)
            results = await asyncio.gather(
                *(attempt(cores[number % 2], X, SARA) for number in range(20))
            )
        assert sorted(outcome(login) for login in results) == ["must wait"] * 15 + ["refused"] * 5
        assert len(checked) == 5
        async with cores[1].sessions() as session:
            rows = await session.scalar(select(func.count()).select_from(LoginAttempt))
        assert rows == 5  # none lost, none more
    finally:
        for core in cores:
            await core.close()
