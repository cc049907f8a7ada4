"""The participants, matches and schedule pages: what a coordinator sees of their own
programmes (and never of another's), the timeline, the pair markers, and the match forms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.core import Core
from bot.course import create_match
from bot.people import erase_person, respondent_key
from storage import repositories as repo
from storage.models import (
    AuditEntry,
    Contact,
    ContactState,
    Coordinator,
    Flag,
    FlagMessage,
    FlagStatus,
    Match,
    Participant,
    Programme,
    RunStatus,
    SurveyRun,
    utcnow,
)
from tests.course import enrolled
from tests.dashboard import EVIL, Client, csrf_of, log_in, seed

ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"


@dataclass
class World:
    ids: dict[str, int]
    fatima: int  # bridge mentee, Arabic, waiting ten weeks
    nour: int  # bridge mentee, Danish, named like a script, waiting one week
    lars: int  # bridge mentor
    olga: int  # another programme's mentee
    erik: int  # another programme's mentor
    their_match: int


async def _intake(
    core: Core, participant_id: int, name: str, done: datetime, **answers: object
) -> int:
    async with core.sessions() as session:
        run = await session.scalar(
            select(SurveyRun).where(SurveyRun.participant_id == participant_id)
        )
        run.completed_at = done
        await repo.record_answer(session, run.id, "name", name, at=done)
        for question, value in answers.items():
            await repo.record_answer(session, run.id, question, value, at=done)
        await session.commit()
        return run.id


async def world(core: Core) -> World:
    """Sara's programme (bridge): Fatima, Nour and Lars; Otto's (elsewhere): Olga and Erik,
    matched."""
    ids = await seed(core)
    now = utcnow()
    fatima = (await enrolled(core, "f", "mentee", language="ar", code="bridge")).id
    nour = (await enrolled(core, "n", "mentee", language="da", code="bridge")).id
    lars = (await enrolled(core, "l", "mentor", code="bridge")).id
    olga = (await enrolled(core, "o", "mentee", code="elsewhere")).id
    erik = (await enrolled(core, "e", "mentor", code="elsewhere")).id
    await _intake(core, fatima, "Fatima", now - timedelta(weeks=10))
    await _intake(core, nour, EVIL, now - timedelta(weeks=1))
    await _intake(core, lars, "Lars", now - timedelta(weeks=3))
    await _intake(core, olga, "Olga", now - timedelta(weeks=12))
    await _intake(core, erik, "Erik", now - timedelta(weeks=12))
    async with core.sessions() as session:
        elsewhere = await repo.programme_by_code(session, "elsewhere")
        theirs = Match(
            programme_id=elsewhere.id, mentee_id=olga, mentor_id=erik,
            started_at=now - timedelta(days=40), planned_end_at=now + timedelta(days=140),
        )  # fmt: skip
        session.add(theirs)
        await session.commit()
        their_match = theirs.id
    return World(ids, fatima, nour, lars, olga, erik, their_match)


def rows_of(page: str) -> dict[int, str]:
    """Each participant row of the list, by number."""
    return {
        int(number): row
        for row in page.split("<tr")[1:]
        if (number := next(iter(re.findall(r'href="/participants/(\d+)"', row)), None))
    }


def row_of_match(page: str, match_id: int) -> str:
    start = page.index(f'id="match-{match_id}"')
    return page[start : page.index("</tr>", start)]


async def audit_entries(core: Core, action: str) -> list[AuditEntry]:
    async with core.sessions() as session:
        return list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


# --- log-in and permissions --------------------------------------------------------------------


async def test_the_new_pages_need_a_log_in(core: Core, client: Client) -> None:
    found = await world(core)
    for path in ("/participants", f"/participants/{found.fatima}", "/matches", "/schedule"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path
    posted = await client.post("/matches", data={"csrf": "x", "mentee": "1", "mentor": "2"})
    assert posted.status_code == 303 and posted.headers["location"].startswith("/login")


async def test_another_programmes_participants_and_matches_never_show(
    core: Core, client: Client
) -> None:
    found = await world(core)
    await log_in(client)
    listed = rows_of((await client.get("/participants")).text)
    assert {found.fatima, found.nour, found.lars, found.ids["amina"]} <= set(listed)
    assert found.olga not in listed and found.erik not in listed
    page = (await client.get("/participants")).text
    assert "Olga" not in page and "Erik" not in page
    matches = (await client.get("/matches")).text
    assert f'id="match-{found.their_match}"' not in matches and "Olga" not in matches
    assert (await client.get(f"/participants/{found.olga}")).status_code == 404
    # Filtering by the other programme's id shows nothing rather than its people.
    async with core.sessions() as session:
        elsewhere = await repo.programme_by_code(session, "elsewhere")
    assert rows_of((await client.get(f"/participants?programme={elsewhere.id}")).text) == {}


async def test_a_coordinator_of_the_other_programme_gets_404_on_this_ones_participant(
    core: Core, client: Client
) -> None:
    found = await world(core)
    await log_in(client, "Otto")
    assert (await client.get(f"/participants/{found.fatima}")).status_code == 404
    assert (await client.get(f"/participants/{found.olga}")).status_code == 200
    assert set(rows_of((await client.get("/participants")).text)) == {found.olga, found.erik}


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


# --- the list ----------------------------------------------------------------------------------


async def test_search_finds_by_number_and_by_part_of_the_name(core: Core, client: Client) -> None:
    found = await world(core)
    await log_in(client)
    by_number = rows_of((await client.get(f"/participants?q={found.lars}")).text)
    assert set(by_number) == {found.lars}
    by_name = rows_of((await client.get("/participants?q=fAtI")).text)
    assert set(by_name) == {found.fatima}
    nobody = (await client.get("/participants?q=nobody-has-this-name")).text
    assert rows_of(nobody) == {} and "0 participants" in nobody


async def test_each_filter_narrows_the_list(core: Core, client: Client) -> None:
    found = await world(core)
    async with core.sessions() as session:
        bridge = await repo.programme_by_code(session, "bridge")
    await log_in(client)

    async def listed(query: str) -> set[int]:
        response = await client.get(f"/participants?{query}")
        assert response.status_code == 200, query
        return set(rows_of(response.text))

    mentees = {found.fatima, found.nour, found.ids["amina"]}
    assert await listed("role=mentor") == {found.lars}
    assert await listed("role=mentee") == mentees
    assert await listed("status=intake") == {found.ids["amina"]}
    assert await listed("status=waiting") == {found.fatima, found.nour, found.lars}
    assert await listed("language=ar") == {found.fatima}
    assert await listed("language=da") == {found.nour}
    assert await listed(f"programme={bridge.id}") == {*mentees, found.lars}
    assert await listed("waiting=2") == {found.fatima, found.lars}
    assert await listed("waiting=5") == {found.fatima}
    assert await listed("waiting=5&role=mentor") == set()
    # Empty fields of the filter form mean "all".
    assert await listed("q=&programme=&role=&status=&language=&waiting=") == {
        *mentees, found.lars,
    }  # fmt: skip
    page = (await client.get("/participants?waiting=5")).text
    assert "Fatima" in page and "10 weeks" in page


async def test_a_withdrawn_person_shows_as_withdrew_without_data(
    core: Core, client: Client
) -> None:
    found = await world(core)
    async with core.sessions() as session:
        await erase_person(session, await session.get(Participant, found.fatima))
        await session.commit()
    await log_in(client)
    page = (await client.get("/participants")).text
    row = rows_of(page)[found.fatima]
    assert "withdrew" in row
    assert "Fatima" not in page and "العربية" not in row


async def test_a_name_like_a_script_is_shown_as_text(core: Core, client: Client) -> None:
    found = await world(core)
    async with core.sessions() as session:
        await create_match(session, core.programmes, found.nour, found.lars, utcnow())
        await session.commit()
    await log_in(client)
    for path in ("/participants", f"/participants/{found.nour}", "/matches"):
        page = (await client.get(path)).text
        assert EVIL not in page, path
        assert ESCAPED in page, path


# --- the timeline ------------------------------------------------------------------------------


async def test_the_timeline_shows_everything_in_date_order(core: Core, client: Client) -> None:
    found = await world(core)
    base = utcnow() - timedelta(days=60)
    day = timedelta(days=1)
    voice = {"voice": {"file_id": "AwAD", "duration": 12, "file": "a.ogg"}}
    await _intake(core, found.fatima, "Fatima", base + day, motivation="medium", interests=voice)
    async with core.sessions() as session:
        await session.execute(
            update(Participant).where(Participant.id == found.fatima).values(created_at=base)
        )
        match = await create_match(
            session, core.programmes, found.fatima, found.lars, base + 2 * day
        )
        contacts = {c.rule: c for c in await repo.contacts_of(session, found.fatima)}
        first = contacts["first_meeting"]
        first.state, first.sent_at, first.closed_at = (
            ContactState.EXPIRED, base + 16 * day, base + 19 * day,
        )  # fmt: skip
        checkin = contacts["checkin_1"]
        run = SurveyRun(
            participant_id=found.fatima, programme_id=match.programme_id, language="ar",
            questionnaire_id="checkin_mentee", questionnaire_version=1,
            occasion=f"contact:{checkin.id}", status=RunStatus.COMPLETED, draft=[],
            started_at=base + 47 * day, completed_at=base + 48 * day,
        )  # fmt: skip
        session.add(run)
        await session.flush()
        await repo.record_answer(session, run.id, "met", "no", at=base + 47 * day)
        await repo.record_answer(session, run.id, "going", "not_good", at=base + 48 * day)
        checkin.state, checkin.sent_at, checkin.answered_at = (
            ContactState.ANSWERED, base + 47 * day, base + 48 * day,
        )  # fmt: skip
        checkin.reminders_sent, checkin.run_id = 1, run.id
        contacts["checkin_3"].state = ContactState.CANCELLED
        session.add(
            Contact(
                participant_id=found.fatima, match_id=match.id, rule="no_contact",
                questionnaire_id="checkin_mentee", due_at=base + 52 * day,
                sent_at=base + 52 * day, state=ContactState.SENT, reminders_sent=2,
            )
        )  # fmt: skip
        flag = Flag(
            programme_id=match.programme_id, participant_id=found.fatima, run_id=run.id,
            questionnaire_id="checkin_mentee", question_id="met", answer="no",
            category="not_met", severity="soon", status=FlagStatus.RESOLVED,
            created_at=base + 48 * day + timedelta(hours=1), resolved_at=base + 51 * day,
            outcome="Called her; they meet on Friday.", assigned_to=found.ids["Sara"],
        )  # fmt: skip
        session.add(flag)
        await session.flush()
        session.add_all(
            [
                FlagMessage(flag_id=flag.id, coordinator_id=found.ids["Sara"],
                            text="Shall I call you?", sent_at=base + 49 * day),
                FlagMessage(flag_id=flag.id, text="Yes, after 5 please.",
                            sent_at=base + 50 * day),
            ]
        )  # fmt: skip
        await session.commit()
    await log_in(client)
    page = (await client.get(f"/participants/{found.fatima}")).text

    expected_in_order = [
        "Joined the programme",
        "Intake: Getting to know you",
        "What is your name? A nickname is fine.",
        "How motivated are you to reach your goals?",
        "🎤 Voice message (12 s)",
        "Match started",
        "Sent: Your first meeting",
        "expired, no answer",
        "Sent: How things are going",
        "Answers: How things are going",
        "Have you met your mentor since we last asked you?",
        "How is it going with your mentor?",
        "Not good",
        "Flag: Has not met",
        "Message from Sara",
        "Shall I call you?",
        "Message from the participant",
        "Yes, after 5 please.",
        "Coordinator&#39;s note by Sara",
        "Called her; they meet on Friday.",
        "reminded, no answer yet",
        "Planned: How things are going",
    ]
    positions = [page.find(text) for text in expected_in_order]
    missing = [text for text, at in zip(expected_in_order, positions, strict=True) if at < 0]
    assert missing == []
    assert positions == sorted(positions)
    assert "1 reminder" in page and "Medium" in page
    assert re.search(r"Not sent: How things are going</strong>\s*· <span[^>]*>cancelled<", page)
    assert f'href="/participants/{found.lars}"' in page
    (entry,) = [e for e in await audit_entries(core, "view") if e.participant_id]
    assert (entry.participant_id, entry.coordinator_id) == (found.fatima, found.ids["Sara"])


async def test_the_timeline_is_in_the_coordinators_language(core: Core, client: Client) -> None:
    found = await world(core)
    await _intake(core, found.fatima, "Fatima", utcnow(), motivation="medium")
    async with core.sessions() as session:
        await session.execute(
            update(Coordinator).where(Coordinator.id == found.ids["Sara"]).values(language="da")
        )
        await session.commit()
    await log_in(client)
    page = (await client.get(f"/participants/{found.fatima}")).text
    assert "Hvordan er din motivation for at nå dine mål?" in page and "Middel" in page


async def test_anonymous_answers_never_appear_on_a_profile(core: Core, client: Client) -> None:
    found = await world(core)
    async with core.sessions() as session:
        programme = await session.scalar(select(Programme).where(Programme.code == "bridge"))
        anonymous = SurveyRun(
            participant_id=None, respondent_key=respondent_key(core.secret, found.fatima),
            programme_id=programme.id, language="ar", questionnaire_id="mentee_end",
            questionnaire_version=1, occasion="anon-occasion", status=RunStatus.COMPLETED,
            draft=[], completed_at=utcnow(),
        )  # fmt: skip
        session.add(anonymous)
        await session.flush()
        await repo.record_answer(session, anonymous.id, "better", "Only-in-the-anonymous-run")
        await session.commit()
    await log_in(client)
    page = await client.get(f"/participants/{found.fatima}")
    assert page.status_code == 200 and "Fatima" in page.text
    assert "Only-in-the-anonymous-run" not in page.text
    assert "Looking back" not in page.text  # not even the anonymous survey's title


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
        start = utcnow() - timedelta(days=90)
        troubled = await create_match(session, core.programmes, found.fatima, found.lars, start)
        fine = await create_match(session, core.programmes, found.nour, mentor_2, start)
        await session.commit()
    earlier, later = utcnow() - timedelta(days=40), utcnow() - timedelta(days=5)
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
        match = await create_match(session, core.programmes, found.fatima, found.lars, utcnow())
        await session.commit()
    await _checkin(core, match.id, found.fatima, utcnow() - timedelta(days=1))
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
    assert f'value="{found.lars}"' in wrong_role.text  # the form keeps what was typed
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
    now = utcnow()
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
