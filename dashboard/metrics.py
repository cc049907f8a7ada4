"""`GET /metrics`: the service's metrics in Prometheus's text format (`bot/monitoring.py` defines
them), and the time every web request takes, by its route's template.

Who may read them: with METRICS_TOKEN set, a scrape that sends `Authorization: Bearer
<token>`; without it, only a client on this machine that connected directly (a reverse proxy
names the client in X-Forwarded-For, so what comes through it is refused). The metrics hold no
personal data, but they tell how busy each programme is and when; the default keeps them off
the internet behind a proxy while `curl http://127.0.0.1:8080/metrics` works.

The request timer labels each request with its route's template (`/participants/{id}`),
never the path asked for or its query (`?q=<a name>`); a request that matched no route is
`unmatched`. At DEBUG it logs the same: method, template, status and duration.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Sequence

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.core import Core
from bot.monitoring import REQUEST_DURATION, UNMATCHED_ROUTE, exposition, may_read

log = logging.getLogger(__name__)

router = APIRouter()

# Prometheus's text format, version 0.0.4: what every Prometheus server reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
"""Headers a reverse proxy adds: a request with one came through a proxy."""

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""HTTP methods kept as they are in the labels; any other is `other` (a label per made-up
method would let a client grow the metrics without end)."""


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    core: Core = request.app.state.core
    secret = core.settings.metrics_token
    token = secret.get_secret_value() if secret is not None else None
    if not may_read(token, request.headers.get("authorization"), _from_this_machine(request)):
        if token is not None:
            return PlainTextResponse(
                "Send the METRICS_TOKEN as Authorization: Bearer <token>.\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return PlainTextResponse(
            "Metrics are read on this machine, or with METRICS_TOKEN set.\n", status_code=403
        )
    await core.update_gauges()
    return Response(exposition(), media_type=CONTENT_TYPE)


def _from_this_machine(request: Request) -> bool:
    """A client on this machine that connected directly, not through a proxy."""
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RequestTimer:
    """Times each HTTP request into `mentorbot_http_request_duration_seconds`."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes  # the app's, as they are when a request comes (serve adds one)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        asked = dict(scope)  # as it came: the router rewrites the path of a mounted app
        started = time.perf_counter()
        status = 500  # unless an answer begins: an exception nobody turned into a page

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            seconds = time.perf_counter() - started
            route = _template(scope, asked, self.routes)
            method = scope["method"] if scope["method"] in METHODS else "other"
            REQUEST_DURATION.labels(method, route, str(status)).observe(seconds)
            log.debug("%s %s %s (%.0f ms)", method, route, status, seconds * 1000)


def _template(answered: Scope, asked: Scope, routes: Sequence[BaseRoute]) -> str:
    """The template of the route that answered: where the router put it (FastAPI's routes),
    else the first route that matches the request as it was `asked` (a plain Starlette route
    such as the webhook, the static files); `unmatched` if none does."""
    found = getattr(answered.get("route"), "path", None)
    if isinstance(found, str):
        return found
    partial = None
    for route in routes:
        match, _ = route.matches(asked)
        if match is Match.FULL:
            return str(getattr(route, "path", UNMATCHED_ROUTE))
        if match is Match.PARTIAL and partial is None:
            partial = str(getattr(route, "path", UNMATCHED_ROUTE))  # e.g. a 405
    return partial or UNMATCHED_ROUTE


def instrument(app: FastAPI) -> None:
    """Time the app's requests and serve `/metrics`. Call it before adding other middleware:
    the timer must sit inside them, next to the router."""
    app.add_middleware(RequestTimer, routes=app.router.routes)
    app.include_router(router)
