"""The exports' pages (issue #13 point 5): ask for an export, leave, come back, download.

An export is a job (webapp/jobs/runner.py): asking for it queues it (a second tap while it is queued or
running gets the same job), the page shows its progress and polls every 2 s while one runs. Only its
owner sees or downloads it (anyone else: 404). Asking and downloading are POSTs, each audited.
"""
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from .. import roles as R
from ..access import roles
from ..audit.services import record
from ..draws.models import Batch, Plan
from ..extensions import db
from ..inputs import int_arg
from ..jobs import runner
from ..jobs.models import Job
from ..services import ServiceError, transaction
from ..tasks.models import Task
from . import bp
from . import exports as X

EXPORTERS = (R.ADMIN, R.BRIGADE_LEAD, R.TEAM_LEAD)
KIND_LABELS = {
    "batch_xlsx": _l("Excel: the batch's tasks, results and hazards"),
    "batch_pdf": _l("PDF: the batch summary with charts"),
    "year_xlsx": _l("Excel: the year's compliance and all its tasks"),
    "year_pdf": _l("PDF: the annual report with charts"),
}
STATE_LABELS = {"queued": _l("Waiting to start"), "running": _l("Being written"), "done": _l("Ready"),
                "failed": _l("Failed"), "expired": _l("Deleted after the days it is kept")}
STATE_TONES = {"queued": "", "running": "", "done": "good", "failed": "bad", "expired": ""}
SHOWN = 30


def _kinds_for(user) -> list[str]:
    return [k for k, (_what, allowed) in X.KINDS.items() if user.role in allowed]


def _subjects(jobs) -> dict[int, str]:
    """Job id → what it exports, in words (the batch's year and title, or the year)."""
    ids = {int_arg(j.params.get("batch_id")) for j in jobs if j.params.get("batch_id") is not None} - {None}
    names = {i: _("%(year)d: %(title)s", year=y, title=t) for i, y, t in db.session.execute(
        select(Batch.id, Plan.year, Batch.title).join(Plan, Plan.id == Batch.plan_id).where(Batch.id.in_(ids)))} \
        if ids else {}
    out = {}
    for j in jobs:
        if "year" in j.params:
            out[j.id] = _("Year %(year)s", year=j.params["year"])
        else:
            out[j.id] = names.get(int_arg(j.params.get("batch_id")), _("A batch that no longer exists"))
    return out


def _mine(job_id=None):
    stmt = select(Job).where(Job.user_id == current_user.id)
    if job_id is not None:
        stmt = stmt.where(Job.id == job_id)
    return db.session.scalars(stmt.order_by(Job.id.desc()).limit(SHOWN)).all()


def _context(job_id=None, error=None, form=None):
    jobs = _mine(job_id)
    batches = db.session.execute(select(Batch.id, Plan.year, Batch.title).join(Plan, Plan.id == Batch.plan_id)
                                 .order_by(Plan.year.desc(), Batch.window_start.desc(), Batch.id.desc())).all()
    years = sorted({y for _i, y, _t in batches} | {X.today_shanghai().year}, reverse=True)
    # A batch not yet drawn has no task: its export would be empty. Those batches say so, and the form
    # starts on the latest batch that has tasks (the demo's next batch comes first in the list).
    with_tasks = set(db.session.scalars(select(Task.batch_id).distinct()))
    form = dict(form or {})
    if not form.get("batch"):
        form["batch"] = str(next((i for i, _y, _t in batches if i in with_tasks), batches[0][0] if batches else ""))
    return {"jobs": jobs, "subjects": _subjects(jobs), "kind_labels": KIND_LABELS, "state_labels": STATE_LABELS,
            "state_tones": STATE_TONES, "active": any(j.state in runner.ACTIVE for j in jobs),
            "kinds": _kinds_for(current_user), "batches": batches, "years": years, "error": error,
            "form": form, "with_tasks": with_tasks, "keep_days": int(float(current_app.config.get("EXPORT_KEEP_DAYS", 7))),
            "focus": int_arg(request.args.get("job"))}


@bp.get("/exports")
@roles(*EXPORTERS)
def exports():
    """My exports: those running with their progress (polled every 2 s), those ready to download."""
    return render_template("brigade/exports.html", **_context())


@bp.get("/exports/status")
@roles(*EXPORTERS)
def export_status():
    """The list of my exports as a fragment (the page polls it); ``?job=`` one of mine, else 404."""
    job_id = None
    if request.args.get("job") is not None:
        job_id = int_arg(request.args.get("job"))
        if job_id is None or not _mine(job_id):
            abort(404)
    ctx = _context(job_id)
    if ctx["active"]:
        # Review finding: the web thread that ran an export may have died with its process (a worker
        # recycled); each poll makes sure this process runs the queue, which takes over a silent job.
        runner.kick()
    return render_block("brigade/exports.html", "jobs", **ctx)


@bp.post("/exports")
@roles(*EXPORTERS)
def export_new():
    """Queue an export of a batch (``kind`` and ``batch``) or a year (``kind`` and ``year``)."""
    kind = request.form.get("kind", "")
    form = {"kind": kind, "batch": request.form.get("batch", ""), "year": request.form.get("year", "")}
    if kind not in X.KINDS:
        return render_template("brigade/exports.html", **_context(error=_("Choose what to export."), form=form)), 422
    what, allowed = X.KINDS[kind]
    if current_user.role not in allowed:
        abort(403)
    try:
        if what == "batch":
            batch_id = int_arg(request.form.get("batch"))
            if batch_id is None or db.session.get(Batch, batch_id) is None:
                raise ServiceError(_("Choose a batch to export."))
            # What the job would refuse (a batch not drawn yet, one outside a team lead's groups) is
            # refused here, in words, rather than queued to fail a moment later.
            X.batch_for(current_user, batch_id)
            params = {"batch_id": batch_id}
        else:
            year = int_arg(request.form.get("year"), 2000, 2099)
            if year is None:
                raise ServiceError(_("Choose a year between 2000 and 2099."))
            params = {"year": year}
        job_row = runner.enqueue(kind, params, current_user)
    except ServiceError as exc:
        return render_template("brigade/exports.html", **_context(error=exc.message, form=form)), 422
    runner.kick()
    flash(_("The export is being written. You may leave this page: it stays here under “My exports” until "
            "you download it."), "success")
    return redirect(url_for("brigade.exports", job=job_row.id, _anchor=f"job-{job_row.id}"), 303)


@bp.post("/exports/download")
@roles(*EXPORTERS)
def export_download():
    """The file of one of my finished exports (anyone else's, or one not ready: 404). Audited."""
    job_id = int_arg(request.form.get("job"))
    if job_id is None:
        return render_template("brigade/exports.html", **_context(error=_("Choose an export to download."))), 422
    job_row = db.session.get(Job, job_id)
    if job_row is None or job_row.user_id != current_user.id or job_row.state != "done" or not job_row.file_path:
        abort(404)
    path = runner.export_folder() / Path(job_row.file_path).name
    try:  # opened before it is sent: a clean-up deleting it meanwhile cannot turn this into a server error
        fh = path.open("rb")
    except (FileNotFoundError, IsADirectoryError):
        abort(404)
    with transaction():
        record("export.download", "job", job_row.id, after={"kind": job_row.kind, "params": job_row.params,
                                                             "file": job_row.file_name})
    mime = "application/pdf" if path.suffix == ".pdf" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return send_file(fh, mimetype=mime, as_attachment=True, download_name=job_row.file_name, max_age=0)
