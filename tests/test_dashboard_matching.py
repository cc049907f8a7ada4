"""The mentors panel on a waiting mentee's page: the ranked mentors with their reasons in the
coordinator's language, a search among the programme's mentors, one click that makes the match
(written to the audit log), refused for another programme's coordinator; and the match page's
picker of waiting mentees instead of typed numbers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core import Core
from storage.models import Coordinator, Match, Participant
from tests.course import enrolled
from tests.dashboard import Client, World, audit_entries, csrf_of, intake, log_in, world


async def mentor(core: Core, key: str, name: str, **answers: object) -> int:
    person = await enrolled(core, key, "mentor", language="da", code="bridge")
    await intake(core, person.id, name, core.clock.now() - timedelta(weeks=2), **answers)
    return person.id


async def mentors_for_fatima(core: Core) -> tuple[World, dict[str, int]]:
    """Fatima (Arabic) works in health, lives in Aarhus and wants a woman as her mentor."""
    found = await world(core)
    async with core.sessions() as session:
        run_answers = {
            "industry": "health", "home_town": "Aarhus C", "mentor_gender": "woman",
            "interests": "football, cooking", "availability": "yes",
        }  # fmt: skip
        from storage import repositories as repo
        from storage.models import SurveyRun

        run = await session.scalar(
            select(SurveyRun).where(SurveyRun.participant_id == found.fatima)
        )
        for question, value in run_answers.items():
            await repo.record_answer(session, run.id, question, value)
        lars = await session.get(Participant, found.lars)
        lars.status = "ended"  # his course ended: not asked again
        await session.commit()
    people = {
        "Mette": await mentor(core, "m1", "Mette", gender="woman", industry="health",
                              home_town="Viby J", languages="dansk, arabisk",
                              interests="Cooking", availability="two_to_four"),
        "Hanne": await mentor(core, "m2", "Hanne", gender="woman", industry="it",
                              home_town="Odense"),
        "Jens": await mentor(core, "m3", "Jens", gender="man", industry="health",
                             home_town="Aarhus"),
    }  # fmt: skip
    return found, people


def panel_of(page: str) -> str:
    start = page.index('id="suggestions"')
    return page[start : page.index("</section>", start)]


async def test_a_waiting_mentees_page_ranks_the_mentors_with_reasons(
    core: Core, client: Client
) -> None:
    found, people = await mentors_for_fatima(core)
    await log_in(client)
    page = await client.get(f"/participants/{found.fatima}")
    panel = panel_of(page.text)
    assert panel.index("Mette") < panel.index("Hanne")  # the best first
    assert "Jens" not in panel  # a man: Fatima wants a woman, a hard rule
    mette = panel[panel.index(f'id="mentor-{people["Mette"]}"') :]
    mette = mette[: mette.index("</tr>")]
    for reason in (
        "The mentee&#39;s wish: A woman", "Same field: Health and medicine",
        "Speaks the same language: Arabic", "Lives in the same area: Aarhus",
        "Both can meet 2 to 4 times a month", "Interests in common: cooking", "11 of 11",
    ):  # fmt: skip
        assert reason in mette, reason
    assert "1 mentor does not meet the rule “The mentee&#39;s wish”." in panel
    assert "1 mentor cannot take a mentee now" in panel  # Lars, whose course ended
    (seen,) = [
        e for e in await audit_entries(core, "view") if "mentor suggestions" in (e.detail or "")
    ]
    assert seen.participant_id == found.fatima and seen.detail == "web: 2 mentor suggestions"


async def test_the_reasons_are_in_the_coordinators_language(core: Core, client: Client) -> None:
    found, _ = await mentors_for_fatima(core)
    async with core.sessions() as session:
        sara = await session.get(Coordinator, found.ids["Sara"])
        sara.language = "da"
        await session.commit()
    await log_in(client)
    panel = panel_of((await client.get(f"/participants/{found.fatima}")).text)
    assert "Mentorer til denne mentee" in panel
    assert "Samme fagområde: Sundhed og medicin" in panel
    assert "Taler samme sprog: arabisk" in panel
    assert "Same field" not in panel


async def test_one_click_makes_the_match_and_writes_it_to_the_audit_log(
    core: Core, client: Client
) -> None:
    found, people = await mentors_for_fatima(core)
    await log_in(client)
    page = await client.get(f"/participants/{found.fatima}")
    made = await client.post(
        f"/participants/{found.fatima}/match",
        data={"csrf": csrf_of(page), "mentor": str(people["Mette"])},
    )
    assert made.status_code == 303 and made.headers["location"].startswith("/matches?done=made")
    async with core.sessions() as session:
        (match,) = await session.scalars(select(Match).where(Match.mentee_id == found.fatima))
    assert match.mentor_id == people["Mette"] and match.started_at == core.clock.now()
    (entry,) = await audit_entries(core, "match")
    assert entry.coordinator_id == found.ids["Sara"] and entry.participant_id == found.fatima
    assert entry.detail is not None and entry.detail.startswith(
        f"match {match.id}: mentee {found.fatima}, mentor {people['Mette']}"
    )
    # Matched now, she has no panel any more.
    assert 'id="suggestions"' not in (await client.get(f"/participants/{found.fatima}")).text


async def test_a_refused_click_says_why_on_the_mentees_page(core: Core, client: Client) -> None:
    found, people = await mentors_for_fatima(core)
    await log_in(client)
    csrf = csrf_of(await client.get(f"/participants/{found.fatima}"))
    url = f"/participants/{found.fatima}/match"
    wrong = await client.post(url, data={"csrf": csrf, "mentor": str(found.nour)})
    assert wrong.status_code == 400
    assert f"The match could not be made: Participant {found.nour} is a mentee" in wrong.text
    nobody = await client.post(url, data={"csrf": csrf, "mentor": ""})
    assert nobody.status_code == 400 and "Choose a mentor." in nobody.text
    forged = await client.post(url, data={"csrf": "forged", "mentor": str(people["Mette"])})
    assert forged.status_code == 403
    async with core.sessions() as session:
        assert (
            list(await session.scalars(select(Match).where(Match.mentee_id == found.fatima))) == []
        )


async def test_a_coordinator_of_another_programme_cannot_match_or_see_the_panel(
    core: Core, client: Client
) -> None:
    found, people = await mentors_for_fatima(core)
    await log_in(client, "Otto")
    assert (await client.get(f"/participants/{found.fatima}")).status_code == 404
    csrf = csrf_of(await client.get("/matches"))
    refused = await client.post(
        f"/participants/{found.fatima}/match", data={"csrf": csrf, "mentor": str(people["Mette"])}
    )
    assert refused.status_code == 404
    theirs = await client.post(
        f"/participants/{found.olga}/match", data={"csrf": csrf, "mentor": str(people["Mette"])}
    )  # his own mentee, another programme's mentor
    assert theirs.status_code == 400
    async with core.sessions() as session:
        assert len(list(await session.scalars(select(Match)))) == 1  # his own, from before
    assert await audit_entries(core, "match") == []


async def test_a_mentee_with_no_suitable_mentor_is_told_so_plainly(
    core: Core, client: Client
) -> None:
    found = await world(core)  # Lars is the only mentor of bridge
    await log_in(client)
    async with core.sessions() as session:
        busy = Match(
            programme_id=(await session.get(Participant, found.lars)).programme_id,
            mentee_id=found.nour, mentor_id=found.lars, started_at=core.clock.now(),
            planned_end_at=core.clock.now() + timedelta(days=180),
        )  # fmt: skip
        session.add(busy)
        await session.commit()
    panel = panel_of((await client.get(f"/participants/{found.fatima}")).text)
    assert "No mentor fits this mentee now." in panel
    assert "1 mentor already has as many mentees as the programme allows." in panel
    assert "Match with" not in panel


async def test_a_search_finds_any_mentor_of_the_programme_and_says_why_one_is_not_suggested(
    core: Core, client: Client
) -> None:
    found, people = await mentors_for_fatima(core)
    await log_in(client)
    page = await client.get(f"/participants/{found.fatima}", params={"mentor": "jen"})
    found_table = page.text[page.text.index('class="people mentors found"') :]
    assert "Jens" in found_table
    assert "Not suggested: does not meet the rule “The mentee&#39;s wish”." in found_table
    by_number = await client.get(
        f"/participants/{found.fatima}", params={"mentor": str(people["Hanne"])}
    )
    found_table = by_number.text[by_number.text.index('class="people mentors found"') :]
    assert "Hanne" in found_table and "Match with Hanne" in found_table
    nothing = await client.get(f"/participants/{found.fatima}", params={"mentor": "Olga"})
    assert "No mentor of this programme has that name or number." in nothing.text


async def test_the_match_page_picks_a_waiting_mentee_instead_of_typed_numbers(
    core: Core, client: Client
) -> None:
    found = await world(core)
    await log_in(client)
    page = (await client.get("/matches")).text
    picker = page[page.index('id="new-match"') : page.index('aria-labelledby="pairs"')]
    assert 'type="number"' not in picker
    # Fatima has waited ten weeks, Nour one: the longest first, each to her suggestions.
    assert picker.index(f'href="/participants/{found.fatima}#suggestions"') < picker.index(
        f'href="/participants/{found.nour}#suggestions"'
    )
    assert f"/participants/{found.olga}" not in picker  # another programme's
    searched = (await client.get("/matches", params={"mentee": "fati"})).text
    picker = searched[searched.index('id="new-match"') : searched.index('aria-labelledby="pairs"')]
    assert "Fatima" in picker and f"/participants/{found.nour}#" not in picker


async def test_no_panel_on_a_mentors_page(core: Core, client: Client) -> None:
    _, people = await mentors_for_fatima(core)
    await log_in(client)
    assert 'id="suggestions"' not in (await client.get(f"/participants/{people['Mette']}")).text
