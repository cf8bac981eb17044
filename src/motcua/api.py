"""The JSON API (django-ninja): OpenAPI at /api/openapi.json, docs at /api/docs."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from motcua.core.errors import DomainError
from motcua.geo.api import router as geo_router
from motcua.identity.api import router as identity_router
from motcua.registry.api import router as registry_router

api = NinjaAPI(
    title="Motcua API",
    version="1",
    description="Cơ sở dữ liệu dân cư, định danh điện tử và dịch vụ công trực tuyến.",
    urls_namespace="api",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


api.add_router("/geo/", geo_router)
api.add_router("/registry/", registry_router)
api.add_router("/identity/", identity_router)
