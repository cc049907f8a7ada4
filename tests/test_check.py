"""`check`: the token asked of Telegram (the fake Bot API here), the database, the content, the
secret and the webhook settings; one line per problem, saying what to do, and a non-zero exit
code if there is any. It changes nothing: no database, schema or secret is made."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from bot.cli import main
from bot.people import respondent_key
from storage.database import alembic_config, create_engine
from storage.revisions import code_revision
from tests.course import T0, FakeClock
from tests.fakes import FakeBotAPI
from tests.test_startup_failures import closed_port

TOKEN = "123456:CHECK"
SECRET = "a-secret-that-is-long-enough-0123456789"


@pytest.fixture
def installation(
    server: FakeBotAPI, tmp_path: Path, migrated_sqlite: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A ready installation: a token Telegram knows, a migrated database, a private secret."""
    database = tmp_path / "mentorbot.db"
    shutil.copyfile(migrated_sqlite, database)
    secret = tmp_path / "mentorbot.secret"
    secret.write_text(SECRET + "\n")
    secret.chmod(0o600)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", server.base_url)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("SECRET_FILE", str(secret))
    monkeypatch.delenv("RESPONDENT_KEY_SECRET", raising=False)
    return tmp_path


async def check(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], list[str]]:
    """`python -m bot check` (in a thread: it runs an event loop of its own): its exit code,
    its lines on stdout and on stderr."""
    code = await asyncio.to_thread(main, ["check"], FakeClock(T0))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


def problems(err: list[str]) -> list[str]:
    return [line.removeprefix("mentorbot: problem: ") for line in err if "problem:" in line]


async def test_a_ready_installation_passes(
    installation: Path, server: FakeBotAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await check(capsys)

    assert (code, err) == (0, [])
    assert f"ok: Telegram knows the token: it is @mentorbot_test_bot's, at {server.base_url}" in out
    assert out[-1] == "everything checked is ready"
    assert [call.method for call in server.calls] == ["getMe"]
    assert server.token == TOKEN


async def test_a_token_telegram_refuses_is_a_problem(
    installation: Path, server: FakeBotAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    server.refused_tokens.add(TOKEN)

    code, out, err = await check(capsys)

    assert code == 1
    assert err == [
        "mentorbot: problem: Telegram refused the bot's token (401 Unauthorized): copy the "
        "token again from @BotFather (/mybots, API Token) into TELEGRAM_BOT_TOKEN",
        "1 problem found",
    ]
    assert not any("Telegram" in line for line in out)


async def test_each_problem_gets_one_line_saying_what_to_do(
    installation: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    telegram, database = closed_port(), closed_port()
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"http://127.0.0.1:{telegram}")
    monkeypatch.setenv("DATABASE_URL", f"postgresql://bot:hunter2@127.0.0.1:{database}/bot")
    (installation / "mentorbot.secret").chmod(0o644)

    code, _, err = await check(capsys)

    assert code == 1
    assert problems(err) == [
        f"cannot reach the Telegram Bot API at http://127.0.0.1:{telegram} (connection refused): "
        "check this machine's network connection, firewall or proxy, and TELEGRAM_API_BASE_URL; "
        "then start again",
        f"cannot reach the database at postgresql+asyncpg://bot:***@127.0.0.1:{database}/bot "
        "(connection refused): check that its server is running and that DATABASE_URL names "
        "it; then start again",
        f"SECRET_FILE {installation / 'mentorbot.secret'} can be read by others (mode 644): "
        f"`chmod 600 {installation / 'mentorbot.secret'}`",
    ]
    assert err[-1] == "3 problems found"
    assert "hunter2" not in "\n".join(err)


async def test_malformed_settings_are_each_named(
    installation: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "http://bot.example.org/telegram")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "not allowed: spaces")
    monkeypatch.setenv("TIMEZONE", "Europe/Atlantis")

    code, out, err = await check(capsys)

    assert (code, out) == (2, [])
    assert [line.split(" is invalid: ")[0] for line in err] == [
        "mentorbot: error: TIMEZONE",
        "mentorbot: error: TELEGRAM_WEBHOOK_URL",
        "mentorbot: error: TELEGRAM_WEBHOOK_SECRET",
    ]
    assert err[1].endswith("must be an https:// URL (Telegram sends updates only over HTTPS), "
                           "e.g. https://bot.example.org/telegram")  # fmt: skip
    assert err[2].endswith("must be 1 to 256 characters, only A-Z, a-z, 0-9, _ and -")


@pytest.mark.parametrize(
    ("secret", "ok"),
    [("x" * 256, True), ("x" * 257, False), ("A-z_0-9", True), ("", False)],
)
async def test_the_webhook_secret_is_what_telegram_accepts(
    installation: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    secret: str,
    ok: bool,
) -> None:
    """1 to 256 characters of A-Z, a-z, 0-9, _ and -; and one there must be with the URL."""
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.org/telegram")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", secret)

    code, out, err = await check(capsys)

    if ok:
        assert (code, err) == (0, [])
        assert "ok: updates come by webhook to https://bot.example.org/telegram, with a secret " \
            "token (`serve` registers it with Telegram at start)" in out  # fmt: skip
    else:
        assert code == 2
        assert err[0].startswith("mentorbot: error: TELEGRAM_WEBHOOK_SECRET is invalid: must be")


async def test_what_the_first_start_creates_is_said_and_not_made(
    installation: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = installation / "new" / "mentorbot.db"
    secret = installation / "new.secret"
    (installation / "new").mkdir()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("SECRET_FILE", str(secret))

    code, out, err = await check(capsys)

    assert (code, err) == (0, [])
    assert f"note: there is no database at sqlite+aiosqlite:///{database} yet: the first start " \
        "creates it" in out  # fmt: skip
    assert f"note: SECRET_FILE {secret} does not exist yet: the first start creates it (mode " \
        "600); keep a copy then (`python -m bot backup`)" in out  # fmt: skip
    assert not database.exists() and not secret.exists()


async def anonymous_answer(url: str, secret: str) -> None:
    """A participant whose anonymous answer was keyed with `secret`."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO programmes (id, code, name, definition, created_at, updated_at) "
                    "VALUES (1, 'bridge', 'Bridge', NULL, '2026-12-01', '2026-12-01')"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO participants (id, channel, channel_user_id, programme_id, role, "
                    "status, created_at) VALUES (7, 'test', '7', 1, 'mentee', 'ended', "
                    "'2026-12-01')"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO survey_runs (respondent_key, programme_id, language, "
                    "questionnaire_id, questionnaire_version, occasion, status, draft, "
                    "started_at) VALUES (:key, 1, 'en', 'mentee_end', 1, 'end', 'completed', "
                    "'[]', '2026-12-01')"
                ),
                {"key": respondent_key(secret.encode(), 7)},
            )
    finally:
        await engine.dispose()


async def test_a_secret_that_links_no_anonymous_answer_is_a_problem(
    installation: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = os.environ["DATABASE_URL"]
    await anonymous_answer(url, "the-secret-they-answered-under-0123")

    code, _, err = await check(capsys)

    assert code == 1
    assert problems(err) == [
        f"the secret of SECRET_FILE {installation / 'mentorbot.secret'} links none of the 1 "
        "anonymous respondents to a participant: it is not the secret they answered under; put "
        "that one back, or before/after pairing stays broken"
    ]


async def test_a_lost_secret_file_is_a_problem_once_anonymous_answers_exist(
    installation: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await anonymous_answer(os.environ["DATABASE_URL"], SECRET)
    code, out, err = await check(capsys)
    assert (code, err) == (0, [])
    assert (
        f"ok: the respondent-key secret comes from SECRET_FILE {installation / 'mentorbot.secret'}"
        ", linking 1 of 1 anonymous respondents" in out
    )

    (installation / "mentorbot.secret").unlink()
    code, _, err = await check(capsys)

    assert code == 1
    assert problems(err) == [
        f"SECRET_FILE {installation / 'mentorbot.secret'} is missing, and the database holds 1 "
        "anonymous respondents: a new secret would cut their answers off from their intake; put "
        "the secret back (`python -m bot restore`, or from where you kept it)"
    ]
    assert not (installation / "mentorbot.secret").exists()


async def test_the_schema_behind_is_migrated_at_start_and_one_ahead_is_a_problem(
    installation: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = installation / "old.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{old}")
    engine = create_engine(f"sqlite+aiosqlite:///{old}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0014"))

        code, out, err = await check(capsys)
        assert (code, err) == (0, [])
        assert any(
            line.startswith(
                f"note: the database at sqlite+aiosqlite:///{old} is at schema revision 0014; "
                f"this mentorbot's is {code_revision()}: the next start (or `python -m bot db "
                "upgrade`) migrates it"
            )
            for line in out
        )

        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        code, _, err = await check(capsys)
    finally:
        await engine.dispose()

    assert code == 1
    assert problems(err) == [
        f"the database at sqlite+aiosqlite:///{old} is at schema revision 9999, which this "
        f"mentorbot does not know (it knows up to {code_revision()}): a newer mentorbot migrated "
        "it; run that one, or restore a backup made for this one"
    ]


async def test_broken_content_is_a_problem_line(
    installation: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEFAULT_PROGRAMME", "nowhere")

    code, _, err = await check(capsys)

    assert code == 1
    assert problems(err) == [
        "DEFAULT_PROGRAMME is invalid: no programme with code 'nowhere' (have bridge)"
    ]
