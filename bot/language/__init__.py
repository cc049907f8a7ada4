"""Translation (gettext and Babel), right-to-left isolation, plain-language checks, audio and
voice answers, and the wording the whole bot shares (`texts`)."""

from __future__ import annotations

from bot.language import texts
from bot.language.answers import (
    answer_lines,
    answer_text,
    local_date,
    question_of,
    question_text,
    value_text,
)
from bot.language.catalog_prune import prune
from bot.language.i18n import (
    DASHBOARD_DOMAIN,
    DASHBOARD_LANGUAGES,
    LRI,
    PDI,
    SOURCE_LANGUAGE,
    Catalogs,
    LazyText,
    _,
    __,
    current_language,
    fill,
    is_rtl,
    isolate,
    language_for_reader,
    language_name,
    listing,
    ngettext,
    number,
    progress,
)
from bot.language.local_time import (
    kept_day,
    local_day,
    local_moment,
    moment_of_day,
    wait_in_minutes,
    week_moment,
    zone_of,
)
from bot.language.readability import SourceText, counts, distribution, participant_texts, total
from bot.language.texts import COMMANDS
from bot.language.voice import (
    QuestionAudio,
    accepts_voice,
    delete_voice_files,
    voice_answer,
    voice_of,
)

__all__ = [
    "COMMANDS",
    "DASHBOARD_DOMAIN",
    "DASHBOARD_LANGUAGES",
    "LRI",
    "PDI",
    "SOURCE_LANGUAGE",
    "Catalogs",
    "LazyText",
    "QuestionAudio",
    "SourceText",
    "_",
    "__",
    "accepts_voice",
    "answer_lines",
    "answer_text",
    "counts",
    "current_language",
    "delete_voice_files",
    "distribution",
    "fill",
    "is_rtl",
    "isolate",
    "kept_day",
    "language_for_reader",
    "language_name",
    "listing",
    "local_date",
    "local_day",
    "local_moment",
    "moment_of_day",
    "ngettext",
    "number",
    "participant_texts",
    "progress",
    "prune",
    "question_of",
    "question_text",
    "texts",
    "total",
    "value_text",
    "voice_answer",
    "voice_of",
    "wait_in_minutes",
    "week_moment",
    "zone_of",
]
