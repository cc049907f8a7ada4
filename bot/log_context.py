"""What a log line may say about whom: the update, the participant, the programme or the
scheduled contact it concerns, as fields beside the message, never in it.

Code that knows one of them binds it (`log_scope` around a piece of work, `bind_log_fields`
inside one), and every record logged meanwhile, by this code base or by a library (aiogram's
"Update id=… is handled"), carries it: `ContextFields`, a filter on the log handler
(`bot/cli/logs.py`), copies the fields onto each record. They live in a context variable, so
each asyncio task (one chat's lane of the inbox, one send of the dispatcher) has its own.

Only the names in `FIELDS` can be bound: numbers and codes, never a name, a username, a phone
number, an answer or a message's text (`docs/PRIVACY.md`, "Logs and metrics").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

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
