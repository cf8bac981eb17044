"""The OpenID Connect provider's rules on top of django-oauth-toolkit: which scopes a party may
ask for, pairwise subject identifiers, claims read from the registry (and access-logged), and
the level (acr) and time of the authentication carried from the authorization to the id_token."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop
from oauth2_provider.models import Application, RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import SettingsScopes

from motcua.core.actors import Actor
from motcua.identity.models import CodeContext, RelyingParty, TokenContext
from motcua.identity.services.parties import PARTNER_PORTAL_SCOPE
from motcua.registry.selectors import VIEW_PERMISSION, CitizenRecord, citizen_get

ACR_PREFIX = "urn:motcua:loa:"
# The purpose of a relying party's read, as the person's access log says it (translated there).
LOGIN_PURPOSE = gettext_noop("Đăng nhập bằng định danh điện tử, theo sự đồng ý của bạn")


def acr_name(level: int) -> str:
    return f"{ACR_PREFIX}{level}"


def acr_level(name: str) -> int | None:
    """The level an `acr_values` entry asks for; None for values we do not know."""
    if name.startswith(ACR_PREFIX) and name[len(ACR_PREFIX) :] in ("1", "2"):
        return int(name[len(ACR_PREFIX) :])
    return None


def checksum(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class AuthContext(Protocol):
    """How the person authenticated: a code's context, or the one of its refresh tokens."""

    acr: int
    auth_time: datetime


def pairwise_sub(client_id: str, pin: str) -> str:
    return hmac.new(
        settings.PAIRWISE_KEY.encode(), f"{client_id}|{pin}".encode(), hashlib.sha256
    ).hexdigest()


# The scopes a relying party may ask for with its own client credentials (no person): only
# these, and only those of them it was registered with.
CLIENT_CREDENTIALS_SCOPES = (PARTNER_PORTAL_SCOPE,)


def _client_credentials(request: Any) -> bool:
    return getattr(request, "grant_type", None) == "client_credentials"


def _party_of_application(application: Any) -> RelyingParty | None:
    return RelyingParty.objects.filter(application=application).first()


def _registered_scopes(party: RelyingParty) -> list[str]:
    """The party's scopes, but `pin` and `dossiers` only if it is trusted with the PIN, whatever
    its stored scopes say."""
    trusted = ("pin", PARTNER_PORTAL_SCOPE)
    return [s for s in party.scopes.split() if s not in trusted or party.pin_claim]


class PartyScopes(SettingsScopes):
    """A relying party may ask for the scopes it was registered with (`pin` only if it is
    trusted with the PIN, whatever its stored scopes say), and with its client credentials
    only for `dossiers`, if registered with it; a partner for `ekyc`."""

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        if application is None:
            return super().get_available_scopes(application, request, *args, **kwargs)
        party = _party_of_application(application)
        if party is not None:
            registered = _registered_scopes(party)
            if _client_credentials(request):
                return [s for s in registered if s in CLIENT_CREDENTIALS_SCOPES]
            return registered
        return ["ekyc"] if hasattr(application, "partner") else []

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        available = self.get_available_scopes(application, request)
        return ["openid"] if "openid" in available else available[:1]


class Validator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "pin": "pin"}

    def validate_grant_type(
        self, client_id: Any, grant_type: Any, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """The toolkit's rule (each client its one grant, RFC 9700's refusals), widened once: a
        relying party registered with `dossiers` (a partner portal) may use the
        client-credentials grant, which PartyScopes then limits to that scope."""
        if grant_type == "client_credentials" and not client.allows_grant_type(
            Application.GRANT_CLIENT_CREDENTIALS
        ):
            party = _party_of_application(client)
            return party is not None and bool(
                set(_registered_scopes(party)) & set(CLIENT_CREDENTIALS_SCOPES)
            )
        return bool(
            super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)
        )

    def validate_silent_login(self, request: Any) -> bool:
        return True  # `prompt=none`: the authorization view answers login_required itself

    def validate_silent_authorization(self, request: Any) -> bool:
        return True  # `prompt=none`: the authorization view answers consent_required itself

    def _create_authorization_code(self, request: Any, code: Any, expires: Any = None) -> Any:
        grant = super()._create_authorization_code(request, code, expires)
        CodeContext.objects.create(
            grant=grant,
            acr=request.eid_acr,
            auth_time=datetime.fromtimestamp(request.eid_auth_time).astimezone(),
        )
        return grant

    def validate_code(
        self, client_id: Any, code: Any, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """A valid code brings its authentication context; a code already exchanged revokes
        every token issued from it (RFC 6749 §4.1.2: it may have been stolen)."""
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if valid:
            request.eid_context = CodeContext.objects.filter(grant__code=code).first()
            return True
        used = TokenContext.objects.filter(code_checksum=checksum(code), application=client)
        for family in used.exclude(token_family=None).values_list("token_family", flat=True):
            RefreshToken.revoke_family(family)
        return False

    def _save_bearer_token(self, token: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Tokens from a code keep its authentication context, by refresh-token family."""
        saved = super()._save_bearer_token(token, request, *args, **kwargs)
        context: CodeContext | None = getattr(request, "eid_context", None)
        if request.grant_type == "authorization_code" and isinstance(context, CodeContext):
            refresh = token.get("refresh_token")
            family = (
                RefreshToken.objects.filter(token_checksum=checksum(refresh))
                .values_list("token_family", flat=True)
                .first()
                if refresh
                else None
            )
            TokenContext.objects.create(
                application=request.client,
                code_checksum=checksum(request.code),
                token_family=family,
                acr=context.acr,
                auth_time=context.auth_time,
            )
        return saved

    def validate_refresh_token(
        self, refresh_token: Any, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if valid:
            family = request.refresh_token_instance.token_family
            context = TokenContext.objects.filter(token_family=family).first() if family else None
            if context is None or _outlived(context):
                return False
            request.eid_context = context
        return bool(valid)

    def get_id_token_dictionary(self, token: Any, token_handler: Any, request: Any) -> Any:
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        context: AuthContext | None = getattr(request, "eid_context", None)
        if context is not None:
            claims["acr"] = acr_name(context.acr)
            claims["auth_time"] = int(context.auth_time.timestamp())
        return claims, expiration

    def get_oidc_claims(self, token: Any, token_handler: Any, request: Any) -> dict[str, Any]:
        """The PIN only to a party trusted with it, whatever scopes its tokens carry (the id_token
        and userinfo both come through here)."""
        claims: dict[str, Any] = super().get_oidc_claims(token, token_handler, request)
        party: RelyingParty | None = getattr(request.client, "party", None)
        if party is None or not party.pin_claim:
            claims.pop("pin", None)
        return claims

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        """Claims are callables, so that the registry is read only for the scopes granted."""
        return {
            "sub": lambda r: _subject(r),
            "name": lambda r: _citizen(r).full_name,
            "birthdate": lambda r: _birthdate(_citizen(r).birth_date),
            "gender": lambda r: {"M": "male", "F": "female"}.get(_citizen(r).sex, "other"),
            "pin": lambda r: r.user.eid.pin,
            "address": lambda r: _address(_citizen(r)),
        }


def _party(request: Any) -> RelyingParty:
    party: RelyingParty = request.client.party
    return party


def _subject(request: Any) -> str:
    pin = request.user.eid.pin
    party = _party(request)
    return pin if party.pin_claim else pairwise_sub(request.client.client_id, pin)


def _citizen(request: Any) -> CitizenRecord:
    """The person's record, read once per token request on behalf of the relying party, which
    is what the person's access log then shows."""
    cached: CitizenRecord | None = getattr(request, "eid_citizen", None)
    if cached is None:
        party = _party(request)
        reader = Actor(kind="partner", ref=party.name, permissions=frozenset({VIEW_PERMISSION}))
        cached = citizen_get(
            actor=reader,
            pin=request.user.eid.pin,
            purpose=LOGIN_PURPOSE,
        )
        request.eid_citizen = cached
    return cached


def _birthdate(partial: str) -> str:
    """OIDC allows a full date or a year alone."""
    return partial if len(partial) == 10 else partial[:4]


def _address(record: CitizenRecord) -> dict[str, str]:
    permanent = next((r for r in record.residences if r.kind == "permanent"), None)
    if permanent is None:
        return {"country": "VN"}
    return {
        "formatted": f"{permanent.address}, {permanent.ward_name}".strip(", "),
        "locality": permanent.ward_name,
        "country": "VN",
    }


def _outlived(context: TokenContext) -> bool:
    """A refresh-token family ends with the sign-in it came from: refreshing keeps each token
    young, but never past the absolute limit of an e-ID session of that level."""
    limit = settings.EID_SESSION_LIMITS[context.acr]["absolute"]
    return (timezone.now() - context.auth_time).total_seconds() > limit


def token_contexts_prune(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Forget how people authenticated for codes and token families that can no longer be
    used: older than a day and with no live refresh token left in the family."""
    live = RefreshToken.objects.filter(revoked__isnull=True).values("token_family")
    stale = TokenContext.objects.filter(created_at__lt=timezone.now() - older_than).exclude(
        token_family__in=live
    )
    return int(stale.delete()[0])
