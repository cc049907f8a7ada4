"""`backup` and `restore`: the database (SQLite and PostgreSQL), the respondent-key secret and
the voice answers in one private file, put back into an empty installation so that every
export and every before/after pair is as it was; and what restore refuses."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import sqlite3
import stat
import tarfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, make_url, select, text

from bot.cli import main
from bot.core import build_core
from bot.results import before_after
from bot.settings import load_settings
from storage import repositories as repo
from storage.database import alembic_config, create_engine
from storage.models import Participant
from storage.revisions import code_revision, database_revision
from tests.course import T0, FakeClock
from tests.report_data import seed_before_after

SURVEYS = ("mentee_intake", "mentee_end", "mentor_intake")
VOICE = b"OggS fake voice answer"
VOICE_DAY = datetime(2026, 11, 30, tzinfo=UTC).timestamp()  # an anonymous answer's day


@dataclass
class Place:
    """An installation: its database, and the folder of its secret file and voice answers."""

    url: str
    folder: Path

    @property
    def secret_file(self) -> Path:
        return self.folder / "mentorbot.secret"

    @property
    def voice(self) -> Path:
        return self.folder / "voice"

    def use(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The commands from now on work on this installation."""
        self.folder.mkdir(exist_ok=True)
        monkeypatch.setenv("DATABASE_URL", self.url)
        monkeypatch.setenv("SECRET_FILE", str(self.secret_file))
        monkeypatch.setenv("VOICE_STORAGE_DIR", str(self.voice))
        monkeypatch.delenv("RESPONDENT_KEY_SECRET", raising=False)


async def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """A command, run as `python -m bot` runs it (in a thread: it has an event loop of its own)."""
    code = await asyncio.to_thread(main, list(args), FakeClock(T0))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def exported(capsys: pytest.CaptureFixture[str], folder: Path) -> dict[str, bytes]:
    files = {}
    for survey in SURVEYS:
        output = folder / f"{survey}.csv"
        code, _, err = await cli(
            capsys, "export", "--survey", survey, "--format", "csv", "--output", str(output)
        )
        assert code == 0, err
        files[survey] = output.read_bytes()
    return files


async def pairs(url: str, secret: bytes | None = None) -> list[tuple[object, object]]:
    """The before/after motivation pairs of the example programme, with the installation's
    secret (or the one given)."""
    core = await build_core(load_settings(), FakeClock(T0))
    try:
        async with core.sessions() as session:
            programme = await repo.programme_by_code(session, "bridge")
            assert programme is not None
            found = await before_after(
                session, secret or core.secret, programme.id, "motivation", "mentee_intake",
                "mentee_end",
            )  # fmt: skip
    finally:
        await core.close()
    return sorted(found, key=str)


async def filled(
    place: Place, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo programme's people and answers, five before/after pairs (one anonymous at the
    end) and a voice answer."""
    place.use(monkeypatch)
    code, _, err = await cli(capsys, "seed-demo")
    assert code == 0, err
    core = await build_core(load_settings(), FakeClock(T0))
    try:
        await seed_before_after(core)
    finally:
        await core.close()
    place.voice.mkdir()
    voice = place.voice / "AgADanonymous.ogg"
    voice.write_bytes(VOICE)
    os.utime(voice, (VOICE_DAY, VOICE_DAY))


async def _empty_postgres(url: str) -> str:
    """A database beside `url`'s, made empty: where a restore goes."""
    source = make_url(url)
    twin = source.set(database=f"{source.database}_restored")
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": twin.database}
            )
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{twin.database}"'))
    finally:
        await engine.dispose()
    rendered = twin.render_as_string(hide_password=False)
    engine = create_engine(rendered)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    return rendered


@pytest.fixture
async def places(database_url: str, tmp_path: Path) -> tuple[Place, Place]:
    """The installation backed up (a migrated, empty database) and an empty one to restore
    into, on the same kind of database."""
    if database_url.startswith("sqlite"):
        empty = f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
    else:
        empty = await _empty_postgres(database_url)
    return Place(database_url, tmp_path / "source"), Place(empty, tmp_path / "restored")


@pytest.fixture
async def backed_up(
    places: tuple[Place, Place],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> AsyncIterator[Path]:
    """A filled installation's backup; the source is still the one in use."""
    source, _ = places
    await filled(source, capsys, monkeypatch)
    backup = tmp_path / "backup.tar.gz"
    code, out, err = await cli(capsys, "backup", "--output", str(backup))
    assert code == 0, err
    assert "and the respondent-key secret" in out
    yield backup


async def test_a_restore_into_an_empty_database_exports_what_the_backup_held(
    places: tuple[Place, Place],
    backed_up: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _, restored = places
    before = await exported(capsys, tmp_path / "source")
    assert before["mentee_intake"].count(b"\n") > 20  # the demo's people and the pairs' intakes

    restored.use(monkeypatch)
    code, out, err = await cli(capsys, "restore", str(backed_up))

    assert code == 0, err
    assert "restored the" in out and "restored 1 voice answer into" in out
    assert await exported(capsys, restored.folder) == before
    voice = restored.voice / "AgADanonymous.ogg"
    assert voice.read_bytes() == VOICE
    assert voice.stat().st_mtime == VOICE_DAY  # still only the day of the anonymous answer


async def test_the_secret_survives_so_an_anonymous_answer_still_pairs_with_its_intake(
    places: tuple[Place, Place],
    backed_up: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source, restored = places
    before = await pairs(source.url)
    anonymous_pair = ("high", "very_high")  # ba2: named intake, anonymous end survey
    assert anonymous_pair in before

    restored.use(monkeypatch)
    code, out, _ = await cli(capsys, "restore", str(backed_up))

    assert code == 0
    assert f"wrote the backup's secret to SECRET_FILE {restored.secret_file} (mode 600)" in out
    assert "the secret links 1 of 1 anonymous respondents to their participants" in out
    assert restored.secret_file.read_bytes() == source.secret_file.read_bytes()
    assert stat.S_IMODE(restored.secret_file.stat().st_mode) == 0o600
    assert await pairs(restored.url) == before
    # Without the secret the pair would be lost: this is what the backup kept.
    assert anonymous_pair not in await pairs(restored.url, b"another secret, 32 characters..")


async def test_the_backup_is_private_and_says_what_it_holds(
    backed_up: Path, places: tuple[Place, Place]
) -> None:
    source, _ = places
    assert stat.S_IMODE(os.stat(backed_up).st_mode) == 0o600
    with tarfile.open(backed_up) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("MANIFEST.json").read())  # type: ignore[union-attr]
        readme = tar.extractfile("README.txt").read().decode()  # type: ignore[union-attr]
        secret = tar.extractfile("SECRET/respondent-key-secret.txt").read()  # type: ignore[union-attr]
    assert names[:2] == ["MANIFEST.json", "README.txt"]
    assert manifest["format"] == "mentorbot-backup" and manifest["personal_data"] is True
    assert manifest["database"]["revision"] == code_revision()
    assert manifest["secret"]["included"] is True
    assert manifest["secret"]["member"] == "SECRET/respondent-key-secret.txt"
    assert manifest["voice"]["files"] == 1
    assert set(manifest["sha256"]) == set(names) - {"MANIFEST.json", "README.txt"}
    assert "It holds the respondent-key SECRET" in readme and "personal data" in readme
    assert secret == source.secret_file.read_bytes().strip()


async def test_restore_refuses_a_database_that_is_not_empty_unless_forced(
    places: tuple[Place, Place],
    backed_up: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, _ = places  # still in use: restore into the filled database itself
    people = await count_people(source.url)
    (source.voice / "AgADlater.ogg").write_bytes(b"an answer given after the backup")

    code, out, err = await cli(capsys, "restore", str(backed_up))

    assert code == 2 and out == ""
    assert err.startswith("mentorbot: error: the database at ")
    assert "is not empty (answers, audit_log, contacts, coordinator_roles, …, 2 voice files)" in err
    assert err.strip().endswith("back it up first, then restore again with --force")
    assert await count_people(source.url) == people
    assert (source.voice / "AgADlater.ogg").exists()

    code, out, err = await cli(capsys, "restore", str(backed_up), "--force")

    assert code == 0, err
    assert await count_people(source.url) == people
    assert "removed 1 of the database it replaced" in out
    assert not (source.voice / "AgADlater.ogg").exists()  # nothing in the database names it


async def count_people(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(Participant)))
    finally:
        await engine.dispose()


async def test_a_database_a_start_only_seeded_is_empty_enough(
    places: tuple[Place, Place],
    backed_up: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new server where the bot started once (its programmes seeded, a new secret made) takes
    the restore; its new secret is replaced only with --force, and kept aside."""
    _, restored = places
    restored.use(monkeypatch)
    core = await build_core(load_settings(), FakeClock(T0))
    await core.close()
    new_secret = restored.secret_file.read_bytes()

    code, _, err = await cli(capsys, "restore", str(backed_up))

    assert code == 2
    assert err.strip() == (
        f"mentorbot: error: SECRET_FILE {restored.secret_file} holds another secret than the "
        "backup's: restore again with --force to put the backup's in its place (the other is "
        f"kept as {restored.secret_file}.before-restore)"
    )
    assert await count_people(restored.url) == 0  # refused before anything changed

    code, out, _ = await cli(capsys, "restore", str(backed_up), "--force")

    assert code == 0
    assert f"the one before is {restored.secret_file}.before-restore" in out
    aside = Path(f"{restored.secret_file}.before-restore")
    assert await asyncio.to_thread(aside.read_bytes) == new_secret
    assert await count_people(restored.url) > 0


async def test_restore_refuses_another_secret_in_the_environment_even_when_forced(
    places: tuple[Place, Place],
    backed_up: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The setting wins over any file restore could write: the anonymous answers would lose
    their link without a word."""
    _, restored = places
    restored.use(monkeypatch)
    monkeypatch.setenv("RESPONDENT_KEY_SECRET", "a-different-secret-of-the-new-server")

    code, _, err = await cli(capsys, "restore", str(backed_up), "--force")

    assert code == 2
    assert err.startswith(
        "mentorbot: error: RESPONDENT_KEY_SECRET holds another secret than the backup's: set it "
        f"to the backup's (`tar -xzOf {backed_up} SECRET/respondent-key-secret.txt`)"
    )
    assert not restored.secret_file.exists()
    assert await revision_of(restored.url) is None  # nothing restored


async def test_without_the_secret_a_restore_says_the_pairs_are_lost(
    places: tuple[Place, Place],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    source, restored = places
    await filled(source, capsys, monkeypatch)
    backup = tmp_path / "no-secret.tar.gz"
    code, out, _ = await cli(capsys, "backup", "--output", str(backup), "--without-secret")
    assert code == 0 and "not the respondent-key secret: keep that apart yourself" in out
    with tarfile.open(backup) as tar:
        assert "SECRET/respondent-key-secret.txt" not in tar.getnames()

    restored.use(monkeypatch)
    code, out, err = await cli(capsys, "restore", str(backup))

    assert code == 0
    assert "the backup holds no secret: the one in place (if any) stays" in out
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith("mentorbot: warning: there is no secret in place, and 1 anonymous respondent")
    )


async def test_an_older_backup_is_migrated_when_restored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = Place(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}", tmp_path / "old")
    old.use(monkeypatch)
    engine = create_engine(old.url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda c: command.upgrade(alembic_config(c), "0014"))
    finally:
        await engine.dispose()
    backup = tmp_path / "old.tar.gz"
    code, out, _ = await cli(capsys, "backup", "--output", str(backup))
    assert code == 0 and "database at revision 0014" in out
    assert await revision_of(old.url) == "0014"  # a backup copies, it never migrates

    new = Place(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}", tmp_path / "new")
    new.use(monkeypatch)
    code, out, _ = await cli(capsys, "restore", str(backup))

    assert code == 0
    assert f"migrated it from revision 0014 to {code_revision()}" in out
    assert await revision_of(new.url) == code_revision()


async def revision_of(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return await database_revision(engine)
    finally:
        await engine.dispose()


async def test_a_sqlite_backup_is_consistent_while_the_bot_writes(
    tmp_path: Path,
    migrated_sqlite: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A write in progress (not committed) neither blocks the backup nor ends up in it."""
    database = tmp_path / "live.db"
    shutil.copyfile(migrated_sqlite, database)
    Place(f"sqlite+aiosqlite:///{database}", tmp_path / "live").use(monkeypatch)
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO participants (channel, channel_user_id, programme_id, role, status, "
            "created_at) VALUES ('test', 'half-written', 1, 'mentee', 'intake', '2026-12-01')"
        )
        backup = tmp_path / "live.tar.gz"
        code, _, err = await cli(capsys, "backup", "--output", str(backup))
        assert code == 0, err
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with tarfile.open(backup) as tar:
        tar.extract("database/mentorbot.sqlite3", tmp_path / "unpacked")
    copy = sqlite3.connect(tmp_path / "unpacked" / "database" / "mentorbot.sqlite3")
    try:
        assert copy.execute("SELECT count(*) FROM participants").fetchone() == (0,)
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        copy.close()


async def test_a_damaged_or_foreign_file_is_refused_before_anything_changes(
    places: tuple[Place, Place],
    backed_up: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _, restored = places
    restored.use(monkeypatch)
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(backed_up) as source, tarfile.open(damaged, "w:gz") as copy:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "database/mentorbot.sqlite3" or member.name.endswith(".pgdump"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            copy.addfile(member, io.BytesIO(data))
    foreign = tmp_path / "notes.tar.gz"
    foreign.write_text("not an archive")

    code, _, err = await cli(capsys, "restore", str(damaged))
    assert code == 2
    assert "the backup is damaged: database/mentorbot." in err
    assert "does not match its checksum" in err
    code, _, err = await cli(capsys, "restore", str(foreign))
    assert code == 2
    assert f"{foreign} cannot be read as a mentorbot backup" in err
    assert not restored.secret_file.exists()


async def test_a_backup_goes_back_into_the_same_kind_of_database_only(
    tmp_path: Path,
    migrated_sqlite: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = tmp_path / "small.db"
    shutil.copyfile(migrated_sqlite, database)
    Place(f"sqlite+aiosqlite:///{database}", tmp_path / "small").use(monkeypatch)
    backup = tmp_path / "small.tar.gz"
    assert (await cli(capsys, "backup", "--output", str(backup)))[0] == 0

    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://mentorbot@127.0.0.1:1/mentorbot")
    code, _, err = await cli(capsys, "restore", str(backup))

    assert code == 2
    assert err.strip() == (
        "mentorbot: error: the backup holds a sqlite database, and DATABASE_URL names a "
        "postgresql one: restore it into a sqlite database"
    )
