"""The plain-host files in deploy/: the systemd units run commands the CLI has, as a user of
their own, hardened, with their settings in one environment file whose names exist; the backup
timer starts the backup; Caddy passes the public name on to where the bot listens."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import pytest

from bot.settings import load_settings
from tests.deployment import (
    DEPLOY,
    bot_arguments,
    caddy_sites,
    check_bot_command,
    read_env_file,
    read_unit,
    reverse_proxy_upstreams,
    setting_names,
    unit_command,
    unit_values,
    unknown_environment,
)

SERVICES = ("mentorbot.service", "mentorbot-backup.service")
ENV_EXAMPLE = DEPLOY / "mentorbot.env.example"
# What each unit must say to keep the bot to its state folder and the network (systemd.exec(5)).
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "UMask": "0077",
}


def _service(name: str) -> dict[str, list[tuple[str, str]]]:
    return read_unit(DEPLOY / name)


def _one(name: str, key: str) -> str:
    values = unit_values(_service(name), "Service", key)
    assert len(values) == 1, f"{name}: {key}={values}"
    return values[0]


def test_the_service_runs_serve() -> None:
    command = unit_command(_one("mentorbot.service", "ExecStart"))
    assert bot_arguments(command) == ["serve"]
    assert command[0] == "/opt/mentorbot/venv/bin/python"
    assert _one("mentorbot.service", "Restart") == "on-failure"
    assert unit_values(_service("mentorbot.service"), "Install", "WantedBy") == [
        "multi-user.target"
    ]


@pytest.mark.parametrize("name", SERVICES)
def test_each_command_a_unit_runs_exists_in_the_cli(name: str) -> None:
    for key in ("ExecStartPre", "ExecStart"):
        for line in unit_values(_service(name), "Service", key):
            check_bot_command(bot_arguments(unit_command(line)))


def test_the_backup_writes_one_file_per_run_into_its_own_folder() -> None:
    arguments = bot_arguments(unit_command(_one("mentorbot-backup.service", "ExecStart")))
    assert arguments[0] == "backup"
    output = PurePosixPath(arguments[arguments.index("--output") + 1])
    assert output.parent == PurePosixPath("/var/lib/mentorbot-backups")
    assert "$(date" in output.name
    assert _one("mentorbot-backup.service", "Type") == "oneshot"
    folders = _one("mentorbot-backup.service", "StateDirectory").split()
    assert folders == ["mentorbot", "mentorbot-backups"]


def test_the_timer_starts_the_backup_every_day_and_catches_up() -> None:
    timer = read_unit(DEPLOY / "mentorbot-backup.timer")
    assert unit_values(timer, "Timer", "Unit") in ([], ["mentorbot-backup.service"])
    assert unit_values(timer, "Timer", "OnCalendar") == ["*-*-* 03:15:00"]
    assert unit_values(timer, "Timer", "Persistent") == ["yes"]
    assert unit_values(timer, "Install", "WantedBy") == ["timers.target"]


@pytest.mark.parametrize("name", SERVICES)
def test_each_unit_runs_as_its_own_user_and_is_hardened(name: str) -> None:
    assert _one(name, "User") == "mentorbot" and _one(name, "Group") == "mentorbot"
    for key, value in HARDENING.items():
        assert _one(name, key) == value, key
    filters = unit_values(_service(name), "Service", "SystemCallFilter")
    assert "@system-service" in filters
    assert _one(name, "StateDirectoryMode") == "0700"


@pytest.mark.parametrize("name", SERVICES)
def test_each_unit_reads_the_settings_file_and_writes_only_its_state_folder(name: str) -> None:
    assert _one(name, "EnvironmentFile") == "/etc/mentorbot/mentorbot.env"
    state = PurePosixPath("/var/lib") / _one(name, "StateDirectory").split()[0]
    assert _one(name, "WorkingDirectory") == str(state)
    settings = read_env_file(ENV_EXAMPLE)
    for key in ("SECRET_FILE", "VOICE_STORAGE_DIR"):
        assert PurePosixPath(settings[key]).is_relative_to(state), key
    environment = dict(item.split("=", 1) for item in _one(name, "Environment").split())
    assert environment["PYTHONPATH"] == "/opt/mentorbot/app"
    assert not unknown_environment(set(environment))


def test_the_hosts_settings_file_names_only_settings_with_valid_values() -> None:
    values = read_env_file(ENV_EXAMPLE)
    assert not unknown_environment(set(values))
    commented = set(
        re.findall(r"^# ?([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.M)
    )
    assert not unknown_environment(commented)
    known = {name.lower(): value for name, value in values.items() if name in setting_names()}
    settings = load_settings(**known)
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.trusted_proxies() == ["127.0.0.1", "::1"]
    assert values["HOST"] == "127.0.0.1"


def test_caddy_on_the_host_passes_the_public_name_to_where_the_bot_listens() -> None:
    values = read_env_file(ENV_EXAMPLE)
    sites = caddy_sites(DEPLOY / "Caddyfile")
    assert list(sites) == ["mentorbot.example.org"]
    directives = sites["mentorbot.example.org"]
    assert reverse_proxy_upstreams(directives) == [f"{values['HOST']}:{values['PORT']}"]
    assert "respond @metrics 404" in directives
    assert not any(line.startswith("log") for line in directives), "an access log holds names"
    assert values["TELEGRAM_WEBHOOK_URL"].startswith("https://mentorbot.example.org/")
