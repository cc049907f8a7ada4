"""One flag as a coordinator reads it on the dashboard: who (unless the flag is anonymous), the
question and the answer, when it came and by when to answer, the help lines the person was shown
after words that suggest danger, and what happened on it since.

An anonymous flag carries no person: nothing here looks one up for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import DANGER, raised_on, reply_due
from bot.language import _, kept_day, language_for_reader, local_day, local_moment, zone_of
from bot.people.participants import names_of
from bot.people.profile import FlagContext, flag_context
from bot.people.timeline import TimelineEntry, timeline_entry
from bot.programmes import Programme, Questionnaire
from storage import repositories as repo
from storage.models import (
    AuditEntry,
    Coordinator,
    Flag,
    FlagStatus,
    Participant,
    ParticipantStatus,
)
from storage.models import Programme as ProgrammeRow

# What the audit log records on a flag that its history shows (views are left out).
HISTORY_ACTIONS = ("assign", "resolve")
# The order of a flag's history on one day, for an anonymous flag whose times are days only.
_HISTORY_ORDER = {"flag": 0, "assign": 1, "note": 2, "message": 2, "resolve": 3}
DEFAULT_REPLY_DAYS = Programme.model_fields["coordinator_reply_days"].default


@dataclass(frozen=True)
class FlagPage:
    """What the flag page shows, its texts in the reader's language."""

    flag: Flag
    context: FlagContext
    raised: str  # when it came, in the programme's zone, the reader's way
    due: str  # the day to answer by ("" for an info flag)
    late: bool  # that day has passed and the flag is still open
    name: str | None = None
    language: str = ""  # the person's language, named in the reader's language
    help_lines: tuple[tuple[str, str], ...] = ()  # (label, number) shown to the person
    history: list[TimelineEntry] = field(default_factory=list)


async def flag_page(
    session: AsyncSession,
    flag: Flag,
    questionnaires: dict[str, Questionnaire],
    programmes: Mapping[str, Programme],
    default_zone: str,
    now: datetime,
) -> FlagPage:
    """The flag in the active language (the reader's); the caller has checked it is theirs."""
    row = await session.get(ProgrammeRow, flag.programme_id) if flag.programme_id else None
    code = row.code if row else None
    definition = programmes.get(code) if code else None
    zone = zone_of(programmes, code, default_zone)
    due = _due(flag, definition, zone)
    help_lines: tuple[tuple[str, str], ...] = ()
    if flag.category == DANGER and definition is not None:
        help_lines = tuple((_(line.label), line.number) for line in definition.help_lines)
    name, language = await _person(session, flag)
    return FlagPage(
        flag=flag,
        context=await flag_context(session, flag, questionnaires),
        raised=kept_day(flag.created_at) if flag.anonymous else local_moment(flag.created_at, zone),
        due=_day(due, zone),
        late=flag.status != FlagStatus.RESOLVED and _passed(due, now, zone),
        name=name,
        language=language,
        help_lines=help_lines,
        history=await _history(session, flag, zone),
    )


async def due_days(
    session: AsyncSession,
    flags: Sequence[Flag],
    programmes: Mapping[str, Programme],
    default_zone: str,
) -> dict[int, str]:
    """Flag id to the day by which to answer it, the reader's way (info flags: none)."""
    ids = {f.programme_id for f in flags if f.programme_id is not None}
    rows = await session.execute(
        select(ProgrammeRow.id, ProgrammeRow.code).where(ProgrammeRow.id.in_(ids))
    )
    codes: dict[int, str] = {row_id: code for row_id, code in rows}
    found = {}
    for flag in flags:
        code = codes.get(flag.programme_id or 0)
        zone = zone_of(programmes, code, default_zone)
        day = _day(_due(flag, programmes.get(code) if code else None, zone), zone)
        if day:
            found[flag.id] = day
    return found


def _due(flag: Flag, definition: Programme | None, zone: ZoneInfo) -> date | None:
    days = definition.coordinator_reply_days if definition else DEFAULT_REPLY_DAYS
    return reply_due(raised_on(flag, zone), flag.severity, days, zone)


def _day(day: date | None, zone: ZoneInfo) -> str:
    # Noon of the day: the same day in the zone whatever its offset.
    return local_day(datetime.combine(day, time(12), tzinfo=zone), zone) if day else ""


def _passed(day: date | None, now: datetime, zone: ZoneInfo) -> bool:
    return day is not None and now.astimezone(zone).date() > day


async def _person(session: AsyncSession, flag: Flag) -> tuple[str | None, str]:
    if flag.participant_id is None:
        return None, ""
    person = await session.get(Participant, flag.participant_id)
    if person is None or person.status == ParticipantStatus.WITHDRAWN:
        return None, ""
    names = await names_of(session, [person.id])
    return names.get(person.id), language_for_reader(person.language) if person.language else ""


async def _history(session: AsyncSession, flag: Flag, zone: ZoneInfo) -> list[TimelineEntry]:
    """When it came, messages, notes, who took it and the resolution, oldest first."""
    thread = await repo.flag_thread(session, flag.id)
    actions = list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.flag_id == flag.id, AuditEntry.action.in_(HISTORY_ACTIONS))
            .order_by(AuditEntry.id)
        )
    )
    ids = {m.coordinator_id for m in thread} | {a.coordinator_id for a in actions}
    writers = {
        c.id: c.name
        for c in await session.scalars(
            select(Coordinator).where(Coordinator.id.in_([i for i in ids if i is not None]))
        )
    }
    kept = flag.anonymous  # its times, but for messages with a person who gave her name
    entries = [timeline_entry(flag.created_at, zone, "flag", day_only=kept)]
    for message in thread:
        entries.append(
            timeline_entry(
                message.sent_at, zone, "note" if message.internal else "message",
                day_only=kept and message.internal, text=message.text,
                writer=writers.get(message.coordinator_id or 0, ""),
                state="coordinator" if message.coordinator_id is not None else "participant",
            )
        )  # fmt: skip
    for action in actions:
        entries.append(
            timeline_entry(
                action.at, zone, action.action, day_only=kept,
                writer=writers.get(action.coordinator_id or 0, ""),
                text=(action.detail or "") if action.action == "resolve" else "",
            )
        )  # fmt: skip
    # Stable on one day: an anonymous flag's entries share their day (the sort keeps each
    # kind's own order, by number).
    entries.sort(key=lambda e: (e.at, _HISTORY_ORDER.get(e.kind, 9)))
    return entries
