import pytest
from datetime import date
from motcua.core.models import Holiday
from motcua.core.calendar import work_calendar

@pytest.mark.django_db
def test_probe():
    print(list(Holiday.objects.filter(day__gte=date(2026,11,1), day__lte=date(2026,12,31)).values_list("day","kind","name")))
    c = work_calendar()
    print(c.is_working_day(date(2026,11,24)))
