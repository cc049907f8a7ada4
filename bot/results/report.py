"""End-survey results of one programme, as the numbers coordinators report to funders.

Channel-neutral: pure functions over the database, returning dataclasses. The command line
prints them (`bot.results.report_text`) or writes a workbook (`bot.results.report_xlsx`); the
dashboard can show the same figures. The figures and what counts in them: `figures.py`; the
before/after change: `before_after.py`; the period: `period.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.programmes import Programme, Questionnaire
from bot.results.before_after import BeforeAfter, motivation_change
from bot.results.figures import (
    QuestionnaireResult,
    ResponseRate,
    questionnaire_results,
    response_rates,
)
from bot.results.period import ALL_DATES, Period
from storage import repositories as repo


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


def end_survey_ids(programme: Programme, role: str | None = None) -> list[str]:
    """The questionnaires the programme's schedule sends at or after a course's end (to one
    role, or to all), earliest first (for the example programme: mentee_end, mentor_end,
    follow_up)."""
    probe = datetime(2000, 1, 1)
    rules = [
        rule
        for who, role_rules in programme.schedule.rules.items()
        if role in (None, who)
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


async def build_report(
    session: AsyncSession,
    programme: Programme,
    questionnaires: Mapping[str, Questionnaire],
    secret: bytes,
    period: Period = ALL_DATES,
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
    ends = [
        questionnaires[qid] for qid in end_survey_ids(programme, "mentee") if qid in questionnaires
    ]
    if before is not None and ends:
        change = await motivation_change(session, secret, row.id, before, ends[0])
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
