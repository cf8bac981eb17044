"""Registry JSON API for authorised staff and partner systems (never public). Every read names
its purpose and lands in the person's access log."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy
from ninja import Field, Path, Query, Router, Schema

from motcua.core.api_auth import STAFF_AUTH, request_actor
from motcua.core.api_schemas import error_responses
from motcua.registry import selectors

router = Router(auth=STAFF_AUTH, tags=["registry"])

Purpose = Query(..., min_length=3, max_length=300, description=gettext_lazy("Mục đích truy cập"))


class ResidenceOut(Schema):
    kind: str
    ward: str
    ward_name: str
    address: str
    household_id: int | None
    valid_from: date
    valid_to: date | None


class CardOut(Schema):
    number: str
    issued_on: date
    expires_on: date | None
    issued_by: str


class CitizenOut(Schema):
    pin: str
    full_name: str
    sex: str
    birth_date: str = Field(description="YYYY-MM-DD, or YYYY-MM / YYYY when only that is known")
    birth_place: str
    birth_place_name: str
    hometown: str
    hometown_name: str
    ethnicity: str
    religion: str
    nationality: str
    father_pin: str
    mother_pin: str
    spouse_pin: str
    cmnd: str | None
    status: str
    death_date: date | None
    residences: list[ResidenceOut]
    card: CardOut | None
    household_id: int | None
    relation_to_head: str | None


class SearchHitOut(Schema):
    pin: str
    full_name: str
    sex: str
    birth_date: str
    birth_place: str
    score: float


class EventOut(Schema):
    id: int
    kind: str
    occurred_on: date
    recorded_at: str
    actor: str
    legal_basis: str
    reason: str
    before: dict[str, Any]
    after: dict[str, Any]


class MemberOut(Schema):
    pin: str
    full_name: str
    relation: str
    joined_on: date


class HouseholdOut(Schema):
    id: int
    ward: str
    ward_name: str
    address: str
    members: list[MemberOut]


class RenewalDueOut(Schema):
    pin: str
    full_name: str
    expires_on: date


# 401: no or a wrong key; 403: the key may not read this; 422: bad input (core.inputs included).
ERRORS = error_responses(401, 403, 404, 422)
# A PIN is 12 digits (the selectors say what is wrong with a short or odd one).
Pin = Path(..., max_length=20, description=gettext_lazy("Số định danh cá nhân"))


@router.get("/citizens/{pin}", response={200: CitizenOut, **ERRORS})
def get_citizen(request: HttpRequest, pin: str = Pin, purpose: str = Purpose) -> Any:
    return asdict(selectors.citizen_get(actor=request_actor(request), pin=pin, purpose=purpose))


@router.get("/citizens", response={200: list[SearchHitOut], **ERRORS})
def search_citizens(
    request: HttpRequest,
    name: str = Query(..., max_length=200),
    purpose: str = Purpose,
    birth_date: str = Query("", max_length=10, description="YYYY-MM-DD, YYYY-MM or YYYY"),
    place: str = Query("", max_length=40),
    limit: int = 20,
) -> Any:
    hits = selectors.citizen_search(
        actor=request_actor(request),
        purpose=purpose,
        name=name,
        birth_date=birth_date,
        place=place,
        limit=limit,
    )
    return [asdict(h) for h in hits]


@router.get("/citizens/{pin}/history", response={200: list[EventOut], **ERRORS})
def citizen_history(request: HttpRequest, pin: str = Pin, purpose: str = Purpose) -> Any:
    return [
        asdict(e)
        for e in selectors.citizen_history(actor=request_actor(request), pin=pin, purpose=purpose)
    ]


@router.get("/citizens/{pin}/household", response={200: HouseholdOut, **ERRORS})
def citizen_household(request: HttpRequest, pin: str = Pin, purpose: str = Purpose) -> Any:
    return asdict(selectors.household_of(actor=request_actor(request), pin=pin, purpose=purpose))


@router.get("/cards/due", response={200: list[RenewalDueOut], **ERRORS})
def cards_due(request: HttpRequest, within_days: int = 30, purpose: str = Purpose) -> Any:
    due = selectors.cards_due_for_renewal(
        actor=request_actor(request), within_days=within_days, purpose=purpose
    )
    return [asdict(d) for d in due]
