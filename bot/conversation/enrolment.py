"""Joining a programme: through its deep link (mentee and mentor links differ), or the default
programme of this installation."""

from __future__ import annotations

from bot.conversation.turn import Turn
from bot.language import texts
from bot.messages import Input, Start
from bot.programmes import Programme
from storage import repositories as repo
from storage.models import Participant
from storage.models import Programme as ProgrammeRow


async def enrol(turn: Turn, incoming: Input) -> Programme | None:
    """The programme the person is in, joining one if the input carries its link; None (and
    a reply that says so) while they are in none."""
    participant, programmes = turn.participant, turn.setup.programmes
    if isinstance(incoming, Start) and incoming.payload:
        found = programme_for_code(programmes, incoming.payload)
        row = await repo.programme_by_code(turn.session, found[0].code) if found else None
        if found is None or row is None:
            turn.say(texts.UNKNOWN_LINK)
        elif participant.programme_id is None:
            _join(participant, row, found[1])
    default = turn.setup.config.default_programme
    if participant.programme is None and default:
        row = await repo.programme_by_code(turn.session, default)
        if row is not None and row.code in programmes:
            _join(participant, row, "mentee")
    if participant.programme is None:
        if not turn.reply.messages:
            turn.say(texts.NO_PROGRAMME)
        return None
    return programmes[participant.programme.code]


def programme_for_code(programmes: dict[str, Programme], code: str) -> tuple[Programme, str] | None:
    """The programme and role a deep-link code stands for."""
    for programme in programmes.values():
        role = programme.role_for_code(code)
        if role is not None:
            return programme, role
    return None


def _join(participant: Participant, row: ProgrammeRow, role: str) -> None:
    participant.programme = row
    participant.programme_id = row.id
    participant.role = role
