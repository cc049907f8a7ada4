"""Matching: mentors ranked for a waiting mentee by the programme's `matching:` rules, with
the reasons in words. The ranking is pure (`ranking.py`, `words.py`); `suggestions.py` reads
the people from the database; the command line and the dashboard only show it."""

from __future__ import annotations

from bot.matching.ranking import AVAILABLE, Assessment, Left, Person, Ranking, Reason, Shared, rank
from bot.matching.suggestions import mentor_ranking, suggestions_for
from bot.matching.wording import reason_text

__all__ = [
    "AVAILABLE",
    "Assessment",
    "Left",
    "Person",
    "Ranking",
    "Reason",
    "Shared",
    "mentor_ranking",
    "rank",
    "reason_text",
    "suggestions_for",
]
