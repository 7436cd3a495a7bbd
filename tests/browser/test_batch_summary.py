"""The batch summary on a 360-px phone (issue #13 point 1): the brigade lead opens a worked batch of the demo
county, the charts are drawn (canvas, no script error, no CSP violation), nothing spills sideways, and a
figure tapped leads to as many rows as it said."""
import re
import uuid as uuidlib
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.conftest import sign_in
from tests.browser.crawl import page_problems as _page_problems


def page_problems(page):
    """The crawl's checks; they open every <details> (the menu too), which are closed again after."""
    out = _page_problems(page)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = false)")
    return out

SHOTS = Path("/tmp/h/shots")

WATCH = """
document.addEventListener("securitypolicyviolation", e => {
  const seen = JSON.parse(sessionStorage.getItem("__csp") || "[]");
  seen.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} on ${location.pathname}`);
  sessionStorage.setItem("__csp", JSON.stringify(seen));
});
"""


@pytest.fixture
def worked(demo, app):
    """The demo plan's first two batches drawn; the first one worked: hazards on several questions, some
    inspections ended early (closed down, did not cooperate), some approved and published, one returned."""
    from webapp.auth.models import User
    from webapp.checklists.models import questions_by_id
    from webapp.demo.plan import seed_plan
    from webapp.draws.models import Batch, Plan
    from webapp.extensions import db
    from webapp.publication.services import publish
    from webapp.review import services as review
    from webapp.sync.services import sync
    from webapp.tasks.models import Task
    from tests.factories import make_hazard, make_user

    seed_plan()
    plan = db.session.scalar(select(Plan))
    seed_plan(plan)
    first = db.session.scalar(select(Batch).where(Batch.plan_id == plan.id).order_by(Batch.seq))
    lead = db.session.scalar(select(User).where(User.username == "brigade"))
    tasks = db.session.scalars(select(Task).where(Task.batch_id == first.id, Task.status == "dispatched")
                               .order_by(Task.id)).all()
    accounts = {}

    def phone(t):
        inspector_id = t.active_members[0].inspector_id
        if inspector_id not in accounts:
            accounts[inspector_id] = (db.session.scalar(select(User).where(User.inspector_id == inspector_id))
                                      or make_user("inspector", f"summary-{inspector_id}", inspector_id=inspector_id))
        return accounts[inspector_id]

    for k, t in enumerate(tasks[:24]):
        user = phone(t)
        questions = [q for q in questions_by_id(t.checklists)][:6]
        for j in range(k % 4):
            make_hazard(t, user, question=questions[(k + j) % len(questions)],
                        grade="major" if (k + j) % 7 == 0 else "general", description=f"隐患{k}-{j}")
        if k % 6 == 5:
            continue  # still under way
        what = {3: "closed", 10: "non_cooperation", 17: "not_found"}.get(k, "completed")
        data = {"outcome": what, **({"reason": "refused_entry"} if what == "non_cooperation" else {})}
        assert sync(user, [{"uuid": str(uuidlib.uuid4()), "kind": "outcome", "task_id": t.id, "base_revision": 0,
                            "data": data}])["accepted"]
        db.session.refresh(t)
        if k % 3 == 0:
            review.approve(t, lead)
            publish(t, "pending" if k % 4 else "no_problem", lead)
        elif k == 7:
            review.return_for_correction(t, lead, "补充现场照片")
    return first


def _watch(context):
    problems = []
    context.add_init_script(WATCH)

    def attach(page):
        # A failed load is told by its response below (the browser's own /favicon.ico guess aside).
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
        page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    context.on("page", attach)
    context.on("response", lambda r: problems.append(f"{r.status} {r.url}")
               if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    return problems


def test_the_batch_summary_on_a_phone(worked, live_server, browser, browser_context_args):
    context = browser.new_context(**browser_context_args)
    problems = _watch(context)
    page = context.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, live_server, "brigade")
    page.goto(f"{live_server}/brigade/batches/")
    assert page_problems(page)[0] == []
    page.screenshot(path=str(SHOTS / "summary-batches.png"), full_page=True)
    page.locator(f'tr[data-batch="{worked.id}"] a').click()  # the whole row is the tap target
    page.wait_for_load_state("load")
    assert "/brigade/batches/" in page.url
    charts = page.locator(".chart[data-chart]")
    n = charts.count()
    assert n >= 6
    page.wait_for_function(f"document.querySelectorAll('.chart.drawn canvas').length >= {n}")
    for k in range(n):  # each chart drawn inside the screen's width
        box = charts.nth(k).bounding_box()
        assert box["width"] <= 360 and box["height"] >= 120, box
    assert page.evaluate("JSON.parse(sessionStorage.getItem('__csp') || '[]')") == []
    assert problems == []
    found, _links = page_problems(page)
    assert found == [], found
    page.screenshot(path=str(SHOTS / "summary-batch.png"), full_page=True)
    for section in ("hazards", "problems", "deadlines", "workload"):
        page.locator(f"#{section}").screenshot(path=str(SHOTS / f"summary-{section}.png"))
    # A figure tapped: the list behind it has as many rows as the figure said.
    figure = page.locator('a[data-figure="hazards-open"]')
    said = int(figure.locator("b").inner_text())
    assert said > 0
    page.goto(live_server + figure.get_attribute("href"))
    assert page.locator("[data-hazard]").count() == min(said, 50)
    assert page.locator("[data-narrowed]").count() == 1
    page.go_back()
    figure = page.locator('a[data-figure="tasks-done"]')
    said = int(figure.locator("b").inner_text())
    figure.click()  # a tap on the figure
    page.wait_for_load_state("load")
    assert page.locator("[data-task]").count() == min(said, 50)
    assert re.search(rf"{said}", page.locator(".pager").inner_text())
    assert page_problems(page)[0] == []
    page.screenshot(path=str(SHOTS / "summary-tasks-done.png"), full_page=True)
    # The year's second batch: the first one beside it.
    page.goto(f"{live_server}/brigade/batches/")
    second = page.locator(f'tr[data-batch]:not([data-batch="{worked.id}"]) a').first
    page.goto(live_server + second.get_attribute("href"))
    page.wait_for_function("document.querySelectorAll('#earlier .chart.drawn canvas').length == 1")
    assert worked.title in page.locator("#earlier table").inner_text()
    assert page_problems(page)[0] == []
    page.locator("#earlier").screenshot(path=str(SHOTS / "summary-earlier.png"))
    assert problems == []
    context.close()
