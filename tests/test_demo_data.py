"""The demo programme's made-up data: realistic enough to show every dashboard page, and only
ever written into an empty database."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

import bot.coordination.accounts as accounts
from bot.cli import DEMO_EMAIL, DEMO_PASSWORD, DemoError, main, open_demo, seed_demo
from bot.core import Core
from bot.settings import Settings
from handlers.console import CHANNEL as CONSOLE_CHANNEL
from handlers.console import run_console
from storage.models import (
    Answer,
    Contact,
    Coordinator,
    CoordinatorRole,
    Flag,
    Match,
    Participant,
    SurveyRun,
)
from tests.course import T0, FakeClock


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


async def _logs_in(core: Core, password: str = DEMO_PASSWORD) -> bool:
    async with core.sessions() as session:
        login = await accounts.check_login(
            session, DEMO_EMAIL, password, address="127.0.0.1", secret=core.secret
        )
        await session.commit()
    return login.coordinator is not None


async def test_the_dashboard_demo_fills_in_beside_the_terminal_demo_and_always_lets_in(
    core: Core,
) -> None:
    """After a plain `demo` run its person is in the demo database: the dashboard demo fills
    in its made-up people all the same (it used to skip them, and the log-in answered 401)."""
    await run_console(core, user_id="demo-1", read_line=_typed("1", "1", "Amina"), write=_quiet)
    async with core.sessions() as session:
        summary = await open_demo(
            session, core.programmes, core.questionnaires, beside=[CONSOLE_CHANNEL]
        )
        await session.commit()
    assert summary is not None and summary.mentees == 16
    assert await _logs_in(core)
    # Someone changed the demo admin's password and role in the dashboard: the next start
    # lets the demo in again, and fills nothing twice.
    async with core.sessions() as session:
        admin = await session.scalar(select(Coordinator).where(Coordinator.email == DEMO_EMAIL))
        await accounts.set_password(session, admin, "another long passphrase here")
        await session.execute(update(CoordinatorRole).values(role="coordinator"))
        await session.commit()
    assert not await _logs_in(core)
    async with core.sessions() as session:
        again = await open_demo(
            session, core.programmes, core.questionnaires, beside=[CONSOLE_CHANNEL]
        )
        await session.commit()
        roles = set(await session.scalars(select(CoordinatorRole.role)))
        people = await session.scalar(select(func.count()).select_from(Participant))
    assert again is None and roles == {"admin"} and people == 16 + 8 + 1
    assert await _logs_in(core)


def test_demo_with_dashboard_prints_where_and_how_to_log_in(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`demo` first, then `demo --with-dashboard`: on the demo's own database, never the real
    one, and the printed log-in works."""
    served: list[Settings] = []

    async def serve(core: Core, settings: Settings) -> int:
        served.append(settings)
        return 0 if await _logs_in(core) else 1

    monkeypatch.setattr("bot.cli.demo.serve_dashboard", serve)
    monkeypatch.setattr("sys.stdin", io.StringIO("1\n1\nAmina\n/quit\n"))
    monkeypatch.setenv("DASHBOARD_PORT", "8765")
    assert main(["demo"], FakeClock(T0)) == 0
    capsys.readouterr()
    assert main(["demo", "--with-dashboard"], FakeClock(T0)) == 0
    out = capsys.readouterr().out
    assert "The demo's dashboard: http://127.0.0.1:8765/" in out
    assert f"Log in as {DEMO_EMAIL} with the password {DEMO_PASSWORD}" in out
    assert str(tmp_path / "mentorbot-demo.db") in out
    assert served[0].database_url == "sqlite+aiosqlite:///mentorbot-demo.db"
    assert not (tmp_path / "mentorbot.db").exists()
    # A second start fills nothing again, and still lets the demo in.
    assert main(["demo", "--with-dashboard"], FakeClock(T0)) == 0
    assert "demo data:" not in capsys.readouterr().out


def _typed(*lines: str) -> Callable[[str], Awaitable[str | None]]:
    queue = list(lines)

    async def read_line(_prompt: str) -> str | None:
        return queue.pop(0) if queue else None

    return read_line


def _quiet(_text: str) -> None:
    pass
