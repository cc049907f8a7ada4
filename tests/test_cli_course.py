"""`match`, `schedule list` and `participants` on the command line."""

from __future__ import annotations

import asyncio
import io
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.coordination import check_login, use_login_code
from bot.core import build_core
from bot.settings import load_settings
from storage.models import AuditEntry, Coordinator
from tests.course import T0, FakeClock, enrolled


@pytest.fixture
def two_people(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TIMEZONE", "Europe/Copenhagen")

    async def seed() -> None:
        core = await build_core(load_settings(), FakeClock(T0))
        try:
            await enrolled(core, "100", "mentee", code="bridge")
            await enrolled(core, "200", "mentor", code="bridge")
        finally:
            await core.close()

    asyncio.run(seed())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command, its time T0."""
    code = main(list(args), FakeClock(T0))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_match_create_list_end_and_the_schedule_in_local_time(
    two_people: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "match", "create", "--mentee", "1", "--mentor", "2", "--start", "2026-12-01T09:00"
    )
    assert code == 0
    assert out.strip() == "match 1: mentee 1 and mentor 2, 2026-12-01 09:00 to 2027-06-01 09:00"

    code, out, _ = run(capsys, "schedule", "list", "--participant", "1")
    lines = out.splitlines()
    assert lines[0].split() == [
        "contact", "participant", "role", "rule", "questionnaire", "state", "sends", "at",
        "(local", "time)", "reminders",
    ]  # fmt: skip
    first = lines[1].split()
    assert first[1:6] == ["1", "mentee", "first_meeting", "first_meeting", "planned"]
    assert first[6:9] == ["2026-12-15", "09:00", "Europe/Copenhagen"]
    assert [line.split()[3] for line in lines[1:]] == [
        "first_meeting", "checkin_1", "checkin_2", "checkin_3", "end", "follow_up",
    ]  # fmt: skip
    assert "2027-03-01 09:00" in out  # 3 months: a calendar date, not 90 days

    code, out, _ = run(capsys, "match", "list")
    assert "bridge" in out and "2026-12-01 09:00" in out

    code, out, _ = run(
        capsys, "match", "end", "1", "--reason", "ended_by_mentee", "--date", "2027-01-10"
    )
    assert code == 0 and "ended 2027-01-10 00:00: ended_by_mentee" in out
    code, out, _ = run(capsys, "schedule", "list", "--participant", "1")
    rules = [line.split()[3] for line in out.splitlines()[1:]]
    assert rules == ["first_meeting", "end", "follow_up"]  # check-ins after the end: cancelled
    assert "2027-01-10 00:00" in out  # the end survey moved to the real end

    code, out, _ = run(capsys, "participants", "--status", "dropped_out")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["1"]


def test_match_errors_are_one_line(two_people: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "match", "create", "--mentee", "2", "--mentor", "1")
    assert code == 2
    assert err.strip() == "mentorbot: error: Participant 2 is a mentor, not a mentee."
    code, _, err = run(capsys, "match", "end", "9", "--reason", "completed")
    assert err.strip() == "mentorbot: error: There is no match 9."


def test_match_extend_moves_the_end_and_the_end_surveys_and_is_audited(
    two_people: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Dates around the commands' today: an extension must end after today.
    today = T0.astimezone(ZoneInfo("Europe/Copenhagen")).date()
    start = today - timedelta(days=30)
    run(capsys, "match", "create", "--mentee", "1", "--mentor", "2", "--start", str(start))
    planned_end = _months_later(start, 6)
    until = planned_end + timedelta(days=31)

    code, _, err = run(capsys, "match", "extend", "1", "--until", str(planned_end))
    assert code == 2
    assert err.strip() == (
        "mentorbot: error: The new end must be after today and after the planned end, "
        f"{planned_end.day} {planned_end:%b} {planned_end.year}."
    )
    code, out, _ = run(capsys, "match", "extend", "1", "--until", str(until))
    assert (code, out.strip()) == (0, f"match 1 extended: it ends {until} 00:00")
    code, out, _ = run(capsys, "schedule", "list", "--participant", "1")
    end_line = next(line for line in out.splitlines() if " end " in line)
    assert f"{until} 00:00" in end_line
    code, out, _ = run(capsys, "match", "list")
    assert f"{until} 00:00" in out

    async def audited() -> list[tuple[str, int | None, str | None]]:
        core = await build_core(load_settings(), FakeClock(T0))
        try:
            async with core.sessions() as session:
                rows = await session.scalars(select(AuditEntry))
                return [(r.action, r.participant_id, r.detail) for r in rows]
        finally:
            await core.close()

    made, (action, participant, detail) = asyncio.run(audited())
    assert made[:2] == ("match", 1)  # `match create` is in the audit log too
    assert made[2] is not None and made[2].startswith("match 1: mentee 1, mentor 2, from ")
    assert (action, participant) == ("extend_match", 1)
    assert detail is not None and detail.startswith(f"match 1: until {until}, from {planned_end}")

    code, _, err = run(capsys, "match", "extend", "7", "--until", str(until))
    assert err.strip() == "mentorbot: error: There is no match 7."


def _months_later(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError(day)


def test_coordinator_add_prints_a_one_time_code(
    two_people: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "coordinator", "add", "--programme", "bridge", "--name", "Sara")
    assert code == 0
    first, second = out.splitlines()
    assert first == "coordinator 1: Sara (coordinator, bridge)."
    assert second.startswith("One-time code, valid 7 days: they send  /coordinator ")
    code, _, err = run(capsys, "coordinator", "add", "--programme", "nope", "--name", "X")
    assert code == 2 and err.strip() == "mentorbot: error: there is no programme 'nope'"


def test_coordinator_login_gives_a_one_time_code_and_never_asks_for_a_password(
    two_people: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator at the console does not choose a colleague's password either: the command
    prints a one-time code with which the coordinator chooses their own."""
    run(capsys, "coordinator", "add", "--programme", "bridge", "--name", "Sara")
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))  # never read
    code, out, _ = run(capsys, "coordinator", "login", "--id", "1", "--email", "Sara@Example.org")
    first, second, third = out.splitlines()
    assert code == 0 and first == "coordinator 1 (Sara): dashboard e-mail sara@example.org"
    assert second.startswith("One-time code, valid 24 hours: ") and "/login/set-password" in third
    printed = second.rsplit(" ", 1)[1]

    async def log_in_with(password: str, one_time_code: str | None = None) -> bool:
        core = await build_core(load_settings(), FakeClock(T0))
        try:
            async with core.sessions() as session:
                if one_time_code is not None:
                    await use_login_code(session, "sara@example.org", one_time_code, password)
                login = await check_login(
                    session,
                    "sara@example.org",
                    password,
                    address="127.0.0.1",
                    secret=core.secret,
                )
                await session.commit()
                return login.coordinator is not None
        finally:
            await core.close()

    assert not asyncio.run(log_in_with("correct horse battery"))  # stdin set no password
    assert asyncio.run(log_in_with("a passphrase of her own", printed))
    code, _, err = run(capsys, "coordinator", "login", "--id", "1", "--email", "sara")
    assert code == 2 and "not an e-mail address" in err
    code, _, err = run(capsys, "coordinator", "login", "--id", "9", "--email", "x@example.org")
    assert code == 2 and "there is no coordinator 9" in err


def test_coordinator_owner_makes_and_unmakes_a_site_owner(
    two_people: None, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "coordinator", "add", "--programme", "bridge", "--name", "Sara")
    code, out, _ = run(capsys, "coordinator", "owner", "--id", "1")
    assert (code, out.strip()) == (0, "coordinator 1 (Sara) is a site owner")
    code, out, _ = run(capsys, "coordinator", "owner", "--id", "1", "--off")
    assert (code, out.strip()) == (0, "coordinator 1 (Sara) is no longer a site owner")

    async def owner_and_log() -> tuple[bool, list[tuple[str, int | None, int | None]]]:
        core = await build_core(load_settings(), FakeClock(T0))
        try:
            async with core.sessions() as session:
                sara = await session.get(Coordinator, 1)
                assert sara is not None
                entries = await session.scalars(
                    select(AuditEntry).where(AuditEntry.action.like("%site_owner"))
                )
                log = [(e.action, e.coordinator_id, e.account_id) for e in entries]
                return sara.site_owner, log
        finally:
            await core.close()

    owner, log = asyncio.run(owner_and_log())
    assert not owner
    assert log == [("make_site_owner", None, 1), ("remove_site_owner", None, 1)]
