"""The office calendar: business days (weekends and national holidays, by jpholiday, are not
working days) and the Japanese fiscal year (April to March)."""
from __future__ import annotations

from datetime import date, timedelta

import jpholiday


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and not jpholiday.is_holiday(day)


def business_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`."""
    days, day = 0, start
    while day < end:
        day += timedelta(days=1)
        days += is_business_day(day)
    return days


def first_business_day(year: int, month: int) -> date:
    day = date(year, month, 1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def add_business_days(day: date, count: int) -> date:
    while count > 0:
        day += timedelta(days=1)
        count -= is_business_day(day)
    return day


def fiscal_year_of(day: date) -> int:
    """The fiscal year a day belongs to, named by the year it starts in (2027-03-31 → 2026)."""
    return day.year if day.month >= 4 else day.year - 1
