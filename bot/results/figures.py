"""The figures of a report: per end-survey question, how many chose each answer, and per
questionnaire, how the contacts that asked for it ended.

Only aggregates leave this module: counts, percentages, means. No respondent, participant id
or time of a single answer is returned, so anonymous questionnaires stay anonymous.

Decisions:
- A questionnaire's responses are its completed and partial runs (a partial run stopped when
  its contact expired; what was answered counts). Runs still in progress are left out.
- Percentages are of the people who chose an answer to that question (n). "Prefer not to say"
  and skipped answers are counted on lines of their own and are not part of n. A question a
  person never saw (skip logic) counts nowhere.
- For a multi-choice question, each option's percentage is of the respondents to that question,
  so the percentages can add up to more than 100 %.
- Percentages are whole numbers, rounded half up (12.5 -> 13).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.people import anonymous_occasion, respondent_key
from bot.programmes import Anonymity, Question, Questionnaire, QuestionType
from bot.results.period import ALL_DATES, Period, in_period
from storage import repositories as repo
from storage.models import (
    AnswerStatus,
    Contact,
    ContactState,
    Participant,
    RunStatus,
    SurveyRun,
)

CLOSED_TYPES = (QuestionType.SINGLE, QuestionType.MULTI, QuestionType.SCALE)
DECLINED_TEXT = "Prefer not to say"
SKIPPED_TEXT = "Skipped"


def percent(count: int, total: int) -> int | None:
    """`count` of `total` as a whole percentage, rounded half up; None when total is 0."""
    if total <= 0:
        return None
    return (200 * count + total) // (2 * total)


@dataclass(frozen=True)
class OptionCount:
    option_id: str
    text: str  # English, e.g. "1 (Not happy)" for a scale's end
    count: int
    percent: int | None  # of the question's respondents; None when nobody answered
    end_label: str = ""  # a scale end's own label ("Not happy"), to translate apart


@dataclass(frozen=True)
class QuestionResult:
    question_id: str
    text: str
    type: QuestionType
    respondents: int  # n: chose an answer (not "Prefer not to say", not skipped)
    options: tuple[OptionCount, ...]
    declined: int = 0
    skipped: int = 0
    mean: float | None = None  # scale questions only

    @property
    def several_allowed(self) -> bool:
        return self.type is QuestionType.MULTI


@dataclass(frozen=True)
class QuestionnaireResult:
    questionnaire_id: str
    title: str
    anonymity: Anonymity
    completed: int
    partial: int
    questions: tuple[QuestionResult, ...]

    @property
    def responses(self) -> int:
        return self.completed + self.partial


@dataclass(frozen=True)
class ResponseRate:
    """Contacts of one questionnaire that were sent, by how they ended."""

    questionnaire_id: str
    title: str
    sent: int
    answered: int
    partial: int  # expired, but the run has answers (or is marked partial)
    expired: int  # expired without any answer
    open: int  # sent, still waiting for an answer
    cancelled: int  # sent, then cancelled (the person withdrew)

    @property
    def answered_percent(self) -> int | None:
        return percent(self.answered, self.sent)


def question_result(question: Question, tallies: Iterable[repo.AnswerTally]) -> QuestionResult:
    """The figures of one question from its answers, each distinct status and value once with
    the number of answers that have it."""
    counts: Counter[str] = Counter()
    respondents = declined = skipped = 0
    steps = step_total = 0  # the numbers chosen on a scale: how many, and their sum
    for tally in tallies:
        if tally.status == AnswerStatus.DECLINED:
            declined += tally.answers
            continue
        if tally.status == AnswerStatus.SKIPPED:
            skipped += tally.answers
            continue
        value = tally.value
        chosen = value if isinstance(value, list) else [] if value is None else [value]
        if not chosen:
            continue
        respondents += tally.answers
        for choice in dict.fromkeys(str(item) for item in chosen):
            counts[choice] += tally.answers
        if isinstance(value, int):
            steps += tally.answers
            step_total += value * tally.answers
    known = question.choice_ids
    ids = known + sorted(set(counts) - set(known))  # answers to options removed since
    scale = question.type is QuestionType.SCALE
    return QuestionResult(
        question_id=question.id,
        text=question.text,
        type=question.type,
        respondents=respondents,
        options=tuple(
            OptionCount(
                choice,
                choice_text(question, choice),
                counts[choice],
                percent(counts[choice], respondents),
                end_label(question, choice),
            )
            for choice in ids
        ),
        declined=declined,
        skipped=skipped,
        mean=step_total / steps if scale and steps else None,
    )


def choice_text(question: Question, choice: str) -> str:
    if question.type is not QuestionType.SCALE:
        return question.option_text(choice)
    extra = end_label(question, choice)
    return f"{choice} ({extra})" if extra else choice


def end_label(question: Question, choice: str) -> str:
    """The label of a scale's first or last step; "" for any other answer."""
    if question.type is not QuestionType.SCALE:
        return ""
    labels = {str(question.min): question.min_label, str(question.max): question.max_label}
    return labels.get(choice) or ""


async def questionnaire_results(
    session: AsyncSession,
    programme_id: int,
    questionnaire: Questionnaire,
    period: Period = ALL_DATES,
    anonymity: Anonymity = Anonymity.NAMED,
) -> QuestionnaireResult:
    """Counts per option of every closed question, over completed and partial runs that
    started in the period. The database counts; only a row per distinct answer comes back."""
    counted = [
        SurveyRun.programme_id == programme_id,
        SurveyRun.questionnaire_id == questionnaire.id,
        SurveyRun.status.in_([RunStatus.COMPLETED, RunStatus.PARTIAL]),
        *in_period(SurveyRun.started_at, period),
    ]
    statuses = await session.execute(
        select(SurveyRun.status, func.count()).where(*counted).group_by(SurveyRun.status)
    )
    runs = dict(statuses.all())
    closed = [question for question in questionnaire.questions if question.type in CLOSED_TYPES]
    by_question: dict[str, list[repo.AnswerTally]] = {}
    for tally in await repo.answer_tallies(session, counted, {q.id for q in closed}):
        by_question.setdefault(tally.question_id, []).append(tally)
    return QuestionnaireResult(
        questionnaire_id=questionnaire.id,
        title=questionnaire.title,
        anonymity=anonymity,
        completed=runs.get(RunStatus.COMPLETED, 0),
        partial=runs.get(RunStatus.PARTIAL, 0),
        questions=tuple(
            question_result(question, by_question.get(question.id, [])) for question in closed
        ),
    )


async def response_rates(
    session: AsyncSession,
    secret: bytes,
    programme_id: int,
    questionnaires: Mapping[str, Questionnaire],
    questionnaire_ids: Sequence[str],
    period: Period = ALL_DATES,
) -> list[ResponseRate]:
    """Per questionnaire: contacts sent (due in the period) and how each ended. Contacts never
    sent (still planned, or missed while the bot was down) are not counted."""
    sent = (
        select()
        .select_from(Contact)
        .join(Participant, Contact.participant_id == Participant.id)
        .where(
            Participant.programme_id == programme_id,
            Contact.questionnaire_id.in_(list(questionnaire_ids)),
            Contact.sent_at.is_not(None),
            *in_period(Contact.due_at, period),
        )
    )
    tally: dict[str, Counter[str]] = {qid: Counter() for qid in questionnaire_ids}
    states = await session.execute(
        sent.add_columns(Contact.questionnaire_id, Contact.state, func.count()).group_by(
            Contact.questionnaire_id, Contact.state
        )
    )
    for qid, state, count in states:
        counter = tally[qid]
        counter["sent"] += count
        if state == ContactState.ANSWERED:
            counter["answered"] += count
        elif state == ContactState.CANCELLED:
            counter["cancelled"] += count
        elif state != ContactState.EXPIRED:  # expired ones are told apart below
            counter["open"] += count
    expired = (
        await session.execute(
            sent.add_columns(
                Contact.id, Contact.participant_id, Contact.questionnaire_id, Contact.run_id
            ).where(Contact.state == ContactState.EXPIRED)
        )
    ).all()
    # Whether the person started: the run a named contact links to, or the anonymous run that
    # only the keys find (as bot.anonymity.run_of_contact does), for all of them at once.
    linked = await repo.run_progress(session, [c.run_id for c in expired if c.run_id is not None])
    names = {
        c.id: (
            respondent_key(secret, c.participant_id),
            c.questionnaire_id,
            anonymous_occasion(secret, c.id),
        )
        for c in expired
        if c.run_id is None
    }
    anonymous = await repo.anonymous_run_progress(session, names.values())
    for contact in expired:
        if contact.run_id is not None:
            run = linked.get(contact.run_id)
        else:
            run = anonymous.get(names[contact.id])
        started = run is not None and (run.status == RunStatus.PARTIAL or run.has_answers)
        tally[contact.questionnaire_id]["partial" if started else "expired"] += 1
    return [
        ResponseRate(
            questionnaire_id=qid,
            title=questionnaires[qid].title if qid in questionnaires else qid,
            sent=counter["sent"],
            answered=counter["answered"],
            partial=counter["partial"],
            expired=counter["expired"],
            open=counter["open"],
            cancelled=counter["cancelled"],
        )
        for qid, counter in tally.items()
    ]
