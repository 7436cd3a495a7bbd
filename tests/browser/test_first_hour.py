"""Every role's first hour on a 360-px phone (issue #12 point 1 and "Done means" 1).

The demo county is given what a first hour produces (inspections synced through the real sync service:
one waiting for review, one returned, one approved and published), then each role's whole site is
crawled from its home page, following every link, and every page is checked: no horizontal overflow at
360 px (measured against the phone's layout width), no Python repr, None/True/False, internal field name,
action code, ISO timestamp, rule id, template leftover or untranslated word in what a person reads, and
no link that answers an error. All problems are collected and reported at once.

Before its crawl, each role walks its first hour (sign in, home, the role's main job) and keeps screenshots."""
import hashlib
import io
import uuid as uuidlib

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import sign_in
from tests.browser.crawl import Crawl, overflow_problem, page_problems, text_problems

ROLES = ["public", "admin", "brigade", "teamlead", "inspector"]


# --- The detector can fail ----------------------------------------------------------------------------

def test_the_detector_names_every_kind_of_raw_value():
    text = ("总数 <built-in method items of dict object at 0x7f>\n负责人 None\n行业 light_industry\n"
            "时间 2026-11-29T10:00:00.123456\n依据 R8 判定\n操作 enterprise.import_create")
    found = "\n".join(text_problems(text))
    for kind in ("Python repr", "None/True/False", "internal field name", "ISO timestamp", "rule id",
                 "internal action code"):
        assert kind in found, (kind, found)
    assert "light_industry" in found and "R8" in found and "enterprise.import_create" in found
    assert "untranslated English" in "\n".join(text_problems("检查状态 Status：已派发"))
    assert "template leftover" in "\n".join(text_problems("名称 {{ e.name }}"))


def test_a_clean_chinese_page_passes():
    text = ("双随机抽查 · 应急管理局\n欢迎，执法大队 检查员\n我的检查任务\n山西晋丰机械有限公司 · 城关镇\n"
            "2026-11-29 10:00 · 待审核\n统一社会信用代码 91140525MA0L1234X5\n下载 verify_draw.py 自行核验（SHA-256）\n"
            "导出 enterprises.xlsx · 第 2 页，共 7 页 · 经纬度 35.402584, 112.743301 · English")
    assert text_problems(text) == []


def test_the_detector_measures_overflow_on_an_emulated_phone(page):
    page.set_content('<html lang="zh-CN"><head><meta name="viewport" content="width=device-width, initial-scale=1">'
                     '</head><body><main><p>正常段落</p><div class="wide-table">'
                     '<table><tr><td>' + "很长的表格内容" * 20 + '</td><td class="nowrap">2026-11-29</td></tr></table>'
                     '</div><pre class="code">' + "x" * 200 + '</pre></main></body></html>')
    page.add_style_tag(content="td { white-space: nowrap; }")
    problems, _links = page_problems(page)
    over = [p for p in problems if p.startswith("horizontal overflow")]
    assert over and "pre.code" in over[0] and "table" in over[0], problems
    # The same content in a box that scrolls sideways does not overflow the page.
    page.add_style_tag(content=".wide-table, pre { overflow-x: auto; max-width: 100%; }")
    assert overflow_problem(page.evaluate("() => ({scrollWidth: document.documentElement.scrollWidth, "
                                          "innerWidth: innerWidth, offenders: []})")) is None
    page.set_content('<html lang="zh-CN"><body><p>状态 None</p><select><option>light_industry</option></select>'
                     '</body></html>')
    problems, _links = page_problems(page)
    assert any("None" in p for p in problems) and any("form field" in p and "light_industry" in p for p in problems)

    # Seven columns squeezed into the phone fit without overflow, yet stack a character a line: reported.
    row = "".join(f"<td>{'检查事项名称与依据'}</td>" for _ in range(7))
    page.set_content('<html lang="zh-CN"><head><meta name="viewport" content="width=device-width, initial-scale=1">'
                     f'</head><body><table><tr>{row}</tr></table></body></html>')
    problems, _links = page_problems(page)
    assert any(p.startswith("table cells too narrow") for p in problems), problems


# --- What a first hour leaves behind --------------------------------------------------------------------

def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 120, 160)).save(out, "JPEG")
    return out.getvalue()


def _photo(user) -> str:
    from webapp.sync import photos as photo_store
    data = _jpeg()
    sha = hashlib.sha256(data).hexdigest()
    photo_store.store(sha, data, photo_store.inspect_image(data), user.id)
    return sha


def _inspection(task, user, with_hazard=True) -> None:
    """A whole inspection as a phone sends it, through the sync service: check-in, every answer (one
    不符合 with a photo and its hazard), the outcome and both signatures."""
    from webapp.checklists.models import ChecklistVersion
    from webapp.extensions import db
    from webapp.sync.services import sync

    def rec(kind, data):
        return {"uuid": str(uuidlib.uuid4()), "kind": kind, "task_id": task.id, "base_revision": 0,
                "device_time": "2026-11-23T10:00:00+08:00", "data": data}

    photo = _photo(user)
    records = [rec("checkin", {"lat": 35.8123, "lng": 112.9041, "accuracy_m": 12})]
    failed = None
    for c in task.checklists:
        content = db.session.get(ChecklistVersion, c["id"]).content
        for q in content["questions"]:
            result = "yes"
            if failed is None and with_hazard:
                failed, result = q["id"], "no"
            records.append(rec("answer", {"question": q["id"], "checklist": f"{c['code']}@{c['version']}",
                                          "result": result, "note": "现场查看" if result == "no" else "",
                                          "photos": [photo] if result == "no" else []}))
    if with_hazard:
        records.append(rec("hazard", {"question": failed, "grade": "general", "description": "配电箱未接地，柜门破损",
                                      "deadline": "2026-12-20", "photos": [photo]}))
    records += [rec("signature", {"role": "inspector", "inspector_id": user.inspector_id, "image": photo}),
                rec("signature", {"role": "enterprise", "name": "企业负责人 王强", "image": photo}),
                rec("outcome", {"outcome": "completed", "submitted_at": "2026-11-23T11:00:00+08:00"})]
    out = sync(user, records)
    assert not out["rejected"], out["rejected"]


def _member(task, avoid: set):
    """An account for a member of the task's group (not one of the demo's own accounts)."""
    from webapp import roles as R
    from webapp.auth.models import User
    from webapp.auth.services import create_user
    from webapp.demo.seed import DEMO_PASSWORD
    from webapp.extensions import db
    for m in task.active_members:
        if m.inspector_id in avoid:
            continue
        user = db.session.scalar(select(User).where(User.inspector_id == m.inspector_id))
        return user or create_user(f"field{task.id}", f"检查员{task.id}", R.INSPECTOR, DEMO_PASSWORD,
                                   m.inspector_id, m.inspector.department_id, demo=True)
    raise AssertionError("no member to sign in as")


@pytest.fixture
def first_hour(demo, app):
    """The demo county's first batch drawn (the demo plan), and an hour of work on it: the demo inspector's
    first task submitted (waiting for review, with a hazard and photos), their second returned for
    correction, and another group's inspection approved, the enterprise told, and published."""
    from webapp.auth.models import User
    from webapp.db_types import today_shanghai
    from webapp.demo.plan import seed_plan
    from webapp.extensions import db
    from webapp.publication import services as publication
    from webapp.review import services as review
    from webapp.tasks.models import Task

    seed_plan()
    users = {u.username: u for u in db.session.scalars(select(User))}
    inspector, lead = users["inspector"], users["teamlead"]
    tasks = db.session.scalars(select(Task).order_by(Task.id)).all()

    def members(t):
        return {m.inspector_id for m in t.active_members}
    reviewable = [t for t in tasks if lead.inspector_id not in members(t)]
    mine = [t for t in reviewable if inspector.inspector_id in members(t)]
    assert mine, "the demo inspector has no task the demo team lead may review"
    submitted = mine[0]
    _inspection(submitted, inspector)
    returned = mine[1] if len(mine) > 1 else next(t for t in reviewable if t is not submitted)
    _inspection(returned, inspector if returned in mine else _member(returned, {inspector.inspector_id}),
                with_hazard=False)
    review.return_for_correction(returned, lead, "第一项请补拍现场照片")
    others = [t for t in reviewable if t not in (submitted, returned) and inspector.inspector_id not in members(t)]
    approved = others[0]
    _inspection(approved, _member(approved, {inspector.inspector_id, lead.inspector_id}))
    review.approve(approved, lead)
    review.record_feedback(approved, today_shanghai().isoformat(), "on_site", "", lead)
    publication.publish(approved, publication.suggest_category(approved), lead)
    return {"submitted": submitted, "returned": returned, "approved": approved}


# --- The first hour of each role: the walk, then the whole site -----------------------------------------

def _menu(page, name: str):
    page.locator("details.menu summary").click()
    page.locator("details.menu nav").get_by_role("link", name=name).click()


def _walk_public(page, base, hour, shot):
    page.goto(f"{base}/")
    shot(page, "first-hour-public-1-home")
    _menu(page, "抽查结果公示")
    approved = hour["approved"].enterprise["name"]
    expect(page.locator("main")).to_contain_text(approved)
    shot(page, "first-hour-public-2-results")


def _walk_admin(page, base, hour, shot):
    """The office: brings in its registry (the import page) and checks the audit trail."""
    sign_in(page, base, "admin")
    shot(page, "first-hour-admin-1-home")
    page.locator("main").get_by_role("link", name="导入检查对象").click()
    expect(page.locator("input[type=file]")).to_have_count(1)
    shot(page, "first-hour-admin-2-import")
    _menu(page, "操作日志（全程留痕）")
    expect(page.locator("main")).to_contain_text(hour["approved"].enterprise["name"])
    shot(page, "first-hour-admin-3-audit")


def _walk_brigade(page, base, hour, shot):
    """The brigade lead: the year's plan and its drawn batch."""
    sign_in(page, base, "brigade")
    shot(page, "first-hour-brigade-1-home")
    _menu(page, "年度抽查计划")
    page.locator("main a[href^='/plans/']:not([href$='/new'])").first.click()
    expect(page.locator("h1")).to_contain_text("年度")
    shot(page, "first-hour-brigade-2-plan")
    page.locator("main a[href='/batches/%d']" % hour["submitted"].batch_id).first.click()
    expect(page.locator("h1")).to_contain_text("第一批")
    shot(page, "first-hour-brigade-3-batch")


def _walk_teamlead(page, base, hour, shot):
    """The team lead: the review queue, a submitted inspection, its hazard."""
    name = hour["submitted"].enterprise["name"]
    sign_in(page, base, "teamlead")
    shot(page, "first-hour-teamlead-1-home")
    _menu(page, "审核")
    shot(page, "first-hour-teamlead-2-queue")
    page.locator("main").get_by_role("link", name=name).first.click()
    expect(page.locator("main")).to_contain_text("配电箱未接地")
    shot(page, "first-hour-teamlead-3-review")
    page.locator("main a[href^='/hazards/']:not([href='/hazards/'])").first.click()
    expect(page.locator("main")).to_contain_text("配电箱未接地")
    shot(page, "first-hour-teamlead-4-hazard")


def _walk_inspector(page, base, hour, shot):
    """The inspector: their task on the home page, and from there the way into the app (issue #12 point 2)."""
    sign_in(page, base, "inspector")
    expect(page.locator("main")).to_contain_text(hour["submitted"].enterprise["name"])
    shot(page, "first-hour-inspector-1-home")
    page.locator("main a[href^='/app/']").first.click()
    expect(page).to_have_url(f"{base}/app/")
    expect(page.get_by_label("用户名")).to_be_visible()
    shot(page, "first-hour-inspector-2-app")


WALKS = {"public": _walk_public, "admin": _walk_admin, "brigade": _walk_brigade, "teamlead": _walk_teamlead,
         "inspector": _walk_inspector}


@pytest.mark.parametrize("role", ROLES)
def test_first_hour_then_every_page_the_role_can_reach_at_360_px(page, live_server, first_hour, shot, role):
    WALKS[role](page, live_server, first_hour, shot)
    page.goto(f"{live_server}/")
    crawl = Crawl(page, live_server, role, include_app=(role == "inspector")).run("/")
    if role == "inspector" and not crawl._app_done:
        # The offline app is a page of its own (its own tests walk it): here it is measured once.
        page.goto(f"{live_server}/app/")
        crawl.visited.append("/app/")
        crawl.problems["/app/"] += page_problems(page)[0]
    # The crawl reached the role's site, not just a sign-in page.
    assert len(crawl.visited) >= (8 if role == "public" else 15), crawl.visited
    report = crawl.report()
    assert not report, f"{role}: {len(crawl.visited)} pages visited, problems:\n{report}"
