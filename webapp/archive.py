"""The archive (R21, R23): a batch's whole record as one zip for the office, and the five-year rule.

The zip holds, per task, the task with its group, every synced record (with its revisions' current
state), the hazards with their history, evidence, feedback, published results, the documents already
issued (as PDFs, with their numbers) and every photo in original; and the batch's summary of experience
(R23: ``report/report.json`` and a readable ``report/report.txt``) with each office's acknowledgement and
answer. Nothing in it is made up for the
export: a document not yet issued is not numbered by exporting.

Records are kept at least five years after the inspection ends (R21, 001 §22). ``purge_batch`` deletes
a batch's field records only after that, and refuses earlier with the date it may happen.
"""
import json
import tempfile
import zipfile
from datetime import date

import click
from flask import Blueprint, Flask, abort, current_app, g, send_file
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import delete, select

from . import roles as R
from .access import roles
from .audit.services import canonical, record
from .db_types import SHANGHAI, today_shanghai
from .extensions import db
from .services import ServiceError, transaction

bp = Blueprint("archive", __name__)
RETENTION_YEARS = 5


def _json(value) -> bytes:
    return json.dumps(json.loads(canonical(value)), ensure_ascii=False, indent=1).encode("utf-8")


def retained_until(task) -> date:
    """The first day a task's records may be deleted (R21): five years after the inspection ended."""
    ended = (task.completed_at or task.dispatched_at).astimezone(SHANGHAI).date()
    try:
        return ended.replace(year=ended.year + RETENTION_YEARS)
    except ValueError:  # 29 February
        return ended.replace(year=ended.year + RETENTION_YEARS, day=28)


def write_batch_zip(batch, out) -> int:
    """Write the batch's archive into the open binary file ``out``; returns the number of tasks."""
    from .documents import pdf
    from .documents.models import IssuedDocument
    from .documents.services import gather
    from .publication.models import PublishedResult
    from .review.enterprise import Evidence
    from .review.models import Feedback, Hazard, HazardEvent
    from .sync import photos as photo_store
    from .sync.models import SyncRecord
    from .tasks.models import Task, with_members

    tasks = db.session.scalars(select(Task).where(Task.batch_id == batch.id).order_by(Task.id)
                               .options(with_members())).all()
    photos = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        index = []
        for task in tasks:
            folder = f"tasks/{task.id:06d}"
            records = db.session.scalars(select(SyncRecord).where(SyncRecord.task_id == task.id)
                                         .order_by(SyncRecord.kind, SyncRecord.received_at)).all()
            hazards = db.session.scalars(select(Hazard).where(Hazard.task_id == task.id).order_by(Hazard.id)).all()
            events = db.session.scalars(select(HazardEvent).where(HazardEvent.hazard_id.in_([h.id for h in hazards]))
                                        .order_by(HazardEvent.id)).all() if hazards else []
            evidence = db.session.scalars(select(Evidence).where(Evidence.task_id == task.id)).all()
            feedback = db.session.scalar(select(Feedback).where(Feedback.task_id == task.id))
            results = db.session.scalars(select(PublishedResult).where(PublishedResult.task_id == task.id)
                                         .order_by(PublishedResult.version)).all()
            documents = db.session.scalars(select(IssuedDocument).where(IssuedDocument.task_id == task.id)).all()
            data = {
                "task": {**task.audit_view(), "id": task.id, "kind": task.kind, "enterprise": task.enterprise,
                         "items": task.items, "checklists": task.checklists, "start_date": task.start_date,
                         "dispatched_at": task.dispatched_at, "completed_at": task.completed_at,
                         "origin_task_id": task.origin_task_id, "retained_until": retained_until(task),
                         "group": [{"name": m.inspector.name, "cert_no": m.inspector.cert_no, "active": m.active,
                                    "left_reason": m.left_reason} for m in task.members]},
                "records": [{"uuid": r.uuid, "kind": r.kind, "revision": r.revision, "data": r.data,
                             "device_time": r.device_time, "received_at": r.received_at, "conflict": r.conflict,
                             "superseded": r.superseded, "reassigned": r.reassigned} for r in records],
                "hazards": [{**h.audit_view(), "uuid": h.record_uuid, "description": h.description,
                             "events": [{"kind": e.kind, "data": e.data, "at": e.at} for e in events
                                        if e.hazard_id == h.id]} for h in hazards],
                "evidence": [{"hazard": e.hazard_id, "text": e.text, "photos": e.photos, "state": e.state,
                              "comment": e.comment, "submitted_at": e.submitted_at} for e in evidence],
                "feedback": {"given_on": feedback.given_on, "way": feedback.way, "note": feedback.note} if feedback else None,
                "published": [r.public_view() for r in results],
                "documents": [{"kind": d.kind, "number": d.number, "issued_at": d.issued_at} for d in documents],
            }
            zf.writestr(f"{folder}/task.json", _json(data))
            if documents:
                facts = gather(task)
                for d in documents:
                    zf.writestr(f"{folder}/{d.kind}-{d.number}.pdf", pdf.render(facts, d.kind, d.number))
            for r in records:
                photos.update(r.data.get("photos") or [])
                if r.data.get("image"):
                    photos.add(r.data["image"])
            for e in evidence:
                photos.update(e.photos)
            index.append({"task": task.id, "enterprise": task.enterprise.get("name"), "uscc": task.uscc,
                          "kind": task.kind, "review_state": task.review_state, "folder": folder})
        for sha in sorted(photos):
            path = photo_store.original_path(sha)
            if path.exists():
                zf.write(path, f"photos/{sha[:2]}/{sha}")
        # The summary of experience (R23): its text, the figures as sent, each office's acknowledgement
        # and answer.
        from .brigade.report import archive_text, archive_view, report_of
        report = report_of(batch)
        if report is not None:
            zf.writestr("report/report.json", _json(archive_view(report)))
            zf.writestr("report/report.txt", archive_text(report).encode("utf-8"))
        zf.writestr("index.json", _json({"batch": batch.audit_view(), "batch_id": batch.id, "tasks": index,
                                          "photos": len(photos), "bureau": current_app.config["BUREAU_NAME"],
                                          "report": "report/report.json" if report is not None else None}))
    return len(tasks)


@bp.post("/batches/<int:batch_id>/archive.zip")
@roles(R.ADMIN, R.BRIGADE_LEAD)
def batch_zip(batch_id: int):
    """The batch's archive for the office (R23), built in a temporary file (photos make it large). A POST
    from the batch page's button: the export is audited, and a prefetch or a crawler must not write that
    trail entry (issue #11 point 10)."""
    from .draws.models import Batch

    batch = db.session.get(Batch, batch_id) or abort(404)
    spool = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
    write_batch_zip(batch, spool)
    spool.seek(0)
    with transaction():
        record("archive.export", "batch", batch.id, None, {"batch": batch.title})
    return send_file(spool, mimetype="application/zip", as_attachment=True,
                     download_name=f"archive-batch-{batch.id}.zip")


def purge_batch(batch, today: date | None = None) -> int:
    """Delete a batch's field records (records, hazards and their history, evidence, feedback, document
    numbers) once every task is past its five years (R21); refuses earlier, naming the date. Published
    results stay public. Returns the number of records deleted."""
    from .documents.models import IssuedDocument
    from .review.enterprise import EnterpriseLink, Evidence
    from .review.models import Feedback, Hazard, HazardEvent
    from .sync.models import SyncRecord
    from .tasks.models import Task

    today = today or today_shanghai()
    tasks = db.session.scalars(select(Task).where(Task.batch_id == batch.id)).all()
    latest = max((retained_until(t) for t in tasks), default=None)
    if latest and latest > today:
        raise ServiceError(_("The records of this batch must be kept until %(d)s (at least five years); nothing was deleted.", d=latest))
    ids = [t.id for t in tasks]
    with transaction():
        hazard_ids = select(Hazard.id).where(Hazard.task_id.in_(ids))
        db.session.execute(delete(HazardEvent).where(HazardEvent.hazard_id.in_(hazard_ids)))
        db.session.execute(delete(Evidence).where(Evidence.task_id.in_(ids)))
        db.session.execute(delete(EnterpriseLink).where(EnterpriseLink.task_id.in_(ids)))
        db.session.execute(delete(Hazard).where(Hazard.task_id.in_(ids)))
        db.session.execute(delete(Feedback).where(Feedback.task_id.in_(ids)))
        db.session.execute(delete(IssuedDocument).where(IssuedDocument.task_id.in_(ids)))
        count = db.session.execute(delete(SyncRecord).where(SyncRecord.task_id.in_(ids))).rowcount
        record("archive.purge", "batch", batch.id, {"tasks": len(ids)}, {"records_deleted": count})
    return count


archive_cli = AppGroup("archive", help="The archive: export a batch, purge after the retention period (R21).")


@archive_cli.command("export")
@click.argument("batch_id", type=int)
@click.argument("out", type=click.Path(dir_okay=False))
def export_command(batch_id, out):
    """Write BATCH_ID's archive zip to OUT."""
    from .draws.models import Batch

    batch = db.session.get(Batch, batch_id)
    if batch is None:
        raise click.ClickException(f"no batch {batch_id}")
    with open(out, "wb") as fh:
        n = write_batch_zip(batch, fh)
    click.echo(f"{out}: {n} tasks")


@archive_cli.command("purge")
@click.argument("batch_id", type=int)
def purge_command(batch_id):
    """Delete BATCH_ID's field records, if every task is past its five years (R21)."""
    from .draws.models import Batch

    g.audit_actor = "cli:archive-purge"
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        raise click.ClickException(f"no batch {batch_id}")
    try:
        click.echo(f"{purge_batch(batch)} records deleted")
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(archive_cli)

