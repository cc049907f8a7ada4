"""What every page of the dashboard shares: the FastAPI dependencies (the app's core, a database
session, the signed-in coordinator, the CSRF-checked form), the refusals and `render`.

The page modules import this module, never the application's module (app.py): that one
imports them, to include their routers.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from bot import coordination
from bot.core import Core
from bot.language import LazyText, __
from storage.models import Coordinator, Flag, WebSession

SESSION_COOKIE = "mentorbot_session"
LOGIN_CSRF_COOKIE = "mentorbot_login_csrf"
# A cookie named so is refused by the browser unless it is Secure, has Path=/ and no Domain:
# no other host (a sibling subdomain) and no plain-HTTP page can set or overwrite it.
SECURE_PREFIX = "__Host-"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

NOT_FOUND = __("Not found.")
FORM_EXPIRED = __("The form has expired. Reload the page.")
ADMINS_ONLY = __("Only admins can do this.")
Problem = coordination.AccountProblem
ACCOUNT_PROBLEMS: dict[Problem, LazyText] = {
    Problem.NOT_AN_EMAIL: __("This is not an e-mail address."),
    Problem.SHORT_PASSWORD: __("The password needs at least 12 characters."),
    Problem.LONG_PASSWORD: __("The password may have at most 128 characters."),
    Problem.GUESSABLE_PASSWORD: __(
        "This password is too easy to guess. Use a few words that do not belong together."
    ),
    Problem.EMAIL_TAKEN: __("Another coordinator already uses this e-mail address."),
}


def refused(status_code: int, reason: LazyText) -> HTTPException:
    """An error page; its text is translated when shown, in the coordinator's language."""
    return HTTPException(status_code=status_code, detail=reason.message)


class LoginRequired(Exception):
    """No valid session: the browser goes to the log-in page. `ended`: the browser had a
    session cookie, but that log-in is over (idle too long, too old, or logged out)."""

    def __init__(self, ended: bool = False) -> None:
        super().__init__()
        self.ended = ended


def app_core(request: Request) -> Core:
    """The core the app was made with: settings, catalogs, programmes, the database."""
    core: Core = request.app.state.core
    return core


AppCore = Annotated[Core, Depends(app_core)]


async def database(core: AppCore) -> AsyncIterator[AsyncSession]:
    """One session per request; handlers commit what they change before they answer."""
    async with core.sessions() as session:
        yield session


Database = Annotated[AsyncSession, Depends(database)]


def secure_cookies(request: Request) -> bool:
    """Whether this request's cookies are `Secure` (DASHBOARD_SECURE_COOKIE). `auto`: when the
    request came over HTTPS, which behind a trusted proxy is what its X-Forwarded-Proto says
    (`dashboard.app` believes it only from DASHBOARD_TRUSTED_PROXIES)."""
    mode = app_core(request).settings.dashboard_secure_cookie
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def cookie_name(request: Request, name: str) -> str:
    """The cookie's name: `__Host-` prefixed when it is Secure."""
    return SECURE_PREFIX + name if secure_cookies(request) else name


def read_cookie(request: Request, name: str) -> str | None:
    return request.cookies.get(cookie_name(request, name))


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None = None
) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (another site's form or frame never sends
    it; a link followed from an e-mail or Telegram does, so the coordinator lands on the page,
    not on the log-in), Path=/ and no Domain; Secure as `secure_cookies` says."""
    response.set_cookie(
        cookie_name(request, name),
        value,
        max_age=max_age,
        path="/",
        secure=secure_cookies(request),
        httponly=True,
        samesite="lax",
    )


def delete_cookie(response: Response, request: Request, name: str) -> None:
    # A `__Host-` cookie is only replaced by one with the same attributes, its end included.
    response.delete_cookie(
        cookie_name(request, name),
        path="/",
        secure=secure_cookies(request),
        httponly=True,
        samesite="lax",
    )


def client_address(request: Request) -> str | None:
    """The client's address: who connected, or, behind a trusted proxy, whom the proxy names
    (`dashboard.app` applies DASHBOARD_TRUSTED_PROXIES)."""
    return request.client.host if request.client else None


def session_policy(core: Core) -> coordination.SessionPolicy:
    settings = core.settings
    return coordination.SessionPolicy(
        idle=timedelta(minutes=settings.dashboard_session_idle_minutes),
        lifetime=timedelta(hours=settings.dashboard_session_hours),
    )


async def web_session(request: Request, session: Database, core: AppCore) -> WebSession:
    """The log-in of this request's cookie, its idle time started again (committed at once:
    many pages change nothing and do not commit)."""
    token = read_cookie(request, SESSION_COOKIE)
    found = await coordination.session_for(session, token, session_policy(core))
    if found is None:
        raise LoginRequired(ended=token is not None)
    await session.commit()
    request.state.is_admin = await coordination.is_admin(session, found.coordinator)
    request.state.coordinator = found.coordinator  # for error pages in their language
    return found


Signed = Annotated[WebSession, Depends(web_session)]


async def roll_back(session: AsyncSession, signed: WebSession) -> None:
    """Undo a refused change and read the log-in again: a rollback expires every loaded row,
    and the page that says what went wrong still needs the coordinator."""
    await session.rollback()
    await session.refresh(signed)
    await session.refresh(signed.coordinator)


async def checked_form(request: Request, signed: Signed) -> dict[str, str]:
    """The posted form, once its CSRF token matched the session's."""
    form = await request.form()
    given = str(form.get("csrf", ""))
    if not secrets.compare_digest(given.encode(), signed.csrf_token.encode()):
        raise refused(403, FORM_EXPIRED)
    return {key: str(value) for key, value in form.items()}


Form = Annotated[dict[str, str], Depends(checked_form)]


async def logged(
    session: AsyncSession,
    coordinator: Coordinator,
    action: str,
    *,
    programme_id: int | None,
    flag: Flag | None = None,
    detail: str | None = None,
) -> None:
    """What the coordinator did, saw or downloaded in one programme, in the audit log:
    committed, with the rest of the request's changes, before the page or the file goes out."""
    await coordination.audit(
        session, coordinator, action, programme_id=programme_id, flag=flag, detail=detail
    )
    await session.commit()


async def logged_each(
    session: AsyncSession, coordinator: Coordinator, action: str, details: Mapping[int, str]
) -> None:
    """`logged` for a page or a file that covers several programmes: one entry per programme,
    each saying only that programme's part (programme id -> detail)."""
    await coordination.audit_each(session, coordinator, action, details)
    await session.commit()


def attachment(filename: str) -> dict[str, str]:
    """The headers of a download."""
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def render(
    request: Request,
    template: str,
    coordinator: Coordinator | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page in the coordinator's language (English before log-in)."""
    core = app_core(request)
    templates: Jinja2Templates = request.app.state.templates
    language = coordinator.language if coordinator else core.settings.default_language
    with core.catalogs.use(language):
        body = templates.get_template(template).render(
            request=request,
            me=coordinator,
            language=language,
            is_admin=getattr(request.state, "is_admin", False),
            **context,
        )
    return HTMLResponse(body, status_code=status_code)


def signed_page(
    request: Request, signed: WebSession, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page of the signed-in coordinator; its forms carry the session's CSRF token."""
    return render(
        request, template, signed.coordinator, status_code, csrf=signed.csrf_token, **context
    )
