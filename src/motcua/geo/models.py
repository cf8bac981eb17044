"""Administrative units of two schemes that coexist: the 2025 one (34 provinces, wards, no
districts) and the one before it (63 provinces, districts, wards), plus the old → new mapping.

Units are master data loaded from the installed packages (see loader.py); other apps refer to
them by `key` ("2025:79", "pre2025:00070") through selectors, never by foreign key.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Func, TextField
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Scheme(models.TextChoices):
    CURRENT = "2025", _("Từ 01/07/2025 (Nghị quyết 202/2025/QH15)")
    PRE2025 = "pre2025", _("Trước 01/07/2025")


class Level(models.TextChoices):
    PROVINCE = "province", _("Tỉnh, thành phố")
    DISTRICT = "district", _("Quận, huyện")
    WARD = "ward", _("Phường, xã")


def fold(expression: models.Expression | F) -> Func:
    """Accent- and case-insensitive form of a text (SQL function from migration 0001)."""
    return Func(expression, function="motcua_fold", output_field=TextField())


class AdministrativeUnit(models.Model):
    key = models.CharField(
        max_length=16, primary_key=True, help_text=_("<hệ mã>:<mã>, ví dụ 2025:28615")
    )
    scheme = models.CharField(max_length=8, choices=Scheme.choices)
    code = models.CharField(max_length=5, help_text=_("Mã thống kê"))
    level = models.CharField(max_length=8, choices=Level.choices)
    kind = models.CharField(max_length=16, help_text=_("Loại, đứng trước tên: tỉnh, xã, …"))
    name = models.CharField(max_length=100)
    full_name = models.CharField(max_length=255, help_text=_("Tên kèm các cấp trên"))
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Denormalised (a province points to itself) so that "all wards of a province" needs no
    # walk through districts.
    province = models.ForeignKey("self", on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("đơn vị hành chính")
        verbose_name_plural = pgettext_lazy("plural", "đơn vị hành chính")
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="geo_unit_scheme_code_unique"),
        ]
        indexes = [
            GinIndex(OpClass(fold(F("name")), name="gin_trgm_ops"), name="geo_unit_name_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.full_name}"


class MappingBasis(models.TextChoices):
    LAW = "law", _("Nghị quyết 202/2025/QH15 (sáp nhập nguyên tỉnh)")
    CODE_KEPT = "code_kept", _("Xã mới giữ mã của xã cũ này nên bao gồm (một phần) xã cũ")


class UnitMapping(models.Model):
    """One old unit → one new unit that took over (part of) its territory."""

    old = models.ForeignKey(
        AdministrativeUnit, on_delete=models.CASCADE, related_name="successor_links"
    )
    new = models.ForeignKey(
        AdministrativeUnit, on_delete=models.CASCADE, related_name="predecessor_links"
    )
    basis = models.CharField(max_length=16, choices=MappingBasis.choices)

    class Meta:
        verbose_name = _("chuyển đổi đơn vị cũ → mới")
        verbose_name_plural = pgettext_lazy("plural", "chuyển đổi đơn vị cũ → mới")
        constraints = [
            models.UniqueConstraint(fields=["old", "new"], name="geo_mapping_old_new_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.old_id} → {self.new_id}"
