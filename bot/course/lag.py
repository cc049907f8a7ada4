"""How far the dispatcher is behind: for each programme, how late its oldest due scheduled
contact is (the `mentorbot_dispatcher_lag_seconds` gauge).

A contact that falls due waits for nothing but the next round (`DISPATCH_INTERVAL`), so the
lag stays below that while the dispatcher keeps up. What is meant to wait is not late: during
a programme's quiet hours nothing of it is (its lag is 0), and a contact that fell due in the
night is late only from the morning on. A check-in that waits for the person to finish
another survey counts as late, for at most the programme's `reminder_pause`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.language import zone_of
from bot.programmes import Programme
from storage.models import Contact, ContactState, Participant
from storage.models import Programme as ProgrammeRow


async def dispatcher_lag(
    session: AsyncSession, programmes: Mapping[str, Programme], now: datetime, timezone: str
) -> dict[str, float]:
    """Seconds each programme's oldest due contact is late by `now` (0 if none is); `timezone`
    is the TIMEZONE setting, for a programme that names no zone."""
    rows = await session.execute(
        select(ProgrammeRow.code, func.min(Contact.due_at))
        .join(Participant, Participant.id == Contact.participant_id)
        .join(ProgrammeRow, ProgrammeRow.id == Participant.programme_id)
        .where(Contact.state == ContactState.PLANNED, Contact.due_at <= now)
        .group_by(ProgrammeRow.code)
    )
    oldest_due: dict[str, datetime] = {code: due for code, due in rows}
    lag = {}
    for code, programme in programmes.items():
        due = oldest_due.get(code)
        if due is None:
            lag[code] = 0.0
            continue
        quiet = programme.schedule.quiet_hours
        zone = zone_of(programmes, code, timezone)
        if quiet is not None and quiet.contains(now, zone):
            lag[code] = 0.0  # nothing goes out now: the morning comes first
            continue
        if quiet is not None and quiet.contains(due, zone):
            due = quiet.next_end(due, zone)  # it was meant to wait until then
        lag[code] = max(0.0, (now - due).total_seconds())
    return lag
