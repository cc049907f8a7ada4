"""Throttling of dashboard log-ins by client address and e-mail together, never a lock-out.

A lock-out per account lets anyone who knows a coordinator's e-mail lock her out. Here failures
count per (client address, e-mail): after a few free failures within the window, each further
attempt from that address for that e-mail waits a growing time (doubling, capped), and an
attempt during the wait is refused without its password being checked. A second, wider count
per address across all e-mails slows credential stuffing, generous enough for an office behind
one address. Failures from one address never slow an attempt from another, so the coordinator
at her own desk is never kept out by a stranger. A success forgets the failures of its address
and e-mail.

Both counts are the rows of `login_attempts`: one row per attempt that was let through,
written (and committed) *before* its password is checked and deleted again when it succeeds,
so that parallel attempts, in this process or another one on the same database, each see the
others and cannot get more tries than the rules allow. The decision and that row are made
under a lock on the address (PostgreSQL: an advisory lock; SQLite: the database's write lock,
taken by the first statement, a delete of rows past the window). The address and the e-mail
are personal data: the table holds only keyed hashes of them, and no row outlives the window.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LoginAttempt


@dataclass(frozen=True)
class LoginThrottle:
    """How many failures are free, within which window, and how the wait grows after them."""

    # Failures older than this no longer count. An hour: with waits doubling from 30 seconds to
    # 15 minutes, one address gets about nine tries an hour at one e-mail and about fifty at
    # all e-mails together. (ASVS 2.2.1 allows at most a hundred an hour at one account; many
    # addresses at once get more: the price of never locking the account for everyone.)
    window: timedelta = timedelta(hours=1)
    free_failures: int = 5  # per address and e-mail
    free_failures_per_address: int = 50  # per address, whatever the e-mail: an office is one
    first_wait: timedelta = timedelta(seconds=30)
    longest_wait: timedelta = timedelta(minutes=15)

    def wait(self, failures: int, free: int, last: datetime | None, now: datetime) -> timedelta:
        """How long from `now` until the next attempt may be checked, after `failures`
        failures (the last at `last`) of which `free` cost nothing."""
        if failures < free or last is None:
            return timedelta(0)
        doublings = min(failures - free, 20)  # 2**20 times the first wait is past any cap
        delay: timedelta = min(self.first_wait * (2**doublings), self.longest_wait)
        return max(last + delay - now, timedelta(0))


THROTTLE = LoginThrottle()


@dataclass(frozen=True)
class AttemptKeys:
    """The keyed hashes under which an attempt is counted."""

    address: str
    account: str


@dataclass(frozen=True)
class Standing:
    """What the table says about an attempt before it is checked."""

    pair_failures: int
    pair_last: datetime | None
    address_failures: int
    address_last: datetime | None
    now: datetime

    def wait(self, throttle: LoginThrottle) -> timedelta:
        """The wait still to run before this attempt may be checked."""
        return max(
            throttle.wait(self.pair_failures, throttle.free_failures, self.pair_last, self.now),
            throttle.wait(
                self.address_failures,
                throttle.free_failures_per_address,
                self.address_last,
                self.now,
            ),
        )

    def after_failure(self, throttle: LoginThrottle) -> timedelta:
        """The wait before the next attempt, once this one has failed too."""
        failed = Standing(
            self.pair_failures + 1, self.now, self.address_failures + 1, self.now, self.now
        )
        return failed.wait(throttle)


def address_group(address: str | None) -> str:
    """The address as it is counted: an IPv4 address, or the /64 network of an IPv6 one (a
    single host commonly has a whole /64 to choose its addresses from)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def attempt_keys(secret: bytes, address: str | None, email: str) -> AttemptKeys:
    """Keyed hashes (HMAC-SHA256 with the application's secret) of the client address and the
    normalised e-mail: without the secret, the table does not say who tried from where, and
    the few billion IPv4 addresses cannot simply be hashed and compared."""

    def keyed(kind: str, value: str) -> str:
        return hmac.new(secret, f"login-{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    return AttemptKeys(keyed("address", address_group(address)), keyed("email", email))


async def _lock_address(session: AsyncSession, keys: AttemptKeys, cutoff: datetime) -> None:
    """Serialise the attempts from one address until the transaction ends, and prune."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(keys.address[:15], 16)}
        )
    # Rows past the window, of every address. On SQLite this first write takes the write lock
    # for the rest of the transaction; on PostgreSQL rows another process is pruning are
    # skipped, so two prunes never wait for each other.
    past = select(LoginAttempt.id).where(LoginAttempt.at < cutoff).with_for_update(skip_locked=True)
    await session.execute(
        delete(LoginAttempt)
        .where(LoginAttempt.id.in_(past.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )


async def _failures(
    session: AsyncSession, *conditions: ColumnElement[bool]
) -> tuple[int, datetime | None]:
    """How many attempts match, and the time of the last one."""
    found = (
        await session.execute(select(func.count(), func.max(LoginAttempt.at)).where(*conditions))
    ).one()
    return found[0], found[1]


async def reserve_attempt(
    session: AsyncSession, keys: AttemptKeys, throttle: LoginThrottle, now: datetime
) -> Standing:
    """Decide whether this attempt may be checked; if it may, count it as a failure until it
    succeeds. Commits, so that attempts in other transactions see it at once."""
    cutoff = now - throttle.window
    await _lock_address(session, keys, cutoff)
    from_address = (LoginAttempt.address_key == keys.address, LoginAttempt.at >= cutoff)
    whole = await _failures(session, *from_address)
    pair = await _failures(session, *from_address, LoginAttempt.account_key == keys.account)
    standing = Standing(pair[0], pair[1], whole[0], whole[1], now)
    if not standing.wait(throttle):
        session.add(LoginAttempt(address_key=keys.address, account_key=keys.account, at=now))
    await session.commit()
    return standing


async def forget_failures(session: AsyncSession, keys: AttemptKeys) -> None:
    """A success: the failures of this address for this e-mail no longer count."""
    await session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.address_key == keys.address, LoginAttempt.account_key == keys.account
        )
    )
