"""`match suggest`: the mentors to suggest for a waiting mentee, best first, with their score
and the reasons in words; or, when none fits, why not. `match create` then makes the match."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.cli.common import _admin, print_table, run_with_core
from bot.coordination import audit
from bot.core import Core
from bot.matching import Left, Ranking, mentor_ranking, reason_text
from bot.programmes import Programme, Questionnaire
from bot.settings import Settings
from storage import repositories as repo

if TYPE_CHECKING:
    from bot.cli.common import Commands

DEFAULT_LIMIT = 5


def add_suggest(match_commands: Commands) -> None:
    suggest = match_commands.add_parser(
        "suggest", help="the mentors that fit a waiting mentee best, with the reasons"
    )
    suggest.add_argument(
        "--mentee", type=int, required=True, help="the mentee's participant number"
    )
    suggest.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT,
        help=f"show at most this many mentors (default {DEFAULT_LIMIT})",
    )  # fmt: skip
    suggest.set_defaults(handler=cmd_suggest)


def cmd_suggest(settings: Settings, args: argparse.Namespace) -> int:
    async def work(core: Core) -> int:
        async with core.sessions() as session:
            ranking = await mentor_ranking(session, core.programmes, args.mentee)
            programme = core.programmes[ranking.mentee.programme]
            row = await repo.programme_by_code(session, programme.code)
            shown = min(len(ranking.suggested), max(args.limit, 0))
            await audit(
                session, None, "view", programme_id=row.id if row else None,
                participant_id=args.mentee, detail=f"{shown} mentor suggestions, {_admin()}",
            )  # fmt: skip
            await session.commit()
        print_suggestions(ranking, programme, core.questionnaires, args.limit)
        return 0

    return run_with_core(settings, args.clock, work)


def print_suggestions(
    ranking: Ranking,
    programme: Programme,
    questionnaires: Mapping[str, Questionnaire],
    limit: int = DEFAULT_LIMIT,
) -> None:
    """The suggestions as the command prints them (in English, as the command line speaks)."""
    mentee = ranking.mentee
    who = f"mentee {mentee.id}" + (f" ({mentee.name})" if mentee.name else "")
    suggested = ranking.suggested
    left = left_out_text(ranking, programme)
    if not suggested:
        print(f"No mentor fits {who} now. {left}".rstrip())
        return
    print(
        f"Mentors for {who} in {programme.code}, best first "
        f"(score out of {ranking.best_score}; {len(suggested)} fit):"
    )
    rows = []
    for place, assessment in enumerate(suggested[: max(limit, 0)], start=1):
        mentor = assessment.mentor
        reasons = "; ".join(
            reason_text(reason, programme, questionnaires) for reason in assessment.reasons
        )
        rows.append(
            (place, mentor.id, mentor.name or "", f"{mentor.mentees}/{programme.matching.capacity}",
             assessment.score, reasons or "-")
        )  # fmt: skip
    print_table(["", "mentor", "name", "mentees", "score", "reasons"], rows)
    if left:
        print(left)
    print(f"To match: python -m bot match create --mentee {mentee.id} --mentor N")


def left_out_text(ranking: Ranking, programme: Programme) -> str:
    """Why the other mentors of the programme are not suggested, counted."""
    if not ranking.assessed:
        return "The programme has no mentors yet."
    counted = ranking.left_out
    labels = {criterion.id: criterion.label for criterion in programme.matching.criteria}
    parts = []
    if counted[Left.FULL]:
        parts.append(
            f"{counted[Left.FULL]} already have {programme.matching.capacity} "
            "mentee(s), as many as the programme allows"
        )
    if counted[Left.UNAVAILABLE]:
        parts.append(
            f"{counted[Left.UNAVAILABLE]} cannot take a mentee "
            "(intake not finished, course ended, dropped out or withdrew)"
        )
    for key, count in counted.items():
        if key in labels:
            parts.append(f"{count} do not meet the rule '{labels[key]}'")
    return f"Not suggested: {'; '.join(parts)}." if parts else ""
