"""e-ID accounts and what hangs off them: levels, one-time codes, sessions, login attempts,
and the outside systems that trust them (relying parties by OIDC, eKYC partners by API)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from oauth2_provider.models import Application, Grant


class Account(models.Model):
    """One registry citizen's e-ID. Its Django user's username is the PIN."""

    class Level(models.IntegerChoices):
        ONE = 1, _("mức 1")
        TWO = 2, _("mức 2")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="eid"
    )
    pin = models.CharField(_("số định danh"), max_length=12, unique=True)
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.ONE)
    phone = models.CharField(max_length=15, blank=True)
    email = models.EmailField(blank=True)
    contact_verified_at = models.DateTimeField(null=True, blank=True)
    portrait = models.CharField(
        max_length=200, blank=True, help_text=_("tên tệp ảnh trong kho lưu trữ")
    )
    managed_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Set by "this was not me": no sign-in until an official records an in-person recovery.
    suspended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tài khoản định danh")
        verbose_name_plural = pgettext_lazy("plural", "tài khoản định danh")
        permissions = [("raise_level", _("Nâng tài khoản định danh lên mức 2"))]

    def __str__(self) -> str:
        return f"{self.pin} ({self.get_level_display()})"

    @property
    def active(self) -> bool:
        return self.contact_verified_at is not None and self.managed_by_id is None


class LevelCheck(models.Model):
    """The in-person check that raised an account to level 2: who, where, when, which card."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="level_checks")
    official = models.CharField(max_length=200)
    place = models.CharField(max_length=300)
    card_number = models.CharField(max_length=12)
    checked_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.account.pin} @ {self.place}"


class OneTimeCode(models.Model):
    """A code sent to a phone or e-mail; stored hashed, short-lived, few attempts."""

    class Purpose(models.TextChoices):
        CONTACT = "contact", _("xác nhận liên hệ")
        RESET = "reset", _("đặt lại mật khẩu")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="codes")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    destination = models.CharField(max_length=254)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.purpose} → {self.destination}"


class LoginAttempt(models.Model):
    """Every login attempt: the person's login history, and the per-IP throttle."""

    at = models.DateTimeField(auto_now_add=True)
    account = models.ForeignKey(Account, null=True, on_delete=models.CASCADE, related_name="logins")
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300, blank=True)
    success = models.BooleanField()
    outcome = models.CharField(max_length=40)

    class Meta:
        indexes = [
            models.Index(fields=["ip", "at"], condition=Q(success=False), name="failed_login_ip"),
            models.Index(fields=["account", "-at"], name="login_history"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.outcome}"


class AccountSession(models.Model):
    """A signed-in browser ("my sessions and devices"); ending it deletes the Django session."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    acr = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.account.pin} {self.user_agent[:40]}"


class RelyingParty(models.Model):
    """A service that logs people in through our OpenID Connect provider."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="party")
    name = models.CharField(max_length=200)
    scopes = models.CharField(
        max_length=200, help_text=_("các phạm vi được phép, cách nhau bằng dấu cách")
    )
    pin_claim = models.BooleanField(
        default=False, help_text=_("được tin cậy nhận số định danh (và một sub công khai)")
    )
    min_level = models.PositiveSmallIntegerField(choices=Account.Level.choices, default=1)
    first_party = models.BooleanField(
        default=False, help_text=_("cổng của chính nền tảng: không hỏi sự đồng ý")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("bên sử dụng định danh")
        verbose_name_plural = pgettext_lazy("plural", "bên sử dụng định danh")

    def __str__(self) -> str:
        return self.name


class Partner(models.Model):
    """A bank, telecom or hospital allowed to call the identity-verification API."""

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="partner"
    )
    name = models.CharField(max_length=200, unique=True)  # shown in people's access logs
    rate_per_second = models.PositiveIntegerField(default=50)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Consent(models.Model):
    """A citizen's consent to share claims with a relying party; withdrawable."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="consents")
    party = models.ForeignKey(RelyingParty, on_delete=models.CASCADE, related_name="consents")
    scopes = models.CharField(max_length=200)
    granted_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "party"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_live_consent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account.pin} → {self.party.name}: {self.scopes}"


class CodeContext(models.Model):
    """How the person authenticated when an authorization code was issued, for the id_token."""

    grant = models.OneToOneField(Grant, on_delete=models.CASCADE, related_name="context")
    acr = models.PositiveSmallIntegerField()
    auth_time = models.DateTimeField()

    def __str__(self) -> str:
        return f"acr {self.acr} @ {self.auth_time:%Y-%m-%d %H:%M}"


class RateCounter(models.Model):
    """One fixed window of one limit (a login throttle, a code quota, a partner's lease), kept
    in PostgreSQL so that every web process counts against the same number."""

    key = models.CharField(max_length=200)
    window_start = models.BigIntegerField(help_text=_("số giây kể từ mốc epoch"))
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="one_counter_per_window")
        ]
        indexes = [models.Index(fields=["window_start"], name="rate_counter_age")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start}: {self.count}"


class TokenContext(models.Model):
    """How the person authenticated, kept for the tokens issued from one authorization code:
    by refresh-token family, so that refreshed id_tokens keep `acr` and `auth_time`; and by the
    code's checksum, so that the code presented again revokes that family (RFC 6749 §4.1.2)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    code_checksum = models.CharField(max_length=64, unique=True)
    token_family = models.UUIDField(null=True, unique=True)
    acr = models.PositiveSmallIntegerField()
    auth_time = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"acr {self.acr} @ {self.auth_time:%Y-%m-%d %H:%M}"
