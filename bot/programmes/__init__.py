"""Programme and questionnaire definitions (YAML) with their validation and schedules, and the
stored copies that admins edit in the dashboard."""

from __future__ import annotations

from bot.programmes.matching import Criterion, CriterionKind, MatchingRules
from bot.programmes.programme import (
    DEFAULT_COUNTRY,
    Anonymity,
    Programme,
    ProgrammeError,
    load_programmes,
    read_programme_files,
)
from bot.programmes.questionnaire import (
    INTAKE,
    AnswerValue,
    Question,
    Questionnaire,
    QuestionnaireError,
    QuestionType,
    Severity,
    load_questionnaire,
    load_questionnaires,
)
from bot.programmes.schedule import Offset, QuietHours, ScheduleRule
from bot.programmes.store import (
    MAX_HELP_LINES,
    Problem,
    ProgrammeSettings,
    ProgrammeSources,
    programme_definition,
    programme_edits,
    programme_versions,
    seed_from_files,
    stored_programmes,
)

__all__ = [
    "DEFAULT_COUNTRY",
    "INTAKE",
    "MAX_HELP_LINES",
    "Anonymity",
    "AnswerValue",
    "Criterion",
    "CriterionKind",
    "MatchingRules",
    "Offset",
    "Problem",
    "Programme",
    "ProgrammeError",
    "ProgrammeSettings",
    "ProgrammeSources",
    "Question",
    "QuestionType",
    "Questionnaire",
    "QuestionnaireError",
    "QuietHours",
    "ScheduleRule",
    "Severity",
    "load_programmes",
    "load_questionnaire",
    "load_questionnaires",
    "programme_definition",
    "programme_edits",
    "programme_versions",
    "read_programme_files",
    "seed_from_files",
    "stored_programmes",
]
