"""The web server (uvicorn) that `serve` and `dashboard` run, with its options in one place, and
the socket it listens on, bound before anything else starts so that a port in use is one line.
"""

from __future__ import annotations

import socket
from typing import Any

import uvicorn

from bot.settings import Settings, SettingsError

SHUTDOWN_GRACE = 10  # seconds for the requests in hand to finish when the server stops


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to HOST:PORT; a one-line error if it cannot be."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        listening = socket.socket(family, kind, protocol)
    except OSError as error:
        raise SettingsError(f"HOST is invalid: cannot listen on {host!r} ({error})") from None
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
    except OSError as error:
        listening.close()
        raise SettingsError(
            f"cannot listen on {host}:{port}: {error.strerror or error}; "
            "is another service using it? Set HOST and PORT"
        ) from None
    return listening


def web_server(app: Any, settings: Settings) -> uvicorn.Server:
    """uvicorn serving `app` (an ASGI application); run it with `serve(sockets=[listen(…)])`."""
    config = uvicorn.Config(
        app,
        log_level=settings.log_level.lower(),
        # Its records go to the handler `main()` set up (LOG_FORMAT, bot/cli/logs.py); uvicorn's
        # own configuration would give its loggers a plain-text handler of their own.
        log_config=None,
        # The app itself believes X-Forwarded-For and -Proto from DASHBOARD_TRUSTED_PROXIES only;
        # uvicorn on its own would believe them from 127.0.0.1.
        proxy_headers=False,
        # uvicorn's access log would write every client's address (personal data) with the path
        # and its query (`?q=<a name>`). The app logs method, route template and status instead
        # (dashboard/metrics.py, at DEBUG).
        access_log=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )
    return uvicorn.Server(config)
