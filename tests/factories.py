"""Factories for test data; each goes through the services a user would use."""
import random

import pytest
from sqlalchemy import select

from webapp import roles as R
from webapp.auth.services import create_user
from webapp.demo.seed import make_uscc
from webapp.extensions import db
from webapp.registries.models import Competence, Department, Region
from webapp.registries.services import (save_competence, save_department, save_enterprise, save_inspector,
                                        save_item_version, save_region)

PASSWORD = "correct-horse-9"
_rng = random.Random(7)


def new_uscc() -> str:
    return make_uscc(_rng)


def make_reference():
    """Two departments, two townships, three competences (idempotent)."""
    if db.session.scalar(select(Region.id).limit(1)):
        return
    save_department("综合行政执法大队", "brigade")
    save_department("危险化学品安全监督管理股", "office")
    save_region("140525100", "城关镇")
    save_region("140525101", "河西镇")
    for name in ("危化", "工贸", "煤矿"):
        save_competence(name)


def make_enterprise(**overrides):
    make_reference()
    region = db.session.scalar(select(Region).order_by(Region.id))
    data = {"uscc": new_uscc(), "name": "城关示例化工有限公司", "address": "城关镇1号", "region_id": str(region.id),
            "industry": "hazchem", "status": "operating", "legal_rep": "王伟", "phone": "13800000000"}
    data.update(overrides)
    return save_enterprise(data)


def make_inspector(department: str = "综合行政执法大队", **overrides):
    make_reference()
    dept = db.session.scalar(select(Department).where(Department.name == department))
    data = {"name": "李强", "cert_no": f"C{_rng.randint(10**8, 10**9)}", "cert_expiry": "2029-12-31",
            "department_id": str(dept.id), "post": "队员", "active": "1"}
    data.update(overrides)
    comps = [c.id for c in db.session.scalars(select(Competence).where(Competence.name == "危化"))]
    return save_inspector(data, comps)


def make_item(code: str = "GM-GEN-01", **overrides):
    make_reference()
    dept = db.session.scalar(select(Department).order_by(Department.id))
    data = {"code": code, "name": "工贸企业安全管理检查", "department_id": str(dept.id),
            "legal_basis": "《中华人民共和国安全生产法》第六十五条", "content": "检查安全管理情况",
            "method": "onsite", "is_random": "1", "valid_from": "2023-05-15"}
    data.update(overrides)
    return save_item_version(data)


CHECKLIST_YAML = """code: test-list
version: "1"
title: 测试检查表
source: {{title: 测试标准, document_no: 测试令第1号, valid_from: 2023-05-15}}
competences: [危化]
questions:
  - {{id: Q-1, item: {item}, text: 是否符合？, basis: 第一条, answer: choice, hazard_grade: major}}
"""


def make_checklist(item_code: str = "GM-GEN-01", version: str = "1"):
    from webapp.checklists.loader import load_documents
    from webapp.checklists.models import ChecklistVersion

    text = CHECKLIST_YAML.format(item=item_code).replace('version: "1"', f'version: "{version}"')
    report = load_documents([(f"test-list@{version}.yaml", text.encode())])
    assert not report.errors, report.errors
    return db.session.scalar(select(ChecklistVersion).where(ChecklistVersion.version == version))


def make_user(role: str, username: str | None = None, **kw):
    make_reference()
    if role in (R.INSPECTOR,) and "inspector_id" not in kw:
        kw["inspector_id"] = make_inspector().id
    return create_user(username or role, role, role, PASSWORD, kw.get("inspector_id"), kw.get("department_id"))


def member_user(task, k: int, username: str):
    """A sign-in for the task's k-th member. The demo county already links an account to one inspector,
    who may be drawn into the group: that account is then renamed and given the test password."""
    from werkzeug.security import generate_password_hash

    from webapp.auth.models import User
    inspector_id = task.active_members[k].inspector_id
    user = db.session.scalar(select(User).where(User.inspector_id == inspector_id))
    if user is None:
        return make_user(R.INSPECTOR, username, inspector_id=inspector_id)
    user.username, user.password_hash = username, generate_password_hash(PASSWORD)
    db.session.commit()
    return user


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def make_role_users() -> dict:
    """One user per role; the team lead leads the brigade and is in the pool."""
    make_reference()
    brigade = db.session.scalar(select(Department).where(Department.name == "综合行政执法大队"))
    lead_insp = make_inspector(name="赵组长")
    return {
        R.ADMIN: make_user(R.ADMIN),
        R.BRIGADE_LEAD: make_user(R.BRIGADE_LEAD),
        R.TEAM_LEAD: make_user(R.TEAM_LEAD, inspector_id=lead_insp.id, department_id=brigade.id),
        R.INSPECTOR: make_user(R.INSPECTOR),
    }


@pytest.fixture
def users(ctx):
    return make_role_users()


def make_world(users: dict) -> dict:
    """One of every object, linked so each role's object checks let the routes through (the access
    matrix and the route fuzz test): a drawn task of the inspector's and the team lead's group with a
    hazard, submitted, approved by the brigade lead and published, with an enterprise link and evidence.
    Returns the ids the routes take."""
    import io

    from PIL import Image

    from webapp.draws.ceremony import publish_draw
    from webapp.publication.services import publish
    from webapp.registries.models import Inspector
    from webapp.registries.services import add_recusal
    from webapp.review import enterprise
    from webapp.review.services import approve
    from webapp.sync.services import sync
    from webapp.tasks.models import Task

    # The inspector viewed is the inspector user's own entry, so the object check lets it through.
    ent = make_enterprise()
    item = make_item("GM-GEN-01")
    checklist = make_checklist("GM-GEN-01")
    recusal = add_recusal(make_inspector(name="回避"), ent.uscc, "曾任职")
    # Groups from the inspector user and the team lead: every task is visible to both, so the object
    # checks let the route through.
    for inspector in db.session.scalars(select(Inspector)):
        if inspector.id not in (users[R.INSPECTOR].inspector_id, users[R.TEAM_LEAD].inspector_id):
            inspector.active = False
    db.session.commit()
    plan, batch, draw = make_drawn(n_enterprises=3, sample=1, group_size=2)
    publish_draw(draw)  # the export is public only once published (or after the window)
    task = db.session.scalar(select(Task).where(Task.draw_pk == draw.id, Task.status == "dispatched"))
    hazard = make_hazard(task, users[R.INSPECTOR])
    # Submitted, approved and published, so the public result page exists.
    sync(users[R.INSPECTOR], [{"uuid": "00000000-0000-4000-8000-000000000001", "kind": "outcome", "task_id": task.id,
                               "base_revision": 0, "data": {"outcome": "completed"}}])
    # The team lead is in the group, so the brigade lead reviews (issue #11 point 2: nobody reviews their own).
    approve(task, users[R.BRIGADE_LEAD])
    publish(task, "pending", users[R.BRIGADE_LEAD])
    link = enterprise.issue_link(task, users[R.TEAM_LEAD])
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 60)).save(buf, "JPEG")
    evidence = enterprise.submit_evidence(link, str(hazard.id), "已整改", [("a.jpg", buf.getvalue())])
    return {"enterprise": ent.id, "inspector": users[R.INSPECTOR].inspector_id, "item": item.id,
            "checklist": checklist.id, "recusal": recusal.id, "user": users[R.BRIGADE_LEAD].id,
            "plan": plan.id, "batch": batch.id, "draw": draw.id, "draw_id": draw.draw_id, "task": task.id,
            "hazard": hazard.id, "token": enterprise.token_of(link), "evidence": evidence.id,
            "photo": evidence.photos[0]}


def make_plan(n_enterprises: int = 6, sample: int = 3, group_size: int = 2, approve: bool = True, **batch):
    """A plan for this year with one undirected batch over fresh enterprises, approved and published."""
    from datetime import date

    from werkzeug.datastructures import MultiDict

    from webapp.db_types import today_shanghai
    from webapp.draws.plans import approve_plan, publish_plan, save_batch, save_plan
    from webapp.registries.models import InspectionItem

    item = db.session.scalar(select(InspectionItem).where(InspectionItem.code == "GM-GEN-01")) or make_item()
    if not db.session.scalar(select(Competence.id).where(Competence.name == "危化")):
        make_reference()
    from webapp.checklists.models import ChecklistVersion
    if not db.session.scalar(select(ChecklistVersion.id).limit(1)):
        make_checklist("GM-GEN-01")
    for k in range(n_enterprises):
        make_enterprise(name=f"示例企业{k:03d}")
    today = today_shanghai()
    plan = save_plan({"title": f"{today.year}年度双随机抽查计划", "year": str(today.year), "publication_days": "20"})
    data = MultiDict({"title": "第一批", "window_start": today.isoformat(),
                      "window_end": date(today.year, 12, 31).isoformat(), "draw_type": "undirected",
                      "sample_size": str(sample), "group_size": str(group_size), "capacity": "10",
                      "method": "onsite", "item": str(item.id)})
    for key, value in batch.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    b = save_batch(plan, data)
    if approve:
        approve_plan(plan)
        publish_plan(plan)
    return plan, b


def pass_beacon_time(draw):
    """Tests cannot wait for a real beacon: move its time into the past, as if it had come."""
    from datetime import timedelta

    from webapp.db_types import utcnow

    draw.beacon_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


BEACON = "ab" * 32


def make_drawn(**kw):
    """make_plan, then commit (drand round ten minutes ahead) and reveal: the whole ceremony."""
    from webapp.draws import ceremony

    plan, batch = make_plan(**kw)
    draw = ceremony.commit_draw(batch, {"beacon_kind": "drand", "drand_round": str(ceremony.suggest_drand_round())})
    pass_beacon_time(draw)
    ceremony.reveal(draw, BEACON)
    return plan, batch, draw


def make_hazard(task, user, **data):
    """A hazard as a phone records it, through the sync service: it enters the register as 待整改."""
    import uuid as uuidlib

    from webapp.review.models import Hazard
    from webapp.sync.services import sync

    uuid = str(uuidlib.uuid4())
    out = sync(user, [{"uuid": uuid, "kind": "hazard", "task_id": task.id, "base_revision": 0,
                       "data": {"question": "G-01", "grade": "general", "description": "安全出口堵塞",
                                "deadline": "2026-12-31", "photos": [], **data}}])
    assert out["accepted"], out
    return db.session.scalar(select(Hazard).where(Hazard.record_uuid == uuid))
