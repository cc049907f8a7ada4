"""The participants list as CSV and Excel: the same people as the page shows (own programmes
only, the same filters), safe in a spreadsheet, written to the audit log."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from bot.core import Core
from storage import repositories as repo
from storage.models import AuditEntry, Participant
from tests.dashboard import Client, log_in, seed


async def add_person(core: Core, code: str, user: str, role: str = "mentee") -> None:
    async with core.sessions() as session:
        programme = await repo.programme_by_code(session, code)
        session.add(
            Participant(
                channel="test", channel_user_id=user, programme_id=programme.id, role=role,
                status="waiting", language="uk",
            )
        )  # fmt: skip
        await session.commit()


async def test_the_participants_download_as_csv_with_the_pages_filters(
    core: Core, client: Client
) -> None:
    ids = await seed(core)
    await add_person(core, "bridge", "201", role="mentor")
    await add_person(core, "elsewhere", "301")
    await log_in(client)
    everyone = await client.get("/participants/export.csv")
    assert everyone.status_code == 200
    assert everyone.headers["content-disposition"] == 'attachment; filename="participants.csv"'
    rows = list(csv.reader(io.StringIO(everyone.content.decode("utf-8-sig"))))
    assert rows[0] == ["number", "name", "role", "status", "language", "programme", "waiting_since"]
    assert sorted(row[2] for row in rows[1:]) == ["mentee", "mentor"]  # not the other programme's
    assert str(ids["amina"]) in {row[0] for row in rows[1:]}
    mentors = await client.get("/participants/export.csv?role=mentor")
    assert [row[2] for row in csv.reader(io.StringIO(mentors.text))][1:] == ["mentor"]
    async with core.sessions() as session:
        details = [e.detail for e in await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "export")
        )]  # fmt: skip
    assert details == ["web: 2 participants as csv", "web: 1 participants as csv"]


async def test_the_participants_download_as_an_excel_workbook(core: Core, client: Client) -> None:
    await seed(core)
    await log_in(client)
    response = await client.get("/participants/export.xlsx?role=mentee")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = [list(row) for row in workbook["participants"].iter_rows(values_only=True)]
    workbook.close()
    assert rows[0][0] == "number" and len(rows) == 2 and rows[1][2] == "mentee"
    assert (await client.get("/participants/export.pdf")).status_code == 404
