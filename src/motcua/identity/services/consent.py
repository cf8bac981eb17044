"""Consents to share claims with a relying party: granted, merged, withdrawn."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import AccessToken, RefreshToken

from motcua.core.audit import audit_record
from motcua.core.errors import NotFound
from motcua.identity.models import (
    Account,
    Consent,
    RelyingParty,
)
from motcua.identity.services._shared import _self


def consent_grant(*, account: Account, party: RelyingParty, scopes: list[str]) -> Consent:
    with transaction.atomic(durable=True):
        live = (
            Consent.objects.select_for_update()
            .filter(account=account, party=party, withdrawn_at__isnull=True)
            .first()
        )
        merged = sorted(set(scopes) | set(live.scopes.split() if live else []))
        if live:
            live.withdrawn_at = timezone.now()
            live.save(update_fields=["withdrawn_at"])
        consent = Consent.objects.create(account=account, party=party, scopes=" ".join(merged))
        audit_record(
            actor=_self(account.pin),
            action="consent.granted",
            object_type="identity.consent",
            object_id=str(consent.pk),
            after={"party": party.name, "scopes": merged},
        )
    return consent


def consent_withdraw(*, account: Account, consent_id: int) -> None:
    """The party gets nothing more: its tokens for this person are revoked at once."""
    with transaction.atomic(durable=True):
        consent = (
            Consent.objects.select_for_update()
            .select_related("party")
            .filter(pk=consent_id, account=account, withdrawn_at__isnull=True)
            .first()
        )
        if consent is None:
            raise NotFound(_("Không có sự đồng ý này"))
        consent.withdrawn_at = timezone.now()
        consent.save(update_fields=["withdrawn_at"])
        application_id = consent.party.application_id
        RefreshToken.objects.filter(
            user_id=account.user_id, application_id=application_id, revoked__isnull=True
        ).update(revoked=timezone.now())
        AccessToken.objects.filter(user_id=account.user_id, application_id=application_id).delete()
        audit_record(
            actor=_self(account.pin),
            action="consent.withdrawn",
            object_type="identity.consent",
            object_id=str(consent.pk),
            before={"party": consent.party.name, "scopes": consent.scopes},
        )


# --- relying parties and partners --------------------------------------------------------------
