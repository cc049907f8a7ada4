"""Realistic fake data for trying the dashboard: mentees and mentors who did their intake in
several languages, matches at different points of their course, contacts answered, expired and
planned, named check-in answers, flags of every severity, and an admin log-in.

Everything is invented; no real person is described. `python -m bot seed-demo` writes it into
the configured database (refusing a database that already has participants);
`python -m bot demo --with-dashboard` into the demo's own database, beside the people of the
terminal demo, the first time (`open_demo`).
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import (
    DANGER,
    TALK_TO_PERSON,
    UNREACHABLE,
    flag_answer,
    invite_coordinator,
    raise_flag,
    set_login,
)
from bot.course import create_match
from bot.programmes import (
    Anonymity,
    AnswerValue,
    Programme,
    Question,
    Questionnaire,
    QuestionType,
    Severity,
)
from storage import repositories as repo
from storage.database import clock_now
from storage.models import (
    Contact,
    ContactState,
    Coordinator,
    CoordinatorRole,
    Participant,
    ParticipantStatus,
    RunStatus,
    SurveyRun,
)

DEMO_CHANNEL = "demo"  # the made-up people's: nobody ever writes from it
DEMO_EMAIL = "demo@example.org"
DEMO_PASSWORD = "demo-dashboard-only"  # printed by seed-demo; for a throw-away demo database
NAMES = [
    "Amina", "Yusuf", "Olena", "Dmytro", "Fatima", "Hassan", "Zahra", "Ali", "Mariam", "Samir",
    "Nour", "Tesfay", "Hodan", "Reza", "Leyla", "Omar", "Sofia", "Ahmad", "Iryna", "Khadija",
]  # fmt: skip
MENTOR_NAMES = ["Lars", "Mette", "Jens", "Hanne", "Søren", "Birgitte", "Anders", "Line"]
LANGUAGES = ["ar", "uk", "fa_AF", "so", "ti", "en", "da", "ar", "uk", "fa"]
TEXTS = {
    "country": ["Syria", "Ukraine", "Afghanistan", "Eritrea", "Somalia", "Iran", "Iraq"],
    "work_before": ["Nurse", "Teacher", "Electrician", "Accountant", "Cook", "Engineer"],
    # What matching compares (programmes/bridge.yaml, `matching:`).
    "home_town": ["Aarhus", "Viby J", "København NV", "Odense", "Aalborg", "Frederiksberg"],
    "interests": ["Football, cooking", "Reading and walks", "Cooking", "Music, football"],
    "languages": ["Danish, English", "Danish, English, Arabic", "Danish, German"],
    "other_languages": ["Arabic, English", "Ukrainian, Russian", "Dari, English", "Somali"],
}
DEFAULT_TEXT = "I would like to work with people."


class DemoError(Exception):
    """The demo data cannot be written here."""


@dataclass(frozen=True)
class DemoSummary:
    mentees: int
    mentors: int
    matches: int
    flags: int


def _value(questionnaire: Questionnaire, question_id: str, rng: random.Random) -> AnswerValue:
    question = questionnaire.question(question_id)
    # Most pairs do fine: an answer that raises a flag comes now and then, not every time.
    calm = [c for c in question.choice_ids if not question.raised_flags(_typed(question, c))]
    if calm and question.type in {QuestionType.SINGLE, QuestionType.SCALE} and rng.random() < 0.85:
        return _typed(question, rng.choice(calm))
    match question.type:
        case QuestionType.SINGLE:
            return rng.choice(question.choice_ids)
        case QuestionType.MULTI:
            return rng.sample(question.choice_ids, k=rng.randint(1, min(3, len(question.options))))
        case QuestionType.SCALE:
            return int(rng.choice(question.choice_ids))
        case QuestionType.NUMBER:
            assert question.min is not None and question.max is not None
            return rng.randint(question.min, min(question.max, question.min + 40))
        case QuestionType.TEXT:
            return rng.choice(TEXTS.get(question_id, [DEFAULT_TEXT]))
    return None


def _typed(question: Question, choice: str) -> AnswerValue:
    return int(choice) if question.type is QuestionType.SCALE else choice


async def _answer_all(
    session: AsyncSession,
    participant: Participant,
    questionnaire: Questionnaire,
    occasion: str,
    at: datetime,
    rng: random.Random,
    name: str | None = None,
) -> SurveyRun:
    """A completed named run, each question answered along the questionnaire's skip logic."""
    run = SurveyRun(
        participant_id=participant.id,
        programme_id=participant.programme_id,
        language=participant.language,
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        occasion=occasion,
        status=RunStatus.COMPLETED,
        draft=[],
        started_at=at,
        completed_at=at + timedelta(minutes=6),
    )
    session.add(run)
    await session.flush()
    values: dict[str, AnswerValue] = {}
    question = questionnaire.next_after(None, values)
    while question is not None:
        if question.type is not QuestionType.INFO:
            value = (
                name if question.id == "name" and name else _value(questionnaire, question.id, rng)
            )
            values[question.id] = value
            await repo.record_answer(session, run.id, question.id, value, at=at)
            await flag_answer(session, run, question, value)
        question = questionnaire.next_after(question.id, values)
    return run


async def seed_demo(
    session: AsyncSession,
    programmes: dict[str, Programme],
    questionnaires: dict[str, Questionnaire],
    programme_code: str = "bridge",
    now: datetime | None = None,
    seed: int = 7,
    *,
    beside: Collection[str] = (),
) -> DemoSummary:
    """The made-up programme in a database without participants (`beside`: but for those of
    these channels, the terminal demo's people in the demo's own database)."""
    now = now or clock_now(session)
    rng = random.Random(seed)
    others = select(func.count()).select_from(Participant)
    if await session.scalar(others.where(Participant.channel.not_in(list(beside)))):
        raise DemoError("the database already has participants; use an empty one for the demo")
    programme = programmes[programme_code]
    row = await repo.programme_by_code(session, programme_code)
    if row is None:
        raise DemoError(f"no programme '{programme_code}' in the database")
    await demo_admin(session, programme_code)

    def person(role: str, number: int, language: str, status: str) -> Participant:
        return Participant(
            channel=DEMO_CHANNEL, channel_user_id=f"{role}-{number}", programme_id=row.id,
            role=role, status=status, language=language, consent_version="demo",
            consent_given_at=now - timedelta(days=200 - number * 5),
        )  # fmt: skip

    mentees = [person("mentee", i, LANGUAGES[i % len(LANGUAGES)], "waiting") for i in range(16)]
    mentors = [person("mentor", i, "da", "waiting") for i in range(len(MENTOR_NAMES))]
    session.add_all([*mentees, *mentors])
    await session.flush()
    for i, mentee in enumerate(mentees):
        intake = questionnaires[programme.intake["mentee"]]
        joined = now - timedelta(days=190 - i * 6)
        await _answer_all(session, mentee, intake, "intake", joined, rng, NAMES[i])
    for i, mentor in enumerate(mentors):
        intake = questionnaires[programme.intake["mentor"]]
        await _answer_all(
            session, mentor, intake, "intake", now - timedelta(days=180 - i), rng, MENTOR_NAMES[i]
        )

    matches = 0
    for i, mentor in enumerate(mentors):
        started = now - timedelta(days=150 - i * 18)
        await create_match(session, programmes, mentees[i].id, mentor.id, started)
        matches += 1
    await session.flush()
    contacts = await session.scalars(
        select(Contact).where(Contact.due_at < now).order_by(Contact.due_at)
    )
    for number, contact in enumerate(contacts):
        participant = await session.get(Participant, contact.participant_id)
        assert participant is not None
        contact.sent_at = contact.delivered_at = contact.due_at
        named = programme.anonymity_of(contact.questionnaire_id) is Anonymity.NAMED
        if number % 7 == 3:  # now and then, nobody answers
            contact.state, contact.closed_at = ContactState.EXPIRED, contact.due_at
            contact.reminders_sent = len(programme.schedule.reminders)
            await raise_flag(
                session, programme_id=row.id, participant_id=participant.id,
                category=UNREACHABLE, severity=Severity.SOON,
                questionnaire_id=contact.questionnaire_id,
            )  # fmt: skip
            continue
        contact.state, contact.answered_at = ContactState.ANSWERED, contact.due_at
        if named:
            run = await _answer_all(
                session, participant, questionnaires[contact.questionnaire_id],
                f"contact-{contact.id}", contact.due_at, rng,
            )  # fmt: skip
            contact.run_id = run.id

    await raise_flag(
        session, programme_id=row.id, participant_id=mentees[2].id, category=TALK_TO_PERSON,
        severity=Severity.SOON, answer="Can someone help me with my CV before Friday?",
    )  # fmt: skip
    await raise_flag(
        session, programme_id=row.id, participant_id=mentees[5].id, category=DANGER,
        severity=Severity.URGENT, answer="I am afraid to go home, my husband is very angry",
    )  # fmt: skip
    for mentee in mentees[len(mentors) :]:
        mentee.status = ParticipantStatus.WAITING
    flags = await repo.count_flags(session, row.id)
    await session.flush()
    return DemoSummary(len(mentees), len(mentors), matches, flags)


async def open_demo(
    session: AsyncSession,
    programmes: dict[str, Programme],
    questionnaires: dict[str, Questionnaire],
    beside: Collection[str],
    programme_code: str = "bridge",
) -> DemoSummary | None:
    """The demo's own database made ready for the dashboard: filled with the made-up programme
    the first time (the terminal demo's people, of the channels `beside`, may be there
    already), and the demo admin let in with DEMO_PASSWORD every time, whatever was changed
    since. The summary when it was filled now; None when it had been before."""
    made_up = select(Participant.id).where(Participant.channel == DEMO_CHANNEL).limit(1)
    if await session.scalar(made_up) is None:
        return await seed_demo(session, programmes, questionnaires, programme_code, beside=beside)
    await demo_admin(session, programme_code)
    return None


async def demo_admin(session: AsyncSession, programme_code: str) -> Coordinator:
    """The demo's admin of the programme, with the log-in DEMO_EMAIL / DEMO_PASSWORD: made the
    first time, and given back its password and admin role if someone changed them in the
    dashboard. A demo database only: the password is printed for anyone to read."""
    admin = await session.scalar(select(Coordinator).where(Coordinator.email == DEMO_EMAIL))
    if admin is None:
        admin, _ = await invite_coordinator(session, programme_code, "Demo Admin", "admin", "en")
    programme = await repo.programme_by_code(session, programme_code)
    if programme is None:
        raise DemoError(f"no programme '{programme_code}' in the database")
    role = await session.scalar(
        select(CoordinatorRole).where(
            CoordinatorRole.coordinator_id == admin.id,
            CoordinatorRole.programme_id == programme.id,
        )
    )
    if role is None:
        session.add(
            CoordinatorRole(coordinator_id=admin.id, programme_id=programme.id, role="admin")
        )
    else:
        role.role = "admin"
    await set_login(session, admin, DEMO_EMAIL, DEMO_PASSWORD)
    return admin
