"""The contact dispatcher: sends due check-ins and reminders, and expires what is left.

The `contacts` table is the truth; APScheduler only wakes `ContactDispatcher.tick`. Every
send is claimed in the database and committed before the message goes out, so a restart, a
crash between claim and send, or a second dispatcher never sends anything twice. A claimed
contact whose message never arrived is still reminded later, so it is not lost either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.coordination import (
    DIGEST_SOON,
    UNREACHABLE,
    claim_answers,
    claim_digest,
    claim_messages_to_participants,
    claim_urgent_pushes,
    coordinators_of,
    flag_view,
    raise_flag,
)
from bot.language import Catalogs, _, texts
from bot.messages import Action, Button, OutgoingMessage, Press
from bot.people import apply_retention, run_of_contact
from bot.programmes import Offset, Programme, Questionnaire, Severity
from storage import repositories as repo
from storage.models import Contact, ContactState, Flag, Participant, RunStatus, utcnow

log = logging.getLogger(__name__)


class Undeliverable(Exception):
    """The channel refused the message for good (the person blocked the bot, chat gone)."""


class Outbox(Protocol):
    """A channel's way to send a message to a person by their channel user id."""

    async def send(self, channel_user_id: str, message: OutgoingMessage) -> None: ...


@dataclass
class TickReport:
    sent: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)  # due too long ago: expired unsent
    held: list[int] = field(default_factory=list)  # due, but it is night where they live
    failed: list[int] = field(default_factory=list)
    erased: list[int] = field(default_factory=list)  # participants, by the retention rule
    pushed: int = 0  # messages to coordinators: urgent flags, the digest, answers
    unreachable: list[int] = field(default_factory=list)  # contacts the channel refused for good


@dataclass(frozen=True)
class _Send:
    contact_id: int
    channel: str
    channel_user_id: str
    message: OutgoingMessage
    reminder: bool


class ContactDispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        programmes: dict[str, Programme],
        questionnaires: dict[str, Questionnaire],
        catalogs: Catalogs,
        outboxes: dict[str, Outbox],
        *,
        secret: bytes,
        timezone: str,
        grace: Offset,
        digest_at: time = time(8, 0),
        voice_dir: Path | None = None,
        concurrency: int = 30,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.programmes = programmes
        self.questionnaires = questionnaires
        self.catalogs = catalogs
        self.outboxes = outboxes
        self.secret = secret
        self.default_zone = ZoneInfo(timezone)
        self.grace = grace
        self.digest_at = digest_at
        self.voice_dir = voice_dir
        self.clock = clock
        self._parallel = asyncio.Semaphore(concurrency)
        self._running = asyncio.Lock()

    def _programme(self, participant: Participant) -> Programme | None:
        if participant.programme is None:
            return None
        return self.programmes.get(participant.programme.code)

    def _zone(self, programme: Programme) -> ZoneInfo:
        return ZoneInfo(programme.timezone) if programme.timezone else self.default_zone

    def _is_quiet(self, programme: Programme, now: datetime) -> bool:
        quiet = programme.schedule.quiet_hours
        return quiet is not None and quiet.contains(now, self._zone(programme))

    async def tick(self) -> TickReport:
        """One round: claim and send what is due, remind, expire. Safe to run anywhere, any
        number of times, by any number of processes."""
        async with self._running:
            now = self.clock()
            report = TickReport()
            async with self.sessions() as session:
                sends = await self._claim_due(session, now, report)
                sends += await self._claim_reminders(session, now, report)
                await self._expire(session, now, report)
                await self._retain(session, now, report)
                await session.commit()
            await asyncio.gather(*(self._deliver(send, report) for send in sends))
            await self._flag_unreachable(report.unreachable)
            report.pushed = await self.push_flags()
            if any((report.sent, report.reminded, report.expired, report.missed, report.failed)):
                log.info(
                    "dispatch: %d sent, %d reminded, %d expired, %d missed (down too long), "
                    "%d failed, %d held for quiet hours, %d erased by retention",
                    len(report.sent), len(report.reminded), len(report.expired),
                    len(report.missed), len(report.failed), len(report.held), len(report.erased),
                )  # fmt: skip
            for contact_id in report.missed:
                log.warning("contact %s was due too long ago to send; expired", contact_id)
            return report

    async def _claim_due(
        self, session: AsyncSession, now: datetime, report: TickReport
    ) -> list[_Send]:
        sends = []
        oldest_allowed = self.grace.before(now)
        for contact in await repo.due_contacts(session, now):
            programme = self._programme(contact.participant)
            if contact.due_at < oldest_allowed or programme is None:
                if await repo.claim(
                    session,
                    contact.id,
                    {"state": ContactState.PLANNED},
                    {"state": ContactState.EXPIRED, "closed_at": now},
                ):
                    report.missed.append(contact.id)
                continue
            if self._is_quiet(programme, now):
                report.held.append(contact.id)
                continue
            if await repo.claim(
                session,
                contact.id,
                {"state": ContactState.PLANNED},
                {"state": ContactState.SENT, "sent_at": now},
            ):
                await repo.offer_contact(session, contact.participant_id, contact.id)
                sends.append(self._message(contact, reminder=False))
        return sends

    async def _claim_reminders(
        self, session: AsyncSession, now: datetime, report: TickReport
    ) -> list[_Send]:
        sends = []
        for contact in await repo.open_contacts(session):
            programme = self._programme(contact.participant)
            if programme is None or contact.sent_at is None:
                continue
            reminders = programme.schedule.reminders
            if contact.reminders_sent >= len(reminders):
                continue
            if reminders[contact.reminders_sent].after(contact.sent_at) > now:
                continue
            active = contact.participant.last_active_at
            if active is not None and programme.schedule.reminder_pause.after(active) > now:
                continue  # they are answering right now: a reminder would only get in the way
            if self._is_quiet(programme, now):
                report.held.append(contact.id)
                continue
            if await repo.claim(
                session,
                contact.id,
                {"state": ContactState.SENT, "reminders_sent": contact.reminders_sent},
                {"reminders_sent": contact.reminders_sent + 1, "last_reminder_at": now},
            ):
                sends.append(self._message(contact, reminder=True))
        return sends

    async def _expire(self, session: AsyncSession, now: datetime, report: TickReport) -> None:
        """After the last reminder, a contact expires; what was answered stays (partial)."""
        for contact in await repo.open_contacts(session):
            programme = self._programme(contact.participant)
            if programme is None or contact.sent_at is None:
                continue
            if programme.schedule.expire_after.after(contact.sent_at) > now:
                continue
            if await repo.claim(
                session,
                contact.id,
                {"state": ContactState.SENT},
                {"state": ContactState.EXPIRED, "closed_at": now},
            ):
                report.expired.append(contact.id)
                await raise_flag(
                    session,
                    programme_id=contact.participant.programme_id,
                    participant_id=contact.participant_id,
                    category=UNREACHABLE,
                    severity=Severity.SOON,
                    questionnaire_id=contact.questionnaire_id,
                )
                run = await run_of_contact(session, self.secret, contact)
                if run is not None and run.status == RunStatus.IN_PROGRESS:
                    run.status = RunStatus.PARTIAL

    async def push_flags(self) -> int:
        """Bring coordinators what is theirs, each thing once: urgent flags at once, `soon`
        flags in the morning digest, and participants' answers to their messages."""
        deliveries: list[tuple[str, OutgoingMessage]] = []
        async with self.sessions() as session:
            for flag in await claim_urgent_pushes(session):
                deliveries += await self._to_coordinators(session, [flag])
            deliveries += await self._to_coordinators(
                session, await claim_digest(session, await self._digest_moments(session)), True
            )
            answers = await claim_answers(session, self.questionnaires, self.catalogs)
            deliveries += [(d.channel_user_id, d.message) for d in answers]
            letters = await claim_messages_to_participants(session, self.catalogs)
            await session.commit()
        outbox = self.outboxes.get("telegram")
        for chat, message in deliveries:
            if outbox is None:
                break
            try:
                await outbox.send(chat, message)
            except Exception:  # a coordinator who blocked the bot must not stop the others
                log.exception("pushing a flag to coordinator chat %s failed", chat)
        for letter in letters:  # written in the dashboard, to participants
            channel = self.outboxes.get(letter.channel)
            try:
                if channel is None:
                    raise Undeliverable(f"no outbox for channel '{letter.channel}'")
                await channel.send(letter.channel_user_id, letter.message)
            except Exception:
                log.exception("a coordinator's message to %s was not delivered", letter.channel)
        return len(deliveries) + len(letters)

    async def _to_coordinators(
        self, session: AsyncSession, flags: list[Flag], digest: bool = False
    ) -> list[tuple[str, OutgoingMessage]]:
        """Each flag for every linked coordinator of its programme, in their language; a
        digest opens with a greeting."""
        deliveries: list[tuple[str, OutgoingMessage]] = []
        greeted: set[int] = set()
        for flag in flags:
            if flag.programme_id is None:
                continue
            for coordinator in await coordinators_of(session, flag.programme_id):
                if coordinator.telegram_user_id is None:
                    continue
                chat = str(coordinator.telegram_user_id)
                with self.catalogs.use(coordinator.language):
                    if digest and coordinator.id not in greeted:
                        greeted.add(coordinator.id)
                        deliveries.append((chat, OutgoingMessage(str(DIGEST_SOON))))
                    deliveries.append((chat, await flag_view(session, flag, self.questionnaires)))
        return deliveries

    async def _digest_moments(self, session: AsyncSession) -> dict[int, datetime]:
        """Per programme, the last time its morning digest was due (its own time zone)."""
        now = self.clock()
        moments = {}
        for programme in self.programmes.values():
            row = await repo.programme_by_code(session, programme.code)
            if row is None:
                continue
            zone = self._zone(programme)
            local = now.astimezone(zone)
            moment = datetime.combine(local.date(), self.digest_at, zone)
            if moment > local:
                moment = datetime.combine(local.date() - timedelta(days=1), self.digest_at, zone)
            moments[row.id] = moment.astimezone(UTC)
        return moments

    async def _retain(self, session: AsyncSession, now: datetime, report: TickReport) -> None:
        """Erase personal data a programme's retention period after a course ended."""
        for programme in self.programmes.values():
            retention = programme.schedule.retention
            row = await repo.programme_by_code(session, programme.code)
            if retention is None or row is None:
                continue
            report.erased += await apply_retention(
                session, row.id, retention.before(now), self.voice_dir
            )

    def _message(self, contact: Contact, *, reminder: bool) -> _Send:
        participant = contact.participant
        questionnaire = self.questionnaires[contact.questionnaire_id]
        with self.catalogs.use(participant.language or "en"):
            template = texts.REMINDER if reminder else texts.INVITATION
            label = texts.CONTINUE_SURVEY if reminder else texts.START_SURVEY
            message = OutgoingMessage(
                template.format(title=_(questionnaire.title)),
                ((Button(str(label), Press(Action.OPEN, option=contact.id)),),),
            )
        return _Send(
            contact.id, participant.channel, participant.channel_user_id, message, reminder
        )

    async def _deliver(self, send: _Send, report: TickReport) -> None:
        outbox = self.outboxes.get(send.channel)
        error: str | None = None
        async with self._parallel:
            if outbox is None:
                error = f"no outbox for channel '{send.channel}'"
            else:
                try:
                    await outbox.send(send.channel_user_id, send.message)
                except Undeliverable as undeliverable:
                    error = f"undeliverable: {undeliverable}"[:200]
                except Exception as failure:  # one failed send must not stop the others
                    log.exception("sending contact %s failed", send.contact_id)
                    error = f"{type(failure).__name__}: {failure}"[:200]
        async with self.sessions() as session:
            contact = await session.get(Contact, send.contact_id)
            if contact is not None:
                if error is None:
                    if not send.reminder:
                        contact.delivered_at = self.clock()
                    contact.last_error = None
                else:
                    contact.last_error = error
            await session.commit()
        if error is None:
            (report.reminded if send.reminder else report.sent).append(send.contact_id)
        else:
            report.failed.append(send.contact_id)
            if error.startswith("undeliverable"):  # e.g. they blocked the bot
                report.unreachable.append(send.contact_id)

    async def _flag_unreachable(self, contact_ids: list[int]) -> None:
        """One `unreachable` flag per person, raised after the sends: one after another, so
        two refused messages to the same person cannot raise two flags."""
        if not contact_ids:
            return
        async with self.sessions() as session:
            for contact_id in contact_ids:
                contact = await session.get(Contact, contact_id)
                if contact is None:
                    continue
                await raise_flag(
                    session,
                    programme_id=contact.participant.programme_id,
                    participant_id=contact.participant_id,
                    category=UNREACHABLE,
                    severity=Severity.SOON,
                    questionnaire_id=contact.questionnaire_id,
                )
            await session.commit()
