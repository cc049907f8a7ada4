"""The dashboard's pages. Thin: each reads the request, calls the core, renders a template."""

from __future__ import annotations

import math
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot import coordination as core
from bot.coordination import message_participant
from bot.language import DASHBOARD_LANGUAGES, __, language_name
from bot.people import due_days, flag_page, names_of
from dashboard.deps import (
    ACCOUNT_PROBLEMS,
    FORM_EXPIRED,
    LOGIN_CSRF_COOKIE,
    NOT_FOUND,
    SESSION_COOKIE,
    AppCore,
    Database,
    Form,
    Signed,
    app_core,
    client_address,
    delete_cookie,
    logged,
    logged_each,
    read_cookie,
    refused,
    render,
    session_policy,
    set_cookie,
    signed_page,
)
from storage.models import Coordinator, Flag, WebSession

router = APIRouter()
OUTCOME_NEEDED = __("Write a short note on the outcome.")
UNKNOWN_LANGUAGE = __("There is no such language.")
WRONG_PASSWORD = __("The current password is not right.")
PASSWORDS_DIFFER = __("The two new passwords are not the same.")
NOTE_NEEDED = __("Write the note first.")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/flags"


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None, ended: bool = False) -> Response:
    token = secrets.token_urlsafe(32)
    page = render(
        request, "login.html", None, csrf=token, next=_safe_next(next), error=None, ended=ended
    )
    set_cookie(page, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return page


@router.post("/login")
async def log_in(request: Request, session: Database) -> Response:
    form = await request.form()
    expected = read_cookie(request, LOGIN_CSRF_COOKIE) or ""
    given = str(form.get("csrf", ""))
    if not expected or not secrets.compare_digest(given.encode(), expected.encode()):
        raise refused(403, FORM_EXPIRED)
    result = await core.check_login(
        session,
        str(form.get("email", "")),
        str(form.get("password", "")),
        address=client_address(request),
        secret=app_core(request).secret,
    )
    target = _safe_next(str(form.get("next", "")))
    if result.coordinator is None:
        await session.commit()
        page = render(
            request, "login.html", None, 429 if result.throttled else 401, csrf=expected,
            next=target, error="throttled" if result.throttled else "wrong", wait=result.wait,
        )  # fmt: skip
        if result.wait:
            page.headers["Retry-After"] = str(math.ceil(result.wait.total_seconds()))
        return page
    policy = session_policy(app_core(request))
    token, _ = await core.open_session(session, result.coordinator, policy)
    await session.commit()
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, request, SESSION_COOKIE, token)
    delete_cookie(response, request, LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def log_out(request: Request, session: Database, _form: Form) -> Response:
    await core.close_session(session, read_cookie(request, SESSION_COOKIE))
    await session.commit()
    response = RedirectResponse("/login", status_code=303)
    delete_cookie(response, request, SESSION_COOKIE)
    return response


@router.get("/")
async def home(_signed: Signed) -> Response:
    return RedirectResponse("/flags", status_code=303)


@router.get("/flags", response_class=HTMLResponse)
async def flag_queue(
    request: Request,
    session: Database,
    signed: Signed,
    programme: Annotated[int | None, Query()] = None,
    category: Annotated[str | None, Query()] = None,
    assignee: Annotated[int | None, Query()] = None,
    info: Annotated[bool, Query()] = False,
    *,
    core_: AppCore,
) -> Response:
    """Open flags, most severe and then oldest first, counted by severity; `info` flags only
    with ?info=1."""
    me = signed.coordinator
    only = core.FlagFilter(
        programme_id=programme, category=category or None, assignee=assignee, info=info
    )
    queue = await core.flag_queue(session, me, only)
    names = await names_of(session, [f.participant_id for f in queue.flags if f.participant_id])
    with core_.catalogs.use(me.language):
        due = await due_days(session, queue.flags, core_.programmes, core_.settings.timezone)
    programmes = await core.programmes_of(session, me)
    labels = await _flag_labels(session, me)
    shown = [p.id for p in programmes if only.programme_id in (None, p.id)]
    found = [flag.programme_id for flag in queue.flags]
    await logged_each(session, me, "view", core.counted(shown, found, "web: {count} open flags"))
    return signed_page(
        request, signed, "flags.html", flags=queue.flags, counts=queue.counts, names=names, due=due,
        only=only, programmes=programmes, **labels,
    )  # fmt: skip


@router.get("/flags/{flag_id}", response_class=HTMLResponse)
async def one_flag(request: Request, flag_id: int, session: Database, signed: Signed) -> Response:
    me = signed.coordinator
    flag = await _own_flag(session, me, flag_id)
    await logged(session, me, "view", programme_id=flag.programme_id, flag=flag)
    return await _flag_page(request, session, signed, flag)


async def _flag_page(
    request: Request,
    session: AsyncSession,
    signed: WebSession,
    flag: Flag,
    template: str = "flag.html",
    status_code: int = 200,
    **more: object,
) -> Response:
    core_ = app_core(request)
    me = signed.coordinator
    with core_.catalogs.use(me.language):
        page = await flag_page(
            session, flag, core_.questionnaires, core_.programmes, core_.settings.timezone,
            core_.clock.now(),
        )  # fmt: skip
    labels = await _flag_labels(session, me)
    return signed_page(
        request, signed, template, status_code, flag=flag, page=page, **labels, **more
    )


@router.post("/flags/{flag_id}/assign")
async def assign(flag_id: int, session: Database, signed: Signed, _form: Form) -> Response:
    await _own_flag(session, signed.coordinator, flag_id)
    await core.take_flag(session, signed.coordinator, flag_id)
    await session.commit()
    return RedirectResponse(f"/flags/{flag_id}", status_code=303)


@router.post("/flags/{flag_id}/note")
async def note(flag_id: int, session: Database, signed: Signed, form: Form) -> Response:
    flag = await _own_flag(session, signed.coordinator, flag_id)
    try:
        await core.add_note(session, signed.coordinator, flag, form.get("note", ""))
    except core.CoordinationError:
        raise refused(400, NOTE_NEEDED) from None
    await session.commit()
    return RedirectResponse(f"/flags/{flag_id}", status_code=303)


@router.post("/flags/{flag_id}/resolve")
async def resolve(
    request: Request, flag_id: int, session: Database, signed: Signed, form: Form
) -> Response:
    """Resolving asks first: without confirm=1 the page shows the outcome and asks "Yes,
    resolve" (the dashboard runs no script, so the question is a page of its own)."""
    flag = await _own_flag(session, signed.coordinator, flag_id)
    outcome = form.get("outcome", "").strip()
    if not outcome:
        raise refused(400, OUTCOME_NEEDED)
    if flag.status == "resolved":
        return RedirectResponse(f"/flags/{flag_id}", status_code=303)
    if form.get("confirm") != "1":
        return await _flag_page(
            request, session, signed, flag, "flag_resolve.html", outcome=outcome[:1000]
        )
    await core.resolve_flag(session, signed.coordinator, flag, outcome)
    await session.commit()
    return RedirectResponse("/flags", status_code=303)


@router.post("/flags/{flag_id}/message")
async def send_message(
    request: Request, flag_id: int, session: Database, signed: Signed, form: Form, core_: AppCore
) -> Response:
    flag = await _own_flag(session, signed.coordinator, flag_id)
    try:
        await message_participant(
            session, signed.coordinator, flag, form.get("text", ""), core_.catalogs, later=True
        )
    except core.CoordinationError as error:
        raise HTTPException(status_code=400, detail=str(error)) from None
    await session.commit()
    return RedirectResponse(f"/flags/{flag_id}", status_code=303)


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(request: Request, signed: Signed) -> Response:
    return _settings(request, signed)


@router.post("/settings", response_class=HTMLResponse)
async def save_settings(
    request: Request, session: Database, signed: Signed, form: Form, core_: AppCore
) -> Response:
    language = form.get("language", "")
    if not core_.catalogs.has(language):
        raise refused(400, UNKNOWN_LANGUAGE)
    signed.coordinator.language = language
    await core.audit_account(session, signed.coordinator, "settings", detail=f"language {language}")
    await session.commit()
    return _settings(request, signed, saved=True)


@router.post("/settings/password", response_class=HTMLResponse)
async def change_password(
    request: Request, session: Database, signed: Signed, form: Form
) -> Response:
    """The coordinator's own new password; their other sessions end."""
    new = form.get("new_password", "")
    if new != form.get("new_password_again", ""):
        return _settings(request, signed, status_code=422, problem=PASSWORDS_DIFFER)
    try:
        changed = await core.change_own_password(
            session, signed, form.get("current_password", ""), new
        )
    except core.AccountError as error:
        return _settings(request, signed, status_code=422, problem=ACCOUNT_PROBLEMS[error.problem])
    if not changed:
        return _settings(request, signed, status_code=422, problem=WRONG_PASSWORD)
    await session.commit()
    return _settings(request, signed, saved=True, password_changed=True)


def _settings(
    request: Request, signed: Signed, status_code: int = 200, **shown: object
) -> Response:
    """The coordinator's language (the dashboard's and that of the bot's messages to them),
    and their password."""
    core_ = app_core(request)
    choices = [(code, language_name(code)) for code in core_.catalogs.languages]
    return signed_page(
        request, signed, "settings.html", status_code, choices=choices,
        full={"en", *DASHBOARD_LANGUAGES},
        **{"saved": False, "password_changed": False, "problem": None, **shown},
    )  # fmt: skip


async def _own_flag(session: Database, me: Coordinator, flag_id: int) -> Flag:
    """Another programme's flag is "not found", as if it did not exist."""
    try:
        return await core.own_flag(session, me, flag_id)
    except core.CoordinationError:
        raise refused(404, NOT_FOUND) from None


async def _flag_labels(session: AsyncSession, me: Coordinator) -> dict[str, Any]:
    """What the flag pages name a flag's parts with: the colleagues who may take it (by id, in
    the order of their names), its category and its severity."""
    found: dict[int, Coordinator] = {}
    for programme_id in await core.programme_ids(session, me):
        for colleague in await core.coordinators_of(session, programme_id):
            found[colleague.id] = colleague
    colleagues = sorted(found.values(), key=lambda c: c.name)
    return {
        "colleagues": {c.id: c.name for c in colleagues},
        "categories": core.CATEGORY_LABELS,
        "severities": core.SEVERITY_LABELS,
    }
