"""Partner portals (the national public-service portal, a province's portal, the VNeID app):
who they are, what they filed for citizens, where they want status changes sent, and the
outbox of those webhooks."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy, pgettext_lazy


class ExchangePartner(models.Model):
    """A partner portal: an OpenID Connect client of the provider (citizens sign in to it with
    their e-ID) that may also call the exchange API for them."""

    name = models.CharField(gettext_lazy("tên"), max_length=200, unique=True)
    # The OAuth application's client_id: the audience of the citizens' id_tokens and the
    # client of the partner's client-credentials tokens.
    client_id = models.CharField(max_length=100, unique=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = gettext_lazy("cổng đối tác")
        verbose_name_plural = pgettext_lazy("plural", "cổng đối tác")

    def __str__(self) -> str:
        return self.name


class FilingKind(models.TextChoices):
    DOSSIER = "dossier", gettext_lazy("Hồ sơ")
    PACKAGE = "package", gettext_lazy("Hồ sơ liên thông")


class Filing(models.Model):
    """A dossier or linked package a partner filed for a citizen: its status changes go to that
    partner's subscriptions."""

    partner = models.ForeignKey(ExchangePartner, on_delete=models.PROTECT, related_name="filings")
    kind = models.CharField(max_length=8, choices=FilingKind.choices)
    code = models.CharField(max_length=48)
    applicant_pin = models.CharField(max_length=12)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = gettext_lazy("hồ sơ nộp qua cổng đối tác")
        verbose_name_plural = pgettext_lazy("plural", "hồ sơ nộp qua cổng đối tác")
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="filing_once")]

    def __str__(self) -> str:
        return f"{self.partner_id}:{self.kind}:{self.code}"


class Subscription(models.Model):
    """Where a partner wants status changes sent, signed with a secret only it and we know
    (stored encrypted, shown once)."""

    partner = models.ForeignKey(
        ExchangePartner, on_delete=models.CASCADE, related_name="subscriptions"
    )
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret_encrypted = models.TextField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = gettext_lazy("đăng ký nhận thông báo")
        verbose_name_plural = pgettext_lazy("plural", "đăng ký nhận thông báo")

    def __str__(self) -> str:
        return f"{self.partner_id} → {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Đang chờ gửi")
    DELIVERED = "delivered", gettext_lazy("Đã gửi")
    FAILED = "failed", gettext_lazy("Gửi không được, đã dừng")


class Delivery(models.Model):
    """One event for one subscription (never twice), sent until the receiver answers 2xx or
    the attempts run out."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.BigIntegerField()  # the dossier event's id
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = gettext_lazy("lượt gửi thông báo")
        verbose_name_plural = pgettext_lazy("plural", "lượt gửi thông báo")
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=models.Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id}:{self.event_id} {self.status}"


class Cursor(models.Model):
    """How far the scan of dossier events has safely got."""

    name = models.CharField(max_length=40, primary_key=True)
    position = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}@{self.position}"
