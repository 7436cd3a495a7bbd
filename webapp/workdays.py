"""Chinese working days (R5, R19, R20) on the State Council calendar in ``chinesecalendar``.

For a year the package has no data for, weekdays count and the result is marked provisional; the
administrator's own holiday entries for such years come with issue #5's deadline engine.
"""
from datetime import date, timedelta

import chinese_calendar


def is_workday(day: date) -> tuple[bool, bool]:
    """(is a working day, provisional)."""
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        return day.weekday() < 5, True


def add_working_days(start: date, days: int) -> tuple[date, bool]:
    """The date ``days`` working days after ``start``; the day of the event itself is not counted."""
    day, counted, provisional = start, 0, False
    while counted < days:
        day += timedelta(days=1)
        workday, guessed = is_workday(day)
        provisional = provisional or guessed
        counted += workday
    return day, provisional
