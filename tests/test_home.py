"""Each role's home page serves its main job, and the web task page leads into the app (issue #12 points
1, 2): no Python object on screen, the inspector's tasks and the way into the offline app."""
import re
import uuid as uuidlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp import roles as R
from webapp.db_types import today_shanghai
from webapp.extensions import db
from webapp.registries.models import Inspector
from webapp.review import services as review
from webapp.sync.services import sync
from webapp.tasks.models import Task
from tests.factories import PASSWORD, login, make_drawn, make_hazard, make_role_users

#: Text that must never reach a page: a Python repr or value, or a template leftover.
RAW = re.compile(r"<built-in|<bound method|object at 0x|\bNone\b|\bTrue\b|\bFalse\b|\{\{|\}\}")


def _text(html: str) -> str:
    """The page's visible text (tags and attribute values dropped)."""
    body = html[html.index("<main"):]
    return re.sub(r"<[^>]+>", " ", body)


def _rec(task, kind, data):
    return {"uuid": str(uuidlib.uuid4()), "kind": kind, "task_id": task.id, "base_revision": 0, "data": data}


@pytest.fixture
def county(ctx):
    """The inspector and the team lead form every group (the others are inactive): one task untouched and
    overdue, one submitted, one approved with a hazard re-inspected and awaiting its closure decision."""
    users = make_role_users()
    for inspector in db.session.scalars(select(Inspector)):
        inspector.active = inspector.id in (users[R.INSPECTOR].inspector_id, users[R.TEAM_LEAD].inspector_id)
    db.session.commit()
    plan, batch, draw = make_drawn(n_enterprises=5, sample=4, group_size=2)
    tasks = db.session.scalars(select(Task).where(Task.draw_pk == draw.id).order_by(Task.id)).all()
    late, submitted, approved, later = tasks[:4]
    inspector, brigade = users[R.INSPECTOR], users[R.BRIGADE_LEAD]
    late.due_date = today_shanghai() - timedelta(days=1)  # its window has ended, nothing was sent
    later.due_date = today_shanghai() + timedelta(days=60)
    db.session.commit()
    hazard = make_hazard(approved, inspector)
    for t in (submitted, approved):
        assert not sync(inspector, [_rec(t, "outcome", {"outcome": "completed"})])["rejected"]
    review.approve(approved, brigade)
    again = review.schedule_reinspection(approved, brigade)
    assert not sync(inspector, [_rec(again, "closure", {"hazard": hazard.record_uuid, "rectified": True, "photos": []}),
                                _rec(again, "outcome", {"outcome": "completed"})])["rejected"]
    return {"users": users, "plan": plan, "batch": batch, "late": late, "submitted": submitted,
            "approved": approved, "later": later, "again": again}


def _home(app, username, base_url="http://localhost"):
    client = app.test_client()
    client.post("/login", data={"username": username, "password": PASSWORD}, base_url=base_url)
    html = client.get("/", base_url=base_url).get_data(as_text=True)
    assert "欢迎" in html
    assert not RAW.search(_text(html)), RAW.search(_text(html))
    return client, html


def test_the_office_sees_its_registries_counted_and_its_tools(county, app):
    _client, html = _home(app, "admin")
    assert "built-in method" not in html  # the fourth card once printed counts.items
    numbers = re.findall(r'<a class="card stat" href="[^"]+"><b>(\d+)</b>', html)
    assert len(numbers) == 4 and all(int(n) > 0 for n in numbers)
    for href in ("/registries/import/enterprises", "/users", "/audit"):
        assert f'href="{href}' in html, href


def test_the_brigade_lead_sees_the_plan_its_batches_by_phase_and_what_is_due(county, app):
    _client, html = _home(app, "brigade_lead")
    assert county["plan"].title in html
    row = html[html.index(f'data-batch="{county["batch"].id}"'):]
    row = row[:row.index("</a>")]
    # Submitted: the inspection and the re-inspection of the approved one's hazard (same batch).
    assert re.search(r'data-phase="submitted">已提交，待审核 2<', row)
    assert re.search(r'data-phase="approved">已审核，待公示 1<', row)
    assert re.search(r'data-phase="dispatched">已派发，未开始 2<', row)
    deadlines = html[html.index("近期期限"):]
    assert county["submitted"].enterprise["name"] in deadlines  # its feedback to the enterprise is due


def test_the_team_lead_sees_what_waits_for_review(county, app):
    _client, html = _home(app, "team_lead")
    counts = dict(re.findall(r'data-count="([a-z-]+)"><b>(\d+)</b>', html))
    # Submitted: the first inspection and the re-inspection; one closure to decide; one task overdue.
    assert counts == {"to-review": "2", "closures": "1", "overdue": "1"}
    assert county["submitted"].enterprise["name"] in html[html.index("待审核"):]
    # The lead is in groups too (the county's): their own tasks come with the way into the app.
    assert 'id="my-tasks"' in html and 'href="/app/" data-open-app' in html


def test_the_inspector_sees_their_tasks_to_do_first_and_the_way_into_the_app(county, app):
    client, html = _home(app, "inspector")
    assert "抽取批次后" not in html  # the old placeholder, shown while tasks were assigned
    main = html[html.index("<main"):]
    assert main.count('href="/app/"') == 1 and "打开检查App" in main  # one obvious way into the app
    assert "添加到主屏幕" in html and "分享" in html  # how to install it, Android and iPhone
    listed = [int(i) for i in re.findall(r'id="my-tasks"|data-task="(\d+)"', html) if i]
    to_do = [county["late"].id, county["later"].id]  # open first (by due date), then the finished ones
    assert listed[:2] == to_do and set(listed[2:]) >= {county["submitted"].id, county["approved"].id}
    late_row = html[html.index(f'data-task="{county["late"].id}"'):]
    late_row = late_row[:late_row.index("</a>")]
    assert "已派发，未开始" in late_row and "已逾期" in late_row
    assert "1 项已逾期" in html and "待办 2 项" in html
    assert "App无法离线" not in html  # localhost is a secure context
    # Served over plain HTTP under a real name, the page says the offline app needs HTTPS.
    _client, html = _home(app, "inspector", base_url="http://10.1.2.3:8000")
    assert "非HTTPS" in html
    _client, html = _home(app, "inspector", base_url="https://ssj.example.cn")
    assert "非HTTPS" not in html


def test_an_inspector_without_tasks_is_told_so_plainly(ctx, app):
    make_role_users()
    _client, html = _home(app, "inspector")
    assert "目前没有分派给您的任务" in html and 'href="/app/"' in html


def test_the_task_page_starts_the_inspection_in_the_app_and_shows_no_raw_values(county, app):
    task = county["later"]
    client = app.test_client()
    login(client, "inspector")
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'href="/app/#/task/{task.id}"' in html and "开始检查" in html
    text = _text(html)
    assert not RAW.search(text)
    assert "统一社会信用代码" in text and task.uscc in text
    checklist = task.checklists[0]
    assert checklist["title"] in text and f"版本 {checklist['version']}" in text
    assert "@" not in text and "(R15)" not in text and "USCC" not in text
    assert "从名录库中随机抽取" in text and "random" not in text
    # Submitted: the app opens it to read, the button no longer says start.
    html = client.get(f"/tasks/{county['submitted'].id}").get_data(as_text=True)
    assert "在检查App中打开" in html and "开始检查" not in html
    # Someone outside the group (the brigade lead) gets no button into the app for it.
    other = app.test_client()
    login(other, "brigade_lead")
    assert "/app/#/task/" not in other.get(f"/tasks/{task.id}").get_data(as_text=True)


def test_lists_make_the_whole_row_the_link(county, app):
    client = app.test_client()
    login(client, "brigade_lead")
    for url in ("/tasks/?phase=all", "/review/?state=submitted"):
        html = client.get(url).get_data(as_text=True)
        rows = re.findall(r'<li><a class="card rowlink" href="([^"]+)"[^>]*>(.*?)</a></li>', html, re.S)
        assert rows, url
        for _href, inner in rows:
            assert "<a " not in inner  # one link per row, holding the whole card
