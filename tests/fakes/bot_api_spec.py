"""The published Bot API description, used by the fake server to judge every call.

The fake server must not accept what the real Telegram would refuse, otherwise end-to-end
tests pass while production fails. Rather than hand-copying field lists (which go stale), the
fake reads the machine-readable spec in ``<root>/shared/telegram-bot-api/api.min.json`` and
checks method names, required and unknown parameters, and the shape of nested objects such as
``reply_markup`` against it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

SPEC_ENV_VAR = "MENTORBOT_BOT_API_SPEC"
"""Environment variable that overrides where the spec file is read from."""


@dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded in a multipart request (kept so tests can inspect it)."""

    name: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class FieldSpec:
    """One parameter of a method or one field of an object type."""

    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class TypeSpec:
    """An object type: either a plain object with fields or a union of subtypes."""

    name: str
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    subtypes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MethodSpec:
    """A Bot API method and its parameters."""

    name: str
    fields: dict[str, FieldSpec]


SHARED_SPEC = Path(__file__).resolve().parents[3] / "shared" / "telegram-bot-api" / "api.min.json"
VENDORED_SPEC = Path(__file__).resolve().parent / "telegram-bot-api" / "api.min.json"


def default_spec_path() -> Path:
    """Where the spec lives: ``$MENTORBOT_BOT_API_SPEC``, else the copy beside this file.

    The copy (MIT, see its LICENSE) keeps the suite runnable in any checkout; a test keeps it
    equal to the project's shared one (``<root>/shared/...``) where that exists.
    """
    override = os.environ.get(SPEC_ENV_VAR)
    if override:
        return Path(override)
    return VENDORED_SPEC


def _field_specs(raw_fields: list[dict[str, Any]]) -> dict[str, FieldSpec]:
    return {
        raw["name"]: FieldSpec(
            name=raw["name"], types=tuple(raw["types"]), required=bool(raw["required"])
        )
        for raw in raw_fields
    }


def load_spec(path: Path | None = None) -> BotAPISpec:
    """Parse the spec once per path; every server in a test run shares the result."""
    return _load_spec((path or default_spec_path()).resolve())


@lru_cache(maxsize=4)
def _load_spec(spec_path: Path) -> BotAPISpec:
    if not spec_path.is_file():
        msg = (
            f"Bot API spec not found at {spec_path}; the fake Telegram server needs it. "
            f"Set {SPEC_ENV_VAR} to the path of api.min.json."
        )
        raise FileNotFoundError(msg)
    raw = json.loads(spec_path.read_text(encoding="utf-8"))
    methods = {
        name: MethodSpec(name=name, fields=_field_specs(body.get("fields", [])))
        for name, body in raw["methods"].items()
    }
    types = {
        name: TypeSpec(
            name=name,
            fields=_field_specs(body.get("fields", [])),
            subtypes=tuple(body.get("subtypes", ())),
        )
        for name, body in raw["types"].items()
    }
    return BotAPISpec(version=raw.get("version", "?"), methods=methods, types=types)


@dataclass(frozen=True)
class BotAPISpec:
    """Lookup and validation helpers over the parsed spec."""

    version: str
    methods: dict[str, MethodSpec]
    types: dict[str, TypeSpec]

    def method(self, name: str) -> MethodSpec | None:
        """Find a method; Telegram treats method names case-insensitively."""
        found = self.methods.get(name)
        if found is not None:
            return found
        lowered = name.lower()
        return next((m for key, m in self.methods.items() if key.lower() == lowered), None)

    def decode_form_value(self, raw: str, types: tuple[str, ...]) -> Any:
        """Turn a form-data string back into the value the client meant.

        aiogram (like most clients) sends every parameter as a string: numbers and booleans
        JSON-encoded, objects such as ``reply_markup`` as JSON text, plain strings as is. So a
        value is JSON-decoded unless the parameter is a string, or the decoded value does not
        fit any declared type while a string would (``chat_id="@channel"``, a file id).
        """
        if types == ("String",):
            return raw
        try:
            candidate = json.loads(raw)
        except ValueError:
            return raw
        if "String" in types and self.type_errors(candidate, types, ""):
            return raw
        return candidate

    def type_errors(self, value: Any, types: tuple[str, ...], path: str) -> list[str]:
        """Errors of ``value`` against a union of type expressions; empty if one fits.

        When no alternative fits, the errors of the closest one (fewest errors) are reported,
        which for ``reply_markup`` is the keyboard type the bot evidently meant.
        """
        best: list[str] | None = None
        for type_expr in types:
            errors = self._errors_for(value, type_expr, path)
            if not errors:
                return []
            if best is None or len(errors) < len(best):
                best = errors
        return best or []

    def _errors_for(self, value: Any, type_expr: str, path: str) -> list[str]:
        where = path or "value"
        if type_expr.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{where} must be an array"]
            inner = type_expr.removeprefix("Array of ")
            return [
                error
                for index, item in enumerate(value)
                for error in self._errors_for(item, inner, f"{path}[{index}]")
            ]
        scalar_checks = {
            "String": lambda v: isinstance(v, str),
            "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "Boolean": lambda v: isinstance(v, bool),
            "True": lambda v: v is True,
            "InputFile": lambda v: isinstance(v, UploadedFile),
        }
        if type_expr in scalar_checks:
            return [] if scalar_checks[type_expr](value) else [f"{where} must be {type_expr}"]
        type_spec = self.types.get(type_expr)
        if type_spec is None:
            return []  # a type the spec does not describe: nothing to check against
        if type_spec.subtypes:
            return self.type_errors(value, type_spec.subtypes, path)
        return self._object_errors(value, type_spec, path)

    def _object_errors(self, value: Any, type_spec: TypeSpec, path: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{path or 'value'} must be a JSON object ({type_spec.name})"]
        prefix = f"{path}." if path else ""
        errors = [
            f"{prefix}{key} is not a field of {type_spec.name}"
            for key in value
            if key not in type_spec.fields
        ]
        for name, spec in type_spec.fields.items():
            if name not in value:
                if spec.required:
                    errors.append(f"{prefix}{name} is required in {type_spec.name}")
                continue
            errors.extend(self.type_errors(value[name], spec.types, f"{prefix}{name}"))
        return errors
