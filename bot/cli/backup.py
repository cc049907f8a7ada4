"""`backup` and `restore`: the database, the respondent-key secret and the voice answers in one
file, and back (the file's layout: `backup_file.py`; the database's copy: `storage/backup.py`).

Neither builds a core: a backup must copy the database as it is (before an upgrade migrates
it), and a restore migrates only once the copy is in place.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.backup_file import (
    SECRET_MEMBER,
    VOICE_SUFFIX,
    BackupContents,
    ReadBackup,
    read_backup,
    write_backup,
)
from bot.cli.common import output_file
from bot.people import existing_secret, keys_linked, write_secret_file
from bot.settings import Settings
from storage.backup import (
    BackupError,
    drop_statements,
    dump_postgres,
    dump_sqlite,
    restore_postgres,
    restore_sqlite,
    tables_with_rows,
)
from storage.database import create_engine, shown_url, upgrade_database
from storage.revisions import code_revision, database_revision, knows_revision

if TYPE_CHECKING:
    from bot.cli.common import Commands


def add_backup(commands: Commands) -> None:
    backup = commands.add_parser(
        "backup",
        help="write the database, the respondent-key secret and the voice answers to one file "
        "(consistent while the bot runs)",
    )
    backup.add_argument(
        "--output", required=True, metavar="FILE", help="the file to write, e.g. backup.tar.gz"
    )
    backup.add_argument(
        "--without-secret",
        action="store_true",
        help="leave the respondent-key secret out, to keep it apart yourself",
    )
    backup.set_defaults(handler=cmd_backup)


def add_restore(commands: Commands) -> None:
    restore = commands.add_parser(
        "restore",
        help="put a backup back into the configured database, secret file and voice folder, "
        "then migrate it",
    )
    restore.add_argument("file", metavar="FILE", help="a file written by `backup`")
    restore.add_argument(
        "--force",
        action="store_true",
        help="replace a database that is not empty, and another secret in SECRET_FILE",
    )
    restore.set_defaults(handler=cmd_restore)


def _dialect(settings: Settings) -> str:
    return make_url(settings.database_url).get_backend_name()


async def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return await database_revision(engine)
    finally:
        await engine.dispose()


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def _size(size: int) -> str:
    amount, unit = float(size), "bytes"
    for larger in ("kB", "MB", "GB"):
        if amount < 1000:
            break
        amount, unit = amount / 1000, larger
    return f"{size} bytes" if unit == "bytes" else f"{amount:.1f} {unit}"


def voice_files(directory: Path) -> list[Path]:
    """The voice answers kept in VOICE_STORAGE_DIR (one file each, directly in it)."""
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.glob(f"*{VOICE_SUFFIX}") if path.is_file())


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    # Reading the schema's revision would log Alembic's set-up lines; nothing migrates here.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    output = output_file(args.output, "--output")
    url, dialect = settings.database_url, _dialect(settings)
    with tempfile.TemporaryDirectory(prefix="mentorbot-backup-") as work:
        copy = Path(work) / "database"
        if dialect == "sqlite":
            dump_sqlite(url, copy)
            made_with = f"sqlite3 online backup API (SQLite {sqlite3.sqlite_version})"
            revision = asyncio.run(_revision(f"sqlite+aiosqlite:///{copy}"))
        else:
            before = asyncio.run(_revision(url))
            made_with = dump_postgres(url, copy) if before is not None else ""
            revision = asyncio.run(_revision(url)) if before is not None else None
            if revision != before:
                raise BackupError(
                    f"the schema was migrated from {before} to {revision} during the backup "
                    "(a newer mentorbot started): run the backup again"
                )
        if revision is None:
            raise BackupError(f"the database at {shown_url(url)} has no tables: nothing to keep")
        secret = None if args.without_secret else existing_secret(settings)
        contents = BackupContents(
            dialect=dialect,
            revision=revision,
            database=copy,
            made_with=made_with,
            created_at=args.clock.now(),
            secret=secret.value if secret else None,
            secret_from=secret.source if secret else None,
            voice=voice_files(settings.voice_storage_dir),  # after the database: none it lacks
        )
        try:
            size = write_backup(output, contents)
        except OSError as error:
            raise BackupError(f"cannot write {output} ({error.strerror or error})") from None
    voice = f", {_count(len(contents.voice), 'voice answer')}" if contents.voice else ""
    print(
        f"wrote {output} ({_size(size)}, only its owner may read it): the {dialect} "
        f"database at revision {revision}{voice}"
        + (", and the respondent-key secret" if secret else "")
    )
    if secret:
        print(
            "It holds personal data and the secret that tells who gave each anonymous answer: "
            "keep it as private as the secret (docs/OPERATIONS.md)."
        )
    elif args.without_secret:
        print(
            "It holds personal data, but not the respondent-key secret: keep that apart "
            "yourself (RESPONDENT_KEY_SECRET, or the file SECRET_FILE), or anonymous answers "
            "lose their before/after link when restored."
        )
    else:
        print(
            "It holds personal data. There is no respondent-key secret yet (the bot creates "
            "it at its first start): back up again after that."
        )
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    url, dialect = settings.database_url, _dialect(settings)
    with tempfile.TemporaryDirectory(prefix="mentorbot-restore-") as work:
        backup = read_backup(Path(args.file), Path(work))
        contents = backup.contents
        if contents.dialect != dialect:
            raise BackupError(
                f"the backup holds a {contents.dialect} database, and DATABASE_URL names a "
                f"{dialect} one: restore it into a {contents.dialect} database"
            )
        if not knows_revision(contents.revision):
            raise BackupError(
                f"the backup's schema is at revision {contents.revision}, newer than this "
                f"mentorbot knows ({code_revision()}): restore it with mentorbot "
                f"{contents.mentorbot_version} or newer"
            )
        full, drop = asyncio.run(_target(url, dialect))
        voice_before = voice_files(settings.voice_storage_dir)
        if (full or voice_before) and not args.force:
            held = ", ".join(full[:4]) + (", …" if len(full) > 4 else "")
            if voice_before:
                held += f"{', ' if full else ''}{len(voice_before)} voice files"
            raise BackupError(
                f"the database at {shown_url(url)} is not empty ({held}): restore replaces "
                "everything in it; back it up first, then restore again with --force"
            )
        put_secret = _secret_step(settings, contents.secret, args.force, Path(args.file))
        if dialect == "sqlite":
            restore_sqlite(contents.database, url)
        else:
            restore_postgres(contents.database, url, drop, Path(work))
        try:
            placed, removed = _restore_voice(backup, settings.voice_storage_dir, voice_before)
            secret_said = put_secret()
        except OSError as error:
            raise BackupError(
                f"the database is restored, but {error.filename} could not be written "
                f"({error.strerror}): make it writable, then restore again with --force"
            ) from None
    migrated, secret_in_place, (linked, anonymous) = asyncio.run(_migrate_and_link(settings))
    print(
        f"restored the {dialect} database of {contents.created_at:%Y-%m-%d %H:%M} UTC into "
        f"{shown_url(url)}"
        + (
            f" and migrated it from revision {contents.revision} to {migrated}"
            if migrated != contents.revision
            else f" (revision {migrated})"
        )
    )
    if placed or removed:
        gone = f"; removed {removed} of the database it replaced" if removed else ""
        print(f"restored {_count(placed, 'voice answer')} into {settings.voice_storage_dir}{gone}")
    print(secret_said)
    _say_linkage(secret_in_place, linked, anonymous)
    return 0


def _say_linkage(secret_in_place: bool, linked: int, anonymous: int) -> None:
    """Whether the anonymous answers restored still pair with their intakes: a warning if not,
    for the operator to put the right secret in place before the bot starts."""
    if not anonymous:
        return
    respondents = _count(anonymous, "anonymous respondent")
    if not secret_in_place:
        warning = (
            f"there is no secret in place, and {respondents} answered under one: put the secret "
            "kept apart into RESPONDENT_KEY_SECRET or SECRET_FILE before the bot starts (it "
            "would make a new one), or before/after pairing breaks"
        )
    elif not linked:
        warning = (
            f"the secret in place links none of the {respondents} to a participant: put the "
            "secret in use when the backup was made into RESPONDENT_KEY_SECRET or SECRET_FILE "
            "before the bot starts, or before/after pairing stays broken"
        )
    else:
        print(
            f"the secret links {linked} of {anonymous} anonymous respondents to their "
            "participants: before/after pairing works"
        )
        return
    print(f"mentorbot: warning: {warning}", file=sys.stderr)


async def _target(url: str, dialect: str) -> tuple[list[str], list[str]]:
    """What the database to restore into holds (tables with rows), and what removes it all."""
    engine = create_engine(url)
    try:
        full = await tables_with_rows(engine)
        drop = await drop_statements(engine) if dialect == "postgresql" else []
    finally:
        await engine.dispose()
    return full, drop


def _secret_step(
    settings: Settings, secret: bytes | None, force: bool, backup: Path
) -> Callable[[], str]:
    """What puts the backup's secret in place, decided (and refused) before anything changes;
    it returns what it did, in words."""
    if secret is None:
        return lambda: "the backup holds no secret: the one in place (if any) stays"
    if settings.respondent_key_secret is not None:
        if settings.respondent_key_secret.get_secret_value().encode() == secret:
            return lambda: "RESPONDENT_KEY_SECRET already holds the backup's secret"
        # No --force here: the setting would still win over any file written, and the
        # restored anonymous answers would silently lose their link.
        raise BackupError(
            "RESPONDENT_KEY_SECRET holds another secret than the backup's: set it to the "
            f"backup's (`tar -xzOf {backup} {SECRET_MEMBER}`), or remove it so that restore "
            "writes SECRET_FILE; then restore again"
        )
    path = Path(settings.secret_file)
    if not path.exists():

        def write() -> str:
            write_secret_file(path, secret)
            return f"wrote the backup's secret to SECRET_FILE {path} (mode 600)"

        return write
    if path.read_text(encoding="utf-8").strip().encode() == secret:
        return lambda: f"SECRET_FILE {path} already holds the backup's secret"
    aside = _free_name(path)
    if not force:
        raise BackupError(
            f"SECRET_FILE {path} holds another secret than the backup's: restore again with "
            f"--force to put the backup's in its place (the other is kept as {aside})"
        )

    def replace() -> str:
        os.replace(path, aside)
        write_secret_file(path, secret)
        return f"wrote the backup's secret to SECRET_FILE {path}; the one before is {aside}"

    return replace


def _free_name(path: Path) -> Path:
    """`path` with `.before-restore` added, numbered if that is taken."""
    candidate, number = path.with_name(f"{path.name}.before-restore"), 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}.before-restore-{number}")
    return candidate


def _restore_voice(backup: ReadBackup, directory: Path, before: list[Path]) -> tuple[int, int]:
    """The backup's voice answers into VOICE_STORAGE_DIR, with their times; the files of the
    database replaced are removed (nothing in the restored one names them). Returns how many
    were placed and removed."""
    names = {path.name for path in backup.contents.voice}
    removed = 0
    for path in before:
        if path.name not in names:
            path.unlink()
            removed += 1
    if backup.contents.voice:
        directory.mkdir(parents=True, exist_ok=True)
    for path in backup.contents.voice:
        target = directory / path.name
        shutil.move(path, target)
        moment = backup.voice_times[path.name]
        os.utime(target, (moment, moment))
    return len(names), removed


async def _migrate_and_link(settings: Settings) -> tuple[str, bool, tuple[int, int]]:
    """The restored database migrated to this code's schema; then whether there is a secret,
    and how many anonymous respondents it links to a participant, of how many."""
    engine = create_engine(settings.database_url)
    try:
        await upgrade_database(engine)
        revision = await database_revision(engine)
        secret = existing_secret(settings)
        async with AsyncSession(engine) as session:
            linked = await keys_linked(session, secret.value if secret else b"")
    finally:
        await engine.dispose()
    assert revision is not None  # just migrated
    return revision, secret is not None, linked
