"""Shared fixtures: a fresh database per test (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set), the loaded content and a built core."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import inspect, make_url, text

import bot.coordination.accounts as accounts
from bot.cli.logs import FOLLOWING_LOG_LEVEL
from bot.core import Core, build_core
from bot.settings import Settings, load_settings
from storage.database import create_engine, upgrade_database
from tests.course import COURSE, T0, FakeClock
from tests.fakes import FakeBotAPI
from tests.telegram import RunningBot, running_bot

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, … when run with -n


# argon2id with the same algorithm and the least work: the library's defaults take about 0.1 s
# a hash, and the suite makes accounts and logs in hundreds of times.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
CHEAP_DUMMY_HASH = CHEAP_HASHER.hash("dummy")


@pytest.fixture(autouse=True)
def _cheap_password_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap hashes, but for a test marked `real_password_hashing` (test_accounts.py checks
    the real parameters and that every log-in does the same work)."""
    if request.node.get_closest_marker("real_password_hashing") is None:
        monkeypatch.setattr(accounts, "_hasher", CHEAP_HASHER)
        monkeypatch.setattr(accounts, "_DUMMY_HASH", CHEAP_DUMMY_HASH)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No developer's .env or environment leaks into a test."""
    for name in list(os.environ):
        prefixes = ("TELEGRAM_", "DATABASE_", "DEMO_", "DEFAULT_", "MAX_TEXT", "DASHBOARD_")
        names = {"TIMEZONE", "LOG_LEVEL", "LOG_FORMAT", "METRICS_TOKEN", "HOST", "PORT"}
        if name.startswith(prefixes) or name in names:
            monkeypatch.delenv(name)
    # Commands a test runs (`main()`) log errors only: their other lines (a migration's, the
    # warning about a new secret file) would mix into the standard error the tests read.
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """`main()` sets up logging for the whole process (bot/cli/logs.py), and uvicorn sets its
    loggers' levels: a test must not leave its handler, writing to that test's captured
    output, or its levels to the tests after it."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    loggers = [root, *(logging.getLogger(name) for name in list(root.manager.loggerDict))]
    levels = {logger: logger.level for logger in loggers}
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    for logger, level in levels.items():
        logger.setLevel(level)
    for name in FOLLOWING_LOG_LEVEL:  # set up by the test, perhaps for the first time
        if logging.getLogger(name) not in levels:
            logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.fixture(scope="session")
def postgres_url() -> str | None:
    """TEST_DATABASE_URL; under pytest-xdist a database of the worker's own beside it
    (mentorbot_test_gw0, …), created on first use: workers that empty one database's tables
    between tests would empty each other's."""
    if POSTGRES_URL is None:
        return None
    given = load_settings(database_url=POSTGRES_URL).database_url
    if XDIST_WORKER is None:
        return given
    url = make_url(given)
    own = url.set(database=f"{url.database}_{XDIST_WORKER}")

    async def create() -> None:
        engine = create_engine(given)
        try:
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                exists = await connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": own.database},
                )
                if not exists:
                    await connection.execute(text(f'CREATE DATABASE "{own.database}"'))
        finally:
            await engine.dispose()

    asyncio.run(create())
    return own.render_as_string(hide_password=False)


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def empty_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None
) -> str:
    """A database with no tables yet."""
    if request.param == "postgresql":
        assert postgres_url is not None
        await _reset_postgres(postgres_url)
        return postgres_url
    return f"sqlite+aiosqlite:///{tmp_path / 'mentorbot.db'}"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with every migration applied, made once per run: tests copy it rather
    than migrate a file of their own (test_migrations.py migrates an empty one)."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade_database(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    return path


async def _emptied_postgres(url: str) -> None:
    """Migrated (a version check once it is), then every table emptied: much faster than
    dropping the schema and migrating it again for each test."""
    engine = create_engine(url)
    try:
        await upgrade_database(engine)
        async with engine.begin() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            names = ", ".join(f'"{table}"' for table in tables if table != "alembic_version")
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    migrated_sqlite: Path,
    postgres_url: str | None,
) -> str:
    """A migrated, empty database of the test's own."""
    if request.param == "postgresql":
        assert postgres_url is not None
        await _emptied_postgres(postgres_url)
        return postgres_url
    path = tmp_path / "mentorbot.db"
    shutil.copyfile(migrated_sqlite, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(database_url: str, request: pytest.FixtureRequest) -> Settings:
    """The shipped content; a module marked `fast_course` gets the programme whose course
    runs in seconds (tests/data/course/fast.yaml)."""
    fast = request.node.get_closest_marker("fast_course") is not None
    course = {"programmes_dir": COURSE, "default_programme": "fast"} if fast else {}
    return load_settings(database_url=database_url, default_language="en", **course)


@pytest.fixture
def clock() -> FakeClock:
    """The time of the test's core, standing at T0 until the test moves it."""
    return FakeClock(T0)


@pytest.fixture
async def core(settings: Settings, clock: FakeClock) -> AsyncIterator[Core]:
    core = await build_core(settings, clock)
    yield core
    await core.close()


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def running(
    settings: Settings, server: FakeBotAPI, clock: FakeClock
) -> AsyncIterator[RunningBot]:
    """The real bot, long polling the fake Bot API server, on the test's clock."""
    async with running_bot(settings, server, clock=clock) as bot:
        yield bot


@pytest.fixture
async def client(core: Core) -> AsyncIterator[httpx.AsyncClient]:
    """The dashboard app, spoken to through ASGI (no socket)."""
    from dashboard.app import create_app

    transport = httpx.ASGITransport(app=create_app(core))
    async with httpx.AsyncClient(transport=transport, base_url="http://dashboard") as web:
        yield web
