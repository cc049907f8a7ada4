"""The course of a match: matches and their triggers, the dispatcher that sends scheduled
check-ins and reminders, and the views of schedules and pairs."""

from __future__ import annotations

from bot.course.dispatch import ContactDispatcher
from bot.course.lag import dispatcher_lag
from bot.course.match_overview import (
    NO_PROGRAMME_FILE,
    finish_match,
    make_match,
    own_match,
    pairs,
)
from bot.course.matches import (
    MATCH_ENDING,
    MatchError,
    apply_triggers,
    create_match,
    end_match,
    extend_match,
    matchable_participant,
)
from bot.course.schedule_view import schedule
from bot.messages import Outbox, Undeliverable  # where channels have long found them

__all__ = [
    "MATCH_ENDING",
    "NO_PROGRAMME_FILE",
    "ContactDispatcher",
    "MatchError",
    "Outbox",
    "Undeliverable",
    "apply_triggers",
    "create_match",
    "dispatcher_lag",
    "end_match",
    "extend_match",
    "finish_match",
    "make_match",
    "matchable_participant",
    "own_match",
    "pairs",
    "schedule",
]
