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
    Integer,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
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


def utcnow() -> datetime:
    return datetime.now(UTC)


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


class AnswerStatus(StrEnum):
    ANSWERED = "answered"
    SKIPPED = "skipped"
    DECLINED = "declined"  # "Prefer not to say"


class Programme(Base):
    """A programme's row; its definition lives in `programmes/*.yaml` and is synced at start."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_user_id: Mapped[str] = mapped_column(String(64))
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="mentee")
    language: Mapped[str | None] = mapped_column(String(16))
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_given_at: Mapped[datetime | None]
    consent_declined_at: Mapped[datetime | None]
    # The channel's id of the message that shows the current question, so its buttons can be
    # removed once it is answered by typing.
    prompt_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    programme: Mapped[Programme | None] = relationship(lazy="joined")


class SurveyRun(Base):
    """One person answering one questionnaire on one occasion (the intake, a check-in...)."""

    __tablename__ = "survey_runs"
    __table_args__ = (UniqueConstraint("participant_id", "questionnaire_id", "occasion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    questionnaire_id: Mapped[str] = mapped_column(String(64))
    questionnaire_version: Mapped[int] = mapped_column(Integer)
    occasion: Mapped[str] = mapped_column(String(64), default="intake")
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.IN_PROGRESS)
    current_question_id: Mapped[str | None] = mapped_column(String(64))
    # Choices ticked on the current multi-choice question before "Done" is pressed.
    draft: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    participant: Mapped[Participant] = relationship(lazy="joined")


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
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedUpdate(Base):
    """Updates already handled: Telegram redelivers until confirmed, so each is done once."""

    __tablename__ = "processed_updates"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)
