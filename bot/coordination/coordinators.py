"""Coordinators: invites, the link to their Telegram account, the programmes they work in, and
the audit log of what they do. Channel-neutral."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repositories as repo
from storage.database import clock_now
from storage.days import today_only
from storage.models import AuditEntry, Coordinator, CoordinatorRole, Flag, Programme

INVITE_DAYS = 7


class CoordinationError(Exception):
    """A coordinator action that is not allowed; the message says why."""


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


async def invite_coordinator(
    session: AsyncSession, programme_code: str, name: str, role: str = "coordinator",
    language: str = "en",
) -> tuple[Coordinator, str]:  # fmt: skip
    """A new coordinator and their one-time invite code (only its hash is stored)."""
    programme = await repo.programme_by_code(session, programme_code)
    if programme is None:
        raise CoordinationError(f"there is no programme '{programme_code}'")
    code = secrets.token_urlsafe(9)
    coordinator = Coordinator(
        name=name,
        language=language,
        invite_hash=_hash(code),
        invite_expires_at=clock_now(session) + timedelta(days=INVITE_DAYS),
    )
    session.add(coordinator)
    await session.flush()
    session.add(
        CoordinatorRole(coordinator_id=coordinator.id, programme_id=programme.id, role=role)
    )
    await audit(session, None, "invite", detail=f"{name} ({role}, {programme.code})")
    return coordinator, code


async def link_coordinator(
    session: AsyncSession, code: str, telegram_user_id: int
) -> Coordinator | None:
    coordinator = await session.scalar(
        select(Coordinator).where(Coordinator.invite_hash == _hash(code))
    )
    expires = coordinator.invite_expires_at if coordinator else None
    if coordinator is None or expires is None or expires < clock_now(session):
        return None
    coordinator.telegram_user_id = telegram_user_id
    coordinator.invite_hash = None
    coordinator.invite_expires_at = None
    await audit(session, coordinator, "link")
    return coordinator


async def coordinator_by_telegram(
    session: AsyncSession, telegram_user_id: int
) -> Coordinator | None:
    return await session.scalar(
        select(Coordinator).where(Coordinator.telegram_user_id == telegram_user_id)
    )


async def programme_ids(session: AsyncSession, coordinator: Coordinator) -> set[int]:
    rows = await session.scalars(
        select(CoordinatorRole.programme_id).where(CoordinatorRole.coordinator_id == coordinator.id)
    )
    return set(rows)


async def programmes_of(session: AsyncSession, coordinator: Coordinator) -> list[Programme]:
    """The coordinator's programmes, by name."""
    mine = await programme_ids(session, coordinator)
    return [p for p in await repo.programmes(session) if p.id in mine]


async def coordinators_of(session: AsyncSession, programme_id: int) -> list[Coordinator]:
    rows = await session.scalars(
        select(Coordinator)
        .join(CoordinatorRole, CoordinatorRole.coordinator_id == Coordinator.id)
        .where(CoordinatorRole.programme_id == programme_id)
    )
    return list(rows)


async def audit(
    session: AsyncSession,
    coordinator: Coordinator | None,
    action: str,
    flag: Flag | None = None,
    detail: str | None = None,
    participant_id: int | None = None,
) -> None:
    """Who did what, when. `coordinator` None: an admin at the command line. An entry about
    an anonymous flag keeps the day only: when a coordinator acted on it tells when, at the
    latest, the answer came (storage/days.py)."""
    entry = AuditEntry(
        coordinator_id=coordinator.id if coordinator else None,
        action=action,
        flag_id=flag.id if flag else None,
        participant_id=flag.participant_id if flag else participant_id,
        detail=detail,
    )
    if flag is not None and flag.anonymous:
        entry.at = await today_only(session, flag.programme_id)
    session.add(entry)
    await session.flush()
