"""Admins' programme pages: see their programmes, change a programme's settings, start a new
programme from one they run. The rules are bot/coordination/programme_admin.py's and
bot/programmes/store.py's; this only words them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot import coordination
from bot.coordination import ProgrammeInvalid, change_programme, create_programme
from bot.core import Core
from bot.language import LazyText, __, language_name
from bot.programmes import (
    MAX_HELP_LINES,
    Problem,
    Programme,
    ProgrammeSettings,
    programme_edits,
)
from dashboard.deps import (
    ADMINS_ONLY,
    NOT_FOUND,
    AppCore,
    Database,
    Form,
    Signed,
    app_core,
    refused,
    signed_page,
)
from storage.models import WebSession

router = APIRouter()
PROBLEMS: dict[Problem, LazyText] = {
    Problem.MISSING: __("This is needed."),
    Problem.UNKNOWN_LANGUAGE: __("Choose only languages from the list."),
    Problem.UNKNOWN_TIMEZONE: __("Unknown time zone. Use a name like Europe/Copenhagen."),
    Problem.OUT_OF_RANGE: __("A whole number of days, from 1 to 14."),
    Problem.INCOMPLETE: __("Each help line needs both a label and a number."),
    Problem.BAD_NUMBER: __(
        "A help line needs a phone number people can call here (such as 112 or 70 201 201) or a "
        "link that starts with https://."
    ),
    Problem.BAD_CODE: __("Use 1 to 64 characters: letters (a to z), digits, - or _."),
    Problem.CODE_TAKEN: __("Another programme uses this code."),
    Problem.SAME_CODES: __("The mentors' code must differ from the mentees' code."),
    Problem.NOT_ALLOWED: __("Choose a programme you are an admin of."),
    Problem.INVALID: __("The programme breaks a rule of its file:"),
}


async def _settings(request: Request, form: dict[str, str]) -> ProgrammeSettings:
    posted = await request.form()  # Starlette keeps the parsed form: checked_form read it
    return ProgrammeSettings(
        name=form.get("name", ""),
        languages=tuple(str(code) for code in posted.getlist("languages")),
        timezone=form.get("timezone", ""),
        coordinator_reply_days=form.get("coordinator_reply_days", ""),
        help_lines=tuple(
            (form.get(f"help_label_{n}", ""), form.get(f"help_number_{n}", ""))
            for n in range(MAX_HELP_LINES)
        ),
    )


def _language_choices(core: Core, chosen: tuple[str, ...]) -> list[tuple[str, str, bool]]:
    """The chosen languages first, in their order (the bot's menu follows it), then the rest."""
    rest = [code for code in core.catalogs.languages if code not in chosen]
    return [(code, language_name(code), code in chosen) for code in (*chosen, *rest)]


def _form_page(
    request: Request,
    signed: WebSession,
    template: str,
    draft: ProgrammeSettings,
    invalid: ProgrammeInvalid | None,
    **context: Any,
) -> Response:
    """A page with the programme settings form; a refused form shows again, with what is wrong
    with each field (422)."""
    return signed_page(
        request, signed, template, 422 if invalid else 200, draft=draft,
        problems=invalid.problems if invalid else {}, detail=str(invalid) if invalid else "",
        texts=PROBLEMS, languages=_language_choices(app_core(request), draft.languages),
        max_lines=MAX_HELP_LINES, **context,
    )  # fmt: skip


async def _page(
    request: Request,
    session: AsyncSession,
    signed: WebSession,
    *,
    draft: ProgrammeSettings | None = None,
    invalid: ProgrammeInvalid | None = None,
    codes: tuple[str, str, str] = ("", "", ""),
) -> Response:
    """The list of the admin's programmes and the form for a new one."""
    core = app_core(request)
    rows = await coordination.admin_programmes(session, signed.coordinator)
    mine = [core.programmes[row.code] for row in rows if row.code in core.programmes]
    if not mine:
        raise refused(403, ADMINS_ONLY)
    edits = await programme_edits(session)
    draft = draft or replace(ProgrammeSettings.of(mine[0]), name="")
    return _form_page(
        request, signed, "programmes.html", draft, invalid, programmes=mine, edits=edits,
        codes=codes,
    )  # fmt: skip


def _programme_page(
    request: Request,
    signed: WebSession,
    programme: Programme,
    *,
    draft: ProgrammeSettings | None = None,
    invalid: ProgrammeInvalid | None = None,
    saved: bool = False,
) -> Response:
    core = app_core(request)
    return _form_page(
        request, signed, "programme.html", draft or ProgrammeSettings.of(programme), invalid,
        programme=programme, saved=saved, reload_seconds=f"{core.settings.dispatch_interval:g}",
    )  # fmt: skip


async def _administered(
    session: AsyncSession, signed: WebSession, core: Core, code: str
) -> Programme:
    """The admin's programme with this code; another programme is "not found"."""
    rows = await coordination.admin_programmes(session, signed.coordinator)
    if not any(row.code == code for row in rows) or code not in core.programmes:
        raise refused(404, NOT_FOUND)
    return core.programmes[code]


@router.get("/admin/programmes", response_class=HTMLResponse)
async def programmes(request: Request, session: Database, signed: Signed) -> Response:
    return await _page(request, session, signed)


@router.post("/admin/programmes", response_class=HTMLResponse)
async def new_programme(
    request: Request, session: Database, signed: Signed, form: Form, core: AppCore
) -> Response:
    draft = await _settings(request, form)
    template, code, mentor_code = (
        form.get("template", ""),
        form.get("code", ""),
        form.get("mentor_code", ""),
    )
    try:
        created = await create_programme(
            session, signed.coordinator, template, code, mentor_code, draft, core.sources,
            core.programmes,
        )  # fmt: skip
    except coordination.NotAdmin:
        raise refused(403, ADMINS_ONLY) from None
    except ProgrammeInvalid as invalid:
        codes = (template, code, mentor_code)
        return await _page(request, session, signed, draft=draft, invalid=invalid, codes=codes)
    await session.commit()
    await core.reload_programmes()
    return RedirectResponse(f"/admin/programmes/{created.code}?saved=1", status_code=303)


@router.get("/admin/programmes/{code}", response_class=HTMLResponse)
async def programme(
    request: Request, code: str, session: Database, signed: Signed, core: AppCore,
    saved: bool = False,
) -> Response:  # fmt: skip
    found = await _administered(session, signed, core, code)
    return _programme_page(request, signed, found, saved=saved)


@router.post("/admin/programmes/{code}", response_class=HTMLResponse)
async def change(
    request: Request, code: str, session: Database, signed: Signed, form: Form, core: AppCore
) -> Response:
    found = await _administered(session, signed, core, code)
    draft = await _settings(request, form)
    try:
        await change_programme(session, signed.coordinator, code, draft, core.sources)
    except ProgrammeInvalid as invalid:
        return _programme_page(request, signed, found, draft=draft, invalid=invalid)
    await session.commit()
    await core.reload_programmes()
    return RedirectResponse(f"/admin/programmes/{code}?saved=1", status_code=303)
