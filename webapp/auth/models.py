"""Users of the back office and the login-attempt log used for throttling."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
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
    """Every login attempt; failures inside the window lock the name and the address."""

    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    success: Mapped[bool] = mapped_column(Boolean)
