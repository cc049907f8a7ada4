"""The coordinators' web dashboard: FastAPI, server-rendered Jinja2 pages, the same database and
the same core functions as the bot (no second copy of any rule).

Every page needs a log-in; every object is looked up through the coordinator's own programmes,
so another programme's flag or participant is "not found". Every form carries the session's
CSRF token and must come from this site (`dashboard.security`, which also sets the security
headers of every response). The session cookie is HttpOnly and SameSite=Strict.

This module only builds the application: templates, error pages, the routers of the page
modules. What the pages share (log-in, database session, forms, `render`) is `dashboard.deps`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from secure.middleware import SecureASGIMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import coordination
from bot.core import Core
from bot.language import _, kept_day, listing, local_day, local_moment, ngettext
from dashboard import admin, pages, people, programmes, results
from dashboard.deps import NOT_FOUND, SESSION_COOKIE, LoginRequired, render
from dashboard.security import HEADERS, SameOriginForms

HERE = Path(__file__).parent


def create_templates(timezone: str) -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    # Moments in the TIMEZONE setting, written the way the page's language writes them.
    zone = ZoneInfo(timezone)
    templates.env.filters["moment"] = lambda moment: local_moment(moment, zone)
    templates.env.filters["day"] = lambda moment: local_day(moment, zone)
    # A moment, or the day only where the time was kept to the day (an anonymous flag's):
    # `{{ at|when(flag.anonymous) }}`, and `stamp` for a <time datetime="…">.
    templates.env.filters["when"] = lambda moment, day_only: (
        kept_day(moment) if day_only else local_moment(moment, zone)
    )
    templates.env.filters["stamp"] = lambda moment, day_only: (
        moment.date().isoformat() if day_only else moment.isoformat()
    )
    templates.env.filters["listing"] = listing  # "ar, da og uk": as the page's language lists
    # `_` translates in the language made active for the request (bot.i18n's context variable).
    templates.env.add_extension("jinja2.ext.i18n")
    templates.env.install_gettext_callables(gettext=_, ngettext=ngettext, newstyle=False)  # type: ignore[attr-defined]
    return templates


def create_app(core: Core) -> FastAPI:
    app = FastAPI(title="mentorbot dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.core = core
    app.state.templates = create_templates(core.settings.timezone)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # The last added runs first: the headers go on every answer, the refusal of a foreign form too.
    app.add_middleware(SameOriginForms)
    app.add_middleware(SecureASGIMiddleware, secure=HEADERS)

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

    # The routes, one module per area.
    app.include_router(people.router)  # before pages: its participant page replaces the old one
    app.include_router(pages.router)
    app.include_router(results.router)
    app.include_router(admin.router)
    app.include_router(programmes.router)
    return app
