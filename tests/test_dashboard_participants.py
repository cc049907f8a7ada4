"""The participant pages: what a coordinator sees of their own programmes' participants (and
never of another's), the list with its search and filters, and a participant's timeline."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from bot.core import Core
from bot.course import create_match
from bot.people import erase_person, respondent_key
from storage import repositories as repo
from storage.models import (
    Contact,
    ContactState,
    Coordinator,
    Flag,
    FlagMessage,
    FlagStatus,
    Participant,
    Programme,
    RunStatus,
    SurveyRun,
)
from tests.dashboard import EVIL, Client, audit_entries, intake, log_in, world

ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"


def rows_of(page: str) -> dict[int, str]:
    """Each participant row of the list, by number."""
    return {
        int(number): row
        for row in page.split("<tr")[1:]
        if (number := next(iter(re.findall(r'href="/participants/(\d+)"', row)), None))
    }


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
        await create_match(session, core.programmes, found.nour, found.lars, core.clock.now())
        await session.commit()
    await log_in(client)
    for path in ("/participants", f"/participants/{found.nour}", "/matches"):
        page = (await client.get(path)).text
        assert EVIL not in page, path
        assert ESCAPED in page, path


# --- the timeline ------------------------------------------------------------------------------


async def test_the_timeline_shows_everything_in_date_order(core: Core, client: Client) -> None:
    found = await world(core)
    base = core.clock.now() - timedelta(days=60)
    day = timedelta(days=1)
    voice = {"voice": {"file_id": "AwAD", "duration": 12, "file": "a.ogg"}}
    await intake(core, found.fatima, "Fatima", base + day, motivation="medium", interests=voice)
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
    await intake(core, found.fatima, "Fatima", core.clock.now(), motivation="medium")
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
            draft=[], completed_at=core.clock.now(),
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
