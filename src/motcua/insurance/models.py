"""The social-insurance sector (Bảo hiểm xã hội): social-insurance numbers, who is insured or a
pensioner, health-insurance cards and benefit decisions. People are referred to by PIN, never by
a foreign key into the registry (another app)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy


class Standing(models.TextChoices):
    INSURED = "insured", gettext_lazy("đang tham gia bảo hiểm xã hội")
    PENSIONER = "pensioner", gettext_lazy("đang hưởng lương hưu, trợ cấp BHXH hằng tháng")


class EndReason(models.TextChoices):
    DEATH = "death", gettext_lazy("đã mất")
    STOPPED = "stopped", gettext_lazy("dừng tham gia, dừng hưởng")


class CardGroup(models.TextChoices):
    CHILD = "TE", gettext_lazy("trẻ em dưới 6 tuổi")


class CardStatus(models.TextChoices):
    ACTIVE = "active", gettext_lazy("đang có hiệu lực")
    REPLACED = "replaced", gettext_lazy("đã được thay thế")


class DecisionKind(models.TextChoices):
    FUNERAL = "funeral", gettext_lazy("trợ cấp mai táng")
    SURVIVOR_ONE_TIME = "survivor_one_time", gettext_lazy("trợ cấp tuất một lần")
    SURVIVOR_MONTHLY = "survivor_monthly", gettext_lazy("trợ cấp tuất hằng tháng")


class RateKey(models.TextChoices):
    BASE_SALARY = "base_salary", gettext_lazy("lương cơ sở (đồng/tháng)")
    FUNERAL_MULTIPLIER = "funeral_multiplier", gettext_lazy("trợ cấp mai táng (lần lương cơ sở)")
    SURVIVOR_MONTHS_PER_YEAR = (
        "survivor_months_per_year",
        gettext_lazy("tuất một lần: số tháng lương cho mỗi năm đóng"),
    )
    SURVIVOR_MIN_MONTHS = "survivor_min_months", gettext_lazy("tuất một lần: số tháng tối thiểu")
    SURVIVOR_PENSION_START_MONTHS = (
        "survivor_pension_start_months",
        gettext_lazy("tuất một lần của người hưởng lương hưu: số tháng lương hưu ban đầu"),
    )
    SURVIVOR_PENSION_DECREASE = (
        "survivor_pension_decrease",
        gettext_lazy("tuất một lần: số tháng giảm cho mỗi tháng đã hưởng lương hưu"),
    )
    SURVIVOR_MONTHLY_SHARE = (
        "survivor_monthly_share",
        gettext_lazy("tuất hằng tháng (phần lương cơ sở)"),
    )
    SURVIVOR_MONTHLY_MIN_YEARS = (
        "survivor_monthly_min_years",
        gettext_lazy("tuất hằng tháng: số năm đóng tối thiểu"),
    )


class Rate(models.Model):
    """One rate from a date on: the rate on a day is the row with the latest `valid_from` not
    after it. Loaded from data/rates.json by migration 0002, edited in the admin afterwards."""

    key = models.CharField(gettext_lazy("mức"), max_length=40, choices=RateKey.choices)
    valid_from = models.DateField(gettext_lazy("áp dụng từ"))
    value = models.DecimalField(gettext_lazy("giá trị"), max_digits=14, decimal_places=4)
    legal_basis = models.CharField(gettext_lazy("căn cứ"), max_length=200)
    note = models.TextField(gettext_lazy("ghi chú"), blank=True, default="")

    class Meta:
        verbose_name = gettext_lazy("mức trợ cấp, mức lương")
        verbose_name_plural = gettext_lazy("mức trợ cấp, mức lương")
        constraints = [
            models.UniqueConstraint(fields=["key", "valid_from"], name="insurance_rate_once")
        ]
        ordering = ("key", "-valid_from")

    def __str__(self) -> str:
        return f"{self.key} {self.valid_from}: {self.value}"


class InsuranceNumber(models.Model):
    """The social-insurance number (mã số BHXH): 10 digits, one per person for life."""

    pin = models.CharField(gettext_lazy("số định danh"), max_length=12, primary_key=True)
    number = models.CharField(gettext_lazy("mã số BHXH"), max_length=10, unique=True)
    issued_at = models.DateTimeField(gettext_lazy("cấp lúc"))

    class Meta:
        verbose_name = gettext_lazy("mã số BHXH")
        verbose_name_plural = gettext_lazy("mã số BHXH")

    def __str__(self) -> str:
        return self.number


class InsuredPerson(models.Model):
    """Someone insured (compulsory or voluntary) or drawing a pension / monthly allowance."""

    pin = models.CharField(gettext_lazy("số định danh"), max_length=12, unique=True)
    standing = models.CharField(gettext_lazy("diện"), max_length=12, choices=Standing.choices)
    since = models.DateField(gettext_lazy("từ ngày"))
    monthly_basis = models.PositiveBigIntegerField(
        gettext_lazy("mức bình quân tiền lương / lương hưu (đồng)"),
        null=True,
        blank=True,
        help_text=gettext_lazy("để trống: tính theo lương cơ sở"),
    )
    ended_on = models.DateField(gettext_lazy("đến ngày"), null=True, blank=True)
    end_reason = models.CharField(
        gettext_lazy("lý do kết thúc"), max_length=12, choices=EndReason.choices, blank=True
    )

    class Meta:
        verbose_name = gettext_lazy("người tham gia, hưởng BHXH")
        verbose_name_plural = gettext_lazy("người tham gia, hưởng BHXH")

    def __str__(self) -> str:
        return self.pin


class HealthCard(models.Model):
    code = models.CharField(gettext_lazy("mã thẻ"), max_length=15, db_index=True)
    pin = models.CharField(gettext_lazy("số định danh"), max_length=12, db_index=True)
    group = models.CharField(gettext_lazy("nhóm"), max_length=2, choices=CardGroup.choices)
    valid_from = models.DateField(gettext_lazy("hiệu lực từ"))
    valid_to = models.DateField(gettext_lazy("hiệu lực đến"))
    facility = models.CharField(gettext_lazy("nơi đăng ký khám chữa bệnh ban đầu"), max_length=200)
    issued_at = models.DateTimeField(gettext_lazy("cấp lúc"))
    reference = models.CharField(gettext_lazy("hồ sơ"), max_length=40, blank=True, default="")
    status = models.CharField(
        gettext_lazy("trạng thái"),
        max_length=10,
        choices=CardStatus.choices,
        default=CardStatus.ACTIVE,
    )

    class Meta:
        verbose_name = gettext_lazy("thẻ BHYT")
        verbose_name_plural = gettext_lazy("thẻ BHYT")
        constraints = [
            models.UniqueConstraint(
                fields=["reference"], condition=~Q(reference=""), name="insurance_card_reference"
            ),
            models.UniqueConstraint(
                fields=["pin", "group"],
                condition=Q(status="active"),
                name="insurance_one_active_card_per_group",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class BenefitDecision(models.Model):
    kind = models.CharField(gettext_lazy("chế độ"), max_length=20, choices=DecisionKind.choices)
    number = models.CharField(gettext_lazy("số quyết định"), max_length=40, unique=True)
    deceased_pin = models.CharField(gettext_lazy("người đã mất"), max_length=12, db_index=True)
    beneficiary_pin = models.CharField(gettext_lazy("người nhận"), max_length=12, db_index=True)
    death_date = models.DateField(gettext_lazy("ngày mất"))
    amount = models.PositiveBigIntegerField(gettext_lazy("số tiền (đồng)"))
    basis = models.JSONField(gettext_lazy("cách tính"), default=dict)
    decided_on = models.DateField(gettext_lazy("ngày quyết định"))
    decided_at = models.DateTimeField(gettext_lazy("ghi lúc"))
    reference = models.CharField(gettext_lazy("hồ sơ"), max_length=40, blank=True, default="")

    class Meta:
        verbose_name = gettext_lazy("quyết định hưởng chế độ tử tuất")
        verbose_name_plural = gettext_lazy("quyết định hưởng chế độ tử tuất")
        constraints = [
            models.UniqueConstraint(
                fields=["reference", "kind"],
                condition=~Q(reference=""),
                name="insurance_decision_reference",
            ),
            # Paid once per death: the funeral allowance and the one-time survivor benefit.
            models.UniqueConstraint(
                fields=["deceased_pin", "kind"],
                condition=Q(kind__in=["funeral", "survivor_one_time"]),
                name="insurance_decision_once_per_death",
            ),
            models.UniqueConstraint(
                fields=["deceased_pin", "beneficiary_pin", "kind"],
                name="insurance_decision_once_per_beneficiary",
            ),
        ]

    def __str__(self) -> str:
        return self.number
