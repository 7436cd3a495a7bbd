"""The enterprise's side (issue #5 §3): a link and QR code on the rectification order, with an
unguessable, expiring token. Without an account the enterprise sees its own order and uploads
rectification evidence (photos, text), which the team lead accepts or rejects. The token reaches that
one order and nothing else.

The token is ``<link id>.<HMAC(SECRET_KEY, id + nonce)>``: the database holds only the nonce, so a copy
of the database alone cannot make a working link; revoking or expiry ends it.
"""
import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.services import record
from ..db_types import UTCDateTime, today_shanghai, utcnow
from ..extensions import db
from ..inputs import int_arg
from ..services import ServiceError, transaction
from ..sync import photos as photo_store
from ..tasks.models import Task
from ..throttle import allow
from .models import Hazard

#: A link lives until 30 days after the latest deadline of its order, and at least 60 days.
LINK_MIN_DAYS, LINK_AFTER_DEADLINE_DAYS = 60, 30
MAX_EVIDENCE_PHOTOS = 6
#: Submissions through the enterprise's link per hour, per link and per client address (issue #11 point 12).
LINK_SUBMISSIONS_PER_HOUR, ADDRESS_SUBMISSIONS_PER_HOUR = 12, 30
EVIDENCE_STATES = ("pending", "accepted", "rejected")


class EnterpriseLink(db.Model):
    __tablename__ = "enterprise_link"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    task = relationship(Task)

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > utcnow()


class Evidence(db.Model):
    """What the enterprise sent through its link, for one hazard of its order."""
    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard.id"), index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("enterprise_link.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list] = mapped_column(JSON, default=list)
    #: The enterprise reports the rectification complete and asks for the re-inspection.
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    hazard = relationship(Hazard)


def _mac(link_id: int, nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"enterprise-link:{link_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def token_of(link: EnterpriseLink) -> str:
    return f"{link.id}.{_mac(link.id, link.nonce)}"


def resolve(token: str) -> EnterpriseLink | None:
    """The active link a token names, or None (unknown, forged, revoked or expired alike)."""
    head, _sep, mac = (token or "").partition(".")
    link_id = int_arg(head)  # issue #11 point 13: "²", 20 digits or a non-ASCII mac are no link, not a 500
    if link_id is None or not mac or not mac.isascii():
        return None
    link = db.session.get(EnterpriseLink, link_id)
    if link is None or not hmac.compare_digest(mac, _mac(link.id, link.nonce)):
        return None
    return link if link.active else None


def active_link(task: Task) -> EnterpriseLink | None:
    links = db.session.scalars(select(EnterpriseLink).where(EnterpriseLink.task_id == task.id,
                                                            EnterpriseLink.revoked_at.is_(None))
                               .order_by(EnterpriseLink.id.desc())).all()
    return next((link for link in links if link.active), None)


def issue_link(task: Task, user) -> EnterpriseLink:
    """A new link for the task's rectification order (an earlier one is revoked)."""
    hazards = db.session.scalars(select(Hazard).where(Hazard.task_id == task.id)).all()
    if not hazards:
        raise ServiceError(_("This inspection found no hazard: there is no order to link to."))
    today = today_shanghai()
    latest = max((h.deadline for h in hazards if h.deadline), default=None) or today
    days = max(LINK_MIN_DAYS, (latest - today).days + LINK_AFTER_DEADLINE_DAYS)
    with transaction():
        for old in db.session.scalars(select(EnterpriseLink).where(EnterpriseLink.task_id == task.id,
                                                                   EnterpriseLink.revoked_at.is_(None))):
            old.revoked_at = utcnow()
        link = EnterpriseLink(task_id=task.id, nonce=secrets.token_hex(16), created_by=user.id,
                              expires_at=utcnow() + timedelta(days=days))
        db.session.add(link)
        db.session.flush()
        record("enterprise_link.issue", "task", task.id, None, {"link": link.id, "expires_at": link.expires_at})
    return link


def revoke_link(link: EnterpriseLink, user) -> None:
    with transaction():
        link.revoked_at = utcnow()
        record("enterprise_link.revoke", "task", link.task_id, {"link": link.id}, {"revoked_at": link.revoked_at})


def acknowledge(link: EnterpriseLink):
    """R19 "by its link": the enterprise's person pressed "I have read this order" on the page. The first
    such press is the day it was told (unless the team lead recorded another way first); opening the page
    records nothing, since a chat app's link preview opens it too (issue #11 point 10). Returns the new
    feedback row, or None when one was already recorded or the inspection is not finished."""
    from .services import feedback_by_link
    try:
        return feedback_by_link(link.task)
    except IntegrityError:  # two presses at once: the other one recorded it (feedback.task_id is unique)
        return None


def submit_evidence(link: EnterpriseLink, hazard_id: str, text: str, files: list[tuple[str, bytes]],
                    complete: bool = False, address: str = "") -> Evidence:
    """Evidence from the enterprise: each photo checked like a phone's (a real image, size, pixel and
    decoding limits), stored content-addressed and recorded as sent by this link; a bad file refuses the
    whole submission with its reason, so nothing half-sent is kept. Submissions are rate-limited per link
    and per client ``address`` before any photo is decoded (issue #11 point 12)."""
    hazard_pk = int_arg(hazard_id)  # issue #11 point 13: "²" or 20 digits name no hazard, not a 500
    hazard = db.session.get(Hazard, hazard_pk) if hazard_pk is not None else None
    if hazard is None or hazard.task_id != link.task_id:
        raise ServiceError(_("Choose one of the hazards in your order."), "hazard")
    if hazard.status == "closed":
        raise ServiceError(_("This hazard is already closed."), "hazard")
    text = (text or "").strip()[:2000]
    files = [(name, data) for name, data in files if data]
    if not text and not files:
        raise ServiceError(_("Describe what was done or add photos."), "text")
    if len(files) > MAX_EVIDENCE_PHOTOS:
        raise ServiceError(_("At most %(n)d photos at a time.", n=MAX_EVIDENCE_PHOTOS), "photos")
    # Both keys count every attempt (a refused one too), in the database: the limit holds across workers.
    per_link = allow(f"evidence:link:{link.id}", LINK_SUBMISSIONS_PER_HOUR, 3600)
    per_address = allow(f"evidence:addr:{address}", ADDRESS_SUBMISSIONS_PER_HOUR, 3600)
    if not (per_link and per_address):
        raise ServiceError(_("Too many submissions in the last hour (at most %(n)d through one link, %(m)d from "
                             "one address): please try again later.", n=LINK_SUBMISSIONS_PER_HOUR,
                             m=ADDRESS_SUBMISSIONS_PER_HOUR), "photos")
    checked = []
    for name, data in files:
        try:
            info = photo_store.inspect_image(data)
        except photo_store.PhotoError as exc:
            raise ServiceError(_("%(name)s: %(reason)s", name=name, reason=exc.message), "photos") from None
        checked.append((hashlib.sha256(data).hexdigest(), data, info))
    # Files first (atomically, content-addressed), then the rows; each photo is recorded as sent by this
    # link (issue #11 point 4: citable for its own order only), and the audit entry names the enterprise.
    shas = [photo_store.store(sha, data, info, link.created_by, link=link).sha256 for sha, data, info in checked]
    with transaction():
        evidence = Evidence(task_id=link.task_id, hazard_id=hazard.id, link_id=link.id, text=text, photos=shas,
                            complete=complete)
        db.session.add(evidence)
        db.session.flush()
        record("evidence.submit", "hazard", hazard.record_uuid, None,
               {"evidence": evidence.id, "text": text, "photos": shas, "complete": complete},
               actor=(None, f"enterprise:{link.task.uscc}"))
    return evidence


def review_evidence(evidence: Evidence, accept: bool, comment: str, user) -> Task | None:
    """The team lead's verdict. Accepted evidence puts a 待整改 hazard in 整改中; the re-inspection
    (复查) on site still decides 销号. Accepted evidence that reports the rectification complete
    schedules that re-inspection at once (issue #5 §4), when the inspection is approved; returns it."""
    comment = (comment or "").strip()[:2000]
    if not accept and not comment:
        raise ServiceError(_("Say why the evidence is not enough."), "comment")
    with transaction():
        if evidence.state != "pending":
            raise ServiceError(_("This evidence was already reviewed."))
        evidence.state = "accepted" if accept else "rejected"
        evidence.comment, evidence.reviewed_by, evidence.reviewed_at = comment, user.id, utcnow()
        hazard = evidence.hazard
        before = hazard.audit_view()
        if accept and hazard.status == "pending":
            hazard.status = "rectifying"
        record("evidence.review", "hazard", hazard.record_uuid, {**before, "evidence": evidence.id},
               {**hazard.audit_view(), "evidence": evidence.id, "verdict": evidence.state, "comment": comment})
    task = db.session.get(Task, evidence.task_id)
    if accept and evidence.complete and task.review_state == "approved":
        from .services import schedule_reinspection
        try:
            return schedule_reinspection(task, user)
        except ServiceError:
            return None  # already scheduled, or nothing open any more
    return None
