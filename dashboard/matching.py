"""The mentor panel on a waiting mentee's page: the mentors that fit her best, with their score
and the reasons in the coordinator's language, a search among the programme's mentors by name
or number (each with why it is not suggested, if it is not), and a button per mentor that
makes the match (the route is in dashboard/people.py, beside the page it shows again).

Thin: the ranking and who may see it are `bot.matching`'s."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.language import _
from bot.matching import Assessment, Left, Ranking, reason_text, suggestions_for
from bot.programmes import Programme
from storage.models import Coordinator, Participant, ParticipantStatus

SHOWN = 10  # suggestions on the page; the search finds any other mentor
FOUND = 20  # search results


@dataclass(frozen=True)
class MentorRow:
    """One mentor as the panel shows them, reasons already in words."""

    id: int
    name: str | None
    score: int
    mentees: int
    reasons: list[str]
    left_out: str | None  # Left.FULL, Left.UNAVAILABLE, or a hard criterion's id
    rule: str = ""  # the hard criterion not met, in words

    @property
    def suggested(self) -> bool:
        return self.left_out is None


@dataclass(frozen=True)
class MentorPanel:
    mentee_id: int
    best_score: int
    capacity: int
    suggested: list[MentorRow]
    fitting: int  # how many mentors fit in all (more than are shown, perhaps)
    left_out: list[tuple[str, int, str]]  # (why, how many mentors, the rule in words)
    search: str
    found: list[MentorRow] | None  # None: nothing searched

    @property
    def mentors(self) -> int:
        return self.fitting + sum(count for _, count, _ in self.left_out)


def _row(assessment: Assessment, programme: Programme, core: Core) -> MentorRow:
    rules = {c.id: c.label for c in programme.matching.criteria}
    left = assessment.left_out
    return MentorRow(
        id=assessment.mentor.id,
        name=assessment.mentor.name,
        score=assessment.score,
        mentees=assessment.mentor.mentees,
        reasons=[reason_text(r, programme, core.questionnaires) for r in assessment.reasons],
        left_out=left,
        rule=_(rules[left]) if left in rules else "",
    )


def _found(ranking: Ranking, search: str) -> list[Assessment]:
    wanted = search.strip().lstrip("#").strip()
    if not wanted:
        return []
    if wanted.isdigit():
        return [a for a in ranking.assessed if a.mentor.id == int(wanted)]
    return [
        a
        for a in ranking.assessed
        if a.mentor.name is not None and wanted.casefold() in a.mentor.name.casefold()
    ][:FOUND]


async def mentor_panel(
    session: AsyncSession, coordinator: Coordinator, core: Core, person: Participant, search: str
) -> MentorPanel | None:
    """The panel for a waiting mentee of the coordinator's programmes (None for anyone else),
    its words in the active language (call it inside the coordinator's); seeing it is in the
    audit log."""
    if person.role != "mentee" or person.status != ParticipantStatus.WAITING:
        return None
    code = person.programme.code if person.programme else ""
    programme = core.programmes.get(code)
    if programme is None:
        return None
    ranking = await suggestions_for(session, coordinator, core.programmes, person.id)
    rules = {c.id: c.label for c in programme.matching.criteria}
    counted = ranking.left_out
    left = [(str(why), counted[why], "") for why in (Left.FULL, Left.UNAVAILABLE) if counted[why]]
    left += [("rule", count, _(rules[why])) for why, count in counted.items() if why in rules]
    suggested = ranking.suggested
    return MentorPanel(
        mentee_id=person.id,
        best_score=ranking.best_score,
        capacity=programme.matching.capacity,
        suggested=[_row(a, programme, core) for a in suggested[:SHOWN]],
        fitting=len(suggested),
        left_out=left,
        search=search,
        found=[_row(a, programme, core) for a in _found(ranking, search)] if search else None,
    )
