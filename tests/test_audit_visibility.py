"""Who reads which audit entry (issue 14, second finding): an entry of a programme is shown to
that programme's admins; an account event (a log-in, a lock, a password: no programme) to the
admins of the account's programmes; a site owner reads everything. Table-driven: each kind of
viewer against each kind of event, with two programmes, bridge and elsewhere. What a
coordinator shared between the two did in elsewhere (an outcome note) never appears in
bridge's log, as it did when the issue was filed."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.core import Core
from dashboard.app import create_app
from storage import repositories as repo
from storage.models import AuditEntry, Flag
from tests.dashboard import Client, accounts_in_two_programmes, csrf_of, log_in

# name -> roles by programme code; Sue is the site owner and works in no programme.
ACCOUNTS = {
    "Cole": {"bridge": "coordinator"},
    "Sam": {"bridge": "coordinator", "elsewhere": "coordinator"},  # shared; acts in both
    "Ada": {"bridge": "admin"},
    "Bo": {"bridge": "admin", "elsewhere": "coordinator"},  # admin here, shared with elsewhere
    "Bea": {"bridge": "admin", "elsewhere": "admin"},
    "Olga": {"elsewhere": "admin"},
    "Otto": {"elsewhere": "coordinator"},
    "Sue": {},
}
OWNERS = {"Sue"}

EVENTS = ("own", "other", "shared account", "other account", "unplaced")
# own: Sam resolves a bridge flag; other: Sam resolves an elsewhere flag, with an outcome note;
# shared account: Sam logs in; other account: Otto logs in; unplaced: an old entry with
# neither a programme nor an account (it could not be placed when the log was migrated).
SHOWN = {
    "Ada": {"own", "shared account"},
    "Bo": {"own", "shared account"},
    "Bea": {"own", "other", "shared account", "other account"},
    "Olga": {"other", "shared account", "other account"},
    "Sue": set(EVENTS),
}
REFUSED = ("Cole", "Sam", "Otto")  # coordinators, not admins: no audit log at all


async def two_programmes_with_their_accounts(core: Core) -> dict[str, int]:
    """The accounts, and an open flag in each programme."""
    ids = await accounts_in_two_programmes(core, ACCOUNTS, OWNERS)
    async with core.sessions() as session:
        for code in ("bridge", "elsewhere"):
            programme = await repo.programme_by_code(session, code)
            assert programme is not None
            flag = Flag(programme_id=programme.id, category="wants_to_stop", severity="urgent")
            session.add(flag)
            await session.flush()
            ids[code] = flag.id
        # Written before the account events below, so each page of 100 holds them all.
        session.add(AuditEntry(action="invite", detail="unplaced entry"))
        await session.commit()
    return ids


async def the_events(client: Client, ids: dict[str, int]) -> None:
    await log_in(client, "Otto")
    client.cookies.clear()
    await log_in(client, "Sam")
    csrf = csrf_of(await client.get("/flags"))
    for code in ("bridge", "elsewhere"):
        resolved = await client.post(
            f"/flags/{ids[code]}/resolve",
            data={"csrf": csrf, "outcome": f"outcome note in {code}", "confirm": "1"},
        )
        assert resolved.status_code == 303
    client.cookies.clear()


def events_on(page: str) -> set[str]:
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)

    def row_with(*parts: str) -> bool:
        return any(all(part in row for part in parts) for row in rows)

    found = {
        "own": "outcome note in bridge" in page,
        "other": "outcome note in elsewhere" in page,
        "shared account": row_with("<td>Sam</td>", "<td>logged in</td>"),
        "other account": row_with("<td>Otto</td>", "<td>logged in</td>"),
        "unplaced": "unplaced entry" in page,
    }
    return {event for event, there in found.items() if there}


@pytest.mark.parametrize("viewer", [*SHOWN, *REFUSED])
async def test_each_viewer_reads_only_the_entries_of_programmes_they_may_see(
    core: Core, client: Client, viewer: str
) -> None:
    ids = await two_programmes_with_their_accounts(core)
    await the_events(client, ids)
    assert (await log_in(client, viewer)).status_code == 303
    page = await client.get("/audit")
    if viewer in REFUSED:
        assert page.status_code == 403
        assert events_on(page.text) == set()
        return
    assert page.status_code == 200
    assert events_on(page.text) == SHOWN[viewer]


async def test_a_shared_coordinators_outcome_note_in_another_programme_never_shows_here(
    core: Core, client: Client
) -> None:
    """As found: Ada, admin of bridge, read in her log what Sam (a coordinator of both
    programmes) wrote when resolving a flag of elsewhere. Not on any page of the log, and not
    when she asks for resolutions only."""
    ids = await two_programmes_with_their_accounts(core)
    await the_events(client, ids)
    await log_in(client, "Ada")
    for address in ("/audit", "/audit?action=resolve", "/audit?page=1"):
        page = await client.get(address)
        assert page.status_code == 200
        assert "outcome note in elsewhere" not in page.text
        assert f'href="/flags/{ids["elsewhere"]}"' not in page.text
    resolutions = await client.get("/audit?action=resolve")
    assert "outcome note in bridge" in resolutions.text
    assert resolutions.text.count("<tr>") == 2  # the header row and Sam's bridge resolution


async def test_the_log_names_the_programme_or_the_account_of_each_entry(
    core: Core, client: Client
) -> None:
    ids = await two_programmes_with_their_accounts(core)
    await the_events(client, ids)
    await log_in(client, "Bea")
    page = (await client.get("/audit")).text
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    resolved_here = next(row for row in rows if "outcome note in bridge" in row)
    assert "<td>Career Bridge (example programme)</td>" in resolved_here
    otto_in = next(row for row in rows if "<td>Otto</td>" in row and "logged in" in row)
    assert "account of Otto" in otto_in


async def test_every_entry_the_dashboard_writes_names_its_programme_or_its_account(
    core: Core, client: Client
) -> None:
    """Every page, as an admin of bridge who also works in elsewhere: each entry says which
    programme it concerned (one entry per programme for a page that covers both), or whose
    account; none is left for the site owner alone."""
    ids = await two_programmes_with_their_accounts(core)
    await log_in(client, "Bo")
    values = {"flag_id": ids["bridge"], "participant_id": 1, "kind": "csv", "code": "bridge"}
    paths = create_app(core).openapi()["paths"]
    for path in sorted(path for path, methods in paths.items() if "get" in methods):
        filled = re.sub(r"\{(\w+)\}", lambda found: str(values[found.group(1)]), path)
        assert (await client.get(filled)).status_code < 500, filled
    async with core.sessions() as session:
        entries = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.detail != "unplaced entry"))
        )
        elsewhere = await repo.programme_by_code(session, "elsewhere")
    assert len(entries) > 10
    assert [e for e in entries if e.programme_id is None and e.account_id is None] == []
    # The flag list covers both of Bo's programmes: one entry each, each with its own count.
    queue = {e.programme_id: e.detail for e in entries if e.detail and "open flags" in e.detail}
    assert elsewhere is not None and queue[elsewhere.id] == "web: 1 open flags"
