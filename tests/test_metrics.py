"""`GET /metrics` (dashboard/metrics.py) and what it counts (bot/monitoring.py): updates, answers
and messages as they happen, a 429 from the fake Bot API, the inbox's depth and the
dispatcher's lag read from the database, the time of web requests by route template; who may
read them (METRICS_TOKEN, or this machine only); and no chat id or name in what they show."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import func, select, text

import bot.monitoring
from bot.core import Core
from bot.monitoring import ANSWERS_STORED, REGISTRY, count_when_committed
from bot.settings import Settings
from dashboard.app import create_app
from storage import inbox
from storage.models import Answer, Contact, ContactState, Participant, SurveyRun
from storage.models import Programme as ProgrammeRow
from tests.course import T0, clock_at
from tests.fakes import FakeBotAPI
from tests.serving import serving_bot
from tests.telegram import Mentee, RunningBot
from tests.test_anonymous_days import alarming_anonymous_end

TOKEN = "a-token-of-twenty-four-c"
ELSEWHERE = ("203.0.113.9", 50000)  # a client on another machine (TEST-NET-3)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def web(core: Core, client: tuple[str, int] = ("127.0.0.1", 40000)) -> httpx.AsyncClient:
    """The dashboard app of `core`, reached (through ASGI) from `client`'s address."""
    transport = httpx.ASGITransport(app=create_app(core), client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://dashboard")


async def scrape(core: Core) -> str:
    async with web(core) as client:
        answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return answer.text


# ------------------------------------------------------------------ counted where it happens

COUNTED = {
    "received": ("mentorbot_updates_received_total", {"channel": "telegram"}),
    "processed": ("mentorbot_updates_processed_total", {"channel": "telegram"}),
    "answers": ("mentorbot_answers_stored_total", {"programme": "bridge"}),
    "sent": ("mentorbot_telegram_messages_sent_total", {"method": "sendMessage"}),
    "edited": ("mentorbot_telegram_messages_sent_total", {"method": "editMessageText"}),
    "429": ("mentorbot_telegram_too_many_requests_total", {"method": "sendMessage"}),
    "retried": (
        "mentorbot_telegram_retries_total",
        {"method": "sendMessage", "reason": "flood_control"},
    ),
}


def counts() -> dict[str, float]:
    return {key: sample(name, **labels) for key, (name, labels) in COUNTED.items()}


def moved(before: dict[str, float]) -> dict[str, float]:
    return {key: value - before[key] for key, value in counts().items()}


async def test_an_intake_s_first_steps_count_updates_answers_and_messages(
    running: RunningBot, server: FakeBotAPI
) -> None:
    before = counts()
    zubeyda = Mentee(server.user(7301, "Zubeyda", username="zubeyda_q"), running)
    await zubeyda.begin()  # /start, her language, consent: three updates, no answer yet
    await zubeyda.type("Zubeyda Qorraxeeye")  # her name: the first answer
    delta = moved(before)
    assert (delta["received"], delta["processed"], delta["answers"]) == (4, 4, 1)
    sent = server.calls_of("sendMessage")
    assert delta["sent"] == len(sent) and delta["edited"] == len(server.calls_of("editMessageText"))
    assert (delta["429"], delta["retried"]) == (0, 0)

    text = await scrape(running.core)
    assert 'mentorbot_inbox_pending_updates{channel="telegram"} 0.0' in text
    assert 'mentorbot_dispatcher_lag_seconds{programme="bridge"} 0.0' in text
    # Nothing in it tells who she is: not her chat, her name or her username (a chat id is
    # looked for among the labels and values: its digits may turn up inside a duration).
    for personal in ("Zubeyda", "Qorraxeeye", "zubeyda_q"):
        assert personal not in text
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    assert not [s for s in samples if any("7301" in value for value in s.labels.values())]
    assert 7301 not in {s.value for s in samples}


async def test_serve_s_web_server_shows_the_metrics_of_its_webhook_and_its_bot(
    settings: Settings, server: FakeBotAPI
) -> None:
    """`serve` builds its app with `create_app`: /metrics is there, beside the webhook, whose
    requests are timed by its path's template like any route."""
    before = counts()
    async with serving_bot(settings, server) as serving:
        await Mentee(server.user(7303), serving).start()  # type: ignore[arg-type]
        async with httpx.AsyncClient(base_url=serving.base_url) as client:
            answer = await client.get("/metrics")
    assert answer.status_code == 200
    delta = moved(before)
    assert delta["received"] >= 1 and delta["processed"] >= 1 and delta["sent"] >= 1
    webhook = 'method="POST",route="/telegram/updates",status="200"'
    assert f"mentorbot_http_request_duration_seconds_count{{{webhook}}}" in answer.text


async def test_a_429_from_telegram_counts_and_so_does_its_retry(
    running: RunningBot, server: FakeBotAPI
) -> None:
    before = counts()
    server.fail_next("sendMessage", 429, retry_after=1)
    await Mentee(server.user(7302), running).start()
    delta = moved(before)
    assert (delta["429"], delta["retried"]) == (1, 1)
    assert delta["sent"] == len(server.calls_of("sendMessage")) - 1  # the refused one is not


async def test_an_answer_counts_only_once_its_transaction_commits(core: Core) -> None:
    """An update's attempt that fails is rolled back and tried again: its answer must not
    count twice."""
    before = sample("mentorbot_answers_stored_total", programme="counted")
    async with core.sessions() as session:
        await session.execute(text("SELECT 1"))  # an attempt's transaction
        count_when_committed(session, ANSWERS_STORED, "counted")
        await session.rollback()  # it failed
        count_when_committed(session, ANSWERS_STORED, "counted")
        count_when_committed(session, ANSWERS_STORED, "counted")
        await session.commit()
    async with core.sessions() as session:
        count_when_committed(session, ANSWERS_STORED, "counted")  # never committed
    assert sample("mentorbot_answers_stored_total", programme="counted") - before == 2


@pytest.mark.fast_course
async def test_anonymous_answers_are_not_counted(core: Core) -> None:
    """The moment a counter moved would date an anonymous answer, which keeps its day only."""
    before = sample("mentorbot_answers_stored_total", programme="fast")
    await alarming_anonymous_end(core)
    async with core.sessions() as session:
        anonymous = await session.scalar(
            select(func.count(Answer.id)).join(SurveyRun).where(SurveyRun.participant_id.is_(None))
        )
    assert anonymous
    assert sample("mentorbot_answers_stored_total", programme="fast") == before


# ------------------------------------------------------------------ read from the database


async def test_the_inbox_depth_is_what_waits_and_how_long_the_oldest_has(core: Core) -> None:
    async with core.sessions.begin() as session:
        for update_id in (1, 2):
            await inbox.store(session, "telegram", update_id, "42", {}, T0)
    clock_at(core, T0 + timedelta(seconds=90))
    await core.update_gauges()
    assert sample("mentorbot_inbox_pending_updates", channel="telegram") == 2
    assert sample("mentorbot_inbox_oldest_pending_age_seconds", channel="telegram") == 90


async def _contact_due(core: Core, due: datetime) -> None:
    async with core.sessions.begin() as session:
        bridge = await session.scalar(select(ProgrammeRow).where(ProgrammeRow.code == "bridge"))
        assert bridge is not None
        person = Participant(channel="test", channel_user_id="9", programme_id=bridge.id)
        session.add(person)
        await session.flush()
        session.add(
            Contact(
                participant_id=person.id,
                rule="checkin_1",
                questionnaire_id="checkin",
                due_at=due,
                state=ContactState.PLANNED,
            )
        )


LOCAL = timedelta(hours=1)  # Copenhagen in December: UTC+1; bridge is quiet 21:00-08:00


@pytest.mark.parametrize(
    ("due_local", "now_local", "lag"),
    [
        ((10, 50), (11, 0), 600),  # due ten minutes ago, in the day
        ((11, 5), (11, 0), 0),  # not due yet
        ((20, 0), (22, 0), 0),  # due before the night, but it is night now: it waits
        ((23, 0), (8, 30), 1800),  # due in the night: late from 08:00 on
    ],
)
async def test_the_dispatcher_lag_counts_from_when_a_contact_could_go(
    core: Core, due_local: tuple[int, int], now_local: tuple[int, int], lag: float
) -> None:
    evening = datetime(2026, 12, 1, tzinfo=T0.tzinfo)
    due = evening.replace(hour=due_local[0], minute=due_local[1]) - LOCAL
    now = evening.replace(hour=now_local[0], minute=now_local[1]) - LOCAL
    if now < due - timedelta(hours=1):
        now += timedelta(days=1)  # the next morning
    await _contact_due(core, due)
    clock_at(core, now)
    await core.update_gauges()
    assert sample("mentorbot_dispatcher_lag_seconds", programme="bridge") == lag


# ------------------------------------------------------------------ web requests


async def test_requests_are_timed_by_route_template_never_by_path_or_query(core: Core) -> None:
    def requests(route: str, status: str) -> float:
        return sample(
            "mentorbot_http_request_duration_seconds_count",
            method="GET",
            route=route,
            status=status,
        )

    searches, unknown = requests("/participants", "303"), requests("unmatched", "404")
    static = requests("/static", "200")
    async with web(core) as client:
        await client.get("/participants", params={"q": "Zubeyda Qorraxeeye"})  # to the log-in
        await client.get("/Zubeyda/Qorraxeeye")
        await client.get("/static/style.css")
    assert requests("/participants", "303") == searches + 1
    assert requests("unmatched", "404") == unknown + 1
    assert requests("/static", "200") == static + 1
    assert "Zubeyda" not in await scrape(core)


# ------------------------------------------------------------------ who may read them


@pytest.fixture
async def with_token(core: Core) -> AsyncIterator[Core]:
    core.settings = core.settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    yield core


@pytest.mark.parametrize(
    ("client", "headers", "status"),
    [
        (("127.0.0.1", 40000), {}, 200),
        (("::1", 40000), {}, 200),
        (ELSEWHERE, {}, 403),
        # Through a reverse proxy on this machine: the proxy names the client.
        (("127.0.0.1", 40000), {"X-Forwarded-For": "198.51.100.7"}, 403),
        (("127.0.0.1", 40000), {"Forwarded": "for=198.51.100.7"}, 403),
        (ELSEWHERE, {"Authorization": f"Bearer {TOKEN}"}, 403),  # no token is set
    ],
)
async def test_without_a_token_only_this_machine_reads_the_metrics(
    core: Core, client: tuple[str, int], headers: dict[str, str], status: int
) -> None:
    async with web(core, client) as web_client:
        answer = await web_client.get("/metrics", headers=headers)
    assert answer.status_code == status
    assert ("mentorbot_updates_received_total" in answer.text) == (status == 200)


@pytest.mark.parametrize(
    ("client", "authorization", "status"),
    [
        (ELSEWHERE, f"Bearer {TOKEN}", 200),
        (ELSEWHERE, f"bearer {TOKEN}", 200),
        (ELSEWHERE, None, 401),
        (ELSEWHERE, f"Bearer {TOKEN[:-1]}", 401),
        (ELSEWHERE, f"Bearer {TOKEN}x", 401),
        (ELSEWHERE, f"Basic {TOKEN}", 401),
        (ELSEWHERE, "Bearer ", 401),
        (("127.0.0.1", 40000), None, 401),  # with a token, this machine needs it too
    ],
)
async def test_with_a_token_every_scrape_must_send_it(
    with_token: Core, client: tuple[str, int], authorization: str | None, status: int
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with web(with_token, client) as web_client:
        answer = await web_client.get("/metrics", headers=headers)
    assert answer.status_code == status
    if status == 401:
        assert answer.headers["www-authenticate"] == 'Bearer realm="metrics"'
        assert TOKEN not in answer.text


async def test_the_token_is_compared_in_constant_time(
    with_token: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    constant_time = bot.monitoring.hmac.compare_digest

    def spy(given: bytes, expected: bytes) -> bool:
        compared.append((given, expected))
        return constant_time(given, expected)

    monkeypatch.setattr(bot.monitoring.hmac, "compare_digest", spy)
    async with web(with_token, ELSEWHERE) as client:
        answer = await client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401
    assert compared == [(b"wrong", TOKEN.encode())]
