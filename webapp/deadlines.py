"""The administrator's holiday calendar for years ``chinesecalendar`` lacks, and each person's page of
what is due and overdue (issue #5 §8)."""
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Flask, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import exists, select

from . import roles as R
from .access import roles
from .db_types import today_shanghai
from .extensions import db
from .inputs import date_arg
from .flashing import flash_step
from .services import ServiceError
from .workdays import Calendar, CalendarDay, CalendarYear, confirm_year, enter_day, known_year, remove_day

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
        return date_arg(value)  # issue #11 point 13: a calendar day in the years deadlines can reach
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


@dataclass
class Due:
    day: date
    provisional: bool
    kind: str  #: inspection, correction, feedback (R19), publication (R20), hazard
    what: str
    task_id: int


def due_items(user, today: date) -> list[Due]:
    """What ``user`` owes, soonest first: an inspector their own inspections and corrections; a reviewer
    the feedback (R19) and publications (R20) of their groups' inspections and their overdue hazards."""
    from .publication.models import PublishedResult
    from .publication.services import publication_due
    from .review.models import Feedback, Hazard
    from .review.services import feedback_due
    from .tasks.models import Task
    from .tasks.policy import task_scope

    items, calendar = [], Calendar()  # one calendar: a year it lacks is read once, not once per row
    scoped = task_scope(user, select(Task)).where(Task.status == "dispatched")
    if user.role == R.INSPECTOR:
        for t in db.session.scalars(scoped.where(Task.review_state.in_(("open", "returned")))):
            items.append(Due(t.due_date, False, "inspection" if t.review_state == "open" else "correction",
                             t.enterprise.get("name", ""), t.id))
    else:
        done = scoped.where(Task.completed_at.is_not(None))
        told = exists(select(Feedback.id).where(Feedback.task_id == Task.id))
        for t in db.session.scalars(done.where(~told)):
            items.append(Due(*feedback_due(t, calendar), "feedback", t.enterprise.get("name", ""), t.id))
        public = exists(select(PublishedResult.id).where(PublishedResult.task_id == Task.id))
        for t in db.session.scalars(done.where(Task.review_state == "approved", Task.kind != "reinspection", ~public)):
            items.append(Due(*publication_due(t, calendar), "publication", t.enterprise.get("name", ""), t.id))
        overdue = task_scope(user, select(Hazard).join(Task, Task.id == Hazard.task_id)).where(
            Hazard.overdue_on(today)).order_by(Hazard.deadline).limit(200)
        for h in db.session.scalars(overdue):
            items.append(Due(h.deadline, False, "hazard", f"{h.enterprise_name} · {h.description}", h.task_id))
    return sorted(items, key=lambda d: d.day)


@bp.get("/due/")
@roles(*R.ALL)
def due():
    """Each person's page of what is due and overdue."""
    labels = {"inspection": _("Inspection"), "correction": _("Correction"), "feedback": _("Feedback to the enterprise"),
              "publication": _("Publication"), "hazard": _("Hazard past its deadline")}
    rows = [(d.day, d.provisional, labels[d.kind], d.what,
             url_for("tasks.show" if d.kind in ("inspection", "correction") else "review.task", task_id=d.task_id))
            for d in due_items(current_user, today_shanghai())]
    return render_template("deadlines/due.html", rows=rows, today=today_shanghai())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
