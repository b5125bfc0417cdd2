"""People, their roles and scopes, login sessions and API tokens."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mel.catalogue.models import OrgUnit, Programme, _in
from mel.db import Base, utcnow
from mel.i18n import N_

ROLES = ("officer", "reviewer", "secretariat", "viewer")
ROLE_LABELS = {  # English; User.role_label gives them in the page's language (mel/i18n.py)
    "officer": N_("M&E officer"),
    "reviewer": N_("MERL TWG reviewer"),
    "secretariat": N_("Secretariat"),
    "viewer": N_("Viewer"),
}

user_programme = Table(
    "user_programme",
    Base.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("programme_id", ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True),
)

user_org_unit = Table(
    "user_org_unit",
    Base.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("org_unit_id", ForeignKey("org_unit.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    """A person with one role; officers are scoped to programmes and org units."""

    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    # The organisation an officer works for; work-plan progress is recorded by the lead agency's officers.
    agency: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The language of the person's screens and e-mails ("" follows the browser; mel/i18n.py LANGUAGES).
    locale: Mapped[str] = mapped_column(String(8), default="", server_default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Two-factor sign-in (RFC 6238 TOTP, mel/accounts/two_factor.py): the shared secret (base32), when it
    # was confirmed, and the last time step accepted (a code is accepted once).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    programmes: Mapped[list[Programme]] = relationship(
        secondary=user_programme, lazy="raise", order_by="Programme.code"
    )
    org_units: Mapped[list[OrgUnit]] = relationship(
        secondary=user_org_unit, lazy="raise", order_by="OrgUnit.code"
    )

    # Flask-Login protocol; the id it stores is the login session's token, not the user id.
    session_token = None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def role_label(self) -> str:
        return gettext(ROLE_LABELS[self.role])

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @property
    def has_two_factor(self) -> bool:
        return bool(self.totp_secret and self.totp_enabled_at)


class LoginSession(Base):
    """A server-side web session, so logout and expiry take effect on the server."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")

    user: Mapped[User] = relationship(lazy="raise")


class ApiToken(Base):
    """A bearer token for programme systems; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120), default="")
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="raise")


SIGN_IN_OUTCOMES = ("pending", "failure", "success", "throttled")


class SignInAttempt(Base):
    """One sign-in attempt, recorded (as "pending") and committed before the password is checked.

    Throttling counts these rows, so parallel attempts see each other and can only refuse more.
    """

    __tablename__ = "sign_in_attempt"
    __table_args__ = (
        CheckConstraint(_in("outcome", SIGN_IN_OUTCOMES), name="outcome_known"),
        Index("ix_sign_in_attempt_email_at", "email", "attempted_at"),
        Index("ix_sign_in_attempt_remote_addr_at", "remote_addr", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    email: Mapped[str] = mapped_column(String(254))  # normalised, whether or not an account has it
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(12), default="pending")


class AuditEvent(Base):
    """Who did what to which object, from where: sign-ins, tokens and administrative actions."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(String(254), default="")  # e-mail (kept if the user goes)
    action: Mapped[str] = mapped_column(String(40), index=True)
    object: Mapped[str] = mapped_column(String(200), default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class RecoveryCode(Base):
    """A one-time recovery code for two-factor sign-in (a lost phone); only its SHA-256 is stored."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
