"""The backup file: a gzip-compressed tar archive that says what it holds.

    MANIFEST.json                       what is inside, from what, and each part's SHA-256
    README.txt                          the same in words, for whoever finds the file
    database/mentorbot.sqlite3          the database (or database/mentorbot.pgdump)
    SECRET/respondent-key-secret.txt    the respondent-key secret (unless left out)
    voice/<file>.ogg                    the voice answers of VOICE_STORAGE_DIR

It is written beside its destination with mode 600 (only its owner may read it) and renamed
into place when complete, so that a failed backup never replaces a good one. Reading it back
checks every part against the manifest before anything is restored.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any

from storage.backup import BackupError

FORMAT = "mentorbot-backup"
FORMAT_VERSION = 1
MANIFEST = "MANIFEST.json"
README = "README.txt"
DATABASE_MEMBERS = {
    "sqlite": "database/mentorbot.sqlite3",
    "postgresql": "database/mentorbot.pgdump",
}
SECRET_MEMBER = "SECRET/respondent-key-secret.txt"
VOICE_FOLDER = "voice"
VOICE_SUFFIX = ".ogg"
SECRET_WARNING = (
    "With this secret and the database, anyone can tell who gave each anonymous answer: "
    "keep this file as private as the secret itself."
)


@dataclass
class BackupContents:
    """What goes into a backup, or came out of one."""

    dialect: str  # "sqlite" or "postgresql"
    revision: str  # the schema's Alembic revision
    database: Path  # the copy of the database (a file of its own)
    made_with: str  # the sqlite3 backup API or pg_dump, with its version
    created_at: datetime
    secret: bytes | None = None
    secret_from: str | None = None  # RESPONDENT_KEY_SECRET or SECRET_FILE
    voice: list[Path] = field(default_factory=list)
    mentorbot_version: str = ""


def _sha256(source: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: source.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return _sha256(handle)


def _version() -> str:
    try:
        return metadata.version("mentorbot")
    except metadata.PackageNotFoundError:
        return "unknown"


def _manifest(contents: BackupContents, sums: dict[str, str]) -> dict[str, Any]:
    secret: dict[str, Any] = {"included": contents.secret is not None}
    if contents.secret is not None:
        secret |= {"member": SECRET_MEMBER, "from": contents.secret_from, "note": SECRET_WARNING}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": contents.created_at.isoformat(),
        "mentorbot_version": _version(),
        "personal_data": True,
        "database": {
            "dialect": contents.dialect,
            "member": DATABASE_MEMBERS[contents.dialect],
            "revision": contents.revision,
            "made_with": contents.made_with,
        },
        "secret": secret,
        "voice": {"folder": f"{VOICE_FOLDER}/", "files": len(contents.voice)},
        "sha256": sums,
    }


def _readme(contents: BackupContents) -> str:
    lines = [
        f"mentorbot backup of {contents.created_at:%Y-%m-%d %H:%M} UTC: a {contents.dialect} "
        f"database at schema revision {contents.revision}"
        + (f", and voice answers ({len(contents.voice)})." if contents.voice else "."),
        "",
        "It holds personal data: the participants, their answers, messages and flags, the",
        "coordinators' accounts. Keep it where only the people who run the bot can read it,",
        "and delete it when your retention period for backups is over (docs/PRIVACY.md).",
        "",
    ]
    if contents.secret is not None:
        lines += [
            f"It holds the respondent-key SECRET ({SECRET_MEMBER}).",
            SECRET_WARNING,
            "",
        ]
    else:
        lines += [
            "It does not hold the respondent-key secret: restore that from where you keep it,",
            "or anonymous answers lose their before/after link to the intake.",
            "",
        ]
    lines += ["Restore it with: python -m bot restore FILE  (see docs/OPERATIONS.md)", ""]
    return "\n".join(lines)


def _info(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    """A member owned by nobody in particular: the archive carries no account names."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    return info


def write_backup(output: Path, contents: BackupContents) -> int:
    """Writes the backup to `output` (mode 600, replacing an older file only once complete);
    returns its size in bytes."""
    sums = {DATABASE_MEMBERS[contents.dialect]: _file_sha256(contents.database)}
    if contents.secret is not None:
        sums[SECRET_MEMBER] = hashlib.sha256(contents.secret).hexdigest()
    for path in contents.voice:
        sums[f"{VOICE_FOLDER}/{path.name}"] = _file_sha256(path)
    created = contents.created_at.timestamp()
    partial = output.with_name(f".{output.name}.partial")
    partial.unlink(missing_ok=True)  # left by a backup that was cut short
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for name, text in (
                (MANIFEST, json.dumps(_manifest(contents, sums), indent=2) + "\n"),
                (README, _readme(contents)),
            ):
                data = text.encode()
                tar.addfile(_info(name, len(data), created), io.BytesIO(data))
            with contents.database.open("rb") as database:
                size = contents.database.stat().st_size
                tar.addfile(_info(DATABASE_MEMBERS[contents.dialect], size, created), database)
            if contents.secret is not None:
                tar.addfile(
                    _info(SECRET_MEMBER, len(contents.secret), created),
                    io.BytesIO(contents.secret),
                )
            for path in contents.voice:
                # A voice file keeps its time: an anonymous answer's is the start of its day.
                stat = path.stat()
                with path.open("rb") as voice:
                    tar.addfile(
                        _info(f"{VOICE_FOLDER}/{path.name}", stat.st_size, stat.st_mtime), voice
                    )
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return output.stat().st_size


@dataclass
class ReadBackup:
    """A backup read back and checked: its manifest, and its parts in a private folder."""

    contents: BackupContents
    voice_times: dict[str, float]  # file name to modification time
    manifest: dict[str, Any]


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        return False
    if name in DATABASE_MEMBERS.values() or name == SECRET_MEMBER:
        return True
    return len(path.parts) == 2 and path.parts[0] == VOICE_FOLDER and path.suffix == VOICE_SUFFIX


def _members(tar: tarfile.TarFile, sums: dict[str, str]) -> Iterator[tarfile.TarInfo]:
    for name in sums:
        if not _safe_member(name):
            raise BackupError(f"the backup names an unexpected part {name!r}: it was not made here")
        try:
            member = tar.getmember(name)
        except KeyError:
            raise BackupError(f"the backup is incomplete: {name} is missing") from None
        if not member.isfile():
            raise BackupError(f"the backup is damaged: {name} is not a file")
        yield member


def read_backup(path: Path, work: Path) -> ReadBackup:
    """The backup at `path`, its parts unpacked into `work` (a private folder) and checked
    against their checksums; a `BackupError` says what is wrong with it."""
    if not path.is_file():
        raise BackupError(f"there is no backup file {path}")
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            return _unpack(tar, work)
    except (tarfile.TarError, EOFError, OSError, ValueError, KeyError, TypeError) as error:
        raise BackupError(
            f"{path} cannot be read as a mentorbot backup ({type(error).__name__}: {error})"
        ) from None


def _unpack(tar: tarfile.TarFile, work: Path) -> ReadBackup:
    try:
        manifest_file = tar.extractfile(MANIFEST)
    except KeyError:
        manifest_file = None
    if manifest_file is None:
        raise BackupError(f"this is not a mentorbot backup: it has no {MANIFEST}")
    manifest = json.loads(manifest_file.read())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"this is not a mentorbot backup: its {MANIFEST} is of another format")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"the backup has format version {manifest.get('format_version')}, this mentorbot "
            f"reads {FORMAT_VERSION}: restore it with the mentorbot that made it "
            f"({manifest.get('mentorbot_version')}) or a newer one"
        )
    sums: dict[str, str] = manifest["sha256"]
    unpacked: dict[str, Path] = {}
    voice_times: dict[str, float] = {}
    for member in _members(tar, sums):
        source = tar.extractfile(member)
        assert source is not None  # a regular file, checked above
        target = work / member.name
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        digest = hashlib.sha256()
        with os.fdopen(descriptor, "wb") as handle:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                handle.write(chunk)
        if digest.hexdigest() != sums[member.name]:
            raise BackupError(f"the backup is damaged: {member.name} does not match its checksum")
        unpacked[member.name] = target
        if member.name.startswith(f"{VOICE_FOLDER}/"):
            voice_times[target.name] = member.mtime
    database = manifest["database"]
    if database.get("dialect") not in DATABASE_MEMBERS:
        raise BackupError(f"the backup holds a {database.get('dialect')} database: unknown here")
    secret_member = manifest["secret"].get("member") if manifest["secret"]["included"] else None
    secret = unpacked[secret_member].read_bytes() if secret_member else None
    contents = BackupContents(
        dialect=database["dialect"],
        revision=database["revision"],
        database=unpacked[DATABASE_MEMBERS[database["dialect"]]],
        made_with=database.get("made_with", ""),
        created_at=datetime.fromisoformat(manifest["created_at"]),
        secret=secret.strip() if secret is not None else None,
        secret_from=manifest["secret"].get("from"),
        voice=[path for name, path in unpacked.items() if name.startswith(f"{VOICE_FOLDER}/")],
        mentorbot_version=manifest.get("mentorbot_version", ""),
    )
    return ReadBackup(contents, voice_times, manifest)
