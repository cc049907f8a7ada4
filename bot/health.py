"""Whether a running service is ready for work: what `serve` answers at /readyz.

Ready means all four hold: the database answers, its schema is at the newest migration this
code ships, Telegram answered getMe when the service started, and the dispatcher's wake-up ran
lately (within three DISPATCH_INTERVALs, and at least a minute). Each check that fails says
why, in words that hold no personal data (a class of error, a revision, a number of seconds):
a probe's answer may end up in any log. Durations come from a monotonic timer, never the date.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.revisions import schema_revisions

DATABASE_TIMEOUT = 2.0  # seconds a probe waits for the database
MISSED_TICKS = 3  # wake-ups the dispatcher may miss before the service is not ready
MIN_STALE_AFTER = 60.0  # seconds; a dispatcher run may take a while when much is due


@dataclass(frozen=True)
class Check:
    """One condition of readiness; `reason` says why it fails (None when it holds)."""

    ok: bool
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"ok": True} if self.ok else {"ok": False, "reason": self.reason}


@dataclass(frozen=True)
class ReadinessReport:
    checks: dict[str, Check]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not ready",
            "checks": {name: check.as_json() for name, check in self.checks.items()},
        }


class Readiness:
    """What the service has seen of Telegram and the dispatcher, and the database's state
    when asked (`check`). The Telegram channel calls `telegram_reached` and `dispatcher_ran`."""

    def __init__(
        self,
        database: AsyncEngine,
        dispatch_interval: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        database_timeout: float = DATABASE_TIMEOUT,
    ) -> None:
        self.database = database
        self.stale_after = max(MISSED_TICKS * dispatch_interval, MIN_STALE_AFTER)
        self.monotonic = monotonic
        self.database_timeout = database_timeout
        self._telegram = False
        self._last_dispatch: float | None = None

    def telegram_reached(self) -> None:
        """getMe answered at start: the token is good and Telegram was reachable."""
        self._telegram = True

    def dispatcher_ran(self) -> None:
        """The dispatcher's wake-up has just finished a run."""
        self._last_dispatch = self.monotonic()

    async def check(self) -> ReadinessReport:
        database = await self._database()
        schema = await self._schema() if database.ok else Check(False, "the database is away")
        return ReadinessReport(
            {
                "database": database,
                "migrations": schema,
                "telegram": Check(True)
                if self._telegram
                else Check(False, "getMe has not answered since the start"),
                "dispatcher": self._dispatcher(),
            }
        )

    async def _database(self) -> Check:
        try:
            async with asyncio.timeout(self.database_timeout):
                async with self.database.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except TimeoutError:
            return Check(False, f"no answer within {self.database_timeout:g} s")
        except Exception as error:  # the class only: a message may hold the address
            return Check(False, f"unreachable ({type(error).__name__})")
        return Check(True)

    async def _schema(self) -> Check:
        try:
            async with asyncio.timeout(self.database_timeout):
                revisions = await schema_revisions(self.database)
        except TimeoutError:
            return Check(False, f"no answer within {self.database_timeout:g} s")
        except Exception as error:
            return Check(False, f"could not be read ({type(error).__name__})")
        if revisions.current:
            return Check(True)
        found = ", ".join(sorted(revisions.database)) or "none"
        return Check(
            False,
            f"the database is at revision {found}, this code at "
            f"{', '.join(sorted(revisions.code))}: run `python -m bot db upgrade`",
        )

    def _dispatcher(self) -> Check:
        if self._last_dispatch is None:
            return Check(False, "has not run since the start")
        ago = self.monotonic() - self._last_dispatch
        if ago > self.stale_after:
            return Check(False, f"last ran {ago:.0f} s ago (expected every few intervals)")
        return Check(True)
