"""Programmes in the database: seeded from their files, changed and created by admins, and
taken in by a running process without a restart."""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.cli import main
from bot.coordination import (
    NotAdmin,
    ProgrammeInvalid,
    change_programme,
    create_programme,
    invite_coordinator,
)
from bot.core import Core, build_core
from bot.programmes import (
    Offset,
    Problem,
    ProgrammeError,
    ProgrammeSettings,
    load_programmes,
    load_questionnaires,
    read_programme_files,
    seed_from_files,
)
from bot.settings import PROJECT_ROOT, Settings, load_settings
from storage import repositories as repo
from storage.models import AuditEntry, Coordinator, CoordinatorRole
from tests.course import T0, FakeClock, programme_elsewhere

BRIDGE = PROJECT_ROOT / "programmes" / "bridge.yaml"


async def admin_of_bridge(core: Core, name: str = "Ada") -> Coordinator:
    async with core.sessions() as session:
        coordinator, _ = await invite_coordinator(session, "bridge", name, "admin")
        await session.commit()
        return coordinator


def bridge_settings(core: Core, **changes: object) -> ProgrammeSettings:
    return replace(ProgrammeSettings.of(core.programmes["bridge"]), **changes)


async def rename_in_the_dashboard(settings: Settings, name: str) -> None:
    """An admin renames bridge in the dashboard, in a process of its own."""
    core = await build_core(settings, FakeClock(T0))
    try:
        ada = await admin_of_bridge(core)
        async with core.sessions() as session:
            await change_programme(
                session, ada, "bridge", bridge_settings(core, name=name), core.sources
            )
            await session.commit()
    finally:
        await core.close()


@pytest.fixture
def own_files(tmp_path: Path, settings: Settings) -> Settings:
    """A programmes folder of the test's own, holding a copy of the shipped bridge.yaml."""
    folder = tmp_path / "programmes"
    folder.mkdir()
    shutil.copy(BRIDGE, folder / "bridge.yaml")
    return settings.model_copy(update={"programmes_dir": folder})


async def test_a_file_seeds_its_programme_and_a_changed_file_applies_at_the_next_start(
    own_files: Settings,
) -> None:
    core = await build_core(own_files, FakeClock(T0))
    await core.close()
    path = own_files.programmes_dir / "bridge.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**data, "coordinator_reply_days": 5}), encoding="utf-8")
    core = await build_core(own_files, FakeClock(T0))
    try:
        assert core.programmes["bridge"].coordinator_reply_days == 5
    finally:
        await core.close()


async def test_settings_changed_in_the_dashboard_are_kept_and_the_rest_follows_the_file(
    own_files: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    await rename_in_the_dashboard(own_files, "Bro til job")
    path = own_files.programmes_dir / "bridge.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    schedule = {**data["schedule"], "reminders": ["3d"]}
    path.write_text(
        yaml.safe_dump({**data, "name": "From the file", "schedule": schedule}), encoding="utf-8"
    )
    with caplog.at_level(logging.WARNING, logger="bot.core"):
        core = await build_core(own_files, FakeClock(T0))
    try:
        bridge = core.programmes["bridge"]
        assert bridge.name == "Bro til job"  # the admin's
        assert bridge.schedule.reminders == (Offset.parse("3d"),)  # the file's
        assert "bridge.yaml: the file's name not applied: an admin changed" in caplog.text
        assert "python -m bot programmes export bridge" in caplog.text
    finally:
        await core.close()


async def test_an_admin_changes_the_settings_and_a_running_process_takes_them_in(
    core: Core, settings: Settings, clock: FakeClock
) -> None:
    bot_side = await build_core(settings, FakeClock(T0))  # another process on the same database
    try:
        ada = await admin_of_bridge(core)
        clock.advance(minutes=5)  # the change is newer than the programmes' seeding at T0
        wanted = bridge_settings(
            core, languages=("uk", "ar", "da"), timezone="Europe/Oslo",
            coordinator_reply_days="3", help_lines=(("Politiet", "114"), ("", "")),
        )  # fmt: skip
        async with core.sessions() as session:
            await change_programme(session, ada, "bridge", wanted, core.sources)
            await session.commit()
        assert await bot_side.reload_programmes() is True
        assert await bot_side.reload_programmes() is False  # nothing new the second time
        changed = bot_side.programmes["bridge"]
        assert changed.languages == ("uk", "ar", "da") and changed.timezone == "Europe/Oslo"
        assert changed.coordinator_reply_days == 3
        assert [(line.label, line.number) for line in changed.help_lines] == [("Politiet", "114")]
        # The engine holds the same mapping: it offers the new languages at once.
        assert bot_side.engine.programmes["bridge"] is changed
        assert changed.schedule == core.programmes["bridge"].schedule  # untouched by the form
        async with core.sessions() as session:
            entry = await session.scalar(
                select(AuditEntry).where(AuditEntry.action == "change_programme")
            )
        assert entry is not None and (entry.coordinator_id, entry.detail) == (ada.id, "bridge")
    finally:
        await bot_side.close()


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"name": "  "}, "name", Problem.MISSING),
        ({"languages": ()}, "languages", Problem.MISSING),
        ({"languages": ("da", "xx")}, "languages", Problem.UNKNOWN_LANGUAGE),
        ({"timezone": "Mars/Olympus"}, "timezone", Problem.UNKNOWN_TIMEZONE),
        ({"coordinator_reply_days": "15"}, "coordinator_reply_days", Problem.OUT_OF_RANGE),
        ({"coordinator_reply_days": "two"}, "coordinator_reply_days", Problem.OUT_OF_RANGE),
        ({"help_lines": (("Police", ""),)}, "help_lines", Problem.INCOMPLETE),
        ({"help_lines": (("", ""),)}, "help_lines", Problem.MISSING),
        ({"help_lines": (("Police", "javascript:alert(1)"),)}, "help_lines", Problem.BAD_NUMBER),
        ({"help_lines": (("Police", "12"),)}, "help_lines", Problem.BAD_NUMBER),
        ({"help_lines": (("Chat", "http://example.org"),)}, "help_lines", Problem.BAD_NUMBER),
    ],
)
async def test_a_wrong_setting_is_refused_and_nothing_changes(
    core: Core, changes: dict[str, object], field: str, problem: Problem
) -> None:
    ada = await admin_of_bridge(core)
    async with core.sessions() as session:
        with pytest.raises(ProgrammeInvalid) as refused:
            await change_programme(
                session, ada, "bridge", bridge_settings(core, **changes), core.sources
            )
        await session.rollback()
    assert refused.value.problems == {field: problem}
    assert await core.reload_programmes() is False


async def test_only_an_admin_of_the_programme_changes_it(core: Core) -> None:
    async with core.sessions() as session:
        plain, _ = await invite_coordinator(session, "bridge", "Pia", "coordinator")
        await session.commit()
        with pytest.raises(NotAdmin):
            await change_programme(session, plain, "bridge", bridge_settings(core), core.sources)


async def test_an_admin_starts_a_programme_from_one_they_run(core: Core) -> None:
    ada = await admin_of_bridge(core)
    draft = bridge_settings(core, name="Aarhus", languages=("da", "so"))
    async with core.sessions() as session:
        created = await create_programme(
            session, ada, "bridge", "aarhus", "", draft, core.sources, core.programmes
        )
        await session.commit()
        row = await repo.programme_by_code(session, "aarhus")
        role = await session.get(CoordinatorRole, (ada.id, row.id))
    assert role is not None and role.role == "admin"
    assert created.mentor_code is None and "mentor" not in created.intake  # no mentor link
    assert created.schedule == core.programmes["bridge"].schedule
    assert await core.reload_programmes() is True
    assert core.programmes["aarhus"].languages == ("da", "so")


@pytest.mark.parametrize(
    ("code", "mentor_code", "field", "problem"),
    [
        ("bridge", "", "code", Problem.CODE_TAKEN),
        ("BRIDGE-mentor", "", "code", Problem.CODE_TAKEN),  # a deep link ignores case
        ("aarhus", "bridge", "mentor_code", Problem.CODE_TAKEN),
        ("aar hus", "", "code", Problem.BAD_CODE),
        ("", "", "code", Problem.BAD_CODE),
        ("aarhus", "AARHUS", "mentor_code", Problem.SAME_CODES),
    ],
)
async def test_a_new_programme_needs_codes_of_its_own(
    core: Core, code: str, mentor_code: str, field: str, problem: Problem
) -> None:
    ada = await admin_of_bridge(core)
    async with core.sessions() as session:
        with pytest.raises(ProgrammeInvalid) as refused:
            await create_programme(
                session, ada, "bridge", code, mentor_code, bridge_settings(core, name="New"),
                core.sources, core.programmes,
            )  # fmt: skip
    assert refused.value.problems == {field: problem}


async def test_a_programme_cannot_be_copied_from_one_the_admin_does_not_run(core: Core) -> None:
    async with core.sessions() as session:
        await programme_elsewhere(session)
        otto, _ = await invite_coordinator(session, "elsewhere", "Otto", "admin")
        await session.commit()
        with pytest.raises(ProgrammeInvalid) as refused:
            await create_programme(
                session, otto, "bridge", "copy", "", bridge_settings(core, name="Copy"),
                core.sources, core.programmes,
            )  # fmt: skip
    assert refused.value.problems == {"template": Problem.NOT_ALLOWED}


async def test_a_broken_definition_in_the_database_keeps_the_programmes_in_use(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    async with core.sessions() as session:
        row = await repo.programme_by_code(session, "bridge")
        row.definition = {**row.definition, "intake": {"mentee": "no_such_survey"}}
        row.updated_at += timedelta(days=1)  # changed after the running bot loaded it
        await session.commit()
    with caplog.at_level(logging.ERROR, logger="bot.core"):
        assert await core.reload_programmes() is False
    assert "no questionnaire 'no_such_survey'" in caplog.text
    assert core.programmes["bridge"].intake["mentee"] == "mentee_intake"


async def test_two_programme_files_with_the_same_code_are_refused(
    core: Core, tmp_path: Path
) -> None:
    for name in ("one.yaml", "two.yaml"):
        shutil.copy(BRIDGE, tmp_path / name)
    surveys = load_questionnaires(PROJECT_ROOT / "surveys")
    with pytest.raises(ProgrammeError, match=r"two\.yaml: field 'code': 'bridge' is used twice"):
        load_programmes(tmp_path, surveys, core.catalogs.languages)


def test_the_command_line_lists_and_exports_a_programme_as_the_database_holds_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    asyncio.run(rename_in_the_dashboard(load_settings(), "Bro"))
    capsys.readouterr()
    assert main(["programmes", "list"], FakeClock(T0)) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[1].split()[:3] == ["bridge", "bridge-mentor", "Bro"]
    exported = tmp_path / "bridge.yaml"
    assert main(["programmes", "export", "bridge", "--to", str(exported)], FakeClock(T0)) == 0
    data = yaml.safe_load(exported.read_text(encoding="utf-8"))
    original = yaml.safe_load(BRIDGE.read_text(encoding="utf-8"))
    # The file's shape, with the dashboard's change (the form writes out every field it shows).
    assert data == {**original, "name": "Bro", "coordinator_reply_days": 2}
    assert main(["programmes", "export", "nowhere"], FakeClock(T0)) == 2
    assert "no programme 'nowhere'" in capsys.readouterr().err


async def test_a_programme_another_process_seeded_a_moment_ago_does_not_stop_the_start(
    core: Core, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bot and the dashboard start together: both look, neither sees the row, one inserts.
    async def not_seen_yet(session: object, code: str) -> None:
        return None

    monkeypatch.setattr(repo, "programme_by_code", not_seen_yet)
    files = read_programme_files(settings.programmes_dir)
    async with core.sessions() as session:
        assert await seed_from_files(session, files, core.sources) == []
        await session.commit()
    monkeypatch.undo()
    assert await core.reload_programmes() is False  # the row as it was
