"""What is kept of *when* for anything an anonymous answer wrote: the day, never the time.

An exact time can be matched against what a person does under her name (her named answers,
when she was last active, her Telegram messages) and so undo the pseudonym of an anonymous
answer. So the runs and answers of anonymous questionnaires, the flags they raise, and the
audit entries and notes about those flags store their times as a day only, when they are
written (docs/PRIVACY.md).

The day is the programme's calendar day (its time zone, else the TIMEZONE setting): the day
the person and the coordinator live in, by which the days to answer a flag are counted. It is
stored as midnight UTC of that date, so that it reads as a date in the database and in exports
whatever the zone, and a later change of the programme's zone does not move it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import clock_now
from storage.models import Programme

DEFAULT_ZONE = "UTC"  # of sessions made without one (the core gives its TIMEZONE)


def day_only(moment: datetime, zone: ZoneInfo) -> datetime:
    """The moment's calendar day in `zone`, as midnight UTC of that date."""
    return datetime.combine(moment.astimezone(zone).date(), time(0), tzinfo=UTC)


def day_of(kept: datetime) -> date:
    """The calendar day a value written by `day_only` stands for."""
    return kept.astimezone(UTC).date()


def zone_of_definition(definition: object, default: str) -> ZoneInfo:
    """The time zone a stored programme definition names, else `default`."""
    named = definition.get("timezone") if isinstance(definition, dict) else None
    return ZoneInfo(named if isinstance(named, str) and named else default)


async def programme_zone(session: AsyncSession, programme_id: int | None) -> ZoneInfo:
    """The programme's time zone, else the zone the session was made with (TIMEZONE)."""
    default = str(session.info.get("timezone", DEFAULT_ZONE))
    programme = await session.get(Programme, programme_id) if programme_id is not None else None
    return zone_of_definition(programme.definition if programme else None, default)


async def today_only(session: AsyncSession, programme_id: int | None) -> datetime:
    """Today by the session's clock, in the programme's zone, kept to the day."""
    return day_only(clock_now(session), await programme_zone(session, programme_id))
