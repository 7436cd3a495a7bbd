"""Annual plans (R5), their batches, and each batch's draws (SSJ-DRAW-v1)."""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

PLAN_STATES = ("draft", "approved", "published")
DRAW_TYPES = ("undirected", "directed")
#: R20: results are published within this many working days (东胜's plan asks for 10).
DEFAULT_PUBLICATION_DAYS = 20


class Plan(db.Model):
    """年度抽查工作计划: approved, then published; later changes are recorded and published (R5)."""

    __tablename__ = "plan"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="draft")
    #: R20: working days from the end of an inspection to the publication of its result.
    publication_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_PUBLICATION_DAYS)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    batches = relationship("Batch", back_populates="plan", order_by="Batch.seq", cascade="all, delete-orphan")
    changes = relationship("PlanChange", back_populates="plan", order_by="PlanChange.id")

    def audit_view(self) -> dict:
        return {"year": self.year, "title": self.title, "state": self.state,
                "publication_days": self.publication_days}


class PlanChange(db.Model):
    """A change to an approved plan, to be published within 10 working days (R5)."""

    __tablename__ = "plan_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by: Mapped[str] = mapped_column(String(80))
    summary: Mapped[str] = mapped_column(Text)
    #: Calendar date in Asia/Shanghai by which the change must be public.
    publish_due: Mapped[date] = mapped_column(Date)
    #: True when the working-day calendar lacked the year and the due date counts weekdays only.
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    plan = relationship("Plan", back_populates="changes")


batch_item = Table(
    "batch_item", db.Model.metadata,
    Column("batch_id", ForeignKey("batch.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", ForeignKey("inspection_item.id"), primary_key=True),
)


class Batch(db.Model):
    """批次: one draw's scope, size and window."""

    __tablename__ = "batch"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    draw_type: Mapped[str] = mapped_column(String(20), default="undirected")
    #: Directed draws (R12): empty lists mean "any".
    filter_industries: Mapped[list] = mapped_column(JSON, default=list)
    filter_flags: Mapped[list] = mapped_column(JSON, default=list)
    filter_regions: Mapped[list] = mapped_column(JSON, default=list)
    #: Either a fixed sample size or a share of the pool in basis points (1/100 of a per cent).
    sample_size: Mapped[int | None] = mapped_column(Integer)
    sample_bp: Mapped[int | None] = mapped_column(Integer)
    group_size: Mapped[int] = mapped_column(Integer, default=2)
    #: Most tasks one inspector takes in this batch.
    capacity: Mapped[int] = mapped_column(Integer, default=10)
    method: Mapped[str] = mapped_column(String(20), default="onsite")
    #: R11: add the scope's focus units with certainty, beyond the R10 cap.
    include_focus: Mapped[bool] = mapped_column(Boolean, default=False)

    plan = relationship("Plan", back_populates="batches")
    items = relationship("InspectionItem", secondary=batch_item, order_by="InspectionItem.code")
    draws = relationship("Draw", back_populates="batch", order_by="Draw.seq",
                         foreign_keys="Draw.batch_id")

    @property
    def live_draw(self):
        return next((d for d in self.draws if d.state in ("committed", "drawn")), None)

    def audit_view(self) -> dict:
        return {"seq": self.seq, "title": self.title, "window_start": self.window_start,
                "window_end": self.window_end, "draw_type": self.draw_type,
                "filter_industries": self.filter_industries, "filter_flags": self.filter_flags,
                "filter_regions": self.filter_regions, "sample_size": self.sample_size,
                "sample_bp": self.sample_bp, "group_size": self.group_size, "capacity": self.capacity,
                "method": self.method, "include_focus": self.include_focus,
                "items": [i.code for i in self.items]}


DRAW_STATES = ("proposed", "committed", "drawn", "superseded", "withdrawn")

#: DRAW.md §1 (issue #11 point 5): the draws whose tasks a draw's input files counted (R10 lines in
#: excluded.csv, R8/R9 units missing from mandatory.csv). Recorded at commitment; the draw's files and
#: result are never public before theirs.
draw_counted = Table(
    "draw_counted", db.Model.metadata,
    Column("draw_pk", ForeignKey("draw.id", ondelete="CASCADE"), primary_key=True),
    Column("counted_pk", ForeignKey("draw.id"), primary_key=True),
)


class Draw(db.Model):
    """One draw of a batch: commitment, reveal, result. A batch has one live draw at a time."""

    __tablename__ = "draw"
    __table_args__ = (UniqueConstraint("batch_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The public identifier that enters the commitment, e.g. ``2026-1-2-1`` (year-plan-batch-seq).
    draw_id: Mapped[str] = mapped_column(String(40), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="committed")
    beacon_ref: Mapped[str] = mapped_column(String(200))
    #: When the beacon's value comes into existence; the value is refused before it.
    beacon_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: drand round number when the beacon is drand (the server may fetch it).
    drand_round: Mapped[int | None] = mapped_column(Integer)
    #: 福彩双色球 issue (e.g. 2026137) when the beacon is the lottery: every new one must be above all
    #: issues used before (DRAW.md §2, issue #11 point 6); unique, so two draws never share one.
    lottery_issue: Mapped[int | None] = mapped_column(Integer, unique=True, index=True)
    commitment: Mapped[str | None] = mapped_column(String(64))
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    committed_by: Mapped[str | None] = mapped_column(String(80))
    #: The audit chain's head just after the commitment was logged (published beside it).
    audit_head: Mapped[str | None] = mapped_column(String(64))
    beacon_value: Mapped[str | None] = mapped_column(String(200))
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revealed_by: Mapped[str | None] = mapped_column(String(80))
    seed: Mapped[str | None] = mapped_column(String(64))
    #: §5 result as draw.json states it (without substitutions, which have their own rows).
    result: Mapped[dict | None] = mapped_column(JSON)
    #: Inspector id in the files → {name, cert_no, inspector pk}: what the public may see.
    roster: Mapped[dict | None] = mapped_column(JSON)
    #: Inputs and result made public before the window closes (otherwise they are at its end).
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Supersession: the new draw names the old one, the reason, who asked and who approved.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("draw.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str | None] = mapped_column(String(80))
    requested_by_id: Mapped[int | None] = mapped_column(Integer)
    approved_by: Mapped[str | None] = mapped_column(String(80))

    batch = relationship("Batch", back_populates="draws", foreign_keys=[batch_id])
    files = relationship("DrawFile", order_by="DrawFile.name", cascade="all, delete-orphan")
    substitutions = relationship("Substitution", order_by="Substitution.seq", cascade="all, delete-orphan")
    supersedes = relationship("Draw", remote_side=[id])
    #: The draws whose tasks this draw's input files counted (DRAW.md §1, issue #11 point 5).
    counted = relationship("Draw", secondary=draw_counted, primaryjoin=lambda: Draw.id == draw_counted.c.draw_pk,
                           secondaryjoin=lambda: Draw.id == draw_counted.c.counted_pk, order_by=lambda: Draw.id)

    @property
    def claimed_beacon_time(self) -> datetime:
        """The time the committed beacon_ref names for its value (for a lottery issue, the operator's claim,
        shown publicly beside the issue: DRAW.md §2, issue #11 point 6)."""
        from .verify_draw import beacon_time
        read = beacon_time(self.beacon_ref)
        return read[2] if read else self.beacon_at

    def file_bytes(self) -> dict[str, bytes]:
        return {f.name: f.content.encode("utf-8") for f in self.files}

    def audit_view(self) -> dict:
        return {"draw_id": self.draw_id, "state": self.state, "beacon_ref": self.beacon_ref,
                "commitment": self.commitment, "beacon_value": self.beacon_value, "seed": self.seed,
                "reason": self.reason}


class DrawFile(db.Model):
    """One frozen input file of a draw, exactly as its bytes entered the commitment."""

    __tablename__ = "draw_file"
    draw_pk: Mapped[int] = mapped_column(ForeignKey("draw.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))


class Substitution(db.Model):
    """§5: an unavailable inspector or an ineligible enterprise replaced, replayable by anyone."""

    __tablename__ = "substitution"
    __table_args__ = (UniqueConstraint("draw_pk", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    draw_pk: Mapped[int] = mapped_column(ForeignKey("draw.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    task: Mapped[str] = mapped_column(String(18))
    out: Mapped[str] = mapped_column(String(40))
    in_: Mapped[str | None] = mapped_column("in", String(40))
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def as_json(self) -> dict:
        return {"kind": self.kind, "task": self.task, "out": self.out, "in": self.in_, "reason": self.reason,
                "by": self.by, "at": self.at.isoformat(timespec="seconds")}
