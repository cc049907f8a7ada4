"""The flag page and the queue as a coordinator reads them: who and when, by when to answer, the
help lines a person in danger was shown, the history; resolving only after a confirmation; the
queue by severity with its counts; dates the way the reader's language writes them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.coordination import reply_due
from bot.core import Core
from bot.language import local_date
from storage.models import Coordinator, Flag
from tests.dashboard import Client, csrf_of, log_in, programme_id, seed, world

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def test_an_answer_is_due_the_same_day_if_urgent_and_within_the_working_days_promised() -> None:
    friday_evening = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)  # 23:30 in Copenhagen
    late_sunday_utc = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # already Monday in Copenhagen
    assert reply_due(late_sunday_utc, "urgent", 2, COPENHAGEN) == date(2026, 12, 7)
    assert reply_due(late_sunday_utc, "urgent", 2, ZoneInfo("UTC")) == date(2026, 12, 6)
    # Two working days after a Friday: the weekend does not count.
    assert reply_due(friday_evening, "soon", 2, COPENHAGEN) == date(2026, 12, 8)
    assert reply_due(datetime(2026, 12, 1, 10, tzinfo=UTC), "soon", 3, COPENHAGEN) == date(
        2026, 12, 4
    )
    assert reply_due(friday_evening, "info", 2, COPENHAGEN) is None


async def add_flag(core: Core, **fields: object) -> int:
    async with core.sessions() as session:
        flag = Flag(programme_id=await programme_id(core), **fields)
        session.add(flag)
        await session.commit()
        return flag.id


async def test_a_named_flag_shows_who_when_and_by_when(core: Core, client: Client) -> None:
    people = await world(core)
    flag_id = await add_flag(
        core, participant_id=people.fatima, category="wants_to_stop", severity="soon",
        answer="I have no time any more.",
    )  # fmt: skip
    await log_in(client)
    page = (await client.get(f"/flags/{flag_id}")).text
    assert '<bdi class="name">Fatima</bdi>' in page
    assert "<bdi>العربية (Arabic)</bdi>" in page
    assert "I have no time any more." in page
    # T0 is Tuesday 1 December, 11:00 in Copenhagen; the programme promises two working days.
    assert re.search(r"Came in</dt><dd><time[^>]*>1 Dec 2026 11:00</time>", page)
    assert "Answer by</dt><dd>3 Dec 2026</dd>" in page
    assert "Help lines the person was shown" not in page  # not a danger flag
    assert re.search(r"<time[^>]*>1 Dec 2026 11:00</time>\s*<p class=\"what\"><strong>\s*"
                     r"The flag came in", page)  # fmt: skip


async def test_a_late_flag_says_so(core: Core, client: Client) -> None:
    ids = await seed(core)
    core.clock.advance(days=3)  # type: ignore[attr-defined]
    await log_in(client)
    page = (await client.get(f"/flags/{ids['mine']}")).text
    assert '<dd class="late">3 Dec 2026 · <strong>late</strong></dd>' in page


async def test_an_anonymous_flag_names_nobody(core: Core, client: Client) -> None:
    people = await world(core)
    flag_id = await add_flag(core, category="not_going_well", severity="soon", answer="Badly.")
    await log_in(client)
    page = (await client.get(f"/flags/{flag_id}")).text
    assert "(anonymous)" in page and "Badly." in page
    assert "/participants/" not in page.split("<main", 1)[1].split("</dl>", 1)[0]
    for name in ("Fatima", "Lars", "&lt;script&gt;", "Language</dt>", 'class="name"'):
        assert name not in page
    assert f"participant {people.fatima}" not in page
    assert 'name="text"' not in page  # nobody to write to


async def test_a_danger_flag_shows_the_help_lines_the_person_was_shown(
    core: Core, client: Client
) -> None:
    ids = await seed(core)
    flag_id = await add_flag(
        core, participant_id=ids["amina"], category="danger", severity="urgent",
        answer="He hits me.",
    )  # fmt: skip
    await log_in(client)
    page = (await client.get(f"/flags/{flag_id}")).text
    assert "Help lines the person was shown" in page
    for line in (
        'Emergency (police, ambulance): <bdi dir="ltr">112</bdi>',
        'Violence at home (Lev Uden Vold): <bdi dir="ltr">1888</bdi>',
        'Thoughts of suicide (Livslinien): <bdi dir="ltr">70 201 201</bdi>',
    ):
        assert line in page
    assert "Answer by</dt><dd>1 Dec 2026</dd>" in page  # urgent: the same day

    async with core.sessions() as session:
        sara = await session.get(Coordinator, ids["Sara"])
        assert sara is not None
        sara.language = "da"
        await session.commit()
    danish = (await client.get(f"/flags/{flag_id}")).text
    assert "Hjælpelinjer, som personen fik vist" in danish
    assert 'Nødhjælp (politi, ambulance): <bdi dir="ltr">112</bdi>' in danish


async def test_resolving_asks_first_and_only_a_confirmed_post_resolves(
    core: Core, client: Client
) -> None:
    ids = await seed(core)
    await log_in(client)
    page = await client.get(f"/flags/{ids['mine']}")
    csrf = csrf_of(page)
    # Resolving is a section of its own, with a button unlike the one that sends.
    assert '<section aria-labelledby="close" class="resolve">' in page.text
    assert '<button type="submit">Send the message</button>' in page.text
    assert '<button type="submit" class="resolve-button">Resolve…</button>' in page.text

    asked = await client.post(
        f"/flags/{ids['mine']}/resolve", data={"csrf": csrf, "outcome": "Called <her>."}
    )
    assert asked.status_code == 200
    assert "Resolve flag #" in asked.text and "Called &lt;her&gt;." in asked.text
    assert '<input type="hidden" name="confirm" value="1">' in asked.text
    assert 'name="outcome" value="Called &lt;her&gt;."' in asked.text
    assert "Yes, resolve" in asked.text
    async with core.sessions() as session:
        flag = await session.get(Flag, ids["mine"])
        assert flag is not None and flag.status == "open"

    done = await client.post(
        f"/flags/{ids['mine']}/resolve",
        data={"csrf": csrf_of(asked), "outcome": "Called <her>.", "confirm": "1"},
    )
    assert done.status_code == 303
    async with core.sessions() as session:
        flag = await session.get(Flag, ids["mine"])
        assert flag is not None and (flag.status, flag.outcome) == ("resolved", "Called <her>.")
    resolved = (await client.get(f"/flags/{ids['mine']}")).text
    assert re.search(r"Resolved by Sara\s*</strong></p>\s*<blockquote[^>]*>Called &lt;her&gt;\.",
                     resolved)  # fmt: skip
    assert "Yes, resolve" not in resolved and "Resolve…" not in resolved


async def test_the_history_shows_who_took_the_flag_and_what_was_written(
    core: Core, client: Client
) -> None:
    ids = await seed(core)
    await log_in(client)
    csrf = csrf_of(await client.get(f"/flags/{ids['mine']}"))
    core.clock.advance(minutes=5)  # type: ignore[attr-defined]
    await client.post(f"/flags/{ids['mine']}/assign", data={"csrf": csrf})
    core.clock.advance(minutes=5)  # type: ignore[attr-defined]
    await client.post(f"/flags/{ids['mine']}/note", data={"csrf": csrf, "note": "Call Monday."})
    core.clock.advance(minutes=5)  # type: ignore[attr-defined]
    await client.post(f"/flags/{ids['mine']}/message", data={"csrf": csrf, "text": "Hello!"})
    page = (await client.get(f"/flags/{ids['mine']}")).text
    history = page.split('id="history"', 1)[1].split("</section>", 1)[0]
    steps = [
        "1 Dec 2026 11:00", "The flag came in",
        "1 Dec 2026 11:05", "Taken by Sara",
        "1 Dec 2026 11:10", "Coordinator&#39;s note by Sara", "Call Monday.",
        "1 Dec 2026 11:15", "Message from Sara", "Hello!",
    ]  # fmt: skip
    positions = [history.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions)
    assert "view" not in history  # looking at a flag is audited, not its history


async def test_the_queue_is_by_severity_then_age_counts_and_hides_info(
    core: Core, client: Client
) -> None:
    ids = await seed(core)  # "mine": soon, at T0
    older_info = await add_flag(core, category="life_event", severity="info")
    core.clock.advance(hours=1)  # type: ignore[attr-defined]
    urgent = await add_flag(core, category="wants_to_stop", severity="urgent")
    later_soon = await add_flag(core, category="not_met", severity="soon")
    info = await add_flag(core, category="match_ending", severity="info")
    await add_flag(core, category="not_met", severity="soon", status="resolved")
    await log_in(client)

    page = (await client.get("/flags")).text
    order = [int(n) for n in re.findall(r'<td><a href="/flags/(\d+)">', page)]
    assert order == [urgent, ids["mine"], later_soon]
    counts = page.split('<ul class="counts"', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r"<strong>([^<]+)</strong>: (\d+)", counts) == [
        ("URGENT", "1"), ("Soon", "2"), ("Info", "2"),
    ]  # fmt: skip
    assert "2 info flags are hidden." in page and 'href="/flags?info=1"' in page
    assert "Answer by" in page and "<td>1 Dec 2026</td>" in page  # the urgent one: today

    everything = (await client.get("/flags?info=1")).text
    order = [int(n) for n in re.findall(r'<td><a href="/flags/(\d+)">', everything)]
    assert order == [urgent, ids["mine"], later_soon, older_info, info]
    assert "info flags are hidden" not in everything
    assert 'name="info" value="1" checked' in everything


async def test_the_queue_names_named_people_only(core: Core, client: Client) -> None:
    people = await world(core)
    await add_flag(core, participant_id=people.fatima, category="not_met", severity="soon")
    await add_flag(core, category="not_going_well", severity="soon")
    await log_in(client)
    page = (await client.get("/flags")).text
    assert '<bdi class="name">Fatima</bdi>' in page
    assert page.count('class="name"') == 1 and "(anonymous)" in page


async def test_dates_are_written_the_way_the_readers_language_writes_them(
    core: Core, client: Client
) -> None:
    ids = await seed(core)
    await log_in(client)
    english = (await client.get("/flags")).text
    assert "1 Dec 2026" in english and "Dec 1, 2026" not in english and " AM" not in english
    async with core.sessions() as session:
        sara = await session.scalar(select(Coordinator).where(Coordinator.id == ids["Sara"]))
        assert sara is not None
        sara.language = "da"
        await session.commit()
    danish = (await client.get(f"/flags/{ids['mine']}")).text
    assert re.search(r"<time[^>]*>1\. dec\. 2026 11\.00</time>", danish)
    assert "Svar senest</dt><dd>3. dec. 2026</dd>" in danish
    # The bot's own dates (a profile in Telegram, /mydata) follow the same rule.
    moment = datetime(2026, 12, 7, 10, tzinfo=UTC)
    with core.catalogs.use("en"):
        assert local_date(moment) == "7 Dec 2026"
    with core.catalogs.use("da"):
        assert local_date(moment) == "7. dec. 2026"
