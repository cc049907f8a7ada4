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
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from storage import repositories as repo
from storage.models import Contact, SurveyRun

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
    if settings.respondent_key_secret is not None:
        return settings.respondent_key_secret.get_secret_value().encode()
    path = Path(settings.secret_file)
    if not path.exists() and _create_secret_file(path):
        log.warning(
            "RESPONDENT_KEY_SECRET is not set: created %s; losing it loses the before/after "
            "link of anonymous answers",
            path,
        )
    return path.read_text(encoding="utf-8").strip().encode()


def _create_secret_file(path: Path) -> bool:
    """A new random secret at `path`; False if another process put one there first. The
    secret is written whole to a file of its own and then linked into place, so that of
    processes starting at once one secret wins and every one of them reads that one, never a
    file half written."""
    descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(draft)
