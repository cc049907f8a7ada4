"""The matches and schedule pages: the pairs with their check-ins and markers, making and
ending a match through the forms (never another programme's), and the week's contacts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.core import Core
from bot.course import create_match
from storage import repositories as repo
from storage.models import Contact, ContactState, Match, Participant, RunStatus, SurveyRun
from tests.course import enrolled
from tests.dashboard import Client, audit_entries, csrf_of, log_in, world


def row_of_match(page: str, match_id: int) -> str:
    start = page.index(f'id="match-{match_id}"')
    return page[start : page.index("</tr>", start)]


# --- permissions -------------------------------------------------------------------------------


async def test_ending_another_programmes_match_is_refused(core: Core, client: Client) -> None:
    found = await world(core)
    await log_in(client)
    csrf = csrf_of(await client.get("/matches"))
    refused = await client.post(
        f"/matches/{found.their_match}/end", data={"csrf": csrf, "reason": "other"}
    )
    assert refused.status_code == 404
    made = await client.post(
        "/matches", data={"csrf": csrf, "mentee": str(found.olga), "mentor": str(found.lars)}
    )
    assert made.status_code == 400
    assert f"There is no participant {found.olga} in your programmes." in made.text
    async with core.sessions() as session:
        theirs = await session.get(Match, found.their_match)
        count = len(list(await session.scalars(select(Match))))
    assert theirs.ended_at is None and count == 1
    assert await audit_entries(core, "end_match") == []


async def test_the_match_forms_need_the_csrf_token(core: Core, client: Client) -> None:
    found = await world(core)
    await log_in(client)
    forged = await client.post(
        "/matches",
        data={"csrf": "forged", "mentee": str(found.fatima), "mentor": str(found.lars)},
    )
    assert forged.status_code == 403
    csrf = csrf_of(await client.get("/matches"))
    await client.post(
        "/matches", data={"csrf": csrf, "mentee": str(found.fatima), "mentor": str(found.lars)}
    )
    async with core.sessions() as session:
        (match,) = await session.scalars(select(Match).where(Match.mentee_id == found.fatima))
    forged_end = await client.post(
        f"/matches/{match.id}/end", data={"csrf": "forged", "reason": "other"}
    )
    assert forged_end.status_code == 403
    missing = await client.post(f"/matches/{match.id}/end", data={"reason": "other"})
    assert missing.status_code == 403
    async with core.sessions() as session:
        assert (await session.get(Match, match.id)).ended_at is None


# --- matches -----------------------------------------------------------------------------------


async def _checkin(
    core: Core, match_id: int, participant_id: int, when: datetime, **answers: str
) -> None:
    """A named check-in answered (or, without answers, expired) at `when`."""
    async with core.sessions() as session:
        person = await session.get(Participant, participant_id)
        questionnaire = f"checkin_{person.role}"
        contact = Contact(
            participant_id=participant_id, match_id=match_id, rule="checkin_1",
            questionnaire_id=questionnaire, due_at=when, sent_at=when,
            state=ContactState.ANSWERED if answers else ContactState.EXPIRED,
        )  # fmt: skip
        session.add(contact)
        await session.flush()
        if answers:
            run = SurveyRun(
                participant_id=participant_id, programme_id=person.programme_id,
                questionnaire_id=questionnaire, questionnaire_version=1,
                occasion=f"contact:{contact.id}", status=RunStatus.COMPLETED, draft=[],
                started_at=when, completed_at=when,
            )  # fmt: skip
            session.add(run)
            await session.flush()
            contact.run_id = run.id
            for question, value in answers.items():
                await repo.record_answer(session, run.id, question, value, at=when)
        await session.commit()


async def test_a_troubled_pair_is_marked_in_words(core: Core, client: Client) -> None:
    found = await world(core)
    async with core.sessions() as session:
        mentor_2 = (await enrolled(core, "l2", "mentor", code="bridge")).id
        start = core.clock.now() - timedelta(days=90)
        troubled = await create_match(session, core.programmes, found.fatima, found.lars, start)
        fine = await create_match(session, core.programmes, found.nour, mentor_2, start)
        await session.commit()
    earlier, later = core.clock.now() - timedelta(days=40), core.clock.now() - timedelta(days=5)
    # Fatima's pair went well, then her mentor says it is not going well.
    await _checkin(core, troubled.id, found.fatima, earlier, met="several", going="good")
    await _checkin(core, troubled.id, found.lars, later, met="once", going="not_good")
    # Nour's pair was in trouble once, but the latest check-ins are good.
    await _checkin(core, fine.id, found.nour, earlier, met="no", going="okay")
    await _checkin(core, fine.id, found.nour, later, met="several", going="good")
    await _checkin(core, fine.id, mentor_2, later, met="several", going="good")
    await log_in(client)
    page = (await client.get("/matches")).text
    bad, good = row_of_match(page, troubled.id), row_of_match(page, fine.id)
    assert "Needs attention" in bad and "The mentor says it is not going well." in bad
    assert "Met: Yes, several times" in bad and "Going: Not good" in bad
    assert "Needs attention" not in good and "Nothing to report" in good
    assert "Met: No" in good  # the history is still there
    assert page.index(f'id="match-{troubled.id}"') < page.index(f'id="match-{fine.id}"')


async def test_an_unanswered_last_check_in_needs_attention(core: Core, client: Client) -> None:
    found = await world(core)
    async with core.sessions() as session:
        match = await create_match(
            session, core.programmes, found.fatima, found.lars, core.clock.now()
        )
        await session.commit()
    await _checkin(core, match.id, found.fatima, core.clock.now() - timedelta(days=1))
    await log_in(client)
    row = row_of_match((await client.get("/matches")).text, match.id)
    assert "no answer" in row and "The mentee did not answer the last check-in." in row


async def test_make_and_end_a_match_through_the_forms(core: Core, client: Client) -> None:
    found = await world(core)
    await log_in(client)
    csrf = csrf_of(await client.get("/matches"))
    made = await client.post(
        "/matches",
        data={"csrf": csrf, "mentee": str(found.fatima), "mentor": str(found.lars), "start": ""},
    )
    assert made.status_code == 303
    async with core.sessions() as session:
        (match,) = await session.scalars(select(Match).where(Match.mentee_id == found.fatima))
        planned = await repo.contacts_of_match(session, match.id)
        fatima = await session.get(Participant, found.fatima)
    assert match.mentor_id == found.lars and fatima.status == "matched" and planned
    page = await client.get(made.headers["location"])
    assert "The match was made." in page.text
    assert f'id="match-{match.id}"' in page.text

    ended = await client.post(
        f"/matches/{match.id}/end", data={"csrf": csrf, "reason": "ended_by_mentor", "date": ""}
    )
    assert ended.status_code == 303
    async with core.sessions() as session:
        match = await session.get(Match, match.id)
        fatima = await session.get(Participant, found.fatima)
    assert match.end_reason == "ended_by_mentor" and match.ended_at is not None
    assert fatima.status == "waiting"  # the mentee did nothing wrong: she waits again
    row = row_of_match((await client.get("/matches")).text, match.id)
    assert "Ended by the mentor" in row and "End this match" not in row

    (made_entry,) = await audit_entries(core, "match")
    (ended_entry,) = await audit_entries(core, "end_match")
    for entry in (made_entry, ended_entry):
        assert entry.coordinator_id == found.ids["Sara"] and entry.participant_id == found.fatima
        assert f"match {match.id}" in (entry.detail or "")
    assert "ended_by_mentor" in (ended_entry.detail or "")


async def test_a_match_that_cannot_be_made_is_explained_on_the_page(
    core: Core, client: Client
) -> None:
    found = await world(core)
    await log_in(client)
    csrf = csrf_of(await client.get("/matches"))
    wrong_role = await client.post(
        "/matches", data={"csrf": csrf, "mentee": str(found.lars), "mentor": str(found.fatima)}
    )
    assert wrong_role.status_code == 400
    assert "The match could not be made: Participant" in wrong_role.text
    # Nobody types numbers: a mentor is picked on the waiting mentee's page (the picker).
    assert 'type="number"' not in wrong_role.text and "/participants/" in wrong_role.text
    not_numbers = await client.post("/matches", data={"csrf": csrf, "mentee": "x", "mentor": ""})
    assert not_numbers.status_code == 400 and "Write the numbers" in not_numbers.text
    bad_date = await client.post(
        "/matches",
        data={"csrf": csrf, "mentee": str(found.fatima), "mentor": str(found.lars),
              "start": "31.12.2026"},
    )  # fmt: skip
    assert bad_date.status_code == 400 and "The date is not valid" in bad_date.text
    async with core.sessions() as session:
        assert list(await session.scalars(select(Match).where(Match.mentee_id != found.olga))) == []
    await client.post(
        "/matches", data={"csrf": csrf, "mentee": str(found.fatima), "mentor": str(found.lars)}
    )
    async with core.sessions() as session:
        (match,) = await session.scalars(select(Match).where(Match.mentee_id == found.fatima))
    before_start = await client.post(
        f"/matches/{match.id}/end",
        data={"csrf": csrf, "reason": "completed", "date": "2020-01-01"},
    )
    assert before_start.status_code == 400
    assert "The match could not be ended: The end must not be before the start." in (
        before_start.text
    )
    no_reason = await client.post(f"/matches/{match.id}/end", data={"csrf": csrf, "reason": "x"})
    assert no_reason.status_code == 400 and "Pick a reason." in no_reason.text
    async with core.sessions() as session:
        assert (await session.get(Match, match.id)).ended_at is None


# --- schedule ----------------------------------------------------------------------------------


async def test_the_schedule_shows_the_week_what_expired_and_who_did_not_answer(
    core: Core, client: Client
) -> None:
    found = await world(core)
    now = core.clock.now()
    async with core.sessions() as session:

        def contact(who: int, questionnaire: str, due: datetime, state: str) -> Contact:
            closed = due + timedelta(days=2) if state == ContactState.EXPIRED else None
            return Contact(
                participant_id=who, rule="checkin_1", questionnaire_id=questionnaire,
                due_at=due, state=state, closed_at=closed,
                sent_at=due if state == ContactState.EXPIRED else None,
            )  # fmt: skip

        soon = contact(found.fatima, "first_meeting", now + timedelta(days=2), "planned")
        session.add_all(
            [
                soon,
                contact(found.nour, "follow_up", now + timedelta(days=10), "planned"),
                contact(found.nour, "checkin_mentee", now - timedelta(hours=1), "planned"),
                contact(found.lars, "checkin_mentor", now - timedelta(days=7), "expired"),
                contact(found.lars, "checkin_mentor", now - timedelta(days=20), "expired"),
                contact(found.nour, "mentee_end", now - timedelta(days=60), "expired"),
                contact(found.olga, "checkin_mentee", now + timedelta(days=1), "planned"),
                contact(found.olga, "first_meeting", now - timedelta(days=3), "expired"),
            ]
        )
        await session.commit()
    await log_in(client)
    page = (await client.get("/schedule")).text
    week = page[page.index('id="this-week"') : page.index('id="expired"')]
    expired = page[page.index('id="expired"') : page.index('id="silent"')]
    silent = page[page.index('id="silent"') :]
    assert "Your first meeting" in week and f'href="/participants/{found.fatima}"' in week
    assert "Europe/Copenhagen" in week and soon.due_at.isoformat() in week
    assert "Six months later" not in week  # due in ten days
    (late,) = [row for row in week.split("<tr")[1:] if f"/participants/{found.nour}" in row]
    assert "due already, not sent yet" in late and "How things are going" in late
    assert week.count("due already") == 1
    assert expired.count(f'href="/participants/{found.lars}"') == 2
    assert "Looking back" not in expired  # sixty days ago
    assert f'href="/participants/{found.lars}"' in silent and "2 questionnaires" in silent
    assert f'href="/participants/{found.nour}"' not in silent
    for part in (week, expired, silent):
        assert f'href="/participants/{found.olga}"' not in part and "Olga" not in part
