"""Sending one-time codes: e-mail through Django's mail backend, SMS through a gateway chosen by
the MOTCUA_SMS_GATEWAY setting. The default gateway writes the message to the log, which is what
a deployment without an SMS contract (and the demo) needs; a real one implements `send`."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

log = logging.getLogger("motcua.sms")


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LoggingSmsGateway:
    def send(self, phone: str, text: str) -> None:
        log.warning("SMS to %s: %s", phone, text)


class OutboxSmsGateway:
    """Keeps messages in memory, like Django's locmem mail backend: for tests."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        self.outbox.append((phone, text))


def message_send(*, destination: str, subject: str, text: str) -> None:
    if "@" in destination:
        send_mail(subject, text, None, [destination])
    else:
        gateway: SmsGateway = import_string(settings.SMS_GATEWAY)()
        gateway.send(destination, text)
