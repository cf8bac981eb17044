"""Public, read-only API of administrative units (mounted at /api/geo/)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import Path, Query, Router, Schema
from pydantic import Field

from motcua.core.api_schemas import error_responses
from motcua.core.errors import NotFound
from motcua.geo import selectors
from motcua.geo.selectors import Level, Scheme, UnitInfo

router = Router(tags=["geo"])


class UnitOut(Schema):
    key: str = Field(examples=["2025:79"])
    scheme: Scheme
    code: str
    name: str
    kind: str = Field(
        description=gettext_noop("tỉnh, thành phố, quận, huyện, thị xã, phường, xã, …")
    )
    level: Level
    parent_key: str | None
    province_key: str
    valid_from: date | None
    valid_to: date | None
    full_name: str


class SearchFilters(Schema):
    q: str = Field(min_length=1, max_length=selectors.MAX_QUERY_LENGTH)
    level: Level | None = None
    scheme: Scheme | None = None
    limit: int = Field(20, ge=1, le=selectors.MAX_SEARCH_LIMIT)


# A unit key is a scheme and a code ("2025:79", "pre2025:74"): nothing longer is one.
UnitKey = Path(..., max_length=40, description="scheme:code, e.g. 2025:79")


def _unit_or_404(key: str) -> UnitInfo:
    unit = selectors.unit_get(key)
    if unit is None:
        raise NotFound(_("Không có đơn vị hành chính %(key)s") % {"key": key})
    return unit


@router.get(
    "/units",
    response={200: list[UnitOut], **error_responses(422)},
    summary="Search units by name",
)
def units_search(request: HttpRequest, filters: Query[SearchFilters]) -> list[UnitInfo]:
    return selectors.units_search(
        filters.q, level=filters.level, scheme=filters.scheme, limit=filters.limit
    )


@router.get(
    "/units/{key}", response={200: UnitOut, **error_responses(404, 422)}, summary="One unit by key"
)
def unit_get(request: HttpRequest, key: str = UnitKey) -> UnitInfo:
    return _unit_or_404(key)


@router.get(
    "/units/{key}/current",
    response={200: list[UnitOut], **error_responses(404, 422)},
    summary="What a unit is now (old units: their 2025 successors)",
)
def unit_current(request: HttpRequest, key: str = UnitKey) -> list[UnitInfo]:
    _unit_or_404(key)
    return selectors.unit_current(key)
