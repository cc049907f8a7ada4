"""A ranking's reasons in words, in the active language: the criterion's label from the
programme ("Same field", translated like questions) and what the two share, answers as the
questionnaire words them, languages by their names in the reader's language, typed words as
typed."""

from __future__ import annotations

from collections.abc import Mapping

from bot.language import _, current_language, listing, question_of
from bot.matching.ranking import Reason, Shared
from bot.matching.words import language_name
from bot.programmes import Programme, Questionnaire


def reason_text(
    reason: Reason, programme: Programme, questionnaires: Mapping[str, Questionnaire]
) -> str:
    """ "Same field: Health and medicine"; a reason with nothing to list is its label alone."""
    label = _(reason.criterion.label)
    values = shared_text(reason, programme, questionnaires)
    return f"{label}: {values}" if values else label


def shared_text(
    reason: Reason, programme: Programme, questionnaires: Mapping[str, Questionnaire]
) -> str:
    if reason.shared is Shared.LANGUAGE:
        reader = current_language()
        return listing(language_name(code, reader) for code in reason.values)
    if reason.shared is Shared.OPTION:
        intake = questionnaires.get(programme.intake.get(reason.role, ""))
        question = question_of(intake, reason.criterion.question_of(reason.role))
        if question is not None:
            return listing(_(question.option_text(value)) for value in reason.values)
    return listing(reason.values)
