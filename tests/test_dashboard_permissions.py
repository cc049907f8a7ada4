"""Who may do what to whom on the dashboard (issue 14): each kind of account against each action
on the objects of each of two programmes the bot runs, bridge and harbour. Table-driven: the
expected answer follows from the account's role in the programme concerned, nothing else.
A refused action leaves every table as it was. (Setting a colleague's log-in has its own table
in test_dashboard_takeover.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import bot.coordination.accounts as accounts
from bot.clock import Clock
from bot.core import Core, build_core
from bot.settings import Settings
from storage import repositories as repo
from storage.models import Base, Coordinator, CoordinatorRole, Flag, Match
from tests.course import enrolled
from tests.dashboard import PASSWORD, Client, csrf_of, log_in

PROGRAMMES = ("bridge", "harbour")

# name -> role by programme
ACCOUNTS: dict[str, dict[str, str]] = {
    "Cole": {"bridge": "coordinator"},
    "Ada": {"bridge": "admin"},
    "Bo": {"bridge": "coordinator", "harbour": "admin"},  # shared, admin of the other one
    "Eve": {"harbour": "coordinator"},
}

# action -> the role it needs in the object's programme
NEEDS = {
    "see the flag": "coordinator",
    "take the flag": "coordinator",
    "write a note on the flag": "coordinator",
    "resolve the flag": "coordinator",
    "message the person of the flag": "coordinator",
    "see the person": "coordinator",
    "match two people": "coordinator",
    "see the mentors suggested for a mentee": "coordinator",
    "match a mentee with a mentor from her page": "coordinator",
    "end a match": "coordinator",
    "open the programme's settings": "admin",
    "change a colleague's role": "admin",
}

# Rows that any request writes, allowed or not: the log-in's last use.
BOOKKEEPING = {"web_sessions"}
# A refused form is shown again with its reason, and showing a page is logged.
REFUSED = (403, 404, 400)


def may(account: str, action: str, programme: str) -> bool:
    role = ACCOUNTS[account].get(programme)
    return role is not None and (NEEDS[action] == "coordinator" or role == "admin")


@dataclass
class Objects:
    """What each action acts on, one set per programme, so that no action changes another's."""

    flags: dict[str, int]  # action -> flag id
    person: int
    mentee: int
    mentor: int
    match: int
    colleague: int  # a coordinator of this programme only
    programme_id: int
    picked_mentee: int = 0  # matched from her page, with a mentor picked there
    picked_mentor: int = 0


@pytest.fixture
async def core(settings: Settings, clock: Clock, tmp_path: Path) -> AsyncIterator[Core]:
    """The shipped programme and a second one made from it (`client` speaks to this core)."""
    folder = tmp_path / "programmes"
    folder.mkdir()
    bridge = (settings.programmes_dir / "bridge.yaml").read_text(encoding="utf-8")
    (folder / "bridge.yaml").write_text(bridge, encoding="utf-8")
    harbour = bridge.replace("code: bridge", "code: harbour").replace(
        "mentor_code: bridge-mentor", "mentor_code: harbour-mentor"
    )
    (folder / "harbour.yaml").write_text(harbour, encoding="utf-8")
    core = await build_core(settings.model_copy(update={"programmes_dir": folder}), clock)
    yield core
    await core.close()


async def objects_of(core: Core, code: str) -> Objects:
    person = await enrolled(core, f"{code}-person", "mentee", code=code)
    mentee = await enrolled(core, f"{code}-mentee", "mentee", code=code)
    mentor = await enrolled(core, f"{code}-mentor", "mentor", code=code)
    matched_mentee = await enrolled(core, f"{code}-matched-mentee", "mentee", code=code)
    matched_mentor = await enrolled(core, f"{code}-matched-mentor", "mentor", code=code)
    now = core.clock.now()
    async with core.sessions() as session:
        programme = await repo.programme_by_code(session, code)
        assert programme is not None
        flags = {}
        for action in NEEDS:
            if "flag" in action:
                flag = Flag(
                    programme_id=programme.id, participant_id=person.id,
                    category="talk_to_person", severity="soon",
                )  # fmt: skip
                session.add(flag)
                await session.flush()
                flags[action] = flag.id
        match = Match(
            programme_id=programme.id, mentee_id=matched_mentee.id,
            mentor_id=matched_mentor.id, started_at=now, planned_end_at=now,
        )  # fmt: skip
        colleague = Coordinator(name=f"Colleague in {code}", language="en")
        session.add_all([match, colleague])
        await session.flush()
        session.add(
            CoordinatorRole(
                coordinator_id=colleague.id, programme_id=programme.id, role="coordinator"
            )
        )
        await session.commit()
    picked_mentee = await enrolled(core, f"{code}-picked-mentee", "mentee", code=code)
    picked_mentor = await enrolled(core, f"{code}-picked-mentor", "mentor", code=code)
    return Objects(
        flags, person.id, mentee.id, mentor.id, match.id, colleague.id, programme.id,
        picked_mentee.id, picked_mentor.id,
    )  # fmt: skip


async def accounts_in(core: Core) -> None:
    async with core.sessions() as session:
        for name, roles in ACCOUNTS.items():
            coordinator = Coordinator(name=name, language="en")
            session.add(coordinator)
            await session.flush()
            for code, role in roles.items():
                programme = await repo.programme_by_code(session, code)
                assert programme is not None
                session.add(
                    CoordinatorRole(
                        coordinator_id=coordinator.id, programme_id=programme.id, role=role
                    )
                )
            await accounts.set_login(session, coordinator, f"{name}@example.org", PASSWORD)
        await session.commit()


def request_for(action: str, code: str, of: Objects) -> tuple[str, str, dict[str, str]]:
    """The method, the path and the form of `action` on programme `code`'s objects."""
    flag = of.flags.get(action)
    requests: dict[str, tuple[str, str, dict[str, str]]] = {
        "see the flag": ("GET", f"/flags/{flag}", {}),
        "take the flag": ("POST", f"/flags/{flag}/assign", {}),
        "write a note on the flag": ("POST", f"/flags/{flag}/note", {"note": "Called her."}),
        "resolve the flag": (
            "POST",
            f"/flags/{flag}/resolve",
            {"outcome": "Talked it through.", "confirm": "1"},
        ),
        "message the person of the flag": ("POST", f"/flags/{flag}/message", {"text": "Hello"}),
        "see the person": ("GET", f"/participants/{of.person}", {}),
        "match two people": (
            "POST",
            "/matches",
            {"mentee": str(of.mentee), "mentor": str(of.mentor), "start": ""},
        ),
        "see the mentors suggested for a mentee": (
            "GET",
            f"/participants/{of.picked_mentee}?mentor={of.picked_mentor}",
            {},
        ),
        "match a mentee with a mentor from her page": (
            "POST",
            f"/participants/{of.picked_mentee}/match",
            {"mentor": str(of.picked_mentor)},
        ),
        "end a match": (
            "POST",
            f"/matches/{of.match}/end",
            {"reason": "completed", "date": ""},
        ),
        "open the programme's settings": ("GET", f"/admin/programmes/{code}", {}),
        "change a colleague's role": (
            "POST",
            f"/admin/coordinators/{of.colleague}/role",
            {"programme": str(of.programme_id), "role": "coordinator"},
        ),
    }
    return requests[action]


async def every_row(core: Core) -> dict[str, list[tuple[Any, ...]]]:
    async with core.sessions() as session:
        rows = {}
        for table in Base.metadata.sorted_tables:
            if table.name not in BOOKKEEPING:
                result = await session.execute(select(table).order_by(*table.primary_key))
                rows[table.name] = [tuple(row) for row in result if not _a_page_shown(row)]
        return rows


def _a_page_shown(row: Any) -> bool:
    return getattr(row, "action", None) == "view"


@pytest.mark.parametrize("account", list(ACCOUNTS))
async def test_each_account_may_do_what_its_role_in_the_programme_allows(
    core: Core, client: Client, account: str
) -> None:
    objects = {code: await objects_of(core, code) for code in PROGRAMMES}
    await accounts_in(core)
    assert (await log_in(client, account)).status_code == 303
    csrf = csrf_of(await client.get("/settings"))
    wrong: list[str] = []
    for action in NEEDS:
        for code in PROGRAMMES:
            method, path, form = request_for(action, code, objects[code])
            before = await every_row(core)
            if method == "GET":
                answer = await client.get(path)
            else:
                answer = await client.post(path, data={"csrf": csrf, **form})
            allowed = answer.status_code in (200, 303)
            expected = may(account, action, code)
            if allowed != expected or answer.status_code not in (200, 303, *REFUSED):
                wrong.append(f"{action} in {code}: {answer.status_code}")
            if not expected and await every_row(core) != before:
                wrong.append(f"{action} in {code}: refused, but the database changed")
    assert wrong == [], f"{account} ({ACCOUNTS[account]}): {wrong}"
