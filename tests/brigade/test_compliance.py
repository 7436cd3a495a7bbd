"""The year's compliance dashboard (issue #13 point 3): a clean year shows no breach; a year that breaks
one rule (R5, R6, R7, R8, R9, R10, R19, R20) shows that breach and nothing else, and its list leads to
exactly the unit, task, item or change behind it."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from webapp import roles as R
from webapp.auth.models import User
from webapp.brigade.compliance import year_compliance
from webapp.draws.models import Batch, Draw, Plan, PlanChange
from webapp.extensions import db
from webapp.publication.models import PublishedResult
from webapp.registries.models import Department, Enterprise, InspectionItem, InspectionItemVersion, Region
from webapp.review.models import Feedback
from webapp.tasks.models import Task
from webapp.workdays import add_working_days
from tests.factories import login, make_reference, make_role_users, new_uscc

YEAR = 2025
BREACHES = ("R5", "R6", "R7", "R8", "R9", "R10", "R19", "R20")


def _at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock in Shanghai on ``day``, as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour - 8, tzinfo=timezone.utc)


class Year:
    """A plan year seeded row by row (a year of inspections cannot be driven through the phones here)."""

    def __init__(self, year: int = YEAR):
        make_reference()
        self.year = year
        self.region = db.session.scalar(select(Region).order_by(Region.id))
        self.dept = db.session.scalar(select(Department).order_by(Department.id))
        self.plan = Plan(year=year, title=f"{year}年度双随机抽查计划", state="published", created_by="test",
                         publication_days=20)
        db.session.add(self.plan)
        db.session.flush()
        self.batch = Batch(plan_id=self.plan.id, seq=1, title="第一批", window_start=date(year, 3, 1),
                           window_end=date(year, 11, 30))
        db.session.add(self.batch)
        db.session.flush()
        self.draw = Draw(draw_id=f"{year}-{self.plan.id}-1-1", batch_id=self.batch.id, seq=1, state="drawn",
                         beacon_ref="test", beacon_at=_at(date(year, 3, 1)))
        db.session.add(self.draw)
        db.session.flush()
        self.names = {}

    def unit(self, name: str, status: str = "operating", **flags) -> Enterprise:
        e = Enterprise(uscc=new_uscc(), name=name, region_id=self.region.id, industry="hazchem", status=status,
                       **flags)
        db.session.add(e)
        db.session.flush()
        self.names[e.id] = name
        return e

    def task(self, unit: Enterprise, done: date | None = None, kind: str = "random", status: str = "dispatched",
             told: int | None = 0, published: int | None = 1) -> Task:
        """A task; ``done`` its completion day; ``told``/``published``: working days after ``done`` the
        enterprise was told / the result first published (None: never)."""
        start = done or date(self.year, 6, 1)
        t = Task(batch_id=self.batch.id, draw_pk=self.draw.id, enterprise_id=unit.id, uscc=unit.uscc, kind=kind,
                 status=status, enterprise={"name": unit.name}, items=[], checklists=[], method="onsite",
                 start_date=start, due_date=start + timedelta(days=10), publication_days=20,
                 completed_at=_at(done) if done else None, review_state="approved" if done else "open")
        db.session.add(t)
        db.session.flush()
        if done and told is not None:
            db.session.add(Feedback(task_id=t.id, given_on=add_working_days(done, told)[0] if told else done,
                                    way="on_site"))
        if done and published is not None and kind != "reinspection":
            day = add_working_days(done, published)[0]
            db.session.add(PublishedResult(task_id=t.id, version=1, current=True, category="no_problem",
                                           enterprise_name=unit.name, uscc=unit.uscc, batch_id=self.batch.id,
                                           year=self.year, inspected_on=done, published_at=_at(day, 23)))
        return t

    def item(self, code: str, is_random: bool, valid_from=None, valid_to=None):
        if db.session.scalar(select(InspectionItem.id).where(InspectionItem.code == code)):
            return None  # the item list is not per year: a second year seeded shares it
        item = InspectionItem(code=code, latest_version=1)
        db.session.add(item)
        db.session.flush()
        db.session.add(InspectionItemVersion(
            item_id=item.id, version=1, department_id=self.dept.id, name=f"事项{code}", legal_basis="安全生产法",
            content="检查", method="onsite", is_random=is_random, valid_from=valid_from or date(self.year - 1, 1, 1),
            valid_to=valid_to))
        return item

    def change(self, summary: str, due: date, published: date | None):
        c = PlanChange(plan_id=self.plan.id, at=_at(due - timedelta(days=14)), by="test", summary=summary,
                       publish_due=due, published_at=_at(published, 23) if published else None)
        db.session.add(c)
        return c


def seed_year(breaks=(), year: int = YEAR) -> dict:
    """A year that keeps every rule, then breaks each rule in ``breaks`` exactly once. Returns the rows
    that break them (names, task ids, change summary) for the assertions."""
    y = Year(year)
    june = date(year, 6, 2)  # the day after the 端午 holiday: a working-day count starts right
    culprits = {}
    # R8/R9: two key-supervision and two blacklisted units, each inspected; a suspended key unit needs no check.
    for k in range(2):
        y.task(y.unit(f"重点单位{k}", key_supervision=True), done=june + timedelta(days=k))
        y.task(y.unit(f"黑名单单位{k}", blacklisted=True), done=june + timedelta(days=k))
    y.unit("停业的重点单位", status="suspended", key_supervision=True)
    # R10: the cap binds ordinary units only: a key unit and a focus unit (R11) checked three times are fine.
    for name, flags in (("三查的重点单位", {"key_supervision": True}), ("高风险单位", {"high_credit_risk": True})):
        u = y.unit(name, **flags)
        for k in range(3):
            y.task(u, done=date(year, 4 + 2 * k, 8))
    ordinary = y.unit("两次抽查的普通企业")
    y.task(ordinary, done=date(year, 4, 8))
    y.task(ordinary, done=date(year, 9, 9))
    y.task(ordinary, kind="complaint", done=date(year, 10, 9))  # R4: a complaint check never counts
    y.task(ordinary, status="cancelled")  # nor a cancelled one
    y.task(ordinary, status="unstaffed")  # nor one nobody went to
    reinspection = y.task(ordinary, kind="reinspection", done=date(year, 10, 15), published=None)  # R20: none due
    y.task(y.unit("一次抽查的普通企业"), done=date(year, 5, 6))
    # R6: 40 operating units in all, 9 inspected (5 % of 40 is 2).
    while len([n for n in y.names]) < 41:
        y.unit(f"普通企业{len(y.names):03d}")
    # R7: 7 of 10 items in force are random (exactly 70 %); an expired non-random item does not count.
    for k in range(7):
        y.item(f"R-{k}", True)
    for k in range(3):
        y.item(f"N-{k}", False)
    y.item("OLD", False, valid_from=date(year - 2, 1, 1), valid_to=date(year - 1, 12, 31))
    # R5: a change published on time.
    y.change("调整第一批时间", date(year, 5, 20), date(year, 5, 19))

    if "R8" in breaks:
        u = y.unit("未检查的重点单位", key_supervision=True)
        y.task(u, status="cancelled")
        culprits["R8"] = u.name
    if "R9" in breaks:
        u = y.unit("未检查的黑名单单位", blacklisted=True)
        y.task(u, status="unstaffed")
        culprits["R9"] = u.name
    if "R10" in breaks:
        u = y.unit("三次抽查的普通企业")
        culprits["R10"] = [y.task(u, done=date(year, m, 10)).id for m in (4, 7, 10)]
        culprits["R10-name"] = u.name
    if "R19" in breaks:
        t = y.task(y.unit("告知迟了的企业"), done=june, told=8)
        culprits["R19"] = t.id
    if "R20" in breaks:
        t = y.task(y.unit("公示迟了的企业"), done=june, published=21)
        culprits["R20"] = t.id
    if "R5" in breaks:
        y.change("增加第二批", date(year, 8, 20), date(year, 8, 21))
        culprits["R5"] = "增加第二批"
    if "R7" in breaks:
        y.item("N-X", False)
        culprits["R7"] = "事项N-X"
    if "R6" in breaks:
        for k in range(200):
            y.unit(f"未抽到的企业{k:03d}")
    db.session.commit()
    culprits["reinspection"] = reinspection.id
    return culprits


def _by_id(data):
    return {r["id"]: r for r in data["rules"]}


@pytest.fixture
def req(app):
    with app.test_request_context("/"):
        yield app


def test_clean_year_shows_no_breach(req):
    seed_year()
    data = year_compliance(YEAR, today=date(YEAR + 1, 3, 1))
    rules = _by_id(data)
    assert set(rules) == set(BREACHES)
    assert {rid: r["ok"] for rid, r in rules.items()} == {rid: True for rid in BREACHES}
    assert all(r["shortfall"] == 0 for r in rules.values())
    assert data["breaches"] == 0 and data["over"]
    assert rules["R8"]["progress"] == {"value": 3, "max": 3}  # the suspended key unit is not asked for
    assert rules["R9"]["progress"] == {"value": 2, "max": 2}
    assert rules["R6"]["progress"] == {"value": 2, "max": 2}  # 8 of 40 operating units; 5 % is 2
    assert rules["R7"]["progress"] == {"value": 7, "max": 10, "target": 7}  # the expired item is not in force
    assert rules["R19"]["counts"]["total"] == 15  # 14 random and complaint checks and the re-inspection
    assert rules["R20"]["counts"]["total"] == 14  # a re-inspection publishes nothing


@pytest.mark.parametrize("rule", BREACHES)
def test_one_breach_shows_that_breach_and_nothing_else(req, rule):
    seed_year(breaks=(rule,))
    rules = _by_id(year_compliance(YEAR, today=date(YEAR + 1, 3, 1)))
    assert {rid for rid, r in rules.items() if r["ok"] is not True} == {rule}
    assert rules[rule]["ok"] is False
    # R6: 8 units inspected; 5 % of 240 operating units is 12. R7: 7 of 11 items, 8 needed.
    assert rules[rule]["shortfall"] == (4 if rule == "R6" else 1)


def test_every_breach_at_once(req):
    seed_year(breaks=BREACHES)
    data = year_compliance(YEAR, today=date(YEAR + 1, 3, 1))
    rules = _by_id(data)
    assert data["breaches"] == 8
    for rid in ("R5", "R7", "R8", "R9", "R10", "R19", "R20"):
        assert rules[rid]["shortfall"] == 1, rid
    # R6: 11 units inspected at random; 5 % of 245 operating units is 13.
    assert rules["R6"]["shortfall"] == 2
    assert rules["R7"]["progress"] == {"value": 7, "max": 11, "target": 8}


def test_while_the_year_runs_unmet_rules_show_progress_not_a_breach(req):
    seed_year(breaks=("R8", "R19"))
    data = year_compliance(YEAR, today=date(YEAR, 12, 1))
    rules = _by_id(data)
    assert not data["over"] and data["days_left"] == 31
    assert rules["R8"]["ok"] is None and rules["R8"]["shortfall"] == 1  # 31 days left to inspect it
    assert rules["R19"]["ok"] is False  # a late feedback stays late
    assert rules["R6"]["ok"] is True  # already reached: it cannot be undone
    assert rules["R10"]["ok"] is None  # no breach yet, but a third check may still come


def _login(client, ctx, role):
    if not db.session.scalar(select(User.id).where(User.username == role)):
        make_role_users()
    login(client, role)


def _task_links(body: str) -> list[str]:
    return re.findall(r'href="/review/(\d+)"', body)


def test_lists_lead_to_exactly_the_rows_behind_each_breach(client, ctx):
    found = seed_year(breaks=BREACHES)
    _login(client, ctx, R.ADMIN)
    page = client.get(f"/brigade/dashboard?year={YEAR}").get_data(as_text=True)
    for rid in BREACHES:
        assert f'data-rule="{rid}" data-ok="no"' in page, rid
    assert not re.search(r">[^<]*\bR(5|6|7|8|9|10|19|20)\b[^<]*<", page)  # rules said in words, not ids

    def listing(kind):
        resp = client.get(f"/brigade/dashboard/{kind}?year={YEAR}")
        assert resp.status_code == 200
        return resp.get_data(as_text=True)

    key = listing("key")
    assert found["R8"] in key and "重点单位0" not in key and "三查的重点单位" not in key and "停业" not in key
    black = listing("blacklisted")
    assert found["R9"] in black and "黑名单单位0" not in black
    over = listing("over-cap")
    assert found["R10-name"] in over and "两次抽查的普通企业" not in over and "高风险单位" not in over
    assert sorted(_task_links(over)) == sorted(str(i) for i in found["R10"])
    late_told = listing("feedback")
    assert _task_links(late_told) == [str(found["R19"])]
    late_pub = listing("publication")
    assert _task_links(late_pub) == [str(found["R20"])]
    items = listing("items")
    assert found["R7"] in items and "事项N-0" in items and "事项R-0" not in items and "事项OLD" not in items
    changes = listing("changes")
    assert found["R5"] in changes and "调整第一批时间" not in changes
    checked = listing("checked")
    assert "一次抽查的普通企业" in checked and "普通企业010" not in checked and "未检查的重点单位" not in checked


def test_clean_year_lists_are_empty(client, ctx):
    seed_year()
    _login(client, ctx, R.BRIGADE_LEAD)
    page = client.get(f"/brigade/dashboard?year={YEAR}").get_data(as_text=True)
    assert 'data-ok="no"' not in page and 'class="shortfall"' not in page
    for kind in ("key", "blacklisted", "over-cap", "feedback", "publication", "changes"):
        body = client.get(f"/brigade/dashboard/{kind}?year={YEAR}").get_data(as_text=True)
        assert not _task_links(body) and not re.search(r'href="/(enterprises|plans)/\d', body), kind


def test_only_the_office_and_the_brigade_lead(client, ctx):
    seed_year()
    for role in (R.TEAM_LEAD, R.INSPECTOR):
        _login(client, ctx, role)
        assert client.get("/brigade/dashboard").status_code == 403
        assert client.get(f"/brigade/dashboard/key?year={YEAR}").status_code == 403
        client.post("/logout")
    _login(client, ctx, R.ADMIN)
    assert client.get("/brigade/dashboard/nonsense").status_code == 404
    resp = client.get("/brigade/dashboard?year=abc")  # a bad year: this year, said so
    assert resp.status_code == 200 and "flash error" in resp.get_data(as_text=True)
    assert client.get("/brigade/dashboard?year=99999999999999999999").status_code == 200
