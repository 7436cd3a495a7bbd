"""The three registries' file layouts (Chinese headers) and how rows become records."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select, update

from ..extensions import db
from . import cells
from .importing import Column, RowRefError, RowRefErrors, Spec, audit_rows, chunks
from .mapping import flag_synonyms
from .models import (ENTERPRISE_FIELDS, Competence, Department, Enterprise, InspectionItem,
                     InspectionItemVersion, Inspector, Region, inspector_competence)
from .vocab import (ACTIVE_FILE, FLAG_FILE, INACTIVE_LABELS, INDUSTRY_FILE, INDUSTRY_LABELS, METHOD_FILE,
                    METHOD_LABELS, NO_FILE, STATUS_FILE, STATUS_LABELS, YES_FILE)


def _yn(value: bool) -> str:
    return YES_FILE if value else NO_FILE


def _yes_no(value: str) -> bool:
    return cells.yes_no(value)


_yes_no.domain = "yes_no"

#: Other words offices use for our industries (their own names beyond these are mapped in the preview).
INDUSTRY_SYNONYMS = {
    "coal": ("煤炭", "煤矿企业"), "non_coal_mine": ("非煤", "非煤矿山企业", "矿山"),
    "hazchem": ("危化", "危化品", "危险化学品企业", "危化企业"), "nonferrous": ("有色金属",),
    "building_materials": ("建筑材料",), "machinery": ("机械制造",), "commerce": ("商贸服务", "商业贸易"),
    "other": ("其它",),
}
#: Synonyms of the flags' headers beyond 是否…/列入…/…单位 (``flag_synonyms``).
FLAG_SYNONYMS = {
    "key_supervision": ("重点监管企业", "重点监管单位", "重点企业"),
    "dust_explosion": ("涉爆粉尘", "粉尘爆炸"), "confined_space": ("有限空间作业",),
    "liquid_ammonia": ("涉氨制冷", "液氨"), "major_hazard": ("构成重大危险源",),
    "seriously_untrustworthy": ("严重失信主体", "严重失信名单"),
    "blacklisted": ("安全生产黑名单", "失信黑名单"), "high_credit_risk": ("高信用风险", "信用风险等级高"),
    "many_complaints": ("投诉举报较多",), "abnormal_operation": ("经营异常", "经营异常名录企业"),
    "serious_violation": ("严重违法", "严重违法失信"),
}

#: Words a 「监管类别」 cell may use for each flag (「重点监管、黑名单、粉尘涉爆」), beyond its header words.
CATEGORY_EXTRA = {
    "key_supervision": ("重点", "重点监管对象"), "dust_explosion": ("粉尘", "涉爆", "粉尘涉爆企业"),
    "confined_space": ("有限空间作业",), "liquid_ammonia": ("涉氨", "液氨", "涉氨制冷"),
    "major_hazard": ("重大危险源企业",), "seriously_untrustworthy": ("失信", "严重失信主体"),
    "blacklisted": ("黑名单企业",), "high_credit_risk": ("高风险", "信用风险高"),
    "many_complaints": ("投诉多", "投诉举报多"), "abnormal_operation": ("经营异常",),
    "serious_violation": ("严重违法", "违法记录"),
}
CATEGORY_WORDS = {cells.key(w): f for f in FLAG_FILE
                  for w in (FLAG_FILE[f], *FLAG_SYNONYMS[f], *CATEGORY_EXTRA.get(f, ()))}


def _categories(value: str) -> list[str]:
    """A 「监管类别」 cell: the words it lists (重点监管、黑名单、粉尘涉爆); ``resolve`` sets their flags."""
    return cells.split_words(value)


_categories.domain = "category"


class EnterpriseSpec(Spec):
    kind = "enterprises"
    key = "uscc"
    fields = ENTERPRISE_FIELDS
    defaults = {"address": "", "lat": None, "lng": None, "legal_rep": "", "phone": "", "status": "operating",
                **dict.fromkeys(FLAG_FILE, False)}
    flag_words = frozenset(CATEGORY_WORDS)
    columns = [
        Column("统一社会信用代码", "uscc", cells.uscc, required=True,
               synonyms=("社会信用代码", "信用代码", "统一代码", "社会统一信用代码", "统一社会信用代码注册号",
                         "企业统一社会信用代码", "单位统一社会信用代码", "USCC")),
        Column("企业名称", "name", cells.text(200), required=True,
               synonyms=("单位名称", "名称", "企业单位名称", "企业(单位)名称", "生产经营单位名称", "公司名称",
                         "单位全称", "企业全称", "检查对象", "检查对象名称", "市场主体名称", "主体名称")),
        Column("经营地址", "address", cells.text(300),
               synonyms=("地址", "详细地址", "生产经营地址", "经营场所", "单位地址", "企业地址", "注册地址",
                         "住所", "生产地址", "所在地址")),
        Column("乡镇街道", "region_name", cells.text(60), domain="region",
               synonyms=("所属街道", "乡镇", "所属乡镇", "所属乡镇(街道)", "乡镇(街道)", "街道", "所在乡镇",
                         "所在街道", "乡镇街道办", "属地", "所属区域", "辖区", "所属乡镇街道", "所在乡镇街道")),
        Column("乡镇街道代码", "region_code", cells.code_text(12), domain="region_code",
               synonyms=("乡镇代码", "街道代码", "乡镇街道编码", "区划代码", "乡镇区划代码")),
        Column("经度", "lng", cells.number_between(-180, 180), synonyms=("东经",)),
        Column("纬度", "lat", cells.number_between(-90, 90), synonyms=("北纬",)),
        Column("行业", "industry", cells.choice(INDUSTRY_FILE, "industry", INDUSTRY_SYNONYMS), required=True,
               synonyms=("行业类别", "行业类型", "所属行业", "行业分类", "监管行业", "行业领域", "企业类型")),
        Column("法定代表人", "legal_rep", cells.text(40),
               synonyms=("负责人", "法人", "法人代表", "主要负责人", "法定代表人(负责人)", "企业负责人",
                         "单位负责人", "法定代表人姓名")),
        Column("联系电话", "phone", cells.code_text(30),
               synonyms=("电话", "联系方式", "手机", "手机号码", "负责人电话", "联系人电话", "电话号码")),
        *[Column(FLAG_FILE[f], f, _yes_no, flag=True, synonyms=flag_synonyms(FLAG_FILE[f], *FLAG_SYNONYMS[f]))
          for f in FLAG_FILE],
        Column("经营状态", "status", cells.choice(STATUS_FILE, "status", {"operating": ("存续", "在业", "正常", "开业"),
                                                                        "suspended": ("停产", "停产停业"),
                                                                        "deregistered": ("吊销", "已注销")}),
               blank_keeps=True, synonyms=("状态", "登记状态", "企业状态", "营业状态", "生产经营状态")),
        # A column listing a firm's marks (R8, R9, R11): each word sets its flag, the others are cleared.
        Column("监管类别", "categories", _categories, domain="category", multi=True, import_only=True,
               synonyms=("类别", "监管类型", "监管分类", "重点类别", "企业标签", "标签", "监管标签", "重点监管类别")),
    ]

    def load_refs(self):
        regions = db.session.execute(select(Region.id, Region.code, Region.name)).all()
        self.by_code = {r.code: r.id for r in regions}
        self.by_name = {cells.key(r.name): r.id for r in regions}
        self.region_names = {r.id: r.name for r in regions}

    def resolve(self, values):
        problems = []
        listed = values.pop("categories", None)
        if listed is not None:
            unknown = [w for w in listed if cells.key(w) not in CATEGORY_WORDS]
            if unknown:
                problems.append(RowRefError("监管类别", cells.unknown_message("category"), "category", unknown))
            named = {CATEGORY_WORDS.get(cells.key(w)) for w in listed}
            for f in FLAG_FILE:  # a flag's own column, if the file has one, wins
                values.setdefault(f, f in named)
        try:
            values = self._resolve_region(values)
        except RowRefError as exc:
            problems.insert(0, exc)
        if problems:
            raise RowRefErrors(problems) if len(problems) > 1 else problems[0]
        return values

    def _resolve_region(self, values):
        name, code = values.pop("region_name", ""), values.pop("region_code", "")
        by_name, by_code = self.by_name.get(cells.key(name)), self.by_code.get(code)
        if code and by_code is None:
            raise RowRefError("乡镇街道代码", cells.unknown_message("region_code"), "region_code", [code])
        if name and by_name is None:
            raise RowRefError("乡镇街道", cells.unknown_message("region"), "region", [name])
        if by_name and by_code and by_name != by_code:
            raise RowRefError("乡镇街道", _("township name and code do not match"))
        if not (by_name or by_code):
            raise RowRefError("乡镇街道", _("required field is empty"))
        values["region_id"] = by_code or by_name
        return values

    def describe(self, field, value):
        if field == "region_id" and value is not None:
            return self.region_names.get(value, "—")
        if field == "industry" and value in INDUSTRY_LABELS:
            return str(INDUSTRY_LABELS[value])
        if field == "status" and value in STATUS_LABELS:
            return str(STATUS_LABELS[value])
        return super().describe(field, value)

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
    """专业领域 as offices list them: 危化;工贸, 危化、工贸, 危化/工贸, 危化 工贸."""
    return sorted(set(cells.split_words(value)))


class InspectorSpec(Spec):
    kind = "inspectors"
    key = "cert_no"
    fields = ("name", "department_id", "post", "cert_no", "cert_expiry", "phone", "active", "inactive_reason",
              "inactive_note", "competences")
    defaults = {"post": "", "phone": "", "active": True, "inactive_reason": None, "inactive_note": "",
                "competences": []}
    columns = [
        Column("姓名", "name", cells.text(40), required=True, synonyms=("执法人员姓名", "人员姓名", "执法人员")),
        Column("所属部门", "department", cells.text(80), required=True, domain="department",
               synonyms=("部门", "所在部门", "单位", "所在单位", "工作单位", "科室", "所属单位", "所在科室")),
        Column("职务", "post", cells.text(60), synonyms=("职位", "岗位", "职务职级")),
        Column("执法证号", "cert_no", cells.code_text(40), required=True,
               synonyms=("执法证件号", "执法证编号", "执法证件编号", "执法证件号码", "证件号码", "行政执法证号",
                         "执法证号码", "证号")),
        Column("执法证有效期至", "cert_expiry", cells.day, required=True,
               synonyms=("有效期至", "有效期", "证件有效期", "执法证有效期", "有效期截止", "执法证到期日期")),
        Column("专业领域", "competences", _competence_list, domain="competence", multi=True,
               synonyms=("专业", "执法领域", "擅长领域", "专业特长", "检查领域")),
        Column("联系电话", "phone", cells.code_text(30), synonyms=("电话", "手机", "手机号码", "联系方式")),
        Column("状态", "status", cells.choice(ACTIVE_FILE, "active", {None: ("在职", "正常")}), blank_keeps=True,
               synonyms=("在岗状态", "人员状态", "在岗情况")),
        Column("状态说明", "inactive_note", cells.text(200), synonyms=("不在岗原因", "状态备注")),
    ]

    def load_refs(self):
        self.departments = {cells.key(n): i for n, i in db.session.execute(select(Department.name, Department.id))}
        self.department_names = {i: n for n, i in db.session.execute(select(Department.name, Department.id))}
        self.competences = {cells.key(n): (n, i) for n, i in db.session.execute(select(Competence.name, Competence.id))}

    def resolve(self, values):
        dept = values.pop("department")
        problems = []
        if cells.key(dept) not in self.departments:
            problems.append(RowRefError("所属部门", cells.unknown_message("department"), "department", [dept]))
        unknown = [c for c in values.get("competences", []) if cells.key(c) not in self.competences]
        if unknown:
            problems.append(RowRefError("专业领域", cells.unknown_message("competence"), "competence", unknown))
        if problems:
            raise RowRefErrors(problems)
        values["department_id"] = self.departments[cells.key(dept)]
        if "competences" in values:
            values["competences"] = sorted({self.competences[cells.key(c)][0] for c in values["competences"]})
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
        comp = {name: cid for name, cid in self.competences.values()}
        links = [{"inspector_id": ids[v["cert_no"]], "competence_id": comp[c]}
                 for v in created for c in v["competences"]]
        links += [{"inspector_id": b["id"], "competence_id": comp[c]}
                  for b, a in updated for c in a["competences"]]
        if links:
            db.session.execute(insert(inspector_competence), links)
        audit_rows("inspector", created, updated, ids, "cert_no")

    def describe(self, field, value):
        if field == "department_id" and value is not None:
            return self.department_names.get(value, "—")
        if field == "active":
            return str(_l("Active") if value else _l("Inactive"))
        if field == "inactive_reason" and value in INACTIVE_LABELS:
            return str(INACTIVE_LABELS[value])
        return super().describe(field, value)


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
        Column("事项编码", "code", cells.code_text(40), required=True,
               synonyms=("编码", "事项编号", "抽查事项编码", "事项代码")),
        Column("抽查主体", "department", cells.text(80), required=True, domain="department",
               synonyms=("实施主体", "检查主体", "责任部门", "实施部门", "抽查部门", "责任科室")),
        Column("事项名称", "name", cells.text(200), required=True,
               synonyms=("抽查事项", "检查事项", "抽查事项名称", "检查事项名称", "名称")),
        Column("抽查依据", "legal_basis", cells.text(2000), required=True,
               empty_message=_l("the legal basis is required: only items with a legal basis may be checked"),
               synonyms=("检查依据", "法律依据", "依据", "抽查依据(法律法规)", "设定依据")),
        Column("抽查内容", "content", cells.text(2000), required=True, synonyms=("检查内容", "抽查检查内容")),
        Column("抽查方式", "method", cells.choice(METHOD_FILE, "method", {"onsite": ("现场", "实地检查"),
                                                                        "written": ("书面",), "online": ("网络",),
                                                                        "agency": ("委托", "委托第三方")}),
               required=True, synonyms=("检查方式", "检查方法", "抽查方法")),
        Column("是否随机抽查事项", "is_random", _yes_no, blank_keeps=True,
               synonyms=("是否随机抽查", "随机抽查", "随机抽查事项")),
        Column("生效日期", "valid_from", cells.day, required=True, synonyms=("生效时间", "实施日期", "起始日期")),
        Column("失效日期", "valid_to", cells.end_day, synonyms=("废止日期", "失效时间", "截止日期")),
    ]

    def load_refs(self):
        self.departments = {cells.key(n): i for n, i in db.session.execute(select(Department.name, Department.id))}
        self.department_names = {i: n for n, i in db.session.execute(select(Department.name, Department.id))}

    def resolve(self, values):
        dept = values.pop("department")
        if cells.key(dept) not in self.departments:
            raise RowRefError("抽查主体", cells.unknown_message("department"), "department", [dept])
        values["department_id"] = self.departments[cells.key(dept)]
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

    def describe(self, field, value):
        if field == "department_id" and value is not None:
            return self.department_names.get(value, "—")
        if field == "method" and value in METHOD_LABELS:
            return str(METHOD_LABELS[value])
        return super().describe(field, value)


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
    return [c.header for c in SPECS[kind].columns if not c.import_only]
