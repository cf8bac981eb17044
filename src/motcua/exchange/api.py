"""The exchange API (/api/exchange/): partner portals file and follow dossiers for a citizen who
signed in to them with their e-ID, and manage where status webhooks go.

Citizen operations need two credentials: `Authorization: Bearer <the partner's
client-credentials access token, scope dossiers>` and `X-Citizen-Id-Token: <the id_token
Motcua's provider issued to that partner for the citizen>` (see exchange.auth). Files go as
multipart form fields named `file_<component code>`, checked as the portal's uploads are."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Form, Header, Router, Schema
from ninja.responses import Status

from motcua.core.api_schemas import error_responses
from motcua.core.errors import ValidationFailed
from motcua.core.inputs import SingleLine
from motcua.dossiers.services import PackageSubmission, Submission
from motcua.exchange import selectors, services
from motcua.exchange.auth import (
    ID_TOKEN_HEADER,
    CitizenAuth,
    CitizenCaller,
    PartnerAuth,
    PartnerCaller,
)

router = Router(tags=["exchange"])
CITIZEN = CitizenAuth()
PARTNER = PartnerAuth()
FILE_PREFIX = "file_"

_CITIZEN_HEADER = {
    "parameters": [
        {
            "in": "header",
            "name": ID_TOKEN_HEADER,
            "required": True,
            "schema": {"type": "string"},
            "description": "The id_token Motcua's OpenID Connect provider issued to this partner "
            "for the citizen (audience: the partner's client_id; recent sign-in).",
        }
    ]
}


def _citizen(request: HttpRequest) -> CitizenCaller:
    caller: CitizenCaller = request.auth  # type: ignore[attr-defined]
    return caller


def _partner(request: HttpRequest) -> PartnerCaller:
    caller: PartnerCaller = request.auth  # type: ignore[attr-defined]
    return caller


def _files(request: HttpRequest) -> dict[str, UploadedFile]:
    files: dict[str, UploadedFile] = {}
    errors: dict[str, str] = {}
    for name in request.FILES:
        if not name.startswith(FILE_PREFIX) or len(name) == len(FILE_PREFIX):
            errors[name] = _("Tệp phải mang tên file_<mã thành phần>")
        elif len(request.FILES.getlist(name)) > 1:
            errors[name] = _("Mỗi thành phần một tệp")
        else:
            upload: UploadedFile = request.FILES.getlist(name)[0]
            files[name[len(FILE_PREFIX) :]] = upload
    if errors:
        raise ValidationFailed(errors)
    return files


def _declaration(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ValidationFailed({"declaration": _("Tờ khai phải là một đối tượng JSON")})
    return value


# --- dossiers ------------------------------------------------------------------------------------


class SubmitForm(Schema):
    procedure_code: SingleLine = Field(max_length=20, description="The procedure's code (TTHC)")
    agency_id: int = Field(description="The agency that handles it")
    declaration: str = Field(
        description="The declaration: a JSON object of the procedure's form fields"
    )


class SubmittedOut(Schema):
    code: str = Field(description="The receipt code")
    appointment: date
    created: bool = Field(description="False when a retry found the first try's dossier")


@router.post(
    "/dossiers",
    response={201: SubmittedOut, 200: SubmittedOut, **error_responses(401, 403, 404, 413, 422)},
    auth=CITIZEN,
    openapi_extra=_CITIZEN_HEADER,
    summary="File a dossier for the citizen (multipart; files as file_<component>)",
)
def dossier_submit(
    request: HttpRequest,
    form: Form[SubmitForm],
    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=8, max_length=64),
) -> Status[SubmittedOut]:
    submitted = services.exchange_dossier_submit(
        caller=_citizen(request),
        submission=Submission(
            procedure_code=form.procedure_code,
            agency_id=form.agency_id,
            declaration=_declaration(form.declaration),
            idempotency_key=idempotency_key,
            files=_files(request),
        ),
    )
    out = SubmittedOut(code=submitted.code, appointment=submitted.due_on, created=submitted.created)
    return Status(201 if submitted.created else 200, out)


class DossierLineOut(Schema):
    code: str
    procedure_code: str
    procedure_name: str
    status: str
    national_status_code: int = Field(description="DOMAIN.md §6: 1 newly registered ... 10")
    status_label: str
    submitted_at: datetime
    appointment: date


@router.get(
    "/dossiers",
    response={200: list[DossierLineOut], **error_responses(401, 403)},
    auth=CITIZEN,
    openapi_extra=_CITIZEN_HEADER,
    summary="The citizen's dossiers",
)
def dossier_list(request: HttpRequest) -> list[selectors.DossierLine]:
    return selectors.citizen_dossiers(caller=_citizen(request))


class TimelineOut(Schema):
    action: str
    status: str
    national_status_code: int | None
    status_label: str
    by: str
    at: datetime
    note: str


class DossierOut(Schema):
    code: str
    procedure_code: str
    procedure_name: str
    agency_name: str
    status: str
    national_status_code: int
    status_label: str
    submitted_at: datetime
    appointment: date = Field(description="The day the result is due (working days)")
    overdue: bool
    late: bool
    result_code: str
    timeline: list[TimelineOut]


@router.get(
    "/dossiers/{code}",
    response={200: DossierOut, **error_responses(401, 403, 404, 422)},
    auth=CITIZEN,
    openapi_extra=_CITIZEN_HEADER,
    summary="One of the citizen's dossiers: status, timeline, appointment",
)
def dossier_read(request: HttpRequest, code: str) -> selectors.DossierStatus:
    return selectors.citizen_dossier(caller=_citizen(request), code=code)


class SupplementForm(Schema):
    note: str = Field("", max_length=2000)


@router.post(
    "/dossiers/{code}/supplement",
    response={200: DossierOut, **error_responses(401, 403, 404, 409, 413, 422)},
    auth=CITIZEN,
    openapi_extra=_CITIZEN_HEADER,
    summary="Bring the papers asked for (multipart; files as file_<component>)",
)
def dossier_supplement(
    request: HttpRequest, code: str, form: Form[SupplementForm]
) -> selectors.DossierStatus:
    caller = _citizen(request)
    services.exchange_dossier_supplement(
        caller=caller, code=code, files=_files(request), note=form.note
    )
    return selectors.citizen_dossier(caller=caller, code=code)


# --- linked packages ------------------------------------------------------------------------------


class PackageForm(Schema):
    kind: SingleLine = Field(max_length=8, description="birth or death")
    steps: str = Field(
        "", description="The steps chosen (death package), comma-separated choice names"
    )
    declaration: str = Field(description="The package's declaration: a JSON object")


class PackageFiledOut(Schema):
    code: str
    appointment: date = Field(description="The one appointment of the whole group")
    created: bool


@router.post(
    "/packages",
    response={
        201: PackageFiledOut,
        200: PackageFiledOut,
        **error_responses(401, 403, 404, 413, 422),
    },
    auth=CITIZEN,
    openapi_extra=_CITIZEN_HEADER,
    summary="File a linked package for the citizen (multipart; files as file_<component>)",
)
def package_submit(
    request: HttpRequest,
    form: Form[PackageForm],
    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=8, max_length=64),
) -> Status[PackageFiledOut]:
    filed = services.exchange_package_submit(
        caller=_citizen(request),
        submission=PackageSubmission(
            kind=form.kind,
            declaration=_declaration(form.declaration),
            steps=tuple(s.strip() for s in form.steps.split(",") if s.strip()),
            idempotency_key=idempotency_key,
            files=_files(request),
        ),
    )
    out = PackageFiledOut(code=filed.code, appointment=filed.due_on, created=filed.created)
    return Status(201 if filed.created else 200, out)


class PackageStepOut(Schema):
    position: int
    procedure_code: str
    procedure_name: str
    agency_name: str
    status: str
    status_label: str
    dossier_code: str
    dossier_status_label: str
    appointment: date | None
    reason: str


class PackageOut(Schema):
    code: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    submitted_at: datetime
    appointment: date
    finished_at: datetime | None
    steps: list[PackageStepOut]


@router.get(
    "/packages/{code}",
    response={200: PackageOut, **error_responses(401, 403, 404, 422)},
    auth=CITIZEN,
    openapi_extra=_CITIZEN_HEADER,
    summary="One of the citizen's linked packages: its steps and the one appointment",
)
def package_read(request: HttpRequest, code: str) -> selectors.PackageStatus:
    return selectors.citizen_package(caller=_citizen(request), code=code)


# --- the partner's webhook subscriptions --------------------------------------------------------


class SubscriptionIn(Schema):
    url: SingleLine = Field(max_length=500, description="https; never a private network")
    events: list[str] = Field(default_factory=lambda: list(services.EVENT_TYPES))


class SubscriptionCreatedOut(Schema):
    id: int
    url: str
    events: list[str]
    secret: str = Field(description="The signing secret, shown this once")


class SubscriptionOut(Schema):
    id: int
    url: str
    events: list[str]
    active: bool
    pending: int
    delivered: int
    failed: int


@router.post(
    "/subscriptions",
    response={201: SubscriptionCreatedOut, **error_responses(401, 403, 404, 422)},
    auth=PARTNER,
    summary="Receive the status changes of the dossiers this partner filed",
)
def subscription_add(
    request: HttpRequest, body: SubscriptionIn
) -> Status[services.NewSubscription]:
    partner = _partner(request)
    created = services.subscription_add(
        actor=partner.actor, partner_id=partner.partner_id, url=body.url, events=body.events
    )
    return Status(201, created)


@router.get(
    "/subscriptions",
    response={200: list[SubscriptionOut], **error_responses(401, 403)},
    auth=PARTNER,
)
def subscription_list(request: HttpRequest) -> list[selectors.SubscriptionLine]:
    return selectors.subscriptions_of(partner=_partner(request))


@router.delete(
    "/subscriptions/{subscription_id}",
    response={204: None, **error_responses(401, 403, 404, 422)},
    auth=PARTNER,
)
def subscription_disable(request: HttpRequest, subscription_id: int) -> HttpResponse:
    services.subscription_disable(actor=_partner(request).actor, subscription_id=subscription_id)
    return HttpResponse(status=204)
