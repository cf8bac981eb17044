"""Who is calling the exchange API: a registered partner portal, by its client-credentials
access token (scope `dossiers`), acting for a citizen who signed in to it through Motcua's
OpenID Connect provider, proved by the id_token the provider issued to that same partner
(header `X-Citizen-Id-Token`).

The id_token must be signed by one of the provider's keys (the current one or a retired one
still published), issued by this provider, for this partner (`aud`), unexpired, from a sign-in
no older than settings.EXCHANGE_SIGN_IN_MAX_AGE_S (default one hour; refreshing keeps the
sign-in's `auth_time`), and still known to the provider with a live access token (a sign-out
everywhere or a suspended account revokes it). The citizen is the person the provider issued
it to, whatever `sub` the partner sees (pairwise or public); the e-ID level is its `acr`.

The provider's tokens are identity's: read through its selectors (client_token_check,
id_token_subject, level_from_acr)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from jwcrypto import jwk, jwt
from ninja.security import HttpBearer

from motcua.core.actors import Actor
from motcua.core.errors import DomainError, PermissionDenied
from motcua.exchange.models import ExchangePartner
from motcua.identity.selectors import client_token_check, id_token_subject, level_from_acr

SCOPE = "dossiers"
ID_TOKEN_HEADER = "X-Citizen-Id-Token"  # noqa: S105 - a header name


class Unauthenticated(DomainError):
    status = 401
    code = "unauthorized"


class InsufficientScope(PermissionDenied):
    code = "insufficient_scope"


@dataclass(frozen=True)
class PartnerCaller:
    partner_id: int
    name: str
    client_id: str
    actor: Actor  # the partner, as access logs and audit rows name it


@dataclass(frozen=True)
class CitizenCaller:
    partner: PartnerCaller
    pin: str
    eid_level: int
    auth_time: datetime

    @property
    def citizen(self) -> Actor:
        return Actor(kind="citizen", ref=self.pin, pin=self.pin)


def partner_of_token(token: str) -> PartnerCaller:
    """The registered partner behind a client-credentials access token with scope `dossiers`.
    Unknown, expired, a person's own token, or a client that is not a registered partner: 401;
    a partner's token without the scope: 403."""
    found = client_token_check(token)
    if found is None or found.personal:
        raise Unauthenticated(_("Mã truy cập không hợp lệ hoặc đã hết hạn"))
    client_id = found.client_id
    partner = ExchangePartner.objects.filter(client_id=client_id, active=True).first()
    if partner is None:
        raise PermissionDenied(_("Ứng dụng này chưa được đăng ký là cổng đối tác"))
    if SCOPE not in found.scopes:
        raise InsufficientScope(_("Mã truy cập thiếu phạm vi %(scope)s") % {"scope": SCOPE})
    actor = Actor(kind="partner", ref=partner.name)
    return PartnerCaller(partner.pk, partner.name, client_id, actor)


@lru_cache(maxsize=4)
def _keys(current: str, retired: tuple[str, ...]) -> jwk.JWKSet:
    keys = jwk.JWKSet()
    for pem in (current, *retired):
        private = jwk.JWK.from_pem(pem.encode())
        public = private.export_public(as_dict=True)
        public["kid"] = private.thumbprint()  # as the provider names it in id_tokens
        keys.add(jwk.JWK(**public))
    return keys


def _provider_keys() -> jwk.JWKSet:
    provider: dict[str, Any] = settings.OAUTH2_PROVIDER
    retired: list[str] = list(provider.get("OIDC_RSA_PRIVATE_KEYS_INACTIVE") or [])
    return _keys(provider["OIDC_RSA_PRIVATE_KEY"], tuple(retired))


def citizen_of_id_token(raw: str, partner: PartnerCaller) -> CitizenCaller:
    """The citizen who signed in to this partner, from the provider's id_token; 401 otherwise."""
    refused = Unauthenticated(_("Phiên đăng nhập của công dân không hợp lệ hoặc đã hết hạn"))
    if not raw:
        raise Unauthenticated(
            _("Thiếu mã định danh đăng nhập của công dân (%(header)s)")
            % {"header": ID_TOKEN_HEADER}
        )
    try:
        verified = jwt.JWT(jwt=raw, key=_provider_keys(), algs=["RS256"], check_claims=False)
        claims: dict[str, Any] = json.loads(verified.claims)
    except Exception:  # malformed, forged, signed by another key: all the same to the caller
        raise refused from None
    now = timezone.now().timestamp()
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else list(audience or [])
    max_age = settings.EXCHANGE_SIGN_IN_MAX_AGE_S
    level = level_from_acr(claims.get("acr"))
    if (
        claims.get("iss") != settings.OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"]
        or audiences != [partner.client_id]
        or claims.get("azp", partner.client_id) != partner.client_id
        or not isinstance(claims.get("exp"), int | float)
        or claims["exp"] <= now
        or not isinstance(claims.get("auth_time"), int | float)
        or now - claims["auth_time"] > max_age
        or level is None
        or not isinstance(claims.get("jti"), str)
    ):
        raise refused
    pin = id_token_subject(client_id=partner.client_id, jti=claims["jti"])
    if pin is None:
        raise refused
    return CitizenCaller(
        partner=partner,
        pin=pin,
        eid_level=level,
        auth_time=datetime.fromtimestamp(claims["auth_time"], tz=UTC),
    )


class PartnerAuth(HttpBearer):
    """A partner's own calls (its subscriptions): the access token alone."""

    def authenticate(self, request: HttpRequest, token: str) -> PartnerCaller | None:
        return partner_of_token(token)


class CitizenAuth(HttpBearer):
    """A partner acting for a signed-in citizen: the access token and the citizen's id_token."""

    openapi_description = (
        "Client-credentials access token of a registered partner (scope `dossiers`), and the "
        f"citizen's id_token from Motcua's provider in the `{ID_TOKEN_HEADER}` header."
    )

    def authenticate(self, request: HttpRequest, token: str) -> CitizenCaller | None:
        partner = partner_of_token(token)
        return citizen_of_id_token(request.headers.get(ID_TOKEN_HEADER, "").strip(), partner)
