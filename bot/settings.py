"""Settings read once from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

import ipaddress
import re
from datetime import time
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# What Telegram accepts as a webhook's `secret_token`.
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_PORTS = {None, 443, 80, 88, 8443}  # None: the https default, 443
# Settings read under an old name too: an error names both, either may be the one set.
OLD_NAMES = {"host": "DASHBOARD_HOST", "port": "DASHBOARD_PORT"}


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming it. `more`: the lines
    of further malformed settings, so that all can be fixed at once."""

    def __init__(self, message: str, more: list[str] | None = None) -> None:
        super().__init__(message)
        self.more = more or []


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    database_url: str = "sqlite+aiosqlite:///mentorbot.db"
    # `python -m bot demo`'s own database (never DATABASE_URL's): trying the demo leaves the
    # real data alone. Kept between runs; its secret file lies beside it.
    demo_database_url: str = "sqlite+aiosqlite:///mentorbot-demo.db"
    default_language: str = "en"
    timezone: str = "Europe/Copenhagen"
    default_programme: str = "bridge"
    surveys_dir: Path = PROJECT_ROOT / "surveys"
    programmes_dir: Path = PROJECT_ROOT / "programmes"
    locales_dir: Path = PROJECT_ROOT / "locales"
    max_text_length: int = Field(default=1000, ge=10, le=4000)
    telegram_request_timeout: float = Field(default=30.0, gt=0)
    telegram_max_retries: int = Field(default=5, ge=0, le=20)
    # Attempts at an incoming update (a crash during one counts) before it is set aside.
    inbox_max_attempts: int = Field(default=3, ge=1, le=20)
    log_level: str = "INFO"
    # Logs and metrics (docs/OPERATIONS.md, "Monitoring: metrics and logs"). LOG_FORMAT: `json`
    # (one object per line) or `text`; unset, text in a terminal and JSON otherwise.
    log_format: Literal["json", "text"] | None = None
    # With it, GET /metrics asks for `Authorization: Bearer <token>`; without it, only a client
    # on this machine that connects directly (not through a proxy) may read the metrics.
    metrics_token: SecretStr | None = None
    # Keyed hash for pseudonymous respondent keys (anonymous questionnaires). Without it, a
    # random secret is created once in SECRET_FILE; keep either away from database backups.
    respondent_key_secret: SecretStr | None = None
    secret_file: Path = Path("mentorbot.secret")
    dispatch_interval: float = Field(default=30.0, gt=0, le=3600)
    contact_grace_period: str = "2d"
    # Voice answers are downloaded here (one .ogg per answer); erasure deletes them too.
    voice_storage_dir: Path = Path("voice")
    # Where `serve` (the webhook, the dashboard and the health checks) and `dashboard` listen.
    # DASHBOARD_HOST and DASHBOARD_PORT are their old names, still read; the new name wins
    # where both are set in the same place (AliasChoices takes the first it finds).
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("host", "dashboard_host"))
    port: int = Field(
        default=8080, ge=1, le=65535, validation_alias=AliasChoices("port", "dashboard_port")
    )
    # With a webhook URL, `serve` has Telegram POST updates there (HTTPS, through the reverse
    # proxy in front of HOST:PORT), each with the secret in a header; without it, it polls.
    telegram_webhook_url: str | None = None
    # Checked after the URL (fields validate in order), so that it can be required with it.
    telegram_webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    # The reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed. By default a proxy on this machine (the usual set-up, and
    # uvicorn's own default): behind it the cookie is Secure when the proxy says HTTPS. A client
    # connecting from elsewhere is never believed; empty: none at all.
    dashboard_trusted_proxies: str = "127.0.0.1, ::1"
    # The session cookie's `Secure` flag and `__Host-` prefix: `auto` when the request came
    # over HTTPS (behind a trusted proxy: when the proxy says so), `always`, or `never`.
    dashboard_secure_cookie: Literal["auto", "always", "never"] = "auto"
    # Replaced by DASHBOARD_SECURE_COOKIE: read only to refuse it, so that an old `.env` line
    # meant to keep the cookie off plain HTTP is not silently ignored.
    dashboard_secure_cookies: str | None = None
    # A dashboard log-in ends after this many minutes without a request, and this many hours
    # after it began.
    dashboard_session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    dashboard_session_hours: int = Field(default=12, ge=1, le=7 * 24)
    # When coordinators get the morning digest of `soon` flags (each programme's time zone).
    flag_digest_time: time = time(8, 0)

    @field_validator("telegram_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("telegram_webhook_url")
    @classmethod
    def _https_webhook(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(
                "must be an https:// URL (Telegram sends updates only over HTTPS), "
                "e.g. https://bot.example.org/telegram"
            )
        if parts.port not in WEBHOOK_PORTS:
            raise ValueError("Telegram sends updates only to port 443, 80, 88 or 8443")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        secret = value.get_secret_value() if value is not None else ""
        if not secret:
            if info.data.get("telegram_webhook_url"):
                raise ValueError(
                    "must be set when TELEGRAM_WEBHOOK_URL is (Telegram sends it with every "
                    "update, so that nobody else can post updates); e.g. "
                    '`python -c "import secrets; print(secrets.token_urlsafe(32))"`'
                )
            return None
        if not WEBHOOK_SECRET.fullmatch(secret):
            raise ValueError("must be 1 to 256 characters, only A-Z, a-z, 0-9, _ and -")
        return value

    def webhook_path(self) -> str:
        """The path of TELEGRAM_WEBHOOK_URL, where `serve` takes Telegram's updates."""
        return urlsplit(self.telegram_webhook_url or "").path or "/"

    @field_validator("database_url", "demo_database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if value.startswith(("postgresql://", "postgres://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Europe/Oslo)"
            ) from None
        return value

    @field_validator("default_language")
    @classmethod
    def _language_code(cls, value: str) -> str:
        if not value or not value.replace("_", "").isalpha():
            raise ValueError(f"{value!r} is not a language code like 'en' or 'da'")
        return value

    @field_validator("contact_grace_period")
    @classmethod
    def _grace(cls, value: str) -> str:
        from bot.programmes import Offset

        Offset.parse(value)
        return value

    @field_validator("dashboard_secure_cookies")
    @classmethod
    def _replaced_setting(cls, value: str | None) -> None:
        if value is not None:
            raise ValueError(
                "this setting was replaced: remove it and set DASHBOARD_SECURE_COOKIE=always "
                "(or auto, the default: Secure when the request came over HTTPS)"
            )

    @field_validator("dashboard_trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network (like 10.0.0.5 or 10.0.0.0/24)"
                ) from None
        return value

    def trusted_proxies(self) -> list[str]:
        """DASHBOARD_TRUSTED_PROXIES as a list (empty: trust no proxy)."""
        return [part.strip() for part in self.dashboard_trusted_proxies.split(",") if part.strip()]

    @field_validator("respondent_key_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters long")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        return (value.strip().lower() or None) if isinstance(value, str) else value

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _metrics_token(cls, value: object) -> object:
        # Empty (`METRICS_TOKEN=` in a compose file): no token.
        return (value.strip() or None) if isinstance(value, str) else value

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < 16:
            raise ValueError("must be at least 16 characters long")
        return value

    def require_token(self) -> str:
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in .env "
                "(try `python -m bot demo` to use the bot without Telegram)"
            )
        token = self.telegram_bot_token.get_secret_value()
        if ":" not in token:
            raise SettingsError("TELEGRAM_BOT_TOKEN is malformed: expected '<digits>:<secret>'")
        return token


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning a validation error into one line naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for each in error.errors():
            name = str(each["loc"][0]).upper() if each["loc"] else "settings"
            if name.lower() in OLD_NAMES:
                name += f" (or its old name {OLD_NAMES[name.lower()]})"
            lines.append(f"{name} is invalid: {each['msg'].removeprefix('Value error, ')}")
        raise SettingsError(lines[0], lines[1:]) from None
