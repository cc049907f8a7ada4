"""Free text a person writes is screened for signs of danger wherever they write it: in a
questionnaire, to "talk to a person" or in an answer to their coordinator."""

from __future__ import annotations

from bot.conversation.turn import Turn
from bot.coordination import DANGER, raise_flag
from bot.language import _, isolate, texts
from bot.programmes import Severity
from storage.models import SurveyRun


async def screen_for_danger(
    turn: Turn, text: str, run: SurveyRun | None = None, question_id: str | None = None
) -> None:
    """Words that suggest danger raise an urgent flag and show where to get help now.
    A false alarm is better than a miss (docs/DANGER_SCREENING.md)."""
    participant = turn.participant
    language = participant.language or turn.setup.config.default_language
    if not turn.setup.danger.screen(text, language):
        return
    await raise_flag(
        turn.session,
        programme_id=participant.programme_id,
        participant_id=participant.id if run is None else run.participant_id,
        category=DANGER,
        severity=Severity.URGENT,
        run_id=run.id if run else None,
        questionnaire_id=run.questionnaire_id if run else None,
        question_id=question_id,
        answer=text,
    )
    # Each number in an isolate of its own: in right-to-left text "70 201 201" would otherwise
    # show as "201 201 70".
    lines = "\n".join(
        f"{_(line.label)}: {isolate(line.number, numeric=True)}"
        for line in turn.programme.help_lines
    )
    turn.say(texts.DANGER_HELP.format(lines=lines))
