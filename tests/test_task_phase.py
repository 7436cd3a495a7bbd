"""One state per task, shown the same way everywhere (issue #12 point 3).

Every phase is reached through the services a person uses (the draw, a phone's sync, the team lead's
return and approval, publication, a substitution), then the task list, the task page, the batch page
and the review queue must show the same words for it, and every filter must list exactly its tasks.
"""
import re
import uuid as uuidlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp import roles as R
from webapp.auth.models import User
from webapp.db_types import today_shanghai
from webapp.draws import ceremony
from webapp.extensions import db
from webapp.publication.services import publish
from webapp.registries.models import Enterprise
from webapp.review import services as review
from webapp.sync.services import sync
from webapp.tasks import phase as P
from webapp.tasks.models import Task
from tests.factories import login, make_drawn, make_hazard, make_inspector, make_user

#: What a person reads for each phase (the Chinese UI).
WORDS = {"dispatched": "已派发，未开始", "in_progress": "检查中", "submitted": "已提交，待审核",
         "returned": "已退回修改", "approved": "已审核，待公示", "published": "结果已公示",
         "unstaffed": "未抽到检查组", "cancelled": "已取消"}


def _rec(task, kind, data):
    return {"uuid": str(uuidlib.uuid4()), "kind": kind, "task_id": task.id, "base_revision": 0, "data": data}


def _answer(task):
    c = task.checklists[0]
    return _rec(task, "answer", {"question": "Q-1", "checklist": f"{c['code']}@{c['version']}", "result": "yes",
                                 "photos": []})


def _member(task):
    """The sign-in of the task's first member (made on first use)."""
    inspector_id = task.active_members[0].inspector_id
    return (db.session.scalar(select(User).where(User.inspector_id == inspector_id))
            or make_user(R.INSPECTOR, f"insp{inspector_id}", inspector_id=inspector_id))


def _submit(task):
    answers = [_answer(task)] if task.checklists else []  # a re-inspection checks hazards, not a list
    out = sync(_member(task), answers + [_rec(task, "outcome", {"outcome": "completed"})])
    assert not out["rejected"], out


@pytest.fixture
def world(ctx):
    """A drawn batch whose tasks stand in every phase, each reached through the real services."""
    for k in range(6):
        make_inspector(name=f"检查员{k}")
    _plan, batch, draw = make_drawn(n_enterprises=10, sample=8)
    lead = make_user(R.BRIGADE_LEAD, "brigade")
    tasks = db.session.scalars(select(Task).where(Task.draw_pk == draw.id, Task.status == "dispatched")
                               .order_by(Task.id)).all()
    assert len(tasks) >= 8
    t = dict(zip(("dispatched", "in_progress", "submitted", "returned", "approved", "published", "cancelled",
                  "origin"), tasks))
    assert not sync(_member(t["in_progress"]), [_answer(t["in_progress"])])["rejected"]  # the phone started
    make_hazard(t["origin"], _member(t["origin"]), question="Q-1")  # to be re-inspected below
    for name in ("submitted", "returned", "approved", "published", "origin"):
        _submit(t[name])
    review.return_for_correction(t["returned"], lead, "请补拍现场照片")
    review.approve(t["approved"], lead)
    review.approve(t["published"], lead)
    publish(t["published"], "no_problem", lead)
    ceremony.substitute(draw, "enterprise", t["cancelled"].uscc, "", "企业已注销")
    # A re-inspection of a hazard, approved: its own end (nothing of it is published).
    review.approve(t["origin"], lead)
    again = review.schedule_reinspection(t["origin"], lead)
    _submit(again)
    review.approve(again, lead)
    t["reinspection"] = again
    db.session.commit()
    return {"tasks": t, "batch": batch, "draw": draw, "lead": lead}


def _all_phases():
    tasks = db.session.scalars(select(Task)).all()
    return P.phases(tasks)


def test_each_service_step_moves_the_task_to_its_phase(world):
    t = world["tasks"]
    phases = _all_phases()
    for name in ("dispatched", "in_progress", "submitted", "returned", "approved", "published", "cancelled"):
        assert phases[t[name].id] == name, name
    # An approved re-inspection is finished (nothing of it is published): never "awaiting publication".
    assert phases[t["reinspection"].id] == "published"
    assert P.label(t["reinspection"], "published") == "复查已审核"
    # The SQL forms agree with the Python one for every task: the filters, the counts and the tags.
    expr = dict(db.session.execute(select(Task.id, P.expression())).all())
    assert expr == phases
    for name in P.PHASES:
        ids = set(db.session.scalars(select(Task.id).where(P.clause(name))))
        assert ids == {i for i, p in phases.items() if p == name}, name
    assert set(db.session.scalars(select(Task.id).where(P.clause("open")))) == \
        {i for i, p in phases.items() if p in P.OPEN}


def _row(html: str, marker: str) -> str:
    """The HTML of the list row carrying ``marker`` (up to the end of its link or table row)."""
    start = html.index(marker)
    end = min(i for i in (html.find("</a></li>", start), html.find("</tr>", start)) if i != -1)
    return html[start:end]


def _tag(fragment: str) -> tuple[str, str]:
    m = re.search(r'data-phase="([a-z_]+)">([^<]+)</span>', fragment)
    assert m, fragment[:400]
    return m.group(1), m.group(2)


def test_every_page_shows_the_same_words_for_the_phase(world, app):
    t, batch = world["tasks"], world["batch"]
    client = app.test_client()
    login(client, "brigade")
    listing = client.get("/tasks/?phase=all").get_data(as_text=True)
    batch_page = client.get(f"/batches/{batch.id}").get_data(as_text=True)
    for name in ("dispatched", "in_progress", "submitted", "returned", "approved", "published", "cancelled"):
        task = t[name]
        expected = (name, WORDS[name])
        assert _tag(_row(listing, f'data-task="{task.id}"')) == expected, name
        page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
        assert _tag(page[page.index("<h1"):]) == expected, name
        assert _tag(_row(batch_page, f'<tr data-task="{task.id}"')) == expected, name
        if name in ("submitted", "returned", "approved", "published"):
            queue = client.get(f"/review/?state={name}").get_data(as_text=True)
            assert _tag(_row(queue, f'data-task="{task.id}"')) == expected, name
    # An approval after the draw no longer reads 已派发 on the batch page (the fault of issue #12).
    assert "已派发" not in _row(batch_page, f'<tr data-task="{t["approved"].id}"')
    # The re-inspection: approved is its end, never "awaiting publication".
    again = t["reinspection"]
    page = client.get(f"/tasks/{again.id}").get_data(as_text=True)
    assert _tag(page[page.index("<h1"):]) == ("published", "复查已审核") and "复查" in page
    assert "待公示" not in _row(listing, f'data-task="{again.id}"')


def _listed(client, url: str) -> set[int]:
    ids, page = set(), 1
    while True:
        html = client.get(f"{url}&page={page}").get_data(as_text=True)
        found = {int(i) for i in re.findall(r'<a class="card rowlink" href="[^"]+" data-task="(\d+)"', html)}
        ids |= found
        if not found or "›" not in html.split('class="pager"', 1)[-1]:
            return ids
        page += 1


def test_each_filter_lists_exactly_its_tasks_with_its_count(world, app):
    phases = _all_phases()
    client = app.test_client()
    login(client, "brigade")
    html = client.get("/tasks/?phase=all").get_data(as_text=True)
    for name in P.PHASES:
        expected = {i for i, p in phases.items() if p == name}
        assert _listed(client, f"/tasks/?phase={name}") == expected, name
        if expected:  # the chip says how many before the tap
            assert re.search(rf'data-filter="{name}">[^<]+<b>{len(expected)}</b>', html), name
    assert _listed(client, "/tasks/?phase=open") == {i for i, p in phases.items() if p in P.OPEN}
    assert _listed(client, "/tasks/?phase=all") == set(phases)
    # The old "open" list showed approved tasks as still to do: the to-do list holds none of them.
    assert not {i for i, p in phases.items() if p in P.DONE} & _listed(client, "/tasks/?status=open")
    # The batch page's filter, and the review queue's.
    batch = world["batch"]
    for name in ("submitted", "approved", "cancelled"):
        page = client.get(f"/batches/{batch.id}?phase={name}").get_data(as_text=True)
        shown = {int(i) for i in re.findall(r'<tr data-task="(\d+)"', page)}
        assert shown == {t.id for t in db.session.scalars(select(Task).where(Task.draw_pk == world["draw"].id))
                         if phases[t.id] == name}, name
    for name in ("submitted", "returned", "approved", "published"):
        queue = client.get(f"/review/?state={name}").get_data(as_text=True)
        shown = {int(i) for i in re.findall(r'data-task="(\d+)"', queue)}
        assert shown == {i for i, p in phases.items() if p == name}, name


def test_overdue_is_a_flag_of_unfinished_tasks_with_its_filter(world, app):
    t = world["tasks"]
    yesterday = today_shanghai() - timedelta(days=1)
    for name in ("dispatched", "in_progress", "approved"):
        t[name].due_date = yesterday  # their window has ended
    db.session.commit()
    client = app.test_client()
    login(client, "brigade")
    assert _listed(client, "/tasks/?phase=overdue") == {t["dispatched"].id, t["in_progress"].id}
    listing = client.get("/tasks/?phase=all").get_data(as_text=True)
    assert "已逾期" in _row(listing, f'data-task="{t["dispatched"].id}"')
    assert "已逾期" not in _row(listing, f'data-task="{t["approved"].id}"')  # finished in time or not, it is done


def test_a_task_no_group_could_be_drawn_for_is_unstaffed_everywhere(ctx, app):
    from webapp.registries.services import add_recusal
    from tests.factories import BEACON, make_plan, pass_beacon_time
    first, second = make_inspector(name="甲检查员"), make_inspector(name="乙检查员")  # a group needs both
    _plan, batch = make_plan(n_enterprises=2, sample=2)
    task_uscc = db.session.scalar(select(Enterprise.uscc).order_by(Enterprise.id))
    add_recusal(first, task_uscc, "曾在该企业任职")  # so no group of two can be drawn for it
    draw = ceremony.commit_draw(batch, {"beacon_kind": "drand", "drand_round": str(ceremony.suggest_drand_round())})
    pass_beacon_time(draw)
    ceremony.reveal(draw, BEACON)
    task = db.session.scalar(select(Task).where(Task.draw_pk == draw.id, Task.uscc == task_uscc))
    assert second.active
    assert P.phase(task) == "unstaffed"
    make_user(R.BRIGADE_LEAD, "brigade")
    client = app.test_client()
    login(client, "brigade")
    assert _listed(client, "/tasks/?phase=unstaffed") == {task.id}
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert _tag(page[page.index("<h1"):]) == ("unstaffed", WORDS["unstaffed"])
    batch_page = client.get(f"/batches/{batch.id}").get_data(as_text=True)
    assert _tag(_row(batch_page, f'<tr data-task="{task.id}"')) == ("unstaffed", WORDS["unstaffed"])
