"""The social-assistance sector (bảo trợ xã hội, Nghị định 20/2021/NĐ-CP as amended by
76/2024/NĐ-CP): who receives a monthly social allowance, and the support decisions taken on
their death. People are referred to by PIN, never by a foreign key into the registry."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy


class Category(models.TextChoices):
    """Who receives the monthly allowance (Nghị định 20/2021 Điều 5), a selection; each has its
    coefficient of the assistance standard in data/rates.json and its ages in services.py."""

    ORPHAN_UNDER_4 = "orphan_under_4", gettext_lazy("trẻ em dưới 4 tuổi mồ côi, bị bỏ rơi")
    ORPHAN = "orphan", gettext_lazy("trẻ em từ 4 tuổi mồ côi, bị bỏ rơi")
    ELDERLY_POOR_ALONE = (
        "elderly_poor_alone",
        gettext_lazy("người cao tuổi thuộc hộ nghèo không có người phụng dưỡng"),
    )
    ELDERLY_80 = "elderly_80", gettext_lazy("người từ đủ 80 tuổi không có lương hưu")
    DISABLED_SEVERE = "disabled_severe", gettext_lazy("người khuyết tật nặng")
    DISABLED_ESPECIALLY_SEVERE = (
        "disabled_especially_severe",
        gettext_lazy("người khuyết tật đặc biệt nặng"),
    )
    SINGLE_PARENT_POOR = (
        "single_parent_poor",
        gettext_lazy("người đơn thân thuộc hộ nghèo đang nuôi con"),
    )


class EndReason(models.TextChoices):
    DEATH = "death", gettext_lazy("đã mất")
    MOVED = "moved", gettext_lazy("chuyển nơi cư trú")
    NOT_ELIGIBLE = "not_eligible", gettext_lazy("không còn đủ điều kiện")
    OTHER = "other", gettext_lazy("lý do khác")


class DecisionKind(models.TextChoices):
    FUNERAL = "funeral", gettext_lazy("hỗ trợ chi phí mai táng")


class RateKey(models.TextChoices):
    STANDARD = "standard", gettext_lazy("mức chuẩn trợ giúp xã hội (đồng/tháng)")
    FUNERAL_MULTIPLIER = (
        "funeral_multiplier",
        gettext_lazy("hỗ trợ chi phí mai táng (lần mức chuẩn)"),
    )
    COEFFICIENT_ORPHAN_UNDER_4 = "coefficient:orphan_under_4", Category.ORPHAN_UNDER_4.label
    COEFFICIENT_ORPHAN = "coefficient:orphan", Category.ORPHAN.label
    COEFFICIENT_ELDERLY_POOR_ALONE = (
        "coefficient:elderly_poor_alone",
        Category.ELDERLY_POOR_ALONE.label,
    )
    COEFFICIENT_ELDERLY_80 = "coefficient:elderly_80", Category.ELDERLY_80.label
    COEFFICIENT_DISABLED_SEVERE = "coefficient:disabled_severe", Category.DISABLED_SEVERE.label
    COEFFICIENT_DISABLED_ESPECIALLY_SEVERE = (
        "coefficient:disabled_especially_severe",
        Category.DISABLED_ESPECIALLY_SEVERE.label,
    )
    COEFFICIENT_SINGLE_PARENT_POOR = (
        "coefficient:single_parent_poor",
        Category.SINGLE_PARENT_POOR.label,
    )


class Rate(models.Model):
    """One rate from a date on: the rate on a day is the row with the latest `valid_from` not
    after it. Loaded from data/rates.json by migration 0002, edited in the admin afterwards."""

    key = models.CharField(gettext_lazy("mức"), max_length=60, choices=RateKey.choices)
    valid_from = models.DateField(gettext_lazy("áp dụng từ"))
    value = models.DecimalField(gettext_lazy("giá trị"), max_digits=14, decimal_places=4)
    legal_basis = models.CharField(gettext_lazy("căn cứ"), max_length=200)
    note = models.TextField(gettext_lazy("ghi chú"), blank=True, default="")

    class Meta:
        verbose_name = gettext_lazy("mức trợ giúp xã hội")
        verbose_name_plural = gettext_lazy("mức trợ giúp xã hội")
        constraints = [
            models.UniqueConstraint(fields=["key", "valid_from"], name="benefits_rate_once")
        ]
        ordering = ("key", "-valid_from")

    def __str__(self) -> str:
        return f"{self.key} {self.valid_from}: {self.value}"


class Recipient(models.Model):
    pin = models.CharField(gettext_lazy("số định danh"), max_length=12, unique=True)
    category = models.CharField(gettext_lazy("diện hưởng"), max_length=40, choices=Category.choices)
    monthly_allowance = models.PositiveBigIntegerField(gettext_lazy("trợ cấp hằng tháng (đồng)"))
    since = models.DateField(gettext_lazy("hưởng từ"))
    ended_on = models.DateField(gettext_lazy("thôi hưởng từ"), null=True, blank=True)
    end_reason = models.CharField(
        gettext_lazy("lý do thôi hưởng"), max_length=20, choices=EndReason.choices, blank=True
    )
    end_note = models.CharField(gettext_lazy("ghi chú"), max_length=200, blank=True, default="")
    end_reference = models.CharField(
        gettext_lazy("hồ sơ thôi hưởng"), max_length=40, blank=True, default=""
    )

    class Meta:
        verbose_name = gettext_lazy("đối tượng bảo trợ xã hội")
        verbose_name_plural = gettext_lazy("đối tượng bảo trợ xã hội")

    def __str__(self) -> str:
        return self.pin


class SupportDecision(models.Model):
    kind = models.CharField(
        gettext_lazy("chế độ"),
        max_length=20,
        choices=DecisionKind.choices,
        default=DecisionKind.FUNERAL,
    )
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
        verbose_name = gettext_lazy("quyết định hỗ trợ mai táng")
        verbose_name_plural = gettext_lazy("quyết định hỗ trợ mai táng")
        constraints = [
            models.UniqueConstraint(
                fields=["reference", "kind"],
                condition=~Q(reference=""),
                name="benefits_decision_reference",
            ),
            models.UniqueConstraint(
                fields=["deceased_pin", "kind"], name="benefits_decision_once_per_death"
            ),
        ]

    def __str__(self) -> str:
        return self.number
