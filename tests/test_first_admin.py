"""The first dashboard admin of a fresh install (`coordinator init`): a site owner with a
one-time log-in code, and refused once there is an admin."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import main
from bot.coordination import (
    AccountError,
    FirstAdminRefused,
    admin_programmes,
    check_login,
    create_first_admin,
    invite_coordinator,
    use_login_code,
)
from bot.core import Core, build_core
from bot.settings import PROJECT_ROOT, load_settings
from storage.models import AuditEntry, Coordinator, CoordinatorRole
from tests.course import T0, FakeClock

PASSWORD = "lantern orchard quietly 42"


async def _logs_in(core: Core, email: str, code: str) -> bool:
    async with core.sessions() as session:
        await use_login_code(session, email, code, PASSWORD)
        login = await check_login(session, email, PASSWORD, address="127.0.0.1", secret=core.secret)
        await session.commit()
    return login.coordinator is not None


async def test_the_first_admin_is_a_site_owner_who_chooses_their_own_password(
    core: Core,
) -> None:
    async with core.sessions() as session:
        first = await create_first_admin(session, " Jane Doe ", "Jane@Example.org")
        await session.commit()
    assert first.programmes == ["bridge"] and first.coordinator.name == "Jane Doe"
    assert await _logs_in(core, "jane@example.org", first.login_code)
    async with core.sessions() as session:
        jane = await session.scalar(select(Coordinator))
        assert jane.site_owner and jane.email == "jane@example.org"
        assert [p.code for p in await admin_programmes(session, jane)] == ["bridge"]
        roles = list(await session.scalars(select(CoordinatorRole.role)))
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert roles == ["admin"]
    assert actions[:3] == ["invite", "make_site_owner", "issue_login_code"]


async def test_the_first_admin_is_admin_of_every_programme(
    database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "programmes"
    folder.mkdir()
    bridge = (PROJECT_ROOT / "programmes" / "bridge.yaml").read_text(encoding="utf-8")
    (folder / "bridge.yaml").write_text(bridge, encoding="utf-8")
    harbour = re.sub(r"(?m)^code: .*$", "code: harbour", bridge)
    harbour = re.sub(r"(?m)^mentor_code: .*$", "mentor_code: harbour-mentor", harbour)
    (folder / "harbour.yaml").write_text(harbour, encoding="utf-8")
    settings = load_settings(database_url=database_url, programmes_dir=folder)
    core = await build_core(settings, FakeClock(T0))
    try:
        async with core.sessions() as session:
            first = await create_first_admin(session, "Jane", "jane@example.org")
            await session.commit()
            roles = list(await session.scalars(select(CoordinatorRole.role)))
    finally:
        await core.close()
    assert sorted(first.programmes) == ["bridge", "harbour"] and roles == ["admin", "admin"]


async def _coordinator(session: AsyncSession) -> None:
    await invite_coordinator(session, "bridge", "Sara", "coordinator")


async def _admin_without_log_in(session: AsyncSession) -> None:
    await invite_coordinator(session, "bridge", "Sara", "admin")


async def _admin_with_log_in(session: AsyncSession) -> None:
    sara, _ = await invite_coordinator(session, "bridge", "Sara", "admin")
    sara.email = "sara@example.org"


async def _site_owner(session: AsyncSession) -> None:
    sara, _ = await invite_coordinator(session, "bridge", "Sara", "coordinator")
    sara.site_owner = True


async def _nobody(session: AsyncSession) -> None:
    pass


Before = Callable[[AsyncSession], Awaitable[None]]


@pytest.mark.parametrize(
    ("before", "refusal"),
    [
        (_nobody, None),
        (_coordinator, None),  # a coordinator who is no admin: someone must be the first
        (
            _admin_without_log_in,
            r"is an admin already, without a dashboard log-in: .* login --id 1",
        ),
        (_admin_with_log_in, r"is an admin already: admins add colleagues on the dashboard"),
        (_site_owner, r"coordinator 1 \(Sara\) is an admin already"),
    ],
)
async def test_who_may_be_made_the_first_admin(
    core: Core, before: Before, refusal: str | None
) -> None:
    async with core.sessions() as session:
        await before(session)
        await session.commit()
    async with core.sessions() as session:
        if refusal is None:
            first = await create_first_admin(session, "Jane", "jane@example.org")
            assert first.coordinator.site_owner
        else:
            with pytest.raises(FirstAdminRefused, match=refusal):
                await create_first_admin(session, "Jane", "jane@example.org")


async def test_a_bad_e_mail_or_no_name_is_refused(core: Core) -> None:
    async with core.sessions() as session:
        with pytest.raises(AccountError, match="not an e-mail address"):
            await create_first_admin(session, "Jane", "jane")
        with pytest.raises(FirstAdminRefused, match="needs a name"):
            await create_first_admin(session, "  ", "jane@example.org")


@pytest.fixture
def fresh_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DASHBOARD_PORT", "8090")


def test_coordinator_init_prints_how_to_log_in_and_refuses_a_second_time(
    fresh_install: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["coordinator", "init", "--name", "Jane", "--email", "jane@example.org"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("First admin: coordinator 1, Jane <jane@example.org>, a site owner")
    assert "Open http://127.0.0.1:8090/login/set-password" in out
    assert "log in at http://127.0.0.1:8090/login" in out
    assert "/coordinator " in out  # Telegram's link code too
    code = out.split("a password of your own:\n")[1].split()[0]

    async def log_in() -> bool:
        core = await build_core(load_settings(), FakeClock(T0))
        try:
            return await _logs_in(core, "jane@example.org", code)
        finally:
            await core.close()

    assert asyncio.run(log_in())
    assert main(["coordinator", "init", "--name", "Max", "--email", "max@example.org"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mentorbot: error: coordinator 1 (Jane) is an admin already")
    assert err.count("\n") == 1


def test_coordinator_init_with_a_bad_e_mail_keeps_nothing(
    fresh_install: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["coordinator", "init", "--name", "Jane", "--email", "jane"]) == 2
    assert "--email: 'jane' is not an e-mail address" in capsys.readouterr().err
    assert main(["coordinator", "init", "--name", "Jane", "--email", "jane@example.org"]) == 0
