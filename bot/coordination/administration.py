"""What an admin may see and do: the audit log of their programmes, and their programmes'
coordinators (add one, reset their web log-in with a one-time code, change a role). A site
owner is an admin of every programme and sees every audit entry. Channel-neutral."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.coordination.audit_trail import audit
from bot.coordination.coordinators import (
    CoordinationError,
    invite_coordinator,
    programme_ids,
)
from bot.coordination.login_codes import issue_login_code
from storage.models import (
    AuditEntry,
    Coordinator,
    CoordinatorRole,
    Flag,
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
    """The programmes the coordinator is an admin of (all of them for a site owner), by name.
    Every admin right is decided from this list."""
    query = select(Programme).order_by(Programme.name)
    if not coordinator.site_owner:
        query = query.join(CoordinatorRole, CoordinatorRole.programme_id == Programme.id).where(
            CoordinatorRole.coordinator_id == coordinator.id, CoordinatorRole.role == "admin"
        )
    return list(await session.scalars(query))


async def _require_admin(session: AsyncSession, admin: Coordinator) -> set[int]:
    programmes = {p.id for p in await admin_programmes(session, admin)}
    if not programmes:
        raise NotAdmin("only an admin may do this")
    return programmes


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    who: str | None  # the acting coordinator's name; None: the operator at the command line
    programme: str | None  # the name of the programme it concerned
    account: str | None  # for an account event: whose account
    day_only: bool = False  # about an anonymous flag: its time is kept to the day


async def audit_log(
    session: AsyncSession, viewer: Coordinator, *, action: str | None = None, page: int = 0
) -> list[AuditRow]:
    """Newest first, the entries the viewer may read: those of the programmes they are an
    admin of, and the account events (log-ins, locks, passwords, resets: no programme) of
    accounts that work in one of those programmes. What a coordinator shared with another
    programme did there is not shown. A site owner reads every entry, including the few with
    neither a programme nor an account (old entries that could not be placed)."""
    mine = await _require_admin(session, viewer)
    actor, account = aliased(Coordinator), aliased(Coordinator)
    query = (
        select(AuditEntry, actor.name, Programme.name, account.name, Flag.anonymous)
        .outerjoin(actor, actor.id == AuditEntry.coordinator_id)
        .outerjoin(Programme, Programme.id == AuditEntry.programme_id)
        .outerjoin(account, account.id == AuditEntry.account_id)
        .outerjoin(Flag, Flag.id == AuditEntry.flag_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(PAGE_SIZE)
        .offset(page * PAGE_SIZE)
    )
    if not viewer.site_owner:
        accounts_here = select(CoordinatorRole.coordinator_id).where(
            CoordinatorRole.programme_id.in_(mine)
        )
        query = query.where(
            or_(
                AuditEntry.programme_id.in_(mine),
                and_(
                    AuditEntry.programme_id.is_(None),
                    AuditEntry.account_id.in_(accounts_here),
                ),
            )
        )
    if action:
        query = query.where(AuditEntry.action == action)
    rows = await session.execute(query)
    return [
        AuditRow(entry, who, programme, whose, bool(anonymous))
        for entry, who, programme, whose, anonymous in rows
    ]


@dataclass
class Colleague:
    coordinator: Coordinator
    roles: dict[int, str]  # programme id -> role, for the admin's programmes
    # Works in a programme the admin is not an admin of: their log-in is not the admin's to reset.
    elsewhere: bool = False
    # A site owner, and the admin is not one: their log-in is not the admin's to reset either.
    owner: bool = False


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
    for entry in found.values():
        entry.owner = entry.coordinator.site_owner and not admin.site_owner
    return list(found.values())


async def may_reset_login(
    session: AsyncSession, admin: Coordinator, colleague: Coordinator
) -> bool:
    """Whether `admin` may reset `colleague`'s log-in (their e-mail, and a one-time code for a
    new password): only as an admin of every programme the colleague works in, and for a site
    owner's log-in only as a site owner. Otherwise an admin of one programme could take over
    the account of someone who is admin of another (or of the site) and act there as them."""
    if colleague.site_owner and not admin.site_owner:
        return False
    theirs = await programme_ids(session, colleague)
    return bool(theirs) and theirs <= await _require_admin(session, admin)


async def reset_colleague_login(
    session: AsyncSession, admin: Coordinator, colleague: Coordinator, email: str
) -> str:
    """A colleague's e-mail set and a one-time code for them to choose their own password
    (`may_reset_login` decides); the code is returned to be shown once, and the reset written
    to the audit log (without the code)."""
    if not await may_reset_login(session, admin, colleague):
        raise NotAdmin("only an admin of every programme they work in may reset their log-in")
    return await issue_login_code(session, colleague, email, issued_by=admin)


@dataclass(frozen=True)
class NewColleague:
    coordinator: Coordinator
    invite_code: str  # to link their Telegram account
    login_code: str | None  # to choose their dashboard password, when an e-mail was given


async def add_colleague(
    session: AsyncSession,
    admin: Coordinator,
    programme: Programme,
    name: str,
    role: str,
    language: str,
    email: str | None = None,
) -> NewColleague:
    """A new coordinator of one of the admin's programmes: their Telegram invite code, and, if
    an e-mail is given, a one-time code with which they choose their dashboard password."""
    if programme.id not in await _require_admin(session, admin):
        raise NotAdmin("you are not an admin of this programme")
    if role not in ROLES:
        raise ColleagueInvalid("role", f"unknown role '{role}'")
    if not name.strip():
        raise ColleagueInvalid("name", "a name is needed")
    coordinator, code = await invite_coordinator(
        session, programme.code, name.strip(), role, language
    )
    await audit(
        session, admin, "add_coordinator", programme_id=programme.id,
        detail=f"{coordinator.name} ({role})",
    )  # fmt: skip
    login_code = None
    if email:
        login_code = await issue_login_code(session, coordinator, email, issued_by=admin)
    return NewColleague(coordinator, code, login_code)


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
        session, admin, "set_role", programme_id=programme.id,
        detail=f"{colleague.name}: {programme.code} {role or 'none'}",
    )  # fmt: skip


async def shares_a_programme(
    session: AsyncSession, admin: Coordinator, coordinator: Coordinator
) -> bool:
    return bool(await _require_admin(session, admin) & await programme_ids(session, coordinator))
