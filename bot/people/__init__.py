"""The participants: the register, a person's profile and timeline, their own data, erasure and
retention, and the keyed hash that keeps anonymous answers apart from names."""

from __future__ import annotations

from bot.people.anonymity import (
    Secret,
    anonymous_occasion,
    existing_secret,
    keys_linked,
    load_secret,
    respondent_key,
    run_of_contact,
    write_secret_file,
)
from bot.people.flag_details import FlagPage, due_days, flag_page
from bot.people.participants import (
    PARTICIPANT_COLUMNS,
    ParticipantFilter,
    languages_in_use,
    list_participants,
    names_of,
    participant_table,
)
from bot.people.privacy import apply_retention, erase_person, personal_data
from bot.people.profile import (
    ANONYMOUS_FLAG,
    CONTACT_STATES,
    NOT_FOUND,
    ROLES,
    STATUSES,
    flag_context,
    own_participant,
    participant_profile,
)
from bot.people.stored import IntakeRecord, intake_record
from bot.people.timeline import participant_timeline

__all__ = [
    "ANONYMOUS_FLAG",
    "CONTACT_STATES",
    "NOT_FOUND",
    "PARTICIPANT_COLUMNS",
    "ROLES",
    "STATUSES",
    "FlagPage",
    "IntakeRecord",
    "ParticipantFilter",
    "Secret",
    "anonymous_occasion",
    "apply_retention",
    "due_days",
    "erase_person",
    "existing_secret",
    "flag_context",
    "flag_page",
    "intake_record",
    "keys_linked",
    "languages_in_use",
    "list_participants",
    "load_secret",
    "names_of",
    "own_participant",
    "participant_profile",
    "participant_table",
    "participant_timeline",
    "personal_data",
    "respondent_key",
    "run_of_contact",
    "write_secret_file",
]
