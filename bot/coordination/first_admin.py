"""The first admin of a fresh install, made at the command line (`coordinator init`): until
someone is an admin, no page can add one. From then on admins add their colleagues in the
dashboard, and this refuses. Channel-neutral."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination.audit_trail import audit_account
from bot.coordination.coordinators import CoordinationError, invite_coordinator
from bot.coordination.login_codes import issue_login_code
from storage import repositories as repo
from storage.models import Coordinator, CoordinatorRole


class FirstAdminRefused(CoordinationError):
    """There is an admin already (or nothing to be admin of); the message says what to do."""


@dataclass(frozen=True)
class FirstAdmin:
    coordinator: Coordinator
    programmes: list[str]  # the codes of the programmes they are admin of
    login_code: str  # one-time: with it they choose their own dashboard password
    invite_code: str  # one-time: `/coordinator CODE` links their Telegram account


async def create_first_admin(
    session: AsyncSession, name: str, email: str, language: str = "en"
) -> FirstAdmin:
    """The first admin: a site owner (an admin of every programme, later ones too, who reads
    the whole audit log), admin of each programme in the database, with their e-mail and a
    one-time log-in code; nobody chooses their password for them. Refused once anyone is an
    admin or a site owner, and with nothing to be admin of. A bad or taken e-mail raises
    AccountError (the caller rolls back: nothing is kept)."""
    if not name.strip():
        raise FirstAdminRefused("--name: the first admin needs a name")
    await _refuse_if_an_admin_exists(session)
    programmes = await repo.programmes(session)
    if not programmes:
        raise FirstAdminRefused(
            "there is no programme yet: put a programme file in PROGRAMMES_DIR and start "
            "again (every start seeds the programmes)"
        )
    first, *others = programmes
    coordinator, invite_code = await invite_coordinator(
        session, first.code, name.strip(), "admin", language
    )
    session.add_all(
        CoordinatorRole(coordinator_id=coordinator.id, programme_id=programme.id, role="admin")
        for programme in others
    )
    coordinator.site_owner = True
    await audit_account(session, None, "make_site_owner", coordinator, detail=coordinator.name)
    login_code = await issue_login_code(session, coordinator, email, issued_by=None)
    return FirstAdmin(coordinator, [p.code for p in programmes], login_code, invite_code)


async def _refuse_if_an_admin_exists(session: AsyncSession) -> None:
    admins = select(CoordinatorRole.coordinator_id).where(CoordinatorRole.role == "admin")
    existing = await session.scalar(
        select(Coordinator)
        .where(or_(Coordinator.site_owner, Coordinator.id.in_(admins)))
        .order_by(Coordinator.id)
        .limit(1)
    )
    if existing is None:
        return
    who = f"coordinator {existing.id} ({existing.name})"
    if existing.email is None:
        raise FirstAdminRefused(
            f"{who} is an admin already, without a dashboard log-in: give them one with "
            f"`python -m bot coordinator login --id {existing.id} --email E`"
        )
    raise FirstAdminRefused(
        f"{who} is an admin already: admins add colleagues on the dashboard's Coordinators "
        "page (or use `coordinator add` and `coordinator login` here)"
    )
