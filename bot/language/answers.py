"""Answers as a person reads them, in the active language: the question's text, the chosen
options' labels, typed text exactly as given, and dates in the reader's locale."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from babel.dates import format_date

from bot.language import texts
from bot.language.i18n import _, listing
from bot.language.local_time import date_locale
from bot.language.voice import voice_of
from bot.programmes import Question, Questionnaire, QuestionType
from storage.models import Answer, AnswerStatus


def local_date(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return format_date(moment.date(), format="medium", locale=date_locale())


def question_of(questionnaire: Questionnaire | None, question_id: str | None) -> Question | None:
    if questionnaire is None or question_id is None:
        return None
    return next((q for q in questionnaire.questions if q.id == question_id), None)


def question_text(questionnaire: Questionnaire | None, question_id: str) -> str:
    question = question_of(questionnaire, question_id)
    return _(question.text) if question is not None else question_id


def value_text(question: Question | None, value: object) -> str:
    """Chosen options in the reader's language, joined as that language writes a list; typed
    text exactly as given."""
    voice = voice_of(value)
    if voice is not None:
        return texts.VOICE_ANSWER.format(seconds=int(voice["duration"]))
    if question is not None and question.type in {QuestionType.SINGLE, QuestionType.MULTI}:
        chosen = value if isinstance(value, list) else [value]
        return listing(_(question.option_text(str(choice))) for choice in chosen)
    return "" if value is None else str(value)


def answer_text(questionnaire: Questionnaire | None, answer: Answer) -> str:
    if answer.status == AnswerStatus.SKIPPED:
        return str(texts.SKIPPED)
    if answer.status == AnswerStatus.DECLINED:
        return str(texts.PREFER_NOT)
    return value_text(question_of(questionnaire, answer.question_id), answer.value)


def answer_lines(questionnaire: Questionnaire | None, answers: Iterable[Answer]) -> list[str]:
    """One line per answer, in the order they were given."""
    ordered = sorted(answers, key=lambda a: a.id)
    return [
        f"- {question_text(questionnaire, a.question_id)} » {answer_text(questionnaire, a)}"
        for a in ordered
    ]
