"""A Bot API request as it arrives: its parameters read, decoded and checked against the spec.

aiogram sends query strings, form fields (nested objects JSON-encoded), multipart uploads
(attached by ``attach://<part>``) or a JSON body; Telegram accepts all of them and so does the
fake. What Telegram would refuse here raises ``BotAPIError`` with Telegram's wording.
"""

from __future__ import annotations

from aiohttp import web

from ..bot_api_checks import bad_request
from ..bot_api_spec import BotAPISpec, MethodSpec, UploadedFile
from .records import JSON

_MISSING_FIELD_ERRORS = {("sendMessage", "text"): "message text is empty"}
"""Telegram's wording where it differs from "<field> is required".

aiogram drops empty strings from the form, so an empty text arrives as a missing one; Telegram
answers both with "message text is empty".
"""


async def read_request(
    request: web.Request,
) -> tuple[dict[str, str], JSON, dict[str, UploadedFile]]:
    """Split a request into string parameters (query, form), typed ones (JSON) and files."""
    strings: dict[str, str] = dict(request.query)
    typed: JSON = {}
    uploads: dict[str, UploadedFile] = {}
    if not request.body_exists:
        return strings, typed, uploads
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise bad_request("request body must be a JSON object")
        typed.update(body)
        return strings, typed, uploads
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            uploads[key] = UploadedFile(
                name=key,
                filename=value.filename,
                content_type=value.content_type,
                data=value.file.read(),
            )
        else:
            strings[key] = value if isinstance(value, str) else bytes(value).decode()
    return strings, typed, uploads


def decode_params(
    api: BotAPISpec,
    spec: MethodSpec,
    strings: dict[str, str],
    typed: JSON,
    uploads: dict[str, UploadedFile],
) -> JSON:
    """Typed parameters: form strings decoded per the spec, ``attach://`` files resolved."""
    params: JSON = {}
    for key, value in strings.items():
        field_spec = spec.fields.get(key)
        params[key] = api.decode_form_value(value, field_spec.types) if field_spec else value
    params.update(typed)
    attached: set[str] = set()
    for key, value in params.items():
        if isinstance(value, str) and value.startswith("attach://"):
            part = value.removeprefix("attach://")
            if part in uploads:
                params[key] = uploads[part]
                attached.add(part)
    params.update({name: f for name, f in uploads.items() if name not in attached})
    return params


def validate_params(api: BotAPISpec, spec: MethodSpec, params: JSON) -> None:
    """Unknown, missing and ill-typed parameters, checked against the spec."""
    unknown = [key for key in params if key not in spec.fields]
    if unknown:
        raise bad_request(
            f'unknown parameter "{unknown[0]}"',
            detail=f"{spec.name} has no parameter(s) {', '.join(unknown)}",
        )
    for field_spec in spec.fields.values():
        if field_spec.required and field_spec.name not in params:
            wording = _MISSING_FIELD_ERRORS.get((spec.name, field_spec.name))
            raise bad_request(wording or f"{field_spec.name} is required")
    for key, value in params.items():
        errors = api.type_errors(value, spec.fields[key].types, key)
        if errors:
            raise bad_request(f"can't parse {key}: {errors[0]}", detail="; ".join(errors))
