"""一单两库: the inspection item list, the inspector pool and the enterprise pool (R1–R4)."""
from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, Column, Date, Float, ForeignKey, Integer, String, Table, Text, UniqueConstraint,
                        and_)
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from ..db_types import UTCDateTime, utcnow
from ..extensions import db


class Department(db.Model):
    """An office of the bureau, the brigade, or another bureau (for joint inspections, R22)."""

    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    #: ``office`` (应急局科室/股室), ``brigade`` (执法大队), ``other_bureau`` (其他部门).
    kind: Mapped[str] = mapped_column(String(20), default="office")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def audit_view(self) -> dict:
        return {"name": self.name, "kind": self.kind, "active": self.active}


class Region(db.Model):
    """A 乡镇/街道 of the jurisdiction; the stratum of an undirected draw (R12)."""

    __tablename__ = "region"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Statistical division code of the township (9 or 12 digits).
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)

    def audit_view(self) -> dict:
        return {"code": self.code, "name": self.name}


class Competence(db.Model):
    """A field an inspector is qualified for, e.g. 危化, 工贸-粉尘涉爆, 煤矿 (R13)."""

    __tablename__ = "competence"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)


class InspectionItem(db.Model):
    """An entry of the 随机抽查事项清单; its text lives in immutable versions."""

    __tablename__ = "inspection_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The bureau's own item code (事项编码), stable across versions.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    #: Number of the newest version; versions are 1, 2, 3 …
    latest_version: Mapped[int] = mapped_column(Integer, default=1)

    versions = relationship("InspectionItemVersion", back_populates="item",
                            order_by="InspectionItemVersion.version", cascade="all, delete-orphan")
    current = relationship(
        "InspectionItemVersion", uselist=False, viewonly=True, lazy="joined",
        primaryjoin=lambda: and_(InspectionItem.id == foreign(InspectionItemVersion.item_id),
                                 InspectionItem.latest_version == InspectionItemVersion.version))


class InspectionItemVersion(db.Model):
    """One version of an item's text. Never updated: a change is a new version (R1),
    so a plan drawn last year still shows the text it used."""

    __tablename__ = "inspection_item_version"
    __table_args__ = (UniqueConstraint("item_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inspection_item.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    #: 抽查主体: the department that owns the check.
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: 抽查依据 (R16: only items with a legal basis may be checked).
    legal_basis: Mapped[str] = mapped_column(Text)
    #: 抽查内容.
    content: Mapped[str] = mapped_column(Text)
    #: 抽查方式: ``onsite``, ``written``, ``online``, ``agency`` (R15).
    method: Mapped[str] = mapped_column(String(20))
    #: A random-check item (counts towards R7's 70 %); complaint-driven checks are not (R4).
    is_random: Mapped[bool] = mapped_column(Boolean, default=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item = relationship("InspectionItem", back_populates="versions")
    department = relationship("Department")

    def audit_view(self) -> dict:
        return {"version": self.version, "department_id": self.department_id, "name": self.name,
                "legal_basis": self.legal_basis, "content": self.content, "method": self.method,
                "is_random": self.is_random, "valid_from": self.valid_from, "valid_to": self.valid_to}


inspector_competence = Table(
    "inspector_competence", db.metadata,
    Column("inspector_id", ForeignKey("inspector.id", ondelete="CASCADE"), primary_key=True),
    Column("competence_id", ForeignKey("competence.id"), primary_key=True),
)


class Inspector(db.Model):
    """A law-enforcement officer in the 执法检查人员名录库."""

    __tablename__ = "inspector"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    #: 职务.
    post: Mapped[str] = mapped_column(String(60), default="")
    #: 执法证号: shown to the inspected unit (行政处罚法 §55); unique.
    cert_no: Mapped[str] = mapped_column(String(40), unique=True)
    #: Last day the certificate is valid; an expired certificate is never drawn.
    cert_expiry: Mapped[date] = mapped_column(Date)
    #: Private: for the office only, never public.
    phone: Mapped[str] = mapped_column(String(30), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    #: Why inactive: ``transfer``, ``leave``, ``retired``, ``other``.
    inactive_reason: Mapped[str | None] = mapped_column(String(20))
    inactive_note: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    department = relationship("Department")
    competences = relationship("Competence", secondary=inspector_competence, order_by="Competence.name")

    def certified_on(self, day: date) -> bool:
        return bool(self.cert_no) and self.cert_expiry >= day

    def audit_view(self) -> dict:
        return {"name": self.name, "department_id": self.department_id, "post": self.post,
                "cert_no": self.cert_no, "cert_expiry": self.cert_expiry, "phone": self.phone,
                "active": self.active, "inactive_reason": self.inactive_reason,
                "inactive_note": self.inactive_note, "competences": sorted(c.name for c in self.competences)}


class Recusal(db.Model):
    """回避: an inspector who must never inspect this enterprise (行政处罚法 §43)."""

    __tablename__ = "recusal"
    __table_args__ = (UniqueConstraint("inspector_id", "enterprise_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inspector = relationship("Inspector")
    enterprise = relationship("Enterprise")

    def audit_view(self) -> dict:
        return {"inspector_id": self.inspector_id, "enterprise_id": self.enterprise_id, "reason": self.reason}


#: Category flags (R2) and focus flags (R11), in the order the UI and files show them.
ENTERPRISE_FLAGS = (
    "key_supervision", "dust_explosion", "confined_space", "liquid_ammonia", "major_hazard",
    "seriously_untrustworthy", "blacklisted",
    "high_credit_risk", "many_complaints", "abnormal_operation", "serious_violation",
)
INDUSTRIES = ("coal", "non_coal_mine", "hazchem", "metallurgy", "nonferrous", "building_materials",
              "machinery", "light_industry", "textile", "tobacco", "commerce", "other")
STATUSES = ("operating", "suspended", "deregistered")


class Enterprise(db.Model):
    """A market entity in the 检查对象名录库, identified by its 统一社会信用代码."""

    __tablename__ = "enterprise"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: 统一社会信用代码 (GB 32100-2015), validated with its check character.
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    #: Where it operates, not where it registered (the code's region part says that).
    address: Mapped[str] = mapped_column(String(300), default="")
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    #: One of ``INDUSTRIES``.
    industry: Mapped[str] = mapped_column(String(30), index=True)
    legal_rep: Mapped[str] = mapped_column(String(40), default="")
    #: Private contact phone; never published.
    phone: Mapped[str] = mapped_column(String(30), default="")
    #: ``operating``; ``suspended`` and ``deregistered`` are never drawn (R3).
    status: Mapped[str] = mapped_column(String(20), default="operating", index=True)
    key_supervision: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    dust_explosion: Mapped[bool] = mapped_column(Boolean, default=False)
    confined_space: Mapped[bool] = mapped_column(Boolean, default=False)
    liquid_ammonia: Mapped[bool] = mapped_column(Boolean, default=False)
    major_hazard: Mapped[bool] = mapped_column(Boolean, default=False)
    seriously_untrustworthy: Mapped[bool] = mapped_column(Boolean, default=False)
    blacklisted: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    high_credit_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    many_complaints: Mapped[bool] = mapped_column(Boolean, default=False)
    abnormal_operation: Mapped[bool] = mapped_column(Boolean, default=False)
    serious_violation: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    region = relationship("Region")

    def audit_view(self) -> dict:
        return {c: getattr(self, c) for c in ENTERPRISE_FIELDS}


ENTERPRISE_FIELDS = ("uscc", "name", "address", "region_id", "lat", "lng", "industry", "legal_rep",
                     "phone", "status") + ENTERPRISE_FLAGS


class ImportMapping(db.Model):
    """How an office's own file's columns map to a registry's fields, remembered for its next import
    (issue #12). One row per registry and header signature (the file's headers, normalised, hashed);
    ``columns`` maps each normalised header to a field name, or to "" for a column not imported."""

    __tablename__ = "import_mapping"
    __table_args__ = (UniqueConstraint("kind", "signature"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    signature: Mapped[str] = mapped_column(String(64))
    columns: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def audit_view(self) -> dict:
        return {"kind": self.kind, "signature": self.signature, "columns": self.columns}


class ImportValueMapping(db.Model):
    """A word of an office's file mapped to a registry's own (「工贸-粉尘涉爆」 → 轻工, 「城关街道」 → a
    township), remembered per registry and field. ``source`` is the word normalised as ``cells.key``
    does; ``target`` the code of the chosen value (an industry code, a township's statistical code,
    "yes"/"no", a department's or competence's id)."""

    __tablename__ = "import_value_mapping"
    __table_args__ = (UniqueConstraint("kind", "field", "source"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    field: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(60))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def audit_view(self) -> dict:
        return {"kind": self.kind, "field": self.field, "source": self.source, "target": self.target}
