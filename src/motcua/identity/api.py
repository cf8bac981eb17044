"""Identity verification for partners (eKYC): a bank, telecom or hospital, authenticated by an
OAuth client-credentials token with the `ekyc` scope, checks what a customer claims. The answer
is match / no-match per field and whether the person is alive, never the registry's data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import connection
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.security import HttpBearer

from motcua.core.actors import Actor
from motcua.core.api_schemas import error_responses
from motcua.core.errors import DomainError
from motcua.core.inputs import SingleLine
from motcua.identity.ratelimit import RateLimiter
from motcua.registry.selectors import VERIFY_PERMISSION, IdentityClaim, citizen_verify

router = Router(tags=["identity"])
# Each partner's quota, shared by every process through batches leased from PostgreSQL.
limiter = RateLimiter()


@dataclass(frozen=True)
class PartnerCaller:
    actor: Actor
    rate_per_second: int


# The hottest query of the API in one indexed join (the ORM's version also joins the
# application table and costs five times as much to build).
_PARTNER_SQL = """
SELECT t.scope, p.name, p.rate_per_second FROM oauth2_provider_accesstoken t
JOIN identity_partner p ON p.application_id = t.application_id
WHERE t.token_checksum = %s AND t.expires > now()
"""


class PartnerToken(HttpBearer):
    """A client-credentials access token of a partner, with the `ekyc` scope."""

    def authenticate(self, request: HttpRequest, token: str) -> PartnerCaller | None:
        with connection.cursor() as cursor:
            cursor.execute(_PARTNER_SQL, [hashlib.sha256(token.encode()).hexdigest()])
            found = cursor.fetchone()
        if found is None or "ekyc" not in found[0].split():
            return None
        _, name, rate = found
        actor = Actor(kind="partner", ref=name, permissions=frozenset({VERIFY_PERMISSION}))
        return PartnerCaller(actor=actor, rate_per_second=rate)


class TooManyRequests(DomainError):
    status = 429
    code = "rate_limited"


class VerifyIn(Schema):
    # Each as long as the registry ever stores it (the purpose: the access log's column).
    pin: SingleLine = Field(max_length=20)
    full_name: SingleLine = Field(max_length=200)
    birth_date: SingleLine = Field(max_length=10, description="YYYY-MM-DD, YYYY-MM or YYYY")
    card_number: SingleLine | None = Field(None, max_length=20)
    purpose: SingleLine = Field(min_length=3, max_length=300)


class VerifyOut(Schema):
    pin: str
    full_name: str
    birth_date: str
    card_number: str
    alive: bool | None
    matches: bool


@router.post(
    "/verify",
    response={200: VerifyOut, **error_responses(401, 403, 413, 422, 429)},
    auth=PartnerToken(),
)
def verify(request: HttpRequest, body: VerifyIn) -> VerifyOut:
    caller: PartnerCaller = request.auth  # type: ignore[attr-defined]
    if not limiter.allow(caller.actor.ref, caller.rate_per_second):
        raise TooManyRequests(_("Vượt hạn mức gọi"))
    result = citizen_verify(
        actor=caller.actor,
        claim=IdentityClaim(
            pin=body.pin,
            full_name=body.full_name,
            birth_date=body.birth_date,
            card_number=body.card_number,
        ),
        purpose=body.purpose,
    )
    return VerifyOut(
        pin=result.pin,
        full_name=result.full_name,
        birth_date=result.birth_date,
        card_number=result.card_number,
        alive=result.alive,
        matches=result.matches,
    )
