"""The three registries' file layouts (Chinese headers) and how rows become records."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select, update

from ..extensions import db
from . import cells
from .importing import Column, RowRefError, Spec, audit_rows, chunks
from .models import (ENTERPRISE_FIELDS, Competence, Department, Enterprise, InspectionItem,
                     InspectionItemVersion, Inspector, Region, inspector_competence)
from .vocab import (ACTIVE_FILE, FLAG_FILE, INDUSTRY_FILE, METHOD_FILE, NO_FILE, STATUS_FILE, YES_FILE)


def _yn(value: bool) -> str:
    return YES_FILE if value else NO_FILE


class EnterpriseSpec(Spec):
    kind = "enterprises"
    key = "uscc"
    fields = ENTERPRISE_FIELDS
    defaults = {"address": "", "lat": None, "lng": None, "legal_rep": "", "phone": "", "status": "operating",
                **dict.fromkeys(FLAG_FILE, False)}
    columns = [
        Column("统一社会信用代码", "uscc", cells.uscc, required=True),
        Column("企业名称", "name", cells.text(200), required=True),
        Column("经营地址", "address", cells.text(300)),
        Column("乡镇街道", "region_name", cells.text(60)),
        Column("乡镇街道代码", "region_code", cells.text(12)),
        Column("经度", "lng", cells.number_between(-180, 180)),
        Column("纬度", "lat", cells.number_between(-90, 90)),
        Column("行业", "industry", cells.choice(INDUSTRY_FILE), required=True),
        Column("法定代表人", "legal_rep", cells.text(40)),
        Column("联系电话", "phone", cells.text(30)),
        *[Column(FLAG_FILE[f], f, cells.yes_no) for f in FLAG_FILE],
        Column("经营状态", "status", cells.choice(STATUS_FILE), blank_keeps=True),
    ]

    def missing_headers(self, present):
        missing = super().missing_headers(present)
        if "乡镇街道" not in present and "乡镇街道代码" not in present:
            missing.append("乡镇街道")
        return missing

    def load_refs(self):
        regions = db.session.execute(select(Region.id, Region.code, Region.name)).all()
        self.by_code = {r.code: r.id for r in regions}
        self.by_name = {r.name: r.id for r in regions}

    def resolve(self, values):
        name, code = values.pop("region_name", ""), values.pop("region_code", "")
        by_name, by_code = self.by_name.get(name), self.by_code.get(code)
        if code and by_code is None:
            raise RowRefError("乡镇街道代码", _("unknown township code %(c)s", c=code))
        if name and by_name is None:
            raise RowRefError("乡镇街道", _("unknown township %(n)s", n=name))
        if by_name and by_code and by_name != by_code:
            raise RowRefError("乡镇街道", _("township name and code do not match"))
        if not (by_name or by_code):
            raise RowRefError("乡镇街道", _("required field is empty"))
        values["region_id"] = by_code or by_name
        return values

    def existing(self, keys):
        cols = [getattr(Enterprise, f) for f in ENTERPRISE_FIELDS]
        found = {}
        for part in chunks(keys):
            for row in db.session.execute(select(Enterprise.id, *cols).where(Enterprise.uscc.in_(part))):
                found[row.uscc] = row._asdict()
        return found

    def apply(self, created, updated):
        ids = {}
        for part in chunks(created, 2000):
            stmt = insert(Enterprise).returning(Enterprise.id, Enterprise.uscc, sort_by_parameter_order=True)
            ids.update({r.uscc: r.id for r in db.session.execute(stmt, part)})
        if updated:
            db.session.execute(update(Enterprise), [{"id": b["id"], **a} for b, a in updated])
        audit_rows("enterprise", created, updated, ids, "uscc")


def enterprise_export_rows():
    regions = {r.id: (r.name, r.code) for r in db.session.execute(select(Region.id, Region.name, Region.code))}
    cols = [getattr(Enterprise, f) for f in ENTERPRISE_FIELDS]
    stmt = select(*cols).order_by(Enterprise.uscc).execution_options(yield_per=5000)
    for e in db.session.execute(stmt):
        region = regions[e.region_id]
        yield [e.uscc, e.name, e.address, region[0], region[1],
               "" if e.lng is None else repr(e.lng), "" if e.lat is None else repr(e.lat),
               INDUSTRY_FILE[e.industry], e.legal_rep, e.phone,
               *[_yn(getattr(e, f)) for f in FLAG_FILE], STATUS_FILE[e.status]]


def _competence_list(value: str) -> list[str]:
    parts = [p.strip() for p in value.replace("；", ";").replace("、", ";").split(";")]
    return sorted({p for p in parts if p})


class InspectorSpec(Spec):
    kind = "inspectors"
    key = "cert_no"
    fields = ("name", "department_id", "post", "cert_no", "cert_expiry", "phone", "active", "inactive_reason",
              "inactive_note", "competences")
    defaults = {"post": "", "phone": "", "active": True, "inactive_reason": None, "inactive_note": "",
                "competences": []}
    columns = [
        Column("姓名", "name", cells.text(40), required=True),
        Column("所属部门", "department", cells.text(80), required=True),
        Column("职务", "post", cells.text(60)),
        Column("执法证号", "cert_no", cells.text(40), required=True),
        Column("执法证有效期至", "cert_expiry", cells.day, required=True),
        Column("专业领域", "competences", _competence_list),
        Column("联系电话", "phone", cells.text(30)),
        Column("状态", "status", cells.choice(ACTIVE_FILE), blank_keeps=True),
        Column("状态说明", "inactive_note", cells.text(200)),
    ]

    def load_refs(self):
        self.departments = dict(db.session.execute(select(Department.name, Department.id)).all())
        self.competences = dict(db.session.execute(select(Competence.name, Competence.id)).all())

    def resolve(self, values):
        dept = values.pop("department")
        if dept not in self.departments:
            raise RowRefError("所属部门", _("unknown department %(n)s", n=dept))
        values["department_id"] = self.departments[dept]
        unknown = [c for c in values.get("competences", []) if c not in self.competences]
        if unknown:
            raise RowRefError("专业领域", _("unknown competence %(n)s", n="、".join(unknown)))
        if "status" in values:
            status = values.pop("status")  # None is 在岗
            values["active"], values["inactive_reason"] = status is None, status
            if status is None:
                values["inactive_note"] = ""
        return values

    def existing(self, keys):
        found = {}
        cols = (Inspector.id, Inspector.name, Inspector.department_id, Inspector.post, Inspector.cert_no,
                Inspector.cert_expiry, Inspector.phone, Inspector.active, Inspector.inactive_reason,
                Inspector.inactive_note)
        for part in chunks(keys):
            for row in db.session.execute(select(*cols).where(Inspector.cert_no.in_(part))):
                found[row.cert_no] = {**row._asdict(), "competences": []}
        by_id = {v["id"]: v for v in found.values()}
        for part in chunks(list(by_id)):
            stmt = (select(inspector_competence.c.inspector_id, Competence.name)
                    .join(Competence).where(inspector_competence.c.inspector_id.in_(part)))
            for iid, name in db.session.execute(stmt):
                by_id[iid]["competences"].append(name)
        for v in by_id.values():
            v["competences"].sort()
        return found

    def apply(self, created, updated):
        scalar = lambda v: {k: x for k, x in v.items() if k != "competences"}  # noqa: E731
        ids = {}
        if created:
            stmt = insert(Inspector).returning(Inspector.id, Inspector.cert_no, sort_by_parameter_order=True)
            ids = {r.cert_no: r.id for r in db.session.execute(stmt, [scalar(v) for v in created])}
        if updated:
            db.session.execute(update(Inspector), [{"id": b["id"], **scalar(a)} for b, a in updated])
            db.session.execute(delete(inspector_competence).where(
                inspector_competence.c.inspector_id.in_([b["id"] for b, _ in updated])))
        links = [{"inspector_id": ids[v["cert_no"]], "competence_id": self.competences[c]}
                 for v in created for c in v["competences"]]
        links += [{"inspector_id": b["id"], "competence_id": self.competences[c]}
                  for b, a in updated for c in a["competences"]]
        if links:
            db.session.execute(insert(inspector_competence), links)
        audit_rows("inspector", created, updated, ids, "cert_no")


def inspector_export_rows():
    stmt = select(Inspector).order_by(Inspector.cert_no)
    for i in db.session.scalars(stmt):
        yield [i.name, i.department.name, i.post, i.cert_no, i.cert_expiry.isoformat(),
               ";".join(c.name for c in i.competences), i.phone,
               ACTIVE_FILE[None if i.active else (i.inactive_reason or "other")], i.inactive_note]


class ItemSpec(Spec):
    kind = "items"
    key = "code"
    fields = ("code", "department_id", "name", "legal_basis", "content", "method", "is_random", "valid_from",
              "valid_to")
    defaults = {"is_random": True, "valid_to": None}
    columns = [
        Column("事项编码", "code", cells.text(40), required=True),
        Column("抽查主体", "department", cells.text(80), required=True),
        Column("事项名称", "name", cells.text(200), required=True),
        Column("抽查依据", "legal_basis", cells.text(2000), required=True,
               empty_message=_l("the legal basis is required: only items with a legal basis may be checked (R16)")),
        Column("抽查内容", "content", cells.text(2000), required=True),
        Column("抽查方式", "method", cells.choice(METHOD_FILE), required=True),
        Column("是否随机抽查事项", "is_random", cells.yes_no, blank_keeps=True),
        Column("生效日期", "valid_from", cells.day, required=True),
        Column("失效日期", "valid_to", cells.day),
    ]

    def load_refs(self):
        self.departments = dict(db.session.execute(select(Department.name, Department.id)).all())

    def resolve(self, values):
        dept = values.pop("department")
        if dept not in self.departments:
            raise RowRefError("抽查主体", _("unknown department %(n)s", n=dept))
        values["department_id"] = self.departments[dept]
        if values.get("valid_to") and values["valid_to"] < values["valid_from"]:
            raise RowRefError("失效日期", _("ends before it starts"))
        return values

    def existing(self, keys):
        found = {}
        fields = ("department_id", "name", "legal_basis", "content", "method", "is_random",
                  "valid_from", "valid_to")
        for part in chunks(keys):
            stmt = (select(InspectionItem.id, InspectionItem.code, InspectionItem.latest_version,
                           *[getattr(InspectionItemVersion, f) for f in fields])
                    .join(InspectionItemVersion, (InspectionItemVersion.item_id == InspectionItem.id)
                          & (InspectionItemVersion.version == InspectionItem.latest_version))
                    .where(InspectionItem.code.in_(part)))
            for row in db.session.execute(stmt):
                found[row.code] = row._asdict()
        return found

    def apply(self, created, updated):
        version_of = lambda v, n, item_id: {**{k: x for k, x in v.items() if k != "code"},  # noqa: E731
                                            "version": n, "item_id": item_id}
        ids = {}
        if created:
            stmt = insert(InspectionItem).returning(InspectionItem.id, InspectionItem.code,
                                                    sort_by_parameter_order=True)
            ids = {r.code: r.id for r in db.session.execute(stmt, [{"code": v["code"], "latest_version": 1}
                                                                   for v in created])}
            db.session.execute(insert(InspectionItemVersion), [version_of(v, 1, ids[v["code"]]) for v in created])
        if updated:
            # Never overwrite a version: each change is version n+1 (R1).
            db.session.execute(insert(InspectionItemVersion),
                               [version_of(a, b["latest_version"] + 1, b["id"]) for b, a in updated])
            db.session.execute(update(InspectionItem), [{"id": b["id"], "latest_version": b["latest_version"] + 1}
                                                        for b, _ in updated])
        audit_rows("inspection_item", created,
                   [({k: v for k, v in b.items() if k != "latest_version"}, a) for b, a in updated], ids, "code")


def item_export_rows():
    stmt = select(InspectionItem).order_by(InspectionItem.code)
    for item in db.session.scalars(stmt):
        v = item.current
        yield [item.code, v.department.name, v.name, v.legal_basis, v.content, METHOD_FILE[v.method],
               _yn(v.is_random), v.valid_from.isoformat(), v.valid_to.isoformat() if v.valid_to else ""]


SPECS = {"enterprises": EnterpriseSpec, "inspectors": InspectorSpec, "items": ItemSpec}
EXPORTS = {"enterprises": enterprise_export_rows, "inspectors": inspector_export_rows, "items": item_export_rows}
SHEET_TITLES = {"enterprises": "检查对象名录库", "inspectors": "执法检查人员名录库", "items": "随机抽查事项清单"}


def headers(kind: str) -> list[str]:
    return [c.header for c in SPECS[kind].columns]
