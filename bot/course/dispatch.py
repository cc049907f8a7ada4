"""The contact dispatcher: sends due check-ins and reminders, and expires what is left.

The `contacts` table is the truth; APScheduler only wakes `ContactDispatcher.tick`. Every
send is claimed in the database and committed before the message goes out, so a restart, a
crash between claim and send, or a second dispatcher never sends anything twice. A claimed
contact whose message never arrived is still reminded later, so it is not lost either.

Each round also ends the matches whose planned end has come and tells coordinators of those
near it (`bot.course.matches`), and brings coordinators their flags
(`bot.coordination.FlagPusher`), on the dispatcher's clock.

An invitation that falls due while the person is inside another survey (its run unfinished,
touched within the programme's `reminder_pause`) waits until that survey is finished or paused;
a reminder waits while the person is active at all.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.coordination import UNREACHABLE, FlagPusher, raise_flag
from bot.course.matches import end_due_matches, tell_ending_matches
from bot.language import Catalogs, _, texts, zone_of
from bot.messages import Action, Button, Outbox, OutgoingMessage, Press, Undeliverable
from bot.monitoring import log_scope
from bot.people import apply_retention, run_of_contact
from bot.programmes import Offset, Programme, Questionnaire, Severity
from storage import repositories as repo
from storage import workers
from storage.models import Contact, ContactState, Participant, RunStatus

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    sent: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)  # due too long ago: expired unsent
    held: list[int] = field(default_factory=list)  # due, but it is night where they live
    waiting: list[int] = field(default_factory=list)  # due, but they are inside another survey
    failed: list[int] = field(default_factory=list)
    erased: list[int] = field(default_factory=list)  # participants, by the retention rule
    pushed: int = 0  # messages to coordinators: urgent flags, the digest, answers
    unreachable: list[int] = field(default_factory=list)  # contacts the channel refused for good
    ended: list[int] = field(default_factory=list)  # matches ended at their planned end
    ending: list[int] = field(default_factory=list)  # matches whose coordinators were told


@dataclass(frozen=True)
class _Send:
    contact_id: int
    channel: str
    channel_user_id: str
    message: OutgoingMessage
    reminder: bool
    participant_id: int
    programme: str | None


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
        clock: Clock,
        timezone: str,
        grace: Offset,
        digest_at: time = time(8, 0),
        voice_dir: Path | None = None,
        concurrency: int = 30,
    ) -> None:
        self.sessions = sessions
        self.programmes = programmes
        self.questionnaires = questionnaires
        self.catalogs = catalogs
        self.outboxes = outboxes
        self.secret = secret
        self.timezone = timezone
        self.grace = grace
        self.voice_dir = voice_dir
        self.clock = clock
        self.flag_pusher = FlagPusher(
            sessions, programmes, questionnaires, catalogs, outboxes, timezone, digest_at
        )
        self._parallel = asyncio.Semaphore(concurrency)
        self._running = asyncio.Lock()

    def _programme(self, participant: Participant) -> Programme | None:
        if participant.programme is None:
            return None
        return self.programmes.get(participant.programme.code)

    def _held(
        self, programme: Programme, now: datetime, contact_id: int, report: TickReport
    ) -> bool:
        """Whether it is night where the person lives (the programme's quiet hours): then the
        message waits for the morning, and the report says so."""
        quiet = programme.schedule.quiet_hours
        zone = zone_of(self.programmes, programme.code, self.timezone)
        if quiet is None or not quiet.contains(now, zone):
            return False
        report.held.append(contact_id)
        return True

    async def tick(self) -> TickReport:
        """One round: claim and send what is due, remind, expire. Safe to run anywhere, any
        number of times, by any number of processes."""
        async with self._running:
            now = self.clock.now()
            report = TickReport()
            async with self.sessions() as session:
                if not await workers.first_to(session, workers.ROUND):
                    # Another process is in the middle of its round: it claims what is due,
                    # and waiting on its row locks would only hold this one up.
                    return report
                report.ending = await tell_ending_matches(session, self.programmes, now)
                report.ended = await end_due_matches(session, self.programmes, now)
                sends = await self._claim_due(session, now, report)
                sends += await self._claim_reminders(session, now, report)
                await self._expire(session, now, report)
                await self._retain(session, now, report)
                await session.commit()
            await asyncio.gather(*(self._deliver(send, report) for send in sends))
            await self._flag_unreachable(report.unreachable)
            report.pushed = await self.push_flags()
            if any((report.sent, report.reminded, report.expired, report.missed, report.failed,
                    report.ended)):  # fmt: skip
                log.info(
                    "dispatch: %d sent, %d reminded, %d expired, %d missed (down too long), "
                    "%d failed, %d held for quiet hours, %d waiting for another survey, "
                    "%d erased by retention, %d matches ended",
                    len(report.sent), len(report.reminded), len(report.expired),
                    len(report.missed), len(report.failed), len(report.held),
                    len(report.waiting), len(report.erased), len(report.ended),
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
                if await _claim_expiry(session, contact.id, ContactState.PLANNED, now):
                    report.missed.append(contact.id)
                continue
            if await self._inside_another_survey(session, contact, programme, now):
                report.waiting.append(contact.id)
                continue
            if self._held(programme, now, contact.id, report):
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

    async def _inside_another_survey(
        self, session: AsyncSession, contact: Contact, programme: Programme, now: datetime
    ) -> bool:
        """Whether the person is answering another survey right now: the contact they are
        answering has an unfinished run (named or anonymous) and they touched it within
        `reminder_pause`. An invitation then waits, so that it does not take over."""
        person = contact.participant
        active, touched = person.active_contact_id, person.last_active_at
        if active is None or active == contact.id or touched is None:
            return False
        if programme.schedule.reminder_pause.after(touched) <= now:
            return False  # they paused: the invitation may come
        other = await session.get(Contact, active)
        if other is None or other.participant_id != person.id:
            return False
        run = await run_of_contact(session, self.secret, other)
        return run is not None and run.status != RunStatus.COMPLETED

    async def _claim_reminders(
        self, session: AsyncSession, now: datetime, report: TickReport
    ) -> list[_Send]:
        sends = []
        for contact, programme, sent_at in await self._sent_contacts(session):
            reminders = programme.schedule.reminders
            if contact.reminders_sent >= len(reminders):
                continue
            if reminders[contact.reminders_sent].after(sent_at) > now:
                continue
            active = contact.participant.last_active_at
            if active is not None and programme.schedule.reminder_pause.after(active) > now:
                continue  # they are answering right now: a reminder would only get in the way
            if self._held(programme, now, contact.id, report):
                continue
            if await repo.claim(
                session,
                contact.id,
                {"state": ContactState.SENT, "reminders_sent": contact.reminders_sent},
                {"reminders_sent": contact.reminders_sent + 1, "last_reminder_at": now},
            ):
                sends.append(self._message(contact, reminder=True))
        return sends

    async def _sent_contacts(
        self, session: AsyncSession
    ) -> list[tuple[Contact, Programme, datetime]]:
        """Contacts sent and not yet answered, of programmes this bot runs: each with its
        programme and the moment it was sent."""
        found = []
        for contact in await repo.open_contacts(session):
            programme = self._programme(contact.participant)
            if programme is not None and contact.sent_at is not None:
                found.append((contact, programme, contact.sent_at))
        return found

    async def _expire(self, session: AsyncSession, now: datetime, report: TickReport) -> None:
        """After the last reminder, a contact expires; what was answered stays (partial)."""
        for contact, programme, sent_at in await self._sent_contacts(session):
            if programme.schedule.expire_after.after(sent_at) > now:
                continue
            if await _claim_expiry(session, contact.id, ContactState.SENT, now):
                report.expired.append(contact.id)
                await _raise_unreachable(session, contact)
                run = await run_of_contact(session, self.secret, contact)
                if run is not None and run.status == RunStatus.IN_PROGRESS:
                    run.status = RunStatus.PARTIAL

    async def push_flags(self) -> int:
        """Bring coordinators what is theirs now, each thing once (`FlagPusher`)."""
        return await self.flag_pusher.push(self.clock.now())

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
            contact.id, participant.channel, participant.channel_user_id, message, reminder,
            participant.id, participant.programme.code if participant.programme else None,
        )  # fmt: skip

    async def _deliver(self, send: _Send, report: TickReport) -> None:
        with log_scope(
            contact_id=send.contact_id, participant_id=send.participant_id, programme=send.programme
        ):
            await self._send_and_record(send, report)

    async def _send_and_record(self, send: _Send, report: TickReport) -> None:
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
                        contact.delivered_at = self.clock.now()
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
                if contact is not None:
                    await _raise_unreachable(session, contact)
            await session.commit()


async def _claim_expiry(
    session: AsyncSession, contact_id: int, state: ContactState, now: datetime
) -> bool:
    """Expire a contact that is still in `state`; False if someone else got there first."""
    return await repo.claim(
        session, contact_id, {"state": state}, {"state": ContactState.EXPIRED, "closed_at": now}
    )


async def _raise_unreachable(session: AsyncSession, contact: Contact) -> None:
    """The person did not answer the contact, or cannot be reached: their coordinator looks."""
    await raise_flag(
        session,
        programme_id=contact.participant.programme_id,
        participant_id=contact.participant_id,
        category=UNREACHABLE,
        severity=Severity.SOON,
        questionnaire_id=contact.questionnaire_id,
    )
