"""The demo county's finished batch (issue #13 point 6): run through the real services under the demo
clock, it holds tasks in every phase, hazards open, closed and overdue, feedback (R19) and publication
(R20) on time and late, early outcomes (R17), and an audit chain written in time order that verifies."""
import math
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from webapp.audit.models import AuditEntry
from webapp.audit.services import verify
from webapp.auth.models import User
from webapp.db_types import SHANGHAI, today_shanghai, utcnow
from webapp.demo.finished import FINISHED_TITLE, at, demo_clock, timeline
from webapp.draws.models import Batch, Plan
from webapp.extensions import db
from webapp.publication.models import PublishedResult
from webapp.publication.services import publication_due
from webapp.review.models import Feedback, Hazard
from webapp.review.services import feedback_due
from webapp.sync.models import SyncRecord
from webapp.tasks import phase as P
from webapp.tasks.models import Task


def _seed(app, today: date):
    """seed-demo as if run on ``today`` at 10:00 in Shanghai."""
    with demo_clock(at(today, 10)):
        result = app.test_cli_runner().invoke(args=["seed-demo", "--enterprises", "300"])
        assert result.exit_code == 0, result.output
        assert today_shanghai() == today
    return result.output


def _finished() -> Batch:
    return db.session.scalar(select(Batch).where(Batch.title == FINISHED_TITLE))


def test_timeline_places_the_batch_in_the_past_and_in_one_plan_year():
    late = timeline(date(2026, 11, 25))
    assert late.this_year and late.window_end == date(2026, 9, 11) and late.window_start.year == 2026
    january = timeline(date(2026, 1, 12))
    assert not january.this_year and january.year == 2025
    assert january.window_start.year == january.window_end.year == 2025
    assert january.window_end <= date(2025, 12, 18) and january.history_start < january.window_start
    spring = timeline(date(2026, 4, 1))  # the window would start in the last days of 2025: last year's
    assert spring.year == 2025 and spring.window_end <= date(2025, 12, 18)


def test_demo_clock_moves_every_service_now_and_only_forward():
    real = utcnow()
    with demo_clock(at(date(2025, 3, 3), 9)) as clock:
        assert today_shanghai() == date(2025, 3, 3)
        assert utcnow().astimezone(SHANGHAI).hour == 9
        clock.set(at(date(2025, 3, 5), 14))
        assert today_shanghai() == date(2025, 3, 5)
        before = utcnow()
        clock.set(at(date(2025, 3, 4), 14))  # never backwards: the audit chain stays in time order
        assert utcnow() > before
    assert utcnow() >= real
    with demo_clock(at(date(2025, 3, 3), 9), ticking=False):  # the replay's clock: the story's own times
        assert utcnow() == utcnow() == at(date(2025, 3, 3), 9)


def test_finished_batch_tells_a_whole_story(app, ctx):
    today = date(2025, 11, 25)
    output = _seed(app, today)
    for username in ("hazchem", "gongmao", "coal"):
        assert username in output
        user = db.session.scalar(select(User).where(User.username == username))
        assert user.role == "team_lead" and user.department.name.endswith("监督管理股")
    batch = _finished()
    assert batch.plan.year == 2025 and batch.window_end < today - timedelta(days=60)
    tasks = db.session.scalars(select(Task).where(Task.batch_id == batch.id)).all()
    random_tasks = [t for t in tasks if t.kind == "random"]
    assert 15 <= len(random_tasks) <= 80
    phases = Counter(P.phases(random_tasks).values())
    # Most published; one approved and never published; one awaiting review; one returned; none started.
    assert phases["published"] > len(random_tasks) / 2
    assert phases["approved"] >= 1 and phases["submitted"] >= 1 and phases["returned"] >= 1
    assert sum(t.overdue_on(today) for t in random_tasks) >= 1
    returned = set(db.session.scalars(select(AuditEntry.object_id).where(AuditEntry.action == "task.return")))
    assert any(str(t.id) in returned and t.review_state == "approved" for t in random_tasks)  # resubmitted
    assert any(t.kind == "reinspection" and t.review_state == "approved" for t in tasks)
    # Early outcomes (R17 and the unit gone).
    outcomes = Counter(r.data["outcome"] for r in db.session.scalars(select(SyncRecord).where(
        SyncRecord.kind == "outcome", SyncRecord.task_id.in_([t.id for t in random_tasks]))))
    assert outcomes["non_cooperation"] == outcomes["closed"] == outcomes["not_found"] == 1
    assert outcomes["completed"] > 10
    # Check-ins near the enterprise, signatures drawn, 'no' answers with notes.
    records = db.session.scalars(select(SyncRecord).where(SyncRecord.task_id.in_([t.id for t in tasks]))).all()
    by_task = {t.id: t for t in tasks}
    for r in (r for r in records if r.kind == "checkin"):
        e = by_task[r.task_id].enterprise
        metres = math.hypot((r.data["lat"] - e["lat"]) * 111_000,
                            (r.data["lng"] - e["lng"]) * 111_000 * math.cos(math.radians(e["lat"])))
        assert metres < 200
    assert all(r.data.get("image") or r.data.get("refused") for r in records if r.kind == "signature")
    fails = [r for r in records if r.kind == "answer" and r.data.get("result") == "no"]
    assert fails and all(len(r.data.get("note") or "") > 5 for r in fails)
    # Hazards: both grades, closed at re-inspection by someone outside the group, open, overdue, escalated.
    hazards = db.session.scalars(select(Hazard).where(Hazard.batch_id == batch.id)).all()
    assert {h.grade for h in hazards} == {"general", "major"}
    closed = [h for h in hazards if h.status == "closed"]
    assert closed and all(h.closed_by and h.rectified and h.reinspection_task_id for h in closed)
    assert any(h.is_open and not h.overdue_on(today) for h in hazards)  # given more time
    assert any(h.overdue_on(today) for h in hazards)
    assert sum(1 for h in hazards if h.escalation) == 1
    assert any(h.plan for h in hazards) and any(h.supervised_by for h in hazards)
    # Feedback (R19) and publication (R20): mostly on time, some late, some never.
    feedback = {f.task_id: f for f in db.session.scalars(select(Feedback))}
    fb = Counter()
    for t in tasks:
        due, _prov = feedback_due(t)
        if due is not None:
            f = feedback.get(t.id)
            fb["missing" if f is None else "late" if f.given_on > due else "on_time"] += 1
    assert fb["on_time"] > fb["late"] >= 1 and fb["missing"] >= 1
    published = {r.task_id: r for r in db.session.scalars(select(PublishedResult))}
    pub = Counter()
    for t in random_tasks:
        due, _prov = publication_due(t)
        if due is not None and t.review_state == "approved":
            r = published.get(t.id)
            pub["missing" if r is None else "late" if r.published_at.astimezone(SHANGHAI).date() > due
                else "on_time"] += 1
    assert pub["on_time"] > pub["late"] >= 1 and pub["missing"] >= 1
    # Everything happened before today, and the audit chain was written in time order and verifies.
    start_of_today = at(today, 0)
    stamps = ([r.received_at for r in records] + [t.completed_at for t in tasks if t.completed_at]
              + [r.published_at for r in published.values()] + [h.closed_at for h in closed])
    assert stamps and max(stamps) < start_of_today
    times = db.session.scalars(select(AuditEntry.at).order_by(AuditEntry.id)).all()
    assert times == sorted(times)
    assert verify().ok
    # This year's plan goes on: the finished batch first, the current batch drawn today.
    plan = batch.plan
    assert [b.seq for b in plan.batches][:2] == [1, 2] and plan.batches[1].draws
    assert plan.batches[1].draws[0].committed_at.astimezone(SHANGHAI).date() == today


def test_in_january_the_finished_batch_is_last_years(app, ctx):
    today = date(2026, 1, 12)
    _seed(app, today)
    batch = _finished()
    assert batch.plan.year == 2025 and batch.window_end.year == 2025
    assert not any(b.draws for b in batch.plan.batches[1:])
    this_year = db.session.scalar(select(Plan).where(Plan.year == 2026))
    assert this_year.state == "published" and this_year.batches[0].draws
    assert this_year.batches[0].window_start == today
    hazards = db.session.scalars(select(Hazard).where(Hazard.batch_id == batch.id)).all()
    assert any(h.status == "closed" for h in hazards) and any(h.overdue_on(today) for h in hazards)
    last = db.session.scalar(select(AuditEntry.at).where(AuditEntry.action == "task.approve")
                             .order_by(AuditEntry.at.desc()).limit(1))
    assert last < at(today, 0)
    assert verify().ok


def test_a_seed_that_fails_part_way_says_the_database_is_partial(app, ctx, monkeypatch):
    """Review finding: the replay commits step by step; a failure must not end in silence, or the next run's
    'already holds enterprises' would leave a newcomer with half a demo."""
    from webapp.demo import cli

    def broken(*args, **kwargs):
        raise RuntimeError("a sync record was refused")

    monkeypatch.setattr(cli, "seed_history", broken)
    result = app.test_cli_runner().invoke(args=["seed-demo", "--enterprises", "50"])
    assert result.exit_code == 1
    assert "failed part-way" in result.output and "a sync record was refused" in result.output
