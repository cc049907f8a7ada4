"""One-time log-in codes: nobody chooses a password for someone else. An admin who resets a
colleague's log-in (or the operator at the command line who gives one) sets the e-mail and
gets a code to pass on by voice or in person; the colleague enters their e-mail, the code and
a password of their own. Channel-neutral.

A code has 16 characters from an alphabet without look-alikes (no 0/O, 1/I/L), in groups of
four: 31^16 is about 2^79 codes, hopeless to guess even without a limit on tries. It is valid
for 24 hours and once; a new code replaces the older one; only its sha256 is stored (as the
session tokens are: the code is random, so a slow hash adds nothing); it never goes into a URL
or the audit log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination.accounts import (
    check_password,
    checked_email,
    normalise_email,
    set_password,
)
from bot.coordination.audit_trail import audit_account
from storage.database import clock_now
from storage.models import Coordinator

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16
CODE_GROUP = 4
CODE_VALID = timedelta(hours=24)


class LoginCodeRefused(Exception):
    """The e-mail and code do not go together, or the code is used, replaced or expired: one
    answer for all, so that the form tells nothing about which e-mails have an account."""


def new_code() -> str:
    """A fresh code, grouped for reading aloud: "K7QM-4XPD-RT2W-9HZC"."""
    characters = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    groups = [characters[i : i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP)]
    return "-".join(groups)


def code_hash(code: str) -> str:
    """The stored form of a code, as typed: case, spaces and dashes do not matter."""
    typed = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(typed.encode()).hexdigest()


async def issue_login_code(
    session: AsyncSession,
    coordinator: Coordinator,
    email: str,
    issued_by: Coordinator | None,
    now: datetime | None = None,
) -> str:
    """Set the coordinator's e-mail and give them a new one-time code (returned, to be shown
    once), which replaces any older one. Their password and sessions stay as they are until
    the code is used: a reset someone did not ask for locks nobody out. `issued_by` None: the
    operator at the command line."""
    now = now or clock_now(session)
    address = await checked_email(session, coordinator, email)
    code = new_code()
    coordinator.email = address
    coordinator.login_code_hash = code_hash(code)
    coordinator.login_code_expires_at = now + CODE_VALID
    await audit_account(
        session, issued_by, "issue_login_code", coordinator,
        detail=f"{coordinator.name} <{address}>",
    )  # fmt: skip
    return code


async def use_login_code(
    session: AsyncSession, email: str, code: str, password: str, now: datetime | None = None
) -> Coordinator:
    """The coordinator's own new password, set with the code their admin gave them: the code
    is used up and every session of the account ends. LoginCodeRefused if the e-mail and the
    code do not go together (or the code expired); AccountError if the password is too short
    or easy to guess (the code then stays valid for another try)."""
    now = now or clock_now(session)
    coordinator = await session.scalar(
        select(Coordinator).where(Coordinator.email == normalise_email(email))
    )
    stored = coordinator.login_code_hash if coordinator else None
    expires = coordinator.login_code_expires_at if coordinator else None
    if coordinator is None or stored is None or expires is None:
        raise LoginCodeRefused
    if expires <= now or not secrets.compare_digest(stored, code_hash(code)):
        # As a failed log-in is: an attempt on this account, whoever made it.
        await audit_account(
            session, coordinator, "login_code_refused",
            detail="expired" if expires <= now else "wrong code",
        )  # fmt: skip
        raise LoginCodeRefused
    check_password(password, coordinator.email or "", coordinator.name)
    coordinator.login_code_hash = None
    coordinator.login_code_expires_at = None
    await set_password(session, coordinator, password)
    await audit_account(session, coordinator, "use_login_code")
    return coordinator
