"""Coordinators' web log-in: e-mail and password (argon2id hashes), throttled per client address
and e-mail (`login_throttle`), and sessions whose cookie token is stored only as a hash. The
Telegram-linked coordinator and the web account are the same `coordinators` row.
Channel-neutral."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from zxcvbn import zxcvbn

from bot.coordination.audit_trail import audit_account
from bot.coordination.login_throttle import (
    THROTTLE,
    LoginThrottle,
    attempt_keys,
    forget_failures,
    reserve_attempt,
)
from storage.database import clock_now
from storage.models import Coordinator, CoordinatorRole, WebSession

MIN_PASSWORD_LENGTH = 12
# Long enough for any passphrase (ASVS 2.1.2 asks for 64 at least and 128 at most): a longer
# one is refused before zxcvbn, whose time grows with the length.
MAX_PASSWORD_LENGTH = 128
ZXCVBN_MAX = 72
MIN_PASSWORD_SCORE = 3  # of zxcvbn's 0 to 4

_hasher = PasswordHasher()
# Checked against when the e-mail is unknown, so that a wrong e-mail takes as long as a wrong
# password and the timing does not tell which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
_NO_PASSWORD = secrets.token_urlsafe(16)  # checked against the dummy hash: never matches


class AccountProblem(StrEnum):
    """Why an account change was refused; the dashboard words it in the reader's language."""

    NOT_AN_EMAIL = "not_an_email"
    SHORT_PASSWORD = "short_password"
    LONG_PASSWORD = "long_password"
    GUESSABLE_PASSWORD = "guessable_password"
    EMAIL_TAKEN = "email_taken"


class AccountError(Exception):
    """A refused account change; the message says why (in English, for the command line)."""

    def __init__(self, problem: AccountProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class SessionPolicy:
    """How long a dashboard log-in lasts: it ends after `idle` without a request, and at the
    latest `lifetime` after the log-in, however busy (ASVS 3.3)."""

    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)


@dataclass(frozen=True)
class Login:
    """The coordinator, if the log-in succeeded. Otherwise `throttled` says the attempt came
    before its wait was over (its password was not checked), and `wait` how long from now
    until the next attempt from this address for this e-mail is checked (None: at once)."""

    coordinator: Coordinator | None
    throttled: bool = False
    wait: timedelta | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def check_password(password: str, email: str, name: str) -> None:
    """Refuses (AccountError) a password shorter than 12 characters or easy to guess. zxcvbn
    knows common passwords, names, words, keyboard rows and dates; 3 is "safely unguessable"
    (about 10^8 guesses or more). The person's own name and e-mail count as guessable too."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            AccountProblem.SHORT_PASSWORD,
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(
            AccountProblem.LONG_PASSWORD,
            f"the password may have at most {MAX_PASSWORD_LENGTH} characters",
        )
    # zxcvbn refuses to look at more than 72 characters (ValueError); a passphrase whose first
    # 72 are hard to guess is not made easier by more.
    if zxcvbn(password[:ZXCVBN_MAX], user_inputs=[email, name])["score"] < MIN_PASSWORD_SCORE:
        raise AccountError(
            AccountProblem.GUESSABLE_PASSWORD,
            "the password is too easy to guess: use a few words that do not belong together",
        )


async def checked_email(session: AsyncSession, coordinator: Coordinator, email: str) -> str:
    """The e-mail normalised, once it looks like one and no other coordinator has it."""
    address = normalise_email(email)
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise AccountError(AccountProblem.NOT_AN_EMAIL, f"'{email}' is not an e-mail address")
    taken = await session.scalar(
        select(Coordinator.id).where(Coordinator.email == address, Coordinator.id != coordinator.id)
    )
    if taken is not None:
        raise AccountError(
            AccountProblem.EMAIL_TAKEN, f"'{address}' is already used by another coordinator"
        )
    return address


async def set_login(
    session: AsyncSession, coordinator: Coordinator, email: str, password: str
) -> None:
    """Give a coordinator (or change) their web log-in with a known password: for the demo's
    made-up account and for tests. People choose their own password, with a one-time code
    (login_codes.py); no page and no command sets one for them."""
    address = await checked_email(session, coordinator, email)
    check_password(password, address, coordinator.name)
    coordinator.email = address
    await set_password(session, coordinator, password)
    await audit_account(
        session, None, "set_login", coordinator, detail=f"{coordinator.name} <{address}>"
    )


async def set_password(session: AsyncSession, coordinator: Coordinator, password: str) -> None:
    """A checked password's hash stored and every session of the account ended."""
    coordinator.password_hash = _hasher.hash(password)
    await session.execute(delete(WebSession).where(WebSession.coordinator_id == coordinator.id))


async def check_login(
    session: AsyncSession,
    email: str,
    password: str,
    *,
    address: str | None,
    secret: bytes,
    now: datetime | None = None,
    throttle: LoginThrottle = THROTTLE,
) -> Login:
    """The coordinator if the e-mail and password match. `address` is the client's (the
    attempts are counted per address and e-mail, `login_throttle`), `secret` the key of the
    hashes they are counted under. Commits the attempt before the password is checked.

    Every attempt does the same work, one argon2 verification, whether the e-mail has an
    account or not and whether the attempt is throttled: the time of the answer tells neither."""
    now = now or clock_now(session)
    normalised = normalise_email(email)
    keys = attempt_keys(secret, address, normalised)
    standing = await reserve_attempt(session, keys, throttle, now)
    coordinator = await session.scalar(select(Coordinator).where(Coordinator.email == normalised))
    waiting = standing.wait(throttle)
    if waiting:
        _verify(_DUMMY_HASH, _NO_PASSWORD)  # the same work, and the password stays unchecked
        return Login(None, throttled=True, wait=waiting)
    if coordinator is None or coordinator.password_hash is None:
        _verify(_DUMMY_HASH, password)
        return Login(None, wait=standing.after_failure(throttle) or None)
    if not _verify(coordinator.password_hash, password):
        wait = standing.after_failure(throttle)
        detail = f"failure {standing.pair_failures + 1} from one address"
        if wait:
            detail += f"; its next attempt waits {int(wait.total_seconds())} s"
        await audit_account(session, coordinator, "login_failed", detail=detail)
        return Login(None, wait=wait or None)
    await forget_failures(session, keys)
    if _hasher.check_needs_rehash(coordinator.password_hash):
        coordinator.password_hash = _hasher.hash(password)
    await audit_account(session, coordinator, "login")
    return Login(coordinator)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def open_session(
    session: AsyncSession,
    coordinator: Coordinator,
    policy: SessionPolicy = SessionPolicy(),
    now: datetime | None = None,
) -> tuple[str, WebSession]:
    """A new session: the token for the cookie (shown once) and its row."""
    now = now or clock_now(session)
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=_digest(token),
        coordinator_id=coordinator.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + min(policy.idle, policy.lifetime),
    )
    session.add(row)
    await session.flush()
    return token, row


async def session_for(
    session: AsyncSession,
    token: str | None,
    policy: SessionPolicy = SessionPolicy(),
    now: datetime | None = None,
) -> WebSession | None:
    """The live session of this cookie token, its idle time started again; None when there is
    none, or it ended (idle too long, or past its lifetime)."""
    if not token:
        return None
    now = now or clock_now(session)
    row = await session.get(WebSession, _digest(token))
    if row is None or row.expires_at <= now:
        return None
    row.expires_at = min(now + policy.idle, row.created_at + policy.lifetime)
    return row


async def close_session(session: AsyncSession, token: str | None) -> None:
    """Log out: this session and every other one of the same account end (a session left
    open on another computer ends too)."""
    row = await session_for(session, token)
    if row is not None:
        await audit_account(session, row.coordinator, "logout")
        await session.execute(
            delete(WebSession).where(WebSession.coordinator_id == row.coordinator_id)
        )
        await session.flush()


async def change_own_password(
    session: AsyncSession, signed: WebSession, current: str, new: str
) -> bool:
    """A coordinator's own new password, once the current one is given (False if it is not);
    every other session of the account ends, this one goes on."""
    coordinator = signed.coordinator
    if coordinator.password_hash is None or not _verify(coordinator.password_hash, current):
        return False
    check_password(new, coordinator.email or "", coordinator.name)
    coordinator.password_hash = _hasher.hash(new)
    await session.execute(
        delete(WebSession).where(
            WebSession.coordinator_id == coordinator.id,
            WebSession.token_hash != signed.token_hash,
        )
    )
    await audit_account(session, coordinator, "change_password")
    return True


async def is_admin(session: AsyncSession, coordinator: Coordinator) -> bool:
    """An admin of some programme; a site owner is an admin of every programme."""
    if coordinator.site_owner:
        return True
    count = await session.scalar(
        select(func.count())
        .select_from(CoordinatorRole)
        .where(CoordinatorRole.coordinator_id == coordinator.id, CoordinatorRole.role == "admin")
    )
    return bool(count)
