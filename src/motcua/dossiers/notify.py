"""Telling the citizen: after commit, by e-mail or SMS to their confirmed e-ID contact."""

from __future__ import annotations

import logging

from django.conf import settings

from motcua.catalog.selectors import Status
from motcua.core.messaging import message_send
from motcua.dossiers.models import Dossier, PackageStep
from motcua.identity.selectors import contact_of

log = logging.getLogger("motcua.dossiers")


def status_changed(dossier_id: int) -> None:
    """Runs after the change committed: the linked package the dossier is a step of moves on,
    and the citizen is told (a failing gateway never undoes the change: it is logged)."""
    dossier = Dossier.objects.filter(pk=dossier_id).first()
    if dossier is not None:
        _package_moves_on(dossier)
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


def _package_moves_on(dossier: Dossier) -> None:
    from motcua.dossiers.packages import package_enqueue, package_wakes_on  # builds on services

    if not package_wakes_on(dossier.status):
        return
    step = PackageStep.objects.filter(dossier=dossier).values_list("package_id").first()
    if step is not None:
        package_enqueue(step[0])
