"""Admins change the settings of the programmes they run and start new programmes from them.
Every change is checked in full before anything is written, and goes to the audit log."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination.administration import NotAdmin, admin_programmes
from bot.coordination.audit_trail import audit
from bot.coordination.coordinators import CoordinationError
from bot.programmes import (
    DEFAULT_COUNTRY,
    Problem,
    Programme,
    ProgrammeError,
    ProgrammeSettings,
    ProgrammeSources,
)
from storage import repositories as repo
from storage.database import clock_now
from storage.models import Coordinator, CoordinatorRole
from storage.models import Programme as ProgrammeRow

CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # Telegram's deep-link payload alphabet


class ProgrammeInvalid(CoordinationError):
    """The form's fields and what is wrong with each."""

    def __init__(self, problems: dict[str, Problem], detail: str = "") -> None:
        super().__init__(
            detail or "; ".join(f"{field}: {problem.value}" for field, problem in problems.items())
        )
        self.problems = problems


def _country(definition: dict[str, Any]) -> str:
    return str(definition.get("country", DEFAULT_COUNTRY))


def _checked(sources: ProgrammeSources, definition: dict[str, Any], code: str) -> Programme:
    try:
        return sources.check(definition, f"programme '{code}'")
    except ProgrammeError as error:
        raise ProgrammeInvalid({"definition": Problem.INVALID}, str(error)) from None


async def _administered(session: AsyncSession, admin: Coordinator, code: str) -> ProgrammeRow:
    for row in await admin_programmes(session, admin):
        if row.code == code and row.definition is not None:
            return row
    raise NotAdmin("you are not an admin of this programme")


async def change_programme(
    session: AsyncSession,
    admin: Coordinator,
    code: str,
    settings: ProgrammeSettings,
    sources: ProgrammeSources,
) -> Programme:
    """An admin's change to one of their programmes' settings, which the database keeps over
    the file's from now on. Refuses before it writes anything, so the caller has nothing to
    roll back."""
    row = await _administered(session, admin, code)
    assert row.definition is not None
    problems = settings.problems(sources.languages, _country(row.definition))
    if problems:
        raise ProgrammeInvalid(problems)
    assert row.definition is not None
    definition = settings.applied_to(row.definition)
    programme = _checked(sources, definition, code)
    now = clock_now(session)
    row.definition, row.name, row.updated_at, row.edited_at = definition, programme.name, now, now
    await audit(session, admin, "change_programme", programme_id=row.id, detail=code)
    await session.flush()
    return programme


async def create_programme(
    session: AsyncSession,
    admin: Coordinator,
    template_code: str,
    code: str,
    mentor_code: str,
    settings: ProgrammeSettings,
    sources: ProgrammeSources,
    programmes: Mapping[str, Programme],
) -> Programme:
    """A new programme with the questionnaires, schedule and anonymity of one the admin runs;
    the admin becomes its admin. Refuses before it writes anything."""
    if not await admin_programmes(session, admin):
        raise NotAdmin("only an admin may do this")
    code, mentor_code = code.strip(), mentor_code.strip()
    try:
        template = await _administered(session, admin, template_code)
    except NotAdmin:
        problems = settings.problems(sources.languages, DEFAULT_COUNTRY)
        problems["template"] = Problem.NOT_ALLOWED
    else:
        assert template.definition is not None
        problems = settings.problems(sources.languages, _country(template.definition))
    for field, value in (("code", code), ("mentor_code", mentor_code)):
        if field == "code" or value:
            if not CODE.match(value):
                problems[field] = Problem.BAD_CODE
            elif await repo.programme_by_code(session, value) is not None or any(
                value.lower() in {p.code.lower(), (p.mentor_code or "").lower()}
                for p in programmes.values()
            ):
                problems[field] = Problem.CODE_TAKEN
    if mentor_code and mentor_code.lower() == code.lower():
        problems["mentor_code"] = Problem.SAME_CODES
    if problems:
        raise ProgrammeInvalid(problems)
    assert template.definition is not None
    definition = settings.applied_to(template.definition)
    definition["code"] = code
    if mentor_code:
        definition["mentor_code"] = mentor_code
    else:
        # Without a mentor link the programme has no mentor intake; mentors join elsewhere.
        definition.pop("mentor_code", None)
        definition["intake"] = {
            role: survey for role, survey in definition["intake"].items() if role != "mentor"
        }
    programme = _checked(sources, definition, code)
    now = clock_now(session)
    row = ProgrammeRow(
        code=code, name=programme.name, definition=definition, updated_at=now, edited_at=now
    )
    session.add(row)
    await session.flush()
    session.add(CoordinatorRole(coordinator_id=admin.id, programme_id=row.id, role="admin"))
    await audit(
        session, admin, "create_programme", programme_id=row.id,
        detail=f"{code} (from {template_code})",
    )  # fmt: skip
    await session.flush()
    return programme
