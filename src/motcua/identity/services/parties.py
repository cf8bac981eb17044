"""Relying parties (OpenID Connect) and eKYC partners: registration, the portal's own client, secrets."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from oauth2_provider.models import Application

from motcua.core.actors import SYSTEM, Actor
from motcua.core.audit import audit_record
from motcua.core.errors import Conflict, NotFound, ValidationFailed
from motcua.identity.models import (
    Partner,
    RelyingParty,
)

OIDC_SCOPES_FOR_PARTIES = ("openid", "profile", "pin", "address")  # what a person shares
# A partner portal (the exchange's) acting for signed-in citizens: the one scope a relying party
# may also ask for with its own client credentials, and only if registered with it.
PARTNER_PORTAL_SCOPE = "dossiers"
PARTY_SCOPES = (*OIDC_SCOPES_FOR_PARTIES, PARTNER_PORTAL_SCOPE)
MANAGE_PERMISSION = "identity.add_relyingparty"
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
PORTAL_CLIENT_ID = "motcua-portal"


@dataclass(frozen=True)
class NewParty:
    name: str
    redirect_uris: list[str]
    scopes: list[str]
    pin_claim: bool = False
    min_level: int = 1
    first_party: bool = False
    post_logout_uris: list[str] | None = (
        None  # where RP-initiated logout may return; default: redirect_uris
    )


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str


def rp_add(
    *, actor: Actor, party: NewParty, client_id: str | None = None, client_secret: str | None = None
) -> tuple[RelyingParty, Credentials]:
    """A relying party: people sign in to it with the authorization-code grant (PKCE). One
    registered with `dossiers` (a partner portal) may also get a token of its own with the
    client-credentials grant, for that scope alone (oidc.Validator, oidc.PartyScopes)."""
    actor.require(MANAGE_PERMISSION)
    _check_party(party)
    secret = client_secret or secrets.token_urlsafe(48)
    with transaction.atomic(durable=True):
        application = Application(
            name=party.name,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(party.redirect_uris),
            post_logout_redirect_uris=" ".join(party.post_logout_uris or party.redirect_uris),
            client_secret=secret,
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=False,
        )
        if client_id:
            application.client_id = client_id
        application.save()
        relying = RelyingParty.objects.create(
            application=application,
            name=party.name,
            scopes=" ".join(party.scopes),
            pin_claim=party.pin_claim,
            min_level=party.min_level,
            first_party=party.first_party,
        )
        audit_record(
            actor=actor,
            action="party.added",
            object_type="identity.relyingparty",
            object_id=application.client_id,
            after={
                "name": party.name,
                "redirect_uris": party.redirect_uris,
                "scopes": party.scopes,
                "pin_claim": party.pin_claim,
                "min_level": party.min_level,
            },
        )
    return relying, Credentials(application.client_id, secret)


def _check_party(party: NewParty) -> None:
    errors = {}
    if not party.name.strip():
        errors["name"] = _("Nhập tên")
    if not party.redirect_uris:
        errors["redirect_uri"] = _("Cần ít nhất một địa chỉ chuyển hướng")
    for uri in party.redirect_uris:
        problem = _redirect_uri_problem(uri)
        if problem:
            errors["redirect_uri"] = f"{uri}: {problem}"
    unknown = set(party.scopes) - set(PARTY_SCOPES)
    if unknown or "openid" not in party.scopes:
        errors["scopes"] = _("Phạm vi hợp lệ: %(scopes)s (bắt buộc có openid)") % {
            "scopes": " ".join(PARTY_SCOPES)
        }
    elif "pin" in party.scopes and not party.pin_claim:
        errors["scopes"] = _(
            "Phạm vi pin chỉ dành cho bên được tin cậy nhận số định danh (pin_claim)"
        )
    elif PARTNER_PORTAL_SCOPE in party.scopes and (not party.pin_claim or party.first_party):
        errors["scopes"] = _(
            "Phạm vi dossiers chỉ dành cho cổng đối tác được tin cậy nhận số định danh (pin_claim)"
        )
    if party.min_level not in (1, 2):
        errors["min_level"] = _("Mức 1 hoặc mức 2")
    if errors:
        raise ValidationFailed(errors)


def _redirect_uri_problem(uri: str) -> str | None:
    """https only; plain http only to this machine (development); no fragment, no wildcard."""
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return _("phải là URL tuyệt đối https")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        return _("http chỉ dùng cho máy cục bộ")
    if parts.fragment or "*" in uri:
        return _("không được có # hoặc *")
    return None


def partner_add(
    *, actor: Actor, name: str, rate_per_second: int = 50
) -> tuple[Partner, Credentials]:
    """A partner of the identity-verification API, authenticated by client credentials."""
    actor.require(MANAGE_PERMISSION)
    if not name.strip():
        raise ValidationFailed({"name": _("Nhập tên")})
    if not 1 <= rate_per_second <= 100_000:
        raise ValidationFailed({"rate_per_second": "1–100000"})
    secret = secrets.token_urlsafe(48)
    with transaction.atomic(durable=True):
        application = Application.objects.create(
            name=name,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            algorithm=Application.RS256_ALGORITHM,
        )
        try:
            with transaction.atomic():
                partner = Partner.objects.create(
                    application=application, name=name, rate_per_second=rate_per_second
                )
        except IntegrityError:
            raise Conflict(_("Đã có đối tác %(name)s") % {"name": name}) from None
        audit_record(
            actor=actor,
            action="partner.added",
            object_type="identity.partner",
            object_id=application.client_id,
            after={"name": name, "rate_per_second": rate_per_second},
        )
    return partner, Credentials(application.client_id, secret)


def portal_secret() -> str:
    """The portal's client secret, derived from the deployment's secret key: the portal and the
    provider share a process but the portal still authenticates like any relying party."""
    return hmac.new(settings.SECRET_KEY.encode(), b"portal-client", hashlib.sha256).hexdigest()


def portal_client_ensure(*, redirect_uri: str, home_uri: str) -> None:
    """Register the portal as a first-party relying party trusted with the PIN, or add the
    addresses of a new public URL to it."""
    application = Application.objects.filter(client_id=PORTAL_CLIENT_ID).first()
    if application is None:
        rp_add(
            actor=SYSTEM,
            party=NewParty(
                name=gettext_noop("Cổng dịch vụ công Motcua"),
                redirect_uris=[redirect_uri],
                post_logout_uris=[home_uri],
                scopes=list(OIDC_SCOPES_FOR_PARTIES),
                pin_claim=True,
                first_party=True,
            ),
            client_id=PORTAL_CLIENT_ID,
            client_secret=portal_secret(),
        )
    elif redirect_uri not in application.redirect_uris.split():
        with transaction.atomic(durable=True):
            application.redirect_uris = f"{application.redirect_uris} {redirect_uri}"
            application.post_logout_redirect_uris += f" {home_uri}"
            application.save(update_fields=["redirect_uris", "post_logout_redirect_uris"])
            audit_record(
                actor=SYSTEM,
                action="party.redirect_added",
                object_type="identity.relyingparty",
                object_id=PORTAL_CLIENT_ID,
                after={"redirect_uri": redirect_uri, "post_logout_uri": home_uri},
            )


def partner_secret_reset(*, actor: Actor, name: str) -> Credentials:
    """A new client secret for a partner (the old one stops working at once)."""
    actor.require(MANAGE_PERMISSION)
    partner = Partner.objects.select_related("application").filter(name=name).first()
    if partner is None:
        raise NotFound(_("Không có đối tác %(name)s") % {"name": name})
    secret = secrets.token_urlsafe(48)
    with transaction.atomic(durable=True):
        partner.application.client_secret = secret
        partner.application.save()  # the toolkit hashes it on save
        audit_record(
            actor=actor,
            action="partner.secret_reset",
            object_type="identity.partner",
            object_id=partner.application.client_id,
        )
    return Credentials(partner.application.client_id, secret)
