"""The dispatcher through the real Telegram channel: a burst stays under the flood limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.core import Core, build_core
from bot.settings import Settings
from handlers.telegram.app import create_bot
from handlers.telegram.outbox import TelegramOutbox
from storage.models import Contact, ContactState, Participant, Programme
from tests.course import COURSE, T0, FakeClock
from tests.fakes import FakeBotAPI
from tests.telegram import TOKEN


@pytest.fixture
async def core(settings: Settings, server: FakeBotAPI, clock: FakeClock) -> AsyncIterator[Core]:
    core = await build_core(
        settings.model_copy(
            update={
                "programmes_dir": COURSE,
                "default_programme": "fast",
                "telegram_api_base_url": server.base_url,
                "telegram_bot_token": SecretStr(TOKEN),
            }
        ),
        clock,
    )
    yield core
    await core.close()


async def test_burst_of_200_due_contacts_stays_under_30_a_second_and_none_is_lost(
    core: Core, server: FakeBotAPI
) -> None:
    server.enforce_flood_limits(per_second=30, per_chat_per_second=1.0, tolerance=0.1)
    people = [server.user(7000 + number, f"P{number}") for number in range(200)]
    async with core.sessions() as session:
        programme = await session.scalar(select(Programme).where(Programme.code == "fast"))
        for number in range(200):
            person = Participant(
                channel="telegram",
                channel_user_id=str(7000 + number),
                programme_id=programme.id,
                role="mentee",
                language="en",
                consent_version="test",
                consent_given_at=T0,
                status="matched",
            )
            session.add(person)
            await session.flush()
            session.add(
                Contact(
                    participant_id=person.id,
                    rule="checkin_1",
                    questionnaire_id="checkin_mentee",
                    due_at=T0 - timedelta(seconds=1),
                )
            )
        await session.commit()
    bot = create_bot(core, session=server.bot_session())  # the production limits
    try:
        report = await core.contact_dispatcher({"telegram": TelegramOutbox(bot)}).tick()
    finally:
        await bot.session.close()
    assert len(report.sent) == 200 and report.failed == []
    assert server.flood_rejections == []
    assert all(len(person.messages) == 1 for person in people)
    async with core.sessions() as session:
        delivered = await session.scalars(select(Contact.delivered_at))
        assert all(moment is not None for moment in delivered)
        states = set(await session.scalars(select(Contact.state)))
    assert states == {ContactState.SENT}
    server.assert_no_violations()
