"""Bringing coordinators what is theirs, each thing once: urgent flags at once, `soon` flags in
the morning digest (at the digest time in each programme's own time zone), participants'
answers to their messages; and their messages written in the dashboard, to participants.

Every push is claimed in the database and committed before anything goes out, so a restart or a
second process never pushes anything twice. The contact dispatcher runs it on each round, and a
channel runs it at once after an answer that may have raised an urgent flag.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.coordination.coordinators import coordinators_of
from bot.coordination.flag_display import flag_view
from bot.coordination.queue import claim_digest, claim_urgent_pushes
from bot.coordination.replies import claim_answers, claim_messages_to_participants
from bot.coordination.wording import DIGEST_SOON
from bot.language import Catalogs, zone_of
from bot.messages import Outbox, OutgoingMessage, Undeliverable
from bot.programmes import Programme, Questionnaire
from storage import repositories as repo
from storage.models import Flag

log = logging.getLogger(__name__)

# Coordinators are reached through the Telegram account they linked.
COORDINATORS_CHANNEL = "telegram"


@dataclass
class FlagPusher:
    """Pushes flags, answers and messages on flags, each once, to whom they are for."""

    sessions: async_sessionmaker[AsyncSession]
    programmes: dict[str, Programme]
    questionnaires: dict[str, Questionnaire]
    catalogs: Catalogs
    outboxes: dict[str, Outbox]
    timezone: str  # of a programme that names none
    digest_at: time = time(8, 0)

    async def push(self, now: datetime) -> int:
        """Claim and send what is due at `now`; the number of messages pushed."""
        deliveries: list[tuple[str, OutgoingMessage]] = []
        async with self.sessions() as session:
            for flag in await claim_urgent_pushes(session):
                deliveries += await self._to_coordinators(session, [flag])
            digest = await claim_digest(session, await self._digest_moments(session, now))
            deliveries += await self._to_coordinators(session, digest, digest=True)
            answers = await claim_answers(session, self.questionnaires, self.catalogs)
            deliveries += [(d.channel_user_id, d.message) for d in answers]
            letters = await claim_messages_to_participants(session, self.catalogs)
            await session.commit()
        outbox = self.outboxes.get(COORDINATORS_CHANNEL)
        for chat, message in deliveries:
            if outbox is None:
                break
            try:
                await outbox.send(chat, message)
            except Exception:  # a coordinator who blocked the bot must not stop the others
                log.exception("pushing a flag to a coordinator failed")
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
        self, session: AsyncSession, flags: list[Flag], *, digest: bool = False
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

    async def _digest_moments(self, session: AsyncSession, now: datetime) -> dict[int, datetime]:
        """Per programme, the last time its morning digest was due (its own time zone)."""
        moments = {}
        for programme in self.programmes.values():
            row = await repo.programme_by_code(session, programme.code)
            if row is None:
                continue
            zone = zone_of(self.programmes, programme.code, self.timezone)
            local = now.astimezone(zone)
            moment = datetime.combine(local.date(), self.digest_at, zone)
            if moment > local:
                moment = datetime.combine(local.date() - timedelta(days=1), self.digest_at, zone)
            moments[row.id] = moment  # in the programme's zone: its date is the local one
        return moments
