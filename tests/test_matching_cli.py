"""`match suggest` on the command line, the ranking read from the database (intake answers,
running matches, names), and a programme's capacity: a mentor may take as many mentees at once
as the programme allows, and stays matched while one of their pairs runs."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.core import Core, build_core
from bot.course import MatchError, create_match, end_match
from bot.matching import mentor_ranking
from bot.settings import Settings, load_settings
from storage import repositories as repo
from storage.models import AuditEntry, EndReason, Participant, SurveyRun
from tests.course import T0, FakeClock, enrolled


async def answered(core: Core, key: str, role: str, name: str, **answers: object) -> int:
    """Someone of bridge who finished the intake with these answers."""
    person = await enrolled(core, key, role, code="bridge")
    async with core.sessions() as session:
        run = await session.scalar(select(SurveyRun).where(SurveyRun.participant_id == person.id))
        assert run is not None
        for question, value in {"name": name, **answers}.items():
            await repo.record_answer(session, run.id, question, value)
        await session.commit()
    return person.id


@pytest.fixture
def people(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Amina (1) wants a woman, in health, in Aarhus; Mette (2) fits, Hanne (3) a little, Jens
    (4) is a man."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TIMEZONE", "Europe/Copenhagen")

    async def seed() -> None:
        core = await build_core(load_settings(), FakeClock(T0))
        try:
            await answered(core, "100", "mentee", "Amina", industry="health",
                           home_town="Aarhus", mentor_gender="woman")  # fmt: skip
            await answered(core, "200", "mentor", "Mette", gender="woman", industry="health",
                           home_town="Risskov")  # fmt: skip
            await answered(core, "300", "mentor", "Hanne", gender="woman", industry="it")
            await answered(core, "400", "mentor", "Jens", gender="man", industry="health")
        finally:
            await core.close()

    asyncio.run(seed())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args), FakeClock(T0))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_match_suggest_ranks_the_mentors_with_reasons_and_says_how_to_match(
    people: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "match", "suggest", "--mentee", "1")
    assert code == 0
    lines = out.splitlines()
    assert (
        lines[0] == "Mentors for mentee 1 (Amina) in bridge, best first (score out of 11; 2 fit):"
    )
    assert lines[1].split() == ["mentor", "name", "mentees", "score", "reasons"]
    assert lines[2].split()[:5] == ["1", "2", "Mette", "0/1", "9"]
    assert lines[2].endswith(
        "The mentee's wish: A woman; Same field: Health and medicine; "
        "Speaks the same language: English; Lives in the same area: Aarhus"
    )  # both use the bot in English
    assert lines[3].split()[:5] == ["2", "3", "Hanne", "0/1", "3"]
    assert lines[4] == "Not suggested: 1 do not meet the rule 'The mentee's wish'."
    assert lines[5] == "To match: python -m bot match create --mentee 1 --mentor N"

    code, out, _ = run(capsys, "match", "suggest", "--mentee", "1", "--limit", "1")
    assert "Mette" in out and "Hanne" not in out

    code, out, _ = run(capsys, "match", "create", "--mentee", "1", "--mentor", "2")
    assert code == 0


def test_match_suggest_says_plainly_when_no_mentor_fits(
    people: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async def busy() -> None:
        core = await build_core(load_settings(), FakeClock(T0))
        try:
            other = await answered(core, "500", "mentee", "Sara")
            async with core.sessions() as session:
                await create_match(session, core.programmes, other, 2)
                hanne = await session.get(Participant, 3)
                assert hanne is not None
                hanne.status = "ended"
                await session.commit()
        finally:
            await core.close()

    asyncio.run(busy())
    code, out, _ = run(capsys, "match", "suggest", "--mentee", "1")
    assert code == 0
    assert out.strip() == (
        "No mentor fits mentee 1 (Amina) now. Not suggested: 1 already have 1 mentee(s), as many "
        "as the programme allows; 1 cannot take a mentee (intake not finished, course ended, "
        "dropped out or withdrew); 1 do not meet the rule 'The mentee's wish'."
    )


def test_match_suggest_is_audited_and_refuses_what_cannot_be_matched(
    people: None, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "match", "suggest", "--mentee", "1")

    async def audited() -> list[tuple[str, int | None, str | None]]:
        core = await build_core(load_settings(), FakeClock(T0))
        try:
            async with core.sessions() as session:
                rows = await session.scalars(select(AuditEntry))
                return [(r.action, r.participant_id, r.detail) for r in rows]
        finally:
            await core.close()

    ((action, participant, detail),) = asyncio.run(audited())
    assert (action, participant) == ("view", 1)
    assert detail is not None and detail.startswith("2 mentor suggestions, by ")

    code, _, err = run(capsys, "match", "suggest", "--mentee", "2")
    assert (code, err.strip()) == (2, "mentorbot: error: Participant 2 is a mentor, not a mentee.")
    code, _, err = run(capsys, "match", "suggest", "--mentee", "99")
    assert err.strip() == "mentorbot: error: There is no participant 99."
    run(capsys, "match", "create", "--mentee", "1", "--mentor", "2")
    code, _, err = run(capsys, "match", "suggest", "--mentee", "1")
    assert err.strip() == "mentorbot: error: Participant 1 is already in a match."


# --- capacity ------------------------------------------------------------------------------------


@pytest.fixture
def roomy(settings: Settings, tmp_path: Path) -> Settings:
    """bridge, with room for two mentees per mentor."""
    folder = tmp_path / "programmes"
    folder.mkdir()
    text = (settings.programmes_dir / "bridge.yaml").read_text(encoding="utf-8")
    assert "  capacity: 1\n" in text
    (folder / "bridge.yaml").write_text(text.replace("  capacity: 1\n", "  capacity: 2\n"))
    return settings.model_copy(update={"programmes_dir": folder})


async def test_a_mentor_takes_as_many_mentees_as_the_programme_allows(roomy: Settings) -> None:
    core = await build_core(roomy, FakeClock(T0))
    try:
        mentees = [await answered(core, f"m{i}", "mentee", f"Mentee {i}") for i in range(3)]
        mentor = await answered(core, "lars", "mentor", "Lars")
        async with core.sessions() as session:
            first = await create_match(session, core.programmes, mentees[0], mentor)
            ranking = await mentor_ranking(session, core.programmes, mentees[1])
            (suggested,) = ranking.suggested
            assert (suggested.mentor.id, suggested.mentor.mentees) == (mentor, 1)
            await create_match(session, core.programmes, mentees[1], mentor)
            ranking = await mentor_ranking(session, core.programmes, mentees[2])
            assert ranking.suggested == [] and ranking.left_out == {"full": 1}
            with pytest.raises(MatchError, match=f"Participant {mentor} is already in a match"):
                await create_match(session, core.programmes, mentees[2], mentor)
            await session.commit()
        async with core.sessions() as session:
            await end_match(session, core.programmes, first.id, EndReason.ENDED_BY_MENTEE,
                            T0 + timedelta(days=3))  # fmt: skip
            lars = await session.get(Participant, mentor)
            assert lars is not None and lars.status == "matched"  # his other pair runs on
            await create_match(session, core.programmes, mentees[2], mentor)
            await session.commit()
    finally:
        await core.close()


async def test_with_room_for_one_a_matched_mentor_is_full(core: Core) -> None:
    mentee = await answered(core, "m", "mentee", "Mentee")
    other = await answered(core, "o", "mentee", "Other")
    mentor = await answered(core, "lars", "mentor", "Lars")
    async with core.sessions() as session:
        match = await create_match(session, core.programmes, other, mentor)
        assert (await mentor_ranking(session, core.programmes, mentee)).left_out == {"full": 1}
        await session.commit()
    async with core.sessions() as session:
        await end_match(session, core.programmes, match.id, EndReason.COMPLETED)
        lars = await session.get(Participant, mentor)
        assert lars is not None and lars.status == "ended"  # as before: his only pair ended
