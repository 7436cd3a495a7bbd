"""What people read is words, not the codes behind them (issue #12 points 4 and 5).

The change histories and the audit trail show action labels, field labels, values as labels (industry
names, 是/否, township and inspector names), local times without microseconds and the actor's display
name; the stored JSON stays behind an expander on the audit page. Rule ids (R3, R15 …) are for code,
tests and docs: no page of the registries, plans and draws, deadlines, publication, checklists, accounts
or audit trail shows one in its visible text (a tooltip may cite the article).
"""
import html
import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from webapp.audit.models import AuditEntry
from webapp.audit.present import ACTION_LABELS, SYNC_KIND_LABELS, action_label
from webapp.db_types import SHANGHAI
from webapp.extensions import db

ROOT = Path(__file__).resolve().parent.parent
RULE_ID = re.compile(r"\bR\d{1,2}\b")
RAW_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\d{2}:\d{2}:\d{2}\.\d+")
CODES = re.compile(r"\b(True|False|None|light_industry|commerce|operating|key_supervision|region_id|"
                   r"inactive_reason|enterprise\.import_create|enterprise\.update|inspector\.update|"
                   r"inspector\.import_create|user\.login)\b")


def visible(page: str, keep_raw: bool = False) -> str:
    """The text a reader sees: no tags, no attributes, no scripts; the auditor's JSON expander dropped
    unless ``keep_raw``."""
    if not keep_raw:
        page = re.sub(r'<details class="raw">.*?</details>', " ", page, flags=re.S)
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.fixture
def demo(app, ctx, client):
    """The demo county, then three audited changes by the administrator: an enterprise edited (industry,
    township, the key-supervision flag), an inspector deactivated."""
    from webapp.registries.models import Enterprise, Inspector, Region

    result = app.test_cli_runner().invoke(args=["seed-demo", "--enterprises", "120"])
    assert result.exit_code == 0, result.output
    client.post("/login", data={"username": "admin", "password": "ssj-demo-2026"})
    ent = db.session.scalar(select(Enterprise).where(Enterprise.industry != "light_industry",
                                                     Enterprise.key_supervision.is_(False)).limit(1))
    old_region = ent.region.name
    new_region = db.session.scalar(select(Region).where(Region.id != ent.region_id).limit(1))
    form = {k: ("" if v is None else v) for k, v in ent.audit_view().items() if not isinstance(v, bool)}
    form.update({f: "1" for f, v in ent.audit_view().items() if v is True})
    form.update(industry="light_industry", region_id=str(new_region.id), key_supervision="1")
    assert client.post(f"/enterprises/{ent.id}/edit", data=form).status_code == 303
    insp = db.session.scalar(select(Inspector).where(Inspector.active.is_(True)).limit(1))
    data = {"name": insp.name, "department_id": str(insp.department_id), "post": insp.post or "",
            "cert_no": insp.cert_no, "cert_expiry": insp.cert_expiry.isoformat(), "phone": insp.phone or "",
            "active": "0", "inactive_reason": "transfer", "inactive_note": ""}
    assert client.post(f"/inspectors/{insp.id}/edit",
                       data={**data, "competence": [str(c.id) for c in insp.competences]}).status_code == 303
    db.session.expire_all()
    return {"enterprise": ent, "old_region": old_region, "new_region": new_region.name, "inspector": insp}


def _local(entry: AuditEntry) -> str:
    return entry.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def test_an_enterprise_history_reads_in_words(demo, client):
    ent = demo["enterprise"]
    page = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    text = visible(page)
    edit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "enterprise.update",
                                                     AuditEntry.object_id == str(ent.id)))
    assert "修改企业信息" in text and "导入新增企业" in text  # action labels, not enterprise.update
    assert "协调办 管理员" in text  # who, by display name
    assert "行业" in text and "→ 轻工" in text  # the industry's name
    assert re.search(r"重点监管单位\s*否 → 是", text)  # a flag as 否/是
    assert f"{demo['old_region']} → {demo['new_region']}" in text  # townships by name, not id
    assert _local(edit) in text  # Asia/Shanghai, to the minute
    assert not CODES.search(text), CODES.search(text)
    assert not RAW_INSTANT.search(text), RAW_INSTANT.search(text)
    assert "['" not in text and "{'" not in text  # no Python repr


def test_an_inspector_history_reads_in_words(demo, client):
    insp = demo["inspector"]
    text = visible(client.get(f"/inspectors/{insp.id}").get_data(as_text=True))
    assert "修改检查人员信息" in text and "导入新增检查人员" in text
    assert re.search(r"状态\s*在岗 → 不在岗", text)
    assert re.search(r"不在岗原因\s*— → 调离", text)
    assert "协调办 管理员" in text
    names = "、".join(c.name for c in sorted(insp.competences, key=lambda c: c.name))
    assert f"专业领域 {names}" in re.sub(r"\s+", " ", text)  # a list joined as people write it
    assert not CODES.search(text), CODES.search(text)
    assert not RAW_INSTANT.search(text)
    assert "['" not in text and "{'" not in text  # no Python repr


def test_the_audit_trail_reads_in_words_with_the_stored_json_behind_an_expander(demo, client):
    ent = demo["enterprise"]
    page = client.get("/audit/").get_data(as_text=True)
    text = visible(page)
    assert "修改企业信息" in text and "修改检查人员信息" in text and "登录" in text
    assert f"企业 · {ent.name}" in text  # the record by kind and name
    assert "协调办 管理员" in text
    assert not CODES.search(text), CODES.search(text)
    assert not RAW_INSTANT.search(text), RAW_INSTANT.search(text)
    # The auditor's view: the stored entry, labelled, one tap away.
    assert "['" not in text and "{'" not in text  # no Python repr
    assert "原始记录（JSON，供审计核查）" in visible(page, keep_raw=True)
    assert '"action": "enterprise.update"' in html.unescape(page)

    # The filters offer actions, kinds of record and people by label; an action filters exactly.
    assert re.search(r'<option value="enterprise.import_create"\s*>导入新增企业</option>', page)
    assert re.search(r'<option value="enterprise"\s*>企业</option>', page)
    assert re.search(r'<option value="admin"\s*>协调办 管理员</option>', page)
    only = visible(client.get("/audit/?action=inspector.update", headers={"HX-Request": "true"}).get_data(as_text=True))
    assert "修改检查人员信息" in only and "修改企业信息" not in only

    # One record's history, named, not by its id.
    one = visible(client.get(f"/audit/?object_type=enterprise&object_id={ent.id}").get_data(as_text=True))
    assert f"正在查看企业 · {ent.name}的记录" in one and "导入新增企业" in one


def test_a_draw_and_its_tasks_read_in_words_on_the_trail(demo, client):
    text = visible(client.get("/audit/?action=task.dispatch").get_data(as_text=True))
    assert "派发检查任务" in text and "检查组" in text and "抽取依据" in text
    assert "gongmao-general@" not in text and "GM-GEN-01@" not in text  # checklists and items by name
    draws = visible(client.get("/audit/?object_type=draw").get_data(as_text=True))
    assert "抽取承诺封存（信标产生前）" in draws and "完成抽取" in draws
    assert not RAW_INSTANT.search(draws), RAW_INSTANT.search(draws)  # not even inside the beacon's name


#: The first two items of an audit entry: ``record("a.b", "type", …`` or a tuple ``("a.b", "type", …``,
#: with the action possibly ``"a" if … else "b"`` or an f-string.
ENTRY = re.compile(r"""(?:record\(|\(\(|\[\()\s*(f?)"([^"\n]+)"(?:\s+if\s+[^\n]+?\s+else\s+"([^"\n]+)")?,\s*"""
                   r"""(?:"[a-z_]+"|object_type)""")


def _recorded_actions() -> tuple[set[str], list[str]]:
    """Every literal action the code records, and the f-string families."""
    literal, families = set(), []
    for path in (ROOT / "webapp").rglob("*.py"):
        for m in ENTRY.finditer(path.read_text(encoding="utf-8")):
            if m.group(1):
                families.append(m.group(2))
            else:
                literal.update(a for a in m.group(2, 3) if a and "." in a)
    return literal, families


def test_every_recorded_action_has_a_label(app):
    literal, families = _recorded_actions()
    assert len(literal) > 60, sorted(literal)  # the scan finds them
    assert {"task.dispatch", "task.unstaffed", "user.login", "result.correct", "sync.refused",
            "plan_change.recompute", "enterprise.update"} <= literal
    missing = sorted(a for a in literal if a not in ACTION_LABELS)
    assert not missing, missing
    # The f-string families, expanded from the values they take.
    expanded = [f"{t}.{v}" for t in ("enterprise", "inspector", "inspection_item") for v in ("import_create", "import_update")]
    expanded += [f"{t}.{v}" for t in ("department", "region", "competence") for v in ("create", "update")]
    expanded += [f"hazard.{k}" for k in ("plan", "supervise", "extend", "escalate")]
    expanded += [f"{k}.resolve" for k in ("answer", "outcome", "signature", "closure")]
    assert not [a for a in expanded if a not in ACTION_LABELS]
    assert len(families) >= 5, families
    with app.test_request_context():
        for kind in SYNC_KIND_LABELS:
            assert action_label(f"sync.{kind}.create") == f"收到手机端{SYNC_KIND_LABELS[kind]}"


def test_an_unknown_action_reads_as_a_generic_change_never_as_its_code(ctx):
    from flask import current_app
    with current_app.test_request_context():
        assert action_label("enterprise.merge") == "其他变更：企业"
        assert action_label("gadget.explode") == "其他已记录的变更"


def _pages(client, ctx) -> list[str]:
    from webapp.checklists.models import ChecklistVersion
    from webapp.draws.models import Batch, Draw, Plan
    from webapp.registries.models import Enterprise, InspectionItem, Inspector
    from webapp.auth.models import User

    ent = db.session.scalar(select(Enterprise.id).limit(1))
    insp = db.session.scalar(select(Inspector.id).limit(1))
    item = db.session.scalar(select(InspectionItem.id).limit(1))
    plan = db.session.scalar(select(Plan.id).limit(1))
    batches = db.session.scalars(select(Batch.id)).all()
    draw = db.session.scalar(select(Draw.draw_id).where(Draw.commitment.is_not(None)).limit(1))
    checklist = db.session.scalar(select(ChecklistVersion.id).limit(1))
    user = db.session.scalar(select(User.id).limit(1))
    return ["/enterprises", f"/enterprises/{ent}", f"/enterprises/{ent}/edit", "/enterprises/new",
            "/inspectors", f"/inspectors/{insp}", f"/inspectors/{insp}/edit", "/inspectors/new",
            "/items", f"/items/{item}", "/items/new", f"/items/{item}/version", "/reference",
            "/plans/", f"/plans/{plan}", f"/plans/{plan}/edit", "/plans/new", *[f"/batches/{b}" for b in batches],
            f"/plans/{plan}/batches/new", "/public/plans", f"/public/plans/{plan}", f"/public/draws/{draw}",
            f"/public/draws/{draw}/verify", "/public/verify", "/calendar/", "/due/", "/public/items",
            "/public/results", "/checklists/", f"/checklists/{checklist}", "/users", "/users/new",
            "/account/devices", f"/users/{user}/devices", "/account/password", "/audit/", "/audit/verify"]


def test_no_rule_id_on_the_screens(demo, client, app):
    seen = 0
    for path in _pages(client, app):
        resp = client.get(path)
        if resp.status_code == 404:
            continue  # a route this build names differently; the others still count
        assert resp.status_code == 200, path
        text = visible(resp.get_data(as_text=True), keep_raw=False)
        assert not RULE_ID.search(text), (path, RULE_ID.search(text), text[max(0, RULE_ID.search(text).start() - 80):][:160])
        seen += 1
    assert seen >= 30
    client.get("/logout")
    assert not RULE_ID.search(visible(client.get("/login").get_data(as_text=True)))


def test_the_public_result_is_the_inspection_result_and_the_draw_page_says_draw_result(demo, client):
    """抽查结果 on the publication pages, 抽取结果 on the batch page: two msgids, not one shared."""
    from webapp.draws.models import Draw
    text = visible(client.get("/public/results").get_data(as_text=True))
    assert "抽取结果" not in text
    page = client.get("/public/results").get_data(as_text=True)
    assert 'aria-label="抽查结果"' in page and "全部抽查结果" in page
    result_tpl = (ROOT / "webapp/templates/publication/result.html").read_text(encoding="utf-8")
    assert '_("Inspection result")' in result_tpl and '_("Result")' not in result_tpl
    batch = db.session.scalar(select(Draw.batch_id).where(Draw.state == "drawn").limit(1))
    assert "抽取结果" in visible(client.get(f"/batches/{batch}").get_data(as_text=True))


def test_the_verifier_names_its_checks_in_the_readers_language(demo, client):
    from flask_babel import refresh

    from webapp.draws.models import Draw
    draw = db.session.scalar(select(Draw.draw_id).where(Draw.commitment.is_not(None)).limit(1))
    page = client.get(f"/public/draws/{draw}/verify").get_data(as_text=True)
    labels = re.search(r"data-labels='([^']*)'", page)
    assert labels, "the translations ride on a data attribute (no inline script under the CSP)"
    import json
    data = json.loads(html.unescape(labels.group(1)))
    # Keyed by the shared check names verify_draw.py prints; the words are Chinese.
    assert data["checks"]["commitment"] == "承诺值与输入文件及所指明的信标一致"
    assert data["checks"]["beacon after commitment"] == "信标值产生于承诺之后"
    assert "%(file)s" in data["format"] and "%(n)s" in data["warnings"]["lottery time"]
    client.post("/lang/en")
    refresh()  # the test's app context outlives the request: drop the locale it cached
    page = client.get(f"/public/draws/{draw}/verify").get_data(as_text=True)
    data = json.loads(html.unescape(re.search(r"data-labels='([^']*)'", page).group(1)))
    assert data["checks"]["seed"] == "The seed follows from the commitment and the beacon's value"


def test_a_time_inside_a_value_is_shown_local_without_microseconds(ctx):
    from flask import current_app

    from webapp.audit.present import Presenter
    with current_app.test_request_context():
        p = Presenter([])
        shown = p.value("draw", "draw.commit", "beacon_ref", "信标 (2026-11-30T02:51:46.955942+08:00)")
        assert shown == "信标 (2026-11-30 02:51)"
        assert p.value("draw", "draw.publish", "published_at", "2026-11-29T18:51:47.112880+00:00") == "2026-11-30 02:51"
        assert p.value("enterprise", "enterprise.update", "blacklisted", True) == "是"
        assert p.value("enterprise", "enterprise.update", "status", "suspended") == "停业"
        assert p.value("batch", "batch.update", "filter_industries", ["light_industry", "coal"]) == "轻工、煤矿"
        assert datetime.fromisoformat("2026-11-29T18:51:47+00:00")  # the sample above is a valid instant


def test_a_remembered_value_mapping_reads_as_the_import_showed_it(ctx):
    """The office's words mapped in an import are on the audit trail by label: 「在营 → 在营」 and the
    department's name, not `operating` or a department id."""
    from webapp.audit.present import Presenter
    from webapp.registries.mapping import remember_values
    from webapp.registries.models import Department, Region
    from tests.factories import make_reference
    make_reference()
    dept = db.session.scalars(select(Department)).first()
    town = db.session.scalars(select(Region)).first()
    remember_values("enterprises", [("industry", "工贸-粉尘涉爆", "machinery"), ("status", "营业中", "operating"),
                                    ("region_name", "城关", town.code)])
    remember_values("inspectors", [("department", "大队", str(dept.id))])
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "registry.import_value_mapping")
                               .order_by(AuditEntry.id)).all()
    targets = [next(c.after for c in row.changes if c.label == "对应为") for row in Presenter(entries).rows()]
    assert targets == ["机械", "在营", f"{town.name}（{town.code}）", dept.name]


def test_a_phone_record_on_the_trail_names_its_checklist_signer_and_photos(ctx):
    """An answer's checklist by its title, an enterprise signature by who signed, photos by their count:
    not `gongmao-general@2023-05-15`, `enterprise` or 64-hex fingerprints."""
    from webapp.audit.present import Presenter
    from webapp.audit.services import record
    from webapp.services import transaction
    from tests.factories import make_checklist, make_item, make_reference
    make_reference()
    make_item("GM-GEN-01")
    cv = make_checklist("GM-GEN-01")
    sha = "ab" * 32
    with transaction():
        record("sync.answer.create", "sync_record", "u-1", None,
               {"kind": "answer", "data": {"checklist": f"{cv.code}@{cv.version}", "question": "Q1", "result": "no",
                                           "photos": [sha, "cd" * 32]}})
        record("sync.signature.create", "sync_record", "u-2", None,
               {"kind": "signature", "data": {"role": "enterprise", "refused": True, "image": sha}})
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "sync_record")).all()
    text = str([[(c.label, c.after) for c in row.changes] for row in Presenter(entries).rows()])
    assert cv.title in text and "照片 2 张" in text and "企业负责人" in text, text
    assert f"{cv.code}@" not in text and sha not in text and "enterprise" not in text
