"""Health-insurance card codes and the validity of a child's card.

A card code has 15 characters (QĐ 1351/QĐ-BHXH 2015, as the printed cards show it):

    GG L PP NNNNNNNNNN — group ("TE": trẻ em dưới 6 tuổi), benefit level (1: 100%),
                         the 2-digit province code, the 10-digit social-insurance number

The social-insurance number (mã số BHXH) here is the 2-digit province code and 8 random digits,
unique (the database settles races).
"""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta

CHILD_AGE_LIMIT = 6
CHILD_BENEFIT_LEVEL = "1"
CODE = re.compile(r"^[A-Z]{2}[1-5]\d{2}\d{10}$")
NUMBER = re.compile(r"^\d{10}$")


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def province_of_pin(pin: str) -> str:
    """The 2-digit province code from a PIN's 3-digit one ("079..." -> "79")."""
    return pin[1:3]


def insurance_number_random(province: str) -> str:
    return province + f"{secrets.randbelow(10**8):08d}"


def card_code(*, group: str, level: str, province: str, number: str) -> str:
    return f"{group}{level}{province}{number}"


def sixth_birthday(birth: date) -> date:
    return add_years(birth, CHILD_AGE_LIMIT)


def child_card_valid_to(birth: date) -> date:
    """The last day a child's card (group TE) is valid.

    Luật BHYT (Điều 16 khoản 3, as amended by Luật 46/2014/QH13): the card is valid until the
    child reaches 72 months of age; a child who reaches it before the school year keeps the card
    to 30 September of that year. Here: the day before the 6th birthday, extended to 30/09 of
    that year when the birthday falls in January to September (school starts in September)."""
    sixth = sixth_birthday(birth)
    school_year_end = date(sixth.year, 9, 30)
    return school_year_end if sixth <= school_year_end else sixth - timedelta(days=1)
