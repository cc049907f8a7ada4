"""End-survey results of one programme, as the numbers coordinators report to funders.

Channel-neutral: pure functions over the database, returning dataclasses. The command line
prints them (`bot.report_text`) or writes a workbook (`bot.report_xlsx`); the dashboard can show
the same figures.

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
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement

from bot.people import anonymous_occasion, respondent_key
from bot.programmes import Anonymity, Programme, Question, Questionnaire, QuestionType
from bot.results.before_after import before_after
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
MOTIVATION = "motivation"
HIGH_MOTIVATION = ("very_high", "high")
DECLINED_TEXT = "Prefer not to say"
SKIPPED_TEXT = "Skipped"


def percent(count: int, total: int) -> int | None:
    """`count` of `total` as a whole percentage, rounded half up; None when total is 0."""
    if total <= 0:
        return None
    return (200 * count + total) // (2 * total)


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


@dataclass(frozen=True)
class BeforeAfterRow:
    option_id: str
    text: str
    before: int
    after: int
    end_label: str = ""


@dataclass(frozen=True)
class BeforeAfter:
    """One question asked at the start and again later, for the people who answered both."""

    question_id: str
    text: str
    before_questionnaire: str
    after_questionnaire: str
    pairs: int
    rows: tuple[BeforeAfterRow, ...]
    high: tuple[str, ...]  # the option ids counted together ("high or very high"), in that order
    high_before: int
    high_after: int

    def share(self, count: int) -> int | None:
        return percent(count, self.pairs)

    @property
    def high_texts(self) -> tuple[str, ...]:
        """The "high" options' texts in the source language; whoever shows them translates."""
        texts = {row.option_id: row.text for row in self.rows}
        return tuple(texts.get(choice, choice) for choice in self.high)


@dataclass(frozen=True)
class Report:
    programme_code: str
    programme_name: str
    period: Period
    timezone: ZoneInfo
    questionnaires: tuple[QuestionnaireResult, ...]
    response_rates: tuple[ResponseRate, ...]
    before_after: BeforeAfter | None
    # Before/after pairs a person's intake with their end survey whenever each was answered,
    # so a period asked for does not narrow it; the reader's side says so.
    before_after_ignores_period: bool = False


def end_survey_ids(programme: Programme) -> list[str]:
    """The questionnaires the programme's schedule sends at or after a course's end, earliest
    first (for the example programme: mentee_end, mentor_end, follow_up)."""
    probe = datetime(2000, 1, 1)
    rules = [
        rule
        for role_rules in programme.schedule.rules.values()
        for rule in role_rules
        if rule.anchor == "end"
    ]
    rules.sort(key=lambda rule: rule.offset.after(probe))
    return list(dict.fromkeys(rule.questionnaire for rule in rules))


def scheduled_ids(programme: Programme) -> list[str]:
    """Every questionnaire the programme sends as a contact, in schedule order."""
    ids = [rule.questionnaire for rules in programme.schedule.rules.values() for rule in rules]
    ids += [trigger.send for trigger in programme.schedule.triggers]
    return list(dict.fromkeys(ids))


def _in_period(
    column: InstrumentedAttribute[datetime], period: Period
) -> list[ColumnElement[bool]]:
    conditions = []
    if period.start is not None:
        conditions.append(column >= period.start)
    if period.end is not None:
        conditions.append(column < period.end)
    return conditions


def _question_result(question: Question, tallies: Iterable[repo.AnswerTally]) -> QuestionResult:
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
                _choice_text(question, choice),
                counts[choice],
                percent(counts[choice], respondents),
                _end_label(question, choice),
            )
            for choice in ids
        ),
        declined=declined,
        skipped=skipped,
        mean=step_total / steps if scale and steps else None,
    )


def _choice_text(question: Question, choice: str) -> str:
    if question.type is not QuestionType.SCALE:
        return question.option_text(choice)
    extra = _end_label(question, choice)
    return f"{choice} ({extra})" if extra else choice


def _end_label(question: Question, choice: str) -> str:
    """The label of a scale's first or last step; "" for any other answer."""
    if question.type is not QuestionType.SCALE:
        return ""
    labels = {str(question.min): question.min_label, str(question.max): question.max_label}
    return labels.get(choice) or ""


async def questionnaire_results(
    session: AsyncSession,
    programme_id: int,
    questionnaire: Questionnaire,
    period: Period = Period(),
    anonymity: Anonymity = Anonymity.NAMED,
) -> QuestionnaireResult:
    """Counts per option of every closed question, over completed and partial runs that
    started in the period. The database counts; only a row per distinct answer comes back."""
    counted = [
        SurveyRun.programme_id == programme_id,
        SurveyRun.questionnaire_id == questionnaire.id,
        SurveyRun.status.in_([RunStatus.COMPLETED, RunStatus.PARTIAL]),
        *_in_period(SurveyRun.started_at, period),
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
            _question_result(question, by_question.get(question.id, [])) for question in closed
        ),
    )


async def response_rates(
    session: AsyncSession,
    secret: bytes,
    programme_id: int,
    questionnaires: Mapping[str, Questionnaire],
    questionnaire_ids: Sequence[str],
    period: Period = Period(),
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
            *_in_period(Contact.due_at, period),
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


async def motivation_change(
    session: AsyncSession,
    secret: bytes,
    programme_id: int,
    before: Questionnaire,
    after: Questionnaire,
    question_id: str = MOTIVATION,
    high: Sequence[str] = HIGH_MOTIVATION,
) -> BeforeAfter | None:
    """The answers at the start and at the end of the people who answered both (named or
    anonymous at the end); None when either questionnaire lacks the question."""
    try:
        question = after.question(question_id)
        before.question(question_id)
    except KeyError:
        return None
    pairs = await before_after(session, secret, programme_id, question_id, before.id, after.id)
    first = Counter(str(start) for start, _ in pairs)
    last = Counter(str(end) for _, end in pairs)
    ids = question.choice_ids + sorted((set(first) | set(last)) - set(question.choice_ids))
    return BeforeAfter(
        question_id=question.id,
        text=question.text,
        before_questionnaire=before.id,
        after_questionnaire=after.id,
        pairs=len(pairs),
        rows=tuple(
            BeforeAfterRow(
                choice,
                _choice_text(question, choice),
                first[choice],
                last[choice],
                _end_label(question, choice),
            )
            for choice in ids
        ),
        high=tuple(reversed(high)),
        high_before=sum(first[choice] for choice in high),
        high_after=sum(last[choice] for choice in high),
    )


def _first_end_survey(
    programme: Programme, role: str, questionnaires: Mapping[str, Questionnaire]
) -> Questionnaire | None:
    """The first questionnaire a role gets at the course's end (the mentee's: mentee_end)."""
    probe = datetime(2000, 1, 1)
    rules = sorted(
        (rule for rule in programme.schedule.rules.get(role, ()) if rule.anchor == "end"),
        key=lambda rule: rule.offset.after(probe),
    )
    for rule in rules:
        if rule.questionnaire in questionnaires:
            return questionnaires[rule.questionnaire]
    return None


async def build_report(
    session: AsyncSession,
    programme: Programme,
    questionnaires: Mapping[str, Questionnaire],
    secret: bytes,
    period: Period = Period(),
    timezone: ZoneInfo | None = None,
) -> Report:
    """The whole report: end-survey results, response rates and the before/after change of
    motivation (mentee intake vs the mentee's first end survey)."""
    row = await repo.programme_by_code(session, programme.code)
    if row is None:
        raise LookupError(f"programme '{programme.code}' is not in the database yet")
    zone = timezone or ZoneInfo(programme.timezone or "UTC")
    results = [
        await questionnaire_results(
            session, row.id, questionnaires[qid], period, programme.anonymity_of(qid)
        )
        for qid in end_survey_ids(programme)
        if qid in questionnaires
    ]
    rates = await response_rates(
        session, secret, row.id, questionnaires, scheduled_ids(programme), period
    )
    change = None
    before = questionnaires.get(programme.intake["mentee"])
    after = _first_end_survey(programme, "mentee", questionnaires)
    if before is not None and after is not None:
        change = await motivation_change(session, secret, row.id, before, after)
    return Report(
        programme_code=programme.code,
        programme_name=programme.name,
        period=period,
        timezone=zone,
        questionnaires=tuple(results),
        response_rates=tuple(rates),
        before_after=change,
        before_after_ignores_period=change is not None and bool(period.start or period.end),
    )
