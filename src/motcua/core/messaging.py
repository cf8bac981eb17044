"""Sending one-time codes: e-mail through Django's mail backend, SMS through a gateway chosen by
the MOTCUA_SMS_GATEWAY setting. The default gateway writes the message to the log, which is what
a development checkout and the demo need; a real one implements `send`. Production settings
refuse the logging gateway (and the console, locmem and file mail backends) at start-up."""

from __future__ import annotations

import logging
import re
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

log = logging.getLogger("motcua.sms")


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> None: ...


_DIGITS = re.compile(r"\d{4,}")


def masked(text: str) -> str:
    """The text with every run of four or more digits (codes, numbers) replaced by dots."""
    return _DIGITS.sub(lambda m: "•" * len(m.group()), text)


class LoggingSmsGateway:
    """Writes each SMS to the log instead of sending it.

    Logs are read by more people than the person a code is meant for (operators, log shippers,
    whoever gets a copy of a support bundle), and they are kept for long: a code there is a code
    given away. So the code and the number are masked unless the operator asked to see them,
    with DEBUG (a developer's own machine) or MOTCUA_SMS_LOG_CODES=1 (the demo, whose printout
    says the codes are in the log). Production settings refuse this gateway altogether."""

    def send(self, phone: str, text: str) -> None:
        if settings.DEBUG or getattr(settings, "SMS_LOG_CODES", False):
            log.warning("SMS to %s: %s", phone, text)
        else:
            log.warning("SMS to %s: %s", "•" * max(len(phone) - 3, 0) + phone[-3:], masked(text))


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
