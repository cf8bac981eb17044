"""Dossiers (hồ sơ): what a citizen submitted under which procedure version, where it stands in
the workflow, its deadline, files, timeline, apologies and rating."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy, pgettext_lazy

# A dossier is finished for the deadline once one of these is reached.
FINISHED = ("result_issued", "returned", "rejected", "not_received", "withdrawn")
# No action is left to anybody.
CLOSED = ("returned", "rejected", "not_received", "withdrawn")


class Channel(models.IntegerChoices):
    IN_PERSON = 1, gettext_lazy("Trực tiếp")
    ONLINE = 2, gettext_lazy("Trực tuyến")
    POST = 3, gettext_lazy("Bưu chính công ích")


class Dossier(models.Model):
    code = models.CharField(gettext_lazy("mã hồ sơ"), max_length=48, unique=True)
    procedure_version = models.ForeignKey("catalog.ProcedureVersion", on_delete=models.PROTECT)
    procedure_code = models.CharField(max_length=20)
    agency = models.ForeignKey("catalog.Agency", on_delete=models.PROTECT)
    applicant_pin = models.CharField(max_length=12)
    applicant_name = models.CharField(max_length=200)
    channel = models.PositiveSmallIntegerField(choices=Channel.choices, default=Channel.ONLINE)
    status = models.CharField(max_length=24)
    declaration = models.JSONField()
    fee = models.PositiveIntegerField(default=0)
    fee_exemption = models.CharField(max_length=60, blank=True)
    submitted_at = models.DateTimeField()
    due_on = models.DateField(gettext_lazy("ngày hẹn trả"))
    # While the citizen supplements, the clock stops: the day it stopped.
    paused_on = models.DateField(null=True, blank=True)
    supplement_requests = models.PositiveSmallIntegerField(default=0)
    # Counted late for the service-quality index: finished after the appointment, apologised
    # for, or sent back for a supplement more than once.
    late = models.BooleanField(default=False)
    finished_at = models.DateTimeField(null=True, blank=True)
    assignee = models.CharField(max_length=150, blank=True)
    result_code = models.CharField(max_length=56, blank=True)
    # Optimistic lock: every change bumps it; an action on a stale version is refused.
    version = models.PositiveIntegerField(default=1)
    idempotency_key = models.CharField(max_length=64)

    class Meta:
        verbose_name = gettext_lazy("hồ sơ")
        verbose_name_plural = pgettext_lazy("plural", "hồ sơ")
        constraints = [
            models.UniqueConstraint(
                fields=["applicant_pin", "idempotency_key"], name="dossier_submitted_once"
            )
        ]
        indexes = [
            # The back office's queue: an agency's open dossiers by appointment.
            models.Index(
                fields=["agency", "due_on", "id"],
                name="dossier_queue",
                condition=~models.Q(status__in=CLOSED),
            ),
            models.Index(fields=["agency", "status", "due_on"], name="dossier_agency_status"),
            models.Index(fields=["applicant_pin", "-submitted_at"], name="dossier_applicant"),
        ]

    def __str__(self) -> str:
        return self.code


class Purpose(models.TextChoices):
    SUBMISSION = "submission", gettext_lazy("Nộp kèm hồ sơ")
    SUPPLEMENT = "supplement", gettext_lazy("Bổ sung")
    RESULT = "result", gettext_lazy("Kết quả")


class DossierFile(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="files")
    component = models.CharField(max_length=60)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    storage_name = models.CharField(max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.CharField(max_length=170)

    class Meta:
        verbose_name = gettext_lazy("tệp hồ sơ")
        verbose_name_plural = pgettext_lazy("plural", "tệp hồ sơ")

    def __str__(self) -> str:
        return self.original_name


class DossierEvent(models.Model):
    """One step of the timeline: who did what, when, with which note."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=32)
    source = models.CharField(max_length=24, blank=True)
    target = models.CharField(max_length=24)
    actor = models.CharField(max_length=170)
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = gettext_lazy("bước xử lý")
        verbose_name_plural = pgettext_lazy("plural", "bước xử lý")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.at:%Y-%m-%d %H:%M}"


class Apology(models.Model):
    """The apology and new-appointment slip an overdue dossier needs before it moves on."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="apologies")
    previous_due = models.DateField()
    new_due = models.DateField()
    reason = models.TextField()
    issued_by = models.CharField(max_length=170)
    issued_at = models.DateTimeField()

    class Meta:
        verbose_name = gettext_lazy("phiếu xin lỗi và hẹn lại")
        verbose_name_plural = pgettext_lazy("plural", "phiếu xin lỗi và hẹn lại")

    def __str__(self) -> str:
        return f"{self.previous_due} -> {self.new_due}"


class Rating(models.Model):
    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = gettext_lazy("đánh giá")
        verbose_name_plural = pgettext_lazy("plural", "đánh giá")

    def __str__(self) -> str:
        return f"{self.score}/5"


class DossierEffect(models.Model):
    """What a decision on the dossier changed in another app's records (a registered birth, a
    deleted residence, an issued health card): once per dossier and effect, written in the
    step's transaction, with what it produced (the child's new PIN)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="effects")
    name = models.CharField(max_length=40)
    action = models.CharField(max_length=32)
    outputs = models.JSONField(default=dict)
    at = models.DateTimeField()

    class Meta:
        verbose_name = gettext_lazy("hiệu lực của quyết định")
        verbose_name_plural = pgettext_lazy("plural", "hiệu lực của quyết định")
        constraints = [
            models.UniqueConstraint(fields=["dossier", "name"], name="dossier_effect_once")
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}:{self.name}"


class PackageKind(models.TextChoices):
    BIRTH = "birth", gettext_lazy("Liên thông đăng ký khai sinh, thường trú, cấp thẻ BHYT cho trẻ")
    DEATH = "death", gettext_lazy("Liên thông đăng ký khai tử, xóa thường trú, trợ cấp mai táng")


class PackageStatus(models.TextChoices):
    RUNNING = "running", gettext_lazy("Đang giải quyết")
    COMPLETED = "completed", gettext_lazy("Đã hoàn thành")
    STOPPED = "stopped", gettext_lazy("Dừng vì một bước bị từ chối")
    WITHDRAWN = "withdrawn", gettext_lazy("Công dân rút hồ sơ")


class Package(models.Model):
    """A linked submission (thủ tục liên thông, Decree 63/2024): what the citizen filed once,
    which fans out into one dossier per agency (its steps)."""

    code = models.CharField(gettext_lazy("mã hồ sơ liên thông"), max_length=48, unique=True)
    kind = models.CharField(max_length=8, choices=PackageKind.choices)
    applicant_pin = models.CharField(max_length=12)
    applicant_name = models.CharField(max_length=200)
    declaration = models.JSONField()
    status = models.CharField(
        max_length=10, choices=PackageStatus.choices, default=PackageStatus.RUNNING
    )
    submitted_at = models.DateTimeField()
    # The one appointment the citizen is given for the whole group.
    due_on = models.DateField(gettext_lazy("ngày hẹn trả"))
    finished_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=64)
    # The e-ID level the citizen signed in at: the later steps are filed for them at that level.
    eid_level = models.PositiveSmallIntegerField(default=2)
    # Papers uploaded once for the whole package, held in private storage until the step that
    # needs them is filed: {component: {storage_name, original_name, content_type, size}}.
    files = models.JSONField(default=dict)

    class Meta:
        verbose_name = gettext_lazy("hồ sơ liên thông")
        verbose_name_plural = pgettext_lazy("plural", "hồ sơ liên thông")
        constraints = [
            models.UniqueConstraint(
                fields=["applicant_pin", "idempotency_key"], name="package_submitted_once"
            )
        ]
        indexes = [
            models.Index(fields=["applicant_pin", "-submitted_at"], name="package_applicant"),
            models.Index(
                fields=["status", "id"],
                name="package_running",
                condition=models.Q(status="running"),
            ),
        ]

    def __str__(self) -> str:
        return self.code


class StepStatus(models.TextChoices):
    WAITING = "waiting", gettext_lazy("Chờ bước trước")
    FILED = "filed", gettext_lazy("Đang giải quyết")
    DONE = "done", gettext_lazy("Đã có kết quả")
    REFUSED = "refused", gettext_lazy("Bị từ chối")
    STOPPED = "stopped", gettext_lazy("Không thực hiện do bước trước bị từ chối")


class PackageStep(models.Model):
    """One procedure of a package: filed as its own dossier, in its agency's queue, once the
    step it needs (`after`) has its result."""

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    procedure_code = models.CharField(max_length=20)
    after = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=StepStatus.choices, default=StepStatus.WAITING)
    dossier = models.OneToOneField(
        Dossier, null=True, blank=True, on_delete=models.PROTECT, related_name="package_step"
    )
    # Why the step was refused or stopped, as the citizen is told.
    reason = models.TextField(blank=True)
    # Working days the step may take once filed (the group's rules, data).
    days = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = gettext_lazy("bước liên thông")
        verbose_name_plural = pgettext_lazy("plural", "bước liên thông")
        ordering = ["package", "position"]
        constraints = [
            models.UniqueConstraint(fields=["package", "position"], name="package_step_once")
        ]

    def __str__(self) -> str:
        return f"{self.package_id}#{self.position} {self.procedure_code}"


class OfferStatus(models.TextChoices):
    OFFERED = "offered", gettext_lazy("Đang chờ bạn quyết định")
    ACCEPTED = "accepted", gettext_lazy("Đã nhận")
    DECLINED = "declined", gettext_lazy("Đã từ chối")
    COMPLETED = "completed", gettext_lazy("Đã hoàn thành")
    EXPIRED = "expired", gettext_lazy("Hết hạn")
    AUTOMATIC = "automatic", gettext_lazy("Nhà nước đã tự giải quyết")


class Offer(models.Model):
    """A public service the state offers without being asked (dịch vụ chủ động), because of a
    life event or an age reached. Offered once per rule, person and trigger."""

    rule = models.CharField(max_length=40)
    pin = models.CharField(max_length=12)  # who is offered the service
    subject_pin = models.CharField(max_length=12, blank=True)  # whom it is about
    trigger = models.CharField(max_length=64)  # "event:<id>", "age:<n>:<yyyy>", ...
    procedure_code = models.CharField(max_length=20, blank=True)
    package_kind = models.CharField(max_length=8, blank=True, choices=PackageKind.choices)
    prefill = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=OfferStatus.choices, default=OfferStatus.OFFERED
    )
    offered_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    dossier = models.ForeignKey(
        Dossier, null=True, blank=True, on_delete=models.SET_NULL, related_name="offers"
    )
    package = models.ForeignKey(
        Package, null=True, blank=True, on_delete=models.SET_NULL, related_name="offers"
    )

    class Meta:
        verbose_name = gettext_lazy("dịch vụ chủ động")
        verbose_name_plural = pgettext_lazy("plural", "dịch vụ chủ động")
        constraints = [
            models.UniqueConstraint(fields=["rule", "pin", "trigger"], name="offer_once")
        ]
        indexes = [models.Index(fields=["pin", "status"], name="offer_person")]

    def __str__(self) -> str:
        return f"{self.rule} → {self.pin}"


class OfferCursor(models.Model):
    """How far the proactive-services scan has read a stream of events (the registry's life
    events, the e-ID's level raises) and which day it last looked at ages. Events up to
    `position` are settled; those up to `seen` were read once and are read again by the next
    scan (offers are unique per rule, person and trigger), so an event committed late, with a
    smaller id than one already read, is not skipped."""

    name = models.CharField(max_length=40, unique=True)
    position = models.BigIntegerField(default=0)
    seen = models.BigIntegerField(default=0)
    scanned_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("vị trí quét dịch vụ chủ động")
        verbose_name_plural = pgettext_lazy("plural", "vị trí quét dịch vụ chủ động")

    def __str__(self) -> str:
        return f"{self.name}@{self.position}"
