"""The coordinators' web dashboard: FastAPI, server-rendered Jinja2 pages, the same database and
the same core functions as the bot (no second copy of any rule).

Every page needs a log-in; every object is looked up through the coordinator's own programmes,
so another programme's flag or participant is "not found". Every form carries the session's
CSRF token. The session cookie is HttpOnly and SameSite=Strict.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import coordination
from bot.core import Core
from bot.language import LazyText, _, __, local_day, local_moment, ngettext
from storage.models import Coordinator, WebSession

HERE = Path(__file__).parent
SESSION_COOKIE = "mentorbot_session"
LOGIN_CSRF_COOKIE = "mentorbot_login_csrf"


NOT_FOUND = __("Not found.")
FORM_EXPIRED = __("The form has expired. Reload the page.")


def refused(status_code: int, reason: LazyText) -> HTTPException:
    """An error page; its text is translated when shown, in the coordinator's language."""
    return HTTPException(status_code=status_code, detail=reason.message)


class LoginRequired(Exception):
    """No valid session: the browser goes to the log-in page."""


def create_templates(timezone: str) -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    # Moments in the TIMEZONE setting, written the way the page's language writes them.
    zone = ZoneInfo(timezone)
    templates.env.filters["moment"] = lambda moment: local_moment(moment, zone)
    templates.env.filters["day"] = lambda moment: local_day(moment, zone)
    # `_` translates in the language made active for the request (bot.i18n's context variable).
    templates.env.add_extension("jinja2.ext.i18n")
    templates.env.install_gettext_callables(gettext=_, ngettext=ngettext, newstyle=False)  # type: ignore[attr-defined]
    return templates


def create_app(core: Core) -> FastAPI:
    app = FastAPI(title="mentorbot dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.core = core
    app.state.templates = create_templates(core.settings.timezone)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _error: LoginRequired) -> Response:
        target = quote(request.url.path, safe="/")
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def as_page(request: Request, error: StarletteHTTPException) -> Response:
        who = getattr(request.state, "coordinator", None)
        if who is None and SESSION_COOKIE in request.cookies:
            # No page ran (an unknown address): the log-in still sets the page's language.
            async with core.sessions() as session:
                found = await coordination.session_for(session, request.cookies[SESSION_COOKIE])
            who = found.coordinator if found else None
        detail = error.detail
        if error.status_code == 404 and detail == "Not Found":  # Starlette's own, untranslated
            detail = NOT_FOUND.message
        return render(request, "error.html", who, error.status_code, status=error.status_code,
                      detail=detail)  # fmt: skip

    # The routes, one module per area; imported here, as they import this module.
    from dashboard import admin, pages, people, programmes, results

    app.include_router(people.router)  # before pages: its participant page replaces the old one
    app.include_router(pages.router)
    app.include_router(results.router)
    app.include_router(admin.router)
    app.include_router(programmes.router)
    return app


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


async def web_session(request: Request, session: Database) -> WebSession:
    found = await coordination.session_for(session, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise LoginRequired
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
