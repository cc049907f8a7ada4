"""What an admin may see and do: the audit log of their programmes, and their programmes'
coordinators (add one, give them a web log-in, change a role). Channel-neutral."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination.accounts import set_login
from bot.coordination.coordinators import (
    CoordinationError,
    audit,
    invite_coordinator,
    programme_ids,
)
from storage.models import (
    AuditEntry,
    Coordinator,
    CoordinatorRole,
    Flag,
    Participant,
    Programme,
    WebSession,
)

PAGE_SIZE = 100
ROLES = ("coordinator", "admin")


class NotAdmin(CoordinationError):
    """Only an admin of a programme may do this."""


class ColleagueInvalid(CoordinationError):
    """A new coordinator without a name, or with a role that does not exist."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field  # "name" or "role"


async def admin_programmes(session: AsyncSession, coordinator: Coordinator) -> list[Programme]:
    rows = await session.scalars(
        select(Programme)
        .join(CoordinatorRole, CoordinatorRole.programme_id == Programme.id)
        .where(CoordinatorRole.coordinator_id == coordinator.id, CoordinatorRole.role == "admin")
        .order_by(Programme.name)
    )
    return list(rows)


async def _require_admin(session: AsyncSession, admin: Coordinator) -> set[int]:
    programmes = {p.id for p in await admin_programmes(session, admin)}
    if not programmes:
        raise NotAdmin("only an admin may do this")
    return programmes


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    who: str | None  # the coordinator's name; None: an admin at the command line
    day_only: bool = False  # about an anonymous flag: its time is kept to the day


async def audit_log(
    session: AsyncSession, admin: Coordinator, *, action: str | None = None, page: int = 0
) -> list[AuditRow]:
    """Newest first: entries by coordinators of the admin's programmes, and entries about
    participants of those programmes (including command-line exports and views)."""
    mine = await _require_admin(session, admin)
    colleagues = select(CoordinatorRole.coordinator_id).where(
        CoordinatorRole.programme_id.in_(mine)
    )
    people = select(Participant.id).where(Participant.programme_id.in_(mine))
    query = (
        select(AuditEntry, Coordinator.name, Flag.anonymous)
        .outerjoin(Coordinator, Coordinator.id == AuditEntry.coordinator_id)
        .outerjoin(Flag, Flag.id == AuditEntry.flag_id)
        .where(
            or_(
                AuditEntry.coordinator_id.in_(colleagues),
                AuditEntry.participant_id.in_(people),
            )
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(PAGE_SIZE)
        .offset(page * PAGE_SIZE)
    )
    if action:
        query = query.where(AuditEntry.action == action)
    rows = await session.execute(query)
    return [AuditRow(entry, name, bool(anonymous)) for entry, name, anonymous in rows]


@dataclass
class Colleague:
    coordinator: Coordinator
    roles: dict[int, str]  # programme id -> role, for the admin's programmes
    # Works in a programme the admin is not an admin of: their log-in is not the admin's to set.
    elsewhere: bool = False


async def colleagues(session: AsyncSession, admin: Coordinator) -> list[Colleague]:
    mine = await _require_admin(session, admin)
    shared = select(CoordinatorRole.coordinator_id).where(CoordinatorRole.programme_id.in_(mine))
    rows = await session.execute(
        select(Coordinator, CoordinatorRole)
        .join(CoordinatorRole, CoordinatorRole.coordinator_id == Coordinator.id)
        .where(Coordinator.id.in_(shared))
        .order_by(Coordinator.name)
    )
    found: dict[int, Colleague] = {}
    for coordinator, role in rows:
        entry = found.setdefault(coordinator.id, Colleague(coordinator, {}))
        if role.programme_id in mine:
            entry.roles[role.programme_id] = role.role
        else:
            entry.elsewhere = True
    return list(found.values())


async def may_set_login(session: AsyncSession, admin: Coordinator, colleague: Coordinator) -> bool:
    """Whether `admin` may set `colleague`'s e-mail and password: only as an admin of every
    programme the colleague works in. Otherwise an admin of one programme could take over the
    account of someone who is admin of another and act there as them."""
    theirs = await programme_ids(session, colleague)
    return bool(theirs) and theirs <= await _require_admin(session, admin)


async def set_colleague_login(
    session: AsyncSession, admin: Coordinator, colleague: Coordinator, email: str, password: str
) -> None:
    """Set a colleague's web log-in (`may_set_login` decides), written to the audit log."""
    if not await may_set_login(session, admin, colleague):
        raise NotAdmin("only an admin of every programme they work in may set their log-in")
    await set_login(session, colleague, email, password)
    await audit(session, admin, "set_login", detail=colleague.name)


async def add_colleague(
    session: AsyncSession,
    admin: Coordinator,
    programme: Programme,
    name: str,
    role: str,
    language: str,
    email: str | None = None,
    password: str | None = None,
) -> tuple[Coordinator, str]:
    """A new coordinator of one of the admin's programmes: their Telegram invite code, and a
    web log-in if an e-mail and a first password are given."""
    if programme.id not in await _require_admin(session, admin):
        raise NotAdmin("you are not an admin of this programme")
    if role not in ROLES:
        raise ColleagueInvalid("role", f"unknown role '{role}'")
    if not name.strip():
        raise ColleagueInvalid("name", "a name is needed")
    coordinator, code = await invite_coordinator(
        session, programme.code, name.strip(), role, language
    )
    if email:
        await set_login(session, coordinator, email, password or "")
    await audit(session, admin, "add_coordinator", detail=f"{coordinator.name} ({role})")
    return coordinator, code


class LastAdmin(CoordinationError):
    """A programme must keep at least one admin, or nobody could manage it any more."""


async def set_role(
    session: AsyncSession,
    admin: Coordinator,
    colleague: Coordinator,
    programme: Programme,
    role: str | None,
) -> None:
    """Give a coordinator a role in one of the admin's programmes, change it, or (None) take
    their access away. Someone left with no programme is logged out of the dashboard."""
    if programme.id not in await _require_admin(session, admin):
        raise NotAdmin("you are not an admin of this programme")
    if role is not None and role not in ROLES:
        raise ColleagueInvalid("role", f"unknown role '{role}'")
    current = await session.get(CoordinatorRole, (colleague.id, programme.id))
    if current is not None and current.role == "admin" and role != "admin":
        admins = await session.scalar(
            select(func.count())
            .select_from(CoordinatorRole)
            .where(CoordinatorRole.programme_id == programme.id, CoordinatorRole.role == "admin")
        )
        if admins == 1:
            raise LastAdmin(f"'{programme.code}' needs another admin first")
    if role is None:
        if current is not None:
            await session.delete(current)
    elif current is None:
        session.add(
            CoordinatorRole(coordinator_id=colleague.id, programme_id=programme.id, role=role)
        )
    else:
        current.role = role
    await session.flush()
    if not await programme_ids(session, colleague):
        await session.execute(delete(WebSession).where(WebSession.coordinator_id == colleague.id))
    await audit(
        session, admin, "set_role", detail=f"{colleague.name}: {programme.code} {role or 'none'}"
    )


async def shares_a_programme(
    session: AsyncSession, admin: Coordinator, coordinator: Coordinator
) -> bool:
    return bool(await _require_admin(session, admin) & await programme_ids(session, coordinator))
