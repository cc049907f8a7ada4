"""Admins' pages: the audit log of their programmes, and their programmes' coordinators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot import coordination
from bot.coordination import AccountError
from bot.language import LazyText, __, language_name
from dashboard.deps import (
    ACCOUNT_PROBLEMS,
    ADMINS_ONLY,
    NOT_FOUND,
    Database,
    Form,
    Signed,
    app_core,
    refused,
    roll_back,
    signed_page,
)
from storage.models import Coordinator, WebSession
from storage.models import Programme as ProgrammeRow

router = APIRouter()
NOT_ADMIN_HERE = __("You are not an admin of this programme.")
LOGIN_NOT_YOURS = __(
    "This person also works in a programme you are not an admin of: only an admin of all their "
    "programmes can change their log-in."
)
OWNERS_LOGIN = __("This person is a site owner: only a site owner can change their log-in.")
LAST_ADMIN = __("A programme needs at least one admin: make someone else its admin first.")
COLLEAGUE_PROBLEMS: dict[str, LazyText] = {
    "name": __("Write the coordinator's name."),
    "role": __("Choose a role from the list."),
}
# What each audit entry's action means; an action not listed here shows as its code.
ACTIONS: dict[str, LazyText] = {
    "view": __("looked at"),
    "export": __("downloaded or exported"),
    "assign": __("took a flag"),
    "note": __("wrote a note"),
    "message": __("wrote to a participant"),
    "resolve": __("resolved a flag"),
    "match": __("matched a pair"),
    "end_match": __("ended a match"),
    "extend_match": __("extended a match"),
    "invite": __("invited a coordinator"),
    "link": __("linked Telegram"),
    "add_coordinator": __("added a coordinator"),
    "set_role": __("changed a coordinator's access"),
    "set_login": __("set a web log-in"),
    "issue_login_code": __("gave a one-time log-in code"),
    "use_login_code": __("chose a password with a one-time code"),
    "login_code_refused": __("a one-time log-in code was refused"),
    "make_site_owner": __("made a site owner"),
    "remove_site_owner": __("no longer a site owner"),
    "change_password": __("changed their password"),
    "login": __("logged in"),
    "login_failed": __("failed to log in"),
    "locked": __("was locked out"),
    "logout": __("logged out"),
    "settings": __("changed their settings"),
    "change_programme": __("changed a programme"),
    "create_programme": __("started a programme"),
}


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    session: Database,
    signed: Signed,
    action: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    try:
        rows = await coordination.audit_log(
            session, signed.coordinator, action=action or None, page=page
        )
    except coordination.NotAdmin:
        raise refused(403, ADMINS_ONLY) from None
    return signed_page(
        request, signed, "audit.html", rows=rows, action=action or "", actions=ACTIONS, page=page,
        more=len(rows) == coordination.PAGE_SIZE,
    )  # fmt: skip


async def _coordinators_page(
    request: Request,
    session: Database,
    signed: Signed,
    error: LazyText | None = None,
    added: str | None = None,
    code: str | None = None,
    login_code: str | None = None,
) -> Response:
    """The admin's colleagues. `code`: a new colleague's Telegram invite code; `login_code`: a
    one-time log-in code for `added`, shown on this page only, once."""
    try:
        people = await coordination.colleagues(session, signed.coordinator)
    except coordination.NotAdmin:
        raise refused(403, ADMINS_ONLY) from None
    programmes = await coordination.admin_programmes(session, signed.coordinator)
    await session.commit()
    languages = [(code, language_name(code)) for code in app_core(request).catalogs.languages]
    return signed_page(
        request, signed, "coordinators.html", people=people, programmes=programmes,
        languages=languages, error=error, added=added, code=code, login_code=login_code,
        valid_hours=int(coordination.CODE_VALID.total_seconds() // 3600),
    )  # fmt: skip


async def _refusal(
    request: Request, session: AsyncSession, signed: WebSession, problem: LazyText
) -> Response:
    """A refused change undone, and the page again, saying why."""
    await roll_back(session, signed)
    return await _coordinators_page(request, session, signed, error=problem)


async def _chosen_programme(
    session: AsyncSession, signed: WebSession, form: dict[str, str]
) -> ProgrammeRow:
    """The form's programme, if the admin is an admin of it."""
    programmes = {p.id: p for p in await coordination.admin_programmes(session, signed.coordinator)}
    programme = programmes.get(int(form.get("programme", "0") or 0))
    if programme is None:
        raise refused(403, NOT_ADMIN_HERE)
    return programme


@router.get("/admin/coordinators", response_class=HTMLResponse)
async def coordinators(request: Request, session: Database, signed: Signed) -> Response:
    return await _coordinators_page(request, session, signed)


@router.post("/admin/coordinators", response_class=HTMLResponse)
async def add_coordinator(
    request: Request, session: Database, signed: Signed, form: Form
) -> Response:
    programme = await _chosen_programme(session, signed, form)
    try:
        added = await coordination.add_colleague(
            session, signed.coordinator, programme, form.get("name", ""),
            form.get("role", "coordinator"), form.get("language", "en"),
            form.get("email") or None,
        )  # fmt: skip
    except coordination.ColleagueInvalid as invalid:
        return await _refusal(request, session, signed, COLLEAGUE_PROBLEMS[invalid.field])
    except AccountError as error:
        return await _refusal(request, session, signed, ACCOUNT_PROBLEMS[error.problem])
    await session.commit()
    return await _coordinators_page(
        request, session, signed, added=added.coordinator.name, code=added.invite_code,
        login_code=added.login_code,
    )  # fmt: skip


async def _colleague(session: AsyncSession, signed: WebSession, coordinator_id: int) -> Coordinator:
    """A coordinator of one of the admin's programmes; anyone else is "not found"."""
    colleague = await session.get(Coordinator, coordinator_id)
    try:
        allowed = colleague is not None and await coordination.shares_a_programme(
            session, signed.coordinator, colleague
        )
    except coordination.NotAdmin:
        allowed = False
    if colleague is None or not allowed:
        raise refused(404, NOT_FOUND)
    return colleague


@router.post("/admin/coordinators/{coordinator_id}/role", response_class=HTMLResponse)
async def change_role(
    request: Request, coordinator_id: int, session: Database, signed: Signed, form: Form
) -> Response:
    colleague = await _colleague(session, signed, coordinator_id)
    programme = await _chosen_programme(session, signed, form)
    role = form.get("role", "")
    try:
        await coordination.set_role(
            session, signed.coordinator, colleague, programme, None if role == "none" else role
        )
    except coordination.LastAdmin:
        return await _refusal(request, session, signed, LAST_ADMIN)
    except coordination.ColleagueInvalid as invalid:
        return await _refusal(request, session, signed, COLLEAGUE_PROBLEMS[invalid.field])
    await session.commit()
    if colleague.id == signed.coordinator.id:  # they may have given up being an admin here
        return RedirectResponse("/admin/coordinators", status_code=303)
    return await _coordinators_page(request, session, signed, added=colleague.name)


@router.post("/admin/coordinators/{coordinator_id}/login", response_class=HTMLResponse)
async def reset_login(
    request: Request, coordinator_id: int, session: Database, signed: Signed, form: Form
) -> Response:
    """A colleague's e-mail, and a one-time code for them to choose their own password: the
    page shows it once (the answer to this POST; never in a URL). A password in the form is
    ignored: nobody chooses one for someone else."""
    colleague = await _colleague(session, signed, coordinator_id)
    not_yours = OWNERS_LOGIN if colleague.site_owner else LOGIN_NOT_YOURS
    try:
        login_code = await coordination.reset_colleague_login(
            session, signed.coordinator, colleague, form.get("email", "")
        )
    except coordination.NotAdmin:
        await roll_back(session, signed)
        raise refused(403, not_yours) from None
    except AccountError as error:
        return await _refusal(request, session, signed, ACCOUNT_PROBLEMS[error.problem])
    await session.commit()
    return await _coordinators_page(
        request, session, signed, added=colleague.name, login_code=login_code
    )
