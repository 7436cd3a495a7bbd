"""Write side of the registries: every change is validated, transactional and audited."""
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from ..audit.services import record
from ..extensions import db
from ..inputs import int_arg
from ..services import ServiceError, transaction
from . import cells
from .models import (ENTERPRISE_FIELDS, ENTERPRISE_FLAGS, INDUSTRIES, STATUSES, Competence, Department,
                     Enterprise, InspectionItem, InspectionItemVersion, Inspector, Recusal, Region)
from .vocab import METHOD_FILE


def _cell(parse, value, field):
    try:
        return parse(value)
    except cells.CellError as exc:
        raise ServiceError(exc.message, field) from None


def _get(model, value, field: str, message: str):
    """The row a form's id names, or a ServiceError on that field (never a 500 on junk input)."""
    key = int_arg(value)  # issue #11 point 13: junk or a number past the column is no row either
    obj = db.session.get(model, key) if key is not None else None
    if obj is None:
        raise ServiceError(message, field)
    return obj


def _required(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ServiceError(_("required field is empty"), field)
    return value


# --- enterprises -------------------------------------------------------------------------

def clean_enterprise(data: dict, current: Enterprise | None = None) -> dict:
    """Validate form input for an enterprise; raise ServiceError naming the field."""
    values = {
        "uscc": _cell(cells.uscc, _required(data.get("uscc"), "uscc"), "uscc"),
        "name": _cell(cells.text(200), _required(data.get("name"), "name"), "name"),
        "address": _cell(cells.text(300), (data.get("address") or "").strip(), "address"),
        "legal_rep": _cell(cells.text(40), (data.get("legal_rep") or "").strip(), "legal_rep"),
        "phone": _cell(cells.text(30), (data.get("phone") or "").strip(), "phone"),
        "lat": _cell(cells.number_between(-90, 90), data.get("lat") or "", "lat"),
        "lng": _cell(cells.number_between(-180, 180), data.get("lng") or "", "lng"),
    }
    if data.get("industry") not in INDUSTRIES:
        raise ServiceError(_("Choose an industry."), "industry")
    if data.get("status", "operating") not in STATUSES:
        raise ServiceError(_("Choose a status."), "status")
    values["industry"], values["status"] = data["industry"], data.get("status", "operating")
    values["region_id"] = _get(Region, data.get("region_id"), "region_id", _("Choose a township.")).id
    for flag in ENTERPRISE_FLAGS:
        values[flag] = data.get(flag) in ("1", "on", "true", True)
    clash = db.session.scalar(select(Enterprise.id).where(Enterprise.uscc == values["uscc"]))
    if clash and (current is None or clash != current.id):
        raise ServiceError(_("An enterprise with this credit code is already registered."), "uscc")
    return values


def save_enterprise(data: dict, enterprise: Enterprise | None = None) -> Enterprise:
    """Create or update an enterprise; the audit entry keeps its history (R1)."""
    values = clean_enterprise(data, enterprise)
    with transaction():
        before = enterprise.audit_view() if enterprise else None
        if enterprise is None:
            enterprise = Enterprise(**values)
            db.session.add(enterprise)
        else:
            for k, v in values.items():
                setattr(enterprise, k, v)
        db.session.flush()
        after = enterprise.audit_view()
        if before != after:
            record("enterprise.create" if before is None else "enterprise.update", "enterprise",
                   enterprise.id, {k: before[k] for k in ENTERPRISE_FIELDS if before[k] != after[k]} if before else None,
                   {k: after[k] for k in ENTERPRISE_FIELDS if not before or before[k] != after[k]})
    return enterprise


# --- inspectors ---------------------------------------------------------------------------

INACTIVE_REASONS = ("transfer", "leave", "retired", "other")


def save_inspector(data: dict, competence_ids: list[int], inspector: Inspector | None = None) -> Inspector:
    """Create or update a pool entry; deactivation needs a reason (transfer, leave …)."""
    name = _cell(cells.text(40), _required(data.get("name"), "name"), "name")
    cert_no = _cell(cells.text(40), _required(data.get("cert_no"), "cert_no"), "cert_no")
    expiry = _cell(cells.day, _required(data.get("cert_expiry"), "cert_expiry"), "cert_expiry")
    dept = _get(Department, data.get("department_id"), "department_id", _("Choose a department."))
    active = data.get("active", "1") in ("1", "on", "true")
    reason = None if active else data.get("inactive_reason")
    if not active and reason not in INACTIVE_REASONS:
        raise ServiceError(_("Say why the inspector is inactive."), "inactive_reason")
    clash = db.session.scalar(select(Inspector.id).where(Inspector.cert_no == cert_no))
    if clash and (inspector is None or clash != inspector.id):
        raise ServiceError(_("Another inspector holds this certificate number."), "cert_no")
    comps = list(db.session.scalars(select(Competence).where(Competence.id.in_(competence_ids))))
    with transaction():
        before = inspector.audit_view() if inspector else None
        if inspector is None:
            inspector = Inspector(cert_no=cert_no)
            db.session.add(inspector)
        inspector.name, inspector.cert_no, inspector.cert_expiry = name, cert_no, expiry
        inspector.department_id, inspector.post = dept.id, (data.get("post") or "").strip()[:60]
        inspector.phone = (data.get("phone") or "").strip()[:30]
        inspector.active, inspector.inactive_reason = active, reason
        inspector.inactive_note = "" if active else (data.get("inactive_note") or "").strip()[:200]
        inspector.competences = comps
        db.session.flush()
        record("inspector.create" if before is None else "inspector.update", "inspector", inspector.id,
               before, inspector.audit_view())
    return inspector


def add_recusal(inspector: Inspector, uscc: str, reason: str) -> Recusal:
    """回避: this inspector must never be matched with this enterprise."""
    reason = _required(reason, "reason")[:200]
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.uscc == (uscc or "").strip().upper()))
    if enterprise is None:
        raise ServiceError(_("No enterprise with this credit code is registered."), "uscc")
    exists = db.session.scalar(select(Recusal.id).where(Recusal.inspector_id == inspector.id,
                                                         Recusal.enterprise_id == enterprise.id))
    if exists:
        raise ServiceError(_("This recusal is already recorded."), "uscc")
    with transaction():
        recusal = Recusal(inspector_id=inspector.id, enterprise_id=enterprise.id, reason=reason)
        db.session.add(recusal)
        db.session.flush()
        record("recusal.create", "recusal", recusal.id, None, recusal.audit_view())
    return recusal


def remove_recusal(recusal: Recusal) -> None:
    with transaction():
        record("recusal.delete", "recusal", recusal.id, recusal.audit_view(), None)
        db.session.delete(recusal)


# --- the item list --------------------------------------------------------------------------

def save_item_version(data: dict, item: InspectionItem | None = None) -> InspectionItem:
    """A new item, or a new version of one: earlier versions are never changed (R1)."""
    code = item.code if item else _cell(cells.text(40), _required(data.get("code"), "code"), "code")
    if item is None and db.session.scalar(select(InspectionItem.id).where(InspectionItem.code == code)):
        raise ServiceError(_("An item with this code exists; add a new version to it instead."), "code")
    basis = (data.get("legal_basis") or "").strip()
    if not basis:
        raise ServiceError(_("the legal basis is required: only items with a legal basis may be checked"),
                           "legal_basis")
    for field in ("legal_basis", "content"):  # the same limits as the import file
        _cell(cells.text(2000), (data.get(field) or "").strip(), field)
    dept = _get(Department, data.get("department_id"), "department_id", _("Choose a department."))
    if data.get("method") not in METHOD_FILE:
        raise ServiceError(_("Choose a method."), "method")
    valid_from = _cell(cells.day, _required(data.get("valid_from"), "valid_from"), "valid_from")
    valid_to = _cell(cells.day, data.get("valid_to") or "", "valid_to")
    if valid_to and valid_to < valid_from:
        raise ServiceError(_("ends before it starts"), "valid_to")
    with transaction():
        if item is None:
            item = InspectionItem(code=code, latest_version=0)
            db.session.add(item)
            db.session.flush()
        else:  # two editors at once: the second waits, then numbers after the first
            item = db.session.scalars(select(InspectionItem).where(InspectionItem.id == item.id)
                                      .options(lazyload(InspectionItem.current)).with_for_update()
                                      .execution_options(populate_existing=True)).one()
        version = InspectionItemVersion(
            item_id=item.id, version=item.latest_version + 1, department_id=dept.id,
            name=_required(data.get("name"), "name")[:200], legal_basis=basis,
            content=_required(data.get("content"), "content"), method=data["method"],
            is_random=data.get("is_random") in ("1", "on", "true"), valid_from=valid_from, valid_to=valid_to)
        db.session.add(version)
        item.latest_version = version.version
        db.session.flush()
        record("inspection_item.version", "inspection_item", item.id, None,
               {"code": code, **version.audit_view()})
    db.session.refresh(item)
    return item


# --- reference data ---------------------------------------------------------------------------

def save_department(name: str, kind: str, dept: Department | None = None) -> Department:
    name = _required(name, "name")[:80]
    if kind not in ("office", "brigade", "other_bureau"):
        raise ServiceError(_("Choose a kind."), "kind")
    clash = db.session.scalar(select(Department.id).where(Department.name == name))
    if clash and (dept is None or clash != dept.id):
        raise ServiceError(_("This name is taken."), "name")
    return _save_simple(dept or Department(), "department", name=name, kind=kind)


def save_region(code: str, name: str) -> Region:
    code, name = _required(code, "code"), _required(name, "name")
    code = cells.key(code)  # full-width digits and spaces, as an office's file has them
    if not code.isascii() or not code.isdigit() or len(code) not in (9, 12):
        raise ServiceError(_("A township code has 9 or 12 digits."), "code")
    # Names are compared as imports compare them (full-width, spaces): 「城关镇」 and 「城关 镇」 are one
    # township, and two rows a file could not tell apart would be mixed up.
    wanted = cells.key(name)
    if db.session.scalar(select(Region.id).where(Region.code == code)) or any(
            cells.key(n) == wanted for n in db.session.scalars(select(Region.name))):
        raise ServiceError(_("This township is already registered."), "code")
    return _save_simple(Region(), "region", code=code, name=name[:60])


def save_competence(name: str) -> Competence:
    name = _required(name, "name")[:40]
    if any(sep in name for sep in ";；、,，"):
        raise ServiceError(_("A competence name may not contain ; 、 or commas (they separate competences in files)."),
                           "name")
    if db.session.scalar(select(Competence.id).where(Competence.name == name)):
        raise ServiceError(_("This name is taken."), "name")
    return _save_simple(Competence(), "competence", name=name)


def _save_simple(obj, object_type: str, **values):
    with transaction():
        before = {k: getattr(obj, k) for k in values} if obj.id else None
        for k, v in values.items():
            setattr(obj, k, v)
        db.session.add(obj)
        db.session.flush()
        record(f"{object_type}.{'update' if before else 'create'}", object_type, obj.id, before, values)
    return obj

