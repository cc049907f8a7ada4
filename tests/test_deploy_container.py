"""The container files, read as Docker and Compose would (no image can be built here): the
Dockerfile installs the lock file, checks the catalogs, runs `serve` as a user without privileges
and asks /healthz; compose.yaml wires the bot to PostgreSQL and Caddy, keeps what must last on
volumes, and names only settings that exist."""

from __future__ import annotations

import io
import ipaddress
import json
import re
from pathlib import PurePosixPath
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from bot.settings import PROJECT_ROOT, load_settings
from tests.deployment import (
    DEPLOY,
    caddy_sites,
    check_bot_command,
    placeholders,
    reverse_proxy_upstreams,
    setting_names,
    unknown_environment,
)

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
COMPOSE = PROJECT_ROOT / "compose.yaml"
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?+][^}]*)?\}")


def _dockerfile() -> DockerfileParser:
    return DockerfileParser(fileobj=io.BytesIO(DOCKERFILE.read_bytes()))


def _final_stage() -> list[dict[str, Any]]:
    """The instructions after the last FROM: what the image that runs is made of."""
    structure = _dockerfile().structure
    last_from = max(i for i, item in enumerate(structure) if item["instruction"] == "FROM")
    return [item for item in structure[last_from:] if item["instruction"] != "COMMENT"]


def _instructions(name: str, stage: list[dict[str, Any]] | None = None) -> list[str]:
    items = stage if stage is not None else _dockerfile().structure
    return [item["value"] for item in items if item["instruction"] == name]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _service(name: str) -> dict[str, Any]:
    service = _compose()["services"][name]
    assert isinstance(service, dict)
    return service


def _filled(value: object) -> str:
    """A compose value with each ${NAME...} replaced by a plausible value for NAME."""
    samples = {
        "MENTORBOT_DOMAIN": "mentorbot.example.org",
        "POSTGRES_PASSWORD": "0123456789abcdef",
        "TELEGRAM_BOT_TOKEN": "123456789:example-token",
        "TELEGRAM_WEBHOOK_SECRET": "an-example-webhook-secret",
    }
    return INTERPOLATION.sub(lambda match: samples[match.group(1)], str(value))


# ---- Dockerfile


def test_the_image_starts_from_a_slim_python() -> None:
    for image in _dockerfile().parent_images:
        assert re.fullmatch(r"python:3\.1[1-9]-slim(-[a-z]+)?", image), image


def test_the_image_runs_serve_as_a_user_without_privileges() -> None:
    stage = _final_stage()
    users = _instructions("USER", stage)
    assert users, "the image would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert _dockerfile().cmd == '["python", "-m", "bot", "serve"]'
    assert not _instructions("ENTRYPOINT", stage)


def test_the_image_installs_the_lock_file_with_its_hashes_and_nothing_else() -> None:
    copies = [value.split() for value in _instructions("COPY")]
    lock_targets = [parts[-1] for parts in copies if parts[0] == "requirements.lock"]
    assert lock_targets, "requirements.lock is not copied into the image"
    installs = [run for run in _instructions("RUN") if "pip install" in run]
    assert installs, "nothing is installed"
    for run in installs:
        for command in re.split(r"&&|;", run):
            if "pip install" in command:
                words = command.split()
                assert "--require-hashes" in words and "--no-deps" in words, command
                assert words[words.index("-r") + 1] in lock_targets, command


def test_the_image_checks_every_catalog_while_it_is_built() -> None:
    runs = " ".join(_instructions("RUN"))
    assert "msgfmt --check" in runs and "locales/*/LC_MESSAGES/*.po" in runs


def test_the_image_holds_the_application_and_its_content() -> None:
    """What `python -m bot serve` reads from PROJECT_ROOT: the packages, the questionnaires, the
    programmes and the catalogs; each copied, and let through by .dockerignore."""
    settings = load_settings()
    content = {
        path.relative_to(PROJECT_ROOT).as_posix()
        for path in (settings.surveys_dir, settings.programmes_dir, settings.locales_dir)
    }
    needed = {"bot", "handlers", "storage", "dashboard"} | content
    copied = {
        value.split()[0]
        for value in _instructions("COPY")
        if not value.startswith("--from") and value.split()[0] != "requirements.lock"
    }
    assert copied == needed
    ignore = (PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignore[ignore.index("**") :], ".dockerignore should exclude all, then let in"
    for name in needed | {"requirements.lock"}:
        assert f"!{name}/" in ignore or f"!{name}" in ignore, f".dockerignore keeps out {name}"


def test_the_image_checks_its_health_at_healthz_on_its_port() -> None:
    checks = _instructions("HEALTHCHECK", _final_stage())
    assert len(checks) == 1
    command = json.loads(checks[0][checks[0].index("CMD") + 3 :])
    assert command[:2] == ["python", "-c"]
    compile(command[2], "HEALTHCHECK", "exec")
    assert "/healthz" in command[2] and "os.environ.get('PORT', '8080')" in command[2]
    assert _dockerfile().envs["PORT"] == "8080"
    assert _instructions("EXPOSE", _final_stage()) == ["8080"]


def test_the_images_environment_names_settings_with_valid_values() -> None:
    envs = _dockerfile().envs
    assert not unknown_environment(set(envs))
    assert envs["LOG_FORMAT"] == "json" and envs["HOST"] == "0.0.0.0"
    settings = {name.lower(): value for name, value in envs.items() if name in setting_names()}
    load_settings(**settings)


def test_what_the_image_writes_is_on_its_volume() -> None:
    envs = _dockerfile().envs
    volumes = _instructions("VOLUME", _final_stage())
    assert volumes == ['["/data"]']
    for name in ("SECRET_FILE", "VOICE_STORAGE_DIR"):
        assert PurePosixPath(envs[name]).is_relative_to("/data"), name
    assert envs["DATABASE_URL"].endswith(":////data/mentorbot.db")
    assert _instructions("WORKDIR", _final_stage())[-1] == "/data"


# ---- compose.yaml


def test_compose_has_the_bot_postgres_and_caddy() -> None:
    assert set(_compose()["services"]) == {"bot", "postgres", "caddy"}
    assert _service("bot")["build"] == "."
    assert "command" not in _service("bot"), "the image's own command is `serve`"
    assert _service("postgres")["image"].startswith("postgres:")
    assert _service("caddy")["image"].startswith("caddy:")


def test_only_caddy_is_reachable_from_outside() -> None:
    assert sorted(_service("caddy")["ports"]) == ["443:443", "443:443/udp", "80:80"]
    for name in ("bot", "postgres"):
        assert "ports" not in _service(name), f"{name} must not publish a port"
    networks = _compose()["networks"]
    assert networks["database"]["internal"] is True
    assert _service("postgres")["networks"] == ["database"]
    assert sorted(_service("bot")["networks"]) == ["database", "web"]


def test_the_bot_reaches_postgres_as_its_database() -> None:
    environment = _service("bot")["environment"]
    postgres = _service("postgres")["environment"]
    url = _filled(environment["DATABASE_URL"])
    expected = (
        f"postgresql+asyncpg://{postgres['POSTGRES_USER']}:{_filled(postgres['POSTGRES_PASSWORD'])}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    assert url == expected
    assert _service("bot")["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_environment_name_in_compose_is_a_setting_or_documented() -> None:
    for name, service in _compose()["services"].items():
        unknown = unknown_environment(set(service.get("environment", {})))
        assert not unknown, f"{name}: {unknown}"


def test_the_bots_environment_in_compose_is_valid_settings() -> None:
    environment = {name: _filled(value) for name, value in _service("bot")["environment"].items()}
    assert environment["HOST"] == "0.0.0.0"
    known = {name.lower(): value for name, value in environment.items() if name in setting_names()}
    settings = load_settings(**known)
    caddy = _service("caddy")["networks"]["web"]["ipv4_address"]
    assert settings.trusted_proxies() == [caddy]
    subnet = _compose()["networks"]["web"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(caddy) in ipaddress.ip_network(subnet)
    assert settings.dashboard_secure_cookie == "always"
    assert environment["TELEGRAM_WEBHOOK_URL"] == "https://mentorbot.example.org/telegram"


def test_the_secret_voices_and_database_are_on_named_volumes() -> None:
    volumes = set(_compose()["volumes"])
    bot = dict(volume.split(":")[:2] for volume in _service("bot")["volumes"])
    data = next(target for source, target in bot.items() if source in volumes)
    environment = _service("bot")["environment"]
    for name in ("SECRET_FILE", "VOICE_STORAGE_DIR"):
        assert PurePosixPath(environment[name]).is_relative_to(data), name
    postgres = dict(volume.split(":")[:2] for volume in _service("postgres")["volumes"])
    assert postgres["postgres-data"] == "/var/lib/postgresql/data"
    caddy = dict(volume.split(":")[:2] for volume in _service("caddy")["volumes"])
    assert caddy["caddy-data"] == "/data", "Caddy's certificates must outlive the container"
    used = {source for mounts in (bot, postgres, caddy) for source in mounts if source in volumes}
    assert used == volumes


def test_every_service_has_a_health_check_and_starts_after_what_it_needs() -> None:
    port = _service("bot")["environment"]["PORT"]
    for name in ("bot", "postgres", "caddy"):
        assert _service(name)["healthcheck"]["test"][0] == "CMD", name
    bot_check = _service("bot")["healthcheck"]["test"]
    assert bot_check[1:3] == ["python", "-c"]
    compile(bot_check[3], "healthcheck", "exec")
    assert f"http://127.0.0.1:{port}/healthz" in bot_check[3]
    assert "pg_isready" in _service("postgres")["healthcheck"]["test"]
    assert _service("caddy")["depends_on"]["bot"]["condition"] == "service_healthy"


def test_caddy_serves_the_domain_and_passes_everything_to_the_bot() -> None:
    mounts = dict(volume.split(":")[:2] for volume in _service("caddy")["volumes"])
    source = next(path for path, target in mounts.items() if target == "/etc/caddy/Caddyfile")
    caddyfile = PROJECT_ROOT / source
    assert caddyfile.parent == DEPLOY and caddyfile.is_file()
    sites = caddy_sites(caddyfile)
    assert list(sites) == ["{$MENTORBOT_DOMAIN}"]
    port = _service("bot")["environment"]["PORT"]
    assert reverse_proxy_upstreams(sites["{$MENTORBOT_DOMAIN}"]) == [f"bot:{port}"]
    assert placeholders(caddyfile.read_text(encoding="utf-8")) <= set(
        _service("caddy")["environment"]
    )
    assert "respond @metrics 404" in sites["{$MENTORBOT_DOMAIN}"]


def test_every_value_compose_asks_for_is_explained_in_its_header() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    header = text[: text.index("services:")]
    for name in set(INTERPOLATION.findall(text)):
        assert f"#   {name}" in header, name


def test_a_command_line_is_checked_by_the_real_parser() -> None:
    check_bot_command(["check"])
    with pytest.raises(SystemExit):
        check_bot_command(["export", "--no-such-option"])
    with pytest.raises(AssertionError):
        check_bot_command(["servve"])
