"""A person's way through their programme, one input at a time: join, choose a language,
consent, answer the intake, then each check-in as it comes. Which run the survey runner
works on is decided here; the runner does the questions."""

from __future__ import annotations

from bot.conversation.anonymity_choice import anonymity_for
from bot.conversation.consent import consent_prompt, consent_step
from bot.conversation.contact_me import ask_to_contact
from bot.conversation.enrolment import enrol
from bot.conversation.language_choice import first_language
from bot.conversation.runner import take_step
from bot.conversation.turn import Turn
from bot.course import apply_triggers
from bot.language import texts
from bot.messages import Action, Input, Start, Tap
from bot.people import anonymous_occasion, respondent_key, run_of_contact
from bot.programmes import INTAKE, Programme, Questionnaire
from storage import repositories as repo
from storage.database import clock_now
from storage.days import today_only
from storage.models import Contact, ContactState, ParticipantStatus, RunStatus, SurveyRun


async def next_step(turn: Turn, incoming: Input) -> None:
    """Apply the input to whatever the person is doing on the main way."""
    participant = turn.participant
    programme = await enrol(turn, incoming)
    if programme is None:
        return
    if participant.language is None:
        first_language(turn, programme, incoming)
        if participant.language is None:
            return
        turn.reply.language = participant.language
        with turn.setup.catalogs.use(participant.language):
            turn.reply.messages.append(consent_prompt())
        return
    if participant.consent_given_at is None:
        if not consent_step(turn, incoming):
            return
        incoming = Start()
    if await _intake_step(turn, programme, incoming):
        await _checkin_step(turn, programme, incoming)


async def _intake_step(turn: Turn, programme: Programme, incoming: Input) -> bool:
    """The intake until it is complete; True once it is (and this input is for what follows)."""
    participant = turn.participant
    intake = turn.setup.questionnaires[programme.intake[participant.role]]
    run = await repo.find_run(turn.session, participant.id, intake.id, INTAKE)
    if run is not None and run.status == RunStatus.COMPLETED:
        return True
    if isinstance(incoming, Tap) and incoming.press.action is Action.OPEN:
        incoming = Start()  # a check-in button while the intake is open: intake first
    if run is None:
        run = await _new_run(turn, programme, intake, INTAKE, None)
        incoming = Start(fresh=True)
    if await take_step(turn, intake, run, incoming):
        participant.status = ParticipantStatus.WAITING
        turn.say(texts.INTAKE_DONE)
    return False


async def _checkin_step(turn: Turn, programme: Programme, incoming: Input) -> None:
    """The check-in the person is answering, started (anonymously if so chosen) on first use."""
    participant, session, secret = turn.participant, turn.session, turn.setup.secret
    contact = await _current_contact(turn, incoming)
    if contact is None:
        return
    questionnaire = turn.setup.questionnaires[contact.questionnaire_id]
    run = await run_of_contact(session, secret, contact)
    if run is None:
        anonymous = anonymity_for(turn, programme, contact, incoming)
        if anonymous is None:
            return
        # An anonymous run's occasion must not lead back to the contact row (and so to the
        # person) without the secret.
        occasion = anonymous_occasion(secret, contact.id) if anonymous else f"contact:{contact.id}"
        key = respondent_key(secret, participant.id) if anonymous else None
        run = await _new_run(turn, programme, questionnaire, occasion, key)
        if not anonymous:
            contact.run_id = run.id
        incoming = Start(fresh=True)
    if not await take_step(turn, questionnaire, run, incoming):
        return
    contact.state = ContactState.ANSWERED
    # For an anonymous questionnaire only the fact that it was answered is kept.
    contact.answered_at = None if run.participant_id is None else clock_now(session)
    participant.active_contact_id = None
    answers = await repo.answers_of(session, run.id)
    values = {key: answer.value for key, answer in answers.items()}
    await apply_triggers(session, programme, participant, questionnaire.id, values)
    turn.say(texts.CONTACT_DONE)
    if run.participant_id is None and await repo.unlinked_flags(session, run.id):
        turn.reply.messages.append(ask_to_contact(run.id))


async def _new_run(
    turn: Turn, programme: Programme, questionnaire: Questionnaire, occasion: str, key: str | None
) -> SurveyRun:
    first = questionnaire.next_after(None, {})
    assert first is not None
    await repo.lock_anonymity(
        turn.session,
        programme.code,
        questionnaire.id,
        questionnaire.version,
        programme.anonymity_of(questionnaire.id).value,
    )
    now = clock_now(turn.session)
    participant = turn.participant
    return await repo.add_run(
        turn.session,
        SurveyRun(
            participant_id=None if key else participant.id,
            respondent_key=key,
            programme_id=participant.programme_id,
            language=participant.language,
            questionnaire_id=questionnaire.id,
            questionnaire_version=questionnaire.version,
            occasion=occasion,
            status=RunStatus.IN_PROGRESS,
            current_question_id=first.id,
            draft=[],
            # An anonymous run keeps only the day it began (storage/days.py).
            started_at=await today_only(turn.session, participant.programme_id) if key else now,
        ),
    )


async def _current_contact(turn: Turn, incoming: Input) -> Contact | None:
    """The contact the person is answering: the one whose button they tapped, or the
    active one. Says so kindly when there is nothing to answer."""
    participant, session = turn.participant, turn.session
    if isinstance(incoming, Tap) and incoming.press.action is Action.OPEN:
        tapped = await session.get(Contact, incoming.press.option)
        if tapped is None or tapped.participant_id != participant.id:
            turn.say(texts.NOT_UNDERSTOOD)
            return None
        if tapped.state != ContactState.SENT:
            turn.say(texts.SURVEY_CLOSED)
            return None
        participant.active_contact_id = tapped.id
    contact = (
        await session.get(Contact, participant.active_contact_id)
        if participant.active_contact_id
        else None
    )
    if contact is None or contact.state not in {ContactState.SENT, ContactState.EXPIRED}:
        # The oldest survey still waiting for an answer, if any, comes next.
        contact = await repo.oldest_open_contact(session, participant.id)
        participant.active_contact_id = contact.id if contact else None
    elif contact.state == ContactState.EXPIRED:
        # Someone who comes back to a survey that expired may still finish it (partial
        # answers become complete); anything but a button of that survey goes to a newer
        # one, if one is waiting.
        run = await run_of_contact(session, turn.setup.secret, contact)
        tapped_run = incoming.press.run if isinstance(incoming, Tap) else None
        newer = await repo.oldest_open_contact(session, participant.id)
        if newer is not None and (run is None or run.id != tapped_run):
            contact = newer
            participant.active_contact_id = newer.id
    if contact is None:
        turn.say(texts.NOTHING_OPEN)
    return contact
