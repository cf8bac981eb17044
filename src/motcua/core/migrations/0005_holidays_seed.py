"""Fill the working-day calendar for 2015–2040 from the `holidays` package.

A frozen copy of `motcua.core.calendar.holidays_seed` (a migration must not import live code):
only days the table lacks are inserted. `test_calendar` checks the two still agree.
"""

import unicodedata
from datetime import date, timedelta

import holidays
from django.db import migrations

FIRST_YEAR, LAST_YEAR = 2015, 2040
SUBSTITUTE_MARK = "thay cho ngày"


def _kind(day, name, statutory):
    return "day_off" if day not in statutory or SUBSTITUTE_MARK in name else "holiday"


def _weekend_days(first_year, last_year):
    day, end = date(first_year, 1, 1), date(last_year, 12, 31)
    while day <= end:
        if day.weekday() >= 5:
            yield day
        day += timedelta(days=1)


def _workday_name(day, observed):
    mark = day.strftime("%d/%m/%Y")
    swapped = [other for other, name in observed.items() if mark in name]
    if not swapped:
        return "Ngày làm bù"
    return f"Ngày làm bù (cho ngày nghỉ {swapped[0]:%d/%m/%Y})"


def seed(apps, schema_editor):
    Holiday = apps.get_model("core", "Holiday")
    years = range(FIRST_YEAR, LAST_YEAR + 1)
    language = "vi" if "vi" in holidays.VN.supported_languages else None
    observed = holidays.VN(years=years, language=language)
    statutory = holidays.VN(years=years, language=language, observed=False)
    rows = {
        day: Holiday(
            day=day,
            name=unicodedata.normalize("NFC", name).strip(),
            kind=_kind(day, name, statutory),
        )
        for day, name in observed.items()
    }
    for day in _weekend_days(FIRST_YEAR, LAST_YEAR):
        if day not in rows and observed.is_working_day(day):
            rows[day] = Holiday(day=day, name=_workday_name(day, observed), kind="workday")
    existing = set(Holiday.objects.filter(day__in=list(rows)).values_list("day", flat=True))
    Holiday.objects.bulk_create(
        [rows[day] for day in sorted(rows) if day not in existing], ignore_conflicts=True
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0004_holiday_sequence")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
