"""Working days: dossier deadlines are counted in them (Labour Code 2019 Art. 112).

Monday to Friday are worked and Saturday and Sunday are not, except where a `Holiday` row says
otherwise: a public holiday or a day off on a weekday, or a weekend day that is worked. The
government shifts days every year, so the calendar is data an administrator edits;
`holidays_seed` fills it from the `holidays` package, whose Vietnamese lunar calendar is computed
at UTC+7 (Tết 2030 falls on 2 February in Vietnam, on 3 February in China).
"""

from __future__ import annotations

import time as clock
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.utils.translation import gettext as _

from motcua.core.errors import ValidationFailed
from motcua.core.models import Holiday
from motcua.core.text import nfc

CIVIL_STATUS_CUTOFF = time(15, 0)
SEED_FIRST_YEAR, SEED_LAST_YEAR = 2015, 2040

SATURDAY = 5
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkCalendar:
    days_off: frozenset[date]  # days not worked: holidays, days off (a weekend one changes nothing)
    workdays: frozenset[date]  # weekend days that are worked

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < SATURDAY and day not in self.days_off

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day."""
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after next_working_day(start). Linear in the days crossed
        (a few set lookups each), with no query."""
        if days < 0:
            raise ValueError(f"days must be >= 0, not {days}")
        day = self.next_working_day(start)
        for _attempt in range(days):
            day = self.next_working_day(day + ONE_DAY)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """The number of working days d with start < d <= end (0 if end <= start)."""
        if end <= start:
            return 0
        weekdays = _weekdays_through(end) - _weekdays_through(start)
        return (
            weekdays
            - _count_after(self._weekdays_off, start, end)
            + _count_after(self._weekend_workdays, start, end)
        )

    def appointment(self, received_at: datetime, days: int, *, cutoff: time | None = None) -> date:
        """The due date of a dossier received at `received_at` (timezone-aware), taking `days`
        working days. Received at or after `cutoff` (local time), it counts from the next day."""
        if received_at.utcoffset() is None:
            raise ValueError("received_at must be timezone-aware")
        local = received_at.astimezone(ZoneInfo(settings.TIME_ZONE))
        day = local.date()
        if cutoff is not None and local.time() >= cutoff:
            day += ONE_DAY
        return self.add_working_days(day, days)

    @cached_property
    def _weekdays_off(self) -> tuple[date, ...]:
        return tuple(sorted(d for d in self.days_off - self.workdays if d.weekday() < SATURDAY))

    @cached_property
    def _weekend_workdays(self) -> tuple[date, ...]:
        return tuple(sorted(d for d in self.workdays if d.weekday() >= SATURDAY))


def _weekdays_through(day: date) -> int:
    """Monday-to-Friday days from 0001-01-01 (a Monday, ordinal 1) to `day` inclusive."""
    weeks, rest = divmod(day.toordinal(), 7)
    return 5 * weeks + min(rest, 5)


def _count_after(days: tuple[date, ...], start: date, end: date) -> int:
    """How many of the sorted `days` fall in (start, end]."""
    return bisect_right(days, end) - bisect_right(days, start)


# Loaded once, then kept CACHE_SECONDS: deadlines are computed at every submission, so the hot
# path makes no query. The admin calls calendar_reset() on commit, so an edit applies at once in
# its own process and within a minute in the others; holidays are decided weeks ahead, so that
# minute is harmless, whereas checking the table for changes would cost a query per call.
CACHE_SECONDS = 60.0
_cache: tuple[float, WorkCalendar] | None = None


def work_calendar() -> WorkCalendar:
    global _cache
    now = clock.monotonic()
    if _cache is None or now - _cache[0] > CACHE_SECONDS:
        _cache = (now, _calendar_load())
    return _cache[1]


def calendar_reset() -> None:
    global _cache
    _cache = None


def _calendar_load() -> WorkCalendar:
    days_off: set[date] = set()
    workdays: set[date] = set()
    for day, kind in Holiday.objects.values_list("day", "kind"):
        (workdays if kind == Holiday.Kind.WORKDAY else days_off).add(day)
    return WorkCalendar(days_off=frozenset(days_off), workdays=frozenset(workdays))


# The `holidays` package names a weekday given in exchange for a worked weekend day
# "Ngày nghỉ (thay cho ngày 26/04/2025)".
SUBSTITUTE_MARK = "thay cho ngày"


def holidays_seed(first_year: int, last_year: int) -> int:
    """Insert the days the `holidays` package knows for these years and the table lacks; days
    already there, perhaps edited by an administrator, are left alone. Returns how many were
    added. The data migration runs a frozen copy of this."""
    _check_years(first_year, last_year)
    rows = _package_days(first_year, last_year)
    existing = set(
        Holiday.objects.filter(day__in=[row.day for row in rows]).values_list("day", flat=True)
    )
    missing = [row for row in rows if row.day not in existing]
    Holiday.objects.bulk_create(missing, ignore_conflicts=True)
    calendar_reset()
    return len(missing)


def _check_years(first_year: int, last_year: int) -> None:
    known = range(holidays.VN.start_year, holidays.VN.end_year + 1)
    errors = {
        flag: _("năm ngoài %(start)s–%(value)s") % {"start": known.start, "value": known.stop - 1}
        for flag, year in (("from", first_year), ("to", last_year))
        if year not in known
    }
    if not errors and first_year > last_year:
        errors["to"] = _("năm kết thúc trước năm bắt đầu")
    if errors:
        raise ValidationFailed(errors)


def _package_days(first_year: int, last_year: int) -> list[Holiday]:
    """The days off and worked weekend days of these years, as the `holidays` package has them
    (unsaved rows, one per day, in order)."""
    years = range(first_year, last_year + 1)
    language = "vi" if "vi" in holidays.VN.supported_languages else None  # else default names
    observed = holidays.VN(years=years, language=language)
    statutory = holidays.VN(years=years, language=language, observed=False)
    rows = {
        day: Holiday(day=day, name=nfc(name), kind=_kind(day, name, statutory))
        for day, name in observed.items()
    }
    for day in _weekend_days(first_year, last_year):
        if day not in rows and observed.is_working_day(day):
            rows[day] = Holiday(
                day=day, name=_workday_name(day, observed), kind=Holiday.Kind.WORKDAY
            )
    return [rows[day] for day in sorted(rows)]


def _kind(day: date, name: str, statutory: holidays.HolidayBase) -> Holiday.Kind:
    """A day moved off a weekend (observed) is absent without observance; a substituted day is
    named after the weekend day worked in exchange."""
    shifted = day not in statutory or SUBSTITUTE_MARK in name
    return Holiday.Kind.DAY_OFF if shifted else Holiday.Kind.HOLIDAY


def _weekend_days(first_year: int, last_year: int) -> Iterator[date]:
    day, end = date(first_year, 1, 1), date(last_year, 12, 31)
    while day <= end:
        if day.weekday() >= SATURDAY:
            yield day
        day += ONE_DAY


def _workday_name(day: date, observed: holidays.HolidayBase) -> str:
    mark = day.strftime("%d/%m/%Y")
    swapped = [other for other, name in observed.items() if mark in name]
    if not swapped:
        return "Ngày làm bù"
    return f"Ngày làm bù (cho ngày nghỉ {swapped[0]:%d/%m/%Y})"
