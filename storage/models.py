"""Typed SQLAlchemy models: the database is the bot's only memory (DESIGN.md, principle 1)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The `info` of a column the session sets to its clock's time when the row is first written
# (storage/database.py); models never read the wall clock.
STAMPED: dict[str, Any] = {"stamped": "by the session's clock on insert"}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class RunStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    PARTIAL = "partial"  # the contact expired before the person finished; answers are kept


class ParticipantStatus(StrEnum):
    INTAKE = "intake"
    WAITING = "waiting"  # for a match
    MATCHED = "matched"
    ENDED = "ended"
    DROPPED_OUT = "dropped_out"
    WITHDRAWN = "withdrawn"  # asked for their data to be deleted


class ContactState(StrEnum):
    PLANNED = "planned"
    SENT = "sent"
    ANSWERED = "answered"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class EndReason(StrEnum):
    COMPLETED = "completed"
    ENDED_BY_MENTOR = "ended_by_mentor"
    ENDED_BY_MENTEE = "ended_by_mentee"
    NOT_REACHABLE = "not_reachable"
    GOAL_REACHED_EARLY = "goal_reached_early"
    OTHER = "other"


class AnswerStatus(StrEnum):
    ANSWERED = "answered"
    SKIPPED = "skipped"
    DECLINED = "declined"  # "Prefer not to say"


class Programme(Base):
    """A programme and its definition (see bot/programmes/store.py): from its file in
    `programmes/` at every start, or created in the dashboard; settings an admin changed in
    the dashboard are kept over the file's."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(info=STAMPED)
    # The programme as data, in the shape of a programme file; None for a programme whose file
    # was removed before definitions were stored (it has no rules the bot could follow).
    definition: Mapped[dict[str, Any] | None]
    # Bumped on every change, so running processes notice and reload.
    updated_at: Mapped[datetime] = mapped_column(info=STAMPED)
    # Set when an admin changed or created it in the dashboard: its settings are kept.
    edited_at: Mapped[datetime | None]


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_user_id: Mapped[str] = mapped_column(String(64))
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="mentee")
    status: Mapped[str] = mapped_column(
        String(16), default=ParticipantStatus.INTAKE, server_default=ParticipantStatus.INTAKE.value
    )
    language: Mapped[str | None] = mapped_column(String(16))
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_given_at: Mapped[datetime | None]
    consent_declined_at: Mapped[datetime | None]
    # The channel's id of the message that shows the current question, so its buttons can be
    # removed once it is answered by typing.
    prompt_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # The scheduled contact the person is answering now (no foreign key: a contact row
    # refers to its participant, and the two must be deletable in any order).
    active_contact_id: Mapped[int | None]
    # Set while the bot waits for the words of someone who asked to talk to a person.
    talk_requested_at: Mapped[datetime | None]
    # Set while the bot waits for the person's answer to their coordinator's message on a flag.
    answering_flag_id: Mapped[int | None]
    # When the person last wrote or tapped: reminders wait while they are talking to us.
    last_active_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(info=STAMPED)
    withdrawn_at: Mapped[datetime | None]

    programme: Mapped[Programme | None] = relationship(lazy="joined")


class SurveyRun(Base):
    """One person answering one questionnaire on one occasion (the intake, a check-in...)."""

    __tablename__ = "survey_runs"
    __table_args__ = (
        UniqueConstraint("participant_id", "questionnaire_id", "occasion"),
        UniqueConstraint("respondent_key", "questionnaire_id", "occasion"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Named runs point at their participant; anonymous runs have no participant, only a
    # pseudonymous respondent key (a keyed hash: see bot/people/anonymity.py).
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    respondent_key: Mapped[str | None] = mapped_column(String(64), index=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    language: Mapped[str | None] = mapped_column(String(16))
    questionnaire_id: Mapped[str] = mapped_column(String(64))
    questionnaire_version: Mapped[int] = mapped_column(Integer)
    occasion: Mapped[str] = mapped_column(String(64), default="intake")
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.IN_PROGRESS)
    current_question_id: Mapped[str | None] = mapped_column(String(64))
    # Choices ticked on the current multi-choice question before "Done" is pressed.
    draft: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(info=STAMPED)
    completed_at: Mapped[datetime | None]

    participant: Mapped[Participant | None] = relationship(lazy="joined")


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("run_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("survey_runs.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=AnswerStatus.ANSWERED)
    answered_at: Mapped[datetime] = mapped_column(info=STAMPED)


class InboxState(StrEnum):
    PENDING = "pending"  # stored, not yet done (perhaps being worked on, or tried and failed)
    DONE = "done"  # its effects are committed
    PARKED = "parked"  # failed `INBOX_MAX_ATTEMPTS` times; set aside with its error


class InboxUpdate(Base):
    """An update as the channel delivered it, committed before the channel is told it arrived
    (storage/inbox.py). It is marked done in the same transaction as its effects, and a
    repeated (channel, update id) is not stored again: each update takes effect once."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "update_id"),
        Index("ix_inbox_channel_state_chat", "channel", "state", "chat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)  # the order of arrival
    channel: Mapped[str] = mapped_column(String(32))
    update_id: Mapped[int] = mapped_column(BigInteger)
    # The conversation it belongs to: updates of one chat are processed one after another.
    chat: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    # Counted when an attempt begins, in its own transaction: a crash counts too.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    state: Mapped[str] = mapped_column(
        String(8), default=InboxState.PENDING, server_default=InboxState.PENDING.value
    )
    # The class of the last exception (never its message, which may quote personal data).
    error: Mapped[str | None] = mapped_column(String(100))
    # On PostgreSQL with several processes: the worker (storage/workers.py) that began the
    # latest attempt. While it lives, no other process begins one: its retries stay its own.
    worker: Mapped[int | None] = mapped_column(Integer)


class Match(Base):
    """A mentee and a mentor, from a start date to an end date."""

    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    started_at: Mapped[datetime]
    planned_end_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    # When coordinators were told that the planned end is near (a `match_ending` flag);
    # cleared when the match is extended, so that they are told again before the new end.
    end_notice_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(info=STAMPED)

    mentee: Mapped[Participant] = relationship(foreign_keys=[mentee_id], lazy="joined")
    mentor: Mapped[Participant] = relationship(foreign_keys=[mentor_id], lazy="joined")
    programme: Mapped[Programme] = relationship(lazy="joined")


class Contact(Base):
    """One scheduled message asking a person to answer a questionnaire; the schedule's truth."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id"), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    questionnaire_id: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(String(16), default=ContactState.PLANNED, index=True)
    # Set when the contact is claimed, before the message goes out (sending is at most once);
    # delivered_at only once the channel confirmed it.
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # expired or cancelled
    # Only for named questionnaires: an anonymous run must not be findable from here.
    run_id: Mapped[int | None] = mapped_column(ForeignKey("survey_runs.id", ondelete="SET NULL"))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(info=STAMPED)

    participant: Mapped[Participant] = relationship(lazy="joined")


class AnonymityLock(Base):
    """The mode a questionnaire version had when its first answer came in; it cannot change."""

    __tablename__ = "anonymity_locks"

    programme_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    questionnaire_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mode: Mapped[str] = mapped_column(String(24))
    locked_at: Mapped[datetime] = mapped_column(info=STAMPED)


class FlagStatus(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class Flag(Base):
    """Something a coordinator must see: an answer, a silence, a request to talk."""

    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    # None for an answer to an anonymous questionnaire, unless the person asked to be contacted.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[int | None] = mapped_column(ForeignKey("survey_runs.id", ondelete="SET NULL"))
    # Raised by an answer to an anonymous questionnaire (also once the person asked to be
    # contacted): its times, and those of its notes and audit entries, are days only.
    anonymous: Mapped[bool] = mapped_column(default=False, server_default=false())
    questionnaire_id: Mapped[str | None] = mapped_column(String(64))
    question_id: Mapped[str | None] = mapped_column(String(64))
    answer: Mapped[Any] = mapped_column(JSON, nullable=True)
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(8), index=True)
    status: Mapped[str] = mapped_column(String(12), default=FlagStatus.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(info=STAMPED)
    resolved_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(1000))
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id"))
    # Urgent flags are pushed to the coordinators once: claimed here before the push.
    pushed_at: Mapped[datetime | None]


class Coordinator(Base):
    """A programme's staff member; the same person record for Telegram and (later) the web."""

    __tablename__ = "coordinators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16), default="en")
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # sha256 of a one-time invite code; cleared once used.
    invite_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invite_expires_at: Mapped[datetime | None]
    # What the bot waits for from this coordinator: an outcome note ("resolve") or a message
    # to the participant ("reply"), on the flag `awaiting_flag_id`.
    awaiting: Mapped[str | None] = mapped_column(String(8))
    awaiting_flag_id: Mapped[int | None]
    # The web dashboard log-in of the same person (bot/coordination/accounts.py): an argon2
    # hash, never the password. Failed log-ins are throttled per client address
    # (`LoginAttempt`), never by locking the account.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # An admin's reset of this log-in: the sha256 of a one-time code the person uses to choose
    # their own password (bot/coordination/login_codes.py); a new code replaces the old one.
    login_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    login_code_expires_at: Mapped[datetime | None]
    # Runs the whole site: an admin of every programme, and sees every audit entry. Only the
    # operator at the command line makes someone a site owner (`coordinator owner`).
    site_owner: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(info=STAMPED)


class CoordinatorRole(Base):
    __tablename__ = "coordinator_roles"

    coordinator_id: Mapped[int] = mapped_column(
        ForeignKey("coordinators.id", ondelete="CASCADE"), primary_key=True
    )
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default="coordinator")  # or "admin"


class FlagMessage(Base):
    """A message on a flag: the coordinator's to the participant, or the participant's answer."""

    __tablename__ = "flag_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"), index=True)
    # None for the participant's own words.
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id"))
    # A coordinators' note for colleagues: on the flag, never sent to the participant.
    internal: Mapped[bool] = mapped_column(default=False, server_default=false())
    text: Mapped[str] = mapped_column(String(4000))
    sent_at: Mapped[datetime] = mapped_column(info=STAMPED)
    # A participant's answer is pushed to the coordinators once: claimed here before the push.
    pushed_at: Mapped[datetime | None]


class WebSession(Base):
    """A dashboard log-in. The cookie holds a random token; only its sha256 is stored."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    coordinator_id: Mapped[int] = mapped_column(
        ForeignKey("coordinators.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(info=STAMPED)
    expires_at: Mapped[datetime]

    coordinator: Mapped[Coordinator] = relationship(lazy="joined")


class LoginAttempt(Base):
    """A dashboard log-in attempt that failed, or is being checked (bot/coordination/
    login_throttle.py). The client address and the e-mail are personal data: only keyed
    hashes of them are stored (HMAC-SHA256 with the application's secret), and a row lives
    only as long as the throttling window."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_address_key_at", "address_key", "at"),
        Index("ix_login_attempts_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    address_key: Mapped[str] = mapped_column(String(64))
    account_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what, when: every coordinator action. An entry concerns one programme (shown to
    its admins), or, with no programme, one account (`account_id`: a log-in, a lock, a
    password; shown to the admins of that account's programmes); site owners see every entry
    (bot/coordination/audit_log.py)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who acted; None: the operator at the command line.
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("coordinators.id"), index=True)
    flag_id: Mapped[int | None] = mapped_column(ForeignKey("flags.id", ondelete="SET NULL"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    detail: Mapped[str | None] = mapped_column(String(1000))
    at: Mapped[datetime] = mapped_column(info=STAMPED)


class Worker(Base):
    """A bot process on a PostgreSQL database, with the share of Telegram's 30 messages a
    second it may use (storage/workers.py). It is alive while it holds the advisory lock named
    by its id; a dead one's row is deleted by the others once its messages can no longer
    count. Unused on SQLite, where one process runs at a time."""

    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Messages a second reserved for it: the reservations of all rows never add up to more
    # than the limit, and a process never sends faster than its row reserves.
    per_second: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set by a process that stopped: it sent its last message before it said so, so its
    # share is freed sooner than that of one that died without a word.
    stopped: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Where it runs, for an operator looking at the table; nothing about anyone.
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
