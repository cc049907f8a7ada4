"""End to end: the real bot, long polling a fake Bot API on 127.0.0.1, and a mentee in Danish."""

from __future__ import annotations

import asyncio
import csv
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.cli import build_parser, cmd_export
from bot.language import texts
from bot.settings import Settings
from storage.models import Participant, RunStatus, SurveyRun
from tests.fakes import FakeBotAPI
from tests.telegram import Mentee, RunningBot, stored_answers

EXPECTED_ANSWERS: dict[str, tuple[object, str]] = {
    "name": ("Amina", "answered"),
    "contact": ("amina@example.org", "answered"),
    "age_group": ("25_34", "answered"),
    "gender": (None, "declined"),
    "mentor_gender": ("woman", "answered"),
    "country": ("Syrien", "answered"),
    "years_here": ("3_5", "answered"),
    "residence_reason": (None, "skipped"),
    "home_town": ("Aarhus", "answered"),
    "education": ("bachelor", "answered"),
    "education_where": ("abroad", "answered"),
    "industry": ("health", "answered"),
    "situation": ("no_job", "answered"),
    "goals": (["job", "language"], "answered"),
    "job_kind": ("skills_match", "answered"),
    "hopes": (["cv_applications", "interview_practice"], "answered"),
    "language_level": ("a_little", "answered"),
    "other_languages": ("Arabisk, engelsk", "answered"),
    "motivation": ("very_high", "answered"),
    "availability": ("yes", "answered"),
    "interests": (None, "skipped"),
    "heard_from": ("language_school", "answered"),
}

INTAKE_SCRIPT: list[tuple[Callable[[Mentee, Any], Awaitable[list[dict[str, object]]]], object]] = [
    (Mentee.type, "Amina"),
    (Mentee.type, "amina@example.org"),
    (Mentee.tap, "25 to 34"),
    (Mentee.tap, texts.PREFER_NOT),
    (Mentee.tap, "A woman"),
    (Mentee.type, "Syrien"),
    (Mentee.tap, "3 to 5 years"),
    (Mentee.tap, texts.SKIP),
    (Mentee.type, "Aarhus"),
    (Mentee.tap, "Bachelor's degree"),
    (Mentee.tap, "In another country"),
    (Mentee.tap, "Health and medicine"),
    (Mentee.tap, "No job"),
    (Mentee.toggle, "A job"),
    (Mentee.toggle, "Learn the language"),
    (Mentee.tap, texts.DONE),
    (Mentee.tap, "Job that fits my skills"),
    (Mentee.toggle, "CV and job applications"),
    (Mentee.toggle, "Practice job interviews"),
    (Mentee.tap, texts.DONE),
    (Mentee.tap, "A little"),
    (Mentee.type, "Arabisk, engelsk"),
    (Mentee.tap, "Very high"),
    (Mentee.tap, "Yes"),
    (Mentee.tap, texts.SKIP),
    (Mentee.tap, "Language school"),
]
"""Amina's answers after consent, question by question, in English: what gives EXPECTED_ANSWERS."""

EXPORTED = {
    "name": "Amina",
    "contact": "amina@example.org",
    "age_group": "25 to 34",
    "gender": "Prefer not to say",
    "mentor_gender": "A woman",
    "country": "Syrien",
    "years_here": "3 to 5 years",
    "residence_reason": "",
    "home_town": "Aarhus",
    "education": "Bachelor's degree",
    "education_where": "In another country",
    "industry": "Health and medicine",
    "situation": "No job",
    "goals": "A job; Learn the language",
    "job_kind": "Job that fits my skills",
    "hopes": "CV and job applications; Practice job interviews",
    "language_level": "A little",
    "other_languages": "Arabisk, engelsk",
    "motivation": "Very high",
    "availability": "Yes",
    "interests": "",
    "heard_from": "Language school",
}
"""Her answers as the export writes them (English labels, "; " between chosen options)."""


async def test_danish_mentee_finishes_intake_and_database_and_export_hold_her_answers(
    running: RunningBot, server: FakeBotAPI, tmp_path: Path
) -> None:
    amina = Mentee(server.user(501, "Amina", language_code="ar"), running)
    menu = await amina.start()
    # Her phone is set to Arabic: Arabic comes first, but she chooses.
    assert amina.user.buttons()[:2] == ["العربية", "English"]
    assert "Dansk" in amina.user.buttons()
    assert "Vælg dit sprog." in menu[-1]["text"]

    await amina.user.tap("Dansk")
    chosen, consent = await amina.user.wait_for_reply(count=2)
    assert chosen["text"].endswith("✓ Dansk") and "reply_markup" not in chosen
    assert consent["text"] == amina.da(texts.CONSENT)
    first = await amina.tap(texts.CONSENT_YES, count=2)
    assert first[-1]["text"].startswith("1 / ")
    assert amina.da("What is your name? A nickname is fine.") in first[-1]["text"]

    replies: dict[str, list[dict[str, object]]] = {}
    shown = [first[-1]]
    for answer_by, answer in INTAKE_SCRIPT:
        replies[str(answer)] = await answer_by(amina, answer)
        shown += replies[str(answer)]
    # The progress counts up by one and its total never grows (goals: "A job" brings a
    # question in; it was counted from the start).
    progress = [_progress(message) for message in shown if _progress(message) is not None]
    assert [position for position, _ in progress] == sorted(position for position, _ in progress)
    assert sorted({position for position, _ in progress}) == list(range(1, 23))
    totals = [total for _, total in progress]
    assert totals == sorted(totals, reverse=True) and totals[-1] == 22
    *_, age_question = replies["amina@example.org"]  # typed: the next question is a new message
    assert amina.da("How old are you?") in age_question["text"]
    # The tapped message became the next question, with that question's buttons.
    (answered,) = replies["25 to 34"]
    assert answered["message_id"] == age_question["message_id"]
    assert amina.da("What is your gender?") in answered["text"]
    labels = [
        button["text"] for row in answered["reply_markup"]["inline_keyboard"] for button in row
    ]
    assert amina.da(texts.PREFER_NOT) in labels  # as it was then: it is the summary now
    toggled = replies["A job"]
    assert toggled[0]["reply_markup"]["inline_keyboard"][0][0]["text"] == "✓ " + amina.da("A job")
    summary, last = replies["Language school"]
    assert summary["text"] == _summary(amina, running)
    assert last["text"] == amina.da(texts.INTAKE_DONE)

    assert await stored_answers(running) == EXPECTED_ANSWERS
    async with running.core.sessions() as session:
        participant = await session.scalar(select(Participant))
        run = await session.scalar(select(SurveyRun))
    assert participant.language == "da" and participant.channel_user_id == "501"
    assert participant.consent_version == texts.CONSENT_VERSION
    assert run.status == RunStatus.COMPLETED
    # Every message with buttons lost them once answered: only the live prompt may keep some.
    assert [m for m in amina.user.messages if "reply_markup" in m] == []
    server.assert_no_violations()

    output = tmp_path / "intake.csv"
    args = build_parser().parse_args(
        ["export", "--survey", "mentee_intake", "--format", "csv", "--output", str(output)]
    )
    args.clock = running.core.clock  # what `main` gives every command
    await running.core.close()  # the export opens its own connection, as from a shell
    await _export_in_thread(running.core.settings, args)
    with output.open(encoding="utf-8-sig", newline="") as handle:
        ids, english, *rows = list(csv.reader(handle))
    assert len(rows) == 1
    record = dict(zip(ids, rows[0], strict=True))
    assert english[ids.index("goals")] == "What are your goals?"
    assert {key: record[key] for key in EXPECTED_ANSWERS} == EXPORTED
    assert record["status"] == "completed" and record["language"] == "da"


def _progress(message: dict[str, object]) -> tuple[int, int] | None:
    """(position, total) of a question's message ("7 / 21" on its first line), else None."""
    first = str(message.get("text", "")).split("\n", 1)[0]
    match = re.fullmatch(r"(\d+) / (\d+)", first)
    return (int(match[1]), int(match[2])) if match else None


def _summary(amina: Mentee, running: RunningBot) -> str:
    """What the summary at the end should say in Danish: every question she answered, in
    order, with her answer, a skipped or declined one as such."""
    intake = running.core.questionnaires["mentee_intake"]
    lines = [amina.da(texts.YOUR_ANSWERS)]
    for question_id, shown in EXPORTED.items():
        status = EXPECTED_ANSWERS[question_id][1]
        if status == "skipped":
            answer = amina.da(texts.SKIPPED)
        elif status == "declined":
            answer = amina.da(texts.PREFER_NOT)
        else:  # chosen options are translated and joined as Danish writes a list
            answer = " og ".join(amina.da(part) for part in shown.split("; "))
        lines += ["", amina.da(intake.question(question_id).text), f"✓ {answer}"]
    return "\n".join(lines)


async def _export_in_thread(settings: Settings, args: object) -> None:
    import asyncio

    # cmd_export runs its own event loop, as it does from the command line.
    await asyncio.to_thread(cmd_export, settings, args)  # type: ignore[arg-type]


async def test_command_menu_is_published_in_every_language(
    running: RunningBot, server: FakeBotAPI
) -> None:
    # Published right after start-up, one list per language (it waited 5 s for two, once).
    languages = len(running.core.catalogs.languages)
    for _ in range(100):
        if len(server.calls_of("setMyCommands")) == languages:
            break
        await asyncio.sleep(0.05)
    menus = {
        call.get("language_code"): call["commands"] for call in server.calls_of("setMyCommands")
    }
    assert [c["command"] for c in menus[None]] == ["start", "help", "mydata", "delete", "language"]
    assert menus["da"][3]["description"] == "Slet dine oplysninger"
