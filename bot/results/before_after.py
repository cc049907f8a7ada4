"""Before and after: one question asked at the start of a course and again at its end, linked
per person (named or anonymous at the end) without showing who answered."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.people import respondent_key
from bot.programmes import AnswerValue, Questionnaire
from bot.results.figures import choice_text, end_label, percent
from storage.models import Answer, AnswerStatus, RunStatus, SurveyRun

MOTIVATION = "motivation"
HIGH_MOTIVATION = ("very_high", "high")


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


async def before_after(
    session: AsyncSession,
    secret: bytes,
    programme_id: int,
    question_id: str,
    before: str,
    after: str,
) -> list[tuple[AnswerValue, AnswerValue]]:
    """(before, after) answer pairs of one question, one pair per person who answered both.

    The `after` questionnaire may be anonymous: its runs are found through the respondent key,
    which only the holder of the secret can compute, and the pairs carry no identity.
    """
    start_runs = select(SurveyRun.id, SurveyRun.participant_id).where(
        SurveyRun.programme_id == programme_id,
        SurveyRun.questionnaire_id == before,
        SurveyRun.participant_id.is_not(None),
    )
    end_runs = select(SurveyRun.id, SurveyRun.participant_id, SurveyRun.respondent_key).where(
        SurveyRun.programme_id == programme_id,
        SurveyRun.questionnaire_id == after,
        SurveyRun.status.in_([RunStatus.COMPLETED, RunStatus.PARTIAL]),
    )
    starts = (await session.execute(start_runs)).all()
    ends = (await session.execute(end_runs)).all()
    by_person = {run.participant_id: run.id for run in ends if run.participant_id is not None}
    by_key = {run.respondent_key: run.id for run in ends if run.respondent_key is not None}
    # The question's answers in all those runs at once, rather than two queries per person.
    answered = {
        run_id: value
        for run_id, value in await session.execute(
            select(Answer.run_id, Answer.value).where(
                Answer.question_id == question_id,
                Answer.status == AnswerStatus.ANSWERED,
                Answer.run_id.in_(
                    select(start_runs.subquery().c.id).union(select(end_runs.subquery().c.id))
                ),
            )
        )
    }
    pairs = []
    for start_id, participant_id in starts:
        assert participant_id is not None
        end_id = by_person.get(participant_id) or by_key.get(respondent_key(secret, participant_id))
        if end_id is not None and start_id in answered and end_id in answered:
            pairs.append((answered[start_id], answered[end_id]))
    return pairs


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
                choice_text(question, choice),
                first[choice],
                last[choice],
                end_label(question, choice),
            )
            for choice in ids
        ),
        high=tuple(reversed(high)),
        high_before=sum(first[choice] for choice in high),
        high_after=sum(last[choice] for choice in high),
    )
