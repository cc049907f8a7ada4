"""Logging, set up once in `main()` for everything the process runs: the bot, the dispatcher,
the dashboard, and the libraries under them (aiogram, uvicorn, APScheduler, Alembic).

`LOG_FORMAT=json` writes one JSON object per line, for a log collector; `text` writes lines
for a person; unset, it is text when standard error is a terminal and JSON otherwise (a
service under systemd or in a container). Both carry the fields of `bot.monitoring` (update,
participant, programme, contact) beside the message.

JSON comes from python-json-logger: a `logging.Formatter`, so the records of every library,
which all log through the standard library, come out the same way without changing a single
call. (structlog would bring a second logging API and still need a formatter of this kind
for those records.) A JSON line holds only `JSON_KEYS` and the log fields; whatever else a
library attaches to its records (uvicorn's coloured copy of the message) is left out.

An exception is written as its traceback with the classes of the exceptions, never their
messages (`traceback_without_messages`), whoever logged it (our code, uvicorn's "Exception in
ASGI application", aiogram): a message may quote what a person wrote, an e-mail address or a
chat. Database errors do not quote parameters either (`storage.database.create_engine`).

`LOG_LEVEL` applies to this code base and to the libraries whose messages were read for it
(`FOLLOWING_LOG_LEVEL`: at DEBUG they log update ids, bot ids, server and migration events,
never what a person sent). Every other library logs warnings and errors only: at INFO and
DEBUG some write what passes through them (SQLAlchemy and aiosqlite the statements with their
parameters, that is answers and names), and APScheduler two lines for every run of every job
(each `DISPATCH_INTERVAL`), which would bury the rest.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType
from typing import Any, Literal, TextIO

from pythonjsonlogger.json import JsonFormatter

from bot.monitoring import FIELDS, ContextFields

LogFormat = Literal["json", "text"]

FOLLOWING_LOG_LEVEL = (
    "bot",
    "handlers",
    "dashboard",
    "storage",
    "aiogram",
    "uvicorn",
    "alembic",
)
"""Loggers that log at LOG_LEVEL; the others from WARNING up."""

JSON_KEYS = ("time", "level", "logger", "message", "exc_info", "stack_info")
"""The keys of a JSON line besides the log fields."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def traceback_without_messages(error: BaseException) -> str:
    """Where an exception (and the ones it came from) was raised: the frames and the classes,
    without the messages. A message may quote what a person wrote (a validation error quotes
    its input), an e-mail address (PostgreSQL's DETAIL of a unique key) or a chat (aiogram's
    text of a 429)."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return "\nThe above led to:\n".join(
        "Traceback (most recent call last):\n"
        + "".join(traceback.format_tb(raised.__traceback__))
        + type(raised).__qualname__
        for raised in reversed(chain)
    )


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def _exception(ei: ExcInfo) -> str:
    return traceback_without_messages(ei[1]) if ei[1] is not None else ""


class JsonLines(JsonFormatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, the log
    fields bound where it was logged, and the traceback of an exception."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            json_ensure_ascii=False,
        )

    def formatException(self, ei: ExcInfo) -> str:
        return _exception(ei)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        kept = {key: log_data[key] for key in JSON_KEYS if key in log_data}
        kept.update({key: log_data[key] for key in FIELDS if key in log_data})
        return kept


class TextLines(logging.Formatter):
    """The message, then the log fields as `name=value`."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatException(self, ei: ExcInfo) -> str:
        return _exception(ei)

    def format(self, record: logging.LogRecord) -> str:
        cached, record.exc_text = record.exc_text, None  # another handler's, with messages
        try:
            line = super().format(record)
        finally:
            record.exc_text = cached
        fields = " ".join(
            f"{name}={getattr(record, name)}" for name in FIELDS if hasattr(record, name)
        )
        if not fields:
            return line
        first, newline, rest = line.partition("\n")  # after the message, before a traceback
        return f"{first} [{fields}]{newline}{rest}"


_OURS = "_mentorbot"  # marks the handler set up here, so that a second call replaces it


def configure_logging(
    level: str, log_format: LogFormat | None = None, stream: TextIO | None = None
) -> LogFormat:
    """Send every record to `stream` (standard error) in `log_format`; the format used."""
    stream = stream or sys.stderr
    chosen: LogFormat = log_format or ("text" if _is_terminal(stream) else "json")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines() if chosen == "json" else TextLines())
    handler.addFilter(ContextFields())
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    numeric = logging.getLevelName(level)
    root.setLevel(max(numeric, logging.WARNING))
    for name in FOLLOWING_LOG_LEVEL:
        logging.getLogger(name).setLevel(numeric)
    return chosen


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no such method, or closed
        return False


def log_at_least(level: int) -> None:
    """Nothing below `level` is logged from now on (the demo's terminal is the conversation:
    only problems are logged into it)."""
    for logger in [logging.getLogger(), *(logging.getLogger(n) for n in FOLLOWING_LOG_LEVEL)]:
        logger.setLevel(max(level, logger.getEffectiveLevel()))
