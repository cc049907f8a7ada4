"""Logs without names (bot/cli/logs.py, bot/monitoring.py): a whole Telegram intake and a
dashboard search for the person, served by uvicorn as `python -m bot dashboard` serves it,
logged at DEBUG as JSON, and nothing in the log that tells who she is or what she answered;
every line a JSON object with the update, participant and programme as fields."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

import bot.coordination.accounts as accounts
from bot.cli import main
from bot.cli.logs import LogFormat, configure_logging
from bot.coordination import invite_coordinator
from bot.core import Core
from bot.monitoring import log_scope
from bot.settings import Settings
from dashboard.app import create_app
from handlers.web import listen, web_server
from storage import repositories as repo
from storage.models import Contact, Participant
from tests.course import T0, FakeClock, dispatcher
from tests.dashboard import PASSWORD, log_in
from tests.fakes import FakeBotAPI
from tests.telegram import Mentee, RunningBot, running_bot
from tests.test_telegram_intake import INTAKE_SCRIPT

CHAT_ID = 730_199_421  # nine digits: no microsecond or duration in a log line has as many
NAME, SURNAME, USERNAME = "Zubeyda", "Qorraxeeye", "zubeyda_q77"
TYPED = {  # the intake's typed answers, each replaced by one that must not reach the log
    "Amina": f"{NAME} {SURNAME}",
    "amina@example.org": "+45 31 41 59 26",
    "Syrien": "Xanthoria",
    "Aarhus": "Hebamme in Vindelbro",
    "Arabisk, engelsk": "Tigrinya flydende, lidt fransk",
}
COORDINATOR_EMAIL = "Sara@example.org"
NEVER_LOGGED = [
    NAME,
    SURNAME,
    USERNAME,
    str(CHAT_ID),
    *TYPED.values(),
    "31 41 59 26",
    "4531415926",
    "Xanthoria",
    "Vindelbro",
    "flydende",
    COORDINATOR_EMAIL,
    COORDINATOR_EMAIL.lower(),
    PASSWORD,
]


@pytest.fixture
def log_output() -> io.StringIO:
    """Everything the process logs, at DEBUG, in JSON, as `main()` sets it up."""
    output = io.StringIO()
    assert configure_logging("DEBUG", "json", output) == "json"
    return output


@pytest.fixture
async def logged_bot(
    log_output: io.StringIO, settings: Settings, server: FakeBotAPI, clock: FakeClock
) -> AsyncIterator[RunningBot]:
    """The real bot, started once logging is set up (its start-up is logged too)."""
    async with running_bot(settings, server, clock=clock) as running:
        yield running


def lines_of(output: io.StringIO) -> list[dict[str, Any]]:
    """Each line as the JSON object it must be."""
    text = output.getvalue()
    assert text.endswith("\n")
    records = [json.loads(line) for line in text.splitlines()]
    for record in records:
        assert isinstance(record, dict)
        assert {"time", "level", "logger", "message"} <= set(record), record
    return records


def assert_never_logged(output: io.StringIO, *more: str) -> None:
    text = output.getvalue()
    for personal in [*NEVER_LOGGED, *more]:
        assert personal.lower() not in text.lower(), f"{personal!r} is in the log"


async def the_whole_intake(running: RunningBot, server: FakeBotAPI) -> None:
    user = server.user(CHAT_ID, NAME, "da", last_name=SURNAME, username=USERNAME)
    zubeyda = Mentee(user, running)
    await zubeyda.begin()
    steps: list[tuple[Callable[[Mentee, Any], Awaitable[object]], object]] = [
        (answer_by, TYPED.get(answer, answer) if isinstance(answer, str) else answer)
        for answer_by, answer in INTAKE_SCRIPT
    ]
    for answer_by, answer in steps:
        await answer_by(zubeyda, answer)
    assert "Vindelbro" in str(user.messages[-2]["text"])  # the summary: her answers went in


async def search_in_the_dashboard(core: Core, settings: Settings) -> str:
    """Log in and search for her by name, over HTTP, from uvicorn as the dashboard runs it."""
    async with core.sessions.begin() as session:
        sara, _ = await invite_coordinator(session, "bridge", "Sara")
        await accounts.set_login(session, sara, COORDINATOR_EMAIL, PASSWORD)
    server = web_server(create_app(core), settings.model_copy(update={"log_level": "DEBUG"}))
    with listen("127.0.0.1", 0) as listening:  # any free port
        port = listening.getsockname()[1]
        serving = asyncio.create_task(server.serve(sockets=[listening]))
        try:
            async with asyncio.timeout(10):
                while not server.started:  # noqa: ASYNC110 (uvicorn has no event for it)
                    await asyncio.sleep(0.01)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                assert (await log_in(client)).status_code == 303
                found = await client.get("/participants", params={"q": f"{NAME} {SURNAME}"})
                assert found.status_code == 200
                return found.text
        finally:
            server.should_exit = True
            await serving


async def test_an_intake_and_a_search_for_her_leave_no_name_answer_or_query_in_the_log(
    logged_bot: RunningBot, server: FakeBotAPI, settings: Settings, log_output: io.StringIO
) -> None:
    await the_whole_intake(logged_bot, server)
    page = await search_in_the_dashboard(logged_bot.core, settings)
    assert SURNAME in page  # the search found her

    assert_never_logged(log_output)
    records = lines_of(log_output)
    # The lines about her updates say which update, participant and programme, as fields.
    handled = [r for r in records if r["logger"] == "aiogram.event"]
    assert len(handled) >= len(INTAKE_SCRIPT)
    assert all(isinstance(r.get("update_id"), int) for r in handled)
    assert {(r.get("participant_id"), r.get("programme")) for r in handled[3:]} == {(1, "bridge")}
    assert any(r["level"] == "DEBUG" for r in records)  # DEBUG was on
    # uvicorn logged through the same handler, its access log not at all; the app logged the
    # request by its route's template, without the query.
    assert any(r["logger"] == "uvicorn.error" and "server process" in r["message"] for r in records)
    assert not [r for r in records if r["logger"] == "uvicorn.access"]
    requests = [r["message"] for r in records if r["logger"] == "dashboard.metrics"]
    assert any(m.startswith("GET /participants 200 (") for m in requests), requests


async def test_an_update_that_fails_with_her_words_in_the_error_is_logged_without_them(
    logged_bot: RunningBot, server: FakeBotAPI, log_output: io.StringIO
) -> None:
    """An exception's message may quote what the person wrote; the log keeps its class and
    where it was raised, even at DEBUG."""
    zubeyda = Mentee(server.user(CHAT_ID, NAME, "da", username=USERNAME), logged_bot)
    await zubeyda.begin()
    logged_bot.inbox.worker.retry_delay = 0.0
    handle = logged_bot.core.engine.handle

    async def failing(*args: Any, **kwargs: Any) -> Any:
        incoming = args[3]
        if getattr(incoming, "text", "").startswith(NAME):
            raise ValueError(f"cannot read {incoming.text!r}")
        return await handle(*args, **kwargs)

    logged_bot.core.engine.handle = failing  # type: ignore[method-assign]
    await zubeyda.user.send_text(f"{NAME} {SURNAME}")
    await zubeyda.user.wait_for_reply()  # "Sorry, something went wrong"

    assert_never_logged(log_output)
    records = lines_of(log_output)
    failures = [r for r in records if r["logger"] == "bot.inbox" and "failed" in r["message"]]
    assert any(r["level"] == "DEBUG" and "ValueError" in r.get("exc_info", "") for r in failures)
    assert any(r["level"] == "ERROR" and "parked" in r["message"] for r in records)


class FailingOutbox:
    async def send(self, channel_user_id: str, message: object) -> None:
        raise RuntimeError(f"could not reach {NAME} in chat {channel_user_id}")


async def test_a_check_in_that_could_not_be_sent_is_logged_by_contact_participant_and_programme(
    core: Core, log_output: io.StringIO
) -> None:
    async with core.sessions.begin() as session:
        bridge = await repo.programme_by_code(session, "bridge")
        assert bridge is not None
        person = Participant(channel="test", channel_user_id=str(CHAT_ID), programme_id=bridge.id)
        session.add(person)
        await session.flush()
        due = Contact(
            participant_id=person.id,
            rule="checkin_1",
            questionnaire_id="checkin_mentee",
            due_at=T0 - timedelta(minutes=1),
        )
        session.add(due)
    report = await dispatcher(core, FailingOutbox()).tick()
    assert report.failed == [due.id]

    assert_never_logged(log_output)
    (failed,) = [r for r in lines_of(log_output) if r["message"].startswith("sending contact")]
    assert (failed["contact_id"], failed["participant_id"], failed["programme"]) == (
        due.id,
        person.id,
        "bridge",
    )
    assert failed["exc_info"].endswith("RuntimeError")


# ------------------------------------------------------------------ the formats


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_text_in_a_terminal_json_elsewhere_unless_log_format_says() -> None:
    assert configure_logging("INFO", None, Terminal()) == "text"
    assert configure_logging("INFO", None, io.StringIO()) == "json"
    assert configure_logging("INFO", "json", Terminal()) == "json"
    assert configure_logging("INFO", "text", io.StringIO()) == "text"


def test_a_text_line_carries_the_fields_after_its_message() -> None:
    output = Terminal()
    configure_logging("INFO", None, output)
    with log_scope(update_id=12, participant_id=3, programme="bridge"):
        logging.getLogger("bot.example").info("handled")
    assert output.getvalue().endswith(
        " INFO bot.example: handled [update_id=12 participant_id=3 programme=bridge]\n"
    )


def test_a_json_line_holds_its_keys_and_the_log_fields_only() -> None:
    output = io.StringIO()
    configure_logging("INFO", "json", output)
    with log_scope(contact_id=5):
        logging.getLogger("uvicorn.error").info(
            "Started", extra={"color_message": "\x1b[1mStarted\x1b[0m", "answer": "Amina"}
        )
    (line,) = lines_of(output)
    assert set(line) == {"time", "level", "logger", "message", "contact_id"}
    assert (line["level"], line["logger"], line["contact_id"]) == ("INFO", "uvicorn.error", 5)
    assert line["time"].endswith("+00:00")


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_an_exception_is_logged_with_its_class_and_frames_never_its_message(
    log_format: LogFormat,
) -> None:
    output = io.StringIO()
    configure_logging("INFO", log_format, output)
    try:
        try:
            raise KeyError(f"{NAME}@example.org")
        except KeyError as error:
            raise ValueError(f"cannot read {SURNAME!r}") from error
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    assert_never_logged(output)
    text = output.getvalue()
    assert "Exception in ASGI application" in text
    assert "KeyError" in text and "ValueError" in text and "test_logs.py" in text


def test_only_the_log_fields_can_be_bound() -> None:
    with pytest.raises(ValueError, match="not a log field: name"), log_scope(name="Amina"):
        pass


def test_libraries_that_log_what_passes_through_them_log_warnings_only() -> None:
    configure_logging("DEBUG", "json", io.StringIO())
    assert logging.getLogger("bot.inbox").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("aiogram.event").isEnabledFor(logging.DEBUG)
    for library in ("sqlalchemy.engine.Engine", "aiosqlite", "apscheduler.scheduler"):
        assert not logging.getLogger(library).isEnabledFor(logging.INFO)
        assert logging.getLogger(library).isEnabledFor(logging.WARNING)


def test_main_sets_up_logging_from_the_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    assert main(["db", "upgrade"]) == 0
    migrations = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert migrations and {line["logger"] for line in migrations} == {"alembic.runtime.migration"}
