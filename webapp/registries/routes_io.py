"""Import with preview, and export, of the three registries (XLSX / CSV)."""
from urllib.parse import quote

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import roles as R
from ..access import roles
from .blueprint import bp
from .import_specs import SHEET_TITLES, headers
from .io import KINDS, export_bytes, import_file, stash_upload, take_upload, template_bytes

MIMES = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _kind(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind


@bp.get("/registries/import/<kind>")
@roles(R.ADMIN)
def import_form(kind: str):
    """Choose a file to check."""
    return render_template("registries/import.html", kind=_kind(kind), title=SHEET_TITLES[kind],
                           headers=headers(kind), report=None)


@bp.post("/registries/import/<kind>")
@roles(R.ADMIN)
def import_preview(kind: str):
    """Check the file and show what it would change; nothing is written yet."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a file."), "error")
        return redirect(url_for("registries.import_form", kind=_kind(kind)), 303)
    data = upload.read()
    report = import_file(_kind(kind), upload.filename, data, commit=False)
    changes = report.ok and (report.created or report.updated)
    token = stash_upload(current_user.id, kind, upload.filename, data) if changes else None
    return render_template("registries/import.html", kind=kind, title=SHEET_TITLES[kind], headers=headers(kind),
                           report=report, token=token, filename=upload.filename), (200 if report.ok else 422)


@bp.post("/registries/import/<kind>/confirm")
@roles(R.ADMIN)
def import_confirm(kind: str):
    """Write the previewed file, all or nothing (it is checked again first)."""
    stashed = take_upload(current_user.id, _kind(kind), request.form.get("token", ""))
    if stashed is None:
        flash(_("The previewed file has expired; upload it again."), "error")
        return redirect(url_for("registries.import_form", kind=kind), 303)
    data, ext = stashed
    filename = request.form.get("filename", "")[:200]  # for messages and the trail; the token decides the format
    if not filename.lower().endswith(ext):
        filename = f"upload{ext}"
    report = import_file(_kind(kind), filename, data, commit=True)
    if not report.ok:
        return render_template("registries/import.html", kind=kind, title=SHEET_TITLES[kind],
                               headers=headers(kind), report=report, token=None, filename=filename), 422
    flash(_("Imported: %(c)d new, %(u)d changed, %(s)d unchanged.", c=len(report.created),
            u=len(report.updated), s=report.unchanged), "success")
    target = {"enterprises": "registries.enterprises", "inspectors": "registries.inspectors",
              "items": "registries.items"}[kind]
    return redirect(url_for(target), 303)


@bp.get("/registries/export/<kind>.<fmt>")
@roles(R.ADMIN, R.BRIGADE_LEAD)
def export(kind: str, fmt: str):
    """Download a registry as the office keeps it (Chinese headers); ``?template=1`` for an empty one."""
    if fmt not in MIMES:
        abort(404)
    data = template_bytes(_kind(kind), fmt) if request.args.get("template") else export_bytes(_kind(kind), fmt)
    name = f"{SHEET_TITLES[kind]}.{fmt}"
    return Response(data, mimetype=MIMES[fmt], headers={
        "Content-Disposition": f"attachment; filename=\"{kind}.{fmt}\"; filename*=UTF-8''{quote(name)}"})
