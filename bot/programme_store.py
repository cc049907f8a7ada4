"""Programmes kept in the database. Their files seed them and keep applying at every start;
admins change a programme's settings (DASHBOARD_FIELDS) and start new programmes in the
dashboard, and the database keeps those settings over the file's. Running processes reload
what changed (Core.reload_programmes)."""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.administration import NotAdmin, admin_programmes
from bot.coordination import CoordinationError, audit
from bot.programme import Programme, ProgrammeError, check_codes_unique, check_programme
from bot.questionnaire import Questionnaire
from storage import repositories as repo
from storage.models import Coordinator, CoordinatorRole, utcnow
from storage.models import Programme as ProgrammeRow

log = logging.getLogger(__name__)

CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # Telegram's deep-link payload alphabet
MAX_HELP_LINES = 5
# What an admin sets in the dashboard (ProgrammeSettings). The rest of a programme
# (questionnaires, schedule, anonymity) stays with its file, which keeps applying.
DASHBOARD_FIELDS = ("name", "languages", "timezone", "coordinator_reply_days", "help_lines")


@dataclass(frozen=True)
class ProgrammeSources:
    """What a programme's definition may refer to."""

    questionnaires: dict[str, Questionnaire]
    languages: list[str]
    base_dir: Path  # relative `audio` folders start here: the programme files' folder

    def check(self, data: object, where: str) -> Programme:
        return check_programme(data, where, self.questionnaires, self.languages, self.base_dir)


def _with_settings_of(data: dict[str, Any], edited: dict[str, Any]) -> dict[str, Any]:
    """A file's data with the settings an admin set in the dashboard put over it."""
    merged = dict(data)
    for field in DASHBOARD_FIELDS:
        if field in edited:
            merged[field] = edited[field]
        else:
            merged.pop(field, None)
    return merged


async def seed_from_files(
    session: AsyncSession, files: Mapping[str, dict[str, Any]], sources: ProgrammeSources
) -> list[str]:
    """Store each file's programme: a new one is added, and every other follows its file, but
    for the settings an admin changed in the dashboard (DASHBOARD_FIELDS), which the database
    keeps. Returns a warning for each file whose settings are not applied for that reason."""
    warnings = []
    for name, data in files.items():
        programme = sources.check(data, name)
        row = await repo.programme_by_code(session, programme.code)
        if row is None:
            try:
                async with session.begin_nested():
                    session.add(
                        ProgrammeRow(code=programme.code, name=programme.name, definition=data)
                    )
            except IntegrityError:
                pass  # the bot and the dashboard started together, and the other one was first
            continue
        wanted, kept = data, programme
        if row.edited_at is not None and row.definition is not None:
            wanted = _with_settings_of(data, row.definition)
            kept = sources.check(wanted, name)
            ignored = [f for f in DASHBOARD_FIELDS if getattr(programme, f) != getattr(kept, f)]
            if ignored:
                warnings.append(
                    f"{name}: the file's {', '.join(ignored)} not applied: an admin changed the "
                    f"programme's settings in the dashboard on {row.edited_at:%Y-%m-%d} "
                    f"(`python -m bot programmes export {row.code}` writes it as it is)"
                )
        if row.definition != wanted:
            row.definition, row.name, row.updated_at = wanted, kept.name, utcnow()
    await session.flush()
    return warnings


async def stored_programmes(
    session: AsyncSession, sources: ProgrammeSources
) -> dict[str, Programme]:
    """Every programme with a definition, checked as strictly as a file is."""
    programmes: dict[str, Programme] = {}
    for row in await session.scalars(
        select(ProgrammeRow).where(ProgrammeRow.definition.is_not(None)).order_by(ProgrammeRow.id)
    ):
        where = f"programme '{row.code}' (in the database)"
        programme = sources.check(row.definition, where)
        check_codes_unique(programmes, programme, where)
        programmes[programme.code] = programme
    if not programmes:
        raise ProgrammeError(f"no programmes: add a file to {sources.base_dir} (*.yaml)")
    return programmes


async def programme_versions(session: AsyncSession) -> dict[str, datetime]:
    """Each programme's last change, to tell whether anything needs reloading."""
    rows = await session.execute(select(ProgrammeRow.code, ProgrammeRow.updated_at))
    return {code: updated for code, updated in rows}


async def programme_edits(session: AsyncSession) -> dict[str, datetime]:
    """When each programme changed in the dashboard was last changed there."""
    rows = await session.execute(
        select(ProgrammeRow.code, ProgrammeRow.edited_at).where(ProgrammeRow.edited_at.is_not(None))
    )
    return {code: edited for code, edited in rows if edited is not None}


async def programme_definition(session: AsyncSession, code: str) -> dict[str, Any] | None:
    row = await repo.programme_by_code(session, code)
    return None if row is None else row.definition


class Problem(StrEnum):
    """What is wrong with a field of the programme form; the dashboard words it."""

    MISSING = "missing"
    UNKNOWN_LANGUAGE = "unknown_language"
    UNKNOWN_TIMEZONE = "unknown_timezone"
    OUT_OF_RANGE = "out_of_range"
    INCOMPLETE = "incomplete"  # a help line with a label and no number, or the other way
    BAD_CODE = "bad_code"
    CODE_TAKEN = "code_taken"
    SAME_CODES = "same_codes"
    NOT_ALLOWED = "not_allowed"  # a template programme the admin does not run
    INVALID = "invalid"  # the whole definition fails a rule the form does not show


class ProgrammeInvalid(CoordinationError):
    """The form's fields and what is wrong with each."""

    def __init__(self, problems: dict[str, Problem], detail: str = "") -> None:
        super().__init__(
            detail or "; ".join(f"{field}: {problem.value}" for field, problem in problems.items())
        )
        self.problems = problems


@dataclass(frozen=True)
class ProgrammeSettings:
    """What an admin sets in the dashboard. Questionnaires, schedule and anonymity stay as
    the programme file (or the template) has them: they are reviewed content, and anonymity
    may not change once answers exist (bot/core.py: check_anonymity_locks)."""

    name: str
    languages: tuple[str, ...]
    timezone: str
    coordinator_reply_days: str
    help_lines: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, programme: Programme) -> ProgrammeSettings:
        return cls(
            name=programme.name,
            languages=programme.languages,
            timezone=programme.timezone or "",
            coordinator_reply_days=str(programme.coordinator_reply_days),
            help_lines=tuple((line.label, line.number) for line in programme.help_lines),
        )

    def problems(self, known_languages: list[str]) -> dict[str, Problem]:
        found: dict[str, Problem] = {}
        if not self.name.strip():
            found["name"] = Problem.MISSING
        if not self.languages:
            found["languages"] = Problem.MISSING
        elif not set(self.languages) <= set(known_languages):
            found["languages"] = Problem.UNKNOWN_LANGUAGE
        if self.timezone.strip():
            try:
                ZoneInfo(self.timezone.strip())
            except (KeyError, ValueError):
                found["timezone"] = Problem.UNKNOWN_TIMEZONE
        days = self.coordinator_reply_days.strip()
        if not (days.isdigit() and 1 <= int(days) <= 14):
            found["coordinator_reply_days"] = Problem.OUT_OF_RANGE
        lines = self._lines()
        if any(not label or not number for label, number in lines):
            found["help_lines"] = Problem.INCOMPLETE
        elif not lines:
            found["help_lines"] = Problem.MISSING
        return found

    def _lines(self) -> list[tuple[str, str]]:
        return [
            (label.strip(), number.strip())
            for label, number in self.help_lines
            if label.strip() or number.strip()
        ][:MAX_HELP_LINES]

    def applied_to(self, definition: dict[str, Any]) -> dict[str, Any]:
        changed = copy.deepcopy(definition)
        changed["name"] = self.name.strip()
        changed["languages"] = list(dict.fromkeys(self.languages))
        if self.timezone.strip():
            changed["timezone"] = self.timezone.strip()
        else:
            changed.pop("timezone", None)
        changed["coordinator_reply_days"] = int(self.coordinator_reply_days.strip())
        changed["help_lines"] = [
            {"label": label, "number": number} for label, number in self._lines()
        ]
        return changed


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
    problems = settings.problems(sources.languages)
    if problems:
        raise ProgrammeInvalid(problems)
    assert row.definition is not None
    definition = settings.applied_to(row.definition)
    programme = _checked(sources, definition, code)
    now = utcnow()
    row.definition, row.name, row.updated_at, row.edited_at = definition, programme.name, now, now
    await audit(session, admin, "change_programme", detail=code)
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
    problems = settings.problems(sources.languages)
    code, mentor_code = code.strip(), mentor_code.strip()
    try:
        template = await _administered(session, admin, template_code)
    except NotAdmin:
        problems["template"] = Problem.NOT_ALLOWED
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
    now = utcnow()
    row = ProgrammeRow(
        code=code, name=programme.name, definition=definition, updated_at=now, edited_at=now
    )
    session.add(row)
    await session.flush()
    session.add(CoordinatorRole(coordinator_id=admin.id, programme_id=row.id, role="admin"))
    await audit(session, admin, "create_programme", detail=f"{code} (from {template_code})")
    await session.flush()
    return programme
