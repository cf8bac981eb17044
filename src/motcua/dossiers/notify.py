"""Telling the citizen: after commit, by e-mail or SMS to their confirmed e-ID contact."""

from __future__ import annotations

import logging

from django.conf import settings

from motcua.catalog.selectors import Status
from motcua.core.messaging import message_send
from motcua.dossiers.models import Dossier
from motcua.identity.selectors import contact_of

log = logging.getLogger("motcua.dossiers")


def status_changed(dossier_id: int) -> None:
    """Runs after the change committed, so a failing gateway never undoes it: it is logged."""
    dossier = Dossier.objects.filter(pk=dossier_id).first()
    contact = contact_of(dossier.applicant_pin) if dossier else None
    if dossier is None or contact is None:
        return
    text = (
        f"Hồ sơ {dossier.code}: {Status(dossier.status).label}. "
        f"Hẹn trả kết quả / appointment: {dossier.due_on:%d/%m/%Y}. "
        f"{settings.PUBLIC_URL}/ho-so/{dossier.pk}/"
    )
    for destination in (contact.email, contact.phone):
        if not destination:
            continue
        try:
            message_send(destination=destination, subject=f"Hồ sơ {dossier.code}", text=text)
        except Exception:
            log.exception("notifying %s of dossier %s failed", destination, dossier.code)
