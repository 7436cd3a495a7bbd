"""The deadline engine (issue #5 §8): working days on the State Council calendar, the administrator's
entries for a year the package lacks, recomputation of open deadlines; feedback (R19) and the due page."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from webapp import roles as R
from webapp.audit.models import AuditEntry
from webapp.draws.models import PlanChange
from webapp.extensions import db
from webapp.review import services as review
from webapp.services import ServiceError
from webapp.sync.services import sync
from webapp.workdays import add_working_days, confirm_year, enter_day, remove_day
from tests.factories import PASSWORD, login, make_hazard, make_plan, make_user
from tests.review.test_review import field, outcome  # noqa: F401  (field: fixture)


def test_national_day_2026_and_its_adjusted_saturday(ctx):
    # 1–7 October 2026 are off; Saturday 10 October is worked (调休). The day of the event is not counted.
    assert add_working_days(date(2026, 9, 30), 1) == (date(2026, 10, 8), False)
    assert add_working_days(date(2026, 9, 30), 3) == (date(2026, 10, 10), False)
    assert add_working_days(date(2026, 10, 9), 1) == (date(2026, 10, 10), False)


def test_2027_counts_weekdays_until_the_administrator_enters_and_confirms_it(ctx):
    admin = make_user(R.ADMIN)
    assert add_working_days(date(2026, 12, 30), 2) == (date(2027, 1, 1), True)  # a guess, and said so
    enter_day(date(2027, 1, 1), False, "元旦", admin)
    assert add_working_days(date(2026, 12, 30), 2) == (date(2027, 1, 4), True)  # still provisional
    enter_day(date(2027, 1, 9), True, "调休上班", admin)  # a Saturday worked
    assert add_working_days(date(2027, 1, 8), 1) == (date(2027, 1, 9), True)
    confirm_year(2027, admin)
    assert add_working_days(date(2026, 12, 30), 2) == (date(2027, 1, 4), False)
    remove_day(date(2027, 1, 9), admin)
    assert add_working_days(date(2027, 1, 8), 1) == (date(2027, 1, 11), False)
    with pytest.raises(ServiceError):
        enter_day(date(2026, 10, 2), True, "", admin)  # 2026 is built in: not the administrator's to change


def test_open_deadlines_move_when_the_calendar_changes(ctx):
    admin = make_user(R.ADMIN)
    plan, _batch = make_plan(approve=False)
    change = PlanChange(plan=plan, by="brigade", summary="第二批调整", at=datetime(2026, 12, 24, 2, tzinfo=timezone.utc),
                        publish_due=date(2027, 1, 7), provisional=True)
    db.session.add(change)
    db.session.commit()
    enter_day(date(2027, 1, 1), False, "元旦", admin)
    db.session.refresh(change)
    assert (change.publish_due, change.provisional) == (date(2027, 1, 8), True)  # R5: 10 working days
    moved = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "plan_change.recompute")).all()
    assert len(moved) == 1


def test_feedback_is_due_seven_working_days_after_the_inspection(field):  # noqa: F811
    task, a, lead = field["task"], field["a"], field["lead"]
    with pytest.raises(ServiceError):
        review.record_feedback(task, "2026-11-23", "on_site", "", lead)  # not submitted yet
    sync(a, [outcome(task)])
    db.session.refresh(task)
    done = review.completed_on(task)
    due, _provisional = review.feedback_due(task)
    assert due == add_working_days(done, 7)[0]
    with pytest.raises(ServiceError):
        review.record_feedback(task, "2099-01-01", "post", "", lead)  # not in the future
    with pytest.raises(ServiceError):
        review.record_feedback(task, done.isoformat(), "carrier pigeon", "", lead)
    row = review.record_feedback(task, done.isoformat(), "on_site", "现场交付检查记录", lead)
    assert (row.given_on, row.way) == (done, "on_site")


def test_the_due_page_lists_what_each_person_owes(field, app):  # noqa: F811
    task, a = field["task"], field["a"]
    make_hazard(task, a, deadline="2026-01-05", description="应急照明失效")  # long past
    sync(a, [outcome(task)])
    from webapp.db_types import today_shanghai
    from webapp.deadlines import due_items
    owed = due_items(field["lead"], today_shanghai())
    assert [d.kind for d in owed] == ["hazard", "feedback"]  # soonest first: the hazard is long overdue
    assert task.id not in [d.task_id for d in due_items(field["b"], today_shanghai())]  # submitted: not owed
    lead = app.test_client()
    login(lead, "lead", PASSWORD)
    page = lead.get("/due/").get_data(as_text=True)
    assert "向企业反馈" in page and "应急照明失效" in page and "逾期" in page  # the feedback (R19), in words
    phone_user = app.test_client()
    login(phone_user, "phone-b", PASSWORD)
    assert "向企业反馈" not in phone_user.get("/due/").get_data(as_text=True)
