"""When contacts are due: offsets like `45d` or `3mo`, schedule rules, quiet hours.

All of it is programme data (YAML); this module only reads and applies it.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.programmes.questionnaire import answer_id

_OFFSET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|min|h|d|w|mo)\s*$")
_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_REPEAT = 12  # times one answer trigger may fire in one match


@dataclass(frozen=True)
class Offset:
    """A span of time: a number of seconds, or of calendar months (`mo`)."""

    amount: float
    unit: str

    @classmethod
    def parse(cls, text: str | int) -> Offset:
        if isinstance(text, int) or str(text).strip() == "0":
            if int(text) != 0:
                raise ValueError(f"'{text}': give a unit, e.g. 45d, 3mo, 6w, 12h, 30min or 90s")
            return cls(0, "s")
        match = _OFFSET.match(str(text))
        if match is None:
            raise ValueError(f"'{text}' is not an offset like 45d, 3mo, 6w, 12h, 30min or 90s")
        amount, unit = float(match.group(1)), match.group(2)
        if unit == "mo" and not amount.is_integer():
            raise ValueError(f"'{text}': months must be whole; write 1.5 months as 45d or 6w")
        return cls(amount, unit)

    def after(self, moment: datetime) -> datetime:
        return self._shift(moment, 1)

    def before(self, moment: datetime) -> datetime:
        return self._shift(moment, -1)

    def _shift(self, moment: datetime, sign: int) -> datetime:
        if self.unit != "mo":
            return moment + sign * timedelta(seconds=self.amount * _SECONDS[self.unit])
        month_index = moment.month - 1 + sign * int(self.amount)
        year, month = moment.year + month_index // 12, month_index % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day)

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount.is_integer() else self.amount
        return f"{amount}{self.unit}"


def _offset(value: Any) -> Offset:
    return value if isinstance(value, Offset) else Offset.parse(value)


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class ScheduleRule(_Data):
    """`{id: checkin_1, questionnaire: checkin_mentee, at: start + 45d}`"""

    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=40)
    questionnaire: str
    anchor: Literal["start", "end"]
    offset: Offset

    @model_validator(mode="before")
    @classmethod
    def _parse_at(cls, raw: Any) -> Any:
        if not isinstance(raw, dict) or "at" not in raw:
            return raw
        raw = dict(raw)
        at = str(raw.pop("at")).strip()
        anchor, _, offset = at.partition("+")
        anchor = anchor.strip()
        if anchor not in {"start", "end"}:
            raise ValueError(f"at: '{at}' must be 'start + OFFSET' or 'end + OFFSET'")
        raw["anchor"] = anchor
        raw["offset"] = Offset.parse(offset.strip() or "0")
        return raw

    def due(self, start: datetime, end: datetime) -> datetime:
        return self.offset.after(start if self.anchor == "start" else end)

    def within(self, start: datetime, end: datetime) -> bool:
        """Whether the rule belongs to a course from `start` to `end`: nothing is sent after
        the end but what is anchored at it (the end survey, the follow-up)."""
        return self.anchor == "end" or self.due(start, end) <= end


class AnswerTrigger(_Data):
    """An extra contact when an answer says so, e.g. an extra check-in a month after a
    check-in that says the pair has not met."""

    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=40)
    role: str
    watch: str = Field(description="questionnaire whose answers are watched")
    when: dict[str, list[str]]
    send: str = Field(description="questionnaire to send")
    after: Offset
    # How often it may fire in one match: once, unless the programme asks for more (a check-in
    # it sends may say "not met" again, and must not plan yet another without end).
    repeat: int = Field(default=1, ge=1, le=MAX_REPEAT, strict=True)

    @field_validator("after", mode="before")
    @classmethod
    def _after(cls, value: Any) -> Offset:
        return _offset(value)

    @field_validator("when", mode="before")
    @classmethod
    def _when(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: [answer_id(v) for v in (vals if isinstance(vals, list) else [vals])]
                for key, vals in value.items()
            }
        return value

    def fires(self, answers: dict[str, Any]) -> bool:
        for question, values in self.when.items():
            given = answers.get(question)
            chosen = given if isinstance(given, list) else [given]
            if not any(str(choice) in values for choice in chosen if choice is not None):
                return False
        return True


class QuietHours(_Data):
    """Nothing is sent from `start` to `end` local time (the window may cross midnight)."""

    start: time
    end: time

    def contains(self, moment: datetime, zone: ZoneInfo) -> bool:
        local = moment.astimezone(zone).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_end(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """When sending may start again, for a moment inside the quiet hours."""
        local = moment.astimezone(zone)
        candidate = local.replace(
            hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0
        )
        if candidate <= local:
            candidate += timedelta(days=1)
        return candidate


def default_rules() -> dict[str, tuple[ScheduleRule, ...]]:
    """DOMAIN.md's course: first-meeting check at two weeks, check-ins at 1.5, 3 and 5 months,
    the end survey when the match ends, a follow-up six months later (mentees)."""

    def rule(rule_id: str, questionnaire: str, at: str) -> ScheduleRule:
        return ScheduleRule.model_validate(
            {"id": rule_id, "questionnaire": questionnaire, "at": at}
        )

    checkins = [
        ("checkin_1", "start + 45d"),
        ("checkin_2", "start + 3mo"),
        ("checkin_3", "start + 5mo"),
    ]
    return {
        "mentee": (
            rule("first_meeting", "first_meeting", "start + 14d"),
            *(rule(rid, "checkin_mentee", at) for rid, at in checkins),
            rule("end", "mentee_end", "end"),
            rule("follow_up", "follow_up", "end + 6mo"),
        ),
        "mentor": (
            rule("first_meeting", "first_meeting", "start + 14d"),
            *(rule(rid, "checkin_mentor", at) for rid, at in checkins),
            rule("end", "mentor_end", "end"),
        ),
    }


def default_triggers() -> tuple[AnswerTrigger, ...]:
    return (
        AnswerTrigger(
            id="no_contact",
            role="mentee",
            watch="checkin_mentee",
            when={"met": ["no"]},
            send="checkin_mentee",
            after=Offset.parse("30d"),
        ),
    )


class ProgrammeSchedule(_Data):
    rules: dict[str, tuple[ScheduleRule, ...]] = Field(default_factory=default_rules)
    triggers: tuple[AnswerTrigger, ...] = Field(default_factory=default_triggers)
    course_length: Offset = Offset.parse("6mo")
    reminders: tuple[Offset, ...] = (Offset.parse("2d"), Offset.parse("5d"))
    expire_after: Offset = Offset.parse("7d")
    # No reminder while the person is busy answering: they were active less than this ago.
    reminder_pause: Offset = Offset.parse("30min")
    quiet_hours: QuietHours | None = QuietHours(start=time(21, 0), end=time(8, 0))
    retention: Offset | None = None
    # Coordinators are told this long before a match's planned end (None: not told).
    end_notice: Offset | None = Offset.parse("7d")

    @field_validator(
        "course_length", "expire_after", "reminder_pause", "retention", "end_notice", mode="before"
    )
    @classmethod
    def _offsets(cls, value: Any) -> Offset | None:
        return None if value is None else _offset(value)

    @field_validator("reminders", mode="before")
    @classmethod
    def _reminders(cls, value: Any) -> tuple[Offset, ...]:
        return tuple(_offset(item) for item in value)

    @model_validator(mode="after")
    def _expiry_after_reminders(self) -> ProgrammeSchedule:
        probe = datetime(2000, 1, 1)
        if self.reminders and self.expire_after.after(probe) <= self.reminders[-1].after(probe):
            raise ValueError("expire_after must be later than the last reminder")
        return self
