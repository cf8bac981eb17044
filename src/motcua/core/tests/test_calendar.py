"""The working-day calendar: the seeded data, deadline arithmetic, and administrators' edits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from pytest_django import DjangoAssertNumQueries, DjangoCaptureOnCommitCallbacks

from motcua.core.calendar import (
    CIVIL_STATUS_CUTOFF,
    WorkCalendar,
    calendar_reset,
    holidays_seed,
    work_calendar,
)
from motcua.core.models import AuditEntry, Holiday

pytestmark = pytest.mark.django_db

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST, LAST = date(2015, 1, 1), date(2040, 12, 31)
TET_DAYS = [
    day
    for day, name in holidays.VN(years=range(2015, 2041), language="vi").items()
    if name == "Tết Nguyên Đán"
]
NEAR_TET = st.builds(
    lambda tet, offset: tet + timedelta(days=offset),
    st.sampled_from(TET_DAYS),
    st.integers(-20, 20),
)
DAYS = st.one_of(st.dates(FIRST, LAST), NEAR_TET)
COUNTS = st.integers(0, 60)


@pytest.fixture(autouse=True)
def _fresh_calendar() -> Iterator[None]:
    """Each test sees its own transaction's table, not a calendar cached by another test."""
    calendar_reset()
    yield
    calendar_reset()


def _received(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=HANOI)


def _names(day: date) -> str:
    return Holiday.objects.get(day=day).name


# --- the seeded data -------------------------------------------------------------------------


def test_the_migration_seeded_every_year_from_2015_to_2040() -> None:
    years = {day.year for day in Holiday.objects.dates("day", "year")}
    assert years == set(range(2015, 2041))


@pytest.mark.parametrize(
    "tet", ["2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06", "2030-02-02"]
)
def test_tet_follows_the_vietnamese_lunar_calendar(tet: str) -> None:
    assert _names(date.fromisoformat(tet)) == "Tết Nguyên Đán"


def test_tet_2030_is_a_day_before_the_chinese_new_year() -> None:
    """The new moon of 2 Feb 2030 is at 23:07 in Hanoi and 00:07 on 3 Feb in Beijing."""
    assert _names(date(2030, 2, 1)) == "Giao thừa Tết Nguyên Đán"
    assert _names(date(2030, 2, 3)) == "Mùng hai Tết Nguyên Đán"
    china = holidays.CN(years=2030, language="en_US")
    assert china[date(2030, 2, 2)] == "Chinese New Year's Eve"
    assert china[date(2030, 2, 3)] == "Chinese New Year (Spring Festival)"


def test_hung_kings_day_and_its_observed_day() -> None:
    assert _names(date(2025, 4, 7)) == "Ngày Giỗ Tổ Hùng Vương"
    assert _names(date(2026, 4, 26)) == "Ngày Giỗ Tổ Hùng Vương"  # a Sunday
    monday = Holiday.objects.get(day=date(2026, 4, 27))
    assert monday.kind == Holiday.Kind.DAY_OFF and "nghỉ bù" in monday.name


def test_a_swapped_day_off_and_its_worked_saturday() -> None:
    friday = Holiday.objects.get(day=date(2025, 5, 2))
    saturday = Holiday.objects.get(day=date(2025, 4, 26))
    assert friday.kind == Holiday.Kind.DAY_OFF and "26/04/2025" in friday.name
    assert saturday.kind == Holiday.Kind.WORKDAY and "02/05/2025" in saturday.name
    assert work_calendar().is_working_day(date(2025, 4, 26))
    assert not work_calendar().is_working_day(date(2025, 5, 2))


def test_seeding_adds_only_missing_days_and_keeps_edited_ones() -> None:
    assert holidays_seed(2015, 2040) == 0
    Holiday.objects.filter(day=date(2026, 9, 2)).update(name="Quốc khánh (đã sửa)")
    Holiday.objects.filter(day=date(2026, 9, 1)).delete()
    assert holidays_seed(2026, 2026) == 1
    assert _names(date(2026, 9, 1)) == "Quốc khánh"
    assert _names(date(2026, 9, 2)) == "Quốc khánh (đã sửa)"


def test_the_migration_and_holidays_seed_agree() -> None:
    """The migration runs a frozen copy of holidays_seed: both must write the same rows."""
    seeded = set(Holiday.objects.values_list("day", "name", "kind"))
    Holiday.objects.all().delete()
    assert holidays_seed(2015, 2040) == len(seeded)
    assert set(Holiday.objects.values_list("day", "name", "kind")) == seeded


# --- the command ------------------------------------------------------------------------------


def test_calendar_seed_prints_how_many_days_it_added(capsys: pytest.CaptureFixture[str]) -> None:
    Holiday.objects.filter(day__year=2026).delete()
    call_command("calendar", "seed", "--from", "2026", "--to", "2026")
    added = json.loads(capsys.readouterr().out)["added"]
    assert added == Holiday.objects.filter(day__year=2026).count() > 0


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [("2030", "2020", "năm kết thúc trước năm bắt đầu"), ("1800", "2020", "năm ngoài")],
)
def test_calendar_seed_refuses_bad_years(first: str, last: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("calendar", "seed", "--from", first, "--to", last)


def test_calendar_show_lists_weekdays_off_and_worked_weekend_days(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("calendar", "show", "--year", "2026")
    shown = json.loads(capsys.readouterr().out)
    days_off = [row["day"] for row in shown["days_off"]]
    assert {"2026-02-16", "2026-02-20", "2026-04-27", "2026-08-31"} <= set(days_off)
    assert "2026-04-26" not in days_off  # Hùng Kings day on a Sunday: off anyway
    assert [row["day"] for row in shown["workdays"]] == ["2026-08-22"]


def test_calendar_show_of_a_year_without_data_says_how_to_seed_it() -> None:
    with pytest.raises(CommandError, match="calendar seed --from 2050 --to 2050"):
        call_command("calendar", "show", "--year", "2050")


# --- deadlines: examples ----------------------------------------------------------------------


def test_received_on_the_friday_before_tet() -> None:
    """Fri 13 Feb 2026, 3 working days: the weekend, Tết (16–20 Feb) and the next weekend do
    not count; Mon 23 is the first working day, Wed 25 the third."""
    calendar = work_calendar()
    assert calendar.appointment(_received(date(2026, 2, 13), time(9)), 3) == date(2026, 2, 25)
    late = _received(date(2026, 2, 13), time(16))
    assert calendar.appointment(late, 3, cutoff=CIVIL_STATUS_CUTOFF) == date(2026, 2, 26)


def test_received_on_a_saturday_counts_from_monday() -> None:
    saturday = _received(date(2026, 3, 7), time(10))
    assert work_calendar().appointment(saturday, 0) == date(2026, 3, 9)
    assert work_calendar().appointment(saturday, 3, cutoff=CIVIL_STATUS_CUTOFF) == date(2026, 3, 12)


def test_received_after_the_cutoff_on_the_eve_of_a_holiday() -> None:
    """Wed 29 Apr 2026: 30 Apr and 1 May are holidays, then a weekend."""
    calendar = work_calendar()
    before, after = (
        _received(date(2026, 4, 29), time(14, 59)),
        _received(date(2026, 4, 29), time(15)),
    )
    assert calendar.appointment(before, 1, cutoff=CIVIL_STATUS_CUTOFF) == date(2026, 5, 4)
    assert calendar.appointment(after, 1, cutoff=CIVIL_STATUS_CUTOFF) == date(2026, 5, 5)
    assert calendar.appointment(after, 1) == date(2026, 5, 4)  # no cutoff outside civil status


def test_a_worked_saturday_counts() -> None:
    assert work_calendar().appointment(_received(date(2025, 4, 25), time(9)), 1) == date(
        2025, 4, 26
    )


def test_the_appointment_is_counted_in_vietnamese_time() -> None:
    """16:30 UTC on Friday is 23:30 in Hanoi: after the cutoff, unlike 07:30 UTC (14:30)."""
    friday_evening = datetime(2026, 3, 6, 16, 30, tzinfo=UTC)
    friday_afternoon = datetime(2026, 3, 6, 7, 30, tzinfo=UTC)
    calendar = work_calendar()
    assert calendar.appointment(friday_evening, 1, cutoff=CIVIL_STATUS_CUTOFF) == date(2026, 3, 10)
    assert calendar.appointment(friday_afternoon, 1, cutoff=CIVIL_STATUS_CUTOFF) == date(2026, 3, 9)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.appointment(datetime(2026, 3, 6, 9), 1)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        work_calendar().add_working_days(date(2026, 3, 6), -1)


def test_the_hot_path_makes_no_query(django_assert_num_queries: DjangoAssertNumQueries) -> None:
    work_calendar()
    with django_assert_num_queries(0):
        for days in range(61):
            work_calendar().appointment(_received(date(2026, 2, 13), time(9)), days)


def test_other_processes_see_an_edit_once_the_cache_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An edit made elsewhere (no calendar_reset here) shows after CACHE_SECONDS."""
    tuesday = date(2026, 3, 10)
    assert work_calendar().is_working_day(tuesday)
    Holiday.objects.create(day=tuesday, name="Nghỉ đột xuất", kind=Holiday.Kind.DAY_OFF)
    assert work_calendar().is_working_day(tuesday)
    monkeypatch.setattr("motcua.core.calendar.CACHE_SECONDS", -1.0)
    assert not work_calendar().is_working_day(tuesday)


# --- deadlines: properties --------------------------------------------------------------------


@given(start=DAYS, n=COUNTS)
def test_the_due_date_is_a_working_day_outside_tet_and_weekends(start: date, n: int) -> None:
    due = work_calendar().add_working_days(start, n)
    off = set(Holiday.objects.exclude(kind=Holiday.Kind.WORKDAY).values_list("day", flat=True))
    worked = set(Holiday.objects.filter(kind=Holiday.Kind.WORKDAY).values_list("day", flat=True))
    assert work_calendar().is_working_day(due)
    assert due not in off
    assert due.weekday() < 5 or due in worked


@given(start=DAYS, n=COUNTS)
def test_working_days_between_counts_back_what_was_added(start: date, n: int) -> None:
    calendar = work_calendar()
    assert (
        calendar.working_days_between(
            calendar.next_working_day(start), calendar.add_working_days(start, n)
        )
        == n
    )


@given(start=DAYS, n=COUNTS)
def test_one_more_day_is_the_next_working_day(start: date, n: int) -> None:
    calendar = work_calendar()
    due = calendar.add_working_days(start, n)
    later = calendar.add_working_days(start, n + 1)
    assert due < later == calendar.next_working_day(due + timedelta(days=1))
    assert calendar.add_working_days(start, 0) == calendar.next_working_day(start) >= start


@given(start=DAYS, span=st.integers(-5, 120))
def test_working_days_between_matches_counting_day_by_day(start: date, span: int) -> None:
    calendar = work_calendar()
    end = start + timedelta(days=span)
    by_day = sum(
        calendar.is_working_day(start + timedelta(days=k)) for k in range(1, max(span, 0) + 1)
    )
    assert calendar.working_days_between(start, end) == by_day


@given(day=DAYS, n=COUNTS)
def test_the_cutoff_costs_one_working_day_on_a_working_day(day: date, n: int) -> None:
    calendar = work_calendar()
    before = calendar.appointment(_received(day, time(14, 59)), n, cutoff=CIVIL_STATUS_CUTOFF)
    after = calendar.appointment(_received(day, time(15)), n, cutoff=CIVIL_STATUS_CUTOFF)
    expected = 1 if calendar.is_working_day(day) else 0
    assert calendar.working_days_between(before, after) == expected


@given(day=DAYS, n=COUNTS, at=st.times())
def test_without_a_cutoff_the_hour_does_not_matter(day: date, n: int, at: time) -> None:
    calendar = work_calendar()
    assert calendar.appointment(_received(day, at), n) == calendar.add_working_days(day, n)


@given(
    days_off=st.frozensets(st.dates(date(2026, 1, 1), date(2026, 3, 31)), max_size=40),
    workdays=st.frozensets(st.dates(date(2026, 1, 1), date(2026, 3, 31)), max_size=10),
    start=st.dates(date(2025, 12, 1), date(2026, 3, 31)),
    n=COUNTS,
)
def test_any_calendar_counts_consistently(
    days_off: frozenset[date], workdays: frozenset[date], start: date, n: int
) -> None:
    """Whatever the administrators enter, even a weekday marked worked or a weekend day off."""
    calendar = WorkCalendar(days_off=days_off, workdays=workdays)
    due = calendar.add_working_days(start, n)
    assert calendar.is_working_day(due)
    assert calendar.working_days_between(calendar.next_working_day(start), due) == n


# --- the administrator's edits ------------------------------------------------------------------


@pytest.fixture
def admin_user() -> User:
    return User.objects.create_superuser("quantri")  # the conftest's admin_client signs it in


def test_an_admin_edit_takes_effect_at_once(
    admin_client: Client, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    tuesday = date(2026, 3, 10)
    assert work_calendar().is_working_day(tuesday)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/core/holiday/add/",
            {"day": "2026-03-10", "name": "Nghỉ bù đột xuất", "kind": "day_off"},
        )
    assert response.status_code == 302
    assert not work_calendar().is_working_day(tuesday)

    added = Holiday.objects.get(day=tuesday)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/admin/core/holiday/{added.pk}/delete/", {"post": "yes"})
    assert work_calendar().is_working_day(tuesday)
    actions = AuditEntry.objects.filter(object_type="holiday").values_list("action", "actor")
    assert list(actions.order_by("id")) == [
        ("holiday.add", "official:quantri"),
        ("holiday.delete", "official:quantri"),
    ]


def test_the_admin_lists_filters_and_searches(admin_client: Client) -> None:
    response = admin_client.get("/admin/core/holiday/", {"year": "2026", "kind": "workday"})
    assert response.status_code == 200 and "Ngày làm bù" in response.content.decode()
    response = admin_client.get("/admin/core/holiday/", {"q": "Hùng Vương"})
    assert response.status_code == 200 and "Giỗ Tổ" in response.content.decode()
