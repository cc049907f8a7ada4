"""Choosing one's own password with a one-time code from an admin (or from the operator at the
command line): e-mail, code, new password. Before any log-in, so the form's CSRF token is
checked against a cookie, as on the log-in page. The code is posted, never put in a URL
(addresses end up in access logs and browser histories)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot import coordination
from bot.language import LazyText, __
from dashboard.deps import (
    ACCOUNT_PROBLEMS,
    FORM_EXPIRED,
    LOGIN_CSRF_COOKIE,
    Database,
    read_cookie,
    refused,
    render,
    set_cookie,
)

router = APIRouter()
CODE_REFUSED = __(
    "This e-mail and code do not go together, or the code was used or is more than a day old. "
    "Ask your admin for a new code."
)
PASSWORDS_DIFFER = __("The two new passwords are not the same.")


def _page(request: Request, status_code: int = 200, problem: LazyText | None = None) -> Response:
    """The form (its fields empty after a refused try), with a fresh CSRF token, also set as a
    cookie: the log-in page's way, as there is no session yet."""
    token = secrets.token_urlsafe(32)
    page = render(
        request, "set_password.html", None, status_code, csrf=token, problem=problem, done=False
    )
    set_cookie(page, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return page


@router.get("/login/set-password", response_class=HTMLResponse)
async def set_password_page(request: Request) -> Response:
    return _page(request)


@router.post("/login/set-password", response_class=HTMLResponse)
async def set_password(request: Request, session: Database) -> Response:
    form = await request.form()
    expected = read_cookie(request, LOGIN_CSRF_COOKIE) or ""
    given = str(form.get("csrf", ""))
    if not expected or not secrets.compare_digest(given.encode(), expected.encode()):
        raise refused(403, FORM_EXPIRED)
    password = str(form.get("password", ""))
    if password != str(form.get("password_again", "")):
        return _page(request, 422, PASSWORDS_DIFFER)
    try:
        await coordination.use_login_code(
            session, str(form.get("email", "")), str(form.get("code", "")), password
        )
    except coordination.LoginCodeRefused:
        await session.commit()  # the refusal is in the account's audit log
        return _page(request, 422, CODE_REFUSED)
    except coordination.AccountError as error:
        return _page(request, 422, ACCOUNT_PROBLEMS[error.problem])
    await session.commit()
    return render(request, "set_password.html", None, done=True, problem=None)
