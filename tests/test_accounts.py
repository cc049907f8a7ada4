"""Coordinators' web log-in: hashes only, the same work for every attempt, hashed session tokens.
(Throttling of failed log-ins: tests/test_login_throttle.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import bot.coordination.accounts as accounts
from bot.coordination import invite_coordinator
from bot.core import Core
from storage.models import AuditEntry, Coordinator, WebSession

PASSWORD = "correct horse battery"
HERE = "192.0.2.10"  # the client's address


async def attempt(core: Core, session: AsyncSession, email: str, password: str) -> accounts.Login:
    return await accounts.check_login(
        session, email, password, address=HERE, secret=core.secret, now=core.clock.now()
    )


async def with_login(core: Core, email: str = "Sara@Example.org") -> int:
    async with core.sessions() as session:
        sara, _ = await invite_coordinator(session, "bridge", "Sara")
        await accounts.set_login(session, sara, email, PASSWORD)
        await session.commit()
        return sara.id


@pytest.mark.real_password_hashing
async def test_only_an_argon2_hash_is_stored_and_the_email_is_normalised(core: Core) -> None:
    sara_id = await with_login(core)
    async with core.sessions() as session:
        sara = await session.get(Coordinator, sara_id)
    assert sara.email == "sara@example.org"
    assert PASSWORD not in sara.password_hash
    # argon2id with argon2-cffi's defaults (RFC 9106's second choice): the other tests hash
    # with the least work (conftest.py), the application never does.
    assert sara.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


@pytest.mark.parametrize(
    ("email", "password", "complaint"),
    [
        ("sara", PASSWORD, "not an e-mail address"),
        ("sara@example.org", "short", "at least 12 characters"),
        ("sara@example.org", "password1", "at least 12 characters"),
        ("sara@example.org", "password1234", "too easy to guess"),  # on every common list
        ("sara@example.org", "qwertyuiop12", "too easy to guess"),  # a keyboard row
        ("sara@example.org", "aaaaaaaaaaaa", "too easy to guess"),
        ("sara@example.org", "sara@example.org", "too easy to guess"),  # her own address
        ("sara@example.org", "Sara Sara Sara", "too easy to guess"),  # her name, repeated
        ("sara@example.org", "lantern quietly orbits " * 6, "at most 128 characters"),  # 138
    ],
)
async def test_a_bad_login_is_refused_with_a_reason(
    core: Core, email: str, password: str, complaint: str
) -> None:
    async with core.sessions() as session:
        sara, _ = await invite_coordinator(session, "bridge", "Sara")
        with pytest.raises(accounts.AccountError, match=complaint):
            await accounts.set_login(session, sara, email, password)


async def test_a_passphrase_of_73_to_128_characters_is_taken_not_a_crash(core: Core) -> None:
    # zxcvbn raised ValueError past 72 characters: a long passphrase crashed the form.
    passphrase = ("lantern quietly orbits " * 6)[:128]
    async with core.sessions() as session:
        sara, _ = await invite_coordinator(session, "bridge", "Sara")
        await accounts.set_login(session, sara, "sara@example.org", passphrase)
        assert sara.password_hash is not None


async def test_an_email_belongs_to_one_coordinator(core: Core) -> None:
    await with_login(core)
    async with core.sessions() as session:
        lars, _ = await invite_coordinator(session, "bridge", "Lars")
        with pytest.raises(accounts.AccountError, match="already used"):
            await accounts.set_login(session, lars, "sara@example.org", PASSWORD)


async def test_right_password_logs_in_wrong_one_and_unknown_email_do_not(core: Core) -> None:
    sara_id = await with_login(core)
    async with core.sessions() as session:
        assert (await attempt(core, session, "SARA@example.org ", PASSWORD)).coordinator
        assert (await attempt(core, session, "sara@example.org", "wrong")).coordinator is None
        assert (await attempt(core, session, "nobody@example.org", PASSWORD)).coordinator is None
        await session.commit()
        actions = [(e.action, e.coordinator_id) for e in await session.scalars(select(AuditEntry))]
    assert ("login", sara_id) in actions and ("login_failed", sara_id) in actions


async def test_sessions_store_a_hash_expire_and_close(core: Core) -> None:
    sara_id = await with_login(core)
    now = core.clock.now()
    async with core.sessions() as session:
        sara = await session.get(Coordinator, sara_id)
        policy = accounts.SessionPolicy()
        token, row = await accounts.open_session(session, sara, policy, now)
        await session.commit()
        assert token not in row.token_hash and len(row.csrf_token) >= 32
        assert (await accounts.session_for(session, token, policy, now)).coordinator_id == sara_id
        assert await accounts.session_for(session, "forged", policy, now) is None
        later = now + timedelta(minutes=31)  # idle for longer than 30 minutes
        assert await accounts.session_for(session, token, policy, later) is None
        await accounts.close_session(session, token)
        await session.commit()
        assert list(await session.scalars(select(WebSession))) == []


async def test_every_log_in_does_the_same_hashing_work_whatever_the_account(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time of an answer must not tell whether an e-mail has an account, or whether the
    attempt is throttled: each attempt verifies exactly one argon2 hash (counted, not timed)."""
    await with_login(core)
    verified: list[str] = []
    original = accounts._verify

    def counting(stored: str, password: str) -> bool:
        verified.append(stored)
        return original(stored, password)

    monkeypatch.setattr(accounts, "_verify", counting)
    async with core.sessions() as session:
        attempts = {
            "unknown e-mail": ("nobody@example.org", PASSWORD),
            "right password": ("sara@example.org", PASSWORD),
            "wrong password": ("sara@example.org", "wrong"),  # the first failure
        }
        work = {}
        for name, (email, password) in attempts.items():
            verified.clear()
            await attempt(core, session, email, password)
            work[name] = len(verified)
        for _ in range(4):  # with the one above, five failures: the next one must wait
            await attempt(core, session, "sara@example.org", "wrong")
        verified.clear()
        throttled = await attempt(core, session, "sara@example.org", PASSWORD)
        work["throttled, right password"] = len(verified)
        for _ in range(5):
            await attempt(core, session, "nobody@example.org", "wrong")
        verified.clear()
        unknown_throttled = await attempt(core, session, "nobody@example.org", PASSWORD)
        work["throttled, unknown e-mail"] = len(verified)
    assert throttled.throttled and unknown_throttled.throttled
    assert throttled.coordinator is None
    assert work == {name: 1 for name in work}
