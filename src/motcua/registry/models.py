"""The population registry. Citizen is the current record, a projection of the append-only
LifeEvent log (see services.citizen_rebuild). Places are geo unit keys ("2025:82",
"pre2025:26734"), resolved through geo.selectors: no foreign keys into another app."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext, gettext_lazy, gettext_noop, pgettext_lazy


class Sex(models.TextChoices):
    MALE = "M", gettext_lazy("Nam")
    FEMALE = "F", gettext_lazy("Nữ")


class DatePrecision(models.TextChoices):
    DAY = "day", gettext_lazy("ngày")
    MONTH = "month", gettext_lazy("tháng")
    YEAR = "year", gettext_lazy("năm")


class ContactSource(models.TextChoices):
    """Where a contact on record was given, in person."""

    CARD_ISSUANCE = "card_issuance", gettext_lazy("cấp thẻ căn cước")
    RESIDENCE_REGISTRATION = "residence_registration", gettext_lazy("đăng ký cư trú")


class Fold(Func):
    """motcua_fold(text): lower case, accents and đ removed (defined in geo's first migration)."""

    function = "motcua_fold"
    output_field = models.TextField()


class FixedCharField(models.CharField):
    """char(n), for codes of exactly n characters. PostgreSQL then gets no extra pattern-matching
    (`_like`) index beside each key and foreign key, which nothing here would use."""

    def db_type(self, connection: Any) -> str:
        return f"char({self.max_length})"


class Citizen(models.Model):
    pin = FixedCharField(gettext_lazy("số định danh"), max_length=12, primary_key=True)
    full_name = models.CharField(gettext_lazy("họ và tên"), max_length=150)
    sex = models.CharField(gettext_lazy("giới tính"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(
        gettext_lazy("ngày sinh"), help_text=gettext_lazy("ngày đầu của khoảng đã biết")
    )
    birth_date_precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    birth_place = models.CharField(gettext_lazy("nơi đăng ký khai sinh"), max_length=40)
    hometown = models.CharField(gettext_lazy("quê quán"), max_length=40, blank=True)
    ethnicity = models.CharField(gettext_lazy("dân tộc"), max_length=40, default="Kinh")
    religion = models.CharField(
        gettext_lazy("tôn giáo"), max_length=40, default=gettext_noop("Không")
    )
    nationality = models.CharField(gettext_lazy("quốc tịch"), max_length=2, default="VN")
    father_pin = models.CharField(max_length=12, blank=True, default="")
    mother_pin = models.CharField(max_length=12, blank=True, default="")
    spouse_pin = models.CharField(max_length=12, blank=True, default="")
    cmnd = FixedCharField(
        gettext_lazy("số CMND cũ"), max_length=9, null=True, blank=True, unique=True
    )
    death_date = models.DateField(gettext_lazy("ngày mất"), null=True, blank=True)
    # Contacts on record: given in person where a card was issued or a residence registered,
    # never typed by whoever registers an e-ID. One-time codes that prove a level-1
    # registration go only here.
    phone = models.CharField(gettext_lazy("điện thoại"), max_length=15, blank=True, default="")
    phone_source = models.CharField(
        max_length=24, choices=ContactSource.choices, blank=True, default=""
    )
    phone_recorded_at = models.DateTimeField(null=True, blank=True)
    email = models.CharField(gettext_lazy("thư điện tử"), max_length=254, blank=True, default="")
    email_source = models.CharField(
        max_length=24, choices=ContactSource.choices, blank=True, default=""
    )
    email_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = gettext_lazy("công dân")
        verbose_name_plural = pgettext_lazy("plural", "công dân")
        permissions = [("verify_citizen", gettext_lazy("Đối chiếu thông tin công dân"))]
        indexes = [
            models.Index(fields=["birth_date"], name="citizen_birth_date"),
            # A parent's children (their e-ID documents, kinship checks); most rows have none.
            models.Index(fields=["mother_pin"], name="citizen_mother", condition=~Q(mother_pin="")),
            models.Index(fields=["father_pin"], name="citizen_father", condition=~Q(father_pin="")),
            GinIndex(OpClass(Fold("full_name"), name="gin_trgm_ops"), name="citizen_name_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.pin})"

    @property
    def is_living(self) -> bool:
        return self.death_date is None


class LifeEvent(models.Model):
    """Append-only: birth, death, marriage, divorce, residence change, card issued, correction.
    `after` holds the citizen fields the event set; folding them in order rebuilds the record."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", gettext_lazy("đăng ký lần đầu")
        BIRTH = "birth", gettext_lazy("khai sinh")
        DEATH = "death", gettext_lazy("khai tử")
        MARRIAGE = "marriage", gettext_lazy("kết hôn")
        DIVORCE = "divorce", gettext_lazy("ly hôn")
        RESIDENCE = "residence", gettext_lazy("thay đổi cư trú")
        CARD = "card", gettext_lazy("cấp thẻ căn cước")
        CORRECTION = "correction", gettext_lazy("điều chỉnh thông tin")
        DEREGISTERED = "deregistered", gettext_lazy("xóa đăng ký cư trú")
        HOUSEHOLD = "household", gettext_lazy("thay đổi chủ hộ")
        ABSENCE = "absence", gettext_lazy("khai báo tạm vắng")

    citizen = models.ForeignKey(
        Citizen,
        on_delete=models.PROTECT,
        related_name="events",
        db_column="citizen_pin",
        db_index=False,  # lifeevent_citizen (citizen, id) serves every lookup
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    occurred_on = models.DateField()
    recorded_at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    legal_basis = models.CharField(gettext_lazy("căn cứ pháp lý"), max_length=300, blank=True)
    reason = models.TextField(blank=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    # The act that caused the change (a dossier's code, ...): a retried act finds its event.
    # A default in the database too: the seed COPYs events without this column.
    reference = models.CharField(
        gettext_lazy("số hồ sơ, văn bản"),
        max_length=64,
        blank=True,
        default="",
        db_default="",
        db_index=True,
    )

    class Meta:
        verbose_name = gettext_lazy("sự kiện hộ tịch")
        verbose_name_plural = pgettext_lazy("plural", "sự kiện hộ tịch")
        indexes = [models.Index(fields=["citizen", "id"], name="lifeevent_citizen")]

    def __str__(self) -> str:
        return f"{self.kind} {self.citizen_id} {self.occurred_on}"


class Household(models.Model):
    """A household (hộ); its id is the household number."""

    ward = models.CharField(max_length=40)
    address = models.CharField(max_length=200)
    created_on = models.DateField()

    class Meta:
        verbose_name = gettext_lazy("hộ gia đình")

    def __str__(self) -> str:
        return gettext("Hộ %(id)s") % {"id": self.pk}


class Relation(models.TextChoices):
    HEAD = "head", gettext_lazy("chủ hộ")
    SPOUSE = "spouse", gettext_lazy("vợ/chồng")
    CHILD = "child", gettext_lazy("con")
    PARENT = "parent", gettext_lazy("cha/mẹ")
    GRANDCHILD = "grandchild", gettext_lazy("cháu")
    GRANDPARENT = "grandparent", gettext_lazy("ông/bà")
    SIBLING = "sibling", gettext_lazy("anh/chị/em")
    OTHER = "other", gettext_lazy("khác")


class HouseholdMember(models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members")
    # Lookups are of current membership, which the partial unique index serves.
    citizen = models.ForeignKey(
        Citizen, on_delete=models.PROTECT, db_column="citizen_pin", db_index=False
    )
    relation = models.CharField(
        gettext_lazy("quan hệ với chủ hộ"), max_length=12, choices=Relation.choices
    )
    joined_on = models.DateField()
    left_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["citizen"], condition=Q(left_on__isnull=True), name="one_current_household"
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(left_on__isnull=True, relation="head"),
                name="one_head_per_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.citizen_id} {self.relation} of household {self.household_id}"


class Residence(models.Model):
    """Residence history: the open row (valid_to null) of each kind is the current one."""

    class Kind(models.TextChoices):
        PERMANENT = "permanent", gettext_lazy("thường trú")
        TEMPORARY = "temporary", gettext_lazy("tạm trú")

    citizen = models.ForeignKey(
        Citizen, on_delete=models.PROTECT, db_column="citizen_pin", related_name="residences"
    )
    kind = models.CharField(max_length=9, choices=Kind.choices)
    ward = models.CharField(max_length=40)
    address = models.CharField(max_length=200)
    # Nothing looks residences up by household (members are found through HouseholdMember).
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["citizen", "kind"],
                condition=Q(valid_to__isnull=True),
                name="one_current_residence_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.citizen_id} {self.valid_from}–{self.valid_to or ''}"


class DeletionGrounds(models.TextChoices):
    """Why a residence registration is deleted (Luật Cư trú 2020, Điều 24)."""

    DEATH = "death", gettext_lazy("chết, bị Tòa án tuyên bố là đã chết")
    ABROAD = "abroad", gettext_lazy("ra nước ngoài để định cư")
    MOVED = "moved", gettext_lazy("đã đăng ký thường trú tại nơi khác")
    OTHER = "other", gettext_lazy("trường hợp khác theo Điều 24")


class Absence(models.Model):
    """A declared absence (khai báo tạm vắng, Luật Cư trú 2020, Điều 31)."""

    citizen = models.ForeignKey(
        Citizen, on_delete=models.PROTECT, db_column="citizen_pin", related_name="absences"
    )
    since = models.DateField(gettext_lazy("từ ngày"))
    until = models.DateField(gettext_lazy("đến ngày"))
    destination = models.CharField(gettext_lazy("nơi đến"), max_length=200)
    reason = models.TextField(gettext_lazy("lý do"), blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = gettext_lazy("khai báo tạm vắng")
        verbose_name_plural = pgettext_lazy("plural", "khai báo tạm vắng")
        constraints = [
            models.CheckConstraint(condition=Q(until__gt=F("since")), name="absence_until_after")
        ]

    def __str__(self) -> str:
        return f"absence {self.citizen_id} {self.since}–{self.until}"


class IdCard(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", gettext_lazy("còn hiệu lực")
        REPLACED = "replaced", gettext_lazy("đã cấp đổi")
        REVOKED = "revoked", gettext_lazy("đã thu hồi")

    citizen = models.ForeignKey(
        Citizen, on_delete=models.PROTECT, db_column="citizen_pin", related_name="cards"
    )
    issued_on = models.DateField()
    expires_on = models.DateField(
        null=True,
        blank=True,
        help_text=gettext_lazy("để trống: có giá trị suốt đời (cấp từ 58 tuổi)"),
    )
    issued_by = models.CharField(max_length=200, default=gettext_noop("Cục Cảnh sát QLHC về TTXH"))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        verbose_name = gettext_lazy("thẻ căn cước")
        constraints = [
            models.UniqueConstraint(
                fields=["citizen"], condition=Q(status="active"), name="one_active_card"
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_on"], condition=Q(status="active"), name="idcard_active_expiry"
            )
        ]

    def __str__(self) -> str:
        return f"card {self.citizen_id} {self.issued_on}"
