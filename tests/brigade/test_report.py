"""The batch's 经验总结 (R23, 000 四(二)): the brigade lead writes it from the platform's draft, saves and
sends it (then it is frozen, with the figures as they stood); each addressee office acknowledges and may
answer; others are refused on the object; repeated taps change nothing; the archive holds it all."""
import io
import json
import re
import zipfile

import pytest
from sqlalchemy import func, select

from webapp import archive, roles as R
from webapp.audit.models import AuditEntry
from webapp.brigade import report as svc
from webapp.brigade.models import BatchReport, BatchReportAddressee
from webapp.extensions import db
from webapp.registries.models import Department
from webapp.registries.services import save_department
from webapp.services import ServiceError
from webapp.tasks.models import Task
from tests.factories import PASSWORD, login, make_drawn, make_hazard, make_inspector, make_user, member_user

TEXT = {"problems": "问题：安全出口堵塞较多。", "causes": "原因：日常巡查不到位。", "suggestions": "建议：加强培训。"}


@pytest.fixture
def world(ctx):
    """A drawn batch with one hazard on Q-1; the coordinating office (with the admin), two business
    offices each with a staff user, the brigade lead, an inspector."""
    for k in range(4):
        make_inspector(name=f"检查员{k}")
    _plan, batch, draw = make_drawn(n_enterprises=4, sample=2)
    task = db.session.scalar(select(Task).where(Task.draw_pk == draw.id, Task.status == "dispatched").order_by(Task.id))
    inspector = member_user(task, 0, "phone-a")
    make_hazard(task, inspector, question="Q-1")
    coord = save_department("双随机工作领导小组办公室", "office")
    hazchem = db.session.scalar(select(Department).where(Department.name == "危险化学品安全监督管理股"))
    trade = save_department("工贸行业安全监督管理股", "office")
    brigade = db.session.scalar(select(Department).where(Department.name == "综合行政执法大队"))
    return {
        "batch": batch, "task": task, "inspector": inspector, "coord": coord, "hazchem": hazchem, "trade": trade,
        "admin": make_user(R.ADMIN, "office-admin", department_id=coord.id),
        "lead": make_user(R.BRIGADE_LEAD, "brigade"),
        "hazchem_user": make_user(R.TEAM_LEAD, "hazchem", department_id=hazchem.id),
        "trade_user": make_user(R.TEAM_LEAD, "trade", department_id=trade.id),
        "brigade_tl": make_user(R.TEAM_LEAD, "brigade-tl", department_id=brigade.id),
    }


def _client(app, username):
    client = app.test_client()
    assert login(client, username, PASSWORD).status_code == 303
    return client


def _audits(action):
    return db.session.scalar(select(func.count()).where(AuditEntry.action == action))


def test_the_draft_carries_the_batchs_figures_and_its_most_failed_questions(world):
    draft = svc.draft_text(world["batch"])
    assert "第一批" in draft["problems"] and "隐患" in draft["problems"]
    assert "是否符合？" in draft["problems"]  # Q-1's text: the batch's most-failed question
    assert draft["causes"] == "" and draft["suggestions"] == ""  # the brigade's own words, not made up


def test_default_addressees_are_the_business_offices_not_the_coordinating_one(world):
    ids = svc.default_addressee_ids()
    assert world["hazchem"].id in ids and world["trade"].id in ids
    assert world["coord"].id not in ids  # the administrator's office sees every report anyway


def test_the_whole_flow_through_the_pages(app, world):
    batch = world["batch"]
    url = f"/brigade/batches/{batch.id}/report"
    lead = _client(app, "brigade")
    page = lead.get(url).get_data(as_text=True)
    assert "是否符合？" in page and "保存草稿" in page  # the platform's draft in the form
    assert db.session.scalar(select(func.count()).select_from(BatchReport)) == 0  # a GET writes nothing

    # Saved as a draft, audited once; the same text again writes nothing.
    assert lead.post(url, data=TEXT).status_code == 303
    assert lead.post(url, data=TEXT).status_code == 303
    assert _audits("batch_report.save") == 1
    rep = svc.report_of(batch)
    assert rep.state == "draft" and rep.problems == TEXT["problems"]
    # The office does not see a draft.
    assert _client(app, "hazchem").get(url).status_code == 403

    # Sending without causes: a translated error, everything typed is still there.
    bad = lead.post(f"{url}/send", data={**TEXT, "causes": "", "suggestions": "我的建议未丢失",
                                         "offices": [str(world["hazchem"].id)]})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "发送前必须填写" in body and "我的建议未丢失" in body
    # An office that is not a business office (the brigade itself) is refused.
    brigade_id = db.session.scalar(select(Department.id).where(Department.kind == "brigade"))
    bad = lead.post(f"{url}/send", data={**TEXT, "offices": [str(brigade_id)]})
    assert bad.status_code == 422 and "请从列表中选择业务股室" in bad.get_data(as_text=True)
    bad = lead.post(f"{url}/send", data=TEXT)
    assert bad.status_code == 422 and "请至少选择一个" in bad.get_data(as_text=True)

    # Sent to the hazchem office only; a double tap sends nothing twice.
    sent = {**TEXT, "causes": "原因：培训不足。", "offices": [str(world["hazchem"].id)]}
    assert lead.post(f"{url}/send", data=sent).status_code == 303
    assert lead.post(f"{url}/send", data=sent).status_code == 303
    db.session.expire_all()
    rep = svc.report_of(batch)
    assert rep.state == "sent" and rep.causes == "原因：培训不足。" and rep.sent_by == world["lead"].id
    assert [a.department_id for a in rep.addressees] == [world["hazchem"].id]
    assert rep.figures["tasks"]["dispatched"] >= 1 and rep.figures["hazards"]["total"] == 1
    assert _audits("batch_report.send") == 1
    # Frozen: a later save is refused, the text stays.
    frozen = lead.post(url, data={**TEXT, "problems": "改写"})
    assert frozen.status_code == 422 and "已发送，不能再修改" in frozen.get_data(as_text=True)
    db.session.expire_all()
    assert svc.report_of(batch).problems == TEXT["problems"]

    # The office: a count on its home page, the report in its inbox, acknowledges with an answer.
    office = _client(app, "hazchem")
    home = office.get("/").get_data(as_text=True)
    assert 'data-count="reports-awaiting"><b>1</b>' in home
    inbox = office.get("/brigade/reports").get_data(as_text=True)
    assert "待确认" in inbox and batch.title in inbox
    page = office.get(url).get_data(as_text=True)
    assert "原因：培训不足。" in page and "确认收到" in page
    assert office.post(f"{url}/acknowledge", data={"answer": "我股将开展专项检查。"}).status_code == 303
    assert office.post(f"{url}/acknowledge", data={"answer": "我股将开展专项检查。"}).status_code == 303
    assert _audits("batch_report.acknowledge") == 1 and _audits("batch_report.answer") == 1
    db.session.expire_all()
    row = db.session.scalar(select(BatchReportAddressee))
    assert row.acknowledged_by == world["hazchem_user"].id and row.answer == "我股将开展专项检查。"
    assert 'data-count="reports-awaiting"><b>0</b>' in office.get("/").get_data(as_text=True)
    # An amended answer is a new audited change; an empty one is refused with the text kept.
    assert office.post(f"{url}/answer", data={"answer": "补充：下月完成。"}).status_code == 303
    assert _audits("batch_report.answer") == 2
    empty = office.post(f"{url}/answer", data={"answer": "  "})
    assert empty.status_code == 422 and "请填写答复" in empty.get_data(as_text=True)

    # The office and the brigade lead see each office's state and answer.
    for who in ("office-admin", "brigade"):
        page = _client(app, who).get(url).get_data(as_text=True)
        assert "已确认" in page and "补充：下月完成。" in page and world["hazchem"].name in page
        assert "1/1 个股室已确认" in _client(app, who).get("/brigade/reports").get_data(as_text=True)
    assert "1/1 个股室已确认" in lead.get(f"/batches/{batch.id}").get_data(as_text=True)  # the batch page's block


def test_others_are_refused_on_the_object(app, world):
    batch = world["batch"]
    svc.save_draft(batch, TEXT, world["lead"])
    svc.send(batch, TEXT, [str(world["hazchem"].id)], world["lead"])
    url = f"/brigade/batches/{batch.id}/report"
    # Another office, a team lead of the brigade: neither sees nor acknowledges.
    for username in ("trade", "brigade-tl"):
        client = _client(app, username)
        assert client.get(url).status_code == 403
        assert client.post(f"{url}/acknowledge", data={"answer": "x"}).status_code == 403
        assert client.post(f"{url}/answer", data={"answer": "x"}).status_code == 403
        assert batch.title not in client.get("/brigade/reports").get_data(as_text=True)
    # The inspector reaches none of it; the administrator reads but neither writes nor acknowledges
    # for an office it is not.
    inspector = _client(app, "phone-a")
    assert inspector.get(url).status_code == 403 and inspector.get("/brigade/reports").status_code == 403
    admin = _client(app, "office-admin")
    assert admin.get(url).status_code == 200
    assert admin.post(url, data=TEXT).status_code == 403 and admin.post(f"{url}/send", data=TEXT).status_code == 403
    assert admin.post(f"{url}/acknowledge").status_code == 403
    with pytest.raises(ServiceError):
        svc.acknowledge(svc.report_of(batch), world["trade_user"])
    assert _audits("batch_report.acknowledge") == 0


def test_only_the_brigade_lead_writes_and_only_after_the_draw(world):
    from tests.factories import make_plan

    with pytest.raises(ServiceError):
        svc.save_draft(world["batch"], TEXT, world["admin"])
    _plan, undrawn = make_plan(n_enterprises=2, sample=1)
    with pytest.raises(ServiceError) as exc:
        svc.save_draft(undrawn, TEXT, world["lead"])
    assert "抽取" in exc.value.message
    with pytest.raises(ServiceError) as exc:
        svc.save_draft(world["batch"], {"problems": "x" * (svc.MAX_CHARS + 1)}, world["lead"])
    assert exc.value.field == "problems"


def test_the_archive_holds_the_report_the_acknowledgements_and_answers(world):
    batch = world["batch"]
    svc.send(batch, TEXT, [str(world["hazchem"].id), str(world["trade"].id)], world["lead"])
    rep = svc.report_of(batch)
    svc.acknowledge(rep, world["hazchem_user"], "已收到，将整改。")
    out = io.BytesIO()
    archive.write_batch_zip(batch, out)
    zf = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    assert json.loads(zf.read("index.json"))["report"] == "report/report.json"
    data = json.loads(zf.read("report/report.json"))
    assert data["state"] == "sent" and data["problems"] == TEXT["problems"] and data["figures"]["hazards"]["total"] == 1
    by_office = {a["department"]: a for a in data["addressees"]}
    assert by_office["危险化学品安全监督管理股"]["answer"] == "已收到，将整改。"
    assert by_office["危险化学品安全监督管理股"]["acknowledged_by"] == "team_lead"
    assert by_office["工贸行业安全监督管理股"]["acknowledged_at"] is None
    text = zf.read("report/report.txt").decode("utf-8")
    assert "已收到，将整改。" in text and "待确认" in text and TEXT["suggestions"] in text


def test_a_batch_without_a_report_archives_without_one(world):
    out = io.BytesIO()
    archive.write_batch_zip(world["batch"], out)
    zf = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    assert json.loads(zf.read("index.json"))["report"] is None and "report/report.json" not in zf.namelist()


def test_send_and_acknowledge_are_idempotent_in_the_services(world):
    batch = world["batch"]
    rep, first = svc.send(batch, TEXT, [str(world["hazchem"].id)], world["lead"])
    again, second = svc.send(batch, {**TEXT, "problems": "另一份"}, [str(world["trade"].id)], world["lead"])
    assert first and not second and again.id == rep.id
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(BatchReportAddressee)) == 1
    assert svc.report_of(batch).problems == TEXT["problems"]
    _row, changed = svc.acknowledge(rep, world["hazchem_user"])
    _row, changed_again = svc.acknowledge(rep, world["hazchem_user"])
    assert changed and not changed_again and _audits("batch_report.acknowledge") == 1


def test_the_trail_reads_the_report_in_words(app, world):
    batch = world["batch"]
    svc.save_draft(batch, TEXT, world["lead"])
    svc.send(batch, TEXT, [str(world["hazchem"].id)], world["lead"])
    svc.acknowledge(svc.report_of(batch), world["hazchem_user"], "已收到。")
    page = _client(app, "office-admin").get("/audit/").get_data(as_text=True)
    for words in ("经验总结已存为草稿", "经验总结已发送给业务股室", "股室确认收到经验总结", "股室对经验总结的答复",
                  "危险化学品安全监督管理股", "已发送", "第一批"):
        assert words in page, words
    # In words on screen: the codes are only in the filters' values and the raw JSON behind its expander.
    shown = re.sub(r"<[^>]*>", " ", re.sub(r'<details class="raw">.*?</details>', "", page, flags=re.S))
    assert "batch_report" not in shown and "problems" not in shown and "sent" not in shown
