"""The coordinators' web dashboard: FastAPI, server-rendered Jinja2 pages, the same database and
the same core functions as the bot (no second copy of any rule).

Every page needs a log-in; every object is looked up through the coordinator's own programmes,
so another programme's flag or participant is "not found". Every form carries the session's
CSRF token and must come from this site (`dashboard.security`, which also sets the security
headers of every response). The session cookie is HttpOnly and SameSite=Lax, and over HTTPS
Secure with the `__Host-` prefix (`dashboard.deps.set_cookie`). Behind a reverse proxy named in
DASHBOARD_TRUSTED_PROXIES, the client's address and scheme are the ones the proxy gives.

This module only builds the application: templates, error pages, the routers of the page
modules. What the pages share (log-in, database session, forms, `render`) is `dashboard.deps`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from secure.middleware import SecureASGIMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot import coordination
from bot.core import Core
from bot.health import Readiness
from bot.language import _, kept_day, listing, local_day, local_moment, ngettext, wait_in_minutes
from dashboard import admin, health, metrics, pages, people, programmes, results, set_password
from dashboard.deps import (
    NOT_FOUND,
    SESSION_COOKIE,
    LoginRequired,
    delete_cookie,
    read_cookie,
    render,
)
from dashboard.security import HEADERS, SameOriginForms

HERE = Path(__file__).parent


def create_templates(timezone: str) -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    # Moments in the TIMEZONE setting, written the way the page's language writes them.
    zone = ZoneInfo(timezone)
    templates.env.filters["moment"] = lambda moment: local_moment(moment, zone)
    templates.env.filters["day"] = lambda moment: local_day(moment, zone)
    templates.env.filters["minutes"] = wait_in_minutes  # "2 minutes", "2 minutter", rounded up
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


def return_path(request: Request) -> str:
    """Where to go back to after the log-in: the page asked for; for a form sent after the
    log-in ended, the page the form was on (its address is not a page of its own)."""
    if request.method in ("GET", "HEAD"):
        return request.url.path
    referrer = urlsplit(request.headers.get("referer", ""))
    if referrer.netloc == request.headers.get("host") and referrer.path.startswith("/"):
        return referrer.path
    return "/flags"


def create_app(core: Core, readiness: Readiness | None = None) -> FastAPI:
    """The dashboard; with `readiness` (as `serve` builds it), the health endpoints too."""
    app = FastAPI(title="mentorbot dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.core = core
    app.state.templates = create_templates(core.settings.timezone)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # GET /metrics, and the request timer, innermost: next to the router, it sees the route.
    metrics.instrument(app)
    # The last added runs first: the headers go on every answer, the refusal of a foreign form too.
    app.add_middleware(SameOriginForms)
    app.add_middleware(SecureASGIMiddleware, secure=HEADERS)

    if core.settings.trusted_proxies():
        # Outermost: the client's address and scheme, as the proxy gives them, for every page.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=core.settings.trusted_proxies())

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, error: LoginRequired) -> Response:
        target = quote(return_path(request), safe="/")
        ended = "&ended=1" if error.ended else ""
        response = RedirectResponse(f"/login?next={target}{ended}", status_code=303)
        if error.ended:
            delete_cookie(response, request, SESSION_COOKIE)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def as_page(request: Request, error: StarletteHTTPException) -> Response:
        who = getattr(request.state, "coordinator", None)
        token = read_cookie(request, SESSION_COOKIE)
        if who is None and token is not None:
            # No page ran (an unknown address): the log-in still sets the page's language.
            async with core.sessions() as session:
                found = await coordination.session_for(session, token)
            who = found.coordinator if found else None
        detail = error.detail
        if error.status_code == 404 and detail == "Not Found":  # Starlette's own, untranslated
            detail = NOT_FOUND.message
        return render(request, "error.html", who, error.status_code, status=error.status_code,
                      detail=detail)  # fmt: skip

    # The routes, one module per area.
    app.include_router(people.router)  # before pages: its participant page replaces the old one
    app.include_router(pages.router)
    app.include_router(set_password.router)
    app.include_router(results.router)
    app.include_router(admin.router)
    app.include_router(programmes.router)
    if readiness is not None:
        app.state.readiness = readiness
        app.include_router(health.router)
    return app
