"""The service's Prometheus metrics, defined here once and counted where each thing happens:
the inbox (`bot/inbox.py`, `handlers/telegram/middlewares.py`), the survey runner, the Bot
API's retry loop (`handlers/telegram/retry.py`) and the web app (`dashboard/metrics.py`, which
also serves them at `GET /metrics`). The gauges read from the database (inbox depth,
dispatcher lag) are set by `Core.update_gauges` just before each scrape.

No metric carries personal data: labels are a channel (`telegram`), a programme code, a Bot
API method, a reason from a fixed list, an HTTP method, a route's template (never the path
asked for, nor its query) and a status code. A chat id, a participant's number or a name is
never a label; `tests/test_metrics.py` checks the exposition after an intake.

prometheus_client is no channel framework, so the core may import it (the import contracts in
`pyproject.toml` keep aiogram and FastAPI out). Metrics live in the process: each process
(`run`, `dashboard`, `serve`) exposes its own, and a counter starts at zero when it starts.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

# No `_created` series beside each counter: the time a process started, written for every
# label set, which Prometheus does not need to compute rates. (prometheus_client leaves the
# function untyped.)
disable_created_metrics()  # type: ignore[no-untyped-call]

REGISTRY = CollectorRegistry(auto_describe=True)
"""The registry `GET /metrics` exposes: the metrics below and the process's own (CPU, memory,
open files, garbage collection), nothing a library registers elsewhere."""

process_collector.ProcessCollector(registry=REGISTRY)
platform_collector.PlatformCollector(registry=REGISTRY)
gc_collector.GCCollector(registry=REGISTRY)

# ------------------------------------------------------------------ incoming updates

UPDATES_RECEIVED = Counter(
    "mentorbot_updates_received",
    "Updates committed to the inbox (a repeat of one it holds is not counted).",
    ["channel"],
    registry=REGISTRY,
)
UPDATES_PROCESSED = Counter(
    "mentorbot_updates_processed",
    "Updates handled: marked done in the transaction of their effects.",
    ["channel"],
    registry=REGISTRY,
)
UPDATE_FAILURES = Counter(
    "mentorbot_update_failures",
    "Attempts at an update that failed (it is tried again, or parked after its last attempt).",
    ["channel"],
    registry=REGISTRY,
)
UPDATES_PARKED = Counter(
    "mentorbot_updates_parked",
    "Updates set aside after their last attempt failed or was cut short by a crash.",
    ["channel"],
    registry=REGISTRY,
)
INBOX_PENDING = Gauge(
    "mentorbot_inbox_pending_updates",
    "Updates in the inbox not yet done (waiting or in hand), read from the database.",
    ["channel"],
    registry=REGISTRY,
)
INBOX_OLDEST_PENDING = Gauge(
    "mentorbot_inbox_oldest_pending_age_seconds",
    "How long the oldest update not yet done has been in the inbox (0: none waits).",
    ["channel"],
    registry=REGISTRY,
)

# ------------------------------------------------------------------ answers and contacts

ANSWERS_STORED = Counter(
    "mentorbot_answers_stored",
    "Answers to named questionnaires committed (given, skipped or declined; a changed answer "
    "counts again). Anonymous answers are not counted: the database keeps only their day.",
    ["programme"],
    registry=REGISTRY,
)
"""An anonymous answer keeps its day, never its time (docs/PRIVACY.md, "Days, not times"):
counted here, the moment the counter moved between two scrapes would tell its time."""
DISPATCHER_LAG = Gauge(
    "mentorbot_dispatcher_lag_seconds",
    "How late the oldest due scheduled contact is: since it fell due, or since the quiet "
    "hours it fell into ended; 0 while nothing is overdue or the programme's quiet hours last.",
    ["programme"],
    registry=REGISTRY,
)

# ------------------------------------------------------------------ the Telegram Bot API

MESSAGES_SENT = Counter(
    "mentorbot_telegram_messages_sent",
    "Bot API calls that send or edit a message and that Telegram accepted, by method.",
    ["method"],
    registry=REGISTRY,
)
TOO_MANY_REQUESTS = Counter(
    "mentorbot_telegram_too_many_requests",
    "Bot API calls Telegram refused with 429 (flood control), by method.",
    ["method"],
    registry=REGISTRY,
)
RETRY_REASONS = ("flood_control", "server_error", "network_error")
"""Why a Bot API call is sent again: a 429, a 5xx, or a network error."""
RETRIES = Counter(
    "mentorbot_telegram_retries",
    "Bot API calls sent again, by method and reason: flood_control (a 429), server_error "
    "(5xx) or network_error.",
    ["method", "reason"],
    registry=REGISTRY,
)

# ------------------------------------------------------------------ the web app

UNMATCHED_ROUTE = "unmatched"
"""The route label of a request that matched no route (a 404): never the path asked for."""

REQUEST_DURATION = Histogram(
    "mentorbot_http_request_duration_seconds",
    "Time to answer a web request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)


def exposition() -> bytes:
    """Every metric in Prometheus's text format."""
    return generate_latest(REGISTRY)


def set_per_label(gauge: Gauge, values: Mapping[str, float]) -> None:
    """Set a gauge with one label to exactly these values: a label no longer given (a programme
    removed) goes. Synchronous, so no scrape in the same event loop sees it half done."""
    gauge.clear()
    for label, value in values.items():
        gauge.labels(label).set(value)


def may_read(token: str | None, authorization: str | None, from_this_machine: bool) -> bool:
    """Whether a scrape may read the metrics. With METRICS_TOKEN set, only a request with
    `Authorization: Bearer <token>` (compared in constant time, so the time of a refusal does
    not tell how much of a guess was right); without it, only a client on this machine that
    connected directly, not through a proxy."""
    if token is None:
        return from_this_machine
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


# ------------------------------------------------------------------ counted on commit

_TALLY = "metrics_on_commit"


def count_when_committed(session: AsyncSession | Session, counter: Counter, *labels: str) -> None:
    """Count one when the session's transaction commits, not at all if it rolls back: an
    update's attempt that fails is rolled back and tried again, and would count twice."""
    tally: dict[tuple[Counter, tuple[str, ...]], int] = session.info.setdefault(_TALLY, {})
    key = (counter, labels)
    tally[key] = tally.get(key, 0) + 1


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    tally: dict[tuple[Counter, tuple[str, ...]], int] = session.info.pop(_TALLY, {})
    for (counter, labels), count in tally.items():
        counter.labels(*labels).inc(count)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # After a commit the tally is gone already; what is left was rolled back.
    if transaction.parent is None:
        session.info.pop(_TALLY, None)
