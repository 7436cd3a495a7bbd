"""What phones send: API tokens, synced records (answers, hazards, outcomes …) and photos."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import UTCDateTime, utcnow
from ..extensions import db


class ApiToken(db.Model):
    """A bearer token for the sync API: the phone keeps it, the server keeps only its hash."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    device: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The address the token was issued to or last used from (the devices page shows it; issue #11 point 7).
    ip: Mapped[str | None] = mapped_column(String(64))




class SyncRecord(db.Model):
    """One record made on a phone, under the uuid the phone gave it; every accepted edit is a revision.

    The phone sends ``(uuid, base_revision, data)``: a new uuid with base 0 creates revision 1; the
    current revision as base makes the next one; the same content again is a no-op; a stale base
    is a conflict answered with the server's version (DEVELOPERS.md, "Traps").
    """

    __tablename__ = "sync_record"
    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    #: The key two phones' records of one task merge on (``merge_key``): an answer's question,
    #: ``outcome``, ``signature:enterprise`` or ``closure:<hazard uuid>``; None for per-person records.
    question: Mapped[str | None] = mapped_column(String(60))
    #: The phone's id of the edit this revision holds: a stale base whose current revision is the
    #: phone's own edit (its response was lost) is no conflict with anyone (docs/sync-api.md).
    edit_id: Mapped[str | None] = mapped_column(String(36))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    data: Mapped[dict] = mapped_column(JSON)
    #: SHA-256 of the canonical JSON of ``data``: same content again is a no-op, not a new revision.
    content_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("inspector.id"))
    #: The phone's clock (it may lie) and the server's receipt time: deadlines run on the latter.
    device_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Sent by someone who held the task when the work was done but not any longer: kept, flagged.
    reassigned: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Two phones' records on one merge key differ: all are kept and the team lead chooses.
    conflict: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    #: Set when the team lead settled a conflict for another phone's answer to this question.
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)


class Photo(db.Model):
    """A photo file, stored once under its SHA-256 (content-addressed); evidence keeps its GPS."""

    __tablename__ = "photo"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(30))
    #: From the file's EXIF when present (the PWA sends the Geolocation API's in the record instead).
    lat: Mapped[float | None] = mapped_column()
    lng: Mapped[float | None] = mapped_column()
    #: The account of the first upload (for the enterprise's link: the team lead who issued it). Who may
    #: see or cite the photo is in ``PhotoUpload``, one row per uploader (issue #11 point 4).
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PhotoUpload(db.Model):
    """Who sent a photo's bytes (issue #11 point 4): an app user, or an enterprise's link. The file is kept
    once (content-addressed), but each uploader gets a row of its own: the existence probe and a record's
    citation check ask whether *this* group (or this order's link) sent it, never whether it exists at all
    (``webapp.sync.photos.visible_to`` / ``photo_citable``)."""

    __tablename__ = "photo_upload"
    __table_args__ = (UniqueConstraint("sha256", "user_id", name="uq_photo_upload_sha256_user_id"),
                      UniqueConstraint("sha256", "link_id", name="uq_photo_upload_sha256_link_id"),
                      CheckConstraint("(user_id IS NULL) <> (link_id IS NULL)", name="one_uploader"))
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("photo.sha256"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise_link.id"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
