"""The rate in force on a day (table Rate, loaded from data/rates.json), and the amounts the
benefit decisions pay. Internal to the sector: other apps see amounts in the decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from motcua.insurance.models import Rate, RateKey, Standing


class NoRate(LookupError):
    """No row of the key is in force on the day (a day before the table starts)."""


def rate_on(key: str, day: date) -> Decimal:
    row = Rate.objects.filter(key=key, valid_from__lte=day).order_by("-valid_from").first()
    if row is None:
        raise NoRate(key, day)
    return row.value


def whole_years(start: date, end: date) -> int:
    return max(0, end.year - start.year - ((end.month, end.day) < (start.month, start.day)))


def whole_months(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    return max(0, months)


def _vnd(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Amount:
    amount: int
    basis: dict[str, str]


def funeral_amount(*, death_date: date) -> Amount:
    """Ten times the base salary of the month of death (Luật BHXH 2014 Điều 66, 2024 Điều 85)."""
    base = rate_on(RateKey.BASE_SALARY, death_date)
    times = rate_on(RateKey.FUNERAL_MULTIPLIER, death_date)
    return Amount(_vnd(base * times), {"base_salary": str(base), "multiplier": str(times)})


def survivor_one_time_amount(
    *, standing: str, since: date, death_date: date, monthly_basis: int | None
) -> Amount:
    """SIMPLIFIED (see data/rates.json): for the insured, N months of the monthly basis per whole
    year of contribution, at least the minimum; for a pensioner, 48 months of pension if they
    die within the first 2 months of it, 0.5 month less for each further month, at least the
    minimum. The monthly basis is the recorded one, else the base salary of the month of death."""
    basis = Decimal(monthly_basis) if monthly_basis else rate_on(RateKey.BASE_SALARY, death_date)
    minimum = rate_on(RateKey.SURVIVOR_MIN_MONTHS, death_date)
    if standing == Standing.PENSIONER:
        drawn = whole_months(since, death_date)
        start = rate_on(RateKey.SURVIVOR_PENSION_START_MONTHS, death_date)
        decrease = rate_on(RateKey.SURVIVOR_PENSION_DECREASE, death_date)
        months = max(minimum, start - decrease * max(0, drawn - 2))
        counted = {"months_of_pension": str(drawn)}
    else:
        years = whole_years(since, death_date)
        per_year = rate_on(RateKey.SURVIVOR_MONTHS_PER_YEAR, death_date)
        months = max(minimum, per_year * years)
        counted = {"years_of_contribution": str(years)}
    return Amount(
        _vnd(basis * months),
        {"monthly_basis": str(basis), "months": str(months), "simplified": "true", **counted},
    )


def survivor_monthly_amount(*, death_date: date) -> Amount:
    """Half the base salary a month for the relative (Luật BHXH 2014 Điều 68, simplified)."""
    base = rate_on(RateKey.BASE_SALARY, death_date)
    share = rate_on(RateKey.SURVIVOR_MONTHLY_SHARE, death_date)
    return Amount(_vnd(base * share), {"base_salary": str(base), "share": str(share)})


def survivor_monthly_min_years(day: date) -> int:
    return int(rate_on(RateKey.SURVIVOR_MONTHLY_MIN_YEARS, day))
