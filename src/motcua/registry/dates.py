"""Dates of birth that may be known only to the month or the year ("1984-05" or "1984")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True, order=True)
class PartialDate:
    value: date  # the first day of the known period
    precision: str = "day"  # day, month or year

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """YYYY-MM-DD, YYYY-MM or YYYY; ValueError says what is wrong."""
        match = _PATTERN.match(text.strip())
        if not match:
            raise ValueError(
                _("'%(text)s' không đúng dạng YYYY-MM-DD, YYYY-MM hoặc YYYY") % {"text": text}
            )
        year, month, day = match.groups()
        try:
            value = date(int(year), int(month or 1), int(day or 1))
        except ValueError as exc:
            raise ValueError(
                _("'%(text)s' không phải ngày có thật: %(exc)s") % {"text": text, "exc": exc}
            ) from None
        precision = "day" if day else "month" if month else "year"
        return cls(value, precision)

    def __str__(self) -> str:
        parts = [f"{self.value.year:04d}", f"{self.value.month:02d}", f"{self.value.day:02d}"]
        return "-".join(parts[: {"year": 1, "month": 2, "day": 3}[self.precision]])

    @property
    def year(self) -> int:
        return self.value.year

    @property
    def latest(self) -> date:
        """The last day the true date can be: used for 'at least' rules such as parents' ages."""
        if self.precision == "day":
            return self.value
        if self.precision == "month":
            next_month = date(
                self.value.year + self.value.month // 12, self.value.month % 12 + 1, 1
            )
            return date.fromordinal(next_month.toordinal() - 1)
        return date(self.value.year, 12, 31)


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
