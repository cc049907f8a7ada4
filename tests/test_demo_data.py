"""The demo programme's made-up data: realistic enough to show every dashboard page, and only
ever written into an empty database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import bot.coordination.accounts as accounts
from bot.cli import DEMO_EMAIL, DEMO_PASSWORD, DemoError, seed_demo
from bot.core import Core
from storage.models import Answer, Contact, Flag, Match, Participant, SurveyRun


async def test_seed_demo_fills_an_empty_database_once(core: Core) -> None:
    async with core.sessions() as session:
        summary = await seed_demo(session, core.programmes, core.questionnaires)
        await session.commit()

        async def count(model: type) -> int:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

        assert (summary.mentees, summary.mentors, summary.matches) == (16, 8, 8)
        assert await count(Participant) == 24 and await count(Match) == 8
        assert await count(Answer) > 24 * 8  # every intake, and the check-ins so far
        states = set(await session.scalars(select(Contact.state)))
        assert {"planned", "answered", "expired"} <= states
        severities = set(await session.scalars(select(Flag.severity)))
        assert severities == {"urgent", "soon", "info"}
        languages = set(await session.scalars(select(SurveyRun.language)))
        assert {"ar", "uk", "so", "da"} <= languages
        assert (
            await accounts.check_login(
                session, DEMO_EMAIL, DEMO_PASSWORD, address="127.0.0.1", secret=core.secret
            )
        ).coordinator
        with pytest.raises(DemoError, match="already has participants"):
            await seed_demo(session, core.programmes, core.questionnaires)
