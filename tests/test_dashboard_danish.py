"""A Danish coordinator's dashboard has no English in it: the main pages, with the demo's data,
a refused match and the results of a period, in Danish; no text that the catalogs translate is
shown in English."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from babel.messages.pofile import read_po
from sqlalchemy import select

from bot.cli import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from bot.core import Core
from bot.settings import PROJECT_ROOT
from storage.models import Coordinator, Flag, Match, Participant
from tests.dashboard import Client, csrf_of
from tests.test_report import add_run, seed_before_after

# English that reached Danish pages before: a core rule's refusal and the report's own words.
KNOWN_ENGLISH = (
    "is already in a match",
    "must not be before the start",
    "Before and after counts every pair",
    "High or very high",
    "or very high",
    "(Not happy)",  # a scale's end label, glued to its number in the report
)
# Shown as stored: an admin may rename a programme.
AS_STORED = {"Career Bridge (example programme)"}
PLACEHOLDER = re.compile(r"\{[^}]*\}")


class VisibleText(HTMLParser):
    """What a reader sees or hears: the text, and the labels given in attributes."""

    LABELS = ("aria-label", "title", "placeholder", "alt")

    def __init__(self, html: str) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._hidden += 1
        self.parts += [value for name, value in attrs if name in self.LABELS and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(" ".join(data.split()))

    @property
    def text(self) -> str:
        return "\n".join(self.parts)


def translated_english() -> list[tuple[str, re.Pattern[str]]]:
    """Every English text of some words that Danish translates differently (the bot's shared
    texts and the dashboard's own), as a pattern that finds it shown untranslated."""
    found = []
    for domain in ("messages", "dashboard"):
        path = PROJECT_ROOT / "locales" / "da" / "LC_MESSAGES" / f"{domain}.po"
        with path.open("rb") as handle:
            catalog = read_po(handle, locale="da")
        for message in catalog:
            english, danish = message.id, message.string
            if not isinstance(english, str) or not english or english == danish:
                continue
            if english in AS_STORED or len(PLACEHOLDER.sub(" ", english).split()) < 2:
                continue
            literal = [re.escape(" ".join(part.split())) for part in PLACEHOLDER.split(english)]
            found.append((english, re.compile(rf"(?<!\w){'.+?'.join(literal)}(?!\w)")))
    return found


def english_in(page: str, known: list[tuple[str, re.Pattern[str]]]) -> list[str]:
    shown = VisibleText(page).text
    return [english for english, pattern in known if pattern.search(shown)]


async def test_a_danish_coordinator_reads_every_main_page_in_danish(
    core: Core, client: Client
) -> None:
    async with core.sessions() as session:
        await seed_demo(session, core.programmes, core.questionnaires)
        for coordinator in await session.scalars(select(Coordinator)):
            coordinator.language = "da"
        await session.commit()
    await seed_before_after(core)  # pairs for the results' before/after table
    async with core.sessions() as session:  # a scale's end, whose label is translated apart
        await add_run(session, "mentee_end", {"match_satisfaction": 1}, occasion="end")
        await session.commit()
    async with core.sessions() as session:
        flag = await session.scalar(select(Flag).order_by(Flag.id))
        danger = await session.scalar(select(Flag).where(Flag.category == "danger"))
        match = await session.scalar(select(Match).order_by(Match.id))
        waiting = await session.scalar(
            select(Participant).where(Participant.status == "waiting").order_by(Participant.id)
        )
        assert flag is not None and match is not None and waiting is not None
        assert danger is not None  # the demo has one: its page shows the help lines
    login = await client.get("/login")
    await client.post(
        "/login", data={"csrf": csrf_of(login), "email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    )
    csrf = csrf_of(await client.get("/matches"))

    pages = {
        url: await client.get(url)
        for url in (
            "/flags", "/flags?info=1", f"/flags/{flag.id}", f"/flags/{danger.id}",
            "/participants", f"/participants/{match.mentee_id}",
            f"/participants/{match.mentor_id}", f"/participants/{waiting.id}", "/matches",
            "/schedule", "/results", "/results?from=2020-01-01", "/settings", "/audit",
            "/audit?action=view", "/admin/coordinators", "/admin/programmes",
            "/admin/programmes/bridge", "/no/such/page",
        )
    }  # fmt: skip
    pages["a resolve to confirm"] = await client.post(
        f"/flags/{flag.id}/resolve", data={"csrf": csrf, "outcome": "Vi ringede."}
    )
    pages["a refused match"] = await client.post(
        "/matches", data={"csrf": csrf, "mentee": str(match.mentee_id), "mentor": str(waiting.id)}
    )
    pages["an end before the start"] = await client.post(
        f"/matches/{match.id}/end", data={"csrf": csrf, "reason": "completed", "date": "2000-01-01"}
    )
    pages["a refused programme"] = await client.post(
        "/admin/programmes/bridge",
        data={"csrf": csrf, "name": "", "languages": ["da"], "timezone": "Mars/Olympus",
              "coordinator_reply_days": "99", "help_label_0": "112"},
    )  # fmt: skip
    pages["a refused coordinator"] = await client.post(
        "/admin/coordinators",
        data={"csrf": csrf, "name": "Lars", "programme": str(match.programme_id),
              "role": "coordinator", "language": "da", "email": DEMO_EMAIL,
              "password": "long enough password"},
    )  # fmt: skip

    assert {name: page.status_code for name, page in pages.items()} == {
        **{name: 200 for name in pages},
        "a refused match": 400,
        "an end before the start": 400,
        "a refused programme": 422,
        "/no/such/page": 404,
    }
    assert "Ikke fundet." in pages["/no/such/page"].text
    assert "Hjælpelinjer, som personen fik vist" in pages[f"/flags/{danger.id}"].text
    assert "Ja, afslut" in pages["a resolve to confirm"].text
    refused = pages["a refused programme"].text
    assert refused.count('class="error" id=') == 4  # name, time zone, days, help line
    assert (
        "En anden koordinator bruger allerede denne e-mailadresse."
        in pages["a refused coordinator"].text
    )
    assert f"Deltager {match.mentee_id} er allerede i et match." in pages["a refused match"].text
    assert "Slutningen må ikke være før starten." in pages["an end before the start"].text
    results = pages["/results?from=2020-01-01"].text
    assert "Før og efter tæller alle par, uanset datoerne." in results
    assert "Høj eller meget høj" in results
    assert "1 (Ikke glad)" in pages["/results"].text
    # Lists are joined as Danish writes them, not with a Latin comma before the last item.
    assert re.search(r"Før \d+ \(\d+ %\) og Efter \d+", results)
    assert re.search(r"<td>(\w+, )+\w+ og \w+</td>", pages["/admin/programmes"].text)
    known = translated_english()
    assert len(known) > 300  # the catalogs were read
    english = {
        name: [phrase for phrase in KNOWN_ENGLISH if phrase in page.text]
        + english_in(page.text, known)
        for name, page in pages.items()
    }
    assert {name: found for name, found in english.items() if found} == {}


def test_the_check_finds_a_translated_text_shown_in_english() -> None:
    known = translated_english()
    page = "<p>Matchet kunne ikke oprettes: Participant 12 is already in a match.</p>"
    assert english_in(page, known) == ["Participant {number} is already in a match."]
    assert english_in('<button aria-label="Take it">✓</button>', known) == ["Take it"]
    assert english_in("<p>Deltager 12 er allerede i et match.</p>", known) == []
