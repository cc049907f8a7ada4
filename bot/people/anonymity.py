"""Pseudonymous respondent keys for anonymous questionnaires.

An anonymous run stores no participant id, only `respondent_key(secret, participant_id)`: a
keyed hash (HMAC-SHA256). With the secret, the application can find a person's own anonymous
run (to let them continue it) and pair a named intake with an anonymous end survey for
before/after figures. Without the secret, the database alone does not link the two.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from storage import repositories as repo
from storage.models import Contact, Participant, SurveyRun

log = logging.getLogger(__name__)


def respondent_key(secret: bytes, participant_id: int) -> str:
    return hmac.new(secret, f"participant:{participant_id}".encode(), hashlib.sha256).hexdigest()


def anonymous_occasion(secret: bytes, contact_id: int) -> str:
    """The occasion of an anonymous run: unique per contact, but without the secret it does
    not lead back to the contact row (and so to the person)."""
    return (
        "a:" + hmac.new(secret, f"contact:{contact_id}".encode(), hashlib.sha256).hexdigest()[:32]
    )


async def run_of_contact(
    session: AsyncSession, secret: bytes, contact: Contact
) -> SurveyRun | None:
    """The survey run answering a contact: linked if named, found through the keys if not."""
    if contact.run_id is not None:
        return await session.get(SurveyRun, contact.run_id)
    return await repo.find_anonymous_run(
        session,
        respondent_key(secret, contact.participant_id),
        contact.questionnaire_id,
        anonymous_occasion(secret, contact.id),
    )


def load_secret(settings: Settings) -> bytes:
    """RESPONDENT_KEY_SECRET, or a random secret kept in SECRET_FILE (created on first use)."""
    existing = existing_secret(settings)
    if existing is not None:
        return existing.value
    path = Path(settings.secret_file)
    secret = secrets.token_hex(32).encode()
    try:
        write_secret_file(path, secret)
    except FileExistsError:  # another process starting at once made it first: its secret holds
        return path.read_text(encoding="utf-8").strip().encode()
    log.warning(
        "RESPONDENT_KEY_SECRET is not set: created %s; losing it loses the before/after link "
        "of anonymous answers (`python -m bot backup` keeps it)",
        path,
    )
    return secret


@dataclass(frozen=True)
class Secret:
    """The secret in use, and where it comes from: `RESPONDENT_KEY_SECRET` or the file."""

    value: bytes
    source: str


def existing_secret(settings: Settings) -> Secret | None:
    """The secret the bot would use, if there is one yet (nothing is created here)."""
    if settings.respondent_key_secret is not None:
        return Secret(
            settings.respondent_key_secret.get_secret_value().encode(), "RESPONDENT_KEY_SECRET"
        )
    path = Path(settings.secret_file)
    if path.exists():
        return Secret(path.read_text(encoding="utf-8").strip().encode(), f"SECRET_FILE {path}")
    return None


def write_secret_file(path: Path, secret: bytes) -> None:
    """A new secret file that only its owner may read (mode 600); never over an existing one
    (FileExistsError). It is written whole to a draft beside it and then linked into place,
    so that a process starting at the same moment never reads it half written."""
    descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secret.decode() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(draft, path)
    finally:
        os.unlink(draft)


async def keys_linked(session: AsyncSession, secret: bytes) -> tuple[int, int]:
    """Of the respondents of anonymous answers (their keys), how many this secret links to a
    participant: (linked, all). The wrong secret links none; before/after pairing needs them."""
    keys = set(
        await session.scalars(
            select(SurveyRun.respondent_key).where(SurveyRun.respondent_key.is_not(None)).distinct()
        )
    )
    if not keys:
        return 0, 0
    participants = await session.scalars(select(Participant.id))
    return len(keys & {respondent_key(secret, number) for number in participants}), len(keys)
