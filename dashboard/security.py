"""What every response of the dashboard carries, and what every form post must show.

The headers come from the `secure` package: no page may run a script or be framed, nothing is
cached (every page may hold personal data, and so do the downloads), no address leaves the
site in a Referer. A form posted from another site is refused by its `Origin` before any route
runs; the CSRF token in every form is the second lock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

import secure

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The pages use one style sheet from /static and inline SVG; no script, font, image or frame.
CONTENT_SECURITY_POLICY = (
    secure.ContentSecurityPolicy()
    .default_src("'none'")
    .style_src("'self'")
    .img_src("'self'")
    .form_action("'self'")
    .frame_ancestors("'none'")
    .base_uri("'none'")
)
HEADERS = secure.Secure(
    csp=CONTENT_SECURITY_POLICY,
    xcto=secure.XContentTypeOptions(),
    xfo=secure.XFrameOptions().deny(),
    referrer=secure.ReferrerPolicy().same_origin(),
    cache=secure.CacheControl().no_store(),
    coop=secure.CrossOriginOpenerPolicy().same_origin(),
    corp=secure.CrossOriginResourcePolicy().same_origin(),
)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SameOriginForms:
    """Refuses (403) a POST whose `Origin` names another site, or "null" (a sandboxed frame or
    a redirect across sites). Browsers send `Origin` with every form post; a request without
    one (not a browser) still needs the CSRF token. The site is the request's `Host`, so a
    reverse proxy must pass it on unchanged (README, Web dashboard)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            headers = dict(scope["headers"])
            origin = headers.get(b"origin", b"").decode("latin-1")
            host = headers.get(b"host", b"").decode("latin-1")
            if origin and (origin == "null" or urlsplit(origin).netloc != host):
                await _forbidden(send)
                return
        await self.app(scope, receive, send)


async def _forbidden(send: Send) -> None:
    body = b"This form was sent from another site."
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
