"""The batch summary (issue #13 point 1): its figures against a batch built through the real services,
a team lead's narrowed view, refusals, and every number's link leading to exactly the rows it counts."""
import re
import uuid as uuidlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp import roles as R
from webapp.brigade.stats import batch_summary
from webapp.db_types import today_shanghai, utcnow
from webapp.extensions import db
from webapp.publication.services import publish
from webapp.registries.models import Department, Inspector
from webapp.review import services
from webapp.review.models import Hazard
from webapp.sync.services import sync
from webapp.tasks.models import Task
from tests.factories import login, make_drawn, make_hazard, make_inspector, make_user, member_user

OFFICE = "危险化学品安全监督管理股"


def rec(task, kind, data):
    return {"uuid": str(uuidlib.uuid4()), "kind": kind, "task_id": task.id, "base_revision": 0, "data": data}


def outcome(user, task, what="completed", **extra):
    data = {"outcome": what, **extra}
    if what == "non_cooperation":
        data["reason"] = "refused_entry"
    out = sync(user, [rec(task, "outcome", data)])
    assert out["accepted"], out
    db.session.refresh(task)


def backdate(task, days: int):
    """Time travel: the inspection ended ``days`` ago (R19/R20 deadlines count from it)."""
    task.completed_at = utcnow() - timedelta(days=days)
    db.session.commit()


@pytest.fixture
def world(ctx):
    """A batch of eight tasks over two departments' inspectors, at every stage a batch goes through."""
    for k in range(3):
        make_inspector(name=f"队员{k}")
    for k in range(3):
        make_inspector(OFFICE, name=f"股员{k}")
    _plan, batch, draw = make_drawn(n_enterprises=10, sample=8, group_size=2)
    tasks = db.session.scalars(select(Task).where(Task.draw_pk == draw.id, Task.status == "dispatched")
                               .order_by(Task.id)).all()
    assert len(tasks) == 8
    lead = make_user(R.BRIGADE_LEAD, "blead")
    admin = make_user(R.ADMIN, "office")
    phones = [member_user(t, 0, f"phone{k}") for k, t in enumerate(tasks)]
    t = tasks
    # t0: two hazards (one major), completed, approved, published on time, feedback on time.
    h_major = make_hazard(t[0], phones[0], question="Q-1", grade="major", description="储罐未设报警")
    make_hazard(t[0], phones[0], question="G-01", description="安全出口堵塞")
    outcome(phones[0], t[0])
    services.approve(t[0], lead)
    publish(t[0], "pending", lead)
    services.record_feedback(t[0], today_shanghai().isoformat(), "on_site", "", lead)
    # t1: closed down (early outcome), submitted.
    outcome(phones[1], t[1], "closed")
    # t2: did not cooperate (R17), returned for correction.
    outcome(phones[2], t[2], "non_cooperation")
    services.return_for_correction(t[2], lead, "补充证据")
    # t3: a hazard re-inspected, found rectified and closed; the feedback late; the result published late.
    h_closed = make_hazard(t[3], phones[3], question="Q-1", description="未设报警")
    outcome(phones[3], t[3])
    backdate(t[3], 40)
    services.record_feedback(t[3], today_shanghai().isoformat(), "post", "", lead)
    services.approve(t[3], lead)
    publish(t[3], "corrected", lead)
    again = services.schedule_reinspection(t[3], lead)
    closer = member_user(again, 0, "phone3")
    assert sync(closer, [rec(again, "closure", {"hazard": h_closed.record_uuid, "rectified": True, "photos": []})])["accepted"]
    outcome(closer, again)
    services.close_hazard(h_closed, lead)
    # t4: completed long ago, nothing told nor published: both overdue. A hazard past its deadline, escalated.
    h_late = make_hazard(t[4], phones[4], question="G-01", deadline=(today_shanghai() - timedelta(days=3)).isoformat())
    outcome(phones[4], t[4])
    backdate(t[4], 40)
    services.escalate(h_late, "case", "", "拒不整改", lead)
    # t5: started (an answer), not finished; t6: untouched, its window over (overdue); t7: untouched.
    sync(phones[5], [rec(t[5], "answer", {"question": "Q-1", "checklist": f"{t[5].checklists[0]['code']}@1",
                                          "result": "yes", "photos": []})])
    t[6].due_date = today_shanghai() - timedelta(days=1)
    db.session.commit()
    return {"batch": batch, "tasks": t, "lead": lead, "admin": admin, "phones": phones, "h_major": h_major,
            "reinspection": again}


def test_figures_match_the_batch(world):
    s = batch_summary(world["batch"])
    t = s["tasks"]
    assert (t["drawn"], t["dispatched"], t["unstaffed"], t["cancelled"]) == (8, 8, 0, 0)
    # done = submitted or approved: t0, t1, t3, t4 (t2 was returned)
    assert (t["done"], t["returned"], t["approved"], t["published"], t["overdue"]) == (4, 1, 2, 2, 1)
    assert s["outcomes"] == {"non_cooperation": 1, "closed": 1, "not_found": 0}
    h = s["hazards"]
    assert (h["total"], h["major"], h["general"], h["closed"], h["open"], h["overdue"], h["escalated"]) == (4, 1, 3, 1, 3, 1, 1)
    assert h["rectification_rate"] == pytest.approx(0.25)
    assert h["median_days_to_close"] == 0.0
    assert [(q["question"], q["n"]) for q in s["top_questions"]] == [("G-01", 2), ("Q-1", 2)]  # ties by id
    q1 = s["top_questions"][1]
    assert q1["text"] == "是否符合？" and q1["checklist"] == "测试检查表"
    assert s["reinspections"] == {"total": 1, "rectified": 1, "not_rectified": 0, "pending": 0, "tasks": 1}
    # R19 over every ended inspection (the re-inspection too): t0 on time, t3 late, t4 missing and overdue;
    # t1, t2 and the re-inspection ended today (pending). R20 over random checks: t0 on time, t3 late, t4 overdue.
    assert s["feedback"] == {"due": 6, "on_time": 1, "late": 1, "missing_overdue": 1, "pending": 3}
    assert s["publication"] == {"due": 5, "on_time": 1, "late": 1, "missing_overdue": 1, "pending": 2}
    grades = {g["key"]: g["n"] for g in s["by_grade"]}
    assert grades == {"major": 1, "general": 3}
    assert sum(r["n"] for r in s["by_industry"]) == 4 and sum(r["n"] for r in s["by_township"]) == 4
    # Workload: each active membership once; hazards are counted for every member of the finding group.
    members = [m for task in world["tasks"] + [world["reinspection"]] for m in task.active_members]
    assert sum(w["tasks"] for w in s["workload"]) == len(members)
    assert s["earlier"] == []
    import json
    json.dumps(s)  # JSON-serialisable (the PDF export and the charts read it)


def test_a_team_lead_sees_their_department_groups_only(world):
    office = db.session.scalar(select(Department).where(Department.name == OFFICE))
    tl = make_user(R.TEAM_LEAD, "tl-office", department_id=office.id)
    mine = [t for t in world["tasks"] if any(m.inspector.department_id == office.id for m in t.active_members)]
    s = batch_summary(world["batch"], tl)
    assert s["tasks"]["drawn"] == len(mine)
    hazards = db.session.scalars(select(Hazard).where(Hazard.task_id.in_([t.id for t in mine]))).all()
    assert s["hazards"]["total"] == len(hazards)
    assert {w["inspector_id"] for w in s["workload"]} == {m.inspector_id for t in mine for m in t.active_members} | (
        {m.inspector_id for m in world["reinspection"].active_members}
        if any(m.inspector.department_id == office.id for m in world["reinspection"].active_members) else set())


def test_roles_and_objects(world, client):
    batch = world["batch"]
    url = f"/brigade/batches/{batch.id}"
    login(client, world["phones"][0].username)
    assert client.get(url).status_code == 403  # an inspector: refused
    assert client.get("/brigade/batches/").status_code == 403
    # Nor does the task list's narrowing read out a batch title or an inspector's name by its id (review).
    other = world["phones"][-1].inspector_id
    page = client.get(f"/tasks/?batch={batch.id}&inspector={other}").get_data(as_text=True)
    only = re.search(r'<p class="narrowed" data-narrowed>(.*?)</p>', page, re.S).group(1)
    assert batch.title not in only and db.session.get(Inspector, other).name not in only
    client.post("/logout")
    # A team lead of a department with no group in the batch: refused on the object.
    dept = db.session.scalar(select(Department).where(Department.name == "无关科室"))
    from webapp.registries.services import save_department
    dept = dept or save_department("无关科室", "office")
    make_user(R.TEAM_LEAD, "tl-none", department_id=dept.id)
    login(client, "tl-none")
    assert client.get(url).status_code == 403
    assert client.get("/brigade/batches/").status_code == 200
    client.post("/logout")
    login(client, "office")
    assert client.get(url).status_code == 200
    assert client.get("/brigade/batches/999999").status_code == 404


def _figures(html: str) -> dict[str, tuple[int, str]]:
    """data-figure name → (the number shown, its link)."""
    out = {}
    for m in re.finditer(r'<a [^>]*href="([^"]+)"[^>]*data-figure="([^"]+)"[^>]*>\s*<b[^>]*>([\d,]+)</b>', html):
        out[m.group(2)] = (int(m.group(3).replace(",", "")), m.group(1).replace("&amp;", "&"))
    return out


def _rows(client, url: str) -> int:
    html = client.get(url).get_data(as_text=True)
    return len(re.findall(r'data-(?:task|hazard)="\d+"', html))


@pytest.mark.parametrize("who", ["blead", "tl"])
def test_every_number_links_to_the_rows_it_counts(world, client, who):
    if who == "tl":
        brigade = db.session.scalar(select(Department).where(Department.name == "综合行政执法大队"))
        make_user(R.TEAM_LEAD, "tl", department_id=brigade.id)
    login(client, who)
    html = client.get(f"/brigade/batches/{world['batch'].id}").get_data(as_text=True)
    figures = _figures(html)
    wanted = {"tasks-dispatched", "tasks-done", "tasks-returned", "tasks-approved", "tasks-published",
              "tasks-overdue", "outcome-closed", "outcome-non_cooperation", "hazards-total", "hazards-major",
              "hazards-open", "hazards-closed", "hazards-overdue", "hazards-escalated", "question-Q-1",
              "feedback-late", "feedback-on_time", "feedback-missing_overdue", "publication-late",
              "publication-missing_overdue", "reinspections-rectified"}
    assert wanted <= set(figures), wanted - set(figures)
    nonzero = 0
    for name, (n, link) in figures.items():
        assert _rows(client, link) == n, (name, n, link)
        nonzero += n > 0
    assert nonzero >= 10


def test_batches_list(world, client):
    login(client, "blead")
    html = client.get("/brigade/batches/").get_data(as_text=True)
    assert world["batch"].title in html and f"/brigade/batches/{world['batch'].id}" in html


def test_earlier_batches_of_the_year_side_by_side(world, client):
    """A later batch of the same year shows the first one's figures beside its own, each a link to its rows."""
    first = world["batch"]
    _plan, second, _draw = make_drawn(n_enterprises=4, sample=2, group_size=2)
    s = batch_summary(second)
    assert [e["batch_id"] for e in s["earlier"]] == [first.id]
    e = s["earlier"][0]
    mine = batch_summary(first)
    assert (e["tasks"], e["done"], e["hazards"]) == (mine["tasks"]["drawn"], mine["tasks"]["done"], mine["hazards"]["total"])
    assert e["rectification_rate"] == pytest.approx(mine["hazards"]["rectification_rate"])
    assert batch_summary(first)["earlier"] == []  # the later batch is not "earlier"
    login(client, "blead")
    figures = _figures(client.get(f"/brigade/batches/{second.id}").get_data(as_text=True))
    for name in (f"earlier-{first.id}-tasks", f"earlier-{first.id}-done", f"earlier-{first.id}-hazards"):
        n, link = figures[name]
        assert n > 0 and _rows(client, link) == n, name


def test_the_timeline_ends_at_the_done_figure(world, client):
    """The curve of inspections done ends where the figure above it says (found on the demo batch: the
    line reached 40 under 「已完成 39 项」): a task returned for correction is not done, nor done late."""
    t2 = world["tasks"][2]  # returned for correction; its window closed before it was submitted
    t2.due_date = today_shanghai() - timedelta(days=1)
    db.session.commit()
    s = batch_summary(world["batch"])
    assert sum(p["n"] for p in s["timeline"]) == s["tasks"]["done"] == 4
    assert s["tasks"]["done_late"] == 0
    login(client, "blead")
    page = client.get(f"/brigade/batches/{world['batch'].id}").get_data(as_text=True)
    import json
    spec = json.loads(re.search(r'<script type="application/json" id="chart-timeline">(.*?)</script>', page, re.S).group(1))
    assert spec["series"][0]["data"][-1] == 4
