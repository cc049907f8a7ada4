"""`GET /healthz` and `GET /readyz` (dashboard/health.py, bot/health.py): alive, and ready for
work, with the reason of each failed check in JSON and nothing personal in it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import text

from bot.core import Core
from bot.health import Readiness
from bot.settings import Settings
from dashboard.app import create_app
from storage.database import create_engine
from storage.revisions import schema_revisions
from tests.fakes import FakeBotAPI
from tests.serving import serving_bot


class Stopwatch:
    """A monotonic timer the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def probe(core: Core, readiness: Readiness) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(core, readiness))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as web:
        yield web


def ready(core: Core, monotonic: Callable[[], float] | None = None) -> Readiness:
    """Readiness as a service that started well has it: Telegram reached, the dispatcher ran."""
    readiness = Readiness(core.database, 30, **({"monotonic": monotonic} if monotonic else {}))
    readiness.telegram_reached()
    readiness.dispatcher_ran()
    return readiness


async def test_a_serving_bot_is_alive_and_becomes_ready(
    settings: Settings, server: FakeBotAPI
) -> None:
    async with serving_bot(settings, server) as running, httpx.AsyncClient() as web:
        alive = await web.get(f"{running.base_url}/healthz")
        for _ in range(300):  # the dispatcher's first run comes at the start
            answer = await web.get(f"{running.base_url}/readyz")
            if answer.status_code == 200:
                break
            await asyncio.sleep(0.05)
    assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
    assert answer.json() == {
        "status": "ready",
        "checks": {
            "database": {"ok": True},
            "migrations": {"ok": True},
            "telegram": {"ok": True},
            "dispatcher": {"ok": True},
        },
    }


async def test_ready_until_the_dispatcher_misses_three_runs(core: Core) -> None:
    watch = Stopwatch()
    readiness = ready(core, watch)
    async with probe(core, readiness) as web:
        assert (await web.get("/readyz")).status_code == 200
        watch.now += 90  # three intervals of 30 s: still within
        assert (await web.get("/readyz")).status_code == 200
        watch.now += 5
        late = await web.get("/readyz")
        assert (await web.get("/healthz")).status_code == 200  # alive all the same
    assert late.status_code == 503
    assert late.json()["status"] == "not ready"
    assert late.json()["checks"]["dispatcher"] == {
        "ok": False,
        "reason": "last ran 95 s ago (expected every few intervals)",
    }
    assert all(check["ok"] for name, check in late.json()["checks"].items() if name != "dispatcher")


async def test_not_ready_before_telegram_answered_and_the_dispatcher_ran(core: Core) -> None:
    async with probe(core, Readiness(core.database, 30)) as web:
        answer = await web.get("/readyz")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["telegram"] == {"ok": False, "reason": "getMe has not answered since the start"}
    assert checks["dispatcher"] == {"ok": False, "reason": "has not run since the start"}
    assert checks["database"] == checks["migrations"] == {"ok": True}


async def set_revision(core: Core, revision: str) -> None:
    async with core.database.begin() as connection:
        update = text("UPDATE alembic_version SET version_num = :revision")
        await connection.execute(update, {"revision": revision})


async def test_not_ready_when_the_schema_is_behind_the_code(core: Core) -> None:
    (head,) = code = (await schema_revisions(core.database)).code
    await set_revision(core, "0014")
    try:
        async with probe(core, ready(core)) as web:
            answer = await web.get("/readyz")
    finally:
        await set_revision(core, head)  # the next test's database is emptied, not migrated
    assert answer.status_code == 503
    reason = answer.json()["checks"]["migrations"]["reason"]
    assert reason == (
        f"the database is at revision 0014, this code at {', '.join(sorted(code))}: "
        "run `python -m bot db upgrade`"
    )


async def test_not_ready_when_the_database_is_away_and_the_answer_names_nobody(
    core: Core,
) -> None:
    """A database that refuses connections: the reason is the class of the error, never its
    message (which names the server, the user, the database)."""
    away = create_engine("postgresql+asyncpg://amina_hassan:pw-Secret-1@127.0.0.1:1/mentees")
    try:
        readiness = Readiness(away, 30)
        readiness.telegram_reached()
        readiness.dispatcher_ran()
        async with probe(core, readiness) as web:
            answer = await web.get("/readyz")
            alive = await web.get("/healthz")
    finally:
        await away.dispose()
    assert answer.status_code == 503 and alive.status_code == 200
    checks = answer.json()["checks"]
    assert checks["database"]["ok"] is False
    assert checks["database"]["reason"].startswith("unreachable (")
    assert checks["migrations"] == {"ok": False, "reason": "the database is away"}
    for private in ("amina", "hassan", "pw-Secret", "mentees", "127.0.0.1"):
        assert private not in answer.text.lower()
