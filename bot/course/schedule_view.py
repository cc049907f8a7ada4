"""The schedule as a coordinator plans the week with it: what the bot will send in the next
seven days (in the programme's local time), what expired without an answer lately, and who
did not answer. Only the coordinator's own programmes; the contacts table is the truth."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import programme_ids
from bot.language import _, local_moment, week_moment, zone_of
from bot.people import names_of
from bot.programmes import Programme, Questionnaire
from storage.database import clock_now
from storage.models import Contact, ContactState, Coordinator, Participant

WEEK = timedelta(days=7)
LATELY = timedelta(days=30)


@dataclass(frozen=True)
class ScheduledContact:
    contact_id: int
    participant_id: int
    name: str | None
    role: str
    programme: str
    questionnaire: str  # its title, in the reader's language
    at: datetime
    when: str  # in the programme's local time
    zone: str
    reminders: int = 0
    late: bool = False  # planned, due already and still not sent (quiet hours, or no bot running)


@dataclass(frozen=True)
class Silent:
    """Someone who let contacts expire lately."""

    participant_id: int
    name: str | None
    role: str
    programme: str
    missed: int
    last: str


@dataclass(frozen=True)
class Schedule:
    this_week: list[ScheduledContact]
    expired: list[ScheduledContact]
    silent: list[Silent]


def _contacts(
    programmes: Collection[int], state: ContactState, *when: ColumnElement[bool]
) -> Select[Contact]:
    """The contacts of people in these programmes that are in `state`, and `when`."""
    return (
        select(Contact)
        .join(Participant, Participant.id == Contact.participant_id)
        .where(Participant.programme_id.in_(programmes), Contact.state == state, *when)
    )


async def schedule(
    session: AsyncSession,
    coordinator: Coordinator,
    questionnaires: Mapping[str, Questionnaire],
    programmes: Mapping[str, Programme],
    default_zone: str,
    now: datetime | None = None,
) -> Schedule:
    now = now or clock_now(session)
    mine = await programme_ids(session, coordinator)
    coming = list(
        await session.scalars(
            _contacts(mine, ContactState.PLANNED, Contact.due_at <= now + WEEK).order_by(
                Contact.due_at, Contact.id
            )
        )
    )
    closed = func.coalesce(Contact.closed_at, Contact.due_at)
    expired = list(
        await session.scalars(
            _contacts(mine, ContactState.EXPIRED, closed >= now - LATELY).order_by(
                closed.desc(), Contact.id.desc()
            )
        )
    )
    names = await names_of(session, {c.participant_id for c in [*coming, *expired]})

    def row(contact: Contact, moment: datetime, coming: bool) -> ScheduledContact:
        late = coming and moment < now
        person = contact.participant
        zone = zone_of(programmes, person.programme.code if person.programme else None,
                       default_zone)  # fmt: skip
        questionnaire = questionnaires.get(contact.questionnaire_id)
        return ScheduledContact(
            contact_id=contact.id,
            participant_id=person.id,
            name=names.get(person.id),
            role=person.role,
            programme=person.programme.name if person.programme else "",
            questionnaire=_(questionnaire.title) if questionnaire else contact.questionnaire_id,
            at=moment,
            # This week's by weekday; the rest with their year.
            when=week_moment(moment, zone) if coming and not late else local_moment(moment, zone),
            zone=zone.key,
            reminders=contact.reminders_sent,
            late=late,
        )

    lapsed = [row(c, c.closed_at or c.due_at, False) for c in expired]
    silent: dict[int, Silent] = {}
    for item in lapsed:  # the latest first, so each person's first row is their last miss
        known = silent.get(item.participant_id)
        silent[item.participant_id] = Silent(
            participant_id=item.participant_id,
            name=item.name,
            role=item.role,
            programme=item.programme,
            missed=(known.missed if known else 0) + 1,
            last=known.last if known else item.when,
        )
    return Schedule(
        this_week=[row(c, c.due_at, True) for c in coming],
        expired=lapsed,
        silent=sorted(silent.values(), key=lambda s: -s.missed),
    )
