"""Moments as a coordinator reads them: in the programme's time zone, written the way the
reader's language writes dates (Babel), and the day a coordinator picks as a moment."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time, format_timedelta

from bot.language.i18n import current_language
from bot.programmes import Programme

# English as it is written in Europe ("7 Dec 2026 10:00"): the programmes are European and
# the US order ("Dec 7, 2026 10:00 AM") misleads a reader who writes the day first.
_DATE_LOCALES = {"en": "en_GB"}


def date_locale() -> str:
    """The Babel locale that writes dates and times for the active language."""
    language = current_language()
    return _DATE_LOCALES.get(language, language)


def zone_of(programmes: Mapping[str, Programme], code: str | None, default: str) -> ZoneInfo:
    """The programme's time zone, or the TIMEZONE setting when it names none."""
    definition = programmes.get(code) if code else None
    return ZoneInfo((definition and definition.timezone) or default)


def local_day(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return ""
    return format_skeleton("yMMMd", moment, tzinfo=zone, locale=date_locale())


def kept_day(kept: datetime | None) -> str:
    """A time kept to the day only (an anonymous answer's: midnight UTC of the programme's
    date, storage/days.py), as that date; it is no moment to move into a zone."""
    return local_day(kept, ZoneInfo("UTC"))


def local_moment(moment: datetime | None, zone: ZoneInfo) -> str:
    """Date and time, e.g. "1 Dec 2026 11:00" (English) or "1. dec. 2026 11.00" (Danish)."""
    if moment is None:
        return ""
    clock = format_time(moment, "short", tzinfo=zone, locale=date_locale())
    return f"{local_day(moment, zone)} {clock}"


def wait_in_minutes(wait: timedelta) -> str:
    """A wait in whole minutes, rounded up so that it is never too short: "2 minutes"
    (English), "2 minutter" (Danish)."""
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return format_timedelta(
        timedelta(minutes=minutes), granularity="minute", threshold=10**6, locale=date_locale()
    )


def week_moment(moment: datetime, zone: ZoneInfo) -> str:
    """Weekday, day and time, e.g. "Tue 1 Dec 11:00": for what happens this week."""
    day = format_skeleton("MMMEd", moment, tzinfo=zone, locale=date_locale())
    return f"{day} {format_time(moment, 'short', tzinfo=zone, locale=date_locale())}"


def moment_of_day(day: date | None, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The moment a coordinator means by a day: now for today, else the day's start in the
    programme's zone; no day: None (the core's default, now)."""
    if day is None:
        return None
    if day == now.astimezone(zone).date():
        return now
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)
