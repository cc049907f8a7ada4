"""Monitoring: what the service tells its operator about itself, without saying who anyone
is (docs/OPERATIONS.md, "Monitoring: metrics and logs").

**Metrics**, defined here once and counted where each thing happens: the inbox
(`bot/inbox.py`, `handlers/telegram/middlewares.py`), the survey runner, the Bot API's retry
loop (`handlers/telegram/retry.py`) and the web app (`dashboard/metrics.py`, which also serves
them at `GET /metrics`). The gauges read from the database (inbox depth, dispatcher lag) are
set by `Core.update_gauges` just before each scrape. No metric carries personal data: labels
are a channel (`telegram`), a programme code, a Bot API method, a reason from a fixed list, an
HTTP method, a route's template (never the path asked for, nor its query) and a status code. A
chat id, a participant's number or a name is never a label; `tests/test_metrics.py` checks the
exposition after an intake. prometheus_client is no channel framework, so the core may import
it. Metrics live in the process: each process (`run`, `dashboard`, `serve`) exposes its own,
and a counter starts at zero when it starts.

**Log fields**: what a log line may say about whom, the update, the participant, the programme
or the scheduled contact it concerns, as fields beside the message, never in it. Code that
knows one of them binds it (`log_scope` around a piece of work, `bind_log_fields` inside one),
and every record logged meanwhile, by this code base or by a library (aiogram's "Update id=… is
handled"), carries it: `ContextFields`, a filter on the log handler (`bot/cli/logs.py`), copies
the fields onto each record. They live in a context variable, so each asyncio task (one chat's
lane of the inbox, one send of the dispatcher) has its own. Only the names in `FIELDS` can be
bound: numbers and codes, never a name, a username, a phone number, an answer or a message's
text (`docs/PRIVACY.md`, "Logs and metrics").
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

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


# ------------------------------------------------------------------ log fields

FIELDS = ("update_id", "participant_id", "programme", "contact_id")
"""The fields a log record may carry beside its message, in the order they are written."""

_EMPTY: Mapping[str, int | str] = MappingProxyType({})
_fields: ContextVar[Mapping[str, int | str]] = ContextVar("log_fields", default=_EMPTY)


def _checked(fields: Mapping[str, int | str | None]) -> dict[str, int | str]:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not a log field: {', '.join(sorted(unknown))} (have {FIELDS})")
    return {name: value for name, value in fields.items() if value is not None}


@contextmanager
def log_scope(**fields: int | str | None) -> Iterator[None]:
    """Records logged inside carry these fields; whatever is bound inside ends with it."""
    token = _fields.set(MappingProxyType({**_fields.get(), **_checked(fields)}))
    try:
        yield
    finally:
        _fields.reset(token)


def bind_log_fields(**fields: int | str | None) -> None:
    """Records logged from here to the end of the enclosing `log_scope` (or of the task)
    carry these fields too."""
    _fields.set(MappingProxyType({**_fields.get(), **_checked(fields)}))


def log_fields() -> Mapping[str, int | str]:
    """The fields bound here and now."""
    return _fields.get()


class ContextFields(logging.Filter):
    """Puts the bound fields on every record that passes the handler (it drops none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _fields.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True
