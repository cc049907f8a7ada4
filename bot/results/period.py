"""The period a report covers: read from the command line or a form in the programme's local
time, described back to the reader, and turned into conditions on a date column."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement


@dataclass(frozen=True)
class Period:
    """Runs started, and contacts due, from `start` (inclusive) to `end` (exclusive)."""

    start: datetime | None = None
    end: datetime | None = None

    def describe(self, zone: ZoneInfo) -> str:
        def local(moment: datetime) -> str:
            return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

        if self.start is None and self.end is None:
            return "all dates"
        parts = []
        if self.start is not None:
            parts.append(f"from {local(self.start)}")
        if self.end is not None:
            parts.append(f"until {local(self.end)}")
        return " ".join(parts) + f" ({zone.key} time)"


ALL_DATES = Period()


def parse_bound(text: str, zone: ZoneInfo, *, end: bool = False) -> datetime:
    """A date (2026-12-01) or date-time (2026-12-01T09:30) in the programme's local time.

    A plain date as the end of a period includes that whole day.
    Raises ValueError with a one-line message.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a date like 2026-12-01 or 2026-12-01T09:30") from None
    whole_day = end and _is_plain_date(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if whole_day:
        day = moment.date() + timedelta(days=1)
        moment = datetime.combine(day, time(), tzinfo=zone)
    return moment


def _is_plain_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def in_period(column: InstrumentedAttribute[datetime], period: Period) -> list[ColumnElement[bool]]:
    """The conditions that keep `column` within the period (none for all dates)."""
    conditions = []
    if period.start is not None:
        conditions.append(column >= period.start)
    if period.end is not None:
        conditions.append(column < period.end)
    return conditions
