"""Kernel tables: the hash-chained audit log of writes, the access log of reads, API keys.

Both logs are append-only: a trigger (see migrations) refuses UPDATE and DELETE, and the audit
chain lets `motcua audit verify` find a row edited or deleted by someone who got past it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy


class AuditEntry(models.Model):
    at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=100)
    reason = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = gettext_lazy("bản ghi nhật ký")
        verbose_name_plural = pgettext_lazy("plural", "nhật ký thay đổi")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"


class AuditHead(models.Model):
    """One row: the last link of the chain. Locking it serialises appends; comparing it with
    the last entry detects a deleted tail."""

    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.last_id}"


class AccessLog(models.Model):
    """A read of a person's data by someone other than that person ("who read my data")."""

    at = models.DateTimeField(auto_now_add=True)
    subject_pin = models.CharField(max_length=12)
    actor = models.CharField(max_length=200)
    actor_kind = models.CharField(max_length=20)
    data = models.CharField(max_length=100)
    purpose = models.CharField(max_length=300)

    class Meta:
        verbose_name = gettext_lazy("lượt truy cập dữ liệu")
        verbose_name_plural = pgettext_lazy("plural", "nhật ký truy cập")
        indexes = [models.Index(fields=["subject_pin", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} read {self.data} of {self.subject_pin}"


def api_key_expiry() -> datetime:
    """A new key's end of life: 90 days from now (`motcua.core.apikeys.DEFAULT_LIFETIME`)."""
    return timezone.now() + timedelta(days=90)


class ApiKey(models.Model):
    """A bearer key for staff tools and partner systems; acts with its user's permissions, only
    on the API operations its scopes name (`motcua.core.apikeys.API_SCOPES`), until it expires.
    Only the SHA-256 of the key is stored."""

    name = models.CharField(max_length=200)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=api_key_expiry)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = gettext_lazy("khoá API")

    def __str__(self) -> str:
        return self.name


class Holiday(models.Model):
    """A day that departs from the Monday–Friday week; deadlines are counted over this table
    (`motcua.core.calendar`). Saturdays and Sundays are off unless a `workday` row says so."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", gettext_lazy("nghỉ lễ, Tết")
        DAY_OFF = "day_off", gettext_lazy("nghỉ bù")
        WORKDAY = "workday", gettext_lazy("làm bù")

    day = models.DateField(unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)

    class Meta:
        verbose_name = gettext_lazy("ngày nghỉ")
        verbose_name_plural = pgettext_lazy("plural", "lịch ngày nghỉ")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class Sequence(models.Model):
    """A named counter (`motcua.core.sequences`), e.g. the receipt numbers of one agency's day."""

    scope = models.CharField(max_length=64, primary_key=True)
    value = models.BigIntegerField()

    class Meta:
        verbose_name = gettext_lazy("bộ đếm")

    def __str__(self) -> str:
        return f"{self.scope} = {self.value}"
