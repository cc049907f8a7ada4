"""Anonymous answers keep their day, never their time: an exact time could be matched against
what the person does under her name and undo the pseudonym (docs/PRIVACY.md).

After an anonymous end survey with an alarming answer, every time column of the run, its
answers, the flags it raised, the notes and the audit entries about those flags holds a day
(the programme's, as midnight UTC), and the dashboard and the export show only the day."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, select

import bot.coordination.accounts as accounts
from bot.coordination import invite_coordinator, raise_flag
from bot.core import Core, build_core
from bot.course import ContactDispatcher
from bot.language import texts
from bot.messages import Action, Press, Tap
from bot.programmes import Severity
from bot.results import export
from bot.settings import Settings
from dashboard.app import create_app
from storage import repositories as repo
from storage.models import (
    Answer,
    AuditEntry,
    Flag,
    FlagMessage,
    SurveyRun,
    UTCDateTime,
)
from tests.conversation import EngineChat
from tests.course import (
    T0,
    FakeClock,
    RecordingOutbox,
    chat,
    clock_at,
    contact,
    course_at,
)
from tests.dashboard import Client, csrf_of, log_in
from tests.report_data import add_person, add_run

# 23:30 UTC on Tuesday 1 December is 00:30 on Wednesday 2 December in Copenhagen: the day an
# anonymous answer keeps is the programme's, not the UTC one.
LATE = datetime(2026, 12, 1, 23, 30, 17, tzinfo=UTC)
HER_DAY = datetime(2026, 12, 2, tzinfo=UTC)
DANGER = "My husband hits me"
HOUR = re.compile(r"\b\d{1,2}[:.]\d{2}\b")  # "11:00", "11.00": a time of day on a page


async def alarming_anonymous_end(core: Core) -> EngineChat:
    """Amina answers her anonymous end survey around 00:30 her time, a minute per answer:
    very unhappy with the match, words that suggest danger, and "contact me"."""
    await course_at(core, 9)
    clock = clock_at(core, LATE)
    amina = chat(core, "100")
    end = await contact(core, "100", "end")
    await amina.send(Tap(Press(Action.OPEN, option=end.id)))
    for _ in range(60):
        if str(texts.CONTACT_DONE) in amina.texts:
            return amina
        clock.advance(seconds=61)
        labels = [
            b.label
            for row in amina.prompt.keyboard
            for b in row
            if b.press.action not in {Action.TALK, Action.WHY}
        ]
        if "What can we do better?" in amina.question_text:
            await amina.say(DANGER)
        elif str(texts.DONE) in labels:
            await amina.tap(labels[0])
            await amina.tap(str(texts.DONE))
        elif str(texts.SKIP) in labels:
            await amina.tap(str(texts.SKIP))
        else:
            await amina.tap(labels[0])  # the first choice: "very unhappy", "yes, contact me"
    raise AssertionError("the questionnaire did not end")


async def sara_in_fast(core: Core) -> int:
    """Sara, admin of the fast course, with a web log-in and a Telegram chat (for pushes)."""
    async with core.sessions() as session:
        sara, _ = await invite_coordinator(session, "fast", "Sara", role="admin")
        sara.telegram_user_id = 81
        await accounts.set_login(session, sara, "Sara@example.org", "correct horse battery")
        await session.commit()
        return sara.id


def pusher(core: Core, outbox: RecordingOutbox) -> ContactDispatcher:
    """The dispatcher, which also pushes flags to coordinators (in Telegram)."""
    return core.contact_dispatcher({"test": outbox, "telegram": outbox})  # type: ignore[dict-item]


def kept_times(row: Any) -> dict[str, datetime]:
    """Every time a row holds, by column: found from the model, not listed by hand."""
    mapper = inspect(type(row))
    return {
        column.key: getattr(row, column.key)
        for column in mapper.columns
        if isinstance(column.type, UTCDateTime) and getattr(row, column.key) is not None
    }


async def anonymous_rows(core: Core) -> list[Any]:
    """The anonymous run, its answers, its flags (linked or not), their notes and audit."""
    async with core.sessions() as session:
        run = await session.scalar(select(SurveyRun).where(SurveyRun.participant_id.is_(None)))
        assert run is not None
        answers = list(await session.scalars(select(Answer).where(Answer.run_id == run.id)))
        flags = list(await session.scalars(select(Flag).where(Flag.anonymous.is_(True))))
        ids = [flag.id for flag in flags]
        notes = list(await session.scalars(select(FlagMessage).where(FlagMessage.flag_id.in_(ids))))
        audit = list(await session.scalars(select(AuditEntry).where(AuditEntry.flag_id.in_(ids))))
    assert answers and flags and notes and audit
    return [run, *answers, *flags, *notes, *audit]


@pytest.mark.fast_course
async def test_nothing_of_an_anonymous_survey_keeps_a_time_finer_than_the_day(
    core: Core, client: Client
) -> None:
    await sara_in_fast(core)
    await alarming_anonymous_end(core)
    async with core.sessions() as session:
        flags = {f.category: f for f in await session.scalars(select(Flag))}
    assert {"danger", "unhappy_with_match", "asks_for_coordinator"} <= set(flags)
    danger = flags["danger"]
    assert danger.anonymous and danger.participant_id is None and danger.severity == "urgent"

    outbox = RecordingOutbox()
    await pusher(core, outbox).tick()  # the urgent flag is pushed at once: safety first
    assert any(f"#{danger.id}" in message.text for message in outbox.to("81"))

    clock_at(core, datetime(2026, 12, 3, 9, 0, tzinfo=UTC))  # the next day: she is answered
    await log_in(client)
    page = await client.get(f"/flags/{danger.id}")
    form = {"csrf": csrf_of(page)}
    await client.post(f"/flags/{danger.id}/assign", data=form)
    await client.post(f"/flags/{danger.id}/note", data={**form, "note": "Called the shelter."})
    await client.post(
        f"/flags/{danger.id}/resolve", data={**form, "outcome": "Safe now.", "confirm": "1"}
    )

    rows = await anonymous_rows(core)
    for row in rows:
        for column, value in kept_times(row).items():
            assert value.astimezone(UTC).time() == time(0), (type(row).__name__, column, value)
    run, answers = rows[0], [row for row in rows if isinstance(row, Answer)]
    assert run.started_at == run.completed_at == HER_DAY  # her day in Copenhagen, not UTC's
    assert {answer.answered_at for answer in answers} == {HER_DAY}
    assert all(f.created_at == HER_DAY for f in rows if isinstance(f, Flag))

    # The dashboard shows the day, and no time of day, wherever the flag appears.
    page = (await client.get(f"/flags/{danger.id}")).text
    assert '<dt>Came in</dt><dd><time datetime="2026-12-02">2 Dec 2026</time></dd>' in page
    assert "Answer by</dt><dd>2 Dec 2026</dd>" in page  # urgent: the day it came
    history = page.split('id="history"', 1)[1]
    assert "Called the shelter." in history and "Safe now." in history
    assert HOUR.findall(history) == []
    queue = (await client.get("/flags?info=1")).text
    for flag in flags.values():
        if flag.anonymous and flag.id != danger.id:  # resolved ones leave the queue
            row = queue.split(f'href="/flags/{flag.id}"', 1)[1].split("</tr>", 1)[0]
            assert '<time datetime="2026-12-02">2 Dec 2026</time>' in row
            assert HOUR.findall(row) == []
    audit = (await client.get("/audit")).text
    about = [row for row in audit.split("<tr>") if f'href="/flags/{danger.id}"' in row]
    assert len(about) >= 3 and all(HOUR.findall(row) == [] for row in about)

    exported = (await client.get("/results/export.csv?survey=mentee_end")).text
    table = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    anonymous = [row for row in table[2:] if row[0].startswith("anon-")]
    assert [row[3:5] for row in anonymous] == [["2026-12-02", "2026-12-02"]]


@pytest.mark.fast_course
async def test_an_anonymous_soon_flag_waits_for_the_first_digest_after_its_day(
    core: Core,
) -> None:
    """Sent in that morning's digest, it would tell that the answer came before 08:00."""
    await sara_in_fast(core)
    await alarming_anonymous_end(core)  # at 00:30 on 2 December, Copenhagen
    clock = clock_at(core, datetime(2026, 12, 2, 7, 10, tzinfo=UTC))  # 08:10 that morning
    outbox = RecordingOutbox()
    await pusher(core, outbox).tick()
    async with core.sessions() as session:
        soon = list(await session.scalars(select(Flag).where(Flag.severity == "soon")))
    unhappy = next(f for f in soon if f.category == "unhappy_with_match")
    assert unhappy.anonymous and unhappy.pushed_at is None
    clock.at += timedelta(days=1)  # the next morning's digest
    await pusher(core, outbox).tick()
    async with core.sessions() as session:
        pushed = await session.get(Flag, unhappy.id)
    assert pushed is not None and pushed.pushed_at == HER_DAY  # the mark keeps the day too


@pytest.mark.fast_course
async def test_the_day_to_answer_an_anonymous_flag_is_counted_from_its_own_day(
    settings: Settings,
) -> None:
    """West of UTC too: 23:30 on Monday in Toronto is Tuesday in UTC, but the flag's day,
    and so an urgent flag's day to answer, is Monday. (The fast course names no zone of its
    own: TIMEZONE applies.)"""
    toronto = settings.model_copy(update={"timezone": "America/Toronto"})
    core = await build_core(toronto, FakeClock(datetime(2026, 12, 1, 4, 30, tzinfo=UTC)))
    try:
        await sara_in_fast(core)
        async with core.sessions() as session:
            fast = await repo.programme_by_code(session, "fast")
            assert fast is not None
            run = SurveyRun(
                respondent_key="k", programme_id=fast.id, questionnaire_id="mentee_end",
                questionnaire_version=1, occasion="a:1", draft=[],
            )  # fmt: skip
            session.add(run)
            await session.flush()
            flag = await raise_flag(
                session, programme_id=run.programme_id, participant_id=None,
                category="danger", severity=Severity.URGENT, run_id=run.id,
                questionnaire_id="mentee_end", question_id="better", answer=DANGER,
            )  # fmt: skip
            await session.commit()
        assert flag.created_at == datetime(2026, 11, 30, tzinfo=UTC)  # Monday in Toronto
        transport = httpx.ASGITransport(app=create_app(core))
        async with httpx.AsyncClient(transport=transport, base_url="http://dashboard") as web:
            await log_in(web)
            page = (await web.get(f"/flags/{flag.id}")).text
        assert 'Came in</dt><dd><time datetime="2026-11-30">30 Nov 2026</time>' in page
        assert "Answer by</dt><dd>30 Nov 2026</dd>" in page
    finally:
        await core.close()


async def test_the_export_lists_anonymous_answers_by_day_and_pseudonym_not_as_they_came(
    core: Core,
) -> None:
    """By the order in which they began, anonymous rows placed among named ones (or after
    each other) would tell when they came."""
    day = datetime(2026, 12, 1, tzinfo=UTC)
    async with core.sessions() as session:
        lars = await add_person(session, "Lars")
        await add_run(session, "mentee_end", {}, key="zz-first", started_at=day)
        await add_run(session, "mentee_end", {}, participant=lars.id, started_at=T0)
        await add_run(session, "mentee_end", {}, key="aa-last", started_at=day)
        await session.commit()
        table = await export.answer_table(session, core.questionnaires["mentee_end"])
    assert [row[0] for row in table.rows] == ["anon-aa-last", "anon-zz-first", str(lars.id)]
    assert [row[3:5] for row in table.rows] == [
        ["2026-12-01", "2026-12-01"], ["2026-12-01", "2026-12-01"],
        ["2026-12-01T10:00:00+00:00", "2026-12-01T10:00:00+00:00"],
    ]  # fmt: skip
    assert table.texts[3] == "Started (UTC; for anonymous answers the day only)"
