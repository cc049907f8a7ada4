"""Helpers for dashboard tests: an httpx client on the ASGI app, a log-in, the form's CSRF
token, and a small world of two programmes (Sara coordinates bridge, Otto elsewhere)."""

from __future__ import annotations

import re

import httpx

import bot.coordination.accounts as accounts
from bot.coordination import invite_coordinator
from bot.core import Core
from storage import repositories as repo
from storage.models import CoordinatorRole, Flag, Participant
from tests.course import programme_elsewhere

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
