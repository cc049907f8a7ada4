"""The injected clock: the core's sessions stamp new rows with its time, and what a person does
happens at its time, whatever the wall clock says."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core import Core
from storage.database import clock_now
from storage.models import AuditEntry, Participant
from tests.conversation import EngineChat
from tests.course import T0, FakeClock


async def test_a_new_row_gets_the_time_of_the_sessions_clock_unless_it_was_given_one(
    core: Core, clock: FakeClock
) -> None:
    clock.advance(days=400)
    given = T0 - timedelta(days=3)
    async with core.sessions() as session:
        assert clock_now(session) == T0 + timedelta(days=400)
        session.add_all([AuditEntry(action="stamped"), AuditEntry(action="given", at=given)])
        await session.commit()
        entries = {e.action: e.at for e in await session.scalars(select(AuditEntry))}
    assert entries == {"stamped": T0 + timedelta(days=400), "given": given}


async def test_what_a_person_does_happens_at_the_cores_time(core: Core, clock: FakeClock) -> None:
    amina = EngineChat(core, "100")
    await amina.start()
    clock.advance(hours=5)
    await amina.tap("English")
    await amina.tap("Yes, I agree")
    async with core.sessions() as session:
        person = await session.scalar(select(Participant))
    assert person is not None
    assert person.created_at == T0
    assert person.consent_given_at == person.last_active_at == T0 + timedelta(hours=5)
