"""The administrator's holiday calendar for years ``chinesecalendar`` lacks, and each person's page of
what is due and overdue (issue #5 §8)."""
from datetime import date

from flask import Blueprint, Flask, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import exists, select

from . import roles as R
from .access import roles
from .db_types import today_shanghai
from .extensions import db
from .flashing import flash_step
from .services import ServiceError
from .workdays import CalendarDay, CalendarYear, confirm_year, enter_day, known_year, remove_day

bp = Blueprint("deadlines", __name__)


@bp.get("/calendar/")
@roles(R.ADMIN)
def calendar():
    """This year and the next two: built in, or entered here (休 and 班 days) and confirmed."""
    this = today_shanghai().year
    years = []
    for year in range(this, this + 3):
        days = db.session.scalars(select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1),
                                                            CalendarDay.day <= date(year, 12, 31))
                                  .order_by(CalendarDay.day)).all()
        years.append({"year": year, "known": known_year(year), "days": days,
                      "confirmed": db.session.get(CalendarYear, year)})
    return render_template("deadlines/calendar.html", years=years)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ServiceError(_("Enter a date."), "day") from None


@bp.post("/calendar/days")
@roles(R.ADMIN)
def calendar_day():
    form = request.form
    return flash_step(lambda: enter_day(_day(form.get("day", "")), form.get("kind") == "workday", form.get("note", ""),
                                        current_user),
                      _("Saved; open deadlines were recomputed."), url_for("deadlines.calendar"))


@bp.post("/calendar/days/<day>/remove")
@roles(R.ADMIN)
def calendar_day_remove(day: str):
    return flash_step(lambda: remove_day(_day(day), current_user), _("Removed; open deadlines were recomputed."),
                      url_for("deadlines.calendar"))


@bp.post("/calendar/<int:year>/confirm")
@roles(R.ADMIN)
def calendar_confirm(year: int):
    return flash_step(lambda: confirm_year(year, current_user),
                      _("%(y)d confirmed: its deadlines are no longer provisional.", y=year), url_for("deadlines.calendar"))


@bp.get("/due/")
@roles(*R.ALL)
def due():
    """What is due, soonest first, overdue marked: the caller's own tasks; for reviewers also reviews,
    feedback (R19), publication (R20) and overdue hazards of their groups."""
    from .publication.models import PublishedResult
    from .publication.services import publication_due
    from .review.models import Feedback, Hazard
    from .review.services import feedback_due
    from .tasks.models import Task, with_members
    from .tasks.policy import task_scope

    today = today_shanghai()
    rows = []  # (date, provisional, kind label, task or hazard, url)
    scoped = task_scope(current_user, select(Task)).where(Task.status == "dispatched")
    if current_user.role == R.INSPECTOR:
        for t in db.session.scalars(scoped.where(Task.review_state.in_(("open", "returned"))).options(with_members())):
            rows.append((t.due_date, False, _("Inspection") if t.review_state == "open" else _("Correction"),
                         t.enterprise.get("name", ""), url_for("tasks.show", task_id=t.id)))
    else:
        base = scoped.where(Task.completed_at.is_not(None), Task.kind != "reinspection")
        told = exists(select(Feedback.id).where(Feedback.task_id == Task.id))
        for t in db.session.scalars(base.where(~told)):
            day, provisional = feedback_due(t)
            rows.append((day, provisional, _("Feedback (R19)"), t.enterprise.get("name", ""),
                         url_for("review.task", task_id=t.id)))
        public = exists(select(PublishedResult.id).where(PublishedResult.task_id == Task.id))
        for t in db.session.scalars(base.where(Task.review_state == "approved", ~public)):
            day, provisional = publication_due(t)
            rows.append((day, provisional, _("Publication (R20)"), t.enterprise.get("name", ""),
                         url_for("review.task", task_id=t.id)))
        overdue = task_scope(current_user, select(Hazard).join(Task, Task.id == Hazard.task_id)).where(
            Hazard.overdue_on(today)).order_by(Hazard.deadline).limit(200)
        for h in db.session.scalars(overdue):
            rows.append((h.deadline, False, _("Hazard past its deadline"), f"{h.enterprise_name} · {h.description}",
                         url_for("review.task", task_id=h.task_id)))
    rows.sort(key=lambda r: r[0])
    return render_template("deadlines/due.html", rows=rows, today=today)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
