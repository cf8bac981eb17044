"""The catalog: agencies and their officials, procedures (TTHC) with their papers, forms, fees,
deadlines and workflows. Procedures are edited as data; each edit publishes a new immutable
version, and a dossier keeps the version it was submitted under."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models

AGENCY_CODE = RegexValidator(
    r"\A[A-Z0-9][A-Z0-9.]{1,30}[A-Z0-9]\Z",
    "Mã định danh cơ quan: chữ in hoa, số và dấu chấm / agency code: A-Z, 0-9 and dots",
)


class AgencyKind(models.TextChoices):
    COMMUNE = "commune", "UBND cấp xã / commune People's Committee"
    COMMUNE_POLICE = "commune_police", "Công an cấp xã / commune police"
    PROVINCE_POLICE = "province_police", "Công an tỉnh / provincial police"
    JUSTICE_DEPARTMENT = "justice_department", "Sở Tư pháp / Department of Justice"
    SOCIAL_INSURANCE = "social_insurance", "Bảo hiểm xã hội / social insurance"
    PROVINCE_COMMITTEE = "province_committee", "UBND tỉnh / provincial People's Committee"


class Agency(models.Model):
    code = models.CharField(
        "mã định danh điện tử / electronic code",
        max_length=32,
        unique=True,
        validators=[AGENCY_CODE],
    )
    name = models.CharField("tên / name", max_length=200)
    kind = models.CharField("loại / kind", max_length=24, choices=AgencyKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # The administrative unit the agency serves (a ward or a province), by geo code.
    unit_code = models.CharField("đơn vị hành chính / unit", max_length=16, db_index=True)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "cơ quan / agency"
        verbose_name_plural = "cơ quan / agencies"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Role(models.TextChoices):
    RECEIVER = "receiver", "Cán bộ tiếp nhận / receiving officer"
    PROCESSOR = "processor", "Cán bộ xử lý / processing officer"
    APPROVER = "approver", "Lãnh đạo phê duyệt / approver"
    CLERK = "clerk", "Cán bộ trả kết quả / result clerk"


class Official(models.Model):
    """One role of one staff user in one agency; an official acts only for their own agency."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="officials")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = "cán bộ / official"
        verbose_name_plural = "cán bộ / officials"
        constraints = [
            models.UniqueConstraint(fields=["user", "agency", "role"], name="official_role_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.agency.code}"


class Status(models.TextChoices):
    """The states a dossier passes through. `NATIONAL_CODES` maps them onto the status codes of
    the national portal (DOMAIN.md §6)."""

    SUBMITTED = "submitted", "Mới đăng ký / newly registered"
    RECEIVED = "received", "Đã tiếp nhận / received"
    NOT_RECEIVED = "not_received", "Từ chối tiếp nhận / not received"
    ASSIGNED = "assigned", "Đã phân công / assigned"
    PROCESSING = "processing", "Đang xử lý / processing"
    SUPPLEMENT_REQUESTED = "supplement_requested", "Yêu cầu bổ sung / supplement requested"
    APPROVED = "approved", "Đã phê duyệt / approved"
    REJECTED = "rejected", "Từ chối giải quyết / rejected"
    RESULT_ISSUED = "result_issued", "Đã có kết quả / result issued"
    RETURNED = "returned", "Đã trả kết quả / result returned"
    WITHDRAWN = "withdrawn", "Công dân rút hồ sơ / withdrawn"


NATIONAL_CODES: dict[str, int] = {
    Status.SUBMITTED: 1,
    Status.RECEIVED: 2,
    Status.NOT_RECEIVED: 3,
    Status.ASSIGNED: 4,
    Status.PROCESSING: 4,
    Status.SUPPLEMENT_REQUESTED: 5,
    Status.APPROVED: 4,
    Status.REJECTED: 8,
    Status.RESULT_ISSUED: 9,
    Status.RETURNED: 10,
    Status.WITHDRAWN: 7,
}
CITIZEN = "citizen"  # the applicant, as a role in a transition


class Workflow(models.Model):
    code = models.SlugField(unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        verbose_name = "quy trình / workflow"
        verbose_name_plural = "quy trình / workflows"

    def __str__(self) -> str:
        return self.name


class Transition(models.Model):
    """An allowed step: `action` moves a dossier from one of `sources` to `target`, taken by one
    of `roles` ("citizen" for the applicant)."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="transitions")
    action = models.SlugField(max_length=32)
    name = models.CharField(max_length=120)
    sources = ArrayField(models.CharField(max_length=24))
    target = models.CharField(max_length=24)
    roles = ArrayField(models.CharField(max_length=16))
    note_required = models.BooleanField(default=False)

    class Meta:
        verbose_name = "bước chuyển / transition"
        verbose_name_plural = "bước chuyển / transitions"
        constraints = [
            models.UniqueConstraint(fields=["workflow", "action"], name="transition_action_once")
        ]

    def __str__(self) -> str:
        return f"{self.workflow.code}: {self.action}"


class ServiceLevel(models.IntegerChoices):
    NOT_ONLINE = 2, "Chưa trực tuyến / not online"
    PARTLY = 3, "Trực tuyến một phần / partly online"
    FULLY = 4, "Trực tuyến toàn trình / fully online"


class EidLevel(models.IntegerChoices):
    """The e-ID level (Decree 69/2024) a citizen's sign-in must have to submit a procedure."""

    LEVEL_1 = 1, "Mức 1 / level 1"
    LEVEL_2 = 2, "Mức 2 / level 2"


class Procedure(models.Model):
    code = models.CharField("mã TTHC / code", max_length=20, unique=True)
    name = models.CharField("tên / name", max_length=300)
    name_en = models.CharField("tên tiếng Anh / English name", max_length=300, blank=True)
    field = models.CharField("lĩnh vực / field", max_length=100)
    agency_kind = models.CharField(
        "cơ quan thực hiện / competent agency", max_length=24, choices=AgencyKind.choices
    )
    legal_basis = models.TextField("căn cứ pháp lý / legal basis")
    days = models.PositiveSmallIntegerField("thời hạn (ngày làm việc) / working days")
    civil_status = models.BooleanField(
        "hộ tịch (sau 15:00 tính ngày hôm sau) / civil status (15:00 cut-off)", default=False
    )
    fee = models.PositiveIntegerField("lệ phí (đồng) / fee (VND)", default=0)
    fee_exemptions = models.JSONField("miễn giảm / exemptions", default=list, blank=True)
    service_level = models.PositiveSmallIntegerField(
        "mức độ / service level", choices=ServiceLevel.choices
    )
    essential_no = models.PositiveSmallIntegerField(
        "DVC thiết yếu số / essential service no.", null=True, blank=True
    )
    min_eid_level = models.PositiveSmallIntegerField(
        "mức định danh điện tử tối thiểu / minimum e-ID level",
        choices=EidLevel.choices,
        default=EidLevel.LEVEL_2,
        help_text="Mức 1 chỉ cho tra cứu, thông báo đơn giản / level 1 only for simple lookups "
        "and notices",
    )
    form_schema = models.JSONField("tờ khai (JSON Schema) / declaration form")
    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT)
    active = models.BooleanField(default=True)
    # Accent-free lower-case name and code, for search without diacritics.
    search_key = models.TextField(editable=False, default="")
    current_version = models.PositiveIntegerField(editable=False, default=0)

    class Meta:
        verbose_name = "thủ tục hành chính / procedure"
        verbose_name_plural = "thủ tục hành chính / procedures"
        ordering = ["field", "name"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Source(models.TextChoices):
    FORM = "form", "Tờ khai trực tuyến / online declaration"
    UPLOAD = "upload", "Công dân nộp / uploaded by the citizen"
    REGISTRY_IDENTITY = "registry_identity", "CSDL dân cư: nhân thân / registry: identity"
    REGISTRY_RESIDENCE = "registry_residence", "CSDL dân cư: cư trú / registry: residence"
    REGISTRY_HOUSEHOLD = "registry_household", "CSDL dân cư: hộ gia đình / registry: household"
    REGISTRY_CIVIL_STATUS = (
        "registry_civil_status",
        "CSDL dân cư: hộ tịch / registry: civil status",
    )
    RESULT = "result", "Kết quả đã cấp / an earlier result"
    WALLET = "wallet", "Kho dữ liệu công dân / citizen's wallet"


class Component(models.Model):
    """A paper of the dossier, and who already holds it."""

    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="components")
    code = models.SlugField(max_length=60)
    name = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300, blank=True)
    required = models.BooleanField(default=True)
    source = models.CharField(max_length=24, choices=Source.choices, default=Source.UPLOAD)
    # For `result`: the code of the procedure whose result stands in; for `wallet`: the kind.
    source_ref = models.CharField(max_length=40, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "thành phần hồ sơ / component"
        verbose_name_plural = "thành phần hồ sơ / components"
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "code"], name="component_code_once")
        ]

    def __str__(self) -> str:
        return self.name


class ProcedureVersion(models.Model):
    """An immutable snapshot of a procedure, its components and its workflow's transitions."""

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = "phiên bản thủ tục / procedure version"
        verbose_name_plural = "phiên bản thủ tục / procedure versions"
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="procedure_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.procedure.code} v{self.number}"
