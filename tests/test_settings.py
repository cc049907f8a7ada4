"""Settings: defaults that work, and one clear line naming a bad setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import PROJECT_ROOT, SettingsError, load_settings


def test_defaults_give_a_working_local_system() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///mentorbot.db"
    assert settings.telegram_api_base_url == "https://api.telegram.org"
    assert settings.telegram_bot_token is None


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TIMEZONE=Europe/Oslo\nDEFAULT_LANGUAGE=da\n")
    settings = load_settings()
    assert (settings.timezone, settings.default_language) == ("Europe/Oslo", "da")


def test_plain_database_urls_get_the_async_driver() -> None:
    assert load_settings(database_url="postgresql://u:p@h/db").database_url == (
        "postgresql+asyncpg://u:p@h/db"
    )
    assert load_settings(database_url="sqlite:///x.db").database_url == "sqlite+aiosqlite:///x.db"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE is invalid: unknown time zone 'Mars/Olympus'"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL is invalid: must be a sqlite+aiosqlite://"),
        ("TELEGRAM_API_BASE_URL", "ftp://x", "TELEGRAM_API_BASE_URL is invalid: must start"),
        ("MAX_TEXT_LENGTH", "lots", "MAX_TEXT_LENGTH is invalid"),
        ("DEFAULT_LANGUAGE", "d4", "DEFAULT_LANGUAGE is invalid"),
        ("DASHBOARD_SECURE_COOKIE", "yes", "DASHBOARD_SECURE_COOKIE is invalid"),
        # The old name: ignoring it would drop the cookie's Secure flag without a word.
        ("DASHBOARD_SECURE_COOKIES", "true", "DASHBOARD_SECURE_COOKIES is invalid: this setting"),
        (
            "DASHBOARD_TRUSTED_PROXIES",
            "10.0.0.1, proxy.local",
            "DASHBOARD_TRUSTED_PROXIES is invalid: 'proxy.local' is not an IP address",
        ),
        ("PORT", "80808", "PORT (or its old name DASHBOARD_PORT) is invalid"),
        ("DASHBOARD_PORT", "http", "PORT (or its old name DASHBOARD_PORT) is invalid"),
        (
            "TELEGRAM_WEBHOOK_URL",
            "http://bot.example.org/telegram",
            "TELEGRAM_WEBHOOK_URL is invalid: must be an https:// URL",
        ),
        (
            "TELEGRAM_WEBHOOK_URL",
            "https://bot.example.org:8080/telegram",
            "TELEGRAM_WEBHOOK_URL is invalid: Telegram sends updates only to port 443, 80, 88",
        ),
        # Without the secret anybody who finds the URL could post updates.
        (
            "TELEGRAM_WEBHOOK_URL",
            "https://bot.example.org/telegram",
            "TELEGRAM_WEBHOOK_SECRET is invalid: must be set when TELEGRAM_WEBHOOK_URL is",
        ),
        (
            "TELEGRAM_WEBHOOK_SECRET",
            "with space",
            "TELEGRAM_WEBHOOK_SECRET is invalid: must be 1 to 256 characters, only A-Z",
        ),
        (
            "TELEGRAM_WEBHOOK_SECRET",
            "x" * 257,
            "TELEGRAM_WEBHOOK_SECRET is invalid: must be 1 to 256 characters, only A-Z",
        ),
        ("LOG_FORMAT", "xml", "LOG_FORMAT is invalid"),
        ("METRICS_TOKEN", "short", "METRICS_TOKEN is invalid: must be at least 16 characters"),
    ],
)
def test_malformed_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    ("log_format", "metrics_token", "expected"),
    [
        (None, None, (None, None)),
        ("", "", (None, None)),  # `LOG_FORMAT=` / `METRICS_TOKEN=` in a compose file: unset
        ("JSON", " a-token-of-twenty-chars ", ("json", "a-token-of-twenty-chars")),
        ("text", None, ("text", None)),
    ],
)
def test_log_format_and_metrics_token(
    monkeypatch: pytest.MonkeyPatch,
    log_format: str | None,
    metrics_token: str | None,
    expected: tuple[str | None, str | None],
) -> None:
    for name, value in (("LOG_FORMAT", log_format), ("METRICS_TOKEN", metrics_token)):
        if value is not None:
            monkeypatch.setenv(name, value)
    settings = load_settings()
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    assert (settings.log_format, token) == expected


def test_missing_token_is_named_when_the_bot_runs() -> None:
    with pytest.raises(SettingsError, match=r"^TELEGRAM_BOT_TOKEN is not set"):
        load_settings().require_token()


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), **env},
        cwd=cwd,
        timeout=60,
    )


def test_cli_stops_with_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli("run", env={"TIMEZONE": "Nowhere/Special"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mentorbot: error: TIMEZONE is invalid: unknown time zone 'Nowhere/Special' "
        "(use an IANA name like Europe/Oslo)"
    ]


def test_cli_run_without_token_names_the_setting(tmp_path: Path) -> None:
    result = run_cli("run", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("mentorbot: error: TELEGRAM_BOT_TOKEN is not set")
    assert "Traceback" not in result.stderr


def test_host_and_port_take_their_old_names_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    defaults = load_settings()
    assert (defaults.host, defaults.port) == ("127.0.0.1", 8080)
    monkeypatch.setenv("DASHBOARD_HOST", "10.0.0.7")
    monkeypatch.setenv("DASHBOARD_PORT", "8000")
    assert (load_settings().host, load_settings().port) == ("10.0.0.7", 8000)
    # The new names win where both are set.
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "9000")
    assert (load_settings().host, load_settings().port) == ("0.0.0.0", 9000)
    # In .env as well.
    monkeypatch.delenv("HOST")
    monkeypatch.delenv("PORT")
    monkeypatch.delenv("DASHBOARD_HOST")
    monkeypatch.delenv("DASHBOARD_PORT")
    (tmp_path / ".env").write_text("DASHBOARD_PORT=8001\nPORT=9001\nDASHBOARD_HOST=::1\n")
    assert (load_settings().host, load_settings().port) == ("::1", 9001)


def test_a_webhook_takes_an_https_url_and_a_secret() -> None:
    longest = "A-z_09" * 42 + "abcd"  # 256 characters, every kind Telegram allows
    settings = load_settings(
        telegram_webhook_url="https://bot.example.org:8443/telegram/updates?x=1",
        telegram_webhook_secret=longest,
    )
    assert settings.webhook_path() == "/telegram/updates"
    bare = load_settings(
        telegram_webhook_url="https://bot.example.org", telegram_webhook_secret="s"
    )
    assert bare.webhook_path() == "/"
    assert load_settings(telegram_webhook_url="").telegram_webhook_url is None  # long polling


@pytest.mark.parametrize(
    "command", [[], ["run"], ["serve"], ["demo"], ["export"], ["db"], ["db", "upgrade"], ["check"]]
)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage: mentorbot")
