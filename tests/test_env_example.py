"""`.env.example` documents every setting, and its values are valid."""

from __future__ import annotations

import re

from bot.settings import PROJECT_ROOT, Settings, load_settings

EXAMPLE = PROJECT_ROOT / ".env.example"


def test_every_setting_is_documented() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    documented = set(re.findall(r"^#? ?([A-Z][A-Z_]+)=", text, flags=re.MULTILINE))
    assert documented == {name.upper() for name in Settings.model_fields}


def test_example_values_load() -> None:
    values = dict(
        line.split("=", 1)
        for line in EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    settings = load_settings(**{name.lower(): value for name, value in values.items()})
    assert settings.require_token().startswith("123456789:")
