"""Helpers for dashboard tests: an httpx client on the ASGI app, a log-in, the form's CSRF
token, and a small world of two programmes (Sara coordinates bridge, Otto elsewhere); for the
participant and match pages, their people (`world`)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select

import bot.coordination.accounts as accounts
from bot.coordination import invite_coordinator
from bot.core import Core
from storage import repositories as repo
from storage.models import (
    AuditEntry,
    Coordinator,
    CoordinatorRole,
    Flag,
    Match,
    Participant,
    SurveyRun,
)
from tests.course import enrolled, programme_elsewhere

Client = httpx.AsyncClient
PASSWORD = "correct horse battery"
EVIL = "<script>alert('x')</script>"


async def seed(core: Core) -> dict[str, int]:
    """Sara (bridge) and Otto (elsewhere) with log-ins; Amina in bridge with a flag whose
    answer is a script; a flag in the other programme."""
    async with core.sessions() as session:
        elsewhere = await programme_elsewhere(session)
        bridge = await repo.programme_by_code(session, "bridge")
        assert bridge is not None
        ids = {}
        for name, code in (("Sara", "bridge"), ("Otto", "elsewhere")):
            coordinator, _ = await invite_coordinator(session, code, name)
            await accounts.set_login(session, coordinator, f"{name}@example.org", PASSWORD)
            ids[name] = coordinator.id
        amina = Participant(
            channel="test", channel_user_id="100", programme_id=bridge.id, language="en"
        )
        session.add(amina)
        await session.flush()
        mine = Flag(
            programme_id=bridge.id, participant_id=amina.id, category="talk_to_person",
            severity="soon", answer=EVIL,
        )  # fmt: skip
        theirs = Flag(programme_id=elsewhere.id, category="wants_to_stop", severity="urgent")
        session.add_all([mine, theirs])
        await session.commit()
        return {**ids, "amina": amina.id, "mine": mine.id, "theirs": theirs.id}


async def accounts_in_two_programmes(
    core: Core, roles_of: dict[str, dict[str, str]], owners: Collection[str] = ()
) -> dict[str, int]:
    """For tables of who may do what: the programme elsewhere beside bridge, and an account
    with a log-in (`<name>@example.org`, PASSWORD) for each name, with its role in each
    programme (code -> role); `owners` are site owners. Name -> coordinator id."""
    async with core.sessions() as session:
        bridge = await repo.programme_by_code(session, "bridge")
        assert bridge is not None
        programmes = {"bridge": bridge, "elsewhere": await programme_elsewhere(session)}
        ids = {}
        for name, roles in roles_of.items():
            coordinator = Coordinator(name=name, language="en", site_owner=name in owners)
            session.add(coordinator)
            await session.flush()
            for code, role in roles.items():
                session.add(
                    CoordinatorRole(
                        coordinator_id=coordinator.id, programme_id=programmes[code].id, role=role
                    )
                )
            await accounts.set_login(session, coordinator, f"{name}@example.org", PASSWORD)
            ids[name] = coordinator.id
        await session.commit()
    return ids


async def make_admin(core: Core, coordinator_id: int, code: str = "bridge") -> None:
    async with core.sessions() as session:
        programme = await repo.programme_by_code(session, code)
        assert programme is not None
        role = await session.get(CoordinatorRole, (coordinator_id, programme.id))
        assert role is not None
        role.role = "admin"
        await session.commit()


async def as_admin(core: Core, client: Client) -> dict[str, int]:
    """The small world of `seed`, with Sara an admin of bridge and logged in."""
    ids = await seed(core)
    await make_admin(core, ids["Sara"])
    await log_in(client)
    return ids


async def programme_id(core: Core, code: str = "bridge") -> int:
    async with core.sessions() as session:
        programme = await repo.programme_by_code(session, code)
        assert programme is not None
        return programme.id


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, "no CSRF token in the form"
    return found.group(1)


async def log_in(client: Client, name: str = "Sara", password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"csrf": csrf_of(page), "email": f"{name}@example.org", "password": password},
    )


def login_code_on(page: httpx.Response) -> str:
    """The one-time log-in code an admin's page shows."""
    found = re.search(r'<code class="code">([^<]+)</code>', page.text)
    assert found, "no one-time log-in code on the page"
    return found.group(1)


async def set_own_password(
    client: Client, email: str, code: str, password: str = PASSWORD, again: str | None = None
) -> httpx.Response:
    """A coordinator chooses their password with a one-time code, at /login/set-password."""
    form = await client.get("/login/set-password")
    return await client.post(
        "/login/set-password",
        data={
            "csrf": csrf_of(form), "email": email, "code": code, "password": password,
            "password_again": password if again is None else again,
        },
    )  # fmt: skip


@dataclass
class World:
    ids: dict[str, int]
    fatima: int  # bridge mentee, Arabic, waiting ten weeks
    nour: int  # bridge mentee, Danish, named like a script, waiting one week
    lars: int  # bridge mentor
    olga: int  # another programme's mentee
    erik: int  # another programme's mentor
    their_match: int


async def intake(
    core: Core, participant_id: int, name: str, done: datetime, **answers: object
) -> int:
    async with core.sessions() as session:
        run = await session.scalar(
            select(SurveyRun).where(SurveyRun.participant_id == participant_id)
        )
        run.completed_at = done
        await repo.record_answer(session, run.id, "name", name, at=done)
        for question, value in answers.items():
            await repo.record_answer(session, run.id, question, value, at=done)
        await session.commit()
        return run.id


async def world(core: Core) -> World:
    """Sara's programme (bridge): Fatima, Nour and Lars; Otto's (elsewhere): Olga and Erik,
    matched."""
    ids = await seed(core)
    now = core.clock.now()
    fatima = (await enrolled(core, "f", "mentee", language="ar", code="bridge")).id
    nour = (await enrolled(core, "n", "mentee", language="da", code="bridge")).id
    lars = (await enrolled(core, "l", "mentor", code="bridge")).id
    olga = (await enrolled(core, "o", "mentee", code="elsewhere")).id
    erik = (await enrolled(core, "e", "mentor", code="elsewhere")).id
    await intake(core, fatima, "Fatima", now - timedelta(weeks=10))
    await intake(core, nour, EVIL, now - timedelta(weeks=1))
    await intake(core, lars, "Lars", now - timedelta(weeks=3))
    await intake(core, olga, "Olga", now - timedelta(weeks=12))
    await intake(core, erik, "Erik", now - timedelta(weeks=12))
    async with core.sessions() as session:
        elsewhere = await repo.programme_by_code(session, "elsewhere")
        theirs = Match(
            programme_id=elsewhere.id, mentee_id=olga, mentor_id=erik,
            started_at=now - timedelta(days=40), planned_end_at=now + timedelta(days=140),
        )  # fmt: skip
        session.add(theirs)
        await session.commit()
        their_match = theirs.id
    return World(ids, fatima, nour, lars, olga, erik, their_match)


async def audit_entries(core: Core, action: str) -> list[AuditEntry]:
    async with core.sessions() as session:
        return list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )
