"""Import with preview, and export, of the three registries (XLSX / CSV)."""
from urllib.parse import quote

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import roles as R
from ..access import roles
from .blueprint import bp
from ..services import ServiceError
from .cells import key
from .import_specs import SHEET_TITLES, SPECS, headers
from .importing import NOT_IMPORTED
from .io import KINDS, claim_upload, export_bytes, import_file, peek_upload, stash_upload, template_bytes
from .mapping import domain_options, remember_columns, remember_values
from .services import save_region

MIMES = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _kind(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind


def _spec(kind: str):
    return SPECS[kind]()


def _page(kind: str, report=None, token=None, filename="", status=200, problem=None, notice=None):
    """The import page, or (for htmx) only its preview, re-rendered after a choice."""
    spec = _spec(kind)
    ctx = dict(kind=kind, title=SHEET_TITLES[kind], headers=headers(kind), report=report, token=token,
               filename=filename, problem=problem, notice=notice, targets=spec.columns, NOT_IMPORTED=NOT_IMPORTED)
    if report is not None:
        domains = {g.domain for g in report.groups if g.mappable}
        ctx["options"] = {d: domain_options(d) for d in domains}
        mapped = {c.target for c in report.columns if c.target}
        ctx["absent_flags"] = [spec.label(f) for f in ("key_supervision", "blacklisted")
                               if kind == "enterprises" and f not in mapped]
    if request.headers.get("HX-Request") and report is not None:
        # htmx swaps only a 2xx answer: a preview with refused rows is still the preview asked for.
        return render_template("registries/_import_preview.html", **ctx), 200
    return render_template("registries/import.html", **ctx), status


def _status(report) -> int:
    return 200 if report.ok and not report.blocked else 422


def _choices(kind: str) -> dict[int, str]:
    """The column mapping the preview's selects (or the confirmation's hidden fields) send."""
    fields = {c.field for c in SPECS[kind].columns}
    out = {}
    for name, value in request.form.items():
        if name.startswith("col-") and name[4:].isdigit() and (value in fields or value == NOT_IMPORTED):
            out[int(name[4:])] = value
    return out


def _value_choices(kind: str) -> list[tuple[str, str, str]]:
    """``(field, word, target code)`` for every word the preview mapped to a known value."""
    spec = _spec(kind)
    domains = {c.field: c.domain for c in spec.columns if c.domain}
    out = []
    for name, field in request.form.items():
        if not (name.startswith("vm-") and name.endswith("-field")) or field not in domains:
            continue
        n = name[3:-6]
        word, target = request.form.get(f"vm-{n}-source", ""), request.form.get(f"vm-{n}-target", "")
        if word and target and target in dict(domain_options(domains[field])):
            out.append((field, word[:200], target))
    return out


def _unapplied(kind: str) -> bool:
    """A column's select was changed in the preview (``sel-N``, sent by import.js) but not applied: the
    confirmation carries the previewed mapping (``col-N``), which is not what the clerk now sees."""
    choices = _choices(kind)
    for name, value in request.form.items():
        if name.startswith("sel-") and name[4:].isdigit() and choices.get(int(name[4:]), NOT_IMPORTED) != value:
            return True
    return False


def _recheck(kind: str, token: str, filename: str, problem=None, notice=None, status=None):
    stashed = peek_upload(current_user.id, kind, token)
    if stashed is None:
        flash(_("The previewed file has expired; upload it again."), "error")
        if request.headers.get("HX-Request"):
            return "", 204, {"HX-Redirect": url_for("registries.import_form", kind=kind)}
        return redirect(url_for("registries.import_form", kind=kind), 303)
    data, ext = stashed
    report = import_file(kind, _filename(filename, ext), data, commit=False, choices=_choices(kind))
    return _page(kind, report, token, _filename(filename, ext), status or _status(report), problem, notice)


def _filename(filename: str, ext: str) -> str:
    filename = (filename or "")[:200]  # for messages and the trail; the token decides the format
    return filename if filename.lower().endswith(ext) else f"upload{ext}"


@bp.get("/registries/import/<kind>")
@roles(R.ADMIN)
def import_form(kind: str):
    """Choose a file to check."""
    return _page(_kind(kind))


@bp.post("/registries/import/<kind>")
@roles(R.ADMIN)
def import_preview(kind: str):
    """Check the file and show what it would change, each of its columns with the field it maps to;
    nothing is written yet."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a file."), "error")
        return redirect(url_for("registries.import_form", kind=_kind(kind)), 303)
    data = upload.read()
    report = import_file(_kind(kind), upload.filename, data, commit=False)
    token = stash_upload(current_user.id, kind, upload.filename, data) if report.columns else None
    return _page(kind, report, token, upload.filename, _status(report))


@bp.post("/registries/import/<kind>/check")
@roles(R.ADMIN)
def import_check(kind: str):
    """Check the previewed file again with the columns and words the user mapped, and remember both
    for the registry's next import."""
    kind, token = _kind(kind), request.form.get("token", "")
    stashed = peek_upload(current_user.id, kind, token)
    if stashed is not None:
        values = _value_choices(kind)
        if values:
            remember_values(kind, values)
        choices = _choices(kind)
        if choices:
            report = import_file(kind, f"x{stashed[1]}", stashed[0], commit=False, choices=choices)
            if not report.mapping_errors and report.headers:
                remember_columns(kind, report.headers, [c.target for c in report.columns][:len(report.headers)])
    return _recheck(kind, token, request.form.get("filename", ""))


@bp.post("/registries/import/<kind>/township")
@roles(R.ADMIN)
def import_township(kind: str):
    """Register a township a file names (name and code, audited) and map the file's word to it."""
    kind, token = _kind(kind), request.form.get("token", "")
    word, name, code = (request.form.get(k, "").strip() for k in ("source", "name", "code"))
    problem = notice = None
    if peek_upload(current_user.id, kind, token) is not None:
        try:
            region = save_region(code, name)
        except ServiceError as exc:
            problem = _("Township %(n)s was not registered: %(e)s", n=name or word, e=exc.message)
        else:
            if word and key(word) != key(region.name):
                remember_values(kind, [("region_name", word, region.code)])
            notice = _("Township %(n)s registered.", n=region.name)
    return _recheck(kind, token, request.form.get("filename", ""), problem, notice)


@bp.post("/registries/import/<kind>/confirm")
@roles(R.ADMIN)
def import_confirm(kind: str):
    """Write the previewed file, all or nothing: checked again first, and written only if the check used
    exactly the mapping the preview showed (its columns and every word's mapping: the form's digest)."""
    if _unapplied(_kind(kind)):
        return _recheck(kind, request.form.get("token", ""), request.form.get("filename", ""), problem=_(
            "A column's field was changed but not checked: press \"Apply and check again\" first. Nothing "
            "was written."), status=409)
    claimed = claim_upload(current_user.id, _kind(kind), request.form.get("token", ""))
    if claimed is None:
        flash(_("The previewed file has expired; upload it again."), "error")
        return redirect(url_for("registries.import_form", kind=kind), 303)
    filename = _filename(request.form.get("filename", ""), claimed.suffix)
    try:
        report = import_file(kind, filename, claimed.data, commit=True, choices=_choices(kind),
                             allow_unmapped=request.form.get("without_unmapped") == "1",
                             expect_digest=request.form.get("digest"))
    except BaseException:
        claimed.release()
        raise
    if not report.committed:
        claimed.release()  # the user may change the mapping and confirm again
        problem = _("Choose whether to import without the columns below.") if report.blocked else None
        if report.stale:
            problem = _("The import settings were changed after the preview; check again. Nothing was written: "
                        "below is the file as it would now be imported.")
        return _page(kind, report, claimed.token, filename,
                     409 if report.stale else 422 if not report.ok or report.blocked else 200, problem)
    claimed.done()
    remember_columns(kind, report.headers, [c.target for c in report.columns][:len(report.headers)])
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
