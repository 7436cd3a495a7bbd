"""Users of the back office and the login-attempt log used for throttling."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime, utcnow
from ..extensions import db


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Login name, unique, case-sensitive.
    username: Mapped[str] = mapped_column(String(80), unique=True)
    #: Name shown in the UI and the audit trail.
    display_name: Mapped[str] = mapped_column(String(80))
    #: Werkzeug password hash (scrypt); the password itself is never stored.
    password_hash: Mapped[str] = mapped_column(String(255))
    #: One of ``webapp.roles.ALL``.
    role: Mapped[str] = mapped_column(String(20), index=True)
    #: The inspector-pool entry an inspector or team lead acts as.
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("inspector.id"), unique=True)
    #: The department a team lead leads (scopes what they see).
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Moved on by a password change, "sign out everywhere" and deactivation: a known-device cookie or app
    #: key stamped with an earlier value no longer counts (issue #11 point 8, ``webapp.auth.known``).
    credential_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    inspector = relationship("Inspector", foreign_keys=[inspector_id])
    department = relationship("Department", foreign_keys=[department_id])

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def audit_view(self) -> dict:
        return {"username": self.username, "display_name": self.display_name, "role": self.role,
                "inspector_id": self.inspector_id, "department_id": self.department_id,
                "active": self.active}


class LoginAttempt(db.Model):
    """Every password attempt (the trail, issue #11 point 8): recent failures from an address throttle that
    address, and recent failures on a name slow that name down (a growing delay, never a lock); a device
    the account signed in from before is not slowed down."""

    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    #: False until the password proved right (a pending attempt counts as a failure, so two at once
    #: cannot both slip through the delay).
    success: Mapped[bool] = mapped_column(Boolean)
    #: ``login`` (the sign-in page), ``token`` (the app's ``POST /api/v1/token``) or ``reauth`` (the
    #: current password asked on a password change).
    kind: Mapped[str] = mapped_column(String(20), default="login", server_default="login")
    #: Why the attempt was refused without checking the password: ``address`` or ``account``; else None.
    refused: Mapped[str | None] = mapped_column(String(20))
    #: Made from a device that signed in to this account before (it skips the per-account delay).
    known_device: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class UserSession(db.Model):
    """One web sign-in (issue #11 point 7). The signed session cookie carries a secret whose hash is
    ``key_hash``; every request looks the row up, so logging out, a password change or a revoke ends the
    session on every worker, and a copied cookie stops working with it."""

    __tablename__ = "user_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The browser's User-Agent, shortened: how the owner recognises the device.
    device: Mapped[str] = mapped_column(String(200), default="")
    #: The address it was last seen from.
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: ``logout``, ``revoked`` (by the owner), ``admin``, ``password`` or ``deactivated``.
    revoked_reason: Mapped[str | None] = mapped_column(String(20))

    user = relationship("User")
