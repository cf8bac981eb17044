"""ID card (thẻ căn cước) validity, Luật Căn cước 2023 Art. 21: a card is renewed when its holder
reaches 14, 25, 40 and 60; a card issued within the 2 years before one of those ages stays valid
until the next; a card issued from 58 on is valid for life."""

from __future__ import annotations

from datetime import date

from motcua.registry.dates import add_years

RENEWAL_AGES = (14, 25, 40, 60)
GRACE_YEARS = 2


def card_expiry(*, birth_date: date, issued_on: date) -> date | None:
    """The day the card must be renewed (the birthday at the renewal age), or None for life."""
    for age in RENEWAL_AGES:
        due = add_years(birth_date, age)
        if issued_on < add_years(due, -GRACE_YEARS):
            return due
    return None
