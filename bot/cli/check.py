"""`check`: whether this installation can run, asked of everything it depends on, without
changing anything (no schema is created or migrated, no secret made). Each problem is one line
that says what to do; what is fine or will be done at the first start is said too."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import DangerListError, DangerScreen
from bot.core import check_default_programme, load_content
from bot.messages import ChannelError
from bot.people import existing_secret, keys_linked
from bot.programmes import ProgrammeError, QuestionnaireError
from bot.settings import Settings, SettingsError
from storage.database import DatabaseUnavailable, create_engine, shown_url
from storage.revisions import code_revision, database_revision, knows_revision

if TYPE_CHECKING:
    from bot.cli.common import Commands

# Reached by module name, like `run` does: the core never imports the channel's framework.
TELEGRAM_STARTUP = "handlers.telegram.startup"
SECRET_LENGTH = 16  # as RESPONDENT_KEY_SECRET must have


def add_check(commands: Commands) -> None:
    check = commands.add_parser(
        "check",
        help="check the token (with Telegram), the database, the programmes and questionnaires, "
        "the secret and the webhook settings, then exit; one line per problem",
    )
    check.set_defaults(handler=cmd_check)


@dataclass
class Findings:
    """What the check found: printed as it goes, the problems counted for the exit code."""

    problems: list[str] = field(default_factory=list)

    def ok(self, line: str) -> None:
        print(f"ok: {line}")

    def note(self, line: str) -> None:
        print(f"note: {line}")

    def problem(self, line: str) -> None:
        self.problems.append(line)
        print(f"mentorbot: problem: {line}", file=sys.stderr)


def cmd_check(settings: Settings, _args: argparse.Namespace) -> int:
    # Reading the schema's revision would log Alembic's set-up lines; nothing migrates here.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    found = Findings()
    check_content(settings, found)
    check_telegram(settings, found)
    anonymous = check_database(settings, found)
    check_secret(settings, found, anonymous)
    check_webhook(settings, found)
    if found.problems:
        count = len(found.problems)
        print(f"{count} problem{'s' if count > 1 else ''} found", file=sys.stderr)
        return 1
    print("everything checked is ready")
    return 0


def check_content(settings: Settings, found: Findings) -> None:
    try:
        catalogs, questionnaires, programmes = load_content(settings)
        check_default_programme(settings, programmes)
        DangerScreen.load(settings.locales_dir / "danger")
    except (SettingsError, QuestionnaireError, ProgrammeError, DangerListError) as error:
        found.problem(str(error))
        return
    found.ok(
        f"{len(questionnaires)} questionnaires, {len(programmes)} programmes, "
        f"languages {', '.join(catalogs.languages)}"
    )


def check_telegram(settings: Settings, found: Findings) -> None:
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        found.problem(
            "TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in .env "
            "(run and serve need it; the dashboard alone does not)"
        )
        return
    try:
        settings.require_token()
    except SettingsError as error:
        found.problem(str(error))
        return
    startup = importlib.import_module(TELEGRAM_STARTUP)
    try:
        name = asyncio.run(startup.check_token(settings, retries=0))
    except ChannelError as error:
        found.problem(str(error))
        return
    found.ok(f"Telegram knows the token: it is {name}'s, at {settings.telegram_api_base_url}")


@dataclass(frozen=True)
class Anonymous:
    """The anonymous respondents in the database, and how many the secret links (None: the
    secret was not tried, there is none yet)."""

    respondents: int
    linked: int | None


def check_database(settings: Settings, found: Findings) -> Anonymous | None:
    """Reachable, and its schema where this code expects it; the anonymous respondents, for
    the secret's check, when the schema is current."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        # Connecting would create the file: a check changes nothing.
        found.note(
            f"there is no database at {shown_url(settings.database_url)} yet: "
            "the first start creates it"
        )
        return None
    return asyncio.run(_database(settings, found))


async def _database(settings: Settings, found: Findings) -> Anonymous | None:
    where = shown_url(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        try:
            revision = await database_revision(engine)
        except DatabaseUnavailable as error:
            found.problem(str(error))
            return None
        newest = code_revision()
        if revision is None:
            found.note(f"the database at {where} has no tables yet: the first start creates them")
            return None
        if not knows_revision(revision):
            found.problem(
                f"the database at {where} is at schema revision {revision}, which this mentorbot "
                f"does not know (it knows up to {newest}): a newer mentorbot migrated it; run "
                "that one, or restore a backup made for this one"
            )
            return None
        if revision != newest:
            found.note(
                f"the database at {where} is at schema revision {revision}; this mentorbot's is "
                f"{newest}: the next start (or `python -m bot db upgrade`) migrates it; "
                "`python -m bot backup` first"
            )
            return None
        found.ok(f"the database at {where} is reachable, its schema up to date ({revision})")
        secret = existing_secret(settings)
        async with AsyncSession(engine) as session:
            linked, respondents = await keys_linked(session, secret.value if secret else b"")
        return Anonymous(respondents, linked if secret else None)
    finally:
        await engine.dispose()


def check_secret(settings: Settings, found: Findings, anonymous: Anonymous | None) -> None:
    path = Path(settings.secret_file)
    respondents = anonymous.respondents if anonymous else 0
    if settings.respondent_key_secret is not None:
        used = "RESPONDENT_KEY_SECRET"
        if path.exists():
            found.note(f"SECRET_FILE {path} is not used: RESPONDENT_KEY_SECRET is set")
    elif not path.exists():
        if respondents:
            found.problem(
                f"SECRET_FILE {path} is missing, and the database holds {respondents} anonymous "
                "respondents: a new secret would cut their answers off from their intake; put "
                "the secret back (`python -m bot restore`, or from where you kept it)"
            )
        elif not _writable_folder(path.parent):
            found.problem(
                f"SECRET_FILE {path} does not exist, and its folder cannot be written: the "
                "first start could not create it; set SECRET_FILE to a writable place"
            )
        else:
            found.note(
                f"SECRET_FILE {path} does not exist yet: the first start creates it (mode 600); "
                "keep a copy then (`python -m bot backup`)"
            )
        return
    else:
        used = f"SECRET_FILE {path}"
        if not _secret_file_fine(path, found):
            return
    if anonymous is not None and anonymous.linked == 0 and respondents:
        found.problem(
            f"the secret of {used} links none of the {respondents} anonymous respondents to a "
            "participant: it is not the secret they answered under; put that one back, or "
            "before/after pairing stays broken"
        )
        return
    linked = (
        f", linking {anonymous.linked} of {respondents} anonymous respondents"
        if (anonymous is not None and respondents)
        else ""
    )
    found.ok(f"the respondent-key secret comes from {used}{linked}")


def _secret_file_fine(path: Path, found: Findings) -> bool:
    try:
        secret = path.read_text(encoding="utf-8").strip()
        mode = path.stat().st_mode & 0o777
    except OSError as error:
        found.problem(
            f"SECRET_FILE {path} cannot be read ({error.strerror}): give the bot's user read "
            "access to it, and nobody else"
        )
        return False
    if mode & 0o077:
        found.problem(
            f"SECRET_FILE {path} can be read by others (mode {mode:o}): `chmod 600 {path}`"
        )
        return False
    if len(secret) < SECRET_LENGTH:
        found.problem(
            f"SECRET_FILE {path} holds no secret, or a short one (under {SECRET_LENGTH} "
            "characters): put the secret in use back, or remove the file before anyone answers "
            "an anonymous questionnaire so that the first start makes a new one"
        )
        return False
    return True


def _writable_folder(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def check_webhook(settings: Settings, found: Findings) -> None:
    """The webhook's settings are checked when they are read (HTTPS, the secret's form, the
    secret with the URL: `bot.settings`); what remains is to say which way updates come."""
    if settings.telegram_webhook_url:
        found.ok(
            f"updates come by webhook to {settings.telegram_webhook_url}, with a secret token "
            "(`serve` registers it with Telegram at start)"
        )
        return
    if settings.telegram_webhook_secret is not None:
        found.note("TELEGRAM_WEBHOOK_SECRET is set but unused: TELEGRAM_WEBHOOK_URL is not set")
    found.ok("no TELEGRAM_WEBHOOK_URL: the bot takes updates by long polling")
