"""The channel-neutral parts wired together once, from the settings, at start-up."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.conversation import EngineConfig, SurveyEngine
from bot.coordination import DangerScreen
from bot.course import ContactDispatcher, Outbox, dispatcher_lag
from bot.language import Catalogs, QuestionAudio
from bot.monitoring import DISPATCHER_LAG, INBOX_OLDEST_PENDING, INBOX_PENDING, set_per_label
from bot.people import load_secret
from bot.programmes import (
    Offset,
    Programme,
    ProgrammeError,
    ProgrammeSources,
    Questionnaire,
    load_programmes,
    load_questionnaires,
    programme_versions,
    read_programme_files,
    seed_from_files,
    stored_programmes,
)
from bot.settings import Settings, SettingsError
from storage import inbox, workers
from storage import repositories as repo
from storage.database import create_engine, create_session_factory, upgrade_database
from storage.models import AnonymityLock

log = logging.getLogger(__name__)


@dataclass
class Core:
    """`clock` is the one source of the time: the dispatcher and every session take it from
    there (a session stamps new rows with it; `storage.database.clock_now`)."""

    settings: Settings
    catalogs: Catalogs
    questionnaires: dict[str, Questionnaire]
    programmes: dict[str, Programme]
    engine: SurveyEngine
    database: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    secret: bytes
    sources: ProgrammeSources
    clock: Clock
    versions: dict[str, datetime] = field(default_factory=dict)

    async def close(self) -> None:
        await self.database.dispose()

    async def reload_programmes(self) -> bool:
        """Take in programmes created or changed since (by an admin in the dashboard, which
        may run in another process); True if anything changed. `programmes` is updated in
        place: the engine and the dispatcher hold the same mapping."""
        async with self.sessions() as session:
            versions = await programme_versions(session)
            if versions == self.versions:
                return False
            try:
                fresh = await stored_programmes(session, self.sources)
            except ProgrammeError as error:
                log.error("programmes not reloaded, keeping the ones in use: %s", error)
                return False
        self.programmes.clear()
        self.programmes.update(fresh)
        self.engine.audio = QuestionAudio.scan(self.programmes)
        self.versions = versions
        log.info("programmes reloaded: %s", ", ".join(sorted(fresh)))
        return True

    async def update_gauges(self) -> None:
        """Read what the metrics take from the database (the inbox's depth, the dispatcher's
        lag) into their gauges, just before a scrape (`bot.monitoring`): it is the same for every
        process on the database, and up to date whichever process is asked."""
        now = self.clock.now()
        async with self.sessions() as session:
            waiting = await inbox.waiting(session)
            lag = await dispatcher_lag(session, self.programmes, now, self.settings.timezone)
        set_per_label(INBOX_PENDING, {channel: w.pending for channel, w in waiting.items()})
        set_per_label(
            INBOX_OLDEST_PENDING,
            {
                channel: max(0.0, (now - w.oldest).total_seconds()) if w.oldest else 0.0
                for channel, w in waiting.items()
            },
        )
        set_per_label(DISPATCHER_LAG, lag)

    def contact_dispatcher(self, outboxes: dict[str, Outbox]) -> ContactDispatcher:
        return ContactDispatcher(
            self.sessions,
            self.programmes,
            self.questionnaires,
            self.catalogs,
            outboxes,
            secret=self.secret,
            clock=self.clock,
            timezone=self.settings.timezone,
            grace=Offset.parse(self.settings.contact_grace_period),
            digest_at=self.settings.flag_digest_time,
            voice_dir=self.settings.voice_storage_dir,
        )


def load_content(
    settings: Settings,
) -> tuple[Catalogs, dict[str, Questionnaire], dict[str, Programme]]:
    """Read catalogs, questionnaires and programmes; raises a one-line error if one is broken."""
    catalogs = Catalogs.load(settings.locales_dir)
    if not catalogs.has(settings.default_language):
        raise SettingsError(
            f"DEFAULT_LANGUAGE is invalid: no catalog for '{settings.default_language}' "
            f"(have {', '.join(catalogs.languages)})"
        )
    questionnaires = load_questionnaires(settings.surveys_dir)
    programmes = load_programmes(settings.programmes_dir, questionnaires, catalogs.languages)
    return catalogs, questionnaires, programmes


def check_default_programme(settings: Settings, programmes: dict[str, Programme]) -> None:
    if settings.default_programme and settings.default_programme not in programmes:
        raise SettingsError(
            f"DEFAULT_PROGRAMME is invalid: no programme with code '{settings.default_programme}' "
            f"(have {', '.join(programmes)})"
        )


def check_anonymity_locks(
    locks: list[AnonymityLock],
    programmes: dict[str, Programme],
    questionnaires: dict[str, Questionnaire],
) -> None:
    """A questionnaire version keeps the anonymity it had when answers came in: switching a
    setting must never expose earlier anonymous answers (or hide named ones)."""
    for lock in locks:
        programme = programmes.get(lock.programme_code)
        questionnaire = questionnaires.get(lock.questionnaire_id)
        if programme is None or questionnaire is None or questionnaire.version != lock.version:
            continue
        mode = programme.anonymity_of(lock.questionnaire_id).value
        if mode != lock.mode:
            raise ProgrammeError(
                f"programme '{programme.code}': field 'anonymity.{lock.questionnaire_id}': "
                f"version {lock.version} has answers given as '{lock.mode}'; to use '{mode}', "
                f"raise the questionnaire's version"
            )


async def build_core(settings: Settings, clock: Clock) -> Core:
    """Load the content, migrate the database, seed it with the programme files and take the
    programmes from it (bot/programme_store.py). Everything built takes the time from `clock`
    (`main` gives the wall clock, a test its own)."""
    catalogs, questionnaires, _ = load_content(settings)  # a broken file stops us here
    sources = ProgrammeSources(questionnaires, catalogs.languages, settings.programmes_dir)
    database = create_engine(settings.database_url)
    try:
        await upgrade_database(database)
        sessions = create_session_factory(database, clock.now, settings.timezone)
        async with sessions.begin() as session:
            await workers.one_at_a_time(session, workers.START)  # one process seeds at a time
            files = read_programme_files(settings.programmes_dir)
            for warning in await seed_from_files(session, files, sources):
                log.warning(warning)
            programmes = await stored_programmes(session, sources)
            versions = await programme_versions(session)
            check_default_programme(settings, programmes)
            check_anonymity_locks(await repo.anonymity_locks(session), programmes, questionnaires)
    except BaseException:
        await database.dispose()
        raise
    secret = load_secret(settings)
    engine = SurveyEngine(
        questionnaires,
        programmes,
        catalogs,
        EngineConfig(
            default_language=settings.default_language,
            default_programme=settings.default_programme or None,
            max_text_length=settings.max_text_length,
            voice_dir=settings.voice_storage_dir,
        ),
        secret,
        DangerScreen.load(settings.locales_dir / "danger"),
        QuestionAudio.scan(programmes),
    )
    return Core(
        settings, catalogs, questionnaires, programmes, engine, database, sessions, secret,
        sources, clock, versions,
    )  # fmt: skip
