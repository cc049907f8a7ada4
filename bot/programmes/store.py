"""Programmes kept in the database. Their files seed them and keep applying at every start;
the settings an admin changed in the dashboard (DASHBOARD_FIELDS, checked by
ProgrammeSettings) stay over the file's. Running processes reload what changed
(Core.reload_programmes); who may change what is bot/coordination/programme_admin.py's."""

from __future__ import annotations

import copy
import logging
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

from bot.programmes.programme import (
    Programme,
    ProgrammeError,
    check_codes_unique,
    check_programme,
    is_help_line_number,
)
from bot.programmes.questionnaire import Questionnaire
from storage import repositories as repo
from storage.database import clock_now
from storage.models import Programme as ProgrammeRow

log = logging.getLogger(__name__)

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
            row.definition, row.name, row.updated_at = wanted, kept.name, clock_now(session)
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
    BAD_NUMBER = "bad_number"  # a help line that is not a phone number or an https link
    BAD_CODE = "bad_code"
    CODE_TAKEN = "code_taken"
    SAME_CODES = "same_codes"
    NOT_ALLOWED = "not_allowed"  # a template programme the admin does not run
    INVALID = "invalid"  # the whole definition fails a rule the form does not show


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

    def problems(self, known_languages: list[str], country: str) -> dict[str, Problem]:
        """What is wrong, by field; `country` is the programme's, whose numbers the help lines
        must be."""
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
        elif not all(is_help_line_number(number, country) for _, number in lines):
            found["help_lines"] = Problem.BAD_NUMBER
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
