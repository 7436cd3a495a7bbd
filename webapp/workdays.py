"""Chinese working days: the one deadline engine (R5 plan changes, R19 feedback, R20 publication).

Years the State Council has published are in ``chinesecalendar``. For a year the package lacks, the
administrator enters that year's holidays and adjusted workdays (调休) as they are announced
(``CalendarDay``) and confirms the year once complete (``CalendarYear``). Until then weekdays count,
corrected by whatever days are entered, and every deadline that touches the year is marked provisional.
The day of the event itself is never counted.
"""
from datetime import date, datetime, timedelta

import chinese_calendar
from flask_babel import gettext as _
from sqlalchemy import Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from .db_types import SHANGHAI, UTCDateTime, utcnow
from .extensions import db


class CalendarDay(db.Model):
    """A day the administrator entered for a year ``chinesecalendar`` does not know: 休 or 班."""
    __tablename__ = "calendar_day"
    day: Mapped[date] = mapped_column(primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(100), default="")
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarYear(db.Model):
    """The administrator's word that a year's holidays and adjusted workdays are all entered."""
    __tablename__ = "calendar_year"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def known_year(year: int) -> bool:
    """Whether ``chinesecalendar`` holds the State Council's arrangement for ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


class Calendar:
    """Working days with the administrator's entries, read once per year asked about."""

    def __init__(self):
        self._years: dict[int, tuple[dict[date, bool], bool]] = {}
        #: Each day's answer, once asked (``chinesecalendar`` re-validates its range on every call: a
        #: summary's few dozen deadlines ask about the same days over and over).
        self._days: dict[date, tuple[bool, bool]] = {}

    def _year(self, year: int) -> tuple[dict[date, bool], bool]:
        if year not in self._years:
            days = dict(db.session.execute(select(CalendarDay.day, CalendarDay.workday).where(
                CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))).all())
            confirmed = db.session.get(CalendarYear, year) is not None
            self._years[year] = (days, confirmed)
        return self._years[year]

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(is a working day, provisional)."""
        if day not in self._days:
            try:
                self._days[day] = chinese_calendar.is_workday(day), False
            except NotImplementedError:
                days, confirmed = self._year(day.year)
                self._days[day] = days.get(day, day.weekday() < 5), not confirmed
        return self._days[day]

    def add_working_days(self, start: date, days: int) -> tuple[date, bool]:
        day, counted, provisional = start, 0, False
        while counted < days:
            day += timedelta(days=1)
            workday, guessed = self.is_workday(day)
            provisional = provisional or guessed
            counted += workday
        return day, provisional


def add_working_days(start: date, days: int) -> tuple[date, bool]:
    """The date ``days`` working days after ``start``; the day of the event itself is not counted."""
    return Calendar().add_working_days(start, days)


# --- the administrator's entries -------------------------------------------------------------------

def enter_day(day: date, workday: bool, note: str, user) -> None:
    """Enter (or change) one day of a year the package lacks; open deadlines are recomputed."""
    from .audit.services import record
    from .services import ServiceError, transaction

    if known_year(day.year):
        raise ServiceError(_("The State Council calendar for %(y)d is already built in.", y=day.year), "day")
    with transaction():
        row = db.session.get(CalendarDay, day)
        before = {"workday": row.workday, "note": row.note} if row else None
        if row is None:
            row = CalendarDay(day=day, workday=workday)
            db.session.add(row)
        row.workday, row.note, row.entered_by, row.entered_at = workday, (note or "").strip()[:100], user.id, utcnow()
        db.session.flush()
        record("calendar.day", "calendar_day", day.isoformat(), before, {"workday": workday, "note": row.note})
        recompute_open_deadlines()


def remove_day(day: date, user) -> None:
    from .audit.services import record
    from .services import transaction

    with transaction():
        row = db.session.get(CalendarDay, day)
        if row is None:
            return
        record("calendar.day_remove", "calendar_day", day.isoformat(), {"workday": row.workday, "note": row.note}, None)
        db.session.delete(row)
        db.session.flush()
        recompute_open_deadlines()


def confirm_year(year: int, user) -> None:
    from .audit.services import record
    from .services import transaction

    with transaction():
        if db.session.get(CalendarYear, year) is None:
            db.session.add(CalendarYear(year=year, confirmed_by=user.id))
            db.session.flush()
            record("calendar.confirm", "calendar_year", year, None, {"year": year})
        recompute_open_deadlines()


def recompute_open_deadlines() -> int:
    """Stored deadlines that are still open move with the calendar (R5 plan changes not yet published).
    Deadlines computed when shown (R19 feedback, R20 publication) need nothing. In the caller's
    transaction; returns how many moved."""
    from .audit.services import record_many
    from .draws.models import PlanChange
    from .draws.plans import R5_CHANGE_DAYS

    calendar, moved = Calendar(), []
    for change in db.session.scalars(select(PlanChange).where(PlanChange.published_at.is_(None))):
        due, provisional = calendar.add_working_days(change.at.astimezone(SHANGHAI).date(), R5_CHANGE_DAYS)
        if (due, provisional) != (change.publish_due, change.provisional):
            moved.append(("plan_change.recompute", "plan_change", change.id,
                          {"publish_due": change.publish_due, "provisional": change.provisional},
                          {"publish_due": due, "provisional": provisional}))
            change.publish_due, change.provisional = due, provisional
    record_many(moved)
    return len(moved)
